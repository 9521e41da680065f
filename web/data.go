package web

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"briefd/roster"
	"briefd/store"
)

// snapshot is one computed view of every receipt: what the overview, the lists and /metrics need. Reading
// and decoding every receipt is the expensive part of a page (15-50 µs a receipt), so a snapshot is shared
// by later requests while the database file has not changed and it is younger than Options.CacheFor.
// When the file changed (new mail) or it is older, requests still get it while a new one is built in the
// background, up to 10×CacheFor; the dashboard's own actions drop it, so their effect shows at once.
type snapshot struct {
	built    time.Time
	version  string // storeVersion when it was built
	ros      *roster.Roster
	newest   []*store.Receipt // newest first (by Received, then number)
	search   []string         // lower-cased subject, sender, filenames, number; parallel to newest
	pending  []*store.Receipt // unit == "" and not ignored, newest first
	status   []roster.PeriodStatus
	verdicts map[string]int
}

func (s *Server) snapshot() (*snapshot, error) {
	ros := s.o.Roster()
	if ros == nil {
		return nil, fmt.Errorf("web: no roster")
	}
	now := s.o.Now()
	s.mu.Lock()
	sn := s.snap
	s.mu.Unlock()
	if sn != nil && sn.ros == ros && s.o.CacheFor > 0 && !now.Before(sn.built) {
		age := now.Sub(sn.built)
		fresh := age < s.o.CacheFor && sn.version != "" && sn.version == s.storeVersion()
		if fresh {
			return sn, nil
		}
		// Stale but recent: answer with it and read the store again in the background, so that a mail
		// arriving does not make the next page wait for every receipt to be decoded.
		if age < 10*s.o.CacheFor {
			s.refresh()
			return sn, nil
		}
	}
	return s.rebuild(ros)
}

// rebuild reads every receipt now. One build runs at a time; requests that waited for it use its result.
func (s *Server) rebuild(ros *roster.Roster) (*snapshot, error) {
	s.mu.Lock()
	gen := s.builds
	s.mu.Unlock()
	s.build.Lock()
	defer s.build.Unlock()
	s.mu.Lock()
	sn := s.snap
	again := s.builds != gen
	s.mu.Unlock()
	if again && sn != nil && sn.ros == ros { // built while this request waited
		return sn, nil
	}
	ver := s.storeVersion() // before reading: a write during the build makes the next request build again
	sn, err := buildSnapshot(s.st, ros, s.o.Now())
	if err != nil {
		return nil, err
	}
	sn.version = ver
	s.mu.Lock()
	s.snap = sn
	s.builds++
	s.mu.Unlock()
	return sn, nil
}

// refresh starts a background rebuild unless one is running.
func (s *Server) refresh() {
	s.mu.Lock()
	if s.refreshing {
		s.mu.Unlock()
		return
	}
	s.refreshing = true
	s.mu.Unlock()
	go func() {
		defer func() {
			s.mu.Lock()
			s.refreshing = false
			s.mu.Unlock()
		}()
		if _, err := s.rebuild(s.o.Roster()); err != nil {
			s.log.Warn("web: reading receipts", "err", err)
		}
	}()
}

// storeVersion changes whenever the database is written: every bbolt commit writes the file, which moves
// its modification time. Read before a snapshot is built, a write during the build makes the next request
// build again. "" when the file cannot be read (never cached).
func (s *Server) storeVersion() string {
	st, err := os.Stat(s.st.Path())
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d/%d", st.ModTime().UnixNano(), st.Size())
}

// Warm builds the view of all receipts ahead of the first request (ListenAndServe calls it).
func (s *Server) Warm() error {
	_, err := s.snapshot()
	return err
}

// dropSnapshot makes the next request read the store again (after assign and resend).
func (s *Server) dropSnapshot() {
	s.mu.Lock()
	s.snap = nil
	s.mu.Unlock()
}

func buildSnapshot(st *store.Store, ros *roster.Roster, now time.Time) (*snapshot, error) {
	sn := &snapshot{built: now, ros: ros, verdicts: map[string]int{}}
	var subs []roster.Submission
	err := st.EachReceipt(func(r *store.Receipt) bool {
		sn.newest = append(sn.newest, r)
		sn.verdicts[r.Verdict]++
		if r.Unit != "" && r.Campaign != "" && r.Verdict != store.VerdictIgnored {
			subs = append(subs, roster.Submission{Receipt: r.Number, Unit: r.Unit, Campaign: r.Campaign,
				Period: r.Period, At: r.Received, Usable: r.Counts()})
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(sn.newest, func(a, b *store.Receipt) int {
		if c := b.Received.Compare(a.Received); c != 0 {
			return c
		}
		return strings.Compare(b.Number, a.Number)
	})
	sn.search = make([]string, len(sn.newest))
	var sb strings.Builder
	for i, r := range sn.newest {
		sb.Reset()
		sb.WriteString(r.Number)
		sb.WriteByte('\n')
		sb.WriteString(r.Subject)
		sb.WriteByte('\n')
		sb.WriteString(r.From)
		sb.WriteByte('\n')
		sb.WriteString(r.FromName)
		for _, a := range r.Attachments {
			sb.WriteByte('\n')
			sb.WriteString(a.Filename)
		}
		sn.search[i] = strings.ToLower(sb.String())
		if r.Unit == "" && r.Verdict != store.VerdictIgnored {
			sn.pending = append(sn.pending, r)
		}
	}
	sn.status = ros.Status(subs, "", now)
	return sn, nil
}

// filter is the query of 收件记录.
type filter struct {
	Campaign string // id, "none" for no campaign, "" for all
	Unit     string // id, "none" for no unit, "" for all
	Verdict  string
	From, To string // YYYY-MM-DD, inclusive, office time zone
	Q        string
	Page     int
}

// query returns the query string of f (without the page), for links to other pages of the result.
func (f filter) query(page int) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+url.QueryEscape(v))
		}
	}
	add("campaign", f.Campaign)
	add("unit", f.Unit)
	add("verdict", f.Verdict)
	add("from", f.From)
	add("to", f.To)
	add("q", f.Q)
	if page > 1 {
		parts = append(parts, fmt.Sprintf("page=%d", page))
	}
	return strings.Join(parts, "&")
}

// apply returns the receipts of sn that f selects, newest first.
func (f filter) apply(sn *snapshot, loc *time.Location) []*store.Receipt {
	var from, to time.Time
	if d, err := roster.ParseDate(f.From); err == nil && f.From != "" {
		from = d.Start(loc)
	}
	if d, err := roster.ParseDate(f.To); err == nil && f.To != "" {
		to = d.End(loc)
	}
	q := strings.ToLower(strings.TrimSpace(f.Q))
	var out []*store.Receipt
	for i, r := range sn.newest {
		switch {
		case f.Campaign == "none" && r.Campaign != "",
			f.Campaign != "" && f.Campaign != "none" && r.Campaign != f.Campaign,
			f.Unit == "none" && r.Unit != "",
			f.Unit != "" && f.Unit != "none" && r.Unit != f.Unit,
			f.Verdict != "" && r.Verdict != f.Verdict,
			!from.IsZero() && r.Received.Before(from),
			!to.IsZero() && !r.Received.Before(to),
			q != "" && !strings.Contains(sn.search[i], q):
			continue
		}
		out = append(out, r)
	}
	return out
}
