package mailmsg

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
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

// MaxProblems is the most notes listed in Message.Problems; one more says that more were not listed.
const MaxProblems = 50

const (
	defaultMaxParts = 1000
	defaultMaxDepth = 20

	maxFieldBytes    = 64 << 10 // one header field, as kept
	maxHeaderBytes   = 1 << 20  // one header block, as kept
	maxHeaderFields  = 2000     // one header block
	maxIDs           = 100      // msg-ids kept from References
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
	p, src, br := newParser(r, spoolDir, opts)
	h, err := p.topHeader(src, br)
	if err != nil {
		return nil, err
	}
	m := p.msg
	if err := p.entity(h, br, entityContext{top: true}); err != nil {
		m.Cleanup()
		return nil, err
	}
	if src.err != nil {
		m.Cleanup()
		return nil, fmt.Errorf("mailmsg: reading message: %w", src.err)
	}
	switch {
	case p.plain != nil && strings.TrimSpace(string(p.plain.buf)) != "":
		m.Text = plainText(decodeCharset(p.plain.charset, p.plain.buf))
	case p.html != nil:
		m.Text = plainText(htmlText(decodeCharset(p.html.charset, p.html.buf)))
	}
	return m, nil
}

// ParseHeader reads only the header of one raw message from r, as Parse reads it: the Message has the
// fields of the header (From, FromName, Subject, Date, the ids, Auth, Header) and nothing of the body.
// It is for mail that is not read whole: a message over the size limit, or one whose handling failed.
// Its errors are those of Parse.
func ParseHeader(r io.Reader, opts ParseOptions) (*Message, error) {
	p, src, br := newParser(r, "", opts)
	if _, err := p.topHeader(src, br); err != nil {
		return nil, err
	}
	return p.msg, nil
}

// newParser returns a parser with opts' defaults filled in, reading from r through src and br.
func newParser(r io.Reader, spoolDir string, opts ParseOptions) (*parser, *errReader, *bufio.Reader) {
	if opts.MaxParts <= 0 {
		opts.MaxParts = defaultMaxParts
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = defaultMaxDepth
	}
	src := &errReader{r: r}
	p := &parser{opts: opts, spoolDir: spoolDir, msg: &Message{Auth: "none"}, links: map[string]bool{}}
	return p, src, bufio.NewReaderSize(src, readerBufferSize)
}

// topHeader reads the message's header and fills the Message's header fields from it.
func (p *parser) topHeader(src *errReader, br *bufio.Reader) (textproto.Header, error) {
	h, n := p.readHeader(br, false, "message header")
	if src.err != nil {
		return h, fmt.Errorf("mailmsg: reading message: %w", src.err)
	}
	if n == 0 {
		return h, fmt.Errorf("mailmsg: %w: no header fields", ErrMalformed)
	}
	p.msg.Header = gomail.Header{}
	p.msg.Header.Header.Header = h
	p.envelope(h)
	return h, nil
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
	spoolBuf *bufio.Writer // in front of the attachment's spool file
	plain    *textCapture  // the first text/plain body, as it comes (charset not yet applied)
	html     *textCapture  // the first text/html body
}

type entityContext struct {
	depth     int
	top       bool // the message itself, not a part
	forwarded bool // inside a message/rfc822 part
}

// problem records a note, up to MaxProblems.
func (p *parser) problem(format string, args ...any) {
	m := p.msg
	switch {
	case len(m.Problems) < MaxProblems:
		m.Problems = append(m.Problems, fmt.Sprintf(format, args...))
	case len(m.Problems) == MaxProblems:
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

// sourceError marks an I/O error of the message source as it travels through decoders.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }
