package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AuditEntry is one change a person made (操作记录): a campaign or unit added or changed, a receipt
// assigned, sent again, checked again or registered by hand, reminders sent, a letter marked as dealt
// with. It is written in the transaction of the change it records, so the log has every change and no
// change that did not happen.
type AuditEntry struct {
	Seq    uint64    `json:"seq"`    // its place in the log, from 1
	At     time.Time `json:"at"`     // when
	Action string    `json:"action"` // what kind of change: campaign.add, unit.import, assign, remind, …
	Target string    `json:"target"` // what it changed: a campaign or unit id, a receipt number
	Detail string    `json:"detail"` // what changed, in Chinese, for the office
	Via    string    `json:"via"`    // where it came from: command, socket (a command forwarded to the daemon) or web
	Client string    `json:"client"` // who: the user running the command, the browser's address
}

// Where a change came from (AuditEntry.Via, ManualEntry.Via).
const (
	ViaCommand = "command" // a command run without the daemon
	ViaSocket  = "socket"  // a command forwarded to the daemon over its control socket
	ViaWeb     = "web"     // the dashboard
)

// putAudit appends e to the audit log; nil writes nothing.
func putAudit(tx *bolt.Tx, e *AuditEntry) error {
	if e == nil {
		return nil
	}
	b := tx.Bucket(bAudit)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	e.Seq = seq
	return putJSON(b, idKey(seq), e)
}

// update runs fn in a write transaction that also appends audit (when not nil) to the audit log.
func (s *Store) update(audit *AuditEntry, fn func(tx *bolt.Tx) error) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return putAudit(tx, audit)
	})
}

// Audit appends e to the audit log on its own, for a change recorded elsewhere (a recheck: the receipt
// keeps its corrections).
func (s *Store) Audit(e *AuditEntry) error {
	if err := s.update(e, func(*bolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// AuditLog returns the entries of the audit log at or after since (all when zero), oldest first.
func (s *Store) AuditLog(since time.Time) ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bAudit).ForEach(func(k, v []byte) error {
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("store: audit entry %x: %w", k, err)
			}
			if since.IsZero() || !e.At.Before(since) {
				out = append(out, e)
			}
			return nil
		})
	})
	return out, err
}

// Audited is the store's writes that put an entry into the audit log in their own transaction: the
// change and its record are written together or not at all.
type Audited struct {
	s *Store
	e *AuditEntry
}

// Audited returns the writes that record e with the change they make. A nil e records nothing.
func (s *Store) Audited(e *AuditEntry) Audited { return Audited{s, e} }

// Replace is Store.Replace, audited.
func (a Audited) Replace(number string, fn func(r *Receipt) error, out ...*OutboxItem) (before, after *Receipt, err error) {
	return a.s.replace(a.e, number, fn, out)
}

// RecordWith is Store.RecordWith, audited.
func (a Audited) RecordWith(rec *Receipt, key *MessageKey, cur *Cursor, out []*OutboxItem, prepare func(*Receipt)) (number string, dup bool, err error) {
	return a.s.recordWith(a.e, rec, key, cur, out, prepare)
}

// Requeue is Store.Requeue, audited.
func (a Audited) Requeue(number string, at time.Time) (*OutboxItem, error) {
	return a.s.requeue(a.e, number, at)
}

// UpdateReceipt is Store.UpdateReceipt, audited.
func (a Audited) UpdateReceipt(number string, fn func(*Receipt) error) error {
	return a.s.updateReceipt(a.e, number, fn)
}

// Learn is Store.Learn, audited.
func (a Audited) Learn(address, unit string) error { return a.s.learn(a.e, address, unit) }

// Batch is mail to queue once, guarded by a mark (EnqueueOnceEach).
type Batch struct {
	Mark  string
	Items []*OutboxItem
}

// EnqueueOnceEach is EnqueueOnce of several batches in one transaction: each batch whose mark is not
// set yet is queued and its mark set. queued says which were. audit, when set, is called inside the
// transaction with queued, and the entry it returns (nil: none) is written to the audit log with them.
func (s *Store) EnqueueOnceEach(at time.Time, batches []Batch, audit func(queued []bool) *AuditEntry) (queued []bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		queued = make([]bool, len(batches))
		for i, b := range batches {
			if tx.Bucket(bMarks).Get([]byte(b.Mark)) != nil {
				continue
			}
			for _, it := range b.Items {
				if err := enqueue(tx, it); err != nil {
					return err
				}
			}
			if err := putMark(tx, b.Mark, at); err != nil {
				return err
			}
			queued[i] = true
		}
		if audit == nil {
			return nil
		}
		return putAudit(tx, audit(queued))
	})
	if err != nil {
		return nil, fmt.Errorf("store: queue mail: %w", err)
	}
	return queued, nil
}
