package store

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Entry is the part of a receipt that lists, filters and status need. The store keeps every receipt's
// Entry in memory, so the status of 100,000 receipts is computed without decoding them.
type Entry struct {
	Number    string
	Received  time.Time
	From      string
	FromName  string
	Subject   string
	Filenames string // the attachment names, joined by " / "
	Unit      string
	Match     string
	Campaign  string
	Period    string
	Late      bool
	Verdict   string
	Usable    bool // at least one PDF that opens
	Reply     string
	Category  string // why not a submission (Receipt.Category)
	Answered  bool   // a question the office dealt with
}

// Unassigned reports whether the receipt waits for the office to say which unit sent it (待确认,
// `briefd assign`): no unit, and a mail that is meant as a submission.
func (e *Entry) Unassigned() bool { return e.Unit == "" && e.Verdict != VerdictIgnored }

func entryOf(r *Receipt) Entry {
	names := make([]string, len(r.Attachments))
	for i, a := range r.Attachments {
		names[i] = a.Filename
	}
	return Entry{Number: r.Number, Received: r.Received, From: r.From, FromName: r.FromName, Subject: r.Subject,
		Filenames: strings.Join(names, " / "), Unit: r.Unit, Match: r.Match, Campaign: r.Campaign, Period: r.Period,
		Late: r.Late, Verdict: r.Verdict, Usable: r.Counts(), Reply: r.Reply, Category: r.Category, Answered: !r.Answered.IsZero()}
}

// index is the in-memory copy of every receipt's Entry, in number order, so a number's position is
// found by binary search. It is loaded on first use and updated when a transaction that wrote a receipt
// commits.
type index struct {
	once    sync.Once
	mu      sync.RWMutex
	loaded  bool
	entries []Entry // in number order
	version uint64  // counts the changes of entries (EntriesVersion)
	// rewritten is the version of the last change EntriesSince cannot replay (the index loaded, a number
	// put before others, too many changes); since then, every version is one entry added at the end or
	// one of changed.
	rewritten uint64
	changed   []changedEntry // the entries changed in place since rewritten, in version order
	err       error
}

// changedEntry is an entry changed in place: its position, the version of the change and what it was.
type changedEntry struct {
	version uint64
	pos     int
	before  Entry
}

// maxChanged bounds the log of entries changed in place (a recheck of every receipt changes them all):
// beyond it, EntriesSince makes its callers compute again over every entry.
const maxChanged = 4096

// find returns the position of number in the index, or where it would go.
func (x *index) find(number string) (int, bool) {
	n := len(x.entries)
	if n > 0 && CompareNumbers(x.entries[n-1].Number, number) < 0 {
		return n, false // the usual case: a new number, after all others
	}
	return slices.BinarySearchFunc(x.entries, number, func(a Entry, num string) int { return CompareNumbers(a.Number, num) })
}

// put adds or replaces e. Numbers only grow, so a new one is appended; one that sorts before the last is
// inserted in place.
func (x *index) put(e Entry) {
	x.version++
	i, ok := x.find(e.Number)
	switch {
	case ok:
		if len(x.changed) < maxChanged {
			x.changed = append(x.changed, changedEntry{x.version, i, x.entries[i]})
		} else {
			x.changed, x.rewritten = nil, x.version
		}
		x.entries[i] = e
	case i == len(x.entries):
		x.entries = append(x.entries, e)
	default:
		x.entries = slices.Insert(x.entries, i, e)
		x.changed, x.rewritten = nil, x.version // positions moved
	}
}

// set replaces the whole index with es, sorting it into number order when it is not.
func (x *index) set(es []Entry) {
	if !slices.IsSortedFunc(es, func(a, b Entry) int { return CompareNumbers(a.Number, b.Number) }) {
		// Sort positions, not the large entries, then lay the entries out in that order.
		order := make([]int32, len(es))
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortFunc(order, func(i, j int32) int { return CompareNumbers(es[i].Number, es[j].Number) })
		sorted := make([]Entry, len(es))
		for i, o := range order {
			sorted[i] = es[o]
		}
		es = sorted
	}
	x.entries = es
	x.loaded = true
	x.version++
	x.changed, x.rewritten = nil, x.version
}

// putReceipt writes a receipt and updates the index when the transaction commits.
func (s *Store) putReceipt(tx *bolt.Tx, r *Receipt) error {
	if err := putJSON(tx.Bucket(bReceipts), []byte(r.Number), r); err != nil {
		return err
	}
	e := entryOf(r)
	if err := tx.Bucket(bEntries).Put(entryKey(r.Number), appendEntry(nil, &e)); err != nil {
		return err
	}
	tx.OnCommit(func() {
		s.idx.mu.Lock()
		if s.idx.loaded {
			s.idx.put(e)
		}
		s.idx.mu.Unlock()
	})
	return nil
}

// loadIndex reads the entries bucket into the index. A database written before the bucket existed
// (or by such a briefd since) has fewer entries than receipts: the bucket is then rebuilt from the
// receipts, once, in one transaction. Receipts are counted by their numbers (the sequences bucket: one
// number for each receipt, without gaps), as counting the receipts bucket would read all of it; only
// when the entries are fewer than that are the receipts themselves counted.
func (s *Store) loadIndex() error {
	s.idx.once.Do(func() {
		var es []Entry
		stale := false
		err := s.db.View(func(tx *bolt.Tx) error {
			var numbered uint64
			tx.Bucket(bSequences).ForEach(func(_, v []byte) error {
				if len(v) == 8 {
					numbered += binary.BigEndian.Uint64(v)
				}
				return nil
			})
			es = make([]Entry, 0, min(numbered, 1<<22))
			zones := map[int]*time.Location{}
			err := tx.Bucket(bEntries).ForEach(func(k, v []byte) error {
				e, err := decodeEntry(string(v), zones) // one allocation for all the entry's strings
				if err != nil {
					return fmt.Errorf("entry %s: %w", k, err)
				}
				es = append(es, e)
				return nil
			})
			if err == nil && uint64(len(es)) < numbered {
				stale = len(es) < tx.Bucket(bReceipts).Stats().KeyN
			}
			return err
		})
		if err == nil && stale {
			es, err = s.rebuildEntries()
		}
		s.idx.mu.Lock()
		if err == nil {
			s.idx.set(es)
		}
		s.idx.err = err
		s.idx.mu.Unlock()
	})
	s.idx.mu.RLock()
	defer s.idx.mu.RUnlock()
	return s.idx.err
}

// rebuildEntries writes the entries bucket anew from every receipt and returns the entries.
func (s *Store) rebuildEntries() ([]Entry, error) {
	var es []Entry
	err := s.db.Update(func(tx *bolt.Tx) error {
		es = nil
		if err := tx.DeleteBucket(bEntries); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return err
		}
		eb, err := tx.CreateBucket(bEntries)
		if err != nil {
			return err
		}
		eb.FillPercent = 0.9 // written in key order, never split again by these keys
		rb := tx.Bucket(bReceipts)
		es = make([]Entry, 0, rb.Stats().KeyN)
		return rb.ForEach(func(k, v []byte) error {
			var r Receipt
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("receipt %s: %w", k, err)
			}
			e := entryOf(&r)
			es = append(es, e)
			return eb.Put(entryKey(e.Number), appendEntry(nil, &e)) // bbolt keeps the value until the commit
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: rebuild the entries: %w", err)
	}
	return es, nil
}

// Entries returns the Entry of every receipt that keep accepts (all when nil), in number order.
func (s *Store) Entries(keep func(*Entry) bool) ([]Entry, error) {
	if err := s.loadIndex(); err != nil {
		return nil, err
	}
	s.idx.mu.RLock()
	defer s.idx.mu.RUnlock()
	if keep == nil {
		return slices.Clone(s.idx.entries), nil
	}
	var out []Entry
	for i := range s.idx.entries {
		out = append(out, s.idx.entries[i]) // keep sees the copy in out, so the index cannot be changed through it
		if !keep(&out[len(out)-1]) {
			out = out[:len(out)-1]
		}
	}
	return out, nil
}

// EntriesVersion changes whenever an Entry is added or changed: what Entries returns is the same as long
// as it does not (for caches of what is computed from all of them).
func (s *Store) EntriesVersion() (uint64, error) {
	if err := s.loadIndex(); err != nil {
		return 0, err
	}
	s.idx.mu.RLock()
	defer s.idx.mu.RUnlock()
	return s.idx.version, nil
}

// EachEntry calls fn with the Entry of every receipt, in number order, and returns the EntriesVersion
// they are of. fn reads the index in place, under its lock: it must not keep the pointer, change the
// Entry or call the store. It is Entries without the copy, for what is computed over every receipt.
func (s *Store) EachEntry(fn func(*Entry)) (uint64, error) {
	if err := s.loadIndex(); err != nil {
		return 0, err
	}
	s.idx.mu.RLock()
	defer s.idx.mu.RUnlock()
	for i := range s.idx.entries {
		fn(&s.idx.entries[i])
	}
	return s.idx.version, nil
}

// EntriesSince brings what was computed from the entries as of EntriesVersion since up to date. It
// calls fn(before, now) for each entry changed since then (before: as it was at since; now: as it is),
// then fn(nil, now) for each entry added since, in number order, and returns the version they bring it
// to and true. When fn returns false (the change matters and cannot be applied), or when the changes
// since cannot be told (since is not a recent version of this index, or a receipt was numbered before
// others), it stops and returns false: the caller computes again over every entry (EachEntry). fn is
// held as EachEntry's.
func (s *Store) EntriesSince(since uint64, fn func(before, now *Entry) bool) (version uint64, ok bool, err error) {
	if err := s.loadIndex(); err != nil {
		return 0, false, err
	}
	s.idx.mu.RLock()
	defer s.idx.mu.RUnlock()
	x := &s.idx
	if since < x.rewritten || since > x.version {
		return x.version, false, nil
	}
	first, _ := slices.BinarySearchFunc(x.changed, since+1, func(c changedEntry, v uint64) int { return cmp.Compare(c.version, v) })
	changes := x.changed[first:]
	added := int(x.version-since) - len(changes) // every other version added one entry at the end
	if added < 0 || added > len(x.entries) {
		return x.version, false, nil
	}
	old := len(x.entries) - added // the entries at since; after them, the ones added
	seen := map[int]bool{}
	for i := range changes {
		c := &changes[i]
		if c.pos >= old || seen[c.pos] {
			continue // an entry added since (given as it is now), or changed again (its first change holds it as it was)
		}
		seen[c.pos] = true
		if !fn(&c.before, &x.entries[c.pos]) {
			return x.version, false, nil
		}
	}
	for i := old; i < len(x.entries); i++ {
		if !fn(nil, &x.entries[i]) {
			return x.version, false, nil
		}
	}
	return x.version, true, nil
}

// entryKey is a receipt's key in the entries bucket: its number with the length of the sequence put
// before the sequence, so that the bucket's byte order is number order (JB2026-\x049999 before
// JB2026-\x0510000) and the loaded index needs no sort.
func entryKey(number string) []byte {
	i := strings.LastIndexByte(number, '-')
	if i < 0 || len(number)-i-1 > 255 {
		return []byte(number)
	}
	k := make([]byte, 0, len(number)+1)
	k = append(k, number[:i+1]...)
	k = append(k, byte(len(number)-i-1))
	return append(k, number[i+1:]...)
}

// numberLess orders receipt numbers by prefix and year, then by sequence (JB2026-10000 after JB2026-9999).
func numberLess(a, b string) bool { return CompareNumbers(a, b) < 0 }

// CompareNumbers orders receipt numbers by prefix and year, then by sequence (JB2026-10000 after
// JB2026-9999), as a three-way comparison.
func CompareNumbers(a, b string) int {
	ai, bi := strings.LastIndexByte(a, '-'), strings.LastIndexByte(b, '-')
	if ai >= 0 && bi >= 0 && a[:ai] == b[:bi] {
		if la, lb := len(a)-ai, len(b)-bi; la != lb {
			if la < lb {
				return -1
			}
			return 1
		}
	}
	return strings.Compare(a, b)
}
