// Package outbox delivers the mail in the store's outbox through SMTP: the receipt replies and failure
// notices, composed by notify when they are sent (from the receipt as it is then), and the summaries,
// reminders and alerts notify composed when it queued them. A temporary failure is tried again with
// backoff for RetryFor, a refusal fails the item at once; a reply never goes to an automated sender,
// to our own address, or more than PerSenderPerHour times an hour to one sender. A copy of what was sent
// can be saved (SaveSent).
//
// smtp.go is the SMTP client: the Sender interface, SMTPSender and, for `briefd doctor`, CheckSMTP.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"briefd/internal/mailnet"
	"briefd/notify"
	"briefd/robot"
	"briefd/store"
)

// Options configure an Outbox.
type Options struct {
	// PerSenderPerHour caps the replies sent to one address in any hour; a reply over the cap is
	// suppressed. 0 means 10; negative means no cap.
	PerSenderPerHour int
	// SaveSent, when set, is called with every message after it was sent and recorded, to APPEND a copy
	// to the IMAP Sent folder (163 keeps no copy of SMTP-sent mail). Its error is logged, not retried.
	SaveSent func(ctx context.Context, msg []byte) error
	// RetryFor is how long a temporary failure is retried, counted from when the item was queued.
	// Default 5 days.
	RetryFor time.Duration
	// PollInterval is how often Run looks at the outbox when nothing wakes it. Default 30s.
	PollInterval time.Duration
	// MinGap is the least time between two passes of Run that a wake starts: each pass reads the whole
	// outbox, and a backlog wakes it once a mail. Default 1s.
	MinGap time.Duration
	// Robots are the group robots by name, for the items of kind robot (robot.go).
	Robots map[string]*robot.Robot
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Outbox delivers the items of the store's outbox, one pass at a time.
type Outbox struct {
	o      Options
	st     *store.Store
	n      *notify.Notifier
	snd    Sender
	log    *slog.Logger
	office notify.Office // the sender: envelope From, our own address, the time zone of retry notes

	mu   sync.Mutex // one Flush at a time: two would send the same item twice
	down bool       // the last pass stopped because the server could not be reached (guarded by mu)
	// recent is, during a Flush pass, the send times of the replies sent in the last hour by recipient
	// (foldKey): read from the outbox once at the start of the pass and added to as the pass sends, so
	// the per-sender cap does not read the whole outbox again for every reply (guarded by mu).
	recent map[string][]time.Time
}

// New returns an Outbox that delivers st's outbox through snd, composing replies and failure notices
// with n at the moment they are sent.
func New(o Options, st *store.Store, n *notify.Notifier, snd Sender, log *slog.Logger) *Outbox {
	if o.PerSenderPerHour == 0 {
		o.PerSenderPerHour = 10
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 5 * 24 * time.Hour
	}
	if o.MinGap <= 0 {
		o.MinGap = time.Second
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
	return &Outbox{o: o, st: st, n: n, snd: snd, log: log, office: n.Office()}
}

func (b *Outbox) now() time.Time { return b.o.Now() }

// Backoff bounds: the first retry after a temporary failure waits MinBackoff, each next one twice as
// long, never more than MaxBackoff.
const (
	MinBackoff = time.Minute
	MaxBackoff = 6 * time.Hour
)

// Flush tries once every outbox item that is due now, oldest first, and reports how many were sent and
// how many attempts failed (temporarily or for good). Suppressed items count as neither. After an error
// that is about the server rather than the message (it is down, refuses our login, the TLS handshake
// fails) the pass stops: the other items wait for the next pass. err is a store error; SMTP errors are
// recorded in the items.
//
// A send that is under way when ctx is cancelled is allowed to finish (each step is bounded by the SMTP
// timeout), so that a message the server accepted is recorded as sent.
func (b *Outbox) Flush(ctx context.Context) (sent, failed int, err error) {
	sent, failed, _, err = b.flush(ctx)
	return sent, failed, err
}

// flush is Flush; stopped reports that the pass ended early at a connection-level failure.
func (b *Outbox) flush(ctx context.Context) (sent, failed int, stopped bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	items, err := b.st.Due(b.now())
	if err != nil {
		return 0, 0, false, fmt.Errorf("outbox: read the due items: %w", err)
	}
	b.recent = b.recentReplies()
	defer func() { b.recent = nil }()
	posts, err := b.robotQueues()
	if err != nil {
		return 0, 0, false, err
	}
	for i := 0; i < len(items); i++ {
		if ctx.Err() != nil {
			break
		}
		var res result
		if items[i].Kind == store.KindRobot {
			res, err = b.deliverPost(ctx, items[i], posts)
		} else {
			res, err = b.deliver(ctx, items[i])
		}
		if err != nil {
			return sent, failed, false, err
		}
		switch res {
		case resSent:
			sent++
			if b.down {
				// The server is back: what waited out an outage need not wait out its backoff too.
				b.down = false
				items = append(items, b.waiting(items)...)
			}
		case resFailed:
			failed++
		case resStop:
			b.down = true
			return sent, failed + 1, true, nil
		}
	}
	return sent, failed, false, nil
}

// waiting returns the queued items not yet due that are not among those already taken.
func (b *Outbox) waiting(taken []*store.OutboxItem) []*store.OutboxItem {
	now := b.now()
	out, err := b.st.Outbox(func(it *store.OutboxItem) bool {
		return it.State == store.OutQueued && it.NextTry.After(now) &&
			!slices.ContainsFunc(taken, func(t *store.OutboxItem) bool { return t.ID == it.ID })
	})
	if err != nil {
		b.log.Warn("outbox: read the waiting items", "err", err)
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
	resHeld              // not tried: it waits for an earlier post to its robot, or the robot's rate
)

// deliver tries one item and records the outcome in the store; err is a store error.
func (b *Outbox) deliver(ctx context.Context, it *store.OutboxItem) (result, error) {
	log := b.log.With("item", it.ID, "kind", it.Kind, "receipt", it.Receipt)
	var msg []byte
	to := it.To
	switch it.Kind {
	case store.KindReply, store.KindFailure: // composed now, from the receipt as it is
		r, err := b.st.Receipt(it.Receipt)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return resFailed, b.finish(it, store.OutFailed, "receipt "+it.Receipt+" not found", log)
			}
			return resFailed, fmt.Errorf("outbox: read receipt %s: %w", it.Receipt, err)
		}
		if it.Kind == store.KindFailure {
			msg, err = b.n.FailureNotice(r, to, it.ID)
		} else {
			to = r.From // the original sender only, whatever else was queued
			if why := b.suppress(r, b.recent); why != "" {
				it.To = to
				return resSuppressed, b.finish(it, store.OutSuppressed, why, log)
			}
			msg, err = b.n.Reply(r, it.ID, it.Correction)
		}
		if err != nil {
			return resFailed, b.finish(it, store.OutFailed, err.Error(), log)
		}
	default:
		if why := b.suppressAddressOther(to); why != "" {
			return resSuppressed, b.finish(it, store.OutSuppressed, why, log)
		}
		if len(it.Message) == 0 {
			return resFailed, b.finish(it, store.OutFailed, "nothing to send: the queued message is empty", log)
		}
		msg = it.Message
	}

	// Let a send under way finish when ctx is cancelled: every step is bounded by the SMTP timeout.
	sendErr := b.snd.Send(context.WithoutCancel(ctx), b.office.Address, []string{to}, msg)
	now := b.now()
	if sendErr == nil {
		// The server answered 250 and has the message. If the process dies before this update is
		// committed (a window of one bbolt transaction, about a millisecond plus the fsync), the item
		// stays queued and is sent again after the restart: the recipient then gets the same reply
		// twice, under the same Message-ID, so most clients show it once. Nothing else happens between
		// the 250 and this update.
		if err := b.st.UpdateOutbox(it.ID, func(x *store.OutboxItem) {
			x.State, x.Sent, x.To, x.LastError = store.OutSent, now, to, ""
			x.Attempts++
		}); err != nil {
			log.Error("outbox: sent but not recorded; it may be sent again", "to", to, "err", err)
			return resFailed, fmt.Errorf("outbox: record item %d as sent: %w", it.ID, err)
		}
		if it.Kind == store.KindReply && b.recent != nil {
			k := foldKey(to)
			b.recent[k] = append(b.recent[k], now)
		}
		log.Info("outbox: sent", "to", to)
		if b.o.SaveSent != nil {
			if err := b.o.SaveSent(ctx, msg); err != nil {
				log.Warn("outbox: copy to the sent folder failed", "err", err)
			}
		}
		return resSent, nil
	}

	answer := notify.Clean(sendErr.Error(), 500)
	if IsPermanent(sendErr) {
		log.Warn("outbox: refused for good", "to", to, "err", answer)
		it.Attempts++
		return resFailed, b.finish(it, store.OutFailed, answer, log)
	}
	attempts := it.Attempts + 1
	if now.Sub(it.Created) >= b.o.RetryFor {
		log.Warn("outbox: giving up", "to", to, "attempts", attempts, "err", answer)
		err := b.st.UpdateOutbox(it.ID, func(x *store.OutboxItem) {
			x.State, x.Attempts = store.OutFailed, attempts
			x.LastError = fmt.Sprintf("gave up after %d attempts over %s: %s", attempts, roundDuration(now.Sub(it.Created)), answer)
		})
		if err != nil {
			return resFailed, fmt.Errorf("outbox: record item %d: %w", it.ID, err)
		}
		return resFailed, nil
	}
	if unreachable(sendErr) {
		// The server, not this message: the item stays due, and the outbox looks again every few seconds
		// (Run), so everything waiting goes out as soon as the server answers again.
		if !b.down {
			log.Warn("outbox: SMTP server unreachable; mail waits in the outbox", "err", answer)
		}
		err := b.st.UpdateOutbox(it.ID, func(x *store.OutboxItem) {
			x.Attempts = attempts
			x.LastError = fmt.Sprintf("attempt %d: the server could not be reached: %s", attempts, answer)
		})
		if err != nil {
			return resFailed, fmt.Errorf("outbox: record item %d: %w", it.ID, err)
		}
		return resStop, nil
	}
	next := now.Add(mailnet.Backoff{Min: MinBackoff, Max: MaxBackoff}.Wait(attempts)) // 1m, 2m, 4m, … 6h
	log.Warn("outbox: will retry", "to", to, "attempts", attempts, "next", next, "err", answer)
	err := b.st.UpdateOutbox(it.ID, func(x *store.OutboxItem) {
		x.Attempts, x.NextTry = attempts, next
		x.LastError = fmt.Sprintf("attempt %d failed, next at %s: %s", attempts, next.In(b.office.Location).Format("2006-01-02 15:04"), answer)
	})
	if err != nil {
		return resFailed, fmt.Errorf("outbox: record item %d: %w", it.ID, err)
	}
	if isConnectionError(sendErr) {
		return resStop, nil
	}
	return resFailed, nil
}

// finish records a final state with its reason.
func (b *Outbox) finish(it *store.OutboxItem, state, why string, log *slog.Logger) error {
	it.State = state
	to, attempts := it.To, it.Attempts
	if err := b.st.UpdateOutbox(it.ID, func(x *store.OutboxItem) {
		x.State, x.LastError, x.To, x.Attempts = state, why, to, attempts
	}); err != nil {
		return fmt.Errorf("outbox: record item %d: %w", it.ID, err)
	}
	log.Info("outbox: "+state, "to", to, "why", why)
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
func (b *Outbox) Run(ctx context.Context, wake <-chan struct{}) error {
	for {
		sent, failed, stopped, err := b.flush(ctx)
		if err != nil {
			b.log.Error("outbox: pass", "err", err)
		} else if sent+failed > 0 {
			b.log.Info("outbox: pass", "sent", sent, "failed", failed)
		}
		wait := b.o.PollInterval
		if stopped { // the server cannot be reached: look again soon, one connection attempt at a time
			wait = min(wait, 10*time.Second)
		} else {
			wait = b.untilNext(wait)
		}
		earliest := time.Now().Add(b.o.MinGap)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-wake:
			// A wake during the gap waits out the gap; the wakes meanwhile make one pass.
			if d := time.Until(earliest); d > 0 {
				gap := time.NewTimer(d)
				select {
				case <-ctx.Done():
					gap.Stop()
					t.Stop()
					return nil
				case <-gap.C:
				}
			}
		case <-t.C:
		}
		t.Stop()
	}
}

// untilNext is the time until the earliest queued item is due, at most max and at least a second. A
// post behind an earlier one to the same robot waits for that one, not for its own NextTry.
func (b *Outbox) untilNext(max time.Duration) time.Duration {
	items, err := b.st.Outbox(func(it *store.OutboxItem) bool { return it.State == store.OutQueued })
	if err != nil {
		return max
	}
	wait := max
	now := b.now()
	head := map[string]bool{}
	for _, it := range items {
		if it.Kind == store.KindRobot {
			if head[it.To] {
				continue
			}
			head[it.To] = true
		}
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
