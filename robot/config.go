package robot

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Kind is the service a robot posts to.
type Kind string

// The services.
const (
	WeCom    Kind = "wecom"    // 企业微信群机器人
	DingTalk Kind = "dingtalk" // 钉钉自定义机器人
	Feishu   Kind = "feishu"   // 飞书自定义机器人
)

// Kinds are the known kinds, in the order the config check names them.
var Kinds = []Kind{WeCom, DingTalk, Feishu}

// Event is what a robot may be told about.
type Event string

// The events.
const (
	EventSummary  Event = "summary"  // the weekly summary
	EventReminder Event = "reminder" // on reminder days, the units that have not reported
	EventAlert    Event = "alert"    // the mailbox could not be read for a while, and its recovery
	EventProblems Event = "problems" // a receipt that needs a person
)

// Events are the known events.
var Events = []Event{EventSummary, EventReminder, EventAlert, EventProblems}

// Format is how messages are sent.
type Format string

// The formats.
const (
	// FormatMarkdown renders messages as markdown (WeCom markdown, DingTalk markdown, a Feishu card with
	// a markdown element). The default.
	FormatMarkdown Format = "markdown"
	// FormatText sends plain text: for a WeCom group with members on personal WeChat, which is said not
	// to show WeCom markdown, or when markdown renders badly.
	FormatText Format = "text"
)

// Config is one entry of `robots:` in config.yaml. It holds where the webhook URL and the signing
// secret are (an environment variable or a file), never the values: the URL carries the robot's key.
type Config struct {
	Name       string  `yaml:"name"`
	Kind       Kind    `yaml:"kind"`
	URLEnv     string  `yaml:"url_env,omitempty"`
	URLFile    string  `yaml:"url_file,omitempty"`
	SecretEnv  string  `yaml:"secret_env,omitempty"`
	SecretFile string  `yaml:"secret_file,omitempty"`
	Events     []Event `yaml:"events"`
	Format     Format  `yaml:"format,omitempty"`
}

// Problem is one thing wrong with a robot's config: Key is the config key (e.g. url_env, or
// robots[1].url_env from ValidateAll), Msg says what is wrong.
type Problem struct {
	Key string
	Msg string
}

func (p Problem) String() string { return p.Key + ": " + p.Msg }

// Validate lists every problem of the config that can be seen without reading the environment or
// files; the keys are those of the entry (name, kind, url_env, …).
func (c Config) Validate() []Problem {
	var p []Problem
	add := func(key, format string, args ...any) {
		p = append(p, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(c.Name) == "" {
		add("name", "missing: give the robot a name, e.g. 职教科群")
	} else if strings.ContainsFunc(c.Name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		add("name", "%q has control characters", c.Name)
	}
	if !slices.Contains(Kinds, c.Kind) {
		add("kind", "%q must be wecom, dingtalk or feishu", c.Kind)
	}
	switch {
	case c.URLEnv == "" && c.URLFile == "":
		add("url_env", "missing: name the environment variable (url_env) or the file (url_file) that holds the webhook URL; the URL carries the robot's key, so it is never written in the config")
	case c.URLEnv != "" && c.URLFile != "":
		add("url_file", "give url_env or url_file, not both")
	}
	if c.URLEnv != "" && !validEnvName(c.URLEnv) {
		add("url_env", "%q is not an environment variable name (letters, digits and _)", c.URLEnv)
	}
	if c.SecretEnv != "" && c.SecretFile != "" {
		add("secret_file", "give secret_env or secret_file, not both")
	}
	if c.SecretEnv != "" && !validEnvName(c.SecretEnv) {
		add("secret_env", "%q is not an environment variable name (letters, digits and _)", c.SecretEnv)
	}
	if c.Kind == WeCom && (c.SecretEnv != "" || c.SecretFile != "") {
		key := "secret_env"
		if c.SecretFile != "" {
			key = "secret_file"
		}
		add(key, "WeCom group robots are not signed: remove the secret")
	}
	if len(c.Events) == 0 {
		add("events", "missing: list what the robot posts (summary, reminder, alert, problems)")
	}
	for i, e := range c.Events {
		if !slices.Contains(Events, e) {
			add(fmt.Sprintf("events[%d]", i), "%q must be summary, reminder, alert or problems", e)
		} else if slices.Index(c.Events, e) < i {
			add(fmt.Sprintf("events[%d]", i), "%q is listed twice", e)
		}
	}
	switch c.Format {
	case "", FormatMarkdown, FormatText:
	default:
		add("format", "%q must be markdown or text", c.Format)
	}
	return p
}

// ValidateAll validates every entry of `robots:` with keys robots[i].…, and refuses two robots with the
// same name (`briefd robot test NAME` and the outbox find a robot by its name).
func ValidateAll(cs []Config) []Problem {
	var p []Problem
	for i, c := range cs {
		prefix := fmt.Sprintf("robots[%d].", i)
		for _, q := range c.Validate() {
			p = append(p, Problem{Key: prefix + q.Key, Msg: q.Msg})
		}
		if c.Name != "" && slices.IndexFunc(cs[:i], func(d Config) bool { return d.Name == c.Name }) >= 0 {
			p = append(p, Problem{Key: prefix + "name", Msg: fmt.Sprintf("%q is the name of another robot", c.Name)})
		}
	}
	return p
}

func validEnvName(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// Options tune a resolved Robot. The zero value is what briefd uses.
type Options struct {
	// Client sends the requests. Default: a client with Timeout and the system's roots. Redirects are
	// never followed, whatever the client says (the webhook URL carries the key).
	Client *http.Client
	// Timeout bounds one post, from connecting to reading the answer. Default 15s.
	Timeout time.Duration
	// Now is the clock, for signatures and the rate limit. Default time.Now.
	Now func() time.Time
	// ReadFile reads url_file and secret_file. Default os.ReadFile.
	ReadFile func(name string) ([]byte, error)
}

// Resolve reads the webhook URL and the secret (from the environment through getenv, or from their
// files) and returns the robot. Every problem is returned in one *ConfigError whose keys are those of
// the entry; no message contains the URL or the secret.
//
// The URL must be https, except to a loopback address (tests); it must have the shape of its kind's
// webhook: a key= (WeCom), an access_token= (DingTalk), /open-apis/bot/v2/hook/ID (Feishu).
func (c Config) Resolve(getenv func(string) string, o Options) (*Robot, error) {
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	problems := c.Validate()
	if len(problems) > 0 {
		return nil, &ConfigError{Robot: c.Name, Problems: problems}
	}
	add := func(key, format string, args ...any) {
		problems = append(problems, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	r := &Robot{name: c.Name, kind: c.Kind, events: slices.Clone(c.Events), format: c.Format, o: o}
	if r.format == "" {
		r.format = FormatMarkdown
	}

	raw, key, err := readValue(getenv, o.ReadFile, c.URLEnv, "url_env", c.URLFile, "url_file", "webhook URL")
	if err != nil {
		add(key, "%v", err)
	} else if u, why := checkURL(c.Kind, raw); why != "" {
		add(key, "%s", why)
	} else {
		r.url = hookURL{u: u, kind: c.Kind}
	}
	if c.SecretEnv != "" || c.SecretFile != "" {
		s, key, err := readValue(getenv, o.ReadFile, c.SecretEnv, "secret_env", c.SecretFile, "secret_file", "signing secret")
		if err != nil {
			add(key, "%v", err)
		} else {
			r.secret = secret(s)
		}
	}
	if len(problems) > 0 {
		return nil, &ConfigError{Robot: c.Name, Problems: problems}
	}
	r.client = o.Client
	if r.client == nil {
		r.client = &http.Client{Timeout: o.Timeout}
	}
	// A redirect would carry the key elsewhere, and a webhook never redirects: stop at it.
	c2 := *r.client
	c2.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r.client = &c2
	r.lim = newLimiter(c.Kind)
	return r, nil
}

// ConfigError lists the problems found by Resolve.
type ConfigError struct {
	Robot    string
	Problems []Problem
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "robot %q:", e.Robot)
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(" " + p.String())
	}
	return b.String()
}

// readValue reads a secret value from its variable or file; key is the config key to blame.
func readValue(getenv func(string) string, readFile func(string) ([]byte, error), env, envKey, file, fileKey, what string) (string, string, error) {
	if env != "" {
		v := strings.TrimSpace(getenv(env))
		if v == "" {
			return "", envKey, fmt.Errorf("environment variable %s is not set (it should hold the %s)", env, what)
		}
		return v, envKey, nil
	}
	b, err := readFile(file)
	if err != nil {
		// The path is ours to show; the error of os.ReadFile names only the path.
		return "", fileKey, fmt.Errorf("cannot read the %s file: %w", what, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fileKey, fmt.Errorf("the %s file %s is empty", what, file)
	}
	return v, fileKey, nil
}

// checkURL parses a webhook URL and says what is wrong with it, never quoting it.
func checkURL(kind Kind, raw string) (*url.URL, string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		// url.Parse's error quotes the URL: never show it.
		return nil, "the webhook URL cannot be parsed as an absolute URL (like https://host/path?query)"
	}
	if u.User != nil {
		return nil, "the webhook URL must not carry a user name or password"
	}
	if u.Fragment != "" {
		return nil, "the webhook URL must not have a #fragment"
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, "the webhook URL must use https (http is allowed only to a loopback address, for tests)"
		}
	default:
		return nil, fmt.Sprintf("the webhook URL has scheme %q: it must be https", u.Scheme)
	}
	q := u.Query()
	switch kind {
	case WeCom:
		if q.Get("key") == "" {
			return nil, "a WeCom webhook URL carries the robot's key (…/cgi-bin/webhook/send?key=…); this one has none"
		}
	case DingTalk:
		if q.Get("access_token") == "" {
			return nil, "a DingTalk webhook URL carries access_token= (…/robot/send?access_token=…); this one has none"
		}
		if q.Has("timestamp") || q.Has("sign") {
			return nil, "give the DingTalk webhook URL without timestamp and sign: they are computed for every post from the secret"
		}
	case Feishu:
		if hookID(u) == "" {
			return nil, "a Feishu webhook URL ends in /open-apis/bot/v2/hook/ and the robot's id; this one does not"
		}
	}
	return u, ""
}

// hookID is the last path element of a Feishu webhook URL, "" when the path is not …/bot/v2/hook/ID.
func hookID(u *url.URL) string {
	_, id, ok := strings.Cut(strings.TrimSuffix(u.Path, "/"), "/bot/v2/hook/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return ""
	}
	return id
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
