package robot_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"briefd/robot"
)

func valid() robot.Config {
	return robot.Config{Name: "职教科群", Kind: robot.DingTalk, URLEnv: "BRIEFD_ROBOT_URL", SecretEnv: "BRIEFD_ROBOT_SECRET",
		Events: []robot.Event{robot.EventSummary, robot.EventReminder, robot.EventAlert, robot.EventProblems}}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*robot.Config)
		want   []string // "key: part of the message"
	}{
		{"valid", func(*robot.Config) {}, nil},
		{"file instead of env", func(c *robot.Config) { c.URLEnv, c.URLFile = "", "/etc/briefd/robot.url" }, nil},
		{"text format", func(c *robot.Config) { c.Format = robot.FormatText }, nil},
		{"everything wrong", func(c *robot.Config) {
			*c = robot.Config{Kind: "wechat", URLEnv: "X", URLFile: "/f", SecretEnv: "1BAD", SecretFile: "/s",
				Events: []robot.Event{"summary", "weekly", "summary"}, Format: "html"}
		}, []string{
			"name: missing", `kind: "wechat" must be wecom, dingtalk or feishu`, "url_file: give url_env or url_file, not both",
			"secret_file: give secret_env or secret_file, not both", `secret_env: "1BAD" is not an environment variable name`,
			`events[1]: "weekly" must be summary, reminder, alert or problems`, `events[2]: "summary" is listed twice`,
			`format: "html" must be markdown or text`,
		}},
		{"no URL", func(c *robot.Config) { c.URLEnv = "" }, []string{"url_env: missing"}},
		{"no events", func(c *robot.Config) { c.Events = nil }, []string{"events: missing"}},
		{"wecom with a secret", func(c *robot.Config) { c.Kind = robot.WeCom }, []string{"secret_env: WeCom group robots are not signed"}},
		{"control characters in the name", func(c *robot.Config) { c.Name = "群\x1b[2J" }, []string{"name: "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.change(&c)
			var got []string
			for _, p := range c.Validate() {
				got = append(got, p.String())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want %q", i, got[i], w)
				}
			}
		})
	}
}

func TestValidateAll(t *testing.T) {
	a, b := valid(), valid()
	b.Kind = "qq"
	p := robot.ValidateAll([]robot.Config{a, b})
	var got []string
	for _, q := range p {
		got = append(got, q.String())
	}
	want := []string{`robots[1].kind: "qq" must be`, `robots[1].name: "职教科群" is the name of another robot`}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d = %q, want %q…", i, got[i], want[i])
		}
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "robot.url")
	if err := os.WriteFile(urlFile, []byte("https://oapi.dingtalk.com/robot/send?access_token="+testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		kind   robot.Kind
		url    string // in BRIEFD_ROBOT_URL; "-" leaves it unset
		change func(*robot.Config)
		masked string // the robot's masked URL, or
		want   string // a problem
	}{
		{"wecom", robot.WeCom, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + testKey, nil,
			"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****", ""},
		{"dingtalk", robot.DingTalk, "https://oapi.dingtalk.com/robot/send?access_token=" + testToken, nil,
			"https://oapi.dingtalk.com/robot/send?access_token=****", ""},
		{"feishu", robot.Feishu, "https://open.feishu.cn/open-apis/bot/v2/hook/" + testHook, nil,
			"https://open.feishu.cn/open-apis/bot/v2/hook/****", ""},
		{"url from a file", robot.DingTalk, "-", func(c *robot.Config) { c.URLEnv, c.URLFile = "", urlFile },
			"https://oapi.dingtalk.com/robot/send?access_token=****", ""},
		{"http to loopback", robot.WeCom, "http://127.0.0.1:8089/cgi-bin/webhook/send?key=" + testKey, nil,
			"http://127.0.0.1:8089/cgi-bin/webhook/send?key=****", ""},
		{"http to ::1", robot.WeCom, "http://[::1]:8089/cgi-bin/webhook/send?key=" + testKey, nil,
			"http://[::1]:8089/cgi-bin/webhook/send?key=****", ""},
		{"http to localhost", robot.Feishu, "http://localhost/open-apis/bot/v2/hook/" + testHook, nil,
			"http://localhost/open-apis/bot/v2/hook/****", ""},
		{"http elsewhere", robot.WeCom, "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + testKey, nil,
			"", "url_env: the webhook URL must use https"},
		{"http to a private address", robot.Feishu, "http://10.0.0.8/open-apis/bot/v2/hook/" + testHook, nil,
			"", "url_env: the webhook URL must use https"},
		{"ftp", robot.WeCom, "ftp://qyapi.weixin.qq.com/send?key=" + testKey, nil, "", `scheme "ftp"`},
		{"not a URL", robot.WeCom, "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + testKey, nil, "", "cannot be parsed"},
		{"unparsable", robot.WeCom, "https://[qyapi/cgi-bin?key=" + testKey, nil, "", "cannot be parsed"},
		{"user info", robot.WeCom, "https://u:" + testKey + "@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x", nil, "", "user name or password"},
		{"wecom without key", robot.WeCom, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", nil, "", "has none"},
		{"dingtalk without token", robot.DingTalk, "https://oapi.dingtalk.com/robot/send?key=" + testKey, nil, "", "access_token"},
		{"dingtalk with a sign", robot.DingTalk, "https://oapi.dingtalk.com/robot/send?access_token=" + testToken + "&timestamp=1&sign=x", nil, "", "without timestamp and sign"},
		{"feishu without hook", robot.Feishu, "https://open.feishu.cn/open-apis/bot/v2/hook/", nil, "", "/open-apis/bot/v2/hook/"},
		{"unset variable", robot.WeCom, "-", nil, "", "url_env: environment variable BRIEFD_ROBOT_URL is not set"},
		{"missing file", robot.WeCom, "-", func(c *robot.Config) { c.URLEnv, c.URLFile = "", filepath.Join(dir, "nope") }, "", "url_file: cannot read the webhook URL file"},
		{"empty file", robot.WeCom, "-", func(c *robot.Config) { c.URLEnv, c.URLFile = "", empty }, "", "url_file: the webhook URL file " + empty + " is empty"},
		{"unset secret", robot.DingTalk, "https://oapi.dingtalk.com/robot/send?access_token=" + testToken,
			func(c *robot.Config) { c.SecretEnv = "BRIEFD_NO_SUCH" }, "", "secret_env: environment variable BRIEFD_NO_SUCH is not set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"BRIEFD_ROBOT_SECRET": testSecret}
			if tc.url != "-" {
				env["BRIEFD_ROBOT_URL"] = tc.url
			}
			c := robot.Config{Name: "群", Kind: tc.kind, URLEnv: "BRIEFD_ROBOT_URL", Events: []robot.Event{robot.EventAlert}}
			if tc.kind != robot.WeCom {
				c.SecretEnv = "BRIEFD_ROBOT_SECRET"
			}
			if tc.change != nil {
				tc.change(&c)
			}
			r, err := c.Resolve(func(k string) string { return env[k] }, robot.Options{})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("resolve: %v", err)
				}
				if got := r.MaskedURL(); got != tc.masked {
					t.Errorf("masked URL %q, want %q", got, tc.masked)
				}
				if r.Signed() != (tc.kind != robot.WeCom) {
					t.Errorf("Signed = %v", r.Signed())
				}
				return
			}
			var ce *robot.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			for _, s := range []string{testKey, testToken, testHook, testSecret} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error leaks a credential: %q", err)
				}
			}
		})
	}
}

func TestRobotAccessors(t *testing.T) {
	c := valid()
	env := map[string]string{"BRIEFD_ROBOT_URL": "https://oapi.dingtalk.com/robot/send?access_token=" + testToken, "BRIEFD_ROBOT_SECRET": testSecret}
	c.Events = []robot.Event{robot.EventAlert, robot.EventProblems}
	r, err := c.Resolve(func(k string) string { return env[k] }, robot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Name() != "职教科群" || r.Kind() != robot.DingTalk || !r.Wants(robot.EventAlert) || r.Wants(robot.EventSummary) {
		t.Errorf("accessors: %q %q", r.Name(), r.Kind())
	}
	evs := r.Events()
	evs[0] = "changed"
	if !r.Wants(robot.EventAlert) {
		t.Errorf("Events returns the robot's own slice")
	}
	if r.Ready() != 0 {
		t.Errorf("a new robot is not ready")
	}
}
