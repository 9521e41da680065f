// Package store keeps briefd's state in one bbolt file: receipts and their indexes, mailbox cursors, the
// outbox of mail to send, marks of scheduled jobs and addresses learned by hand. It also keeps the
// on-disk archive of accepted PDFs and raw mails (archive.go).
package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout version written into new databases. Every change of the stored layout
// bumps it and adds a migration from the version before; an older briefd refuses a newer database.
//
//	1  the first layout
//	2  fingerprints bucket; receipts carry their mail's fingerprint (Message-ID reuse); receipts say
//	   why a mail is no submission (category, text, answered); entries carry category and answered
//	3  campaigns, units and audit buckets (what the office changes at run time, and the log of every
//	   change); receipts registered by hand (manual)
const SchemaVersion = 3

// migrations[v] turns a database of schema v into one of schema v+1, inside one transaction in which
// every bucket of allBuckets exists.
var migrations = map[int]func(tx *bolt.Tx) error{
	// Receipts of schema 1 have no fingerprint; their Message-IDs keep deciding alone (RecordWith).
	// Entries gained Category and Answered: they are rebuilt from the receipts at the next load.
	1: func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bEntries); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bEntries)
		return err
	},
	// The new buckets are created before the migrations run; receipts gained an optional field.
	2: func(tx *bolt.Tx) error { return nil },
}

var (
	bMeta      = []byte("meta")
	bReceipts  = []byte("receipts")     // number -> Receipt JSON
	bEntries   = []byte("entries")      // number -> the receipt's Entry, binary (entrycodec.go)
	bMsgKeys   = []byte("msgkeys")      // mailbox\x00uidvalidity\x00uid -> number
	bMsgIDs    = []byte("messageids")   // Message-ID -> number
	bCursors   = []byte("cursors")      // mailbox -> Cursor JSON
	bOutbox    = []byte("outbox")       // big-endian id -> OutboxItem JSON
	bMarks     = []byte("marks")        // name -> RFC 3339 time
	bLearned   = []byte("learned")      // address -> unit id
	bSequences = []byte("sequences")    // year -> last receipt sequence
	bHashes    = []byte("hashes")       // unit\x00campaign\x00period\x00sha256 -> first receipt with that file
	bPrints    = []byte("fingerprints") // mail fingerprint -> number
	bCampaigns = []byte("campaigns")    // id -> CampaignRecord JSON: campaigns added at run time
	bUnits     = []byte("units")        // id -> UnitRecord JSON: units added or changed at run time
	bAudit     = []byte("audit")        // big-endian sequence -> AuditEntry JSON
	allBuckets = [][]byte{bMeta, bReceipts, bEntries, bMsgKeys, bMsgIDs, bCursors, bOutbox, bMarks, bLearned, bSequences, bHashes, bPrints,
		bCampaigns, bUnits, bAudit}
)

// Errors callers branch on.
var (
	ErrInUse    = errors.New("database is in use by another briefd")
	ErrNotFound = errors.New("not found")
)

// Options configure a Store.
type Options struct {
	// Prefix starts every receipt number ("JB" gives JB2026-0001). Default "JB".
	Prefix string
	// Location is the office time zone; the receipt year is the year of Received there. Default time.Local.
	Location *time.Location
	// LockTimeout bounds the wait for the file lock. Default 1s.
	LockTimeout time.Duration
}

// Store is the open database.
type Store struct {
	db   *bolt.DB
	opts Options
	lock string
	idx  index
}

// Open opens or creates the database at path (mode 0600, its folder 0700). A second process opening the
// same file fails at once with ErrInUse naming the holder's pid.
func Open(path string, opts Options) (*Store, error) {
	if opts.Prefix == "" {
		opts.Prefix = "JB"
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: create folder for %s: %w", path, err)
	}
	lock := path + ".pid"
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		pid := "unknown"
		if b, rerr := os.ReadFile(lock); rerr == nil {
			pid = strings.TrimSpace(string(b))
		}
		return nil, fmt.Errorf("%w (pid %s): %s", ErrInUse, pid, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := os.WriteFile(lock, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: write %s: %w", lock, err)
	}
	s := &Store{db: db, opts: opts, lock: lock}
	if err := s.migrate(); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

// migrate brings the database to SchemaVersion: a new one is set up; an older one is first copied to
// <path>.schema<N>.bak, then migrated in one transaction; a newer one is refused.
func (s *Store) migrate() error {
	var schema int
	if err := s.db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bMeta); meta != nil {
			if v := meta.Get([]byte("schema")); v != nil {
				n, err := strconv.Atoi(string(v))
				if err != nil || n < 1 {
					return fmt.Errorf("unreadable schema version %q", v)
				}
				schema = n
			}
		}
		return nil
	}); err != nil {
		return err
	}
	switch {
	case schema > SchemaVersion:
		return fmt.Errorf("database schema %d is newer than this briefd understands (%d): install the briefd that wrote it",
			schema, SchemaVersion)
	case schema > 0 && schema < SchemaVersion:
		backup := fmt.Sprintf("%s.schema%d.bak", s.Path(), schema)
		if _, err := s.BackupFile(backup); err != nil {
			return fmt.Errorf("backup before migrating from schema %d: %w", schema, err)
		}
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if schema > 0 { // 0: a new database
			for v := schema; v < SchemaVersion; v++ {
				if err := migrations[v](tx); err != nil {
					return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
				}
			}
		}
		return tx.Bucket(bMeta).Put([]byte("schema"), []byte(strconv.Itoa(SchemaVersion)))
	})
}

// Schema returns the database's schema version.
func (s *Store) Schema() (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = strconv.Atoi(string(tx.Bucket(bMeta).Get([]byte("schema"))))
		return err
	})
	return n, err
}

// Close closes the database.
func (s *Store) Close() error {
	err := s.db.Close()
	os.Remove(s.lock)
	return err
}

// Path is the database file.
func (s *Store) Path() string { return s.db.Path() }

// Backup writes a consistent copy of the database to w while others keep using it.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// BackupFile writes a consistent copy to path atomically (temp file, fsync, rename), mode 0600.
func (s *Store) BackupFile(path string) (int64, error) {
	var n int64
	err := WriteFileAtomic(path, 0o600, func(w io.Writer) error {
		var err error
		n, err = s.Backup(w)
		return err
	})
	return n, err
}

// MessageKey identifies one message in one mailbox generation.
type MessageKey struct {
	Mailbox     string
	UIDValidity uint32
	UID         uint32
}

func (k MessageKey) bytes() []byte {
	return []byte(fmt.Sprintf("%s\x00%010d\x00%010d", k.Mailbox, k.UIDValidity, k.UID))
}

// Cursor is how far a mailbox has been read.
type Cursor struct {
	Mailbox     string `json:"mailbox"`
	UIDValidity uint32 `json:"uidvalidity"`
	LastUID     uint32 `json:"last_uid"`
}

// Cursor returns the mailbox's cursor; the zero Cursor when it was never read.
func (s *Store) Cursor(mailbox string) (Cursor, error) {
	c := Cursor{Mailbox: mailbox}
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bCursors).Get([]byte(mailbox))
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, &c)
	})
	return c, err
}

// SetCursor moves the mailbox's cursor, for messages that leave no receipt. Like Record it only moves
// forward within one UIDVALIDITY; a new UIDVALIDITY replaces the cursor (a rescan).
func (s *Store) SetCursor(c Cursor) error {
	return s.db.Update(func(tx *bolt.Tx) error { return advanceCursor(tx, &c) })
}

// Record is the commit point for one message: in one transaction it numbers and writes the receipt, its
// indexes, the mailbox cursor (when cur is not nil and moves forward) and the reply (when reply is not
// nil). rec.Number and reply.ID/Receipt are filled in. A message already recorded under the same key or
// mail (fingerprint, or Message-ID without one) is not recorded again: Record returns the earlier
// number and dup true.
func (s *Store) Record(rec *Receipt, key *MessageKey, cur *Cursor, reply *OutboxItem) (number string, dup bool, err error) {
	var out []*OutboxItem
	if reply != nil {
		out = append(out, reply)
	}
	return s.RecordWith(rec, key, cur, out, nil)
}

// RecordWith is Record with any number of outbox items about the receipt (a reply, an alert to the
// office; each gets the receipt's number, a reply without To goes to the sender) and a hook: prepare
// runs inside the transaction once rec.Number is known (to name archive files after it) and must not
// have side effects outside rec.
func (s *Store) RecordWith(rec *Receipt, key *MessageKey, cur *Cursor, out []*OutboxItem, prepare func(*Receipt)) (number string, dup bool, err error) {
	return s.recordWith(nil, rec, key, cur, out, prepare)
}

// recordWith is RecordWith writing audit (when not nil) in the same transaction; an entry without a
// Target names the new receipt.
func (s *Store) recordWith(audit *AuditEntry, rec *Receipt, key *MessageKey, cur *Cursor, out []*OutboxItem, prepare func(*Receipt)) (number string, dup bool, err error) {
	r := &Recording{Receipt: rec, Key: key, Cursor: cur, Out: out, Prepare: prepare}
	if err := s.recordBatch(audit, []*Recording{r}); err != nil {
		return "", false, err
	}
	return r.Number, r.Dup, nil
}

// Recording is one receipt of RecordBatch: the arguments of RecordWith, and what it returns. Without a
// Receipt it only moves the cursor forward (a message recorded before, or one left alone).
type Recording struct {
	Receipt *Receipt
	Key     *MessageKey
	Cursor  *Cursor
	Out     []*OutboxItem
	Prepare func(*Receipt)

	Number string // set by RecordBatch: the receipt's number, or the earlier one's when Dup
	Dup    bool
}

// RecordBatch records several messages in one transaction, each as RecordWith records it and in the
// order given (a later one is a duplicate of an earlier one of the same batch as of one recorded
// before): all of them or, on an error, none. One commit, so one set of disk flushes, for the batch;
// what a crash leaves is as if the batch had not been handed over. A cursor in the batch moves only
// forward, so give the recordings in mailbox order.
func (s *Store) RecordBatch(rs []*Recording) error { return s.recordBatch(nil, rs) }

func (s *Store) recordBatch(audit *AuditEntry, rs []*Recording) error {
	if len(rs) == 0 {
		return nil
	}
	err := s.update(audit, func(tx *bolt.Tx) error {
		for _, r := range rs {
			if err := s.recordTx(tx, r); err != nil {
				return err
			}
			if audit != nil && audit.Target == "" && r.Receipt != nil && !r.Dup {
				audit.Target = r.Number // an entry about a new receipt names it
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record message: %w", err)
	}
	return nil
}

// recordTx is RecordWith's work inside the transaction tx.
func (s *Store) recordTx(tx *bolt.Tx, r *Recording) error {
	rec, key, cur := r.Receipt, r.Key, r.Cursor
	r.Number, r.Dup = "", false
	if rec == nil {
		return advanceCursor(tx, cur)
	}
	if key != nil {
		if v := tx.Bucket(bMsgKeys).Get(key.bytes()); v != nil {
			r.Number, r.Dup = string(v), true
		}
	}
	if !r.Dup && rec.Fingerprint != "" {
		if v := tx.Bucket(bPrints).Get([]byte(rec.Fingerprint)); v != nil {
			r.Number, r.Dup = string(v), true
		}
	}
	if !r.Dup && rec.MessageID != "" {
		if v := tx.Bucket(bMsgIDs).Get([]byte(rec.MessageID)); v != nil {
			// The same Message-ID: the same mail, unless both fingerprints say otherwise (a
			// receipt of schema 1, or a caller without a fingerprint, keeps the Message-ID rule).
			var prev Receipt
			if err := getJSON(tx.Bucket(bReceipts), v, &prev); err != nil {
				return err
			}
			if prev.Fingerprint == "" || rec.Fingerprint == "" {
				r.Number, r.Dup = string(v), true
			} else {
				rec.SharesMessageID = string(v)
			}
		}
	}
	if r.Dup {
		if key != nil {
			if err := tx.Bucket(bMsgKeys).Put(key.bytes(), []byte(r.Number)); err != nil {
				return err
			}
		}
		return advanceCursor(tx, cur)
	}
	n, err := s.nextNumber(tx, rec.Received)
	if err != nil {
		return err
	}
	rec.Number = n
	if r.Prepare != nil {
		r.Prepare(rec)
	}
	if err := indexHashes(tx, rec); err != nil {
		return err
	}
	for _, it := range r.Out {
		it.Receipt = n
		if it.Kind == KindReply {
			if it.To == "" {
				it.To = rec.From
			}
			rec.Reply = ReplyQueued
		}
		if err := enqueue(tx, it); err != nil {
			return err
		}
	}
	if err := s.putReceipt(tx, rec); err != nil {
		return err
	}
	if key != nil {
		if err := tx.Bucket(bMsgKeys).Put(key.bytes(), []byte(n)); err != nil {
			return err
		}
	}
	if rec.MessageID != "" && rec.SharesMessageID == "" {
		if err := tx.Bucket(bMsgIDs).Put([]byte(rec.MessageID), []byte(n)); err != nil {
			return err
		}
	}
	if rec.Fingerprint != "" {
		if err := tx.Bucket(bPrints).Put([]byte(rec.Fingerprint), []byte(n)); err != nil {
			return err
		}
	}
	r.Number = n
	return advanceCursor(tx, cur)
}

func hashKey(unit, campaign, period, sha string) []byte {
	return []byte(unit + "\x00" + campaign + "\x00" + period + "\x00" + sha)
}

// indexHashes remembers the usable files of a receipt, so the same file sent again is noticed.
func indexHashes(tx *bolt.Tx, rec *Receipt) error {
	if rec.Unit == "" || rec.Campaign == "" {
		return nil
	}
	b := tx.Bucket(bHashes)
	for _, a := range rec.Attachments {
		if !a.OK() || a.SHA256 == "" || a.DuplicateOf != "" {
			continue
		}
		k := hashKey(rec.Unit, rec.Campaign, rec.Period, a.SHA256)
		if b.Get(k) == nil {
			if err := b.Put(k, []byte(rec.Number)); err != nil {
				return err
			}
		}
	}
	return nil
}

// LookupFile returns the receipt that first brought a file with this SHA-256 from the unit for the period.
func (s *Store) LookupFile(unit, campaign, period, sha string) (string, bool, error) {
	return s.lookup(bHashes, hashKey(unit, campaign, period, sha))
}

func advanceCursor(tx *bolt.Tx, cur *Cursor) error {
	if cur == nil {
		return nil
	}
	b := tx.Bucket(bCursors)
	var old Cursor
	if v := b.Get([]byte(cur.Mailbox)); v != nil {
		if err := json.Unmarshal(v, &old); err != nil {
			return err
		}
		if old.UIDValidity == cur.UIDValidity && old.LastUID >= cur.LastUID {
			return nil
		}
	}
	return putJSON(b, []byte(cur.Mailbox), cur)
}

// nextNumber allocates the next receipt number of the year of t; it must run in the transaction that
// writes the receipt, so numbers are unique and without gaps.
func (s *Store) nextNumber(tx *bolt.Tx, t time.Time) (string, error) {
	year := strconv.Itoa(t.In(s.opts.Location).Year())
	b := tx.Bucket(bSequences)
	var n uint64
	if v := b.Get([]byte(year)); v != nil {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	if err := b.Put([]byte(year), binary.BigEndian.AppendUint64(nil, n)); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%s-%04d", s.opts.Prefix, year, n), nil
}

// LookupMessage returns the receipt number recorded for a message key.
func (s *Store) LookupMessage(key MessageKey) (string, bool, error) {
	return s.lookup(bMsgKeys, key.bytes())
}

// LookupMessageID returns the receipt number recorded for a Message-ID.
func (s *Store) LookupMessageID(id string) (string, bool, error) {
	if id == "" {
		return "", false, nil
	}
	return s.lookup(bMsgIDs, []byte(id))
}

func (s *Store) lookup(bucket, key []byte) (string, bool, error) {
	var out string
	err := s.db.View(func(tx *bolt.Tx) error {
		out = string(tx.Bucket(bucket).Get(key))
		return nil
	})
	return out, out != "", err
}

// Receipt returns one receipt.
func (s *Store) Receipt(number string) (*Receipt, error) {
	var r Receipt
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bReceipts).Get([]byte(number))
		if v == nil {
			return fmt.Errorf("receipt %s: %w", number, ErrNotFound)
		}
		return json.Unmarshal(v, &r)
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// EachReceipt calls fn for every receipt in number order until fn returns false.
func (s *Store) EachReceipt(fn func(*Receipt) bool) error {
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bReceipts).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var r Receipt
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("store: receipt %s: %w", k, err)
			}
			if !fn(&r) {
				return nil
			}
		}
		return nil
	})
}

// Receipts returns every receipt that keep accepts (all when keep is nil), in number order.
func (s *Store) Receipts(keep func(*Receipt) bool) ([]*Receipt, error) {
	var out []*Receipt
	err := s.EachReceipt(func(r *Receipt) bool {
		if keep == nil || keep(r) {
			out = append(out, r)
		}
		return true
	})
	return out, err
}

// UpdateReceipt changes a receipt in place in one transaction.
func (s *Store) UpdateReceipt(number string, fn func(*Receipt) error) error {
	return s.updateReceipt(nil, number, fn)
}

func (s *Store) updateReceipt(audit *AuditEntry, number string, fn func(*Receipt) error) error {
	return s.update(audit, func(tx *bolt.Tx) error {
		b := tx.Bucket(bReceipts)
		v := b.Get([]byte(number))
		if v == nil {
			return fmt.Errorf("receipt %s: %w", number, ErrNotFound)
		}
		var r Receipt
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		r.Number = number
		return s.putReceipt(tx, &r)
	})
}

// Replace changes where a receipt belongs (its unit, campaign or period, its attachments' verdicts or
// archive paths: `assign`, `recheck`) in one transaction that keeps the duplicate index true: the
// receipt's files are taken out of the index, fn changes the receipt, then each usable file is marked
// DuplicateOf the first receipt that brought it to the new place, or indexed as that first receipt
// itself. The outbox items out (a corrected reply) are queued in the same transaction. fn must have no
// side effects outside r. It returns the receipt as it was and as it is now.
func (s *Store) Replace(number string, fn func(r *Receipt) error, out ...*OutboxItem) (before, after *Receipt, err error) {
	return s.replace(nil, number, fn, out)
}

func (s *Store) replace(audit *AuditEntry, number string, fn func(r *Receipt) error, out []*OutboxItem) (before, after *Receipt, err error) {
	err = s.update(audit, func(tx *bolt.Tx) error {
		var r Receipt
		if err := getJSON(tx.Bucket(bReceipts), []byte(number), &r); err != nil {
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("receipt %s: %w", number, ErrNotFound)
			}
			return err
		}
		old := r
		old.Attachments = slices.Clone(r.Attachments)
		before = &old
		if err := unindexHashes(tx, &r); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		r.Number = number
		r.DuplicateOf = ""
		usable, dups := 0, 0
		for i := range r.Attachments {
			a := &r.Attachments[i]
			a.DuplicateOf = ""
			if !a.OK() || a.SHA256 == "" || r.Unit == "" || r.Campaign == "" {
				continue
			}
			usable++
			if v := tx.Bucket(bHashes).Get(hashKey(r.Unit, r.Campaign, r.Period, a.SHA256)); v != nil && string(v) != number {
				a.DuplicateOf = string(v)
				dups++
				if r.DuplicateOf == "" {
					r.DuplicateOf = a.DuplicateOf
				}
			}
		}
		if usable == 0 || dups < usable {
			r.DuplicateOf = ""
		}
		if err := indexHashes(tx, &r); err != nil {
			return err
		}
		for _, it := range out {
			it.Receipt = number
			if err := enqueue(tx, it); err != nil {
				return err
			}
			if it.Kind == KindReply {
				r.Reply, r.ReplyNote = ReplyQueued, ""
			}
		}
		after = &r
		return s.putReceipt(tx, &r)
	})
	if err != nil {
		return nil, nil, err
	}
	return before, after, nil
}

// unindexHashes takes out of the duplicate index the entries that point at r.
func unindexHashes(tx *bolt.Tx, r *Receipt) error {
	if r.Unit == "" || r.Campaign == "" {
		return nil
	}
	b := tx.Bucket(bHashes)
	for _, a := range r.Attachments {
		k := hashKey(r.Unit, r.Campaign, r.Period, a.SHA256)
		if a.SHA256 != "" && string(b.Get(k)) == r.Number {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// Mark returns when the named job last ran.
func (s *Store) Mark(name string) (time.Time, bool, error) {
	var t time.Time
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bMarks).Get([]byte(name))
		if v == nil {
			return nil
		}
		ok = true
		return t.UnmarshalText(v)
	})
	return t, ok, err
}

// SetMark records that the named job ran at t.
func (s *Store) SetMark(name string, t time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putMark(tx, name, t) })
}

func putMark(tx *bolt.Tx, name string, t time.Time) error {
	v, err := t.MarshalText()
	if err != nil {
		return err
	}
	return tx.Bucket(bMarks).Put([]byte(name), v)
}

// Learn registers an address for a unit (from `assign -learn`); it takes effect at the next roster load.
func (s *Store) Learn(address, unit string) error { return s.learn(nil, address, unit) }

func (s *Store) learn(audit *AuditEntry, address, unit string) error {
	return s.update(audit, func(tx *bolt.Tx) error {
		return tx.Bucket(bLearned).Put([]byte(strings.ToLower(strings.TrimSpace(address))), []byte(unit))
	})
}

// Learned returns the addresses registered with Learn, address -> unit id.
func (s *Store) Learned() (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bLearned).ForEach(func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		})
	})
	return out, err
}

func getJSON(b *bolt.Bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return fmt.Errorf("%s %s: %w", b.Tx().DB().Path(), key, ErrNotFound)
	}
	return json.Unmarshal(data, v)
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return b.Put(key, bytes.TrimRight(buf.Bytes(), "\n"))
}
