package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"briefd/internal/mailtest"
	"briefd/pdfcheck"
	"briefd/roster"
	"briefd/store"
)

var beijing = time.FixedZone("CST", 8*3600)

var update = flag.Bool("update", false, "rewrite the receipt golden files in testdata/mail")

// corpusDir holds the corpus mails, the parser's test corpus; the receipt each one gets is in
// testdata/mail/NAME.receipt.json.
const corpusDir = "../mailmsg/testdata/mail"

// corpusRoster registers some of the corpus's senders by address and leaves others to be found by name.
func corpusRoster(t testing.TB) *roster.Roster {
	t.Helper()
	d := func(s string) roster.Date { v, _ := roster.ParseDate(s); return v }
	units := []roster.Unit{
		{ID: "xinfu", Name: "忻府区教育科技局", Aliases: []string{"忻府区"}, Emails: []string{"xinfu-jky@example.cn"}},
		{ID: "yuanping", Name: "原平市教育科技局", Emails: []string{"yuanping-jky@example.cn"}},
		{ID: "dingxiang", Name: "定襄县教育科技局", Emails: []string{"dingxiang-jky@example.cn"}},
		{ID: "wutai", Name: "五台县教育科技局", Emails: []string{"jky@wutai.example.cn"}},
		{ID: "ningwu", Name: "宁武县教育科技局", Emails: []string{"ningwu@example.cn"}},
		{ID: "kelan", Name: "岢岚县教育科技局", Emails: []string{"kelan@example.cn"}},
		{ID: "shenchi", Name: "神池县教育科技局", Emails: []string{"shenchi@example.cn"}},
		{ID: "hequ", Name: "河曲县教育科技局"},
		{ID: "baode", Name: "保德县教育科技局", Emails: []string{"baode-jyj@example.cn"}},
		{ID: "jingle", Name: "静乐县教育科技局", Emails: []string{"jingle@example.cn"}},
	}
	camps := []roster.Campaign{
		{ID: "zjdh-study", Title: "学习贯彻全省职教大会精神情况简报", Opens: d("2022-01-05"), Due: d("2022-01-31"),
			Keywords: []string{"学习贯彻"}},
		{ID: "zjdh-monthly", Title: "职业教育大会筹备召开情况", Units: []string{"xinfu", "yuanping"}, Opens: d("2022-01-05"),
			Every: "month", Until: d("2022-04-30"), Keywords: []string{"筹备"}},
	}
	r, err := roster.New(units, camps, beijing)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// corpus returns the corpus mails in name order with the INTERNALDATE to store them with: their Date
// header, or 2022-01-10 10:00 Beijing time when it has none.
func corpus(t testing.TB) (names []string, raws [][]byte, dates []time.Time) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	sort.Strings(files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		date := time.Date(2022, 1, 10, 10, 0, 0, 0, beijing)
		if m, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
			if d, err := m.Header.Date(); err == nil && d.Year() > 2000 {
				date = d
			}
		}
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".eml"))
		raws = append(raws, raw)
		dates = append(dates, date)
	}
	return names, raws, dates
}

func newTestPipeline(t testing.TB, st *store.Store, dir string) *Pipeline {
	t.Helper()
	chk := pdfcheck.New(pdfcheck.Options{Timeout: 20 * time.Second}, nil)
	t.Cleanup(func() { chk.Close() })
	ros := corpusRoster(t)
	return NewPipeline(PipelineOptions{Ours: []string{"xzszjk@example.cn"}, Marker: "briefd", Replies: true,
		MaxAttachment: 10 << 20, SpoolDir: filepath.Join(dir, "spool"), Location: beijing, AuthServIDs: []string{"example.cn"}},
		st, func() *roster.Roster { return ros }, chk, store.Archive{Root: filepath.Join(dir, "archive")}, testLogger(t))
}

// TestPipelineCorpus appends the corpus (mails written the way Foxmail, QQ and 163 webmail, Outlook and
// Apple Mail write them, and broken ones) to a real IMAP server, polls it through the whole pipeline and
// compares every receipt with its golden file testdata/mail/NAME.receipt.json (-update rewrites them).
// It runs on the in-memory server and on Dovecot.
// The goldens are Dovecot's: a real server rewrites some broken mail as it stores it.
func TestPipelineCorpus(t *testing.T) {
	t.Run("dovecot", func(t *testing.T) {
		d := mailtest.NewDovecot(t)
		testPipelineCorpus(t, d, d.Addr, d.User, d.Pass, *update, nil)
	})
	t.Run("memserver", func(t *testing.T) {
		srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{})
		testPipelineCorpus(t, srv, srv.Addr, srv.User, srv.Pass, false, memserverQuirks)
	})
}

// memserverQuirks are corpus mails that go-imap's in-memory server stores differently from Dovecot.
var memserverQuirks = map[string]string{
	"broken_header_no_colon": "the memserver stores this mail (a 1 MB header line) as 0 bytes",
	"broken_names":           "Dovecot stores a NUL in a header as 0x80; the memserver keeps the NUL",
}

func testPipelineCorpus(t *testing.T, srv mailServer, addr, user, pass string, write bool, skip map[string]string) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "briefd.db"), store.Options{Location: beijing})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	names, raws, dates := corpus(t)
	for i := range raws {
		if _, err := srv.Append("INBOX", raws[i], dates[i]); err != nil {
			t.Fatal(err)
		}
	}
	p := newTestPipeline(t, st, dir)
	w := NewWatcher(baseOptions(addr, user, pass, filepath.Join(dir, "spool")), st, testLogger(t))
	os.MkdirAll(filepath.Join(dir, "spool"), 0o700)
	n, err := w.PollWith(context.Background(), p) // messages prepared at once, committed in order
	if err != nil || n != len(raws) {
		t.Fatalf("Poll = %d, %v; want %d", n, err, len(raws))
	}
	rs, err := st.Receipts(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(raws) {
		t.Fatalf("%d receipts for %d mails", len(rs), len(raws))
	}
	for i, r := range rs {
		name := names[i]
		got := goldenReceipt(r)
		path := filepath.Join("testdata", "mail", name+".receipt.json")
		if write {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if why, ok := skip[name]; ok {
			t.Logf("%s: not compared: %s", name, why)
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run go test -run TestPipelineCorpus/dovecot ./intake -update)", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: receipt differs from %s\ngot:\n%s\nwant:\n%s", name, path, got, want)
		}
		for _, a := range r.Attachments {
			if a.Archived == "" {
				continue
			}
			b, err := store.Archive{Root: filepath.Join(dir, "archive")}.Open(a.Archived)
			if err != nil {
				t.Errorf("%s: archived file %s: %v", name, a.Archived, err)
				continue
			}
			b.Close()
		}
		if r.Raw == "" {
			t.Errorf("%s: no raw copy kept", name)
		}
	}
	// A second poll finds nothing; replaying every message through the pipeline records nothing twice.
	if n, err := w.PollWith(context.Background(), p); n != 0 || err != nil {
		t.Errorf("second Poll = %d, %v; want 0", n, err)
	}
	if again, _ := st.Receipts(nil); len(again) != len(raws) {
		t.Errorf("%d receipts after the second poll, want %d", len(again), len(raws))
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "archive", ".staging")); len(left) != 0 {
		t.Errorf("%d staging folders left behind", len(left))
	}
}

// goldenReceipt is the receipt as JSON without what differs between servers and runs.
func goldenReceipt(r *store.Receipt) []byte {
	c := *r
	c.UIDValidity = 0
	c.Size = 0 // Dovecot stores bare LF as CRLF, so RFC822.SIZE differs between servers
	b, _ := json.MarshalIndent(&c, "", "  ")
	return append(b, '\n')
}

// TestPipelineDuplicateNotArchivedTwice: the same PDF sent again by the same unit for the same period is
// marked duplicate_of the first receipt and not archived a second time: handled one by one, and when
// both mails are prepared at once and committed together (the duplicate is found at the commit).
func TestPipelineDuplicateNotArchivedTwice(t *testing.T) {
	for _, overlap := range []bool{false, true} {
		t.Run(fmt.Sprintf("overlap=%v", overlap), func(t *testing.T) {
			dir := t.TempDir()
			st, err := store.Open(filepath.Join(dir, "briefd.db"), store.Options{Location: beijing})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{})
			raw, err := os.ReadFile(filepath.Join(corpusDir, "foxmail_gb18030.eml"))
			if err != nil {
				t.Fatal(err)
			}
			again := bytes.Replace(raw, []byte("Message-ID: <"), []byte("Message-ID: <again-"), 1)
			for _, m := range [][]byte{raw, again} {
				if _, err := srv.Append("INBOX", m, time.Date(2022, 1, 10, 10, 0, 0, 0, beijing)); err != nil {
					t.Fatal(err)
				}
			}
			p := newTestPipeline(t, st, dir)
			os.MkdirAll(filepath.Join(dir, "spool"), 0o700)
			w := NewWatcher(baseOptions(srv.Addr, srv.User, srv.Pass, filepath.Join(dir, "spool")), st, testLogger(t))
			var n int
			if overlap {
				// Both prepared before either is committed: a batch of two.
				both := &gate{Processor: p, wait: 2}
				n, err = w.PollWith(context.Background(), both)
				if both.batches != 1 {
					t.Errorf("%d commits, want the two mails in one", both.batches)
				}
			} else {
				n, err = w.Poll(context.Background(), p.Handle)
			}
			if n != 2 || err != nil {
				t.Fatalf("Poll = %d, %v", n, err)
			}
			rs, _ := st.Receipts(nil)
			if len(rs) != 2 || rs[1].Attachments[0].DuplicateOf != rs[0].Number || rs[1].DuplicateOf != rs[0].Number {
				t.Fatalf("second receipt %+v; want its file duplicate_of %s", rs[1], rs[0].Number)
			}
			if rs[0].Attachments[0].Archived == "" || rs[1].Attachments[0].Archived != "" {
				t.Errorf("archived: first %q, second %q; want only the first", rs[0].Attachments[0].Archived, rs[1].Attachments[0].Archived)
			}
			if left, _ := os.ReadDir(filepath.Join(dir, "archive", ".staging")); len(left) != 0 {
				t.Errorf("%d staging folders left behind", len(left))
			}
		})
	}
}

// gate is a Processor whose Prepare returns only once wait messages have been prepared, the first one
// last, so that they reach the committer together; it counts the commits.
type gate struct {
	Processor
	wait    int
	mu      sync.Mutex
	n       int
	all     chan struct{}
	batches int
}

func (g *gate) Prepare(ctx context.Context, f *Fetched) (Prepared, error) {
	pr, err := g.Processor.Prepare(ctx, f)
	g.mu.Lock()
	if g.all == nil {
		g.all = make(chan struct{})
	}
	all := g.all
	if g.n++; g.n == g.wait {
		close(all)
	}
	g.mu.Unlock()
	select {
	case <-all:
	case <-time.After(5 * time.Second):
	}
	if f.Index == 1 {
		time.Sleep(200 * time.Millisecond) // the others are ready by the time the first is
	}
	return pr, err
}

func (g *gate) Commit(ctx context.Context, batch []Prepared) (int, error) {
	g.batches++
	return g.Processor.Commit(ctx, batch)
}

// TestPipelineTooLargeHeader: a mail over the size limit is recorded from its header alone, read as the
// parser reads a whole mail: a sender named in GBK is known, and answered.
func TestPipelineTooLargeHeader(t *testing.T) {
	r := newFaultRig(t)
	p := r.pipeline()
	f := r.fetched(1, []byte("From: =?GBK?B?1cXI/Q==?= <ZS@Example.CN>\r\nSubject: =?gb2312?B?vPKxqA==?=\r\n"+
		"Message-ID: <big@example.cn>\r\n\r\n"))
	f.TooLarge, f.Size = true, 80<<20
	if err := p.Handle(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	rs, err := r.st.Receipts(nil)
	if err != nil || len(rs) != 1 {
		t.Fatalf("%d receipts, %v", len(rs), err)
	}
	rec := rs[0]
	if rec.Verdict != store.VerdictTooLarge || rec.From != "zs@example.cn" || rec.FromName != "张三" ||
		rec.Subject != "简报" || rec.MessageID != "<big@example.cn>" || rec.Reply != store.ReplyQueued {
		t.Errorf("receipt %s from %q %q subject %q id %q reply %q", rec.Verdict, rec.From, rec.FromName, rec.Subject,
			rec.MessageID, rec.Reply)
	}
}
