package outbox

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"briefd/robot"
	"briefd/robot/robottest"
	"briefd/store"
)

// robotEnv is an outbox env with one fake robot service per name.
func robotEnv(t *testing.T, fakes map[string]*robottest.Server, secrets map[string]string) *env {
	t.Helper()
	// The robots sign and count their rate with this clock; the fakes check signatures with fakeNow.
	clk := &clock{now: fakeNow()}
	e := newEnv(t, func(o *Options) {
		o.Robots = map[string]*robot.Robot{}
		for name, f := range fakes {
			rc := robot.Config{Name: name, Kind: robot.Kind(f.Kind), URLEnv: "URL", Events: robot.Events}
			env := map[string]string{"URL": f.URL()}
			if s := secrets[name]; s != "" {
				rc.SecretEnv, env["SECRET"] = "SECRET", s
			}
			r, err := rc.Resolve(func(k string) string { return env[k] }, robot.Options{Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			o.Robots[name] = r
		}
		o.Now = clk.Now
	})
	e.clk = clk
	return e
}

func fakeNow() time.Time { return time.Date(2026, 1, 20, 10, 0, 0, 0, shanghai) }

func queuePost(t *testing.T, st *store.Store, to, title string, now time.Time) uint64 {
	t.Helper()
	data, _ := json.Marshal(robot.Message{Title: "【报送】" + title, Markdown: "正文 " + title})
	it := &store.OutboxItem{Kind: store.KindRobot, To: to, Subject: "summary", Message: data, Created: now, NextTry: now}
	if err := st.Enqueue(it); err != nil {
		t.Fatal(err)
	}
	return it.ID
}

func itemByID(t *testing.T, st *store.Store, id uint64) *store.OutboxItem {
	t.Helper()
	its, err := st.Outbox(func(it *store.OutboxItem) bool { return it.ID == id })
	if err != nil || len(its) != 1 {
		t.Fatalf("item %d: %v", id, err)
	}
	return its[0]
}

// A robot the service rate-limits gets its posts later, in the order they were queued; another robot
// is not held up meanwhile.
func TestRobotRateLimitedKeepsOrder(t *testing.T) {
	wecom := robottest.New(t, robottest.WeCom, "wecom-key-1234", robottest.Options{Now: fakeNow})
	feishu := robottest.New(t, robottest.Feishu, "feishu-hook-5678", robottest.Options{Now: fakeNow, Secret: "fs-secret"})
	e := robotEnv(t, map[string]*robottest.Server{"职教科群": wecom, "飞书群": feishu}, map[string]string{"飞书群": "fs-secret"})
	var ids []uint64
	for _, title := range []string{"一", "二", "三"} {
		ids = append(ids, queuePost(t, e.st, "职教科群", title, e.clk.Now()))
	}
	other := queuePost(t, e.st, "飞书群", "飞书", e.clk.Now())

	wecom.Next(robottest.RateLimited)
	sent, failed, err := e.b.Flush(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sent != 1 || failed != 1 {
		t.Errorf("first pass: sent %d failed %d, want 1 (feishu) and 1 (rate limited)", sent, failed)
	}
	if n := len(wecom.Accepted()); n != 0 {
		t.Errorf("wecom accepted %d posts while rate limited", n)
	}
	if it := itemByID(t, e.st, other); it.State != store.OutSent {
		t.Errorf("the feishu post waited for the wecom robot: %s %s", it.State, it.LastError)
	}
	first := itemByID(t, e.st, ids[0])
	if first.State != store.OutQueued || first.Attempts != 1 || !first.NextTry.After(e.clk.Now().Add(59*time.Second)) {
		t.Errorf("rate-limited post: %s, %d attempts, next %s", first.State, first.Attempts, first.NextTry)
	}
	if strings.Contains(first.LastError, "wecom-key-1234") {
		t.Errorf("the key is in the recorded error: %s", first.LastError)
	}
	for _, id := range ids[1:] {
		if it := itemByID(t, e.st, id); it.Attempts != 0 || it.State != store.OutQueued {
			t.Errorf("post %d was tried before the first: %s, %d attempts", id, it.State, it.Attempts)
		}
	}
	// The next pass before the pause ends sends nothing to the robot.
	e.clk.Add(30 * time.Second)
	if sent, _, _ := e.b.Flush(context.Background()); sent != 0 || len(wecom.Accepted()) != 0 {
		t.Errorf("posted during the pause: %d", sent)
	}
	// untilNext waits for the first post, not for the ones behind it (due already).
	if d := e.b.untilNext(time.Hour); d < 20*time.Second {
		t.Errorf("untilNext %s: the posts behind the held one make the sender spin", d)
	}
	e.clk.Add(2 * time.Minute)
	if sent, _, err := e.b.Flush(context.Background()); err != nil || sent != 3 {
		t.Fatalf("after the pause: sent %d (%v), want 3", sent, err)
	}
	acc := wecom.Accepted()
	for i, want := range []string{"正文 一", "正文 二", "正文 三"} {
		if i >= len(acc) || !strings.Contains(acc[i].Content, want) {
			t.Errorf("post %d is not %q: %+v", i, want, acc)
		}
	}
}

// An invalid key fails the post for good with the service's answer, without the key; a server error is
// tried again; a robot no longer configured fails its posts.
func TestRobotRefusals(t *testing.T) {
	ding := robottest.New(t, robottest.DingTalk, "ding-token-abcd", robottest.Options{Now: fakeNow, Secret: "SECdingsecret"})
	e := robotEnv(t, map[string]*robottest.Server{"钉钉群": ding}, map[string]string{"钉钉群": "SECdingsecret"})

	ding.Next(robottest.InvalidKey)
	bad := queuePost(t, e.st, "钉钉群", "一", e.clk.Now())
	e.b.Flush(context.Background())
	it := itemByID(t, e.st, bad)
	if it.State != store.OutFailed || !strings.Contains(it.LastError, "access_token") {
		t.Errorf("invalid token: %s %q", it.State, it.LastError)
	}
	if strings.Contains(it.LastError, "ding-token-abcd") || strings.Contains(it.LastError, "SECdingsecret") {
		t.Errorf("secret in the error: %q", it.LastError)
	}

	ding.Next(robottest.ServerError)
	retry := queuePost(t, e.st, "钉钉群", "二", e.clk.Now())
	e.b.Flush(context.Background())
	if it := itemByID(t, e.st, retry); it.State != store.OutQueued || it.Attempts != 1 || !strings.Contains(it.LastError, "500") {
		t.Errorf("HTTP 500: %s, %d attempts, %q", it.State, it.Attempts, it.LastError)
	}
	e.clk.Add(2 * time.Minute)
	e.b.Flush(context.Background())
	if it := itemByID(t, e.st, retry); it.State != store.OutSent {
		t.Errorf("after the server error: %s %q", it.State, it.LastError)
	}
	if acc := ding.Accepted(); len(acc) != 1 || !acc[0].Signed {
		t.Errorf("dingtalk accepted %d posts (signed: %v)", len(acc), len(acc) == 1 && acc[0].Signed)
	}

	gone := queuePost(t, e.st, "旧群", "三", e.clk.Now())
	e.b.Flush(context.Background())
	if it := itemByID(t, e.st, gone); it.State != store.OutFailed || !strings.Contains(it.LastError, "no longer in the config") {
		t.Errorf("unknown robot: %s %q", it.State, it.LastError)
	}
}

// A problem post is composed when sent, from the receipt as it is then: a receipt the office assigned
// meanwhile needs nobody, and is not posted.
func TestRobotProblemComposedWhenSent(t *testing.T) {
	wecom := robottest.New(t, robottest.WeCom, "k1", robottest.Options{Now: fakeNow})
	e := robotEnv(t, map[string]*robottest.Server{"职教科群": wecom}, nil)
	record := func(from string) string {
		rec := &store.Receipt{Received: e.clk.Now(), From: from, Subject: "简报", Verdict: store.VerdictAccepted}
		out := []*store.OutboxItem{{Kind: store.KindRobot, To: "职教科群", Subject: "problems", Created: e.clk.Now(), NextTry: e.clk.Now()}}
		n, _, err := e.st.RecordWith(rec, nil, nil, out, nil)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	a := record("stranger@example.com")
	b := record("other@example.com")
	if _, _, err := e.st.Replace(b, func(r *store.Receipt) error { r.Unit, r.Match = "xinfu", "manual"; return nil }); err != nil {
		t.Fatal(err)
	}
	e.b.Flush(context.Background())
	acc := wecom.Accepted()
	if len(acc) != 1 || !strings.Contains(acc[0].Content, a) || !strings.Contains(acc[0].Content, robot.ProblemUnmatched) {
		t.Fatalf("posts %+v, want one about %s", acc, a)
	}
	its, _ := e.st.Outbox(func(it *store.OutboxItem) bool { return it.Receipt == b })
	if len(its) != 1 || its[0].State != store.OutSuppressed {
		t.Errorf("the assigned receipt's post: %+v", its)
	}
}
