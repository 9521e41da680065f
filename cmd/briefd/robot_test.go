package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"briefd/config"
	"briefd/demo"
	"briefd/internal/mailtest"
	"briefd/robot"
	"briefd/robot/robottest"
	"briefd/store"
)

// TestRobotsThroughPoll drives briefd's commands against Dovecot, an SMTP sink and fake WeCom,
// DingTalk and Feishu robots that check what the services check (JSON shape, sizes, signatures): poll
// posts each receipt that needs a person once to every robot that wants problems, the summary and the
// reminder day's list to those that want them, nothing twice on the next poll; a robot with a wrong key
// is reported by `robot list`, without the key; `robot test` posts.
func TestRobotsThroughPoll(t *testing.T) {
	d := mailtest.NewDovecot(t)
	sink, err := mailtest.NewSMTPSink(mailtest.SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	now := time.Now()
	samples, err := mailtest.Samples(now)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		if _, err := d.Append("INBOX", s.Raw, s.Date); err != nil {
			t.Fatal(err)
		}
	}
	wecom := robottest.New(t, robottest.WeCom, "wecom-key-0001", robottest.Options{})
	ding := robottest.New(t, robottest.DingTalk, "ding-token-0002", robottest.Options{Secret: "SECding0002"})
	feishu := robottest.New(t, robottest.Feishu, "feishu-hook-0003", robottest.Options{Secret: "feishu-secret-0003"})
	wrong := robottest.New(t, robottest.WeCom, "right-key-0004", robottest.Options{})
	secrets := map[string]string{
		"WECOM_URL": wecom.URL(), "DING_URL": ding.URL(), "DING_SECRET": "SECding0002",
		"FEISHU_URL": feishu.URL(), "FEISHU_SECRET": "feishu-secret-0003",
		"WRONG_URL": strings.Replace(wrong.URL(), "right-key-0004", "wrong-key-0004", 1),
	}
	getenv := func(k string) string { return secrets[k] }

	dir := t.TempDir()
	c, err := demo.Config(dir, d.Addr, sink.Addr(), freePort(8080), now)
	if err != nil {
		t.Fatal(err)
	}
	c.IMAP.Username = d.User
	if err := os.WriteFile(c.IMAP.PasswordFile, []byte(d.Pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.Reminders = config.RemindersConfig{DaysBeforeDue: []int{5}, At: "00:00"} // the study campaign is due in 5 days
	c.Web.PublicURL = "https://briefd.example.cn/"
	all := []robot.Event{robot.EventSummary, robot.EventReminder, robot.EventProblems}
	c.Robots = []robot.Config{
		{Name: "职教科群", Kind: robot.WeCom, URLEnv: "WECOM_URL", Events: all},
		{Name: "钉钉群", Kind: robot.DingTalk, URLEnv: "DING_URL", SecretEnv: "DING_SECRET", Events: []robot.Event{robot.EventSummary, robot.EventAlert, robot.EventProblems}},
		{Name: "飞书群", Kind: robot.Feishu, URLEnv: "FEISHU_URL", SecretEnv: "FEISHU_SECRET", Events: []robot.Event{robot.EventReminder, robot.EventProblems}, Format: robot.FormatText},
		{Name: "坏群", Kind: robot.WeCom, URLEnv: "WRONG_URL", Events: []robot.Event{robot.EventSummary}},
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := config.Write(cfgPath, c); err != nil {
		t.Fatal(err)
	}
	cmd := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := runMain(context.Background(), &env{stdout: &out, stderr: &out, getenv: getenv}, append(args, "-config", cfgPath))
		return code, out.String()
	}
	var logs strings.Builder
	code, out := cmd("poll")
	logs.WriteString(out)
	if code != 0 {
		t.Fatalf("poll exit %d\n%s", code, out)
	}

	// The receipts that need a person, from the samples' own description: the Word file, the
	// password-protected and the truncated PDF (rejected), the unknown sender (unmatched).
	rs := readStore(t, cfgPath)
	var problems []string
	for _, r := range rs {
		switch r.Subject {
		case "原平市简报", "定襄县学习贯彻职教大会精神简报":
			problems = append(problems, r.Number)
		}
		if r.Verdict == store.VerdictRejected && !strings.Contains(r.Subject, "原平") && !strings.Contains(r.Subject, "定襄") ||
			r.Unit == "" && r.Verdict == store.VerdictAccepted {
			problems = append(problems, r.Number)
		}
	}
	if len(problems) != 4 {
		t.Fatalf("the samples changed: %d receipts need a person (%v)", len(problems), problems)
	}
	count := func(f *robottest.Server, title string) int {
		n := 0
		for _, p := range f.Accepted() {
			if strings.Contains(p.Title+p.Content, title) {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		f                          *robottest.Server
		name                       string
		summary, reminder, problem int
	}{{wecom, "wecom", 1, 1, 4}, {ding, "dingtalk", 1, 0, 4}, {feishu, "feishu", 0, 1, 4}} {
		if n := count(c.f, "周报"); n != c.summary {
			t.Errorf("%s: %d summary posts, want %d", c.name, n, c.summary)
		}
		if n := count(c.f, "提醒"); n != c.reminder {
			t.Errorf("%s: %d reminder posts, want %d", c.name, n, c.reminder)
		}
		for _, num := range problems {
			if n := count(c.f, num); n != 1 {
				t.Errorf("%s: %d posts about %s, want 1", c.name, n, num)
			}
		}
		if ref := c.f.Refused(); len(ref) > 0 {
			t.Errorf("%s refused posts: %+v", c.name, ref)
		}
	}
	for _, p := range wecom.Accepted() {
		if strings.Contains(p.Content, problems[0]) && !strings.Contains(p.Content, "https://briefd.example.cn/receipts/"+problems[0]) {
			t.Errorf("problem post without its link:\n%s", p.Content)
		}
	}
	for _, p := range append(ding.Accepted(), feishu.Accepted()...) {
		if !p.Signed {
			t.Errorf("unsigned post to a signed robot: %s", p.Title)
		}
	}

	before := len(wecom.Accepted()) + len(ding.Accepted()) + len(feishu.Accepted())
	code, out = cmd("poll")
	logs.WriteString(out)
	if code != 0 {
		t.Fatalf("second poll exit %d\n%s", code, out)
	}
	if after := len(wecom.Accepted()) + len(ding.Accepted()) + len(feishu.Accepted()); after != before {
		t.Errorf("the second poll posted %d more", after-before)
	}

	code, out = cmd("robot", "list")
	logs.WriteString(out)
	if code != 0 || !strings.Contains(out, "坏群") || !strings.Contains(out, "invalid webhook key") {
		t.Errorf("robot list (exit %d) does not report the wrong key:\n%s", code, out)
	}
	time.Sleep(1100 * time.Millisecond) // Feishu allows 5 posts a second, and the poll just made 5
	code, out = cmd("robot", "test", "飞书群")
	logs.WriteString(out)
	if code != 0 || count(feishu, "机器人测试") != 1 {
		t.Errorf("robot test (exit %d):\n%s", code, out)
	}
	if code, out := cmd("robot", "test", "没有的群"); code != 2 || !strings.Contains(out, "没有的群") {
		t.Errorf("robot test of an unknown robot: exit %d\n%s", code, out)
	}
	for name, v := range secrets {
		secret := v
		if strings.HasSuffix(name, "_URL") {
			secret = v[strings.LastIndexAny(v, "=/")+1:] // the key, token or hook id
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("%s appears in briefd's output", name)
		}
	}
}
