package intake

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"html"
	"io"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/authres"
)

// ErrMalformed is returned (wrapped) by Parse when the input is not a mail message at all.
// The caller records such a message as "malformed" and keeps its raw copy.
var ErrMalformed = errors.New("malformed message")

// ParseOptions bounds what Parse does with one message. Zero values mean the defaults.
type ParseOptions struct {
	// MaxAttachment is the largest attachment, in decoded bytes, that is kept. Larger parts are
	// recorded with TooLarge (their size and SHA-256 still computed) and not spooled. 0 means no limit.
	MaxAttachment int64
	// MaxParts is the most MIME parts looked at; the rest of the message is ignored with a problem
	// noted. Default 1000.
	MaxParts int
	// MaxDepth is the deepest nesting of multiparts and forwarded messages that is entered.
	// Default 20.
	MaxDepth int
	// AuthServIDs are the authserv-ids of the receiving provider (163.com, qq.com): only an
	// Authentication-Results field written by one of them, or by a host under one (mx.163.com), is
	// believed. Anyone can write the field; without this, the sender could. None: Auth is "none".
	AuthServIDs []string
}

const (
	defaultMaxParts = 1000
	defaultMaxDepth = 20

	maxFieldBytes    = 64 << 10 // one header field, as kept
	maxHeaderBytes   = 1 << 20  // one header block, as kept
	maxHeaderFields  = 2000     // one header block
	maxProblems      = 50
	maxIDs           = 100 // msg-ids kept from References
	maxLinks         = 100
	maxLinkLen       = 4096
	readerBufferSize = 32 << 10
)

// Message is what Parse found in one mail.
type Message struct {
	// From is the first sender address, lowercased ("" when missing or "<>").
	From string `json:"from"`
	// FromName is the sender's display name, decoded to UTF-8 (GBK, GB18030, Big5, ... and raw 8-bit).
	FromName string `json:"from_name"`
	// Subject is the decoded subject.
	Subject string `json:"subject"`
	// Date is the Date header; zero when missing or unreadable.
	Date time.Time `json:"date"`
	// MessageID is the Message-ID with its angle brackets, "" when missing or malformed.
	// A bare "id@host" without brackets is accepted and given brackets.
	MessageID string `json:"message_id"`
	// InReplyTo is the first msg-id of In-Reply-To, with brackets.
	InReplyTo string `json:"in_reply_to"`
	// References are the msg-ids of References, with brackets (at most 100).
	References []string `json:"references"`
	// ContentType is the top-level media type, lowercased ("multipart/mixed").
	ContentType string `json:"content_type"`
	// Report is true when the message is a delivery or disposition report: multipart/report at the
	// top, or a message/delivery-status or message/disposition-notification part outside forwards.
	Report bool `json:"report"`
	// Header is the top-level header as read (values raw, not decoded; field order kept).
	Header gomail.Header `json:"-"`
	// Attachments are the files found, in message order, including those in forwarded messages.
	Attachments []Attachment `json:"attachments"`
	// Links are cloud-attachment download links (QQ/163 超大附件, Baidu pan, ...) found in text and HTML
	// bodies, deduplicated, in order of appearance.
	Links []string `json:"links"`
	// Auth is "pass", "fail" or "none", from the topmost Authentication-Results field written by the
	// receiving provider (ParseOptions.AuthServIDs): dmarc decides when present, else any dkim/spf
	// pass, else any fail. "none" when no field of the provider is there.
	Auth string `json:"auth"`
	// Text is the start of what the sender wrote (the first text/plain part, else the first HTML part
	// as text), decoded to UTF-8, at most maxText bytes: what a person reads of a question.
	Text string `json:"text"`
	// Problems are English notes on what was wrong with the message and how it was handled.
	Problems []string `json:"problems"`
}

// Attachment is one file found in a message.
type Attachment struct {
	// Filename is the decoded name, valid UTF-8, NUL and control characters removed. It may contain
	// path elements ("../../x.pdf"): the caller sanitises it before using it on disk. "" when the part
	// had no name.
	Filename string `json:"filename"`
	// ContentType is the declared media type, lowercased. Do not trust it; sniff the file.
	ContentType string `json:"content_type"`
	// Size is the decoded size in bytes (counted in full even when TooLarge).
	Size int64 `json:"size"`
	// SHA256 is the hex SHA-256 of the decoded bytes (of all of them, even when TooLarge).
	SHA256 string `json:"sha256"`
	// Path is the spooled file; "" when TooLarge.
	Path string `json:"path,omitempty"`
	// TooLarge is true when the part exceeded ParseOptions.MaxAttachment and was not kept.
	TooLarge bool `json:"too_large"`
	// Inline is true when the part was marked Content-Disposition: inline (Apple Mail's inline PDFs).
	Inline bool `json:"inline"`
	// Reason, when set, is the verdict already decided (a file in a zip that cannot be used, a zip
	// refused as a whole): a pdfcheck reason code; the file is not checked.
	Reason string `json:"reason,omitempty"`
}

// Cleanup removes the spooled attachment files. It is safe to call more than once.
func (m *Message) Cleanup() {
	if m == nil {
		return
	}
	for i := range m.Attachments {
		if m.Attachments[i].Path != "" {
			os.Remove(m.Attachments[i].Path)
			m.Attachments[i].Path = ""
		}
	}
}

// Parse reads one raw RFC 5322 message from r, spools every attachment to its own file under spoolDir
// (computing size and SHA-256 while streaming; never holding a whole attachment in memory), and returns
// what it found.
//
// It returns an error only when the message cannot be parsed at all (an error wrapping ErrMalformed:
// the caller records it "malformed"), or when reading r or writing to spoolDir fails (any other error;
// nothing is left spooled then). Anything partly broken still yields a Message with Problems listed.
func Parse(r io.Reader, spoolDir string, opts ParseOptions) (*Message, error) {
	if opts.MaxParts <= 0 {
		opts.MaxParts = defaultMaxParts
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = defaultMaxDepth
	}
	src := &errReader{r: r}
	p := &parser{opts: opts, spoolDir: spoolDir, msg: &Message{Auth: "none"}, links: map[string]bool{}}
	br := bufio.NewReaderSize(src, readerBufferSize)
	h, n := p.readHeader(br, false, "message header")
	if src.err != nil {
		return nil, fmt.Errorf("intake: reading message: %w", src.err)
	}
	if n == 0 {
		return nil, fmt.Errorf("intake: %w: no header fields", ErrMalformed)
	}
	m := p.msg
	m.Header = gomail.Header{}
	m.Header.Header.Header = h
	p.envelope(h)
	if err := p.entity(h, br, entityContext{top: true}); err != nil {
		m.Cleanup()
		return nil, err
	}
	if src.err != nil {
		m.Cleanup()
		return nil, fmt.Errorf("intake: reading message: %w", src.err)
	}
	switch {
	case p.plain != nil && strings.TrimSpace(string(p.plain.buf)) != "":
		m.Text = plainText(decodeCharset(p.plain.charset, p.plain.buf))
	case p.html != nil:
		m.Text = plainText(htmlText(decodeCharset(p.html.charset, p.html.buf)))
	}
	return m, nil
}

var (
	htmlDropRe  = regexp.MustCompile(`(?is)<(script|style|head|title)\b.*?</(script|style|head|title)\s*>|<!--.*?-->`)
	htmlBreakRe = regexp.MustCompile(`(?i)<(br|/p|/div|/li|/tr|/h[1-6])\b[^>]*>`)
	htmlTagRe   = regexp.MustCompile(`<[A-Za-z/!][^>]*>`)
	blankRunRe  = regexp.MustCompile(`\n[ \t\x{3000}\x{a0}]*(\n[ \t\x{3000}\x{a0}]*)+`)
)

// htmlText is the text a person reads of an HTML body: no scripts, styles or tags, entities decoded,
// a line break for each break, paragraph or cell.
func htmlText(s string) string {
	s = htmlDropRe.ReplaceAllString(s, "")
	s = htmlBreakRe.ReplaceAllString(s, "\n")
	s = htmlTagRe.ReplaceAllString(s, "")
	return html.UnescapeString(s)
}

// plainText tidies a body for display: line ends as LF, no control characters, runs of blank lines as
// one, trimmed, at most maxText bytes cut at a rune.
func plainText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	s = blankRunRe.ReplaceAllString(s, "\n\n")
	s = strings.TrimSpace(s)
	if len(s) > maxText {
		cut := maxText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// errReader remembers the first error other than io.EOF from the underlying reader, so that I/O
// failures are told apart from broken MIME.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, &sourceError{e.err}
	}
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
		return n, &sourceError{err}
	}
	return n, err
}

type parser struct {
	opts     ParseOptions
	spoolDir string
	msg      *Message
	parts    int
	stopped  bool // MaxParts reached: everything after is ignored
	links    map[string]bool
	scanBuf  []byte
	copyBuf  []byte
	plain    *textCapture // the first text/plain body, as it comes (charset not yet applied)
	html     *textCapture // the first text/html body
}

// maxText bounds the text kept of a message (Message.Text), in raw bytes read and in UTF-8 kept.
const maxText = 8 << 10

// textCapture keeps the first maxText bytes written to it.
type textCapture struct {
	charset string
	buf     []byte
}

func (c *textCapture) Write(b []byte) (int, error) {
	if room := maxText - len(c.buf); room > 0 {
		c.buf = append(c.buf, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

type entityContext struct {
	depth     int
	top       bool // the message itself, not a part
	forwarded bool // inside a message/rfc822 part
}

// problem records a note, up to maxProblems.
func (p *parser) problem(format string, args ...any) {
	m := p.msg
	switch {
	case len(m.Problems) < maxProblems:
		m.Problems = append(m.Problems, fmt.Sprintf(format, args...))
	case len(m.Problems) == maxProblems:
		m.Problems = append(m.Problems, "more problems not listed")
	}
}

// headerField is one field as read, before it goes into a textproto.Header.
type headerField struct{ key, value string }

// readHeader reads a header block from br, tolerating what real mail gets wrong: lines without a
// colon are skipped (an mbox "From " line silently), over-long fields are truncated, and in a part a
// line starting with "--" ends the header (a boundary follows a part that forgot its blank line).
// It returns the header and the number of fields kept.
func (p *parser) readHeader(br *bufio.Reader, inPart bool, where string) (textproto.Header, int) {
	var fields []headerField
	var cur []byte
	total := 0
	dropped, noColon, truncated := 0, 0, false
	flush := func() {
		if cur == nil {
			return
		}
		line := cur
		cur = nil
		if len(fields) == 0 && noColon == 0 && bytes.HasPrefix(line, []byte("From ")) {
			return // an mbox separator line
		}
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			noColon++
			return
		}
		key := string(bytes.TrimRight(line[:i], " \t"))
		if key == "" || !validKey(key) {
			noColon++
			return
		}
		if total+len(line) > maxHeaderBytes || len(fields) >= maxHeaderFields {
			dropped++
			return
		}
		total += len(line)
		fields = append(fields, headerField{key: key, value: string(bytes.TrimSpace(line[i+1:]))})
	}
	var buf []byte
	for {
		if inPart {
			if b, err := br.Peek(2); err == nil && b[0] == '-' && b[1] == '-' {
				if len(fields) > 0 || cur != nil {
					p.problem("%s: not ended by a blank line", where)
				}
				break
			}
		}
		line, trunc, err := readLine(br, buf[:0], maxFieldBytes)
		buf = line
		if trunc {
			truncated = true
		}
		if len(line) == 0 && err == nil { // the blank line ending the header
			break
		}
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if cur != nil && len(cur) < maxFieldBytes {
				cur = append(cur, ' ')
				cur = append(cur, bytes.TrimSpace(line)...)
				if len(cur) > maxFieldBytes {
					cur = cur[:maxFieldBytes]
					truncated = true
				}
			}
		} else if len(line) > 0 {
			flush()
			cur = append([]byte(nil), line...)
		}
		if err != nil {
			break
		}
	}
	flush()
	if noColon > 0 {
		p.problem("%s: %d line(s) without a colon ignored", where, noColon)
	}
	if truncated {
		p.problem("%s: field longer than %d KiB truncated", where, maxFieldBytes>>10)
	}
	if dropped > 0 {
		p.problem("%s: %d field(s) beyond %d KiB / %d fields ignored", where, dropped, maxHeaderBytes>>10, maxHeaderFields)
	}
	var h textproto.Header
	// textproto.Header.Add prepends; add in reverse so that Get returns the topmost field.
	for i := len(fields) - 1; i >= 0; i-- {
		h.Add(fields[i].key, fields[i].value)
	}
	return h, len(fields)
}

func validKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// readLine reads one line without its line ending, keeping at most max bytes of it (the rest is read
// and dropped, trunc reports it). err is nil, io.EOF, or a read error.
func readLine(br *bufio.Reader, buf []byte, max int) (line []byte, trunc bool, err error) {
	line = buf
	for {
		chunk, e := br.ReadSlice('\n')
		if room := max - len(line); room > 0 {
			if len(chunk) > room {
				line = append(line, chunk[:room]...)
				trunc = true
			} else {
				line = append(line, chunk...)
			}
		} else if len(chunk) > 0 {
			trunc = true
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimRight(line, "\r\n"), trunc, e
	}
}

// envelope fills the Message's From, Subject, Date, ids and Auth from the top-level header.
func (p *parser) envelope(h textproto.Header) {
	m := p.msg
	m.From, m.FromName = parseFrom(h.Get("From"))
	m.Subject = decodeHeaderText(h.Get("Subject"))
	m.Date = parseDate(h.Get("Date"))
	if raw := h.Get("Message-Id"); raw != "" {
		m.MessageID = parseMessageID(raw)
		if m.MessageID == "" {
			p.problem("malformed Message-ID %q ignored", truncate(raw, 100))
		}
	}
	if ids := msgIDs(h.Get("In-Reply-To"), 1); len(ids) > 0 {
		m.InReplyTo = ids[0]
	}
	m.References = msgIDs(h.Get("References"), maxIDs)
	m.Auth = "none"
	// The receiving provider adds its field at the top; fields below it came with the mail.
	for _, v := range h.Values("Authentication-Results") {
		id, results, _ := authres.Parse(v) // a piece it cannot read leaves the others
		if trustedAuthServ(id, p.opts.AuthServIDs) {
			m.Auth = authVerdict(results)
			break
		}
	}
}

// trustedAuthServ reports whether id is one of ids or a host under one.
func trustedAuthServ(id string, ids []string) bool {
	id = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(id), "."))
	if id == "" {
		return false
	}
	for _, t := range ids {
		t = strings.ToLower(strings.Trim(strings.TrimSpace(t), "."))
		if t != "" && (id == t || strings.HasSuffix(id, "."+t)) {
			return true
		}
	}
	return false
}

// parseFrom returns the first address (lowercased) and decoded display name of a From value.
func parseFrom(raw string) (addr, name string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", ""
	}
	inQuote, esc, depth := false, false, 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && inQuote:
			esc = true
		case c == '"' && depth == 0:
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '<':
			end := strings.IndexByte(raw[i:], '>')
			a := raw[i+1:]
			if end >= 0 {
				a = raw[i+1 : i+end]
			}
			return normAddr(a), displayName(raw[:i])
		case c == ',':
			raw = raw[:i]
		}
	}
	// No angle brackets: "user@host (Name)" or a bare address.
	name = ""
	if o := strings.IndexByte(raw, '('); o >= 0 {
		if c := strings.LastIndexByte(raw, ')'); c > o {
			name = displayName(raw[o+1 : c])
		}
		raw = raw[:o]
	}
	for _, f := range strings.Fields(raw) {
		if strings.Contains(f, "@") {
			return normAddr(f), name
		}
	}
	return normAddr(raw), name
}

func normAddr(a string) string {
	a = strings.TrimSpace(a)
	a = strings.TrimPrefix(strings.TrimPrefix(a, "mailto:"), "MAILTO:")
	a = strings.Trim(a, "<>\"' ")
	return strings.ToLower(fixText(a))
}

func displayName(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
		}
		s = b.String()
	}
	return strings.TrimSpace(decodeHeaderText(s))
}

var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05",
	time.RFC3339,
}

// parseDate reads a Date header leniently; zero when it cannot.
func parseDate(raw string) time.Time {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return time.Time{}
	}
	if t, err := mail.ParseDate(raw); err == nil {
		return t
	}
	s := raw
	if i := strings.IndexByte(s, '('); i > 0 {
		s = strings.TrimSpace(s[:i])
	}
	s = strings.Join(strings.Fields(s), " ")
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// messageID returns the msg-id in raw with its brackets, or "" when there is none that looks right.
func parseMessageID(raw string) string {
	if ids := msgIDs(raw, 1); len(ids) > 0 {
		return ids[0]
	}
	s := strings.TrimSpace(raw)
	if s != "" && !strings.ContainsAny(s, " \t<>\"") && strings.Contains(s, "@") && len(s) <= 998 {
		return "<" + s + ">"
	}
	return ""
}

// msgIDs returns up to max "<...>" tokens from raw.
func msgIDs(raw string, max int) []string {
	var ids []string
	for len(ids) < max {
		i := strings.IndexByte(raw, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(raw[i:], '>')
		if j < 0 {
			break
		}
		id := raw[i+1 : i+j]
		raw = raw[i+j+1:]
		if id == "" || strings.ContainsAny(id, " \t<\r\n") || len(id) > 998 {
			continue
		}
		ids = append(ids, "<"+id+">")
	}
	return ids
}

// authVerdict condenses the results of one Authentication-Results field to "pass", "fail" or "none":
// DMARC decides when present; else any DKIM or SPF pass is a pass, and a hard SPF fail is a fail. A
// DKIM failure alone (a gateway that adds a footer breaks the signature) or an SPF softfail (~all) is
// weak evidence: "none". A "fail" means the sender is taken for forged and gets no reply.
func authVerdict(results []authres.Result) string {
	res := map[string][]authres.ResultValue{}
	for _, r := range results {
		switch r := r.(type) {
		case *authres.DMARCResult:
			res["dmarc"] = append(res["dmarc"], r.Value)
		case *authres.DKIMResult:
			res["dkim"] = append(res["dkim"], r.Value)
		case *authres.SPFResult:
			res["spf"] = append(res["spf"], r.Value)
		}
	}
	has := func(k string, vals ...authres.ResultValue) bool {
		for _, r := range res[k] {
			if slices.Contains(vals, r) {
				return true
			}
		}
		return false
	}
	switch {
	case has("dmarc", authres.ResultPass):
		return "pass"
	case has("dmarc", authres.ResultFail):
		return "fail"
	case has("dkim", authres.ResultPass) || has("spf", authres.ResultPass):
		return "pass"
	case has("spf", authres.ResultFail):
		return "fail"
	}
	return "none"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// entity handles one entity (the message, a part, or a forwarded message) whose header h has been
// read and whose raw body (still transfer-encoded) is body. It returns an error only for failures
// that must abort the parse (spool I/O).
func (p *parser) entity(h textproto.Header, body io.Reader, ec entityContext) error {
	if p.stopped {
		return nil
	}
	where := "message body"
	if !ec.top {
		p.parts++
		if p.parts > p.opts.MaxParts {
			p.problem("more than %d parts: the rest of the message is ignored", p.opts.MaxParts)
			p.stopped = true
			return nil
		}
		where = fmt.Sprintf("part %d", p.parts)
	}
	ctRaw := h.Get("Content-Type")
	mt, ctParams := parseHeaderParams(ctRaw)
	if mt == "" || !strings.Contains(mt, "/") {
		if strings.TrimSpace(ctRaw) != "" {
			p.problem("%s: unreadable Content-Type %q, read as text/plain", where, truncate(ctRaw, 80))
		}
		mt = "text/plain"
	}
	if ec.top {
		p.msg.ContentType = mt
		if mt == "multipart/report" {
			p.msg.Report = true
		}
	}
	disp, dParams := parseHeaderParams(h.Get("Content-Disposition"))
	for _, d := range append(ctParams.dups, dParams.dups...) {
		if d == "filename" || d == "name" {
			p.problem("%s: parameter %q given more than once; the first is used", where, d)
		}
	}

	switch {
	case strings.HasPrefix(mt, "multipart/"):
		if ec.depth >= p.opts.MaxDepth {
			p.problem("%s: nested deeper than %d levels; its content is ignored", where, p.opts.MaxDepth)
			return nil
		}
		boundary := ctParams.get("boundary")
		if boundary == "" {
			p.problem("%s: %s without a boundary, read as text", where, mt)
			return p.leaf(h, body, "text/plain", ctParams, "", params{}, where, ec)
		}
		return p.multipart(mt, boundary, body, where, ec)
	case mt == "message/rfc822" || mt == "message/global":
		if ec.depth >= p.opts.MaxDepth {
			p.problem("%s: nested deeper than %d levels; its content is ignored", where, p.opts.MaxDepth)
			return nil
		}
		dec := p.transferDecoder(h, body, where)
		br := bufio.NewReaderSize(dec, 8<<10)
		fh, n := p.readHeader(br, false, where+" (forwarded message header)")
		if n == 0 {
			p.problem("%s: forwarded message without header", where)
		}
		return p.entity(fh, br, entityContext{depth: ec.depth + 1, forwarded: true})
	case mt == "message/delivery-status" || mt == "message/global-delivery-status" ||
		mt == "message/disposition-notification" || mt == "message/global-disposition-notification":
		if !ec.forwarded {
			p.msg.Report = true
		}
		return nil
	}
	return p.leaf(h, body, mt, ctParams, disp, dParams, where, ec)
}

// multipart walks the parts of a multipart body.
func (p *parser) multipart(mt, boundary string, body io.Reader, where string, ec entityContext) error {
	mr := newMultipartReader(body, boundary)
	sub := entityContext{depth: ec.depth + 1, forwarded: ec.forwarded}
	n := 0
	for mr.next() {
		n++
		ph, _ := p.readHeader(mr.br, true, fmt.Sprintf("part %d header", p.parts+1))
		if err := p.entity(ph, mr, sub); err != nil {
			return err
		}
		if p.stopped {
			return nil
		}
	}
	switch {
	case mr.err != nil:
		// A read error of the source: Parse reports it.
	case n == 0:
		p.problem("%s: %s with no parts (boundary %q never found)", where, mt, truncate(boundary, 70))
	case !mr.final:
		p.problem("%s: %s ends without its closing boundary; the parts read are kept", where, mt)
	}
	return nil
}

// leaf handles a non-multipart entity: an attachment to spool, a text body to scan for links,
// or something to skip (a signature image, an S/MIME signature).
func (p *parser) leaf(h textproto.Header, body io.Reader, mt string, ctParams params, disp string, dParams params, where string, ec entityContext) error {
	name := filenameOf(dParams, ctParams)
	hasCID := strings.TrimSpace(h.Get("Content-Id")) != ""
	attach := false
	switch {
	case mt == "application/pgp-signature" || mt == "application/pkcs7-signature" ||
		mt == "application/x-pkcs7-signature" || mt == "application/pgp-keys":
		attach = false
	case disp == "attachment":
		attach = true
	case strings.HasPrefix(mt, "text/"):
		attach = name != ""
	case strings.HasPrefix(mt, "image/"):
		// A signature logo or pasted picture is referenced by Content-ID from the HTML; a named image
		// that is not so referenced is a file the sender meant to send.
		attach = name != "" && !hasCID
	default:
		attach = true
	}
	dec := p.transferDecoder(h, body, where)
	if !attach {
		if strings.HasPrefix(mt, "text/") {
			if !ec.forwarded && (mt == "text/plain" && p.plain == nil || mt == "text/html" && p.html == nil) {
				c := &textCapture{charset: ctParams.get("charset")}
				if mt == "text/plain" {
					p.plain = c
				} else {
					p.html = c
				}
				dec = io.TeeReader(dec, c)
			}
			p.scanLinks(dec, mt == "text/html", where)
		}
		return nil
	}
	return p.spool(dec, Attachment{Filename: name, ContentType: mt, Inline: disp == "inline"}, where)
}

// transferDecoder returns a reader decoding the Content-Transfer-Encoding of body. An unknown encoding
// is noted and the body passed through undecoded (uuencode is decoded).
func (p *parser) transferDecoder(h textproto.Header, body io.Reader, where string) io.Reader {
	enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	if i := strings.IndexAny(enc, " \t;("); i >= 0 {
		enc = enc[:i]
	}
	enc = strings.Trim(enc, `"'`)
	switch enc {
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit":
		return body
	case "base64", "base-64":
		return &problemReader{r: newBase64Reader(body), p: p, what: where + ": base64"}
	case "quoted-printable", "quotedprintable", "qp":
		return &problemReader{r: newQPReader(body), p: p, what: where + ": quoted-printable"}
	case "x-uuencode", "uuencode", "x-uue", "uue":
		p.problem("%s: transfer encoding %q decoded as uuencode", where, enc)
		return &problemReader{r: newUUReader(body), p: p, what: where + ": uuencode"}
	}
	p.problem("%s: unknown transfer encoding %q; kept undecoded", where, truncate(enc, 40))
	return body
}

// problemReader turns a decoding error into a noted problem and an early EOF, so that one broken part
// does not stop the others. Errors of the source itself are passed on unchanged.
type problemReader struct {
	r    io.Reader
	p    *parser
	what string
	done bool
}

func (r *problemReader) Read(b []byte) (int, error) {
	if r.done {
		return 0, io.EOF
	}
	n, err := r.r.Read(b)
	if err != nil && err != io.EOF {
		var se *sourceError
		if errors.As(err, &se) {
			return n, err
		}
		r.p.problem("%s decoding stopped: %v", r.what, err)
		r.done = true
		return n, io.EOF
	}
	return n, err
}

// sourceError marks an I/O error of the message source as it travels through decoders.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// spool copies a decoded attachment to a new file under spoolDir, hashing and counting as it goes.
func (p *parser) spool(r io.Reader, a Attachment, where string) error {
	f, err := os.CreateTemp(p.spoolDir, "att-*")
	if err != nil {
		return fmt.Errorf("intake: spooling %s: %w", where, err)
	}
	a.Path = f.Name()
	w := &spoolWriter{f: f, h: sha256.New(), max: p.opts.MaxAttachment}
	if p.copyBuf == nil {
		p.copyBuf = make([]byte, 64<<10)
	}
	_, cerr := io.CopyBuffer(w, r, p.copyBuf)
	ferr := w.close()
	var se *sourceError
	if cerr != nil && !errors.As(cerr, &se) && w.err == nil {
		p.problem("%s: reading attachment: %v", where, cerr)
		cerr = nil
	}
	if cerr == nil {
		cerr = w.err
	}
	if cerr == nil {
		cerr = ferr
	}
	if cerr != nil {
		os.Remove(a.Path)
		if errors.As(cerr, &se) {
			return fmt.Errorf("intake: reading message: %w", se.err)
		}
		return fmt.Errorf("intake: spooling %s: %w", where, cerr)
	}
	a.Size = w.n
	a.SHA256 = hex.EncodeToString(w.h.Sum(nil))
	if w.tooLarge {
		a.TooLarge = true
		a.Path = ""
	}
	p.msg.Attachments = append(p.msg.Attachments, a)
	return nil
}

// spoolWriter writes to the spool file until max is exceeded, then drops the file but keeps counting
// and hashing.
type spoolWriter struct {
	f        *os.File
	h        hash.Hash
	n        int64
	max      int64
	tooLarge bool
	err      error
}

func (w *spoolWriter) Write(b []byte) (int, error) {
	w.h.Write(b)
	w.n += int64(len(b))
	if w.tooLarge {
		return len(b), nil
	}
	if w.max > 0 && w.n > w.max {
		w.tooLarge = true
		name := w.f.Name()
		w.f.Close()
		w.f = nil
		os.Remove(name)
		return len(b), nil
	}
	if _, err := w.f.Write(b); err != nil {
		w.err = err
		return 0, err
	}
	return len(b), nil
}

func (w *spoolWriter) close() error {
	if w.f == nil {
		return nil
	}
	if err := w.f.Close(); err != nil {
		return err
	}
	return nil
}

// linkRe finds URLs in text; cloud links are then picked by host and path.
var linkRe = regexp.MustCompile(`(?i)https?://[a-z0-9\-._~:/?#\[\]@!$&*+,;=%]+`)

// scanLinks reads a text body to its end, collecting cloud-attachment links. Memory stays bounded:
// the text is scanned in chunks, carrying an unfinished URL over to the next chunk.
func (p *parser) scanLinks(r io.Reader, isHTML bool, where string) {
	const chunk = 64 << 10
	if p.scanBuf == nil {
		p.scanBuf = make([]byte, 0, chunk+maxLinkLen)
	}
	buf := p.scanBuf[:0]
	for {
		n, err := io.ReadFull(r, buf[len(buf):len(buf)+min(chunk, cap(buf)-len(buf))])
		buf = buf[:len(buf)+n]
		eof := err != nil
		keep := len(buf)
		locs := linkRe.FindAllIndex(buf, -1)
		carried := false
		for _, loc := range locs {
			if loc[1] == len(buf) && !eof {
				keep = loc[0]
				carried = true
				break
			}
			p.addLink(string(buf[loc[0]:loc[1]]), isHTML)
		}
		if !carried {
			keep = max(0, len(buf)-8) // "https://" split across chunks
		}
		if len(buf)-keep > maxLinkLen {
			keep = len(buf)
		}
		if eof {
			if err != io.EOF && err != io.ErrUnexpectedEOF {
				var se *sourceError
				if !errors.As(err, &se) {
					p.problem("%s: reading text: %v", where, err)
				}
			}
			return
		}
		buf = buf[:copy(buf, buf[keep:])]
	}
}

// addLink keeps u when it points at a cloud attachment.
func (p *parser) addLink(u string, isHTML bool) {
	if isHTML {
		u = html.UnescapeString(u)
	}
	u = strings.TrimRight(u, ".,;:!?*&")
	if !isCloudLink(u) || p.links[u] || len(p.msg.Links) >= maxLinks {
		return
	}
	p.links[u] = true
	p.msg.Links = append(p.msg.Links, u)
}

// isCloudLink tells QQ/163 超大附件 and cloud-drive share links from other links.
func isCloudLink(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	path := strings.ToLower(u.Path)
	full := strings.ToLower(u.Path + "?" + u.RawQuery + "#" + u.Fragment)
	under := func(domain string) bool { return host == domain || strings.HasSuffix(host, "."+domain) }
	switch {
	case under("qq.com"):
		// wx.mail.qq.com/ftn/download, mail.qq.com/cgi-bin/ftnExs_download, exmail.qq.com/cgi-bin/ftnExs_download
		return under("mail.qq.com") && strings.Contains(path, "ftn") || under("ftn.qq.com") ||
			host == "share.weiyun.com"
	case under("163.com") || under("126.com") || under("yeah.net") || under("188.com"):
		return strings.Contains(full, "large-attachment") || strings.Contains(full, "cloud-attachment") ||
			strings.HasPrefix(host, "dashi.") || strings.HasPrefix(host, "fs.mail.")
	case under("pan.baidu.com") || under("yun.baidu.com"):
		return path != "" && path != "/"
	case under("aliyundrive.com") || under("alipan.com") || under("pan.quark.cn"):
		return strings.HasPrefix(path, "/s/")
	}
	return false
}

// multipartReader reads the parts of one multipart body. It is an io.Reader over the current part's
// raw body. It holds one bufio buffer, and tolerates LF line endings, a missing closing boundary and
// trailing space after boundaries.
type multipartReader struct {
	br        *bufio.Reader
	dash      []byte // "--" + boundary
	nl        []byte // line ending held back: it belongs to a boundary if one follows
	pend      []byte // line ending to emit before out
	out       []byte // data to return, a slice of br's buffer
	lineStart bool
	stop      bool // the current part (or the preamble) has ended
	final     bool // the closing boundary was seen
	eof       bool // the input ended
	err       error
}

var (
	crlf = []byte("\r\n")
	lf   = []byte("\n")
)

func newMultipartReader(r io.Reader, boundary string) *multipartReader {
	return &multipartReader{
		br:        bufio.NewReaderSize(r, 16<<10),
		dash:      []byte("--" + boundary),
		lineStart: true,
	}
}

// next discards the rest of the current part (or the preamble) and reports whether another part
// follows. The part's header is then read from m.br.
func (m *multipartReader) next() bool {
	if _, err := io.Copy(io.Discard, m); err != nil && m.err == nil {
		m.err = err
	}
	if m.final || m.eof || m.err != nil {
		return false
	}
	m.stop = false
	m.lineStart = true
	m.nl = nil
	return true
}

// Read returns the current part's raw body; io.EOF at the next boundary or the end of input.
func (m *multipartReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(m.pend) > 0 {
			c := copy(p[n:], m.pend)
			m.pend = m.pend[c:]
			n += c
			continue
		}
		if len(m.out) > 0 {
			c := copy(p[n:], m.out)
			m.out = m.out[c:]
			n += c
			continue
		}
		if m.stop {
			break
		}
		if n > 0 && m.br.Buffered() == 0 {
			break // do not block for more while we have something to return
		}
		m.fill()
	}
	if n == 0 && m.stop {
		if m.err != nil {
			return 0, m.err
		}
		return 0, io.EOF
	}
	return n, nil
}

// fill reads one line (or a buffer's worth of a long line) and decides whether it is a boundary.
func (m *multipartReader) fill() {
	line, err := m.br.ReadSlice('\n')
	if m.lineStart && bytes.HasPrefix(line, m.dash) && err != bufio.ErrBufferFull {
		rest := line[len(m.dash):]
		final := false
		if bytes.HasPrefix(rest, []byte("--")) {
			final = true
			rest = rest[2:]
		}
		if len(bytes.Trim(rest, " \t\r\n")) == 0 {
			m.stop = true
			m.final = final
			m.nl = nil
			if err != nil && err != io.EOF {
				m.err = &sourceError{err}
			} else if err == io.EOF && !final {
				m.eof = true
			}
			return
		}
	}
	body := line
	var nl []byte
	switch {
	case err == nil && len(body) >= 2 && body[len(body)-2] == '\r':
		nl, body = crlf, body[:len(body)-2]
	case err == nil:
		nl, body = lf, body[:len(body)-1]
	}
	m.lineStart = err == nil
	m.pend, m.out, m.nl = m.nl, body, nl
	if err != nil && err != bufio.ErrBufferFull {
		m.stop = true
		if err == io.EOF {
			m.eof = true
		} else {
			m.err = &sourceError{err}
		}
	}
}

// base64Reader decodes base64 leniently: whitespace and stray characters (including '=' padding in
// the middle of concatenated chunks) are skipped.
type base64Reader struct {
	r     io.Reader
	in    []byte
	quad  [4]byte
	nq    int
	out   []byte
	obuf  []byte
	err   error
	trail bool

	slowOnly bool // tests: decode byte by byte only
}

func newBase64Reader(r io.Reader) *base64Reader {
	return &base64Reader{r: r, in: make([]byte, 32<<10), obuf: make([]byte, 0, 24<<10+3)}
}

var b64val = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(a); i++ {
		t[a[i]] = byte(i)
	}
	t['-'] = 62 // base64url, seen from broken webmail
	t['_'] = 63
	return t
}()

func (b *base64Reader) Read(p []byte) (int, error) {
	for len(b.out) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		n, err := b.r.Read(b.in)
		var o []byte
		if b.slowOnly {
			o = b.slow(b.obuf[:0], b.in[:n])
		} else {
			o = b.fast(b.obuf[:0], b.in[:n])
		}
		if err != nil {
			switch b.nq {
			case 2:
				o = append(o, b.quad[0]<<2|b.quad[1]>>4)
			case 3:
				o = append(o, b.quad[0]<<2|b.quad[1]>>4, b.quad[1]<<4|b.quad[2]>>2)
			}
			b.nq = 0
			b.err = err
		}
		b.out = o
	}
	n := copy(p, b.out)
	b.out = b.out[n:]
	return n, nil
}

// fast appends the decoding of data to o. It drops line breaks (in place), then decodes runs of whole
// 4-character blocks with encoding/base64 and the rest (a pending partial block, '=' padding, the tail
// of the chunk) byte by byte; on any byte outside the standard alphabet it decodes the rest of the
// chunk byte by byte, so the result is exactly that of slow.
func (b *base64Reader) fast(o, data []byte) []byte {
	data = dropLineBreaks(data)
	for len(data) > 0 {
		for b.nq != 0 && len(data) > 0 {
			o = b.slow(o, data[:1])
			data = data[1:]
		}
		if len(data) == 0 {
			break
		}
		end := bytes.IndexByte(data, '=')
		tail := end + 1
		if end < 0 {
			end, tail = len(data), len(data)
		}
		if blk := end &^ 3; blk > 0 {
			m := blk / 4 * 3
			o = slices.Grow(o, m)
			k, err := base64.StdEncoding.Decode(o[len(o):len(o)+m], data[:blk])
			if err != nil || k != m {
				return b.slow(o, data)
			}
			o = o[:len(o)+m]
			data, tail = data[blk:], tail-blk
		}
		o = b.slow(o, data[:tail])
		data = data[tail:]
	}
	return o
}

// dropLineBreaks removes every '\n' and the '\r' before it from d, in place.
func dropLineBreaks(d []byte) []byte {
	i := bytes.IndexByte(d, '\n')
	if i < 0 {
		return d
	}
	w, r := 0, 0
	for r < len(d) {
		j := i
		if j < 0 {
			j = len(d) - r
		}
		seg := d[r : r+j]
		if len(seg) > 0 && seg[len(seg)-1] == '\r' {
			seg = seg[:len(seg)-1]
		}
		w += copy(d[w:], seg)
		r += j + 1
		if r < len(d) {
			i = bytes.IndexByte(d[r:], '\n')
		}
	}
	return d[:w]
}

// slow appends the lenient byte-at-a-time decoding of data to o, carrying a partial block in b.quad.
// Bytes outside the alphabet are skipped. A '=' ends the quantum it pads and decoding starts afresh
// after it, as `base64 -d -i` does: encoders that pad every chunk write "QQ==QQ==" for "AA". A '='
// that pads nothing (after 0 or 1 character of a quantum) is skipped like any other junk.
func (b *base64Reader) slow(o, data []byte) []byte {
	for _, c := range data {
		v := b64val[c]
		if v == 0xff {
			if c == '=' && b.nq >= 2 {
				o = append(o, b.quad[0]<<2|b.quad[1]>>4)
				if b.nq == 3 {
					o = append(o, b.quad[1]<<4|b.quad[2]>>2)
				}
				b.nq = 0
			}
			continue
		}
		b.quad[b.nq] = v
		b.nq++
		if b.nq == 4 {
			o = append(o, b.quad[0]<<2|b.quad[1]>>4, b.quad[1]<<4|b.quad[2]>>2, b.quad[2]<<6|b.quad[3])
			b.nq = 0
		}
	}
	return o
}

// qpReader decodes quoted-printable leniently and with no limit on line length (Go's
// mime/quotedprintable stops at lines over 4 KiB, which broken HTML mail has): hex digits in either
// case, a "=" not followed by two hex digits or a line break is kept as is (Outlook writes a bare "="
// in URLs), blanks after a soft line break's "=" are transport padding.
type qpReader struct {
	r     io.Reader
	in    []byte
	npend int // undecoded bytes carried at the start of in
	out   []byte
	obuf  []byte
	err   error
}

// qpMaxPad is the most blanks between a "=" and the line's end that still make a soft line break:
// more are not transport padding, and the carry-over between reads stays small.
const qpMaxPad = 64

func newQPReader(r io.Reader) *qpReader {
	return &qpReader{r: r, in: make([]byte, 32<<10), obuf: make([]byte, 0, 32<<10)}
}

func (q *qpReader) Read(p []byte) (int, error) {
	for len(q.out) == 0 {
		if q.err != nil {
			return 0, q.err
		}
		n, err := q.r.Read(q.in[q.npend:])
		data := q.in[:q.npend+n]
		eof := err != nil
		o := q.obuf[:0]
		i := 0
	loop:
		for i < len(data) {
			c := data[i]
			if c != '=' {
				o = append(o, c)
				i++
				continue
			}
			// A soft line break is "=" and the line's end; blanks between them were added in transport
			// (RFC 2045 6.7 (3)) and a "=" that ends the body breaks nothing.
			j := i + 1
			for j < len(data) && j-i <= qpMaxPad && (data[j] == ' ' || data[j] == '\t') {
				j++
			}
			switch {
			case j < len(data) && data[j] == '\n':
				i = j + 1
			case j+1 < len(data) && data[j] == '\r' && data[j+1] == '\n':
				i = j + 2
			case i+2 < len(data) && isHex(data[i+1]) && isHex(data[i+2]):
				o = append(o, unhex(data[i+1])<<4|unhex(data[i+2]))
				i += 3
			case j+1 >= len(data) && j-i <= qpMaxPad && !eof:
				break loop // need more input to decide
			case j >= len(data) && eof:
				i = j
			default:
				o = append(o, '=')
				i++
			}
		}
		q.npend = copy(q.in, data[i:])
		q.out = o
		if err != nil {
			q.err = err
		}
	}
	n := copy(p, q.out)
	q.out = q.out[n:]
	return n, nil
}

// uuReader decodes a uuencoded body ("begin 644 name" ... "end").
type uuReader struct {
	br    *bufio.Reader
	begun bool
	done  bool
	out   []byte
	buf   []byte
}

func newUUReader(r io.Reader) *uuReader {
	return &uuReader{br: bufio.NewReaderSize(r, 4<<10)}
}

func (u *uuReader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.done {
			return 0, io.EOF
		}
		line, _, err := readLine(u.br, u.buf[:0], 1024)
		u.buf = line
		if err != nil && err != io.EOF {
			return 0, err
		}
		if err == io.EOF {
			u.done = true
		}
		switch {
		case !u.begun:
			u.begun = bytes.HasPrefix(line, []byte("begin "))
		case bytes.Equal(bytes.TrimSpace(line), []byte("end")):
			u.done = true
		case len(line) > 0:
			n := int((line[0] - ' ') & 0x3f)
			if n == 0 {
				continue
			}
			var dec []byte
			for i := 1; i < len(line) && len(dec) < n; i += 4 {
				var q [4]byte
				for k := 0; k < 4; k++ {
					if i+k < len(line) {
						q[k] = (line[i+k] - ' ') & 0x3f
					}
				}
				dec = append(dec, q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2, q[2]<<6|q[3])
			}
			if len(dec) > n {
				dec = dec[:n]
			}
			u.out = dec
		}
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}
