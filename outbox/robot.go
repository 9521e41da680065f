package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"briefd/internal/mailnet"
	"briefd/notify"
	"briefd/robot"
	"briefd/store"
)

// Posts to group robots (items of kind robot) go through the same outbox as mail: durable, retried with
// backoff on network errors, HTTP 5xx and the services' rate-limit answers, failed for good on a refusal
// such as an invalid key (kept with the service's answer for doctor, the dashboard and the summary).
// Each robot gets its posts in the order they were queued, at most at its documented rate: a post waits
// while an earlier one to the same robot is queued.

// robotQueues are the ids of the queued posts of each robot, oldest first: only the first of each may
// be tried.
type robotQueues map[string][]uint64

func (b *Outbox) robotQueues() (robotQueues, error) {
	items, err := b.st.Outbox(func(it *store.OutboxItem) bool { return it.Kind == store.KindRobot && it.State == store.OutQueued })
	if err != nil {
		return nil, fmt.Errorf("outbox: read the robots' posts: %w", err)
	}
	q := robotQueues{}
	for _, it := range items {
		q[it.To] = append(q[it.To], it.ID)
	}
	return q, nil
}

// deliverPost tries one post to a group robot and records the outcome; err is a store error.
func (b *Outbox) deliverPost(ctx context.Context, it *store.OutboxItem, q robotQueues) (result, error) {
	name := it.To
	if ids := q[name]; len(ids) > 0 && ids[0] != it.ID {
		return resHeld, nil // an earlier post to this robot goes first
	}
	log := b.log.With("item", it.ID, "kind", it.Kind, "robot", name, "event", it.Subject, "receipt", it.Receipt)
	res, retry, err := b.post(ctx, it, log)
	if res != resHeld && !retry && err == nil && len(q[name]) > 0 {
		q[name] = q[name][1:]
	}
	return res, err
}

// post tries the post; retry reports that it stays queued for a later attempt.
func (b *Outbox) post(ctx context.Context, it *store.OutboxItem, log *slog.Logger) (res result, retry bool, err error) {
	r := b.o.Robots[it.To]
	if r == nil {
		return resFailed, false, b.finish(it, store.OutFailed, fmt.Sprintf("robot %q is no longer in the config (robots:)", it.To), log)
	}
	var m robot.Message
	switch {
	case len(it.Message) > 0:
		if err := json.Unmarshal(it.Message, &m); err != nil {
			return resFailed, false, b.finish(it, store.OutFailed, "the queued post cannot be read: "+err.Error(), log)
		}
	case it.Receipt != "":
		rec, err := b.st.Receipt(it.Receipt)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return resFailed, false, b.finish(it, store.OutFailed, "receipt "+it.Receipt+" not found", log)
			}
			return resFailed, false, fmt.Errorf("outbox: read receipt %s: %w", it.Receipt, err)
		}
		var ok bool
		if m, ok = b.n.RobotProblem(rec); !ok {
			return resSuppressed, false, b.finish(it, store.OutSuppressed, "the receipt needs nobody any more (assigned or rechecked before the post)", log)
		}
	default:
		return resFailed, false, b.finish(it, store.OutFailed, "nothing to post: the queued post is empty", log)
	}
	now := b.now()
	if d := r.Ready(); d > 0 {
		// The robot's documented rate: the post waits, and is not counted as an attempt.
		return resHeld, false, b.st.UpdateOutbox(it.ID, func(x *store.OutboxItem) { x.NextTry = now.Add(d) })
	}
	// Let a post under way finish when ctx is cancelled: it is bounded by the robot's timeout.
	_, postErr := r.Post(context.WithoutCancel(ctx), m)
	now = b.now()
	attempts := it.Attempts + 1
	if postErr == nil {
		// As with mail: a crash between the service's answer and this update posts it again.
		if err := b.st.UpdateOutbox(it.ID, func(x *store.OutboxItem) {
			x.State, x.Sent, x.LastError, x.Attempts = store.OutSent, now, "", attempts
		}); err != nil {
			log.Error("outbox: posted but not recorded; it may be posted again", "err", err)
			return resFailed, false, fmt.Errorf("outbox: record item %d as sent: %w", it.ID, err)
		}
		log.Info("outbox: posted")
		return resSent, false, nil
	}
	answer := notify.Clean(postErr.Error(), 500) // robot's errors never carry the URL or the secret
	if !robot.IsTemporary(postErr) {
		log.Warn("outbox: the robot refused the post for good", "err", answer)
		it.Attempts = attempts
		return resFailed, false, b.finish(it, store.OutFailed, answer, log)
	}
	if now.Sub(it.Created) >= b.o.RetryFor {
		log.Warn("outbox: giving up", "attempts", attempts, "err", answer)
		it.Attempts = attempts
		return resFailed, false, b.finish(it, store.OutFailed, fmt.Sprintf("gave up after %d attempts over %s: %s", attempts, roundDuration(now.Sub(it.Created)), answer), log)
	}
	wait := max(mailnet.Backoff{Min: MinBackoff, Max: MaxBackoff}.Wait(attempts), robot.RetryAfter(postErr))
	next := now.Add(wait)
	log.Warn("outbox: will post again", "attempts", attempts, "next", next, "err", answer)
	if err := b.st.UpdateOutbox(it.ID, func(x *store.OutboxItem) {
		x.Attempts, x.NextTry = attempts, next
		x.LastError = fmt.Sprintf("attempt %d failed, next at %s: %s", attempts, next.In(b.office.Location).Format("2006-01-02 15:04"), answer)
	}); err != nil {
		return resFailed, false, fmt.Errorf("outbox: record item %d: %w", it.ID, err)
	}
	return resFailed, true, nil
}
