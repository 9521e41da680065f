package intake

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"briefd/internal/mailtest"
)

// The same behaviour as against the in-memory server, against a real Dovecot.
func TestDovecotPoll(t *testing.T) {
	d := mailtest.NewDovecot(t)
	testPollSuite(t, d, d.Addr, d.User, d.Pass)
}

// INBOX cannot be deleted: the harness changes its UIDVALIDITY with doveadm.
func TestDovecotInboxUIDValidity(t *testing.T) {
	d := mailtest.NewDovecot(t)
	st := openStore(t)
	msgs := [][]byte{testMail(1, 700), testMail(2, 800)}
	appendAll(t, d, "INBOX", msgs)
	w := NewWatcher(baseOptions(d.Addr, d.User, d.Pass, t.TempDir()), st, testLogger(t))
	rec := newRecorder(t, st)
	if got, err := w.Poll(context.Background(), rec.handle); err != nil || got != 2 {
		t.Fatalf("Poll = %d, %v", got, err)
	}
	if err := d.RecreateMailbox("INBOX"); err != nil {
		t.Fatal(err)
	}
	if got, err := w.Poll(context.Background(), rec.handle); err != nil || got != 2 {
		t.Fatalf("Poll after UIDVALIDITY change = %d, %v; want 2", got, err)
	}
	if rec.got[2].Key.UIDValidity == rec.got[0].Key.UIDValidity {
		t.Errorf("same UIDVALIDITY after recreate")
	}
	if rs, _ := st.Receipts(nil); len(rs) != 2 {
		t.Errorf("%d receipts, want 2 (Message-ID dedupe)", len(rs))
	}
}

var bodyBytesRE = regexp.MustCompile(`Logged out .*body_count=(\d+) body_bytes=(\d+)`)

func TestDovecotTooLargeNotDownloaded(t *testing.T) {
	d := mailtest.NewDovecot(t)
	proxy := mailtest.NewProxy(t, d.Addr, mailtest.ProxyOptions{})
	const big = 400_000
	appendAll(t, d, "INBOX", [][]byte{testMail(1, 2000), testMail(2, big), testMail(3, 2000)})
	waitFor(t, "dovecot log of the appends", 5*time.Second, func() bool { return len(bodyBytesRE.FindAllString(d.Log(), -1)) >= 3 })
	before := len(bodyBytesRE.FindAllString(d.Log(), -1))

	st := openStore(t)
	opts := baseOptions(proxy.Addr, d.User, d.Pass, t.TempDir())
	opts.MaxMessage = 100_000
	rec := newRecorder(t, st)
	if got, err := NewWatcher(opts, st, testLogger(t)).Poll(context.Background(), rec.handle); err != nil || got != 3 {
		t.Fatalf("Poll = %d, %v", got, err)
	}
	if !rec.got[1].TooLarge || rec.got[1].Size < big {
		t.Errorf("big message: %+v", rec.got[1])
	}
	// Dovecot's own account of the watcher's session: two bodies, a few KB.
	waitFor(t, "dovecot log of the poll", 5*time.Second, func() bool { return len(bodyBytesRE.FindAllString(d.Log(), -1)) > before })
	m := bodyBytesRE.FindAllStringSubmatch(d.Log(), -1)[before]
	count, _ := strconv.Atoi(m[1])
	bytes, _ := strconv.Atoi(m[2])
	t.Logf("dovecot: %s", m[0])
	if count != 2 || bytes >= big {
		t.Errorf("dovecot sent %d bodies, %d bytes; want 2 small ones", count, bytes)
	}
	if n := proxy.CountCommands("BODY.PEEK[]"); n != 2 {
		t.Errorf("%d body fetches, want 2: %q", n, proxy.Commands())
	}
}

func TestDovecotAfterMove(t *testing.T) {
	d := mailtest.NewDovecot(t)
	proxy := mailtest.NewProxy(t, d.Addr, mailtest.ProxyOptions{})
	appendAll(t, d, "INBOX", [][]byte{testMail(1, 1000), testMail(2, 1000), testMail(3, 1000)})
	st := openStore(t)
	opts := baseOptions(proxy.Addr, d.User, d.Pass, t.TempDir())
	opts.After, opts.MoveTo = AfterMove, "已处理" // does not exist yet: created on TRYCREATE
	rec := newRecorder(t, st)
	if got, err := NewWatcher(opts, st, testLogger(t)).Poll(context.Background(), rec.handle); err != nil || got != 3 {
		t.Fatalf("Poll = %d, %v", got, err)
	}
	inbox, _ := d.Messages("INBOX")
	moved, err := d.Messages("已处理")
	if err != nil || len(inbox) != 0 || len(moved) != 3 {
		t.Fatalf("INBOX %d, 已处理 %d (%v); want 0, 3", len(inbox), len(moved), err)
	}
	for i, m := range moved {
		if sum(m.Raw) != rec.sums[i] {
			t.Errorf("moved message %d differs", i)
		}
	}
	// 3 moves and one retry after CREATE on TRYCREATE; never an EXPUNGE.
	if proxy.CountCommands("UID MOVE") != 4 || proxy.CountCommands("CREATE") != 1 || proxy.CountCommands("EXPUNGE") != 0 {
		t.Errorf("commands: %q", proxy.Commands())
	}
	// A second watcher with after=flag on the moved folder sees them and flags them.
	opts.Mailbox, opts.After = "已处理", AfterFlag
	if got, err := NewWatcher(opts, st, testLogger(t)).Poll(context.Background(), rec.handle); err != nil || got != 0 {
		// Message-ID dedupe is the pipeline's business; the watcher hands them over (new mailbox key).
		if got != 3 {
			t.Fatalf("Poll of 已处理 = %d, %v", got, err)
		}
	}
	moved, _ = d.Messages("已处理")
	for _, m := range moved {
		if !m.HasFlag(`\Flagged`) {
			t.Errorf("uid %d not flagged: %v", m.UID, m.Flags)
		}
	}
}

func TestDovecotWatchIDLE(t *testing.T) {
	d := mailtest.NewDovecot(t)
	testIdleLatency(t, d, d.Addr, d.User, d.Pass)
}

func TestDovecotWatchdog(t *testing.T) {
	d := mailtest.NewDovecot(t)
	proxy := mailtest.NewProxy(t, d.Addr, mailtest.ProxyOptions{})
	st := openStore(t)
	opts := baseOptions(proxy.Addr, d.User, d.Pass, t.TempDir())
	opts.IDLE, opts.IdleTimeout, opts.CycleTimeout = true, 300*time.Millisecond, 300*time.Millisecond
	w := NewWatcher(opts, st, testLogger(t))
	w.backoff.Min = 50 * time.Millisecond
	rec := newRecorder(t, st)
	runWatcher(t, w, rec.handle)
	waitFor(t, "IDLE", 5*time.Second, func() bool { return w.Stats().Idling })
	start := time.Now()
	proxy.Stall()
	appendAll(t, d, "INBOX", [][]byte{testMail(1, 500)})
	rec.wait(t, 5*time.Second)
	s := w.Stats()
	t.Logf("silent connection to dovecot: mail handled %v after the stall; watchdog %d reconnects %d", time.Since(start), s.Watchdog, s.Reconnects)
	if s.Watchdog < 1 || s.Reconnects < 1 {
		t.Errorf("stats %+v", s)
	}
}

// A backlog on Dovecot: the watcher against a plain streaming fetch of the same mails to io.Discard.
func TestDovecotFetchThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	d := mailtest.NewDovecot(t)
	const n = 60
	total := 0
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		m := testMail(i, 100_000+rng.IntN(1_400_000))
		total += len(m)
		if _, err := d.Append("INBOX", m, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}

	// Baseline: one connection, one FETCH of every body, streamed to io.Discard.
	start := time.Now()
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(d.User, d.Pass).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	cmd := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	plainBytes := int64(0)
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			if b, ok := item.(imapclient.FetchItemDataBodySection); ok {
				k, _ := io.Copy(io.Discard, b.Literal)
				plainBytes += k
			}
		}
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	c.Logout().Wait()
	c.Close()
	plain := time.Since(start)

	// The watcher with a handler that does nothing, then with one that reads the spool file, hashes it and
	// records it in the store (a bbolt commit with fsync per mail).
	nop := func(context.Context, *Fetched) error { return nil }
	start = time.Now()
	var peak uint64
	stopSampling := sampleHeap(&peak)
	got, err := NewWatcher(baseOptions(d.Addr, d.User, d.Pass, t.TempDir()), openStore(t), testLogger(t)).Poll(context.Background(), nop)
	bare := time.Since(start)
	stopSampling()
	if err != nil || got != n {
		t.Fatalf("Poll = %d, %v", got, err)
	}

	st := openStore(t)
	rec := newRecorder(t, st)
	start = time.Now()
	got, err = NewWatcher(baseOptions(d.Addr, d.User, d.Pass, t.TempDir()), st, testLogger(t)).Poll(context.Background(), rec.handle)
	recording := time.Since(start)
	if err != nil || got != n {
		t.Fatalf("Poll = %d, %v", got, err)
	}
	if plainBytes != int64(total) {
		t.Errorf("plain fetch got %d bytes of %d", plainBytes, total)
	}
	mb := float64(total) / (1 << 20)
	rate := func(d time.Duration) string {
		return fmt.Sprintf("%v (%.0f MiB/s, %.2fx plain)", d.Round(time.Millisecond), mb/d.Seconds(), d.Seconds()/plain.Seconds())
	}
	report := fmt.Sprintf("dovecot backlog %d mails %.1f MiB: plain streaming fetch %v; watcher spooling with no-op handler %s, peak heap %.1f MiB; watcher + read/sha256/store.Record %s",
		n, mb, plain.Round(time.Millisecond), rate(bare), float64(peak)/(1<<20), rate(recording))
	t.Log(report)
	fmt.Println(strings.TrimSpace(report))
}

// sampleHeap records the peak HeapInuse until the returned function is called.
func sampleHeap(peak *uint64) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			*peak = max(*peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); <-finished }
}

// TestDovecotIdleNeverAnnounces: a server that accepts IDLE and never announces new mail (163 has been
// reported to) still has its new mail read within PollInterval.
func TestDovecotIdleNeverAnnounces(t *testing.T) {
	d := mailtest.NewDovecot(t)
	proxy := mailtest.NewProxy(t, d.Addr, mailtest.ProxyOptions{NoNewMail: true})
	st := openStore(t)
	opts := baseOptions(proxy.Addr, d.User, d.Pass, t.TempDir())
	opts.IDLE, opts.IdleTimeout, opts.PollInterval = true, time.Hour, 1500*time.Millisecond
	w := NewWatcher(opts, st, testLogger(t))
	rec := newRecorder(t, st)
	runWatcher(t, w, rec.handle)
	waitFor(t, "IDLE", 5*time.Second, func() bool { return w.Stats().Idling })
	start := time.Now()
	appendAll(t, d, "INBOX", [][]byte{testMail(1, 500)})
	rec.wait(t, 5*time.Second)
	took := time.Since(start)
	t.Logf("new mail read %v after it arrived, with no EXISTS from the server and a poll interval of %v", took, opts.PollInterval)
	if took < 200*time.Millisecond {
		t.Errorf("read after %v: the proxy let the server announce it", took)
	}
}
