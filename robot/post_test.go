package robot_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"briefd/robot"
	"briefd/robot/robottest"
)

// clock is a settable clock shared by a robot and its fake.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Recognisable credentials, to look for in every text the package makes.
const (
	testKey    = "KEY-7f3a9b21-c0de-4bc4-97a0-0ec2deadbeef"
	testToken  = "TOKEN9d8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa"
	testHook   = "HOOK5e3d587e-d78e-4a07-bd07-265f269f86fd"
	testSecret = "SECf094e0d33f8a0c815287ff3e75b9fd0d2f0dd15aa"
)

var kindToken = map[robot.Kind]string{robot.WeCom: testKey, robot.DingTalk: testToken, robot.Feishu: testHook}

type setup struct {
	kind    robot.Kind
	secret  string // the fake's secret ("" unsigned)
	rsecret string // the robot's secret, when it differs (a wrong secret)
	format  robot.Format
	fakeOpt robottest.Options
	opt     robot.Options
}

// newPair starts a fake and resolves a robot posting to it.
func newPair(t *testing.T, s setup) (*robot.Robot, *robottest.Server) {
	t.Helper()
	fo := s.fakeOpt
	fo.Secret = s.secret
	srv := robottest.New(t, string(s.kind), kindToken[s.kind], fo)
	rsecret := s.secret
	if s.rsecret != "" {
		rsecret = s.rsecret
	}
	return resolve(t, s.kind, srv.URL(), rsecret, s.format, s.opt), srv
}

func resolve(t *testing.T, kind robot.Kind, url, secret string, format robot.Format, o robot.Options) *robot.Robot {
	t.Helper()
	env := map[string]string{"BRIEFD_ROBOT_URL": url, "BRIEFD_ROBOT_SECRET": secret}
	c := robot.Config{Name: "职教科群", Kind: kind, URLEnv: "BRIEFD_ROBOT_URL", Format: format,
		Events: []robot.Event{robot.EventSummary, robot.EventAlert}}
	if secret != "" {
		c.SecretEnv = "BRIEFD_ROBOT_SECRET"
	}
	r, err := c.Resolve(func(k string) string { return env[k] }, o)
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	return r
}

func summary() robot.Message {
	return robot.SummaryMessage("忻州市教育局职业教育科", []robot.PeriodCounts{{
		Campaign: "职业学校安全月报", Period: "2026年11月", Due: "11月30日", Units: 18,
		Reported: 12, Late: 1, Rejected: 1, Missing: 4,
		Absent: []string{"忻府区职业中学", "原平市职教中心", "定襄县职业中学", "五台县职业中学"},
		Resend: []string{"代县职业中学"},
	}}, "https://briefd.example.cn/")
}

func TestPostEachKind(t *testing.T) {
	tests := []struct {
		name    string
		s       setup
		msgtype string
	}{
		{"wecom markdown", setup{kind: robot.WeCom}, "markdown"},
		{"wecom text", setup{kind: robot.WeCom, format: robot.FormatText}, "text"},
		{"dingtalk unsigned", setup{kind: robot.DingTalk}, "markdown"},
		{"dingtalk signed", setup{kind: robot.DingTalk, secret: testSecret}, "markdown"},
		{"dingtalk signed text", setup{kind: robot.DingTalk, secret: testSecret, format: robot.FormatText}, "text"},
		{"feishu unsigned", setup{kind: robot.Feishu}, "interactive"},
		{"feishu signed", setup{kind: robot.Feishu, secret: testSecret}, "interactive"},
		{"feishu signed text", setup{kind: robot.Feishu, secret: testSecret, format: robot.FormatText}, "text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, srv := newPair(t, tc.s)
			a, err := r.Post(context.Background(), summary())
			if err != nil {
				t.Fatalf("post: %v (refused: %+v)", err, srv.Refused())
			}
			if !a.OK() {
				t.Errorf("answer not OK: %s", a)
			}
			got := srv.Accepted()
			if len(got) != 1 {
				t.Fatalf("fake accepted %d posts, refused %+v", len(got), srv.Refused())
			}
			p := got[0]
			if p.MsgType != tc.msgtype {
				t.Errorf("msgtype %q, want %q", p.MsgType, tc.msgtype)
			}
			if p.Signed != (tc.s.secret != "") {
				t.Errorf("signed = %v", p.Signed)
			}
			for _, want := range []string{"代县职业中学", "原平市职教中心", "12"} {
				if !strings.Contains(p.Content, want) {
					t.Errorf("content lacks %q:\n%s", want, p.Content)
				}
			}
			if !strings.Contains(p.Title+p.Content, "报送周报") {
				t.Errorf("title missing: %q / %q", p.Title, p.Content)
			}
			if tc.s.format == robot.FormatText && strings.Contains(p.Content, "**") {
				t.Errorf("text format has markdown: %q", p.Content)
			}
		})
	}
}

// A post the fake's signature check refuses: the fake checks, and the robot says it is for good.
func TestSignatureRefused(t *testing.T) {
	for _, kind := range []robot.Kind{robot.DingTalk, robot.Feishu} {
		code := map[robot.Kind]int{robot.DingTalk: 310000, robot.Feishu: 19021}[kind]
		tests := []struct {
			name   string
			s      setup
			skew   time.Duration // robot's clock minus the fake's
			accept bool
		}{
			{"right secret", setup{secret: testSecret}, 0, true},
			{"59 minutes slow", setup{secret: testSecret}, -59 * time.Minute, true},
			{"59 minutes fast", setup{secret: testSecret}, 59 * time.Minute, true},
			{"wrong secret", setup{secret: testSecret, rsecret: "SECnot-the-right-one"}, 0, false},
			{"timestamp 61 minutes old", setup{secret: testSecret}, -61 * time.Minute, false},
			{"timestamp 2 hours ahead", setup{secret: testSecret}, 2 * time.Hour, false},
			{"unsigned post to a signed robot", setup{secret: testSecret, rsecret: "-"}, 0, false},
		}
		for _, tc := range tests {
			t.Run(string(kind)+"/"+tc.name, func(t *testing.T) {
				fake := newClock()
				robotClock := func() time.Time { return fake.Now().Add(tc.skew) }
				tc.s.kind = kind
				tc.s.fakeOpt.Now = fake.Now
				tc.s.opt.Now = robotClock
				var r *robot.Robot
				var srv *robottest.Server
				if tc.s.rsecret == "-" { // a robot without secret
					srv = robottest.New(t, string(kind), kindToken[kind], robottest.Options{Secret: testSecret, Now: fake.Now})
					r = resolve(t, kind, srv.URL(), "", "", tc.s.opt)
				} else {
					r, srv = newPair(t, tc.s)
				}
				_, err := r.Post(context.Background(), summary())
				if tc.accept {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					return
				}
				if err == nil {
					t.Fatalf("accepted: the fake does not check")
				}
				if robot.IsTemporary(err) {
					t.Errorf("a signature refusal is temporary: %v", err)
				}
				ref := srv.Refused()
				if len(ref) != 1 || ref[0].Code != code {
					t.Errorf("fake refusals %+v, want code %d", ref, code)
				}
				var e *robot.Error
				if !errors.As(err, &e) || !e.HasCode || e.Code != code {
					t.Errorf("error %#v lacks code %d", err, code)
				}
				if !strings.Contains(err.Error(), "signature") {
					t.Errorf("error does not say signature: %v", err)
				}
			})
		}
	}
}

func TestForcedAnswers(t *testing.T) {
	tests := []struct {
		kind      robot.Kind
		answer    robottest.Answer
		temporary bool
		retry     time.Duration
		code      int
		says      string
	}{
		{robot.WeCom, robottest.RateLimited, true, time.Minute, 45009, "rate limited"},
		{robot.DingTalk, robottest.RateLimited, true, 10 * time.Minute, 130101, "rate limited"},
		{robot.Feishu, robottest.RateLimited, true, time.Minute, 11232, "rate limited"},
		{robot.WeCom, robottest.InvalidKey, false, 0, 93000, "invalid webhook key"},
		{robot.DingTalk, robottest.InvalidKey, false, 0, 300001, "invalid access_token"},
		{robot.Feishu, robottest.InvalidKey, false, 0, 19001, "invalid webhook"},
		{robot.WeCom, robottest.ServerError, true, 0, 0, "HTTP 500"},
		{robot.DingTalk, robottest.ServerError, true, 0, 0, "HTTP 500"},
		{robot.Feishu, robottest.ServerError, true, 0, 0, "HTTP 500"},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind)+"/"+tc.says, func(t *testing.T) {
			c := newClock()
			r, srv := newPair(t, setup{kind: tc.kind, fakeOpt: robottest.Options{Now: c.Now}, opt: robot.Options{Now: c.Now}})
			srv.Next(tc.answer)
			a, err := r.Post(context.Background(), summary())
			if err == nil {
				t.Fatalf("no error; answer %s", a)
			}
			if robot.IsTemporary(err) != tc.temporary {
				t.Errorf("IsTemporary = %v, want %v: %v", !tc.temporary, tc.temporary, err)
			}
			if got := robot.RetryAfter(err); got != tc.retry {
				t.Errorf("RetryAfter = %s, want %s", got, tc.retry)
			}
			var e *robot.Error
			if !errors.As(err, &e) {
				t.Fatalf("not an *Error: %T", err)
			}
			if e.Code != tc.code {
				t.Errorf("code %d, want %d", e.Code, tc.code)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
			// After a rate-limit answer the robot holds back, and the next post does not reach the service.
			if tc.retry > 0 {
				if d := r.Ready(); d != tc.retry {
					t.Errorf("Ready = %s after the rate-limit answer, want %s", d, tc.retry)
				}
				_, err := r.Post(context.Background(), summary())
				var e2 *robot.Error
				if !errors.As(err, &e2) || !e2.Local || !e2.Temporary {
					t.Errorf("post while held: %v, want a local temporary refusal", err)
				}
				if n := len(srv.Accepted()) + len(srv.Refused()); n != 1 {
					t.Errorf("the fake saw %d posts, want 1", n)
				}
				c.Advance(tc.retry)
				if _, err := r.Post(context.Background(), summary()); err != nil {
					t.Errorf("post after the pause: %v", err)
				}
			}
		})
	}
}

// The robot's own limit keeps it under the service's rate: 25 posts at once, 20 reach the service.
func TestRateLimit(t *testing.T) {
	for _, kind := range robot.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			c := newClock()
			r, srv := newPair(t, setup{kind: kind, fakeOpt: robottest.Options{Now: c.Now}, opt: robot.Options{Now: c.Now}})
			var local int
			for i := range 25 {
				if kind == robot.Feishu && i%5 == 0 {
					c.Advance(time.Second) // Feishu: at most 5 a second too
				}
				_, err := r.Post(context.Background(), robot.AlertMessage(true, c.Now(), "i/o timeout"))
				var e *robot.Error
				switch {
				case err == nil:
				case errors.As(err, &e) && e.Local && e.Temporary && e.RetryAfter > 0 && e.RetryAfter <= time.Minute:
					local++
				default:
					t.Fatalf("post %d: %v", i, err)
				}
			}
			if n := len(srv.Accepted()); n != 20 || local != 5 {
				t.Errorf("accepted %d, held back %d; want 20 and 5", n, local)
			}
			if ref := srv.Refused(); len(ref) != 0 {
				t.Errorf("the service refused %+v", ref)
			}
			if d := r.Ready(); d <= 0 {
				t.Errorf("Ready = %s at the limit", d)
			}
			c.Advance(time.Minute)
			if d := r.Ready(); d != 0 {
				t.Errorf("Ready = %s a minute later", d)
			}
		})
	}
	// Feishu's second rule on its own: the 6th post in one second waits.
	c := newClock()
	r, _ := newPair(t, setup{kind: robot.Feishu, fakeOpt: robottest.Options{Now: c.Now}, opt: robot.Options{Now: c.Now}})
	for i := range 6 {
		_, err := r.Post(context.Background(), summary())
		if (err != nil) != (i == 5) {
			t.Fatalf("feishu post %d in one second: %v", i, err)
		}
	}
}

// Two robots on one webhook (two processes, or a restart that forgot the count): the service's own
// limit answers, and that answer is a temporary error with DingTalk's 10 minutes.
func TestServiceRateLimit(t *testing.T) {
	c := newClock()
	srv := robottest.New(t, robottest.DingTalk, testToken, robottest.Options{Now: c.Now})
	a := resolve(t, robot.DingTalk, srv.URL(), "", "", robot.Options{Now: c.Now})
	b := resolve(t, robot.DingTalk, srv.URL(), "", "", robot.Options{Now: c.Now})
	for range 10 {
		for _, r := range []*robot.Robot{a, b} {
			if _, err := r.Post(context.Background(), summary()); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, err := a.Post(context.Background(), summary())
	if !robot.IsTemporary(err) || robot.RetryAfter(err) != 10*time.Minute {
		t.Fatalf("21st post on the webhook: %v (retry after %s)", err, robot.RetryAfter(err))
	}
	c.Advance(5 * time.Minute) // DingTalk still holds the robot; b does not know
	if _, err := b.Post(context.Background(), summary()); !robot.IsTemporary(err) {
		t.Fatalf("during DingTalk's hold: %v", err)
	}
	c.Advance(6 * time.Minute)
	if _, err := a.Post(context.Background(), summary()); err != nil {
		t.Fatalf("after the hold: %v", err)
	}
}

// Long content is cut at the service's limit: the fakes refuse anything over it.
func TestLongContent(t *testing.T) {
	var absent []string
	for i := range 3000 {
		absent = append(absent, "第"+strings.Repeat("职", i%7)+"中学")
	}
	long := robot.SummaryMessage("忻州市教育局", []robot.PeriodCounts{{Campaign: "月报", Units: 3000, Missing: 3000, Absent: absent}}, "")
	long.Markdown += strings.Repeat("报送单位情况说明。", 3000) // one very long line: cut mid-line
	tests := []struct {
		s     setup
		limit func(p robottest.Post) (n, max int)
	}{
		{setup{kind: robot.WeCom}, func(p robottest.Post) (int, int) { return len(p.Content), 4096 }},
		{setup{kind: robot.WeCom, format: robot.FormatText}, func(p robottest.Post) (int, int) { return len(p.Content), 2048 }},
		{setup{kind: robot.DingTalk, secret: testSecret}, func(p robottest.Post) (int, int) { return utf8.RuneCountInString(p.Content), 5000 }},
		{setup{kind: robot.Feishu, secret: testSecret}, func(p robottest.Post) (int, int) { return len(p.Body), 20000 }},
		{setup{kind: robot.Feishu, format: robot.FormatText}, func(p robottest.Post) (int, int) { return len(p.Body), 20000 }},
	}
	for _, tc := range tests {
		t.Run(string(tc.s.kind)+"/"+string(tc.s.format), func(t *testing.T) {
			r, srv := newPair(t, tc.s)
			if _, err := r.Post(context.Background(), long); err != nil {
				t.Fatalf("post: %v", err)
			}
			p := srv.Accepted()[0]
			n, max := tc.limit(p)
			if n > max || n < max-200 {
				t.Errorf("size %d, want just under %d", n, max)
			}
			if !utf8.ValidString(p.Content) || strings.ContainsRune(p.Content, utf8.RuneError) {
				t.Errorf("content is not clean UTF-8")
			}
			if !strings.HasSuffix(strings.TrimRight(p.Content, " \n"), robot.Suffix) {
				t.Errorf("content does not end with the suffix: …%q", p.Content[len(p.Content)-60:])
			}
		})
	}
}

// Every message briefd builds carries the keyword 报送, so a robot guarded by that keyword takes all.
func TestKeywords(t *testing.T) {
	at := time.Date(2026, 11, 23, 8, 29, 0, 0, time.FixedZone("CST", 8*3600))
	msgs := []robot.Message{
		summary(),
		robot.ReminderMessage("职教科", []robot.ReminderPeriod{{Campaign: "月报", Due: "11月30日", DaysLeft: 3, Absent: []string{"甲校"}}}, ""),
		robot.AlertMessage(true, at, "dial tcp: i/o timeout"),
		robot.AlertMessage(false, at, ""),
		robot.ProblemMessage("JB2026-0012", "a@b.cn", "月报", robot.ProblemUnmatched, ""),
		robot.TestMessage("职教科群", at),
	}
	for _, kind := range []robot.Kind{robot.DingTalk, robot.Feishu} {
		for _, f := range []robot.Format{robot.FormatMarkdown, robot.FormatText} {
			c := newClock()
			r, _ := newPair(t, setup{kind: kind, format: f, fakeOpt: robottest.Options{Keywords: []string{robot.TitleMark}, Now: c.Now},
				opt: robot.Options{Now: c.Now}})
			for _, m := range msgs {
				c.Advance(time.Second)
				if _, err := r.Post(context.Background(), m); err != nil {
					t.Errorf("%s/%s %q: %v", kind, f, m.Title, err)
				}
			}
		}
		r, _ := newPair(t, setup{kind: kind, fakeOpt: robottest.Options{Keywords: []string{"监控"}}})
		_, err := r.Post(context.Background(), summary())
		if err == nil || robot.IsTemporary(err) || !strings.Contains(err.Error(), "keyword") {
			t.Errorf("%s: a message without the robot's keyword: %v", kind, err)
		}
	}
}

func TestTLS(t *testing.T) {
	srv := robottest.New(t, robottest.Feishu, testHook, robottest.Options{TLS: true})
	if !strings.HasPrefix(srv.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %s", srv.URL())
	}
	r := resolve(t, robot.Feishu, srv.URL(), "", "", robot.Options{Client: srv.Client()})
	if _, err := r.Post(context.Background(), summary()); err != nil {
		t.Fatalf("post over TLS: %v", err)
	}
	// The system's roots do not know the fake's certificate.
	r = resolve(t, robot.Feishu, srv.URL(), "", "", robot.Options{})
	_, err := r.Post(context.Background(), summary())
	if err == nil || !robot.IsTemporary(err) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v", err)
	}
	if strings.Contains(err.Error(), testHook) {
		t.Fatalf("error leaks the hook id: %v", err)
	}
}

func TestTestHelper(t *testing.T) {
	r, srv := newPair(t, setup{kind: robot.DingTalk, secret: testSecret})
	out, err := robot.Test(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`robot "职教科群" (dingtalk`, "access_token=****", "posted: HTTP 200, code 0", `answer: {"errcode":0,"errmsg":"ok"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if p := srv.Accepted(); len(p) != 1 || !strings.Contains(p[0].Content, "测试") {
		t.Errorf("the fake got %+v", p)
	}
	srv.Next(robottest.InvalidKey)
	out, err = robot.Test(context.Background(), r)
	if err == nil || !strings.Contains(out, "refused: HTTP 200, code 300001") || !strings.Contains(out, "token is not exist") {
		t.Errorf("invalid key: %v\n%s", err, out)
	}
}

// Posts from several goroutines share the robot's limit (run with -race).
func TestConcurrentPosts(t *testing.T) {
	c := newClock()
	r, srv := newPair(t, setup{kind: robot.WeCom, fakeOpt: robottest.Options{Now: c.Now}, opt: robot.Options{Now: c.Now}})
	var wg sync.WaitGroup
	var mu sync.Mutex
	held := 0
	for range 30 {
		wg.Go(func() {
			_, err := r.Post(context.Background(), summary())
			var e *robot.Error
			if errors.As(err, &e) && e.Local {
				mu.Lock()
				held++
				mu.Unlock()
			} else if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(srv.Accepted()); n != 20 || held != 10 {
		t.Errorf("accepted %d, held %d; want 20 and 10", n, held)
	}
}
