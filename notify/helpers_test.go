package notify

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"briefd/roster"
	"briefd/store"
)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// testReasons stands in for pdfcheck.ReasonText.
func testReasons(code string) (string, string) {
	switch code {
	case "":
		return "", ""
	case "not_pdf_word":
		return "附件是Word文档，不是PDF。请在Word中选择“另存为”→“PDF”后重新发送。", "word"
	case "image":
		return "附件是图片，不是PDF。请将纸质材料扫描为PDF后重新发送。", "image"
	case "pdf_password":
		return "PDF设置了打开密码，我们无法打开。请去除密码后重新发送。", "password"
	}
	return "", ""
}

func testRoster(t *testing.T) *roster.Roster {
	t.Helper()
	d := func(s string) roster.Date {
		x, err := roster.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	ros, err := roster.New([]roster.Unit{
		{ID: "xinfu", Name: "忻府区教育科技局", Emails: []string{"xinfu-jky@example.cn"}, Kind: "county"},
		{ID: "dingxiang", Name: "定襄县教育局", Emails: []string{"dx@example.cn"}, Kind: "county"},
	}, []roster.Campaign{
		{ID: "zjdh-study", Title: "学习贯彻全省职教大会精神情况简报", Opens: d("2026-01-05"), Due: d("2026-01-31")},
		{ID: "zjdh-monthly", Title: "职业教育大会筹备召开情况", Units: []string{"xinfu"}, Opens: d("2026-01-05"), Every: "month", Until: d("2026-04-30")},
	}, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	return ros
}

// env is a store, a clock and a notifier.
type env struct {
	st  *store.Store
	clk *clock
	n   *Notifier
	ros *roster.Roster
}

const officeAddr = "xzszjk@example.cn"

func testOffice() Office {
	return Office{Name: "忻州市教育局职业教育科", Address: officeAddr, Contact: "王老师，电话 0350-1234567", Location: shanghai}
}

func newEnv(t *testing.T, mod func(*Options)) *env {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "briefd.db"), store.Options{Location: shanghai})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, clk: &clock{t: time.Date(2026, 1, 20, 10, 0, 0, 0, shanghai)}, ros: testRoster(t)}
	o := Options{
		Office: testOffice(), ReasonText: testReasons, Marker: "briefd", MaxMessage: 60 << 20, Now: e.clk.Now,
	}
	if mod != nil {
		mod(&o)
	}
	e.n, err = New(o, e.ros)
	if err != nil {
		t.Fatal(err)
	}
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

func (e *env) items(t *testing.T) []*store.OutboxItem {
	t.Helper()
	items, err := e.st.Outbox(nil)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func pdf(name string, pages int) store.Attachment {
	return store.Attachment{Filename: name, Size: 245_000, SHA256: "x", Kind: "pdf", Verdict: "ok", Pages: pages}
}

func bad(name, kind, reason string) store.Attachment {
	return store.Attachment{Filename: name, Size: 31_000, SHA256: "y", Kind: kind, Verdict: "reject", Reason: reason}
}
