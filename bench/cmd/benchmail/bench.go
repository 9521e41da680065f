package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"briefd/internal/mailtest"
)

type bench struct {
	c       config
	tmp     string
	d       *mailtest.Dovecot
	sink    *mailtest.SMTPSink
	gen     *generator
	sets    []*backlogSet // the generated backlog, then the real-world one when its pool is there
	uid     int
	gid     int
	started time.Time
	res     results
}

// backlogSet is one backlog in its own mailbox and what was measured on it.
type backlogSet struct {
	name      string // "generated" | "real-world"
	mailbox   string
	mails     []mailSpec
	bytes     int64 // raw bytes of the backlog
	pdfs      int64 // attachment bytes
	realFiles int   // attachments taken from the real-world pool
	pool      *realPool

	briefd, plain, mbsync, pipeline usage
	unpack                          usage // mbsync + munpack: the mail and its files on disk, nothing checked
	briefdNote, pipelineNote        string
}

type results struct {
	briefdSmall          usage
	lat50, lat99, latMax time.Duration
	latN, latGot         int
	scale                scaleResult
	notes                []string
}

func newBench(ctx context.Context, c config) (*bench, error) {
	b := &bench{c: c, started: time.Now(), uid: 65534, gid: 65534}
	if u, err := user.Lookup("nobody"); err == nil {
		b.uid, _ = strconv.Atoi(u.Uid)
		b.gid, _ = strconv.Atoi(u.Gid)
	}
	var err error
	if b.tmp, err = os.MkdirTemp("", "briefd-bench-"); err != nil {
		return nil, err
	}
	logf("work folder %s", b.tmp)
	if b.d, err = mailtest.StartDovecot(); err != nil {
		b.cleanup()
		return nil, err
	}
	logf("dovecot on %s", b.d.Addr)
	if b.sink, err = mailtest.NewSMTPSink(mailtest.SinkOptions{}); err != nil {
		b.cleanup()
		return nil, err
	}
	return b, nil
}

// cleanup stops Dovecot and the sink and removes every file the bench made.
func (b *bench) cleanup() {
	if b.sink != nil {
		b.sink.Close()
	}
	if b.d != nil {
		if err := b.d.Stop(); err != nil {
			logf("stop dovecot: %v", err)
		}
	}
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func (b *bench) skip(phase string) bool {
	for _, s := range strings.Split(b.c.skip, ",") {
		if strings.TrimSpace(s) == phase {
			return true
		}
	}
	return false
}

func (b *bench) run(ctx context.Context) error {
	if !b.skip("backlog") {
		if err := b.load(); err != nil {
			return err
		}
		if err := b.backlog(ctx); err != nil {
			return err
		}
	}
	if b.c.latency > 0 && !b.skip("latency") {
		if err := b.latencyPhase(ctx); err != nil {
			return err
		}
	}
	if b.c.receipts > 0 && !b.skip("scale") {
		if err := b.scalePhase(ctx); err != nil {
			return err
		}
	}
	report := b.report()
	fmt.Print(report)
	if b.c.out != "" {
		if err := os.MkdirAll(b.c.out, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(b.c.out, "results.md"), []byte(report), 0o644); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// load generates the backlogs, writes every mail as .eml, and puts them into the Maildir of Dovecot's
// user directly (the generated one into INBOX, its first `small` also into the folder "small", the
// real-world one into "real"), then lets Dovecot index them.
func (b *bench) load() error {
	start := time.Now()
	b.gen = newGenerator(b.c.seed)
	gen := &backlogSet{name: "generated", mailbox: "INBOX"}
	b.sets = []*backlogSet{gen}
	real := (*generator)(nil)
	if b.c.corpus != "" {
		pool, err := loadRealPool(b.c.corpus, b.c.realMin)
		if err != nil {
			if b.c.needReal {
				return err
			}
			logf("real-world backlog skipped: %v", err)
			b.res.notes = append(b.res.notes, "Real-world backlog not measured: "+err.Error())
		} else {
			logf("real-world pool: %d PDFs that poppler opens, ≥ %d KB, %.0f MB, from %s", len(pool.files), b.c.realMin>>10, float64(pool.bytes)/1e6, pool.dir)
			real = newGenerator(b.c.seed + 1)
			real.real, real.realShare = pool, b.c.realShare
			b.sets = append(b.sets, &backlogSet{name: "real-world", mailbox: "real", pool: pool})
		}
	}
	emlDir := filepath.Join(b.tmp, "eml")
	home := filepath.Join(b.d.Dir, "mail", b.d.User)
	inbox := filepath.Join(home, "Maildir")
	small := filepath.Join(inbox, ".small")
	realDir := filepath.Join(inbox, ".real")
	for _, d := range []string{emlDir, home, inbox, small, realDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, d := range []string{inbox, small, realDir} {
		for _, s := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(d, s), 0o700); err != nil {
				return err
			}
		}
	}
	// Received over the last 20 days, oldest first (UID order is file order after the sort Dovecot does).
	base := time.Now().Add(-20 * 24 * time.Hour)
	step := 20 * 24 * time.Hour / time.Duration(b.c.n+1)
	for k, set := range b.sets {
		g, dir := b.gen, inbox
		if set.pool != nil {
			g, dir = real, realDir
		}
		for i := range b.c.n {
			date := base.Add(time.Duration(i) * step).Truncate(time.Second)
			m := g.next(date)
			set.mails = append(set.mails, m)
			set.bytes += int64(len(m.Raw))
			set.pdfs += int64(m.PDFBytes)
			if err := os.WriteFile(filepath.Join(emlDir, fmt.Sprintf("%d-%04d.eml", k, i+1)), m.Raw, 0o644); err != nil {
				return err
			}
			name := fmt.Sprintf("%d.M%06dP%d.bench,S=%d,W=%d:2,", date.Unix(), i, os.Getpid(), len(m.Raw), len(m.Raw))
			p := filepath.Join(dir, "cur", name)
			if err := os.WriteFile(p, m.Raw, 0o600); err != nil {
				return err
			}
			if err := os.Chtimes(p, date, date); err != nil {
				return err
			}
			if set.pool == nil && i < b.c.small {
				if err := os.Link(p, filepath.Join(small, "cur", name)); err != nil {
					return err
				}
			}
		}
		set.realFiles = g.realUsed
	}
	if err := filepath.Walk(home, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, b.uid, b.gid)
	}); err != nil {
		return err
	}
	for _, mb := range []string{"INBOX", "small", "real"} {
		out, err := b.d.Doveadm("mailbox", "status", "-u", b.d.User, "messages vsize", mb)
		if err != nil {
			return err
		}
		logf("dovecot %s: %s", mb, strings.TrimSpace(out))
	}
	for _, set := range b.sets {
		logf("generated the %s backlog: %d mails (%.0f MB raw, %.0f MB of attachments, %d real-world files; %v) in %s",
			set.name, len(set.mails), float64(set.bytes)/1e6, float64(set.pdfs)/1e6, set.realFiles, set.kinds(),
			time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func (set *backlogSet) kinds() map[string]int {
	kinds := map[string]int{}
	for _, m := range set.mails {
		kinds[m.Kind]++
	}
	return kinds
}

// backlog measures briefd poll, the plain fetch, mbsync and the admin pipeline on every backlog,
// interleaved (run 1 of each on each backlog, then run 2 ...), runs times.
func (b *bench) backlog(ctx context.Context) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fetch := func(mailbox string) (usage, error) {
		return measure(ctx, exec.Command(self, "fetch", b.d.Addr, b.d.User, b.d.Pass, mailbox))
	}
	// Warm up: Dovecot builds its index and cache, the page cache holds the mails. Not counted.
	for _, set := range b.sets {
		if _, err := fetch(set.mailbox); err != nil {
			return fmt.Errorf("warm-up fetch: %w", err)
		}
	}
	type runs struct{ bs, ps, ms, pls, ups []usage }
	all := make([]runs, len(b.sets))
	var bsm []usage
	for r := range b.c.runs {
		for k, set := range b.sets {
			rs := &all[k]
			if err := ctx.Err(); err != nil {
				return err
			}
			u, note, err := b.poll(ctx, fmt.Sprintf("poll-%d-%d", k, r), set.mailbox, len(set.mails))
			if err != nil {
				return err
			}
			set.briefdNote = note
			logf("%s: briefd poll %d: wall %s cpu %s written %s rss %s (main %s, worker %s)", set.name, r+1, secs(u.Wall), secs(u.CPU), mb(u.Written), mb(u.MaxRSS), mb(u.MainHWM), mb(u.ChildHWM))
			rs.bs = append(rs.bs, u)

			if u, err = fetch(set.mailbox); err != nil {
				return err
			}
			logf("%s: plain fetch %d: wall %s cpu %s rss %s", set.name, r+1, secs(u.Wall), secs(u.CPU), mb(u.MaxRSS))
			rs.ps = append(rs.ps, u)

			if u, err = b.mbsync(ctx, fmt.Sprintf("mbsync-%d-%d", k, r), set); err != nil {
				return err
			}
			logf("%s: mbsync %d: wall %s cpu %s written %s rss %s", set.name, r+1, secs(u.Wall), secs(u.CPU), mb(u.Written), mb(u.MaxRSS))
			rs.ms = append(rs.ms, u)

			if !b.skip("pipeline") {
				if u, note, err = b.pipeline(ctx, fmt.Sprintf("pipeline-%d-%d", k, r), set); err != nil {
					return err
				}
				set.pipelineNote = note
				logf("%s: pipeline %d: wall %s cpu %s rss %s (%s)", set.name, r+1, secs(u.Wall), secs(u.CPU), mb(u.MaxRSS), note)
				rs.pls = append(rs.pls, u)
				if u, _, err = b.pipeline(ctx, fmt.Sprintf("unpack-%d-%d", k, r), set, "UNPACK_ONLY=1"); err != nil {
					return err
				}
				logf("%s: mbsync + munpack %d: wall %s cpu %s written %s", set.name, r+1, secs(u.Wall), secs(u.CPU), mb(u.Written))
				rs.ups = append(rs.ups, u)
			}
		}
	}
	if b.c.small > 0 {
		for r := range b.c.runs {
			u, _, err := b.poll(ctx, fmt.Sprintf("poll-small-%d", r), "small", b.c.small)
			if err != nil {
				return err
			}
			logf("briefd poll (%d mails) %d: wall %s rss %s (main %s, worker %s)", b.c.small, r+1, secs(u.Wall), mb(u.MaxRSS), mb(u.MainHWM), mb(u.ChildHWM))
			bsm = append(bsm, u)
		}
		b.res.briefdSmall = median(bsm)
	}
	for k, set := range b.sets {
		rs := all[k]
		set.briefd, set.plain, set.mbsync = median(rs.bs), median(rs.ps), median(rs.ms)
		if len(rs.pls) > 0 {
			set.pipeline, set.unpack = median(rs.pls), median(rs.ups)
		}
	}
	return nil
}

var summaryRE = regexp.MustCompile(`(\d+) new messages in [^:]+: (.*)`)

// poll runs `briefd poll` on mailbox with a fresh store and checks that every mail got a receipt and a
// reply reached the sink.
func (b *bench) poll(ctx context.Context, name, mailbox string, want int) (usage, string, error) {
	dir := filepath.Join(b.tmp, name)
	cfg, err := b.writeConfig(dir, mailbox, b.sink.Addr())
	if err != nil {
		return usage{}, "", err
	}
	defer os.RemoveAll(dir)
	b.sink.Reset()
	cmd := exec.Command(b.c.briefd, "poll", "-config", cfg)
	u, err := measure(ctx, cmd)
	if err != nil {
		return u, "", err
	}
	m := summaryRE.FindStringSubmatch(u.Output)
	if m == nil {
		return u, "", fmt.Errorf("briefd poll printed no summary:\n%s", u.Output)
	}
	if n, _ := strconv.Atoi(m[1]); n != want {
		return u, "", fmt.Errorf("briefd poll handled %d of %d mails:\n%s", n, want, u.Output)
	}
	// Every mail deserves one receipt reply; anything else the sink got is noted.
	replies, other := map[string]int{}, []string{}
	for _, msg := range b.sink.Messages() {
		if id := inReplyTo(msg.Data); id != "" {
			replies[id]++
		} else {
			other = append(other, fmt.Sprintf("%v %q", msg.To, subjectOf(msg.Data)))
		}
	}
	for id, k := range replies {
		if k > 1 {
			return u, "", fmt.Errorf("%s got %d replies", id, k)
		}
	}
	if len(replies) != want {
		return u, "", fmt.Errorf("%d receipt replies reached the sink, want %d", len(replies), want)
	}
	note := m[2]
	if len(other) > 0 {
		note += fmt.Sprintf("; also sent: %s", strings.Join(other, ", "))
	}
	return u, note, nil
}

// writeConfig writes a briefd config for the bench into dir: plain loopback IMAP and SMTP, every unit
// of the generator, a campaign open now.
func (b *bench) writeConfig(dir, mailbox, smtpAddr string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "imap.pass"), []byte(b.d.Pass+"\n"), 0o600); err != nil {
		return "", err
	}
	var us strings.Builder
	for _, u := range units {
		fmt.Fprintf(&us, "  - {id: %s, name: %s, aliases: [%s], emails: [%s], kind: county}\n", u.id, u.name, u.alias, u.email)
	}
	now := time.Now()
	cfg := fmt.Sprintf(`office:
  name: 忻州市教育局职业教育科
  address: %s
  summary_to: [head@example.cn]
  timezone: Asia/Shanghai
imap: {server: "%s", security: plain, username: %s, password_file: "%s/imap.pass", mailbox: %s, idle: true}
smtp: {server: "%s", security: plain, username: ""}
store: {path: "%s/briefd.db", archive: "%s/archive", spool: "%s/spool"}
replies: {enabled: true, per_sender_per_hour: 100000}
web: {listen: "127.0.0.1:0"}
log: {level: warn}
units:
%scampaigns:
  - {id: zjdh-study, title: 学习贯彻全省职教大会精神情况简报, units: all, opens: %s, due: %s, keywords: [学习贯彻, 职教大会精神]}
`, officeAddr, b.d.Addr, b.d.User, dir, mailbox, smtpAddr, dir, dir, dir, us.String(),
		now.AddDate(0, 0, -40).Format("2006-01-02"), now.AddDate(0, 0, 30).Format("2006-01-02"))
	path := filepath.Join(dir, "config.yaml")
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

// mbsyncrc writes an mbsync config that pulls mailbox into local; box is the Maildir it lands in.
func (b *bench) mbsyncrc(dir, mailbox string) (path, box string, err error) {
	local := filepath.Join(dir, "local")
	if err := os.MkdirAll(local, 0o700); err != nil {
		return "", "", err
	}
	host, port, _ := strings.Cut(b.d.Addr, ":")
	rc := fmt.Sprintf(`IMAPAccount bench
Host %s
Port %s
User %s
Pass %s
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path %s/
Inbox %s/INBOX

Channel bench
Far :remote:
Near :local:
Patterns %s
Sync Pull
Create Near
Expunge None
SyncState *
`, host, port, b.d.User, b.d.Pass, local, local, mailbox)
	path = filepath.Join(dir, "mbsyncrc")
	return path, filepath.Join(local, mailbox), os.WriteFile(path, []byte(rc), 0o600)
}

func (b *bench) mbsync(ctx context.Context, name string, set *backlogSet) (usage, error) {
	dir := filepath.Join(b.tmp, name)
	defer os.RemoveAll(dir)
	rc, box, err := b.mbsyncrc(dir, set.mailbox)
	if err != nil {
		return usage{}, err
	}
	u, err := measure(ctx, exec.Command("mbsync", "-q", "-c", rc, "bench"))
	if err != nil {
		return u, err
	}
	if n := countFiles(filepath.Join(box, "cur")) + countFiles(filepath.Join(box, "new")); n != len(set.mails) {
		return u, fmt.Errorf("mbsync fetched %d of %d mails of %s", n, len(set.mails), set.mailbox)
	}
	return u, nil
}

// pipelineScript is what an admin would glue together: download, unpack, check every PDF (with
// UNPACK_ONLY=1 it stops after unpacking: the same files on disk as briefd keeps, nothing checked).
const pipelineScript = `set -u
mbsync -q -c "$RC" bench || exit 1
i=0
: > "$PARTS.list"
for m in "$BOX"/cur/* "$BOX"/new/*; do
  [ -f "$m" ] || continue
  i=$((i+1))
  mkdir -p "$PARTS/$i"
  # munpack lists what it saved as "NAME (TYPE)"; it decodes neither RFC 2047 nor RFC 2231 names,
  # so the declared type, not the name, says which parts are PDFs.
  munpack -q -t -C "$PARTS/$i" "$m" 2>/dev/null | sed -n 's|^\(.*\) (application/pdf)$|'"$PARTS/$i"'/\1|p' >> "$PARTS.list"
done
[ "${UNPACK_ONLY:-}" = 1 ] && exit 0
n=0; bad=0
while IFS= read -r f; do
  n=$((n+1))
  qpdf --check "$f" >/dev/null 2>&1
  rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 3 ] || bad=$((bad+1))
done < "$PARTS.list"
echo "mails=$i pdfs=$n failed=$bad"
`

func (b *bench) pipeline(ctx context.Context, name string, set *backlogSet, env ...string) (usage, string, error) {
	dir := filepath.Join(b.tmp, name)
	defer os.RemoveAll(dir)
	rc, box, err := b.mbsyncrc(dir, set.mailbox)
	if err != nil {
		return usage{}, "", err
	}
	cmd := exec.Command("bash", "-c", pipelineScript)
	cmd.Env = append(append(os.Environ(), "RC="+rc, "BOX="+box, "PARTS="+filepath.Join(dir, "parts")), env...)
	u, err := measure(ctx, cmd)
	return u, strings.TrimSpace(lastLine(u.Output)), err
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func countFiles(dir string) int {
	es, _ := os.ReadDir(dir)
	return len(es)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
			}
		}
	}
	return runtime.GOARCH
}
