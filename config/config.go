// Package config is config.yaml: the settings' types and defaults, loading them with every problem
// listed under its key, the secrets (passwords read from an environment variable or a file, never
// written in the file), and the effective settings printed with the secrets hidden. Only cmd/briefd
// (and the demo and tests, which write configs) use it; every other package takes Options.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"briefd/internal/mailnet"
	"briefd/robot"
	"briefd/roster"
)

// Config is config.yaml. Durations and sizes are kept as written and parsed by validate, so that every
// mistake can be reported at once; the parsed values live in the fields tagged yaml:"-".
type Config struct {
	Office    OfficeConfig     `yaml:"office"`
	IMAP      IMAPConfig       `yaml:"imap"`
	SMTP      SMTPConfig       `yaml:"smtp"`
	Store     StoreConfig      `yaml:"store"`
	Limits    LimitsConfig     `yaml:"limits"`
	Replies   RepliesConfig    `yaml:"replies"`
	Summary   SummaryConfig    `yaml:"summary"`
	Reminders RemindersConfig  `yaml:"reminders"`
	Health    HealthConfig     `yaml:"health"`
	Web       WebConfig        `yaml:"web"`
	Robots    []robot.Config   `yaml:"robots,omitempty"`
	Log       LogConfig        `yaml:"log"`
	UnitsFile string           `yaml:"units_file,omitempty"`
	Units     []roster.Unit    `yaml:"units"`
	Campaigns []CampaignConfig `yaml:"campaigns"`

	path     string
	location *time.Location
	roster   *roster.Roster
	robots   []*robot.Robot // resolved when the secrets are read
}

// OfficeConfig describes the office that owns the mailbox.
type OfficeConfig struct {
	Name      string   `yaml:"name"`
	Address   string   `yaml:"address"`
	Contact   string   `yaml:"contact"`
	SummaryTo []string `yaml:"summary_to"`
	Timezone  string   `yaml:"timezone"`
}

// Secret is a password given by the name of an environment variable or a file, never by value.
type Secret struct {
	PasswordEnv  string `yaml:"password_env,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
	value        string
}

// IMAPConfig is the mailbox briefd watches.
type IMAPConfig struct {
	Server       string `yaml:"server"`
	Security     string `yaml:"security"`
	Username     string `yaml:"username"`
	Secret       `yaml:",inline"`
	CAFile       string `yaml:"ca_file,omitempty"`
	Mailbox      string `yaml:"mailbox"`
	IDLE         bool   `yaml:"idle"`
	PollInterval string `yaml:"poll_interval"`
	After        string `yaml:"after"`
	MoveTo       string `yaml:"move_to,omitempty"`
	Debug        bool   `yaml:"debug"`
	// AuthServIDs are the receiving provider's authserv-ids whose Authentication-Results are believed;
	// empty: the provider's domain, from Server (imap.163.com: 163.com).
	AuthServIDs []string `yaml:"authserv_ids"`
	// Since: older mail is left alone (not downloaded, not recorded). "" for all mail.
	Since string `yaml:"since"`
	// SpamMailbox is the provider's spam folder, also read: "" finds it (SPECIAL-USE \Junk), "none" reads none.
	SpamMailbox string `yaml:"spam_mailbox"`

	pollInterval time.Duration
	authServIDs  []string
	since        time.Time
}

// SMTPConfig is the server replies go out through.
type SMTPConfig struct {
	Server   string `yaml:"server"`
	Security string `yaml:"security"`
	Username string `yaml:"username"`
	Secret   `yaml:",inline"`
	CAFile   string `yaml:"ca_file,omitempty"`
	SaveSent string `yaml:"save_sent"`
}

// StoreConfig says where state and archive live.
type StoreConfig struct {
	Path    string `yaml:"path"`
	Archive string `yaml:"archive"`
	Spool   string `yaml:"spool"`
}

// LimitsConfig bounds what one mail may cost.
type LimitsConfig struct {
	MaxMessage    string `yaml:"max_message"`
	MaxAttachment string `yaml:"max_attachment"`
	PDFTimeout    string `yaml:"pdf_timeout"`
	PDFMemory     string `yaml:"pdf_memory"`

	maxMessage, maxAttachment, pdfMemory int64
	pdfTimeout                           time.Duration
}

// RepliesConfig controls receipt replies.
type RepliesConfig struct {
	Enabled          bool   `yaml:"enabled"`
	ReceiptPrefix    string `yaml:"receipt_prefix"`
	PerSenderPerHour int    `yaml:"per_sender_per_hour"`
	Templates        string `yaml:"templates,omitempty"`
	// MaxAge: mail received longer ago is recorded but not answered (history).
	MaxAge string `yaml:"max_age"`

	maxAge time.Duration
}

// SummaryConfig is when the weekly summary goes out.
type SummaryConfig struct {
	Weekday string `yaml:"weekday"`
	At      string `yaml:"at"`
}

// RemindersConfig is when reminders go out.
type RemindersConfig struct {
	DaysBeforeDue []int  `yaml:"days_before_due"`
	At            string `yaml:"at"`
}

// HealthConfig is when the office is told the mailbox cannot be read.
type HealthConfig struct {
	AlertAfter string `yaml:"alert_after"`

	alertAfter time.Duration
}

// WebConfig is the dashboard.
type WebConfig struct {
	Listen string `yaml:"listen"`
	Secret `yaml:",inline"`
	// PublicURL is the dashboard's address as the office opens it (https://briefd.example.cn/), for
	// links in group-robot posts. "" leaves the links out.
	PublicURL string `yaml:"public_url,omitempty"`
}

// LogConfig sets logging.
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// CampaignConfig is one campaign as written in the file.
type CampaignConfig struct {
	ID       string   `yaml:"id"`
	Title    string   `yaml:"title"`
	Units    UnitList `yaml:"units"`
	Opens    string   `yaml:"opens"`
	Due      string   `yaml:"due,omitempty"`
	Every    string   `yaml:"every,omitempty"`
	Until    string   `yaml:"until,omitempty"`
	Keywords []string `yaml:"keywords,omitempty"`
}

// UnitList is "all" or a list of unit ids.
type UnitList []string

// UnmarshalYAML accepts a scalar ("all") or a sequence.
func (l *UnitList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = UnitList{n.Value}
		return nil
	}
	var s []string
	if err := n.Decode(&s); err != nil {
		return err
	}
	*l = s
	return nil
}

// MarshalYAML writes "all" as a scalar.
func (l UnitList) MarshalYAML() (any, error) {
	if len(l) == 1 && l[0] == "all" {
		return "all", nil
	}
	return []string(l), nil
}

// Default holds every default; config.example.yaml documents the same values (TestExampleHasEveryKey).
func Default() Config {
	return Config{
		Office: OfficeConfig{Timezone: "Asia/Shanghai"},
		IMAP: IMAPConfig{Security: "tls", Mailbox: "INBOX", IDLE: true, PollInterval: "2m", After: "none",
			Secret: Secret{PasswordEnv: "BRIEFD_IMAP_PASSWORD"}},
		SMTP:      SMTPConfig{Security: "tls", Secret: Secret{PasswordEnv: "BRIEFD_SMTP_PASSWORD"}},
		Store:     StoreConfig{Path: "data/briefd.db", Archive: "data/archive", Spool: "data/spool"},
		Limits:    LimitsConfig{MaxMessage: "60MiB", MaxAttachment: "50MiB", PDFTimeout: "30s", PDFMemory: "512MiB"},
		Replies:   RepliesConfig{Enabled: true, ReceiptPrefix: "JB", PerSenderPerHour: 10, MaxAge: "30d"},
		Summary:   SummaryConfig{Weekday: "monday", At: "08:30"},
		Reminders: RemindersConfig{DaysBeforeDue: []int{3, 1}, At: "09:00"},
		Health:    HealthConfig{AlertAfter: "2h"},
		Web:       WebConfig{Listen: "127.0.0.1:8080", Secret: Secret{PasswordEnv: "BRIEFD_WEB_PASSWORD"}},
		Log:       LogConfig{Level: "info", Format: "text"},
	}
}

// Error lists every problem of a config file; each line names the key.
type Error struct {
	Path     string
	Problems []string
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return fmt.Sprintf("%s: %s", e.Path, e.Problems[0])
	}
	return fmt.Sprintf("%s has %d problems:\n  - %s", e.Path, len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// Path picks the file: the flag, else $BRIEFD_CONFIG, else ./config.yaml.
func Path(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	if p := getenv("BRIEFD_CONFIG"); p != "" {
		return p
	}
	return "config.yaml"
}

// Load reads, checks and resolves a config file. Secrets are read when needSecrets is set
// (commands that talk to servers); the others work without them.
func Load(path string, getenv func(string) string, needSecrets bool) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, &Error{Path: path, Problems: []string{"file not found (copy config.example.yaml to config.yaml and edit it, or pass -config PATH)"}}
		}
		return nil, &Error{Path: path, Problems: []string{err.Error()}}
	}
	return Parse(path, data, getenv, needSecrets)
}

// StorePath reads only store.path from the config file at path (its default when the file does not set
// it), without checking anything else: enough to find a running daemon's control socket, to which a
// command is forwarded and which runs it with the config it loaded itself. ok is false when the file
// cannot be read or is not YAML with a store section of the right shape; Load then says why.
func StorePath(path string) (dbPath string, ok bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	var c struct {
		Store struct {
			Path string `yaml:"path"`
		} `yaml:"store"`
	}
	c.Store.Path = Default().Store.Path
	if yaml.Unmarshal(data, &c) != nil || c.Store.Path == "" {
		return "", false
	}
	return c.Store.Path, true
}

var yamlLine = regexp.MustCompile(`^yaml: (line \d+: )?`)

// Parse is Load of the data of a file.
func Parse(path string, data []byte, getenv func(string) string, needSecrets bool) (*Config, error) {
	cfg := Default()
	cfg.path = path
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{Path: path, Problems: []string{"not valid YAML: " + yamlLine.ReplaceAllString(err.Error(), "$1")}}
	}
	var problems []string
	if len(doc.Content) > 0 {
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode && root.Tag != "!!null" {
			return nil, &Error{Path: path, Problems: []string{"not a YAML mapping of settings: the file must consist of " +
				"sections like office:, imap:, smtp:, units: (see config.example.yaml)"}}
		}
		ck := keyChecker{lines: map[int]bool{}}
		ck.check(root, reflect.TypeOf(cfg), "")
		problems = ck.problems
		if err := root.Decode(&cfg); err != nil {
			if te, ok := err.(*yaml.TypeError); ok {
				for _, e := range te.Errors {
					// The walk above named the key of every value of the wrong type; keep only what it missed.
					if m := yamlErrLine.FindStringSubmatch(e); m != nil && ck.lines[atoi(m[1])] {
						continue
					}
					problems = append(problems, strings.TrimPrefix(e, "yaml: "))
				}
			} else {
				problems = append(problems, err.Error())
			}
		}
	}
	problems = append(problems, cfg.validate(getenv, needSecrets)...)
	if len(problems) > 0 {
		return nil, &Error{Path: path, Problems: problems}
	}
	return &cfg, nil
}

var (
	yamlErrLine     = regexp.MustCompile(`^(?:yaml: )?line (\d+):`)
	yamlUnmarshaler = reflect.TypeFor[yaml.Unmarshaler]()
)

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// keyChecker walks the YAML tree along the Go type and reports keys the type does not have and values of
// the wrong kind, each with its key; lines records where it found a wrong value.
type keyChecker struct {
	problems []string
	lines    map[int]bool
}

func (k *keyChecker) check(n *yaml.Node, t reflect.Type, prefix string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode || n.Tag == "!!null" {
		return
	}
	if reflect.PointerTo(t).Implements(yamlUnmarshaler) {
		k.tryDecode(n, t, prefix)
		return
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := yamlFields(t)
		var names []string
		for k := range fields {
			names = append(names, k)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			ft, ok := fields[key.Value]
			if !ok {
				msg := fmt.Sprintf("%s (line %d): unknown key", join(prefix, key.Value), key.Line)
				if s := Suggest(key.Value, names); s != "" {
					msg += fmt.Sprintf(", did you mean %q?", s)
				}
				k.problems = append(k.problems, msg)
				continue
			}
			k.check(val, ft, join(prefix, key.Value))
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, c := range n.Content {
			k.check(c, t.Elem(), fmt.Sprintf("%s[%d]", prefix, i))
		}
	default:
		k.tryDecode(n, t, prefix)
	}
}

// tryDecode reports the value at n when it does not fit the type t.
func (k *keyChecker) tryDecode(n *yaml.Node, t reflect.Type, key string) {
	if n.Decode(reflect.New(t).Interface()) == nil {
		return
	}
	got := "`" + n.Value + "`"
	switch n.Kind {
	case yaml.MappingNode:
		got = "a section of keys"
	case yaml.SequenceNode:
		got = "a list"
	}
	want := map[reflect.Kind]string{reflect.Bool: "true or false", reflect.Int: "a whole number", reflect.Int64: "a whole number",
		reflect.Uint32: "a whole number", reflect.Float64: "a number", reflect.String: "a single value", reflect.Slice: "a list",
		reflect.Struct: "a section of keys", reflect.Map: "a section of keys"}[t.Kind()]
	if want == "" {
		want = "a " + t.Kind().String()
	}
	k.problems = append(k.problems, fmt.Sprintf("%s (line %d): %s is not %s", key, n.Line, got, want))
	k.lines[n.Line] = true
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// yamlFields maps the YAML keys of a struct type (following ",inline") to their field types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// validate checks every value and fills the parsed fields. It returns every problem found.
func (c *Config) validate(getenv func(string) string, needSecrets bool) []string {
	var p []string
	add := func(key, format string, a ...any) { p = append(p, key+": "+fmt.Sprintf(format, a...)) }

	if c.Office.Name == "" {
		add("office.name", "missing (the office's name, shown in replies)")
	}
	if why := roster.AddressProblem(c.Office.Address); why != "" {
		add("office.address", "%q is not an email address (the mailbox units write to): %s", c.Office.Address, why)
	}
	for i, a := range c.Office.SummaryTo {
		if why := roster.AddressProblem(a); why != "" {
			add(fmt.Sprintf("office.summary_to[%d]", i), "%q is not an email address: %s", a, why)
		}
	}
	loc, err := time.LoadLocation(c.Office.Timezone)
	if err != nil || c.Office.Timezone == "" {
		add("office.timezone", "%q is not a known time zone (for China use Asia/Shanghai)", c.Office.Timezone)
		loc = time.FixedZone("CST", 8*3600)
	}
	c.location = loc

	checkServer := func(key, server, security string) {
		host, port, err := net.SplitHostPort(server)
		if server == "" || err != nil || host == "" || port == "" {
			add(key+".server", "%q must be host:port, e.g. %s.163.com:%s", server, key, map[string]string{"imap": "993", "smtp": "465"}[key])
		}
		switch security {
		case "tls", "starttls":
		case "plain":
			if err == nil && !mailnet.IsLoopback(host) {
				add(key+".security", "plain (no encryption) is only allowed to a server on this machine, not %s: use tls or starttls", host)
			}
		default:
			add(key+".security", "%q must be tls, starttls or plain", security)
		}
	}
	checkServer("imap", c.IMAP.Server, c.IMAP.Security)
	checkServer("smtp", c.SMTP.Server, c.SMTP.Security)
	if c.IMAP.Username == "" {
		add("imap.username", "missing (usually the mailbox address)")
	}
	c.IMAP.pollInterval = parseDuration(&p, "imap.poll_interval", c.IMAP.PollInterval, 10*time.Second)
	c.IMAP.authServIDs = c.IMAP.AuthServIDs
	if c.IMAP.Since != "" {
		if d, err := roster.ParseDate(c.IMAP.Since); err != nil {
			add("imap.since", "%q is not a date like 2026-09-01", c.IMAP.Since)
		} else {
			c.IMAP.since = d.Start(time.FixedZone("", 0))
		}
	}
	for i, id := range c.IMAP.AuthServIDs {
		if !regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`).MatchString(id) {
			add(fmt.Sprintf("imap.authserv_ids[%d]", i), "%q is not a host or domain name, e.g. 163.com", id)
		}
	}
	if len(c.IMAP.authServIDs) == 0 {
		if host, _, err := net.SplitHostPort(c.IMAP.Server); err == nil {
			if d := providerDomain(host); d != "" {
				c.IMAP.authServIDs = []string{d}
			}
		}
	}
	switch c.IMAP.After {
	case "none", "seen", "flag":
	case "move":
		if c.IMAP.MoveTo == "" {
			add("imap.move_to", "missing: after: move needs the folder to move processed mail to")
		}
	default:
		add("imap.after", "%q must be none, seen, flag or move", c.IMAP.After)
	}
	for _, f := range []struct{ key, path string }{{"imap.ca_file", c.IMAP.CAFile}, {"smtp.ca_file", c.SMTP.CAFile}} {
		if f.path != "" {
			if _, err := os.Stat(f.path); err != nil {
				add(f.key, "cannot read %s: %v", f.path, err)
			}
		}
	}

	if c.Store.Path == "" {
		add("store.path", "missing")
	}
	if c.Store.Archive == "" {
		add("store.archive", "missing")
	}
	c.Limits.maxMessage = parseSize(&p, "limits.max_message", c.Limits.MaxMessage)
	c.Limits.maxAttachment = parseSize(&p, "limits.max_attachment", c.Limits.MaxAttachment)
	c.Limits.pdfMemory = parseSize(&p, "limits.pdf_memory", c.Limits.PDFMemory)
	c.Limits.pdfTimeout = parseDuration(&p, "limits.pdf_timeout", c.Limits.PDFTimeout, time.Second)

	if !regexp.MustCompile(`^[A-Za-z]{1,8}$`).MatchString(c.Replies.ReceiptPrefix) {
		add("replies.receipt_prefix", "%q must be 1 to 8 Latin letters, e.g. JB", c.Replies.ReceiptPrefix)
	}
	c.Replies.maxAge = parseDuration(&p, "replies.max_age", c.Replies.MaxAge, 24*time.Hour)
	if c.Replies.PerSenderPerHour < 1 {
		add("replies.per_sender_per_hour", "must be at least 1, not %d", c.Replies.PerSenderPerHour)
	}
	if c.Replies.Templates != "" {
		if st, err := os.Stat(c.Replies.Templates); err != nil || !st.IsDir() {
			add("replies.templates", "%q is not a folder", c.Replies.Templates)
		}
	}
	if _, ok := roster.ParseWeekday(c.Summary.Weekday); !ok {
		add("summary.weekday", "%q is not a day of the week (monday … sunday)", c.Summary.Weekday)
	}
	if _, _, ok := roster.ParseClock(c.Summary.At); !ok {
		add("summary.at", "%q is not a time like 08:30", c.Summary.At)
	}
	if _, _, ok := roster.ParseClock(c.Reminders.At); !ok {
		add("reminders.at", "%q is not a time like 09:00", c.Reminders.At)
	}
	for i, d := range c.Reminders.DaysBeforeDue {
		if d < 0 || d > 60 {
			add(fmt.Sprintf("reminders.days_before_due[%d]", i), "%d must be between 0 and 60", d)
		}
	}
	c.Health.alertAfter = parseDuration(&p, "health.alert_after", c.Health.AlertAfter, time.Minute)

	webPublic := false
	if host, _, err := net.SplitHostPort(c.Web.Listen); err != nil {
		add("web.listen", "%q must be host:port, e.g. 127.0.0.1:8080", c.Web.Listen)
	} else if webPublic = !mailnet.IsLoopback(host); webPublic && c.Web.PasswordEnv == "" && c.Web.PasswordFile == "" {
		add("web.listen", "%s is reachable from other machines: set web.password_env or web.password_file", c.Web.Listen)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", "%q must be debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		add("log.format", "%q must be text or json", c.Log.Format)
	}

	for _, s := range []struct {
		key string
		sec *Secret
		req bool
	}{{"imap", &c.IMAP.Secret, true}, {"smtp", &c.SMTP.Secret, c.SMTP.Username != ""}, {"web", &c.Web.Secret, webPublic}} {
		if s.sec.PasswordEnv != "" && s.sec.PasswordFile != "" {
			if s.sec.PasswordEnv != defaultPasswordEnv[s.key] {
				add(s.key+".password_file", "give password_env or password_file, not both")
				continue
			}
			s.sec.PasswordEnv = "" // password_file replaces the default variable
		}
		v, err := s.sec.resolve(getenv)
		if s.key == "web" && errors.Is(err, errNoSecret) {
			err = nil // web.listen already says that a password is needed
		}
		if err != nil && needSecrets && s.req {
			add(s.key+"."+s.sec.source(), "%v", err)
		}
		s.sec.value = v
	}
	if u := c.Web.PublicURL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
			add("web.public_url", "%q must be the dashboard's address as people open it, e.g. https://briefd.example.cn/", u)
		}
	}
	p = append(p, c.resolveRobots(getenv, needSecrets)...)
	p = append(p, c.buildRoster(loc)...)
	return p
}

// resolveRobots checks robots:, and with needSecrets reads each robot's webhook URL and secret.
func (c *Config) resolveRobots(getenv func(string) string, needSecrets bool) []string {
	var p []string
	for _, q := range robot.ValidateAll(c.Robots) {
		p = append(p, q.String())
	}
	if len(p) > 0 || !needSecrets {
		return p
	}
	c.robots = nil
	for i, rc := range c.Robots {
		r, err := rc.Resolve(getenv, robot.Options{})
		var ce *robot.ConfigError
		if errors.As(err, &ce) {
			for _, q := range ce.Problems {
				p = append(p, fmt.Sprintf("robots[%d].%s", i, q))
			}
			continue
		} else if err != nil {
			p = append(p, fmt.Sprintf("robots[%d]: %v", i, err))
			continue
		}
		c.robots = append(c.robots, r)
	}
	return p
}

// defaultPasswordEnv are the variables read when the config names no password source.
var defaultPasswordEnv = map[string]string{"imap": "BRIEFD_IMAP_PASSWORD", "smtp": "BRIEFD_SMTP_PASSWORD", "web": "BRIEFD_WEB_PASSWORD"}

var errNoSecret = fmt.Errorf("no password configured")

// resolve reads the secret from its variable or file.
func (s *Secret) resolve(getenv func(string) string) (string, error) {
	switch {
	case s.PasswordEnv != "":
		v := getenv(s.PasswordEnv)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is not set", s.PasswordEnv)
		}
		return v, nil
	case s.PasswordFile != "":
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("cannot read the password file: %v", err)
		}
		v := strings.TrimPrefix(strings.TrimRight(string(b), "\r\n"), "\ufeff") // Windows Notepad may start it with a BOM
		if v == "" {
			return "", fmt.Errorf("the password file %s is empty", s.PasswordFile)
		}
		return v, nil
	}
	return "", errNoSecret
}

func (s *Secret) source() string {
	if s.PasswordFile != "" {
		return "password_file"
	}
	return "password_env"
}

// buildRoster loads units (config and units_file) and campaigns and builds the roster.
func (c *Config) buildRoster(loc *time.Location) []string {
	var p []string
	units := slices.Clone(c.Units)
	if c.UnitsFile != "" {
		fu, err := roster.LoadUnitsFile(c.UnitsFile)
		if err != nil {
			p = append(p, "units_file: "+err.Error())
		}
		units = append(units, fu...)
	}
	if len(units) == 0 && c.UnitsFile == "" {
		p = append(p, "units: no units registered (list them here or in units_file)")
	}
	var camps []roster.Campaign
	var badDates []string // "campaigns[0] (id).due: missing": the date was already reported as not a date
	for i, cc := range c.Campaigns {
		key := fmt.Sprintf("campaigns[%d]", i)
		rc := roster.Campaign{ID: cc.ID, Title: cc.Title, Units: cc.Units, Every: cc.Every, Keywords: cc.Keywords}
		for _, d := range []struct {
			name, val string
			dst       *roster.Date
		}{{"opens", cc.Opens, &rc.Opens}, {"due", cc.Due, &rc.Due}, {"until", cc.Until, &rc.Until}} {
			if d.val == "" {
				continue
			}
			v, err := roster.ParseDate(d.val)
			if err != nil {
				p = append(p, fmt.Sprintf("%s.%s: %v", key, d.name, err))
				badDates = append(badDates, fmt.Sprintf("%s (%s).%s: missing", key, cc.ID, d.name))
				continue
			}
			*d.dst = v
		}
		if len(cc.Units) == 0 {
			p = append(p, key+".units: missing (a list of unit ids, or all)")
		}
		camps = append(camps, rc)
	}
	r, err := roster.New(units, camps, loc)
	if err != nil {
		if re, ok := err.(*roster.Error); ok {
			for _, prob := range re.Problems {
				if !slices.ContainsFunc(badDates, func(b string) bool { return strings.HasPrefix(prob, b) }) {
					p = append(p, prob)
				}
			}
		} else {
			p = append(p, err.Error())
		}
		return p
	}
	c.roster = r
	return p
}

func parseDuration(p *[]string, key, s string, min time.Duration) time.Duration {
	d, err := parseDurationString(s)
	if err != nil {
		*p = append(*p, fmt.Sprintf("%s: %q is not a duration like 30s, 2m, 2h or 1d", key, s))
		return 0
	}
	if d < min {
		*p = append(*p, fmt.Sprintf("%s: %s is too short (at least %s)", key, s, min))
	}
	return d
}

func parseDurationString(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, err
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

var sizeRe = regexp.MustCompile(`(?i)^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$`)

func parseSize(p *[]string, key, s string) int64 {
	n, err := parseSizeString(s)
	if err != nil || n <= 0 {
		*p = append(*p, fmt.Sprintf("%s: %q is not a size like 50MiB or 60MB", key, s))
	}
	return n
}

func parseSizeString(s string) (int64, error) {
	m := sizeRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("bad size %q", s)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, err
	}
	mult := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "kb": 1e3, "kib": 1 << 10, "m": 1 << 20, "mb": 1e6,
		"mib": 1 << 20, "g": 1 << 30, "gb": 1e9, "gib": 1 << 30}[strings.ToLower(m[2])]
	return int64(f * mult), nil
}

// providerDomain is the mail provider's domain for a server host name: imap.163.com and
// imap.qiye.163.com give 163.com, imap.example.com.cn gives example.com.cn; an IP address gives "".
func providerDomain(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return ""
	}
	labels := strings.Split(host, ".")
	n := 2
	if len(labels) >= 3 && labels[len(labels)-1] == "cn" &&
		slices.Contains([]string{"com", "net", "org", "gov", "edu", "ac"}, labels[len(labels)-2]) {
		n = 3
	}
	return strings.Join(labels[max(0, len(labels)-n):], ".")
}

// Dump prints the effective config as YAML. Secrets are never part of it: only where they come from,
// and whether they were found.
func (c *Config) Dump() string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	enc.Encode(c)
	enc.Close()
	var notes []string
	for _, s := range []struct {
		key string
		sec Secret
	}{{"imap", c.IMAP.Secret}, {"smtp", c.SMTP.Secret}, {"web", c.Web.Secret}} {
		state := "not set"
		if s.sec.value != "" {
			state = "set (hidden)"
		}
		notes = append(notes, fmt.Sprintf("# %s password: %s", s.key, state))
	}
	return fmt.Sprintf("# effective configuration of %s\n%s\n%s", c.path, strings.Join(notes, "\n"), buf.String())
}

// The values Load parsed and checked, for the wiring.

// ResolvedRobots are the group robots of robots:, with their webhook URLs and secrets read; nil when the
// config was loaded without its secrets.
func (c *Config) ResolvedRobots() []*robot.Robot { return c.robots }

// File is the path the config was read from.
func (c *Config) File() string { return c.path }

// Location is the office time zone.
func (c *Config) Location() *time.Location { return c.location }

// Roster is the units and campaigns of the config (and of units_file).
func (c *Config) Roster() *roster.Roster { return c.roster }

// Value is the password, read when Load was asked for secrets; "" otherwise.
func (s *Secret) Value() string { return s.value }

// Every is how often the mailbox is read when not idling.
func (c *IMAPConfig) Every() time.Duration { return c.pollInterval }

// Trusted are the authserv-ids whose Authentication-Results are believed: AuthServIDs, else the
// provider's domain.
func (c *IMAPConfig) Trusted() []string { return c.authServIDs }

// From is the date of Since, zero when all mail is read.
func (c *IMAPConfig) From() time.Time { return c.since }

// MessageBytes, AttachmentBytes and PDFMemoryBytes are the sizes; PDFTime the time for one PDF.
func (c *LimitsConfig) MessageBytes() int64 { return c.maxMessage }

// AttachmentBytes is the largest attachment checked.
func (c *LimitsConfig) AttachmentBytes() int64 { return c.maxAttachment }

// PDFMemoryBytes bounds the memory of a PDF check.
func (c *LimitsConfig) PDFMemoryBytes() int64 { return c.pdfMemory }

// PDFTime bounds the time of a PDF check.
func (c *LimitsConfig) PDFTime() time.Duration { return c.pdfTimeout }

// Age is replies.max_age: older mail is not answered.
func (c *RepliesConfig) Age() time.Duration { return c.maxAge }

// After is health.alert_after.
func (c *HealthConfig) After() time.Duration { return c.alertAfter }

// Suggest returns the candidate closest to s by edit distance, if it is close enough to be a likely typo.
func Suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= 2 || (bestD <= len(s)/3 && bestD < len(best)) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Write writes c as a config file (mode 0600): what the demo and the tests use to make theirs. Load
// reads back the same settings.
func Write(path string, c *Config) error {
	var b bytes.Buffer
	b.WriteString("# Written by briefd; config.example.yaml explains every key.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return os.WriteFile(path, b.Bytes(), 0o600)
}
