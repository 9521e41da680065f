package store

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
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
}

func entryOf(r *Receipt) Entry {
	names := make([]string, len(r.Attachments))
	for i, a := range r.Attachments {
		names[i] = a.Filename
	}
	return Entry{Number: r.Number, Received: r.Received, From: r.From, FromName: r.FromName, Subject: r.Subject,
		Filenames: strings.Join(names, " / "), Unit: r.Unit, Match: r.Match, Campaign: r.Campaign, Period: r.Period,
		Late: r.Late, Verdict: r.Verdict, Usable: r.Counts(), Reply: r.Reply}
}

// index is the in-memory copy of every receipt's Entry. It is loaded on first use and updated when a
// transaction that wrote a receipt commits.
type index struct {
	once    sync.Once
	mu      sync.RWMutex
	entries map[string]Entry
	err     error
}

// putReceipt writes a receipt and updates the index when the transaction commits.
func (s *Store) putReceipt(tx *bolt.Tx, r *Receipt) error {
	if err := putJSON(tx.Bucket(bReceipts), []byte(r.Number), r); err != nil {
		return err
	}
	e := entryOf(r)
	tx.OnCommit(func() {
		s.idx.mu.Lock()
		if s.idx.entries != nil {
			s.idx.entries[e.Number] = e
		}
		s.idx.mu.Unlock()
	})
	return nil
}

func (s *Store) loadIndex() error {
	s.idx.once.Do(func() {
		m := map[string]Entry{}
		err := s.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bReceipts).ForEach(func(k, v []byte) error {
				var r Receipt
				if err := json.Unmarshal(v, &r); err != nil {
					return err
				}
				m[string(k)] = entryOf(&r)
				return nil
			})
		})
		s.idx.mu.Lock()
		s.idx.entries, s.idx.err = m, err
		s.idx.mu.Unlock()
	})
	s.idx.mu.RLock()
	defer s.idx.mu.RUnlock()
	return s.idx.err
}

// Entries returns the Entry of every receipt that keep accepts (all when nil), in number order.
func (s *Store) Entries(keep func(*Entry) bool) ([]Entry, error) {
	if err := s.loadIndex(); err != nil {
		return nil, err
	}
	s.idx.mu.RLock()
	var out []Entry
	if keep == nil {
		out = make([]Entry, 0, len(s.idx.entries))
	}
	for _, e := range s.idx.entries {
		out = append(out, e) // keep sees the copy in out, so e does not escape
		if keep != nil && !keep(&out[len(out)-1]) {
			out = out[:len(out)-1]
		}
	}
	s.idx.mu.RUnlock()
	slices.SortFunc(out, func(a, b Entry) int {
		switch {
		case numberLess(a.Number, b.Number):
			return -1
		case numberLess(b.Number, a.Number):
			return 1
		}
		return 0
	})
	return out, nil
}

// numberLess orders receipt numbers by prefix and year, then by sequence (JB2026-10000 after JB2026-9999).
func numberLess(a, b string) bool {
	ai, bi := strings.LastIndexByte(a, '-'), strings.LastIndexByte(b, '-')
	if ai < 0 || bi < 0 || a[:ai] != b[:bi] {
		return a < b
	}
	if la, lb := len(a)-ai, len(b)-bi; la != lb {
		return la < lb
	}
	return a < b
}
