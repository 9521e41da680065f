// Package notify writes briefd's outgoing mail, in Chinese from templates: the receipt reply (回执) for
// each receipt, the failure notice to the office, the weekly summary, reminders (催报) and the health
// alerts. Its Scheduler queues what is due when in the store's outbox; package outbox delivers the
// outbox.
//
// Replies and failure notices are composed when they are sent (Notifier.Reply, Notifier.FailureNotice),
// from the receipt as it is then (so `briefd resend` reflects an assignment made in between); summaries,
// reminders and alerts are composed when they are queued and sent as they are.
//
// Templates: templates/reply.txt.tmpl (text/template) and templates/reply.html.tmpl (html/template) are
// embedded; a file of the same name in Options.TemplateDir replaces one. They are executed with a
// *ReplyData.
package notify

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"briefd/roster"
	"briefd/store"
)

//go:embed templates/*.tmpl
var embedded embed.FS

// Office is who replies.
type Office struct {
	Name     string         // e.g. 忻州市教育局职业教育科; the From name and the signature
	Address  string         // the office mailbox: From, envelope sender, and the domain of our Message-IDs
	Contact  string         // the contact line of replies, e.g. 联系人：王老师，电话 0350-1234567
	Location *time.Location // office time zone; default Asia/Shanghai (UTC+8 when tzdata is missing)
}

// Options configure a Notifier.
type Options struct {
	Office Office
	// TemplateDir, when set, holds templates that replace the embedded ones of the same name.
	TemplateDir string
	// ReasonText gives the Chinese sentence (what is wrong, what to do) and the English one for an
	// attachment's reason code: pdfcheck.ReasonText. nil uses a generic sentence.
	ReasonText func(code string) (zh, en string)
	// Marker is in the host part of our Message-IDs (<…@marker.officedomain>) so that intake can
	// recognise our own mail coming back. Default "briefd".
	Marker string
	// MaxMessage is the size limit of incoming mail, quoted in too-large replies; 0 leaves it out.
	MaxMessage int64
	// Robots are the group robots (config robots:) and what each posts; the summary, reminders, alerts
	// and problem receipts are queued for them too (robots.go).
	Robots []Robot
	// DashboardURL is the dashboard's address as the office opens it (web.public_url), for links in
	// robot posts; "" leaves links out.
	DashboardURL string
	// Roster, when set, returns the current roster (units and campaigns change while the daemon runs);
	// replies then name the unit and campaign as they are when the reply is composed. Default: the
	// roster given to New.
	Roster func() *roster.Roster
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Notifier composes briefd's mail for one office.
type Notifier struct {
	o        Options
	domain   string // of the office address
	textTmpl *texttemplate.Template
	htmlTmpl *htmltemplate.Template
}

// New checks the options, loads the templates (trying each on a sample receipt, so a broken override
// fails here and not at the first reply) and returns a Notifier. With a nil roster, replies name no unit
// or campaign.
func New(o Options, ros *roster.Roster) (*Notifier, error) {
	if o.Office.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		o.Office.Location = loc
	}
	if o.Marker == "" {
		o.Marker = "briefd"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if why := roster.AddressProblem(o.Office.Address); why != "" {
		return nil, fmt.Errorf("notify: office address %q: %s", o.Office.Address, why)
	}
	for _, c := range o.Marker {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return nil, fmt.Errorf("notify: marker %q: use lower-case letters, digits and hyphens", o.Marker)
		}
	}
	if ros == nil {
		var err error
		if ros, err = roster.New(nil, nil, o.Office.Location); err != nil {
			return nil, err
		}
	}
	if o.Roster == nil {
		o.Roster = func() *roster.Roster { return ros }
	}
	n := &Notifier{o: o}
	n.domain = strings.ToLower(o.Office.Address[strings.LastIndexByte(o.Office.Address, '@')+1:])

	text, err := n.readTemplate("reply.txt.tmpl")
	if err != nil {
		return nil, err
	}
	if n.textTmpl, err = texttemplate.New("reply.txt.tmpl").Option("missingkey=error").Parse(text); err != nil {
		return nil, fmt.Errorf("notify: template reply.txt.tmpl: %w", err)
	}
	html, err := n.readTemplate("reply.html.tmpl")
	if err != nil {
		return nil, err
	}
	if n.htmlTmpl, err = htmltemplate.New("reply.html.tmpl").Option("missingkey=error").Parse(html); err != nil {
		return nil, fmt.Errorf("notify: template reply.html.tmpl: %w", err)
	}
	if _, err := n.compose(sampleReceipt(o.Office.Location), "<sample@example.invalid>", true); err != nil {
		return nil, fmt.Errorf("notify: templates do not work on a sample receipt: %w", err)
	}
	return n, nil
}

func (n *Notifier) readTemplate(name string) (string, error) {
	if n.o.TemplateDir != "" {
		b, err := os.ReadFile(filepath.Join(n.o.TemplateDir, name))
		if err == nil {
			return string(b), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("notify: template: %w", err)
		}
	}
	b, err := embedded.ReadFile("templates/" + name)
	if err != nil {
		return "", fmt.Errorf("notify: embedded template %s: %w", name, err)
	}
	return string(b), nil
}

func sampleReceipt(loc *time.Location) *store.Receipt {
	return &store.Receipt{
		Number: "JB2000-0001", Received: time.Date(2000, 1, 2, 3, 4, 5, 0, loc), MessageID: "<a@b.c>",
		From: "a@b.c", FromName: "样例", Subject: "样例", Match: "none", Verdict: store.VerdictPartial, Auth: "fail",
		Attachments: []store.Attachment{{Filename: "a.pdf", Verdict: "ok", Pages: 1, Size: 1000},
			{Filename: "b.doc", Verdict: "reject", Reason: "not_pdf_word", DuplicateOf: "JB1999-0001"}},
		DuplicateOf: "JB1999-0002",
	}
}

func (n *Notifier) now() time.Time { return n.o.Now() }

// Office is who the mail is from, with its defaults (the time zone) filled in.
func (n *Notifier) Office() Office { return n.o.Office }

// ComposeReply returns the reply for a receipt as it would be sent now, with the Message-ID of a
// preview (outbox item 0). The outbox sends the same text under the Message-ID of its item (Reply).
func (n *Notifier) ComposeReply(r *store.Receipt) ([]byte, error) {
	return n.compose(r, n.MessageID(r, 0), false)
}

// Reply returns the reply for a receipt as it is sent now as outbox item item, under that item's
// Message-ID; correction makes it a 更正回执, correcting the reply sent before.
func (n *Notifier) Reply(r *store.Receipt, item uint64, correction bool) ([]byte, error) {
	return n.compose(r, n.MessageID(r, item), correction)
}

// MessageID is our Message-ID for the reply to r sent as outbox item id: the same for every attempt at
// that item, different for a resend, and recognisable by OwnMessageID.
func (n *Notifier) MessageID(r *store.Receipt, item uint64) string {
	sum := sha256.Sum256([]byte(n.o.Marker + "\x00" + r.Number + "\x00" + strconv.FormatUint(item, 10) + "\x00" + r.MessageID))
	num := idPart(r.Number)
	if num == "" {
		num = "receipt"
	}
	return "<" + num + "." + strconv.FormatUint(item, 10) + "." + hex.EncodeToString(sum[:6]) + "@" + n.o.Marker + "." + n.domain + ">"
}

// OwnMessageID reports whether a Message-ID (or an In-Reply-To/References value) is one of ours.
func (n *Notifier) OwnMessageID(id string) bool {
	return strings.Contains(strings.ToLower(id), "@"+n.o.Marker+"."+n.domain+">")
}
