package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"briefd/config"
)

// Secret values the tests put in the environment; no output may contain them.
var testSecrets = map[string]string{
	"BRIEFD_IMAP_PASSWORD": "imap-Secret-7f3a",
	"BRIEFD_SMTP_PASSWORD": "smtp-Secret-91bc",
	"BRIEFD_WEB_PASSWORD":  "web-Secret-c0de",
}

func secretEnv(k string) string { return testSecrets[k] }

func noEnv(string) string { return "" }

// run calls runMain as `briefd args...` and returns the exit status and both outputs.
func run(t *testing.T, getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runMain(context.Background(), &env{stdout: &out, stderr: &errb, getenv: getenv}, args)
	for _, s := range testSecrets {
		if strings.Contains(out.String(), s) || strings.Contains(errb.String(), s) {
			t.Errorf("briefd %s printed the secret %q", strings.Join(args, " "), s)
		}
	}
	return code, out.String(), errb.String()
}

// baseConfig is a small valid config; STATE is replaced by a temporary folder.
const baseConfig = `office:
  name: 忻州市教育局职业教育科
  address: xzszjk@example.cn
  timezone: Asia/Shanghai
imap:
  server: imap.example.cn:993
  username: xzszjk@example.cn
smtp:
  server: smtp.example.cn:465
  username: xzszjk@example.cn
store:
  path: STATE/briefd.db
  archive: STATE/archive
units:
  - {id: xinfu, name: 忻府区教育科技局, aliases: [忻府区, 忻府], emails: [xinfu-jky@example.cn], kind: county}
  - {id: yuanping, name: 原平市教育科技局, aliases: [原平], emails: [yuanping-jky@example.cn], kind: county}
  - {id: dingxiang, name: 定襄县教育科技局, aliases: [定襄], kind: county}
campaigns:
  - {id: zjdh-study, title: 学习贯彻全省职教大会精神情况简报, units: all, opens: 2022-01-05, due: 2022-01-31, keywords: [学习贯彻]}
  - {id: zjdh-monthly, title: 职业教育大会筹备召开情况, units: [xinfu, yuanping], opens: 2022-01-05, every: month, until: 2022-04-30, keywords: [筹备]}
`

// writeConfig writes text (with STATE replaced) to a config file in a new folder and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(text, "STATE", filepath.Join(dir, "data"))), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigExampleLoads(t *testing.T) {
	code, out, errOut := run(t, secretEnv, "config", "check", "-config", "../../config.example.yaml")
	if code != 0 {
		t.Fatalf("config check of config.example.yaml exited %d:\n%s", code, errOut)
	}
	for _, want := range []string{"# ok: 15 units, 2 campaigns", "# imap password: set (hidden)", "# smtp password: set (hidden)",
		"password_env: BRIEFD_IMAP_PASSWORD", "timezone: Asia/Shanghai", "忻府区教育科技局"} {
		if !strings.Contains(out, want) {
			t.Errorf("config check output lacks %q:\n%s", want, out)
		}
	}
	cfg, err := config.Load("../../config.example.yaml", secretEnv, true)
	if err != nil {
		t.Fatal(err)
	}
	def := config.Default()
	if cfg.IMAP.Every().String() != "2m0s" || cfg.Limits.MessageBytes() != 60<<20 || cfg.Limits.AttachmentBytes() != 50<<20 ||
		cfg.Limits.PDFTime().String() != "30s" || cfg.Replies.ReceiptPrefix != def.Replies.ReceiptPrefix ||
		cfg.Web.Listen != def.Web.Listen || cfg.Store.Path != def.Store.Path || cfg.Location().String() != "Asia/Shanghai" {
		t.Errorf("config.example.yaml does not hold the defaults: %+v", cfg)
	}
	if cfg.IMAP.Value() != testSecrets["BRIEFD_IMAP_PASSWORD"] {
		t.Errorf("imap password not read from the environment")
	}
}

func TestConfigExampleWithoutPasswords(t *testing.T) {
	code, _, errOut := run(t, noEnv, "config", "check", "-config", "../../config.example.yaml")
	if code != 2 || !strings.Contains(errOut, "imap.password_env: environment variable BRIEFD_IMAP_PASSWORD is not set") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
}

func TestConfigBad(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(string) string
		getenv  func(string) string
		want    []string // all in the one problem reported
		wantAll int      // number of problems; 0 means 1
	}{
		{"unknown key with did-you-mean", repl("  timezone: Asia/Shanghai", "  timezone: Asia/Shanghai\n  sumary_to: [a@example.cn]"), nil,
			[]string{"office.sumary_to (line 5): unknown key", `did you mean "summary_to"?`}, 0},
		{"unknown top-level section", repl("store:", "stroe:"), nil,
			[]string{"stroe (line 11): unknown key", `did you mean "store"?`}, 0},
		{"bad duration", repl("  username: xzszjk@example.cn\nsmtp", "  username: xzszjk@example.cn\n  poll_interval: 2 minutes\nsmtp"), nil,
			[]string{"imap.poll_interval", `"2 minutes" is not a duration`}, 0},
		{"duration too short", repl("  username: xzszjk@example.cn\nsmtp", "  username: xzszjk@example.cn\n  poll_interval: 1s\nsmtp"), nil,
			[]string{"imap.poll_interval", "too short"}, 0},
		{"bad size", add("limits: {max_message: 60 megabytes}"), nil,
			[]string{"limits.max_message", `"60 megabytes" is not a size`}, 0},
		{"duplicate unit id", repl("{id: dingxiang", "{id: xinfu"), nil,
			[]string{`units[2]: id "xinfu" is used by two units`}, 0},
		{"email on two units", repl("[yuanping-jky@example.cn]", "[Xinfu-JKY@example.cn]"), nil,
			[]string{"units[1] (yuanping).emails: xinfu-jky@example.cn is already registered to unit xinfu"}, 0},
		{"campaign with an unknown unit", repl("units: [xinfu, yuanping]", "units: [xinfu, yuanpin]"), nil,
			[]string{`campaigns[1] (zjdh-monthly).units: no unit has the id "yuanpin"`}, 0},
		{"plain to a remote server", repl("  server: imap.example.cn:993", "  server: imap.example.cn:143\n  security: plain"), nil,
			[]string{"imap.security", "plain", "imap.example.cn"}, 0},
		{"unknown security", repl("  server: smtp.example.cn:465", "  server: smtp.example.cn:465\n  security: ssl"), nil,
			[]string{"smtp.security", `"ssl" must be tls, starttls or plain`}, 0},
		{"server without a port", repl("imap.example.cn:993", "imap.example.cn"), nil,
			[]string{"imap.server", "host:port"}, 0},
		{"unknown time zone", repl("Asia/Shanghai", "Asia/Beijing"), nil,
			[]string{"office.timezone", `"Asia/Beijing" is not a known time zone`}, 0},
		// What sending would refuse is refused here, not when the first reply goes out.
		{"office address the sender refuses", repl("address: xzszjk@example.cn", "address: xzszjk..jky@example.cn"), nil,
			[]string{"office.address", "empty atom in local part"}, 0},
		{"unit address the sender refuses", repl("[yuanping-jky@example.cn]", "[原平@example.cn]"), nil,
			[]string{"units[1] (yuanping).emails", "not an email address"}, 0},
		{"due before opens", repl("due: 2022-01-31", "due: 2022-01-01"), nil,
			[]string{"campaigns[0] (zjdh-study).due: 2022-01-01 is before opens 2022-01-05"}, 0},
		{"date that is not a date", repl("due: 2022-01-31", "due: 2022-02-30"), nil,
			[]string{"campaigns[0].due", "not a date"}, 0},
		{"every that is not month", repl("every: month", "every: week"), nil,
			[]string{"campaigns[1] (zjdh-monthly).every", `"week" is not supported`}, 0},
		{"web on 0.0.0.0 without a password", add("web: {listen: 0.0.0.0:8080, password_env: \"\"}"), nil,
			[]string{"web.listen", "0.0.0.0:8080 is reachable from other machines", "password"}, 0},
		{"web on 0.0.0.0, password variable not set", add("web: {listen: 0.0.0.0:8080}"),
			func(k string) string {
				if k == "BRIEFD_WEB_PASSWORD" {
					return ""
				}
				return secretEnv(k)
			},
			[]string{"web.password_env", "BRIEFD_WEB_PASSWORD is not set"}, 0},
		{"password file that does not exist", repl("  username: xzszjk@example.cn\nsmtp", "  username: xzszjk@example.cn\n  password_file: /nonexistent/imap.pass\nsmtp"), nil,
			[]string{"imap.password_file", "cannot read the password file"}, 0},
		{"wrong type for a boolean", repl("  username: xzszjk@example.cn\nsmtp", "  username: xzszjk@example.cn\n  idle: maybe\nsmtp"), nil,
			[]string{"imap.idle", "maybe"}, 0},
		{"wrong type for a number", add("replies: {per_sender_per_hour: many}"), nil,
			[]string{"replies.per_sender_per_hour", "many"}, 0},
		{"units file missing a column", func(s string) string {
			return s + "units_file: UNITSFILE\n"
		}, nil, []string{"units_file", "no column emails"}, 0},
		{"not YAML at all: broken syntax", func(string) string { return "office: [忻州\nimap: {server: \n\t- x" }, nil,
			[]string{"not valid YAML"}, 0},
		{"not YAML at all: a sentence", func(string) string { return "这是一个普通的文本文件，不是配置。\n" }, nil,
			[]string{"not a YAML mapping"}, 0},
		{"not YAML at all: a list", func(string) string { return "- office\n- imap\n" }, nil,
			[]string{"not a YAML mapping"}, 0},
		{"five mistakes, all named", func(s string) string {
			s = strings.Replace(s, "Asia/Shanghai", "Asia/Beijing", 1)
			s = strings.Replace(s, "  username: xzszjk@example.cn\nsmtp", "  username: xzszjk@example.cn\n  poll_interval: often\nsmtp", 1)
			s = strings.Replace(s, "store:", "limits: {max_attachment: huge}\nstore:", 1)
			s = strings.Replace(s, "  archive:", "  archiv: x\n  archive:", 1)
			return strings.Replace(s, "units: [xinfu, yuanping]", "units: [xinfu, nosuch]", 1)
		}, nil, []string{"has 5 problems", "office.timezone", "imap.poll_interval", "limits.max_attachment",
			`store.archiv (line 15): unknown key, did you mean "archive"?`, `no unit has the id "nosuch"`}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := tc.edit(baseConfig)
			if strings.Contains(text, "UNITSFILE") {
				uf := filepath.Join(t.TempDir(), "units.csv")
				if err := os.WriteFile(uf, []byte("id,name,aliases\nx,某单位,\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				text = strings.ReplaceAll(text, "UNITSFILE", uf)
			}
			if text == baseConfig {
				t.Fatal("the edit changed nothing")
			}
			getenv := tc.getenv
			if getenv == nil {
				getenv = secretEnv
			}
			p := writeConfig(t, text)
			code, out, errOut := run(t, getenv, "config", "check", "-config", p)
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if out != "" {
				t.Errorf("a bad config printed to stdout:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr does not say %q:\n%s", w, errOut)
				}
			}
			n := tc.wantAll
			if n == 0 {
				n = 1
			}
			if got := strings.Count(errOut, "\n  - "); (n == 1 && got != 0) || (n > 1 && got != n) {
				t.Errorf("want %d problem(s), got:\n%s", n, errOut)
			}
			if !strings.HasPrefix(errOut, "briefd config: "+p) {
				t.Errorf("stderr does not start with the file's name:\n%s", errOut)
			}
			if strings.Contains(errOut, "main.") || strings.Contains(errOut, "!!") {
				t.Errorf("stderr speaks Go or YAML internals:\n%s", errOut)
			}
		})
	}
}

func TestConfigGood(t *testing.T) {
	tests := []struct {
		name string
		edit func(string) string
	}{
		{"base", func(s string) string { return s }},
		{"plain to loopback", repl("  server: imap.example.cn:993", "  server: 127.0.0.1:1143\n  security: plain")},
		{"plain to localhost", repl("  server: smtp.example.cn:465", "  server: localhost:25\n  security: plain")},
		{"web on 0.0.0.0 with a password", add("web: {listen: 0.0.0.0:8080}")},
		{"sizes and durations in other spellings", add("limits: {max_message: 60MB, max_attachment: 1.5GiB, pdf_timeout: 1m}\nhealth: {alert_after: 1d}")},
		{"units from a file only", func(s string) string {
			i := strings.Index(s, "units:\n")
			j := strings.Index(s, "campaigns:")
			return s[:i] + "units_file: UNITSFILE\n" + s[j:]
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := tc.edit(baseConfig)
			if strings.Contains(text, "UNITSFILE") {
				uf := filepath.Join(t.TempDir(), "units.csv")
				data := "id,name,aliases,emails\nxinfu,忻府区教育科技局,忻府,xinfu-jky@example.cn\nyuanping,原平市教育科技局,原平,\ndingxiang,定襄县教育科技局,,\n"
				if err := os.WriteFile(uf, []byte(data), 0o600); err != nil {
					t.Fatal(err)
				}
				text = strings.ReplaceAll(text, "UNITSFILE", uf)
			}
			code, out, errOut := run(t, secretEnv, "config", "check", "-config", writeConfig(t, text))
			if code != 0 || !strings.Contains(out, "# ok: 3 units, 2 campaigns") {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
		})
	}
}

func TestConfigPath(t *testing.T) {
	p := writeConfig(t, baseConfig)
	getenv := func(k string) string {
		if k == "BRIEFD_CONFIG" {
			return p
		}
		return secretEnv(k)
	}
	if code, _, errOut := run(t, getenv, "config", "check"); code != 0 {
		t.Errorf("$BRIEFD_CONFIG not used: exit %d %s", code, errOut)
	}
	code, _, errOut := run(t, secretEnv, "config", "check", "-config", filepath.Join(t.TempDir(), "nope.yaml"))
	if code != 2 || !strings.Contains(errOut, "file not found") {
		t.Errorf("missing file: exit %d %s", code, errOut)
	}
}

func repl(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

func add(text string) func(string) string {
	return func(s string) string { return s + text + "\n" }
}
