package store

import (
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
		if s.idx.pos[n] != i {
			t.Errorf("pos[%s] = %d, want %d", n, s.idx.pos[n], i)
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
				if err := s.putReceipt(tx, r); err != nil {
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
