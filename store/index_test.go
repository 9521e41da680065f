package store

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestIndexOrder: the index stays in number order whatever order receipts are written in: new numbers
// appended, across years and sequence widths, and one written out of order inserted in place.
func TestIndexOrder(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "briefd.db"))
	put := func(nums ...string) {
		t.Helper()
		err := s.db.Update(func(tx *bolt.Tx) error {
			for _, n := range nums {
				r := receipt("<"+n+"@x>", time.Date(2026, 1, 1, 0, 0, 0, 0, beijing))
				r.Number = n
				if err := s.putReceipt(tx, r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	numbers := func() []string {
		t.Helper()
		es, err := s.Entries(nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Number)
		}
		return out
	}
	put("JB2025-9999", "JB2025-10000", "JB2026-0001")
	if _, err := s.Entries(nil); err != nil { // load
		t.Fatal(err)
	}
	put("JB2026-0002", "JB2026-10000", "JB2025-10001", "JB2026-9999", "JB2026-0002")
	want := []string{"JB2025-9999", "JB2025-10000", "JB2025-10001", "JB2026-0001", "JB2026-0002", "JB2026-9999", "JB2026-10000"}
	if got := numbers(); !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	for i, n := range want {
		if i > 0 && string(entryKey(want[i-1])) >= string(entryKey(n)) {
			t.Errorf("entryKey(%s) does not sort before entryKey(%s)", want[i-1], n)
		}
		if j, ok := s.idx.find(n); !ok || j != i {
			t.Errorf("find(%s) = %d, %v, want %d", n, j, ok, i)
		}
	}
	odd, err := s.Entries(func(e *Entry) bool { return e.Number[len(e.Number)-1]%2 == 1 })
	if err != nil {
		t.Fatal(err)
	}
	if len(odd) != 4 || odd[0].Number != "JB2025-9999" || odd[3].Number != "JB2026-9999" {
		t.Errorf("filtered %v", odd)
	}
}

// benchDB builds, once per test binary, a database of 100,000 receipts under /dev/shm (or the temp folder).
var benchDB = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("/dev/shm", "briefd-storebench-")
	if err != nil {
		if dir, err = os.MkdirTemp("", "briefd-storebench-"); err != nil {
			return "", err
		}
	}
	path := filepath.Join(dir, "briefd.db")
	s, err := Open(path, Options{Prefix: "JB", Location: beijing})
	if err != nil {
		return "", err
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	const n, batch = 100_000, 5_000
	seqs := map[int]uint64{} // year -> last sequence, as Record keeps them
	for i := 0; i < n; i += batch {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for j := i; j < i+batch; j++ {
				at := time.Date(2020, 1, 1, 0, 0, 0, 0, beijing).Add(time.Duration(j) * 30 * time.Minute)
				r := &Receipt{Number: fmt.Sprintf("JB%d-%04d", at.Year(), j%20000+1), Received: at,
					MessageID: fmt.Sprintf("<bench.%d@example.cn>", j), From: "school07@example.cn", FromName: "忻州市第7职业中学",
					Subject: "忻州市第7职业中学关于校园安全稳定工作月报的简报（2024-03）", Date: at, Unit: fmt.Sprintf("school%02d", rng.IntN(60)),
					Match: "address", Campaign: "safety", Period: at.Format("2006-01"), Verdict: VerdictAccepted, Links: []string{},
					Reply: ReplySent, Size: 1_234_567, Mailbox: "INBOX", UIDValidity: 1, UID: uint32(j + 1)}
				for k := range 1 + rng.IntN(2) {
					r.Attachments = append(r.Attachments, Attachment{Filename: fmt.Sprintf("忻州市第7职业中学简报%d.pdf", k+1),
						Size: 1_000_000, SHA256: fmt.Sprintf("%064x", rng.Uint64()), Kind: "pdf", Verdict: "ok", Pages: 3,
						Archived: "safety/2024-03/忻州市第7职业中学_JB_1.pdf"})
				}
				seqs[at.Year()] = max(seqs[at.Year()], uint64(j%20000+1))
				if err := s.putReceipt(tx, r); err != nil {
					return err
				}
			}
			for y, n := range seqs {
				if err := tx.Bucket(bSequences).Put([]byte(fmt.Sprint(y)), binary.BigEndian.AppendUint64(nil, n)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return path, nil
})

func benchStore(b *testing.B) string {
	path, err := benchDB()
	if err != nil {
		b.Fatal(err)
	}
	benchBuilt = true
	return path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchBuilt { // the database is shared by the benchmarks of one run, removed at its end
		path, _ := benchDB()
		os.RemoveAll(filepath.Dir(path))
	}
	os.Exit(code)
}

var benchBuilt bool

// BenchmarkOpenEntries100k: what a command run without the daemon pays: open, load the index, list.
func BenchmarkOpenEntries100k(b *testing.B) {
	path := benchStore(b)
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(path, Options{Prefix: "JB", Location: beijing})
		if err != nil {
			b.Fatal(err)
		}
		es, err := s.Entries(nil)
		if err != nil || len(es) != 100_000 {
			b.Fatal(len(es), err)
		}
		s.Close()
	}
}

// BenchmarkEntries100k: Entries on a loaded index (the daemon).
func BenchmarkEntries100k(b *testing.B) {
	path := benchStore(b)
	s, err := Open(path, Options{Prefix: "JB", Location: beijing})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Entries(nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		es, err := s.Entries(func(e *Entry) bool { return e.Unit != "" })
		if err != nil || len(es) != 100_000 {
			b.Fatal(len(es), err)
		}
	}
}

func TestEntryCodecRoundTrip(t *testing.T) {
	la := time.FixedZone("", -7*3600)
	for _, e := range []Entry{
		{},
		{Number: "JB2026-10000", Received: time.Date(2026, 3, 1, 23, 59, 59, 123456789, beijing), From: "a@b.cn", FromName: "忻府区",
			Subject: "简报（2026-03）", Filenames: "a.pdf / b.doc", Unit: "xinfu", Match: "address", Campaign: "zjdh", Period: "2026-03",
			Late: true, Verdict: VerdictPartial, Usable: true, Reply: ReplySent},
		{Number: "JB2026-0001", Received: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Verdict: VerdictIgnored},
		{Number: "X-1", Received: time.Date(1969, 12, 31, 23, 0, 0, 1, la), Usable: true},
		{Number: "JB9999-0001", Received: time.Date(9999, 12, 31, 0, 0, 0, 0, beijing)},
	} {
		v := appendEntry(nil, &e)
		got, err := decodeEntry(string(v), map[int]*time.Location{})
		if err != nil {
			t.Fatalf("%s: %v", e.Number, err)
		}
		checkEntry(t, got, e)
		for i := range v { // every truncation fails, none panics
			if _, err := decodeEntry(string(v[:i]), nil); err == nil {
				t.Errorf("%s: truncated to %d decoded", e.Number, i)
			}
		}
	}
}

func FuzzEntryCodec(f *testing.F) {
	f.Add("JB2026-9999", int64(1772380799), int64(5), 8*3600, "忻府区", true, false)
	f.Add("", int64(-62135596800), int64(0), 0, "", false, true)
	f.Fuzz(func(t *testing.T, num string, sec, nsec int64, off int, s string, late, usable bool) {
		if nsec < 0 || nsec >= 1e9 || off <= -24*3600 || off >= 24*3600 {
			return
		}
		e := Entry{Number: num, Received: time.Unix(sec, nsec).In(time.FixedZone("", off)), From: s, Subject: s + num,
			Reply: s, Late: late, Usable: usable}
		got, err := decodeEntry(string(appendEntry(nil, &e)), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkEntry(t, got, e)
		decodeEntry(s, nil) // must not panic
	})
}

// checkEntry compares two entries, Received by instant and by how it prints with its offset.
func checkEntry(t *testing.T, got, want Entry) {
	t.Helper()
	if !got.Received.Equal(want.Received) || got.Received.Format(time.RFC3339Nano) != want.Received.Format(time.RFC3339Nano) {
		t.Errorf("%s: received %s, want %s", want.Number, got.Received.Format(time.RFC3339Nano), want.Received.Format(time.RFC3339Nano))
	}
	got.Received, want.Received = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("entry %+v, want %+v", got, want)
	}
}

// TestEntriesBucket: the index read back from the entries bucket after reopening equals the one kept
// while writing; a database without the bucket (made before it existed) gets it rebuilt, once.
func TestEntriesBucket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "briefd.db")
	s := openTest(t, path)
	for i := range 30 {
		at := time.Date(2026, 3, 1, 9, 0, 0, 0, beijing).Add(time.Duration(i) * time.Hour)
		r := receipt(fmt.Sprintf("<m%d@x>", i), at)
		r.Attachments = []Attachment{{Filename: "a.pdf", Verdict: "ok"}, {Filename: "b.doc", Verdict: "reject"}}
		if _, _, err := s.Record(r, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			if _, err := s.Entries(nil); err != nil { // loaded: later writes go to the index as well
				t.Fatal(err)
			}
		}
	}
	if err := s.UpdateReceipt("JB2026-0003", func(r *Receipt) error { r.Unit, r.Reply = "yuanping", ReplyFailed; return nil }); err != nil {
		t.Fatal(err)
	}
	before, err := s.Entries(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 30 || before[2].Unit != "yuanping" || before[2].Reply != ReplyFailed {
		t.Fatalf("entries before: %d, %+v", len(before), before[2])
	}
	reopen := func() []Entry {
		t.Helper()
		s.Close()
		s = openTest(t, path)
		es, err := s.Entries(nil)
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	same := func(what string, got []Entry) {
		t.Helper()
		if len(got) != len(before) {
			t.Fatalf("%s: %d entries, want %d", what, len(got), len(before))
		}
		for i := range got {
			checkEntry(t, got[i], before[i])
		}
	}
	same("reopened", reopen())

	for _, old := range []func(tx *bolt.Tx) error{
		func(tx *bolt.Tx) error { return tx.DeleteBucket(bEntries) },                           // before the bucket existed
		func(tx *bolt.Tx) error { return tx.Bucket(bEntries).Delete(entryKey("JB2026-0007")) }, // an old briefd wrote since
	} {
		if err := s.db.Update(old); err != nil {
			t.Fatal(err)
		}
		same("rebuilt", reopen())
		var n int
		s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bEntries).Stats().KeyN; return nil })
		if n != 30 {
			t.Errorf("entries bucket has %d keys after the rebuild, want 30", n)
		}
		same("reopened after the rebuild", reopen())
	}
}

func TestCompareNumbers(t *testing.T) {
	if CompareNumbers("JB2026-9999", "JB2026-10000") >= 0 || CompareNumbers("JB2025-9999", "JB2026-0001") >= 0 ||
		CompareNumbers("JB2026-0001", "JB2026-0001") != 0 {
		t.Error("CompareNumbers orders by year, then by sequence as a number")
	}
}

// TestEntriesSince: a caller that computed something at one version is given exactly what came since —
// each entry changed in place with what it was then, each entry added after all others — and is told
// to compute afresh when that cannot be said (an entry numbered before others, an unknown version, a
// caller that refuses a change, more changes than are kept).
func TestEntriesSince(t *testing.T) {
	s := openTest(t, "")
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, beijing)
	record := func(id string, at time.Time) string {
		t.Helper()
		n, _, err := s.Record(receipt(id, at), nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	version := func() uint64 {
		t.Helper()
		v, err := s.EntriesVersion()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// since returns what EntriesSince gives: "+N" for an entry added, "~N subject>subject" for a change.
	since := func(v uint64) ([]string, bool) {
		t.Helper()
		var got []string
		nv, ok, err := s.EntriesSince(v, func(before, now *Entry) bool {
			if before == nil {
				got = append(got, "+"+now.Number)
			} else {
				if before.Number != now.Number {
					t.Errorf("a change of %s given as one of %s", before.Number, now.Number)
				}
				got = append(got, "~"+now.Number+" "+before.Subject+">"+now.Subject)
			}
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if nv != version() {
			t.Errorf("EntriesSince(%d) returned version %d, the index is at %d", v, nv, version())
		}
		return got, ok
	}
	subject := func(number, subject string) {
		t.Helper()
		if err := s.UpdateReceipt(number, func(r *Receipt) error { r.Subject = subject; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	a := record("<a@x>", at)
	v0 := version()
	if got, ok := since(v0); !ok || len(got) != 0 {
		t.Errorf("nothing since: %v %v", got, ok)
	}
	b, c := record("<b@x>", at), record("<c@x>", at)
	subject(a, "A1")
	subject(b, "B1") // added since v0: given once, as it is now
	subject(a, "A2") // changed twice: given once, with what it was at v0
	d := record("<d@x>", at)
	want := []string{"~" + a + " 简报>A2", "+" + b, "+" + c, "+" + d}
	if got, ok := since(v0); !ok || !slices.Equal(got, want) {
		t.Errorf("since v0: %v %v, want %v", got, ok, want)
	}
	v1 := version()
	subject(c, "C1")
	if got, ok := since(v1); !ok || !slices.Equal(got, []string{"~" + c + " 简报>C1"}) {
		t.Errorf("since v1: %v %v", got, ok)
	}
	if got, ok := since(version()); !ok || len(got) != 0 {
		t.Errorf("since now: %v %v", got, ok)
	}
	if _, ok := since(version() + 1); ok {
		t.Error("a version the index has not reached was taken")
	}
	if _, ok, _ := s.EntriesSince(v1, func(before, now *Entry) bool { return before == nil }); ok {
		t.Error("a refused change did not end in false")
	}

	// A receipt of an earlier year is numbered before the others: the positions moved.
	v2 := version()
	record("<old@x>", at.AddDate(-1, 0, 0))
	if got, ok := since(v2); ok {
		t.Errorf("an entry put before others was given as %v", got)
	}
	v3 := version()
	e := record("<e@x>", at)
	if got, ok := since(v3); !ok || !slices.Equal(got, []string{"+" + e}) {
		t.Errorf("after the insert: %v %v", got, ok)
	}

	// More changes than are kept.
	v4 := version()
	for i := range maxChanged + 1 {
		subject(e, fmt.Sprint(i))
	}
	if got, ok := since(v4); ok {
		t.Errorf("%d changes were given as %d", maxChanged+1, len(got))
	}
	v5 := version()
	subject(d, "D1")
	if got, ok := since(v5); !ok || !slices.Equal(got, []string{"~" + d + " 简报>D1"}) {
		t.Errorf("after the log was dropped: %v %v", got, ok)
	}
}
