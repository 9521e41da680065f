package notify

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"briefd/roster"
	"briefd/store"
)

// generatedMail is a mail briefd writes on its own: a weekly summary, a reminder or a health alert.
// It is composed when queued and sent as it is.
type generatedMail struct {
	To       string
	ToName   string
	Subject  string
	Text     []byte
	HTML     []byte // optional alternative
	Attach   []mailAttachment
	ID       string // Message-ID
	Date     time.Time
	Priority bool // X-Priority 1 for alerts
}

type mailAttachment struct {
	Name string // ASCII file name
	Type string
	Data []byte
}

// generatedID is our Message-ID for a generated mail: kind and key say what it is, the hash makes it
// unique; OwnMessageID recognises it.
func (n *Notifier) generatedID(kind, key, to string) string {
	sum := sha256.Sum256([]byte(n.o.Marker + "\x00" + kind + "\x00" + key + "\x00" + strings.ToLower(to)))
	k := idPart(strings.ReplaceAll(key, ":", "-"))
	if len(k) > 60 {
		k = k[:60]
	}
	return "<" + kind + "." + k + "." + hex.EncodeToString(sum[:6]) + "@" + n.o.Marker + "." + n.domain + ">"
}

// composeGenerated writes the message: text (and HTML as its alternative), then attachments, with
// Auto-Submitted: auto-generated and X-Auto-Response-Suppress: All.
func (n *Notifier) composeGenerated(g *generatedMail) ([]byte, error) {
	to, err := formatAddress(g.ToName, g.To)
	if err != nil {
		return nil, err
	}
	from, err := formatAddress(n.o.Office.Name, n.o.Office.Address)
	if err != nil {
		return nil, fmt.Errorf("notify: office address: %w", err)
	}
	sum := sha256.Sum256([]byte(g.ID))
	boundary := "=_briefd_" + hex.EncodeToString(sum[:12])

	var b bytes.Buffer
	header(&b, "From", from)
	header(&b, "To", to)
	header(&b, "Subject", encodeWords(Clean(g.Subject, 200)))
	header(&b, "Date", g.Date.In(n.o.Office.Location).Format(time.RFC1123Z))
	header(&b, "Message-ID", g.ID)
	header(&b, "Auto-Submitted", "auto-generated")
	header(&b, "X-Auto-Response-Suppress", "All")
	if g.Priority {
		header(&b, "X-Priority", "1")
	}
	header(&b, "MIME-Version", "1.0")

	alt := func(b *bytes.Buffer, boundary string) {
		part(b, boundary, "text/plain; charset=UTF-8", g.Text)
		part(b, boundary, "text/html; charset=UTF-8", g.HTML)
		b.WriteString("--" + boundary + "--\r\n")
	}
	switch {
	case len(g.Attach) > 0:
		header(&b, "Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
		b.WriteString("\r\nThis is a message in MIME format.\r\n")
		b.WriteString("--" + boundary + "\r\n")
		if len(g.HTML) > 0 {
			inner := boundary + "_alt"
			header(&b, "Content-Type", `multipart/alternative; boundary="`+inner+`"`)
			b.WriteString("\r\n")
			alt(&b, inner)
		} else {
			writeBody(&b, "text/plain; charset=UTF-8", "", g.Text)
		}
		for _, a := range g.Attach {
			b.WriteString("--" + boundary + "\r\n")
			writeBody(&b, a.Type+`; name="`+a.Name+`"`, `attachment; filename="`+a.Name+`"`, a.Data)
		}
		b.WriteString("--" + boundary + "--\r\n")
	case len(g.HTML) > 0:
		header(&b, "Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
		b.WriteString("\r\nThis is a message in MIME format.\r\n")
		alt(&b, boundary)
	default:
		writeBody(&b, "text/plain; charset=UTF-8", "", g.Text)
	}
	return b.Bytes(), nil
}

// writeBody writes the headers and the base64 body of a single part (or of the whole message), with
// CRLF line ends in text content.
func writeBody(b *bytes.Buffer, ctype, disposition string, body []byte) {
	header(b, "Content-Type", ctype)
	if disposition != "" {
		header(b, "Content-Disposition", disposition)
	}
	header(b, "Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	if strings.HasPrefix(ctype, "text/") {
		body = bytes.ReplaceAll(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	}
	enc := base64.StdEncoding.EncodeToString(body)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	if enc != "" {
		b.WriteString(enc + "\r\n")
	}
}

// loadText and loadHTML load the templates of a generated mail like the reply templates: a file in
// Options.TemplateDir wins over the embedded one.
func (n *Notifier) loadText(name string) (*texttemplate.Template, error) {
	s, err := n.readTemplate(name)
	if err != nil {
		return nil, err
	}
	t, err := texttemplate.New(name).Option("missingkey=error").Parse(s)
	if err != nil {
		return nil, fmt.Errorf("notify: template %s: %w", name, err)
	}
	return t, nil
}

func (n *Notifier) loadHTML(name string) (*htmltemplate.Template, error) {
	s, err := n.readTemplate(name)
	if err != nil {
		return nil, err
	}
	t, err := htmltemplate.New(name).Option("missingkey=error").Parse(s)
	if err != nil {
		return nil, fmt.Errorf("notify: template %s: %w", name, err)
	}
	return t, nil
}

// FailureData is what templates/failure.txt.tmpl sees: a mail that could not be handled.
type FailureData struct {
	Number, From, Subject, Received, Zone, Note string
	Office                                      Office
}

// FailureNotice writes the notice to the office address to about r, a receipt with verdict failed, sent
// as outbox item item (its Message-ID stays the same across attempts).
func (n *Notifier) FailureNotice(r *store.Receipt, to string, item uint64) ([]byte, error) {
	tmpl, err := n.loadText("failure.txt.tmpl")
	if err != nil {
		return nil, err
	}
	at := r.Received.In(n.o.Office.Location)
	d := &FailureData{Number: r.Number, From: Clean(r.From, 200), Subject: Clean(r.Subject, 200), Received: cnDateTime(at),
		Zone: zoneName(at), Note: Clean(r.Note, 1000), Office: n.o.Office}
	if d.From == "" {
		d.From = "（不详）"
	}
	var text bytes.Buffer
	if err := tmpl.Execute(&text, d); err != nil {
		return nil, fmt.Errorf("notify: failure notice for %s: %w", r.Number, err)
	}
	return n.composeGenerated(&generatedMail{To: to, Subject: "briefd：一封来信无法处理（回执 " + r.Number + "）", Text: text.Bytes(),
		ID: n.generatedID("failure", r.Number+"-"+strconv.FormatUint(item, 10), to), Date: n.now(), Priority: true})
}

// idPart keeps of s what may stand between the dots of a Message-ID's left part: the atext of RFC 5322
// but the dot.
func idPart(s string) string {
	return strings.Map(func(c rune) rune {
		if c < 0x80 && c != '.' && roster.IsAtext(byte(c)) {
			return c
		}
		return -1
	}, s)
}
