package outbox

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"briefd/notify"
	"briefd/roster"
	"briefd/store"
)

// This file decides which mail is not sent: replies to automated senders, to our own address, to what
// is not one plain address, and over the hourly cap per sender.

// roleLocals are local parts that belong to programs, never to be answered (RFC 3834 §2).
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
func (b *Outbox) Suppress(r *store.Receipt) string {
	return b.suppress(r, nil)
}

// suppress is Suppress; recent, when not nil, holds the replies sent in the last hour (see
// Outbox.recent) and replaces the outbox scan of the per-sender cap.
func (b *Outbox) suppress(r *store.Receipt, recent map[string][]time.Time) string {
	if why := b.suppressAddress(r.From); why != "" {
		return why
	}
	if r.Verdict == store.VerdictIgnored {
		return "message was ignored (" + notify.Clean(r.Note, 80) + "): no reply"
	}
	return b.overCap(r.From, recent)
}

func (b *Outbox) suppressAddress(addr string) string {
	if strings.TrimSpace(addr) == "" || addr == "<>" {
		return "no recipient: empty sender address"
	}
	if why := roster.AddressProblem(addr); why != "" {
		return "recipient " + strconv.QuoteToASCII(notify.Clean(addr, 100)) + " is not one valid address: " + why
	}
	if strings.EqualFold(addr, b.office.Address) {
		return "recipient is our own address"
	}
	if why := AutomatedAddress(addr); why != "" {
		return "recipient is an " + why
	}
	return ""
}

// overCap counts the replies sent to addr in the last hour: from recent (during a Flush pass) when not
// nil, else from the outbox.
func (b *Outbox) overCap(addr string, recent map[string][]time.Time) string {
	if b.o.PerSenderPerHour < 0 || b.st == nil {
		return ""
	}
	since := b.now().Add(-time.Hour)
	var count int
	if recent != nil {
		for _, t := range recent[foldKey(addr)] {
			if t.After(since) {
				count++
			}
		}
	} else {
		sent, err := b.st.Outbox(func(it *store.OutboxItem) bool {
			return it.Kind == store.KindReply && it.State == store.OutSent && strings.EqualFold(it.To, addr) && it.Sent.After(since)
		})
		if err != nil {
			b.log.Error("outbox: count replies for the hourly cap", "to", addr, "err", err)
			return ""
		}
		count = len(sent)
	}
	if count >= b.o.PerSenderPerHour {
		return fmt.Sprintf("per-sender cap: %d replies to %s in the last hour", count, addr)
	}
	return ""
}

// recentReplies reads, in one outbox scan, the replies sent in the last hour by recipient (foldKey);
// nil when the cap is off or the outbox cannot be read (overCap then reads the outbox itself).
func (b *Outbox) recentReplies() map[string][]time.Time {
	if b.o.PerSenderPerHour < 0 {
		return nil
	}
	since := b.now().Add(-time.Hour)
	m := map[string][]time.Time{}
	_, err := b.st.Outbox(func(it *store.OutboxItem) bool {
		if it.Kind == store.KindReply && it.State == store.OutSent && it.Sent.After(since) {
			k := foldKey(it.To)
			m[k] = append(m[k], it.Sent)
		}
		return false
	})
	if err != nil {
		b.log.Error("outbox: count replies for the hourly cap", "err", err)
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

// suppressAddressOther checks the recipient of a summary, reminder or alert: one valid address. Our
// own address is allowed (the office may send its summary to itself) and there is no hourly cap.
func (b *Outbox) suppressAddressOther(addr string) string {
	if strings.TrimSpace(addr) == "" {
		return "no recipient"
	}
	if why := roster.AddressProblem(addr); why != "" {
		return "recipient " + strconv.QuoteToASCII(notify.Clean(addr, 100)) + " is not one valid address: " + why
	}
	return ""
}
