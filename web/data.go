package web

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"briefd/roster"
	"briefd/store"
)

// Every page computes what it shows from the store's in-memory index of receipts on each request, so a
// page is never older than the last commit. Only 回执详情 and the downloads read a whole receipt.
//
// scan reads the index through store.Entries' keep function and keeps nothing there: Entries would sort
// what it returns by number (reflection swaps of the whole Entry, about 15 ms for 20,000), an order the
// lists do not use. keep runs while the store holds the index's lock, which delays the intake's commits,
// so the visitors here only compare fields and copy; the text search runs on the copies afterwards.

// scan calls visit with every receipt's Entry, in no particular order. e is valid only during the call.
func (s *Server) scan(visit func(e *store.Entry)) error {
	_, err := s.st.Entries(func(e *store.Entry) bool {
		visit(e)
		return false
	})
	return err
}

// copies holds copies of entries in blocks, so that adding one never moves the others (with 20,000
// receipts, growing one slice copied them all twice over).
type copies struct {
	blocks [][]store.Entry
	all    []*store.Entry // in the order added
}

func (c *copies) add(e *store.Entry) {
	n := len(c.blocks)
	if n == 0 || len(c.blocks[n-1]) == cap(c.blocks[n-1]) {
		c.blocks = append(c.blocks, make([]store.Entry, 0, 512))
		n++
	}
	b := &c.blocks[n-1]
	*b = append(*b, *e)
	c.all = append(c.all, &(*b)[len(*b)-1])
}

// newestFirst orders es as the lists show receipts: by received time, newest first, then by number,
// highest first.
func newestFirst(es []*store.Entry) {
	slices.SortFunc(es, func(a, b *store.Entry) int {
		if c := b.Received.Compare(a.Received); c != 0 {
			return c
		}
		return store.CompareNumbers(b.Number, a.Number)
	})
}

// pendingCount is the number of mails waiting on 待确认, shown in the navigation of every page.
func (s *Server) pendingCount() (int, error) {
	n := 0
	err := s.scan(func(e *store.Entry) {
		if e.Unassigned() {
			n++
		}
	})
	return n, err
}

// pending returns the mails waiting on 待确认, newest first.
func (s *Server) pending() ([]*store.Entry, error) {
	var es copies
	err := s.scan(func(e *store.Entry) {
		if e.Unassigned() {
			es.add(e)
		}
	})
	if err != nil {
		return nil, err
	}
	newestFirst(es.all)
	return es.all, nil
}

// status works out the state of every unit in every open period, and counts the pending mails.
func (s *Server) status(ros *roster.Roster) (status []roster.PeriodStatus, pending int, err error) {
	return s.statusCache.Status(s.st, ros, "", s.o.Now())
}

// verdictCounts counts the receipts by verdict, and the pending mails.
func (s *Server) verdictCounts() (counts map[string]int, pending int, err error) {
	counts = map[string]int{}
	err = s.scan(func(e *store.Entry) {
		counts[e.Verdict]++
		if e.Unassigned() {
			pending++
		}
	})
	return counts, pending, err
}

// Warm loads the store's index of receipts (it decodes every receipt once, about half a second for
// 20,000), so that the first page does not wait for it. ListenAndServe calls it.
func (s *Server) Warm() error {
	_, err := s.pendingCount()
	return err
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

// find returns the receipts f selects, newest first, and the number of pending mails.
func (s *Server) find(f filter) (found []*store.Entry, pending int, err error) {
	loc := s.o.Location
	var from, to time.Time
	if d, err := roster.ParseDate(f.From); err == nil && f.From != "" {
		from = d.Start(loc)
	}
	if d, err := roster.ParseDate(f.To); err == nil && f.To != "" {
		to = d.End(loc)
	}
	var es copies
	err = s.scan(func(e *store.Entry) {
		if e.Unassigned() {
			pending++
		}
		switch {
		case f.Campaign == "none" && e.Campaign != "",
			f.Campaign != "" && f.Campaign != "none" && e.Campaign != f.Campaign,
			f.Unit == "none" && e.Unit != "",
			f.Unit != "" && f.Unit != "none" && e.Unit != f.Unit,
			f.Verdict != "" && e.Verdict != f.Verdict,
			!from.IsZero() && e.Received.Before(from),
			!to.IsZero() && !e.Received.Before(to):
			return
		}
		es.add(e)
	})
	if err != nil {
		return nil, 0, err
	}
	found = es.all
	if q := strings.ToLower(strings.TrimSpace(f.Q)); q != "" {
		fold := foldOf(q)
		found = slices.DeleteFunc(found, func(e *store.Entry) bool { return !matches(e, q, fold) })
	}
	newestFirst(found)
	return found, pending, nil
}

// How a lower-cased query is compared with the fields of a receipt.
type fold int

const (
	foldNone    fold = iota // q has no letter that has a case: the fields are searched as they are
	foldASCII               // q is ASCII: ASCII letters are compared ignoring case, without lower-casing
	foldUnicode             // the fields are lower-cased
)

func foldOf(q string) fold {
	ascii, cased := true, false
	for _, r := range q {
		if r >= utf8.RuneSelf {
			ascii = false
		}
		// strings.ToLower turns bytes that are not UTF-8 into U+FFFD, which q may then contain.
		if r == utf8.RuneError || unicode.ToUpper(r) != r || unicode.ToLower(r) != r || unicode.ToTitle(r) != r {
			cased = true
		}
	}
	switch {
	case !cased:
		return foldNone
	case ascii:
		return foldASCII
	}
	return foldUnicode
}

// matches reports whether q, lower-cased, occurs in e's number, subject, sender or attachment names,
// ignoring case: as if each were lower-cased with strings.ToLower, which is most of the time of a search,
// so it is done only where it can change the answer.
func matches(e *store.Entry, q string, f fold) bool {
	for _, s := range [...]string{e.Number, e.Subject, e.From, e.FromName, e.Filenames} {
		switch {
		case strings.Contains(s, q):
			return true
		case f == foldASCII && containsASCIIFold(s, q),
			f == foldUnicode && strings.Contains(strings.ToLower(s), q):
			return true
		}
	}
	return false
}

// containsASCIIFold reports whether strings.ToLower(s) contains q, lower-case ASCII. Other than ASCII
// letters only İ (U+0130) and the Kelvin sign (U+212A) lower-case to ASCII; with either in s, s is
// lower-cased, else the ASCII letters of s are compared ignoring case.
func containsASCIIFold(s, q string) bool {
	if strings.ContainsRune(s, '\u0130') || strings.ContainsRune(s, '\u212A') {
		return strings.Contains(strings.ToLower(s), q)
	}
	for i := 0; i+len(q) <= len(s); i++ {
		j := 0
		for j < len(q) && lowerASCII(s[i+j]) == q[j] {
			j++
		}
		if j == len(q) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
