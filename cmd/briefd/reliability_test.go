package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"briefd/internal/mailtest"
	"briefd/store"

	bolt "go.etcd.io/bbolt"
)

// Helpers of the reliability tests (crash, outages, hostile mail, security): a config for a daemon
// against given servers, the daemon as a subprocess with its log in a file, and the checks every test
// makes of the database afterwards.

// relConfig is what differs between the reliability tests' configs.
type relConfig struct {
	IMAP, SMTP     string // host:port
	User, Pass     string // IMAP login
	SMTPUser       string // "" : no SMTP AUTH
	SMTPPass       string
	WebPass        string // "" : no web password
	PerSenderHour  int    // default 10
	MaxMessage     string // default 60MiB
	PDFTimeout     string // default 30s
	PollInterval   string // default 10s
	IMAPSecurity   string // default plain
	SMTPSecurity   string // default plain
	IMAPCAFile     string
	AuthServID     string // the receiving server's authserv-id to believe
	SMTPCAFile     string
	LogLevel       string // default info
	ExtraYAMLLines string

	WebListen string // set by writeRelConfig: the dashboard's host:port
}

// writeRelConfig writes config.yaml and the password files into dir and returns the config's path.
func writeRelConfig(t testing.TB, dir string, c *relConfig) string {
	t.Helper()
	if c.PerSenderHour == 0 {
		c.PerSenderHour = 10
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.MaxMessage, "60MiB")
	def(&c.PDFTimeout, "30s")
	def(&c.PollInterval, "10s")
	def(&c.IMAPSecurity, "plain")
	def(&c.SMTPSecurity, "plain")
	def(&c.LogLevel, "info")
	write := func(name, secret string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	loc := time.FixedZone("CST", 8*3600)
	now := time.Now().In(loc)
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	var b strings.Builder
	fmt.Fprintf(&b, "office: {name: 忻州市教育局职业教育科（测试）, address: %s, summary_to: [head@example.cn], timezone: Asia/Shanghai}\n", mailtest.SampleOffice)
	fmt.Fprintf(&b, "imap: {server: %q, security: %s, username: %s, password_file: %q, idle: true, poll_interval: %s",
		c.IMAP, c.IMAPSecurity, c.User, write("imap.pass", c.Pass), c.PollInterval)
	if c.IMAPCAFile != "" {
		fmt.Fprintf(&b, ", ca_file: %q", c.IMAPCAFile)
	}
	if c.AuthServID != "" {
		fmt.Fprintf(&b, ", authserv_ids: [%s]", c.AuthServID)
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "smtp: {server: %q, security: %s", c.SMTP, c.SMTPSecurity)
	if c.SMTPUser != "" {
		fmt.Fprintf(&b, ", username: %s, password_file: %q", c.SMTPUser, write("smtp.pass", c.SMTPPass))
	} else {
		b.WriteString(`, username: ""`)
	}
	if c.SMTPCAFile != "" {
		fmt.Fprintf(&b, ", ca_file: %q", c.SMTPCAFile)
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "store: {path: %q, archive: %q, spool: %q}\n", filepath.Join(dir, "data", "briefd.db"),
		filepath.Join(dir, "data", "archive"), filepath.Join(dir, "data", "spool"))
	fmt.Fprintf(&b, "limits: {max_message: %s, pdf_timeout: %s}\n", c.MaxMessage, c.PDFTimeout)
	fmt.Fprintf(&b, "replies: {enabled: true, receipt_prefix: JB, per_sender_per_hour: %d}\n", c.PerSenderHour)
	c.WebListen = fmt.Sprintf("127.0.0.1:%d", freePort(0))
	if c.WebPass != "" {
		fmt.Fprintf(&b, "web: {listen: %q, password_file: %q}\n", c.WebListen, write("web.pass", c.WebPass))
	} else {
		fmt.Fprintf(&b, "web: {listen: %q}\n", c.WebListen)
	}
	fmt.Fprintf(&b, "log: {level: %s, format: json}\n", c.LogLevel)
	b.WriteString(`units:
  - {id: xinfu, name: 忻府区教育科技局, aliases: [忻府区], emails: [xinfu-jky@example.cn], kind: county}
  - {id: yuanping, name: 原平市教育科技局, emails: [yuanping-jky@example.cn], kind: county}
  - {id: dingxiang, name: 定襄县教育科技局, emails: [dingxiang-jky@example.cn], kind: county}
  - {id: wutai, name: 五台县教育科技局, emails: [wutai-jky@example.cn], kind: county}
  - {id: daixian, name: 代县教育科技局, emails: [daixian-jky@example.cn], kind: county}
`)
	fmt.Fprintf(&b, "campaigns:\n  - {id: zjdh-study, title: 学习贯彻全省职教大会精神情况简报, units: all, opens: %s, due: %s, keywords: [学习贯彻, 职教大会精神]}\n",
		day(now.AddDate(0, 0, -20)), day(now.AddDate(0, 0, 5)))
	b.WriteString(c.ExtraYAMLLines)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// daemon is `briefd run` as a subprocess; its stdout and stderr go to a log file per start.
type daemonProc struct {
	t      testing.TB
	exe    string // "" : this test binary acting as briefd
	config string
	dir    string
	env    []string

	starts int
	cmd    *exec.Cmd
	exited chan error
	logs   []string // log file of each start
}

func newDaemon(t testing.TB, exe, config, dir string) *daemonProc {
	d := &daemonProc{t: t, exe: exe, config: config, dir: dir}
	t.Cleanup(func() {
		if d.cmd != nil {
			d.cmd.Process.Kill()
			<-d.exited
		}
	})
	return d
}

func (d *daemonProc) command(args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if d.exe != "" {
		cmd = exec.Command(d.exe, args...)
		cmd.Env = os.Environ()
	} else {
		self, err := os.Executable()
		if err != nil {
			d.t.Fatal(err)
		}
		cmd = exec.Command(self, args...)
		cmd.Env = append(os.Environ(), "BRIEFD_TEST_MAIN=1")
	}
	cmd.Env = append(cmd.Env, d.env...)
	return cmd
}

// start starts `briefd run`.
func (d *daemonProc) start() {
	d.t.Helper()
	if d.cmd != nil {
		d.t.Fatal("daemon already running")
	}
	d.starts++
	logPath := filepath.Join(d.dir, fmt.Sprintf("run-%02d.log", d.starts))
	f, err := os.Create(logPath)
	if err != nil {
		d.t.Fatal(err)
	}
	cmd := d.command("run", "-config", d.config)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		d.t.Fatal(err)
	}
	f.Close()
	d.cmd, d.exited = cmd, make(chan error, 1)
	d.logs = append(d.logs, logPath)
	go func(c *exec.Cmd, ch chan error) { ch <- c.Wait() }(cmd, d.exited)
}

// stop sends SIGTERM and waits (at most limit) for a clean exit.
func (d *daemonProc) stop(limit time.Duration) error {
	if d.cmd == nil {
		return nil
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	defer func() { d.cmd = nil }()
	select {
	case err := <-d.exited:
		return err
	case <-time.After(limit):
		d.cmd.Process.Kill()
		<-d.exited
		return fmt.Errorf("daemon did not stop within %v after SIGTERM", limit)
	}
}

// alive reports whether the daemon runs (did not exit on its own).
func (d *daemonProc) alive() bool {
	if d.cmd == nil {
		return false
	}
	select {
	case err := <-d.exited:
		d.exited <- err
		return false
	default:
		return true
	}
}

// log returns everything the daemon logged over all its starts.
func (d *daemonProc) log() string {
	var b strings.Builder
	for _, p := range d.logs {
		data, _ := os.ReadFile(p)
		b.Write(data)
	}
	return b.String()
}

// logLines returns the JSON log records whose msg contains substr, over all starts.
func (d *daemonProc) logLines(substr string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(d.log()))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		if m, _ := rec["msg"].(string); strings.Contains(m, substr) {
			out = append(out, rec)
		}
	}
	return out
}

// receipts runs `briefd receipts -json`, forwarded to the daemon when it runs.
func (d *daemonProc) receipts() ([]*store.Receipt, error) {
	cmd := d.command("receipts", "-json", "-config", d.config)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("briefd receipts: %v: %s", err, errb.String())
	}
	var rs []*store.Receipt
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil {
		return nil, fmt.Errorf("briefd receipts -json: %v", err)
	}
	return rs, nil
}

// waitReceipts polls `briefd receipts` until done says so or limit passes.
func (d *daemonProc) waitReceipts(limit time.Duration, done func([]*store.Receipt) bool) ([]*store.Receipt, error) {
	deadline := time.Now().Add(limit)
	var rs []*store.Receipt
	var err error
	for time.Now().Before(deadline) {
		if rs, err = d.receipts(); err == nil && done(rs) {
			return rs, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err == nil {
		err = fmt.Errorf("not done within %v (%d receipts)", limit, len(rs))
	}
	return rs, err
}

// settled reports whether want receipts exist and no reply is still queued.
func settled(want int) func([]*store.Receipt) bool {
	return func(rs []*store.Receipt) bool {
		if len(rs) < want {
			return false
		}
		for _, r := range rs {
			if r.Reply == store.ReplyQueued {
				return false
			}
		}
		return true
	}
}

// dbReport is what checkDatabase found.
type dbReport struct {
	Receipts   []*store.Receipt
	ByID       map[string][]string // Message-ID -> receipt numbers
	DupNumbers int
	Queued     int // outbox items still queued
}

// checkDatabase opens the database of a stopped daemon: bbolt's consistency check, one receipt per
// Message-ID in want (none missing, none twice), unique receipt numbers, no staged or spooled leftovers,
// every archived file present.
func checkDatabase(t testing.TB, dir string, want []string) dbReport {
	t.Helper()
	dbPath := filepath.Join(dir, "data", "briefd.db")
	db, err := bolt.Open(dbPath, 0o600, &bolt.Options{Timeout: 2 * time.Second, ReadOnly: true})
	if err != nil {
		t.Fatalf("bbolt open: %v", err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rs, err := st.Receipts(nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := dbReport{Receipts: rs, ByID: map[string][]string{}}
	numbers := map[string]bool{}
	for _, r := range rs {
		if numbers[r.Number] {
			rep.DupNumbers++
			t.Errorf("receipt number %s used twice", r.Number)
		}
		numbers[r.Number] = true
		rep.ByID[r.MessageID] = append(rep.ByID[r.MessageID], r.Number)
	}
	for _, id := range want {
		switch n := len(rep.ByID[id]); {
		case n == 0:
			t.Errorf("no receipt for %s: a mail was lost", id)
		case n > 1:
			t.Errorf("%d receipts for %s: %v", n, id, rep.ByID[id])
		}
	}
	if len(rs) != len(want) {
		t.Errorf("%d receipts for %d mails", len(rs), len(want))
	}
	q, err := st.Outbox(func(it *store.OutboxItem) bool { return it.State == store.OutQueued })
	if err != nil {
		t.Fatal(err)
	}
	rep.Queued = len(q)
	archive := filepath.Join(dir, "data", "archive")
	if es, err := os.ReadDir(filepath.Join(archive, ".staging")); err == nil && len(es) > 0 {
		t.Errorf("%d staged folders left in the archive", len(es))
	}
	if es, err := os.ReadDir(filepath.Join(dir, "data", "spool")); err == nil && len(es) > 0 {
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		t.Errorf("spool not empty: %v", names)
	}
	for _, r := range rs {
		paths := []string{r.Raw}
		for _, a := range r.Attachments {
			paths = append(paths, a.Archived)
		}
		for _, p := range paths {
			if p == "" {
				continue
			}
			if _, err := os.Stat(filepath.Join(archive, p)); err != nil {
				t.Errorf("receipt %s: archived file %s missing: %v", r.Number, p, err)
			}
		}
	}
	return rep
}

// repliesByOriginal groups the sink's replies by the Message-ID they answer (In-Reply-To); other mail
// (summaries, reminders) is counted under "".
func repliesByOriginal(msgs []mailtest.SinkMessage) map[string]int {
	out := map[string]int{}
	for _, m := range msgs {
		id := ""
		if msg, err := mail.ReadMessage(bytes.NewReader(m.Data)); err == nil {
			id = strings.TrimSpace(msg.Header.Get("In-Reply-To"))
		}
		out[id]++
	}
	return out
}

// appendBacklog appends the mails to Dovecot's INBOX and returns their Message-IDs.
func appendBacklog(t testing.TB, d *mailtest.Dovecot, samples []mailtest.Sample) []string {
	t.Helper()
	if _, err := d.AppendAll("INBOX", samples); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(samples))
	for i, s := range samples {
		msg, err := mail.ReadMessage(bytes.NewReader(s.Raw))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = msg.Header.Get("Message-ID")
	}
	return ids
}

// wantReplies counts the samples that deserve a reply.
func wantReplies(samples []mailtest.Sample) int {
	n := 0
	for _, s := range samples {
		if s.Reply {
			n++
		}
	}
	return n
}

// logTimes returns the times of the JSON log records whose msg contains substr, over all starts.
func (d *daemonProc) logTimes(substr string) []time.Time {
	var out []time.Time
	for _, rec := range d.logLines(substr) {
		if s, ok := rec["time"].(string); ok {
			if at, err := time.Parse(time.RFC3339Nano, s); err == nil {
				out = append(out, at)
			}
		}
	}
	return out
}

// waitLog waits until at least n log records' msg contains substr and returns the time of the n-th.
func (d *daemonProc) waitLog(substr string, n int, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for {
		if ts := d.logTimes(substr); len(ts) >= n {
			return ts[n-1], nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%d log records %q within %v, want %d", len(d.logTimes(substr)), substr, limit, n)
		}
		if !d.alive() {
			return time.Time{}, fmt.Errorf("briefd exited while waiting for %q", substr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tail is the end of a long log, for failure messages.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
