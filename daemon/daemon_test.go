package daemon_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"briefd/config"
	"briefd/control"
	"briefd/daemon"
	"briefd/demo"
	"briefd/office"
	"briefd/pdfcheck"
	"briefd/store"
)

// TestMain lets the test binary serve as pdfcheck's isolated worker process.
func TestMain(m *testing.M) {
	pdfcheck.MaybeWorker()
	os.Exit(m.Run())
}

// open builds the parts on the demo's config, its IMAP server holding the demo's sample mail.
func open(t *testing.T) (*daemon.Daemon, *store.Store, *demo.SMTPSink, int, *config.Config) {
	t.Helper()
	// The dashboard's port is one that is taken.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { taken.Close() })
	set, err := demo.Start(t.TempDir(), time.Now(), taken.Addr().(*net.TCPAddr).Port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	path := set.ConfigPath
	cfg, err := config.Load(path, os.Getenv, true)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.Store.Path, store.Options{Prefix: cfg.Replies.ReceiptPrefix, Location: cfg.Location()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	off, err := office.New(office.Options{Roster: cfg.Roster(), Archive: store.Archive{Root: cfg.Store.Archive}, Location: cfg.Location()}, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	d, err := daemon.New(daemon.Options{Config: cfg, Store: st, Office: off, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d, st, set.Sink, len(set.Samples), cfg
}

// TestPoll: one pass records every sample mail and sends the replies before it returns; a second pass
// finds nothing new and sends nothing again.
func TestPoll(t *testing.T) {
	d, st, sink, n, _ := open(t)
	got, err := d.Poll(context.Background())
	if err != nil || got != n {
		t.Fatalf("poll: %d messages, %v; want %d", got, err, n)
	}
	rs, err := st.Receipts(nil)
	if err != nil || len(rs) != n {
		t.Fatalf("%d receipts, %v; want %d", len(rs), err, n)
	}
	sent := len(sink.Messages())
	queued, _ := st.Outbox(func(it *store.OutboxItem) bool { return it.State == store.OutQueued })
	if sent == 0 || len(queued) != 0 {
		t.Errorf("after the pass: %d sent, %d still queued", sent, len(queued))
	}
	if got, err := d.Poll(context.Background()); err != nil || got != 0 || len(sink.Messages()) != sent {
		t.Errorf("second pass: %d messages, %v, %d sent (was %d)", got, err, len(sink.Messages()), sent)
	}
}

// TestRunPartCannotStart: when the dashboard's port is taken, Run ends at once with an error naming the
// dashboard, and the control socket it had made is gone.
func TestRunPartCannotStart(t *testing.T) {
	d, _, _, _, cfg := open(t)
	if err := d.EnableDashboard(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := d.Run(ctx, func(ctx context.Context, ln net.Listener) error {
		<-ctx.Done()
		return ln.Close()
	})
	if err == nil || !strings.Contains(err.Error(), "dashboard") || ctx.Err() != nil {
		t.Fatalf("Run: %v (ctx %v)", err, ctx.Err())
	}
	if _, err := os.Stat(control.Socket(cfg.Store.Path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("control socket after Run: %v, want it removed", err)
	}
}
