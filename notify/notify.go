// Package notify sends briefd's outgoing mail: it composes the receipt reply (回执) for each receipt from
// embedded templates, and delivers everything in the store's outbox through SMTP with retries, never
// writing to an automated sender, to our own address, or more than a set number of times an hour to one
// sender.
//
// Replies are composed when they are sent, from the receipt as it is then (so `briefd resend` reflects
// an assignment made in between); summaries and reminders are sent as they were queued.
//
// Templates: templates/reply.txt.tmpl (text/template) and templates/reply.html.tmpl (html/template) are
// embedded; a file of the same name in Options.TemplateDir replaces one. They are executed with a
// *ReplyData.
package notify

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"briefd/internal/mailnet"
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
	// PerSenderPerHour caps the replies sent to one address in any hour; a reply over the cap is
	// suppressed. 0 means 10; negative means no cap.
	PerSenderPerHour int
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
	// SaveSent, when set, is called with every message after it was sent and recorded, to APPEND a copy
	// to the IMAP Sent folder (163 keeps no copy of SMTP-sent mail). Its error is logged, not retried.
	SaveSent func(ctx context.Context, msg []byte) error
	// RetryFor is how long a temporary failure is retried, counted from when the item was queued.
	// Default 5 days.
	RetryFor time.Duration
	// PollInterval is how often Run looks at the outbox when nothing wakes it. Default 30s.
	PollInterval time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Backoff bounds: the first retry after a temporary failure waits MinBackoff, each next one twice as
// long, never more than MaxBackoff.
const (
	MinBackoff = time.Minute
	MaxBackoff = 6 * time.Hour
)

// Notifier composes replies and delivers the outbox.
type Notifier struct {
	o        Options
	st       *store.Store
	ros      *roster.Roster
	snd      Sender
	log      *slog.Logger
	domain   string // of the office address
	textTmpl *texttemplate.Template
	htmlTmpl *htmltemplate.Template

	mu   sync.Mutex // one Flush at a time: two would send the same item twice
	down bool       // the last pass stopped because the server could not be reached (guarded by mu)
	// recent is, during a Flush pass, the send times of the replies sent in the last hour by recipient
	// (foldKey): read from the outbox once at the start of the pass and added to as the pass sends, so
	// the per-sender cap does not read the whole outbox again for every reply (guarded by mu).
	recent map[string][]time.Time
}

// New checks the options, loads the templates (trying each on a sample receipt, so a broken override
// fails here and not at the first reply) and returns a Notifier. With a nil store and sender it can only
// compose (previews, `briefd demo`); with a nil roster, replies name no unit or campaign.
func New(o Options, st *store.Store, ros *roster.Roster, snd Sender, log *slog.Logger) (*Notifier, error) {
	if o.Office.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		o.Office.Location = loc
	}
	if o.PerSenderPerHour == 0 {
		o.PerSenderPerHour = 10
	}
	if o.Marker == "" {
		o.Marker = "briefd"
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 5 * 24 * time.Hour
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if why := validAddress(o.Office.Address); why != "" {
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
	n := &Notifier{o: o, st: st, ros: ros, snd: snd, log: log}
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

// ComposeReply returns the reply for a receipt as it would be sent now, with the Message-ID of a
// preview (outbox item 0). The outbox sends the same text under the Message-ID of its item.
func (n *Notifier) ComposeReply(r *store.Receipt) ([]byte, error) {
	return n.compose(r, n.MessageID(r, 0), false)
}

// MessageID is our Message-ID for the reply to r sent as outbox item id: the same for every attempt at
// that item, different for a resend, and recognisable by OwnMessageID.
func (n *Notifier) MessageID(r *store.Receipt, item uint64) string {
	sum := sha256.Sum256([]byte(n.o.Marker + "\x00" + r.Number + "\x00" + strconv.FormatUint(item, 10) + "\x00" + r.MessageID))
	num := strings.Map(func(c rune) rune {
		if c < 0x80 && isAtext(byte(c)) && c != '.' {
			return c
		}
		return -1
	}, r.Number)
	if num == "" {
		num = "receipt"
	}
	return "<" + num + "." + strconv.FormatUint(item, 10) + "." + hex.EncodeToString(sum[:6]) + "@" + n.o.Marker + "." + n.domain + ">"
}

// OwnMessageID reports whether a Message-ID (or an In-Reply-To/References value) is one of ours.
func (n *Notifier) OwnMessageID(id string) bool {
	return strings.Contains(strings.ToLower(id), "@"+n.o.Marker+"."+n.domain+">")
}

// roleLocals are local parts that belong to programs, never to be answered (RFC 3834 §2, DESIGN.md).
var roleLocals = map[string]bool{
	"mailer-daemon": true, "postmaster": true, "listserv": true, "majordomo": true,
	"noreply": true, "no-reply": true, "no_reply": true, "donotreply": true, "do-not-reply": true,
	"do_not_reply": true,
}

// AutomatedAddress says why an address belongs to a program rather than a person ("" when it does
// not): MAILER-DAEMON, postmaster, LISTSERV, majordomo, *-request, owner-*, noreply and the like.
func AutomatedAddress(addr string) string {
	local := strings.ToLower(addr)
	if at := strings.LastIndexByte(local, '@'); at >= 0 {
		local = local[:at]
	}
	if i := strings.IndexByte(local, '+'); i > 0 { // noreply+tag@
		local = local[:i]
	}
	switch {
	case roleLocals[local]:
		return "automated sender " + local
	case strings.HasSuffix(local, "-request"):
		return "list request address"
	case strings.HasPrefix(local, "owner-"):
		return "list owner address"
	}
	return ""
}

// Suppress is the last check before a reply is sent: "" when the reply may go, else why not. It refuses
// an empty or malformed recipient, anything but one plain address, an automated sender, our own address,
// a receipt marked ignored, and a sender who already got PerSenderPerHour replies in the last hour.
func (n *Notifier) Suppress(r *store.Receipt) string {
	return n.suppress(r, nil)
}

// suppress is Suppress; recent, when not nil, holds the replies sent in the last hour (see
// Notifier.recent) and replaces the outbox scan of the per-sender cap.
func (n *Notifier) suppress(r *store.Receipt, recent map[string][]time.Time) string {
	if why := n.suppressAddress(r.From); why != "" {
		return why
	}
	if r.Verdict == store.VerdictIgnored {
		return "message was ignored (" + clean(r.Note, 80) + "): no reply"
	}
	return n.overCap(r.From, recent)
}

func (n *Notifier) suppressAddress(addr string) string {
	if strings.TrimSpace(addr) == "" || addr == "<>" {
		return "no recipient: empty sender address"
	}
	if why := validAddress(addr); why != "" {
		return "recipient " + strconv.QuoteToASCII(clean(addr, 100)) + " is not one valid address: " + why
	}
	if strings.EqualFold(addr, n.o.Office.Address) {
		return "recipient is our own address"
	}
	if why := AutomatedAddress(addr); why != "" {
		return "recipient is an " + why
	}
	return ""
}

// overCap counts the replies sent to addr in the last hour: from recent (during a Flush pass) when not
// nil, else from the outbox.
func (n *Notifier) overCap(addr string, recent map[string][]time.Time) string {
	if n.o.PerSenderPerHour < 0 || n.st == nil {
		return ""
	}
	since := n.now().Add(-time.Hour)
	var count int
	if recent != nil {
		for _, t := range recent[foldKey(addr)] {
			if t.After(since) {
				count++
			}
		}
	} else {
		sent, err := n.st.Outbox(func(it *store.OutboxItem) bool {
			return it.Kind == store.KindReply && it.State == store.OutSent && strings.EqualFold(it.To, addr) && it.Sent.After(since)
		})
		if err != nil {
			n.log.Error("notify: count replies for the hourly cap", "to", addr, "err", err)
			return ""
		}
		count = len(sent)
	}
	if count >= n.o.PerSenderPerHour {
		return fmt.Sprintf("per-sender cap: %d replies to %s in the last hour", count, addr)
	}
	return ""
}

// recentReplies reads, in one outbox scan, the replies sent in the last hour by recipient (foldKey);
// nil when the cap is off or the outbox cannot be read (overCap then reads the outbox itself).
func (n *Notifier) recentReplies() map[string][]time.Time {
	if n.o.PerSenderPerHour < 0 {
		return nil
	}
	since := n.now().Add(-time.Hour)
	m := map[string][]time.Time{}
	_, err := n.st.Outbox(func(it *store.OutboxItem) bool {
		if it.Kind == store.KindReply && it.State == store.OutSent && it.Sent.After(since) {
			k := foldKey(it.To)
			m[k] = append(m[k], it.Sent)
		}
		return false
	})
	if err != nil {
		n.log.Error("notify: count replies for the hourly cap", "err", err)
		return nil
	}
	return m
}

// foldKey maps addresses that strings.EqualFold finds equal to the same key: every rune becomes the
// smallest rune of its case-folding orbit.
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s) // the smallest rune of an ASCII letter's orbit is its upper case
	}
	var b strings.Builder
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

// Flush tries once every outbox item that is due now, oldest first, and reports how many were sent and
// how many attempts failed (temporarily or for good). Suppressed items count as neither. After an error
// that is about the server rather than the message (it is down, refuses our login, the TLS handshake
// fails) the pass stops: the other items wait for the next pass. err is a store error; SMTP errors are
// recorded in the items.
//
// A send that is under way when ctx is cancelled is allowed to finish (each step is bounded by the SMTP
// timeout), so that a message the server accepted is recorded as sent.
func (n *Notifier) Flush(ctx context.Context) (sent, failed int, err error) {
	sent, failed, _, err = n.flush(ctx)
	return sent, failed, err
}

// flush is Flush; stopped reports that the pass ended early at a connection-level failure.
func (n *Notifier) flush(ctx context.Context) (sent, failed int, stopped bool, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.st == nil || n.snd == nil {
		return 0, 0, false, errors.New("notify: no store or no sender: this Notifier only composes")
	}
	items, err := n.st.Due(n.now())
	if err != nil {
		return 0, 0, false, fmt.Errorf("notify: read outbox: %w", err)
	}
	n.recent = n.recentReplies()
	defer func() { n.recent = nil }()
	for i := 0; i < len(items); i++ {
		if ctx.Err() != nil {
			break
		}
		res, err := n.deliver(ctx, items[i])
		if err != nil {
			return sent, failed, false, err
		}
		switch res {
		case resSent:
			sent++
			if n.down {
				// The server is back: what waited out an outage need not wait out its backoff too.
				n.down = false
				items = append(items, n.waiting(items)...)
			}
		case resFailed:
			failed++
		case resStop:
			n.down = true
			return sent, failed + 1, true, nil
		}
	}
	return sent, failed, false, nil
}

// waiting returns the queued items not yet due that are not among those already taken.
func (n *Notifier) waiting(taken []*store.OutboxItem) []*store.OutboxItem {
	now := n.now()
	out, err := n.st.Outbox(func(it *store.OutboxItem) bool {
		return it.State == store.OutQueued && it.NextTry.After(now) &&
			!slices.ContainsFunc(taken, func(t *store.OutboxItem) bool { return t.ID == it.ID })
	})
	if err != nil {
		n.log.Warn("notify: read outbox", "err", err)
	}
	return out
}

// result is the outcome of one delivery attempt.
type result int

const (
	resSent       result = iota
	resFailed            // failed for good, or will be retried
	resSuppressed        // not sent, on purpose
	resStop              // failed at the connection: stop the pass
)

// deliver tries one item and records the outcome in the store; err is a store error.
func (n *Notifier) deliver(ctx context.Context, it *store.OutboxItem) (result, error) {
	log := n.log.With("item", it.ID, "kind", it.Kind, "receipt", it.Receipt)
	var msg []byte
	to := it.To
	switch it.Kind {
	case store.KindReply:
		r, err := n.st.Receipt(it.Receipt)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return resFailed, n.finish(it, store.OutFailed, "receipt "+it.Receipt+" not found", log)
			}
			return resFailed, fmt.Errorf("notify: read receipt %s: %w", it.Receipt, err)
		}
		to = r.From // the original sender only, whatever else was queued
		if why := n.suppress(r, n.recent); why != "" {
			it.To = to
			return resSuppressed, n.finish(it, store.OutSuppressed, why, log)
		}
		if msg, err = n.compose(r, n.MessageID(r, it.ID), it.Correction); err != nil {
			return resFailed, n.finish(it, store.OutFailed, err.Error(), log)
		}
	case store.KindFailure:
		r, err := n.st.Receipt(it.Receipt)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return resFailed, n.finish(it, store.OutFailed, "receipt "+it.Receipt+" not found", log)
			}
			return resFailed, fmt.Errorf("notify: read receipt %s: %w", it.Receipt, err)
		}
		if msg, err = n.composeFailure(r, to, it.ID); err != nil {
			return resFailed, n.finish(it, store.OutFailed, err.Error(), log)
		}
	default:
		if why := n.suppressAddressOther(to); why != "" {
			return resSuppressed, n.finish(it, store.OutSuppressed, why, log)
		}
		if len(it.Message) == 0 {
			return resFailed, n.finish(it, store.OutFailed, "nothing to send: the queued message is empty", log)
		}
		msg = it.Message
	}

	// Let a send under way finish when ctx is cancelled: every step is bounded by the SMTP timeout.
	sendErr := n.snd.Send(context.WithoutCancel(ctx), n.o.Office.Address, []string{to}, msg)
	now := n.now()
	if sendErr == nil {
		// The server answered 250 and has the message. If the process dies before this update is
		// committed (a window of one bbolt transaction, about a millisecond plus the fsync), the item
		// stays queued and is sent again after the restart: the recipient then gets the same reply
		// twice, under the same Message-ID, so most clients show it once. Nothing else happens between
		// the 250 and this update.
		if err := n.st.UpdateOutbox(it.ID, func(x *store.OutboxItem) {
			x.State, x.Sent, x.To, x.LastError = store.OutSent, now, to, ""
			x.Attempts++
		}); err != nil {
			log.Error("notify: sent but not recorded; it may be sent again", "to", to, "err", err)
			return resFailed, fmt.Errorf("notify: record item %d as sent: %w", it.ID, err)
		}
		if it.Kind == store.KindReply && n.recent != nil {
			k := foldKey(to)
			n.recent[k] = append(n.recent[k], now)
		}
		log.Info("notify: sent", "to", to)
		if n.o.SaveSent != nil {
			if err := n.o.SaveSent(ctx, msg); err != nil {
				log.Warn("notify: copy to the sent folder failed", "err", err)
			}
		}
		return resSent, nil
	}

	answer := clean(sendErr.Error(), 500)
	if IsPermanent(sendErr) {
		log.Warn("notify: refused for good", "to", to, "err", answer)
		it.Attempts++
		return resFailed, n.finish(it, store.OutFailed, answer, log)
	}
	attempts := it.Attempts + 1
	if now.Sub(it.Created) >= n.o.RetryFor {
		log.Warn("notify: giving up", "to", to, "attempts", attempts, "err", answer)
		err := n.st.UpdateOutbox(it.ID, func(x *store.OutboxItem) {
			x.State, x.Attempts = store.OutFailed, attempts
			x.LastError = fmt.Sprintf("gave up after %d attempts over %s: %s", attempts, roundDuration(now.Sub(it.Created)), answer)
		})
		if err != nil {
			return resFailed, fmt.Errorf("notify: record item %d: %w", it.ID, err)
		}
		return resFailed, nil
	}
	if unreachable(sendErr) {
		// The server, not this message: the item stays due, and the outbox looks again every few seconds
		// (Run), so everything waiting goes out as soon as the server answers again.
		if !n.down {
			log.Warn("notify: SMTP server unreachable; mail waits in the outbox", "err", answer)
		}
		err := n.st.UpdateOutbox(it.ID, func(x *store.OutboxItem) {
			x.Attempts = attempts
			x.LastError = fmt.Sprintf("attempt %d: the server could not be reached: %s", attempts, answer)
		})
		if err != nil {
			return resFailed, fmt.Errorf("notify: record item %d: %w", it.ID, err)
		}
		return resStop, nil
	}
	next := now.Add(mailnet.Backoff{Min: MinBackoff, Max: MaxBackoff}.Wait(attempts)) // 1m, 2m, 4m, … 6h
	log.Warn("notify: will retry", "to", to, "attempts", attempts, "next", next, "err", answer)
	err := n.st.UpdateOutbox(it.ID, func(x *store.OutboxItem) {
		x.Attempts, x.NextTry = attempts, next
		x.LastError = fmt.Sprintf("attempt %d failed, next at %s: %s", attempts, next.In(n.o.Office.Location).Format("2006-01-02 15:04"), answer)
	})
	if err != nil {
		return resFailed, fmt.Errorf("notify: record item %d: %w", it.ID, err)
	}
	if isConnectionError(sendErr) {
		return resStop, nil
	}
	return resFailed, nil
}

// suppressAddressOther checks the recipient of a summary, reminder or alert: one valid address. Our
// own address is allowed (the office may send its summary to itself) and there is no hourly cap.
func (n *Notifier) suppressAddressOther(addr string) string {
	if strings.TrimSpace(addr) == "" {
		return "no recipient"
	}
	if why := validAddress(addr); why != "" {
		return "recipient " + strconv.QuoteToASCII(clean(addr, 100)) + " is not one valid address: " + why
	}
	return ""
}

// finish records a final state with its reason.
func (n *Notifier) finish(it *store.OutboxItem, state, why string, log *slog.Logger) error {
	it.State = state
	to, attempts := it.To, it.Attempts
	if err := n.st.UpdateOutbox(it.ID, func(x *store.OutboxItem) {
		x.State, x.LastError, x.To, x.Attempts = state, why, to, attempts
	}); err != nil {
		return fmt.Errorf("notify: record item %d: %w", it.ID, err)
	}
	log.Info("notify: "+state, "to", to, "why", why)
	return nil
}

func roundDuration(d time.Duration) string {
	if d >= 24*time.Hour {
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	}
	return d.Round(time.Minute).String()
}

// Run delivers the outbox until ctx is cancelled: a pass at start, whenever wake receives, when the
// earliest retry is due, and at least every PollInterval. It returns nil when ctx is cancelled, after
// the send under way (if any) has finished.
func (n *Notifier) Run(ctx context.Context, wake <-chan struct{}) error {
	for {
		sent, failed, stopped, err := n.flush(ctx)
		if err != nil {
			n.log.Error("notify: outbox pass", "err", err)
		} else if sent+failed > 0 {
			n.log.Info("notify: outbox pass", "sent", sent, "failed", failed)
		}
		wait := n.o.PollInterval
		if stopped { // the server cannot be reached: look again soon, one connection attempt at a time
			wait = min(wait, 10*time.Second)
		} else {
			wait = n.untilNext(wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// untilNext is the time until the earliest queued item is due, at most max and at least a second.
func (n *Notifier) untilNext(max time.Duration) time.Duration {
	items, err := n.st.Outbox(func(it *store.OutboxItem) bool { return it.State == store.OutQueued })
	if err != nil {
		return max
	}
	wait := max
	now := n.now()
	for _, it := range items {
		if d := it.NextTry.Sub(now); d < wait {
			wait = d
		}
	}
	return maxDur(wait, time.Second)
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}
