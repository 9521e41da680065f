package intake

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"briefd/internal/mailtest"
)

// The watcher against a slow Dovecot and a Dovecot whose connection goes silent mid-download. The
// watchdog (CycleTimeout) is 1 s here, 2 min in production; the reconnect backoff is the real one (1 s
// first).

// syncBuffer is a log sink safe for the watcher's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) count(substr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), substr)
}

// A server that trickles bytes: every message takes longer than the watchdog's limit to download, and
// still no connection is closed, because each arriving byte counts as progress.
func TestDovecotSlowServer(t *testing.T) {
	t.Parallel()
	d := mailtest.NewDovecot(t)
	const n, size, rate = 5, 96 << 10, 64 << 10 // 1.5 s per message at 64 KiB/s
	slow := mailtest.NewSlowProxy(t, d.Addr, mailtest.SlowOptions{Latency: 2 * time.Millisecond, BytesPerSecond: rate})
	var msgs [][]byte
	for i := range n {
		msgs = append(msgs, testMail(i, size))
	}
	appendAll(t, d, "INBOX", msgs)
	st := openStore(t)
	opts := baseOptions(slow.Addr, d.User, d.Pass, t.TempDir())
	opts.IDLE, opts.CycleTimeout = true, time.Second
	var logs syncBuffer
	w := NewWatcher(opts, st, slog.New(slog.NewTextHandler(&logs, nil)))
	rec := newRecorder(t, st)
	start := time.Now()
	stop := runWatcher(t, w, rec.handle)
	waitFor(t, "every message", time.Duration(n)*4*time.Second, func() bool { return rec.count() == n })
	took := time.Since(start)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	s := w.Stats()
	if s.Watchdog != 0 || s.Errors != 0 || slow.Connections() != 1 {
		t.Errorf("slow server: watchdog %d, errors %d, connections %d; want 0, 0, 1\n%s", s.Watchdog, s.Errors, slow.Connections(), logs.b.String())
	}
	for i, m := range msgs {
		if rec.sums[i] != sum(m) {
			t.Errorf("message %d arrived changed", i)
		}
	}
	fig := fmt.Sprintf("OUTAGE slow imap (%d KiB/s, +2 ms a packet): %d messages of %d KiB in %s, watchdog 1 s never fired, 1 connection",
		rate>>10, n, size>>10, took.Round(10*time.Millisecond))
	t.Log(fig)
	fmt.Println(fig)
}

// A connection that goes silent in the middle of a download: the watchdog closes it, the watcher
// reconnects, logs the loss and the return once each, and every message is recorded exactly once.
func TestDovecotSilentMidDownload(t *testing.T) {
	t.Parallel()
	d := mailtest.NewDovecot(t)
	const n, size = 20, 48 << 10
	slow := mailtest.NewSlowProxy(t, d.Addr, mailtest.SlowOptions{BytesPerSecond: 256 << 10}) // ~0.2 s a message
	var msgs [][]byte
	for i := range n {
		msgs = append(msgs, testMail(i, size))
	}
	appendAll(t, d, "INBOX", msgs)
	st := openStore(t)
	opts := baseOptions(slow.Addr, d.User, d.Pass, t.TempDir())
	opts.IDLE, opts.CycleTimeout = true, time.Second
	var logs syncBuffer
	w := NewWatcher(opts, st, slog.New(slog.NewTextHandler(&logs, nil)))
	rec := newRecorder(t, st)
	stop := runWatcher(t, w, rec.handle)
	waitFor(t, "5 messages", 30*time.Second, func() bool { return rec.count() >= 5 })
	time.Sleep(100 * time.Millisecond) // into the next download
	stalledAt := time.Now()
	slow.Stall()
	before := rec.count()
	waitFor(t, "a message after the stall", 30*time.Second, func() bool { return rec.count() > before })
	recovery := time.Since(stalledAt)
	waitFor(t, "every message", 60*time.Second, func() bool { return rec.count() == n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	rs, err := st.Receipts(nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, r := range rs {
		ids[r.MessageID]++
	}
	for i, m := range msgs {
		if ids[messageID(m)] != 1 {
			t.Errorf("message %d recorded %d times", i, ids[messageID(m)])
		}
	}
	s := w.Stats()
	lost, back := logs.count("connection lost"), logs.count("reconnected")
	if s.Watchdog != 1 || lost != 1 || back != 1 {
		t.Errorf("watchdog %d, logged losses %d, reconnections %d; want 1 each\n%s", s.Watchdog, lost, back, logs.b.String())
	}
	fig := fmt.Sprintf("OUTAGE silent imap connection mid-download: next message recorded %s after the stall (watchdog 1 s + backoff), "+
		"%d of %d recorded once, watchdog fired %d, logged losses %d, reconnections %d",
		recovery.Round(10*time.Millisecond), len(rs), n, s.Watchdog, lost, back)
	t.Log(fig)
	fmt.Println(fig)
}
