package outbox

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"briefd/internal/mailtest"
	"briefd/notify"
	"briefd/roster"
	"briefd/store"
)

var shanghai = time.FixedZone("CST", 8*3600)

// clock is a settable clock for tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

const officeAddr = "xzszjk@example.cn"

// env is a store, a sink, a clock, a notifier composing for the office and an Outbox delivering to the
// sink over TCP.
type env struct {
	st    *store.Store
	sink  *mailtest.SMTPSink
	clk   *clock
	n     *notify.Notifier
	b     *Outbox
	snd   *SMTPSender
	saved [][]byte
}

func newEnv(t *testing.T, mod func(*Options)) *env {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "briefd.db"), store.Options{Location: shanghai})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sink, err := mailtest.NewSMTPSink(mailtest.SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	e := &env{st: st, sink: sink, clk: &clock{now: time.Date(2026, 1, 20, 10, 0, 0, 0, shanghai)}}
	ros, err := roster.New([]roster.Unit{
		{ID: "xinfu", Name: "忻府区教育科技局", Emails: []string{"xinfu-jky@example.cn"}, Kind: "county"},
		{ID: "dingxiang", Name: "定襄县教育局", Emails: []string{"dx@example.cn"}, Kind: "county"},
	}, nil, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	e.n, err = notify.New(notify.Options{
		Office: notify.Office{Name: "忻州市教育局职业教育科", Address: officeAddr, Contact: "王老师，电话 0350-1234567", Location: shanghai},
		Marker: "briefd", MaxMessage: 60 << 20, Now: e.clk.Now,
	}, ros)
	if err != nil {
		t.Fatal(err)
	}
	e.snd = NewSMTPSender(SMTPOptions{Server: sink.Addr(), Security: "plain", Timeout: 5 * time.Second})
	o := Options{PerSenderPerHour: 10, Now: e.clk.Now,
		SaveSent: func(_ context.Context, msg []byte) error { e.saved = append(e.saved, msg); return nil }}
	if mod != nil {
		mod(&o)
	}
	e.b = New(o, st, e.n, e.snd, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return e
}

// record stores a receipt with its reply queued, as intake does, and returns its number.
func (e *env) record(t *testing.T, r *store.Receipt) string {
	t.Helper()
	if r.Received.IsZero() {
		r.Received = e.clk.Now().Add(-time.Minute)
	}
	num, dup, err := e.st.Record(r, nil, nil, &store.OutboxItem{Kind: store.KindReply, Created: e.clk.Now(), NextTry: e.clk.Now()})
	if err != nil || dup {
		t.Fatalf("record: %v (dup %v)", err, dup)
	}
	return num
}

func (e *env) receipt(t *testing.T, num string) *store.Receipt {
	t.Helper()
	r, err := e.st.Receipt(num)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *env) flush(t *testing.T) (sent, failed int) {
	t.Helper()
	sent, failed, err := e.b.Flush(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sent, failed
}

func (e *env) items(t *testing.T) []*store.OutboxItem {
	t.Helper()
	items, err := e.st.Outbox(nil)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func accepted(from string) *store.Receipt {
	return &store.Receipt{From: from, Unit: "xinfu", Match: "address", Verdict: store.VerdictAccepted,
		Attachments: []store.Attachment{{Filename: "a.pdf", Size: 245_000, SHA256: "x", Kind: "pdf", Verdict: "ok", Pages: 1}}}
}
