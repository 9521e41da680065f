package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Outbox item kinds.
const (
	KindReply    = "reply"
	KindSummary  = "summary"
	KindReminder = "reminder"
	KindAlert    = "alert"
	KindFailure  = "failure" // to the office: a mail could not be handled (its receipt has verdict failed)
	// KindRobot is a post to a group robot: To is the robot's name, Subject the event (summary,
	// reminder, alert, problems), Message a robot.Message as JSON; a problems post has no Message and
	// is composed from its Receipt when sent.
	KindRobot = "robot"
)

// Outbox item states.
const (
	OutQueued     = "queued"
	OutSent       = "sent"
	OutFailed     = "failed"
	OutSuppressed = "suppressed"
)

// OutboxItem is one mail to send. Replies are composed from their receipt when sent; other kinds carry
// their composed message in Message.
type OutboxItem struct {
	ID        uint64    `json:"id"`
	Kind      string    `json:"kind"`
	Receipt   string    `json:"receipt,omitempty"`
	To        string    `json:"to"`
	Subject   string    `json:"subject,omitempty"`
	Message   []byte    `json:"message,omitempty"` // the RFC 5322 message, for kinds composed when queued
	Created   time.Time `json:"created"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	NextTry   time.Time `json:"next_try"`
	LastError string    `json:"last_error,omitempty"`
	Sent      time.Time `json:"sent,omitzero"`
	// Correction: a reply that corrects an earlier one (after `briefd recheck`): 更正回执.
	Correction bool `json:"correction,omitempty"`
}

func idKey(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

func enqueue(tx *bolt.Tx, it *OutboxItem) error {
	b := tx.Bucket(bOutbox)
	id, err := b.NextSequence()
	if err != nil {
		return err
	}
	it.ID = id
	if it.State == "" {
		it.State = OutQueued
	}
	if it.Created.IsZero() {
		it.Created = time.Now()
	}
	return putJSON(b, idKey(id), it)
}

// Enqueue adds an item to the outbox.
func (s *Store) Enqueue(it *OutboxItem) error {
	return s.db.Update(func(tx *bolt.Tx) error { return enqueue(tx, it) })
}

// EnqueueOnce adds an item and sets the mark in one transaction, unless the mark is already set: a job
// guarded this way queues its mail once, whatever restarts happen. It reports whether it queued.
func (s *Store) EnqueueOnce(mark string, at time.Time, items ...*OutboxItem) (bool, error) {
	queued := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bMarks).Get([]byte(mark)) != nil {
			return nil
		}
		for _, it := range items {
			if err := enqueue(tx, it); err != nil {
				return err
			}
		}
		queued = true
		return putMark(tx, mark, at)
	})
	return queued, err
}

// Requeue queues a receipt's reply again (`briefd resend`).
func (s *Store) Requeue(number string, at time.Time) (*OutboxItem, error) {
	return s.requeue(nil, number, at)
}

func (s *Store) requeue(audit *AuditEntry, number string, at time.Time) (*OutboxItem, error) {
	var it *OutboxItem
	err := s.update(audit, func(tx *bolt.Tx) error {
		v := tx.Bucket(bReceipts).Get([]byte(number))
		if v == nil {
			return fmt.Errorf("receipt %s: %w", number, ErrNotFound)
		}
		var r Receipt
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		it = &OutboxItem{Kind: KindReply, Receipt: number, To: r.From, Created: at, NextTry: at}
		if err := enqueue(tx, it); err != nil {
			return err
		}
		r.Reply, r.ReplyNote = ReplyQueued, "resend requested"
		return s.putReceipt(tx, &r)
	})
	return it, err
}

// Outbox returns the items that keep accepts (all when nil), oldest first.
func (s *Store) Outbox(keep func(*OutboxItem) bool) ([]*OutboxItem, error) {
	var out []*OutboxItem
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bOutbox).ForEach(func(k, v []byte) error {
			var it OutboxItem
			if err := json.Unmarshal(v, &it); err != nil {
				return err
			}
			if keep == nil || keep(&it) {
				out = append(out, &it)
			}
			return nil
		})
	})
	return out, err
}

// Due returns the queued items whose next try is not after now.
func (s *Store) Due(now time.Time) ([]*OutboxItem, error) {
	return s.Outbox(func(it *OutboxItem) bool { return it.State == OutQueued && !it.NextTry.After(now) })
}

// UpdateOutbox changes an item and, for replies, mirrors its state into the receipt, in one transaction.
func (s *Store) UpdateOutbox(id uint64, fn func(*OutboxItem)) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bOutbox)
		v := b.Get(idKey(id))
		if v == nil {
			return fmt.Errorf("outbox item %d: %w", id, ErrNotFound)
		}
		var it OutboxItem
		if err := json.Unmarshal(v, &it); err != nil {
			return err
		}
		fn(&it)
		if err := putJSON(b, idKey(id), &it); err != nil {
			return err
		}
		if it.Kind != KindReply || it.Receipt == "" {
			return nil
		}
		rb := tx.Bucket(bReceipts)
		rv := rb.Get([]byte(it.Receipt))
		if rv == nil {
			return nil
		}
		var r Receipt
		if err := json.Unmarshal(rv, &r); err != nil {
			return err
		}
		switch it.State {
		case OutSent:
			r.Reply, r.ReplyNote = ReplySent, ""
		case OutFailed:
			r.Reply, r.ReplyNote = ReplyFailed, it.LastError
		case OutSuppressed:
			r.Reply, r.ReplyNote = ReplySuppressed, it.LastError
		default:
			r.Reply, r.ReplyNote = ReplyQueued, it.LastError
		}
		return s.putReceipt(tx, &r)
	})
}
