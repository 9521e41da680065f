package notify

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"briefd/mailmsg"
	"briefd/roster"
	"briefd/store"
)

// ReplyData is what the reply templates see. Every string in it is cleaned of control characters; the
// HTML template escapes them as well.
type ReplyData struct {
	Number   string // receipt number, e.g. JB2026-0012
	Greeting string // the unit's name; for an unregistered sender their display name or address
	Address  string // the sender's address
	Subject  string // the original subject, shortened to SubjectRunes
	Received string // when the office's server received the mail, e.g. 2026年3月5日 14:32
	Zone     string // "北京时间" when the office is on UTC+8, else the zone's name

	Verdict      string // the receipt's verdict (store.Verdict*)
	Accepted     bool   // every attachment is a usable PDF
	Partial      bool   // some are, some are not
	Rejected     bool   // attachments, none usable
	NoAttachment bool   // no attachment at all
	CloudLink    bool   // no attachment, but a cloud-attachment download link in the body
	TooLarge     bool   // the mail was over the size limit and was not downloaded
	Malformed    bool   // the mail could not be read
	SizeMB       string // the mail's size in MB when TooLarge, e.g. "72.4"
	LimitMB      string // the size limit in MB when known

	Duplicate   bool   // the same mail or files were received before
	DuplicateOf string // the earlier receipt, when the whole mail is a duplicate

	Attachments []AttachmentLine
	OKCount     int // usable PDFs
	BadCount    int // attachments that are not

	Unregistered bool   // the address is not registered to a unit (match none)
	Tentative    bool   // the unit was guessed from the name in the mail (match name)
	UnitName     string // the unit's name when known

	AuthFailed bool // the receiving server could not verify the sender (SPF/DKIM/DMARC fail)

	Campaign *CampaignLine // nil when the mail was not placed in a campaign

	Correction bool // this reply corrects an earlier one (the mail was checked again): 更正回执

	Office Office
}

// AttachmentLine is one attachment in a reply.
type AttachmentLine struct {
	N           int // 1, 2, …
	Filename    string
	OK          bool
	Pages       int
	Size        string // e.g. "1.2 MB"
	Reason      string // what is wrong and what to do, in Chinese; "" when OK
	DuplicateOf string // the earlier receipt with the same file
}

// CampaignLine is the campaign a mail was counted for.
type CampaignLine struct {
	Title   string
	Period  string // e.g. 2022年1月 for a monthly campaign; "" for a once campaign
	Due     string // e.g. 2022年1月31日
	Late    bool   // received after the due date
	Counted bool   // the mail counts as the unit's submission (it has a usable PDF)
	Open    bool   // the due date has not passed yet (at composition time)
}

// SubjectRunes is how much of the original subject a reply repeats.
const SubjectRunes = 40

// replyData builds the template data of a receipt.
func (n *Notifier) replyData(r *store.Receipt) *ReplyData {
	loc := n.o.Office.Location
	d := &ReplyData{
		Number:   Clean(r.Number, 40),
		Address:  Clean(r.From, 254),
		Subject:  Clean(r.Subject, SubjectRunes),
		Received: cnDateTime(r.Received.In(loc)),
		Zone:     zoneName(r.Received.In(loc)),
		Verdict:  r.Verdict,
		Office:   n.o.Office,
	}
	switch r.Verdict {
	case store.VerdictAccepted:
		d.Accepted = true
	case store.VerdictPartial:
		d.Partial = true
	case store.VerdictRejected:
		d.Rejected = true
	case store.VerdictNoAttachment:
		d.NoAttachment = true
		d.CloudLink = len(r.Links) > 0
	case store.VerdictTooLarge:
		d.TooLarge = true
		if r.Size > 0 {
			d.SizeMB = strconv.FormatFloat(float64(r.Size)/(1<<20), 'f', 1, 64)
		}
		if n.o.MaxMessage > 0 {
			d.LimitMB = strconv.FormatInt(n.o.MaxMessage>>20, 10)
		}
	case store.VerdictMalformed:
		d.Malformed = true
	}
	if r.Received.IsZero() {
		d.Received, d.Zone = "（时间不详）", "—"
	}
	if r.DuplicateOf != "" {
		d.Duplicate, d.DuplicateOf = true, Clean(r.DuplicateOf, 40)
	}
	for i, a := range r.Attachments {
		l := AttachmentLine{
			N: i + 1, Filename: Clean(a.Filename, 80), OK: a.OK(), Pages: a.Pages,
			Size: humanSize(a.Size), DuplicateOf: Clean(a.DuplicateOf, 40),
		}
		if l.Filename == "" {
			l.Filename = "（无文件名）"
		}
		if !l.OK {
			zh, _ := n.reasonText(a.Reason)
			if zh == "" {
				zh, _ = fallbackReasonText(a.Reason)
			}
			l.Reason = Clean(zh, 300)
			d.BadCount++
		} else {
			d.OKCount++
		}
		if l.DuplicateOf != "" {
			d.Duplicate = true
		}
		d.Attachments = append(d.Attachments, l)
	}
	switch r.Match {
	case "none", "":
		d.Unregistered = true
	case "name":
		d.Tentative = true
	}
	ros := n.o.Roster()
	if u, ok := ros.Unit(r.Unit); ok && r.Unit != "" {
		d.UnitName = Clean(u.Name, 80)
	}
	switch {
	case d.UnitName != "" && !d.Unregistered:
		d.Greeting = d.UnitName
	case displayName(r.FromName) != "":
		d.Greeting = displayName(r.FromName)
	default:
		d.Greeting = d.Address
	}
	d.AuthFailed = r.Auth == "fail"
	if c, ok := ros.Campaign(r.Campaign); ok && r.Campaign != "" {
		cl := &CampaignLine{Title: Clean(c.Title, 120), Late: r.Late, Counted: r.Counts()}
		if p, ok := c.Period(r.Period); ok {
			cl.Due = cnDate(p.Due)
			cl.Period = c.PeriodName(p.Key)
			cl.Open = n.now().Before(p.Due.End(loc))
		}
		d.Campaign = cl
	}
	return d
}

func (n *Notifier) reasonText(code string) (zh, en string) {
	if code == "" {
		return "", ""
	}
	if n.o.ReasonText != nil {
		return n.o.ReasonText(code)
	}
	return fallbackReasonText(code)
}

// fallbackReasonText is used when Options.ReasonText is nil or gives nothing for a code.
func fallbackReasonText(code string) (zh, en string) {
	if code == "" {
		return "附件无法作为PDF打开。请把简报另存为PDF后重新发送。", "rejected"
	}
	return "附件无法作为PDF打开（原因：" + code + "）。请把简报另存为PDF后重新发送。", "rejected: " + code
}

// subject is the reply's subject, before encoding.
func replySubject(d *ReplyData) string {
	prefix := "回执："
	if d.Correction {
		prefix = "更正回执："
	}
	if d.Subject == "" {
		return prefix + "已收到您的邮件（编号 " + d.Number + "）"
	}
	return prefix + "已收到《" + d.Subject + "》（编号 " + d.Number + "）"
}

// compose builds the whole reply for a receipt; id is our Message-ID for it. correction: it corrects
// the reply sent before.
func (n *Notifier) compose(r *store.Receipt, id string, correction bool) ([]byte, error) {
	d := n.replyData(r)
	d.Correction = correction
	var text, html bytes.Buffer
	if err := n.textTmpl.Execute(&text, d); err != nil {
		return nil, fmt.Errorf("notify: reply text for %s: %w", r.Number, err)
	}
	if err := n.htmlTmpl.Execute(&html, d); err != nil {
		return nil, fmt.Errorf("notify: reply html for %s: %w", r.Number, err)
	}
	to, err := formatAddress(displayName(r.FromName), r.From)
	if err != nil {
		return nil, err
	}
	from, err := formatAddress(n.o.Office.Name, n.o.Office.Address)
	if err != nil {
		return nil, fmt.Errorf("notify: office address: %w", err)
	}
	sum := sha256.Sum256([]byte(id))
	boundary := "=_briefd_" + hex.EncodeToString(sum[:12])

	var b bytes.Buffer
	header(&b, "From", from)
	header(&b, "To", to)
	header(&b, "Subject", encodeWords(replySubject(d)))
	header(&b, "Date", n.now().In(n.o.Office.Location).Format(time.RFC1123Z))
	header(&b, "Message-ID", id)
	if orig, ok := normalizeMsgID(r.MessageID); ok {
		header(&b, "In-Reply-To", orig)
		header(&b, "References", orig)
	}
	header(&b, "Auto-Submitted", "auto-replied")
	header(&b, "X-Auto-Response-Suppress", "All")
	header(&b, "MIME-Version", "1.0")
	header(&b, "Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	b.WriteString("This is a message in MIME format.\r\n")
	part(&b, boundary, "text/plain; charset=UTF-8", text.Bytes())
	part(&b, boundary, "text/html; charset=UTF-8", html.Bytes())
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes(), nil
}

// part writes one MIME part, base64 encoded, with CRLF line ends in the content.
func part(b *bytes.Buffer, boundary, ctype string, body []byte) {
	b.WriteString("--" + boundary + "\r\n")
	header(b, "Content-Type", ctype)
	header(b, "Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	body = bytes.ReplaceAll(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	enc := base64.StdEncoding.EncodeToString(body)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	if enc != "" {
		b.WriteString(enc + "\r\n")
	}
}

// header writes one header field, folded at spaces so that lines stay under 78 characters where
// possible. value must be ASCII without CR or LF (encode it first).
func header(b *bytes.Buffer, name, value string) {
	line := name + ":"
	width := len(line)
	for i, w := range strings.Split(value, " ") {
		if i > 0 && width+1+len(w) > 76 && width > len(name)+1 {
			b.WriteString(line + "\r\n")
			line, width = "", 0
		}
		line += " " + w
		width += 1 + len(w)
	}
	b.WriteString(line + "\r\n")
}

// encodeWords encodes s as RFC 2047 encoded words when it is not plain printable ASCII.
func encodeWords(s string) string {
	if isPrintableASCII(s) {
		return s
	}
	return mime.BEncoding.Encode("UTF-8", s)
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// formatAddress formats "name <addr>" safely: addr must be a plain address (see roster.AddressProblem); the
// name is cleaned and encoded, or quoted when it is ASCII.
func formatAddress(name, addr string) (string, error) {
	if why := roster.AddressProblem(addr); why != "" {
		return "", fmt.Errorf("notify: address %q: %s", addr, why)
	}
	name = Clean(name, 60)
	if name == "" || strings.EqualFold(name, addr) {
		return "<" + addr + ">", nil
	}
	if isPrintableASCII(name) {
		q := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name)
		return `"` + q + `" <` + addr + ">", nil
	}
	return mime.BEncoding.Encode("UTF-8", name) + " <" + addr + ">", nil
}

// normalizeMsgID returns the Message-ID as <left@right> when it is well-formed: printable ASCII, no
// spaces or angle brackets inside, one @, at most 250 characters. Brackets are added when missing.
func normalizeMsgID(id string) (string, bool) {
	id = strings.TrimSpace(id)
	id = strings.TrimPrefix(id, "<")
	id = strings.TrimSuffix(id, ">")
	if id == "" || len(id) > 250 || strings.Count(id, "@") != 1 {
		return "", false
	}
	left, right, _ := strings.Cut(id, "@")
	if left == "" || right == "" {
		return "", false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= 0x20 || c >= 0x7f || strings.IndexByte(`<>()\,;:"`, c) >= 0 {
			return "", false
		}
	}
	return "<" + id + ">", true
}

// displayName cleans a sender's display name, decoding RFC 2047 words that were left encoded (as intake
// decodes them: in any charset, GBK included).
func displayName(s string) string {
	if strings.Contains(s, "=?") {
		s = mailmsg.DecodeHeader(s)
	}
	return Clean(s, 60)
}

// Clean makes a mail-derived string safe for a header or a line of text: invalid UTF-8 is replaced,
// control and format characters (CR, LF, TAB, bidi overrides, …) become spaces, runs of spaces collapse,
// and the result is cut to max runes with an ellipsis.
func Clean(s string, max int) string {
	s = strings.ToValidUTF8(fixGBK(s), "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	out := b.String()
	if max > 0 && utf8.RuneCountInString(out) > max {
		rs := []rune(out)
		out = strings.TrimSpace(string(rs[:max-1])) + "…"
	}
	return out
}

// fixGBK decodes the runs of bytes in s that are not UTF-8 as GB18030: raw 8-bit GBK is what Chinese
// mail programs send when they send raw bytes at all. Valid UTF-8 around them is kept.
func fixGBK(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || size > 1 {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		j := i
		for j < len(s) && s[j] >= 0x80 {
			if r, size := utf8.DecodeRuneInString(s[j:]); r != utf8.RuneError && size > 1 {
				break
			}
			j = min(j+2, len(s)) // a GBK pair; its second byte may be ASCII
		}
		d, err := simplifiedchinese.GB18030.NewDecoder().String(s[i:j])
		if err != nil {
			d = strings.Repeat("\uFFFD", j-i)
		}
		b.WriteString(d)
		i = j
	}
	return b.String()
}

func humanSize(n int64) string {
	switch {
	case n <= 0:
		return ""
	case n < 1<<10:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1<<20:
		return strconv.FormatInt((n+1<<9)>>10, 10) + " KB"
	default:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	}
}

func cnDateTime(t time.Time) string {
	return fmt.Sprintf("%d年%d月%d日 %02d:%02d", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute())
}

func cnDate(d roster.Date) string { return fmt.Sprintf("%d年%d月%d日", d.Year, d.Month, d.Day) }

func zoneName(t time.Time) string {
	if _, off := t.Zone(); off == 8*3600 {
		return "北京时间"
	}
	name, _ := t.Zone()
	return name
}
