package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"briefd/control"
	"briefd/office"
	"briefd/roster"
	"briefd/store"
	"briefd/web"
)

type scaleResult struct {
	receipts                 int
	genTime                  time.Duration
	dbSize                   int64
	status, statusJSON       usage
	forwarded                usage // status forwarded to a running `briefd run`
	forwardedNew             usage // the same, the first after a new receipt
	forwardNote              string
	summary                  usage
	summaryNote              string
	webCold, webWarm         time.Duration
	webBytes                 int
	webNote                  string
	units, campaigns, period int
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// scaleUnits are the 14 county bureaus and the city school of the generator plus 45 schools.
func scaleUnits() []roster.Unit {
	var out []roster.Unit
	for _, u := range units {
		out = append(out, roster.Unit{ID: u.id, Name: u.name, Aliases: []string{u.alias}, Emails: []string{u.email}, Kind: "county"})
	}
	for i := 1; i <= 45; i++ {
		out = append(out, roster.Unit{ID: fmt.Sprintf("school%02d", i), Name: fmt.Sprintf("忻州市第%d职业中学", i),
			Emails: []string{fmt.Sprintf("school%02d@example.cn", i)}, Kind: "school"})
	}
	return out
}

type scaleCampaign struct {
	id, title, opens, due, every, until string
}

func scaleCampaigns() []scaleCampaign {
	cs := []scaleCampaign{
		{id: "zjdh-study", title: "学习贯彻全省职教大会精神情况简报", opens: "2022-01-05", due: "2022-01-31"},
		{id: "zjdh-monthly", title: "职业教育大会筹备召开情况", opens: "2020-01-01", every: "month", until: "2026-12-31"},
		{id: "safety", title: "校园安全稳定工作月报", opens: "2020-01-01", every: "month", until: "2026-12-31"},
		{id: "enroll", title: "招生工作进展月报", opens: "2023-01-01", every: "month", until: "2026-12-31"},
	}
	for y := 2020; y <= 2025; y++ {
		cs = append(cs, scaleCampaign{id: fmt.Sprintf("annual-%d", y), title: fmt.Sprintf("%d年度职业教育工作总结", y),
			opens: fmt.Sprintf("%d-11-15", y), due: fmt.Sprintf("%d-12-31", y)})
	}
	return cs
}

func (c scaleCampaign) roster() roster.Campaign {
	rc := roster.Campaign{ID: c.id, Title: c.title, Every: c.every}
	rc.Opens, _ = roster.ParseDate(c.opens)
	if c.due != "" {
		rc.Due, _ = roster.ParseDate(c.due)
	}
	if c.until != "" {
		rc.Until, _ = roster.ParseDate(c.until)
	}
	return rc
}

// scalePhase fills a store with receipts through store.Record, then times status, summary and the
// dashboard's overview on it.
func (b *bench) scalePhase(ctx context.Context) error {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return err
	}
	us := scaleUnits()
	var rcs []roster.Campaign
	for _, c := range scaleCampaigns() {
		rcs = append(rcs, c.roster())
	}
	ros, err := roster.New(us, rcs, loc)
	if err != nil {
		return err
	}
	type slot struct {
		c roster.Campaign
		p roster.Period
	}
	var slots []slot
	now := time.Now()
	for _, c := range ros.Campaigns() {
		for _, p := range ros.PeriodsUntil(c, now) {
			slots = append(slots, slot{c, p})
		}
	}
	sr := &b.res.scale
	sr.receipts, sr.units, sr.campaigns, sr.period = b.c.receipts, len(us), len(rcs), len(slots)

	// bbolt syncs every commit: build on tmpfs when there is one, then copy to disk for the timings.
	buildDir := b.tmp
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "briefd-bench-"); err == nil {
			buildDir = d
			defer os.RemoveAll(d)
		}
	}
	dir := filepath.Join(b.tmp, "scale")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	start := time.Now()
	st, err := store.Open(filepath.Join(buildDir, "briefd.db"), store.Options{Prefix: "JB", Location: loc})
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(b.c.seed, 7))
	verdicts := []struct {
		v string
		w int
	}{{store.VerdictAccepted, 80}, {store.VerdictRejected, 7}, {store.VerdictPartial, 4}, {store.VerdictNoAttachment, 3},
		{store.VerdictIgnored, 4}, {store.VerdictMalformed, 1}, {store.VerdictTooLarge, 1}}
	for i := range b.c.receipts {
		if i%10000 == 0 {
			if err := ctx.Err(); err != nil {
				st.Close()
				return err
			}
		}
		s := slots[rng.IntN(len(slots))]
		u := us[rng.IntN(len(us))]
		open, due := s.p.Opens.Start(loc), ros.DueEnd(s.p)
		span := due.Add(10*24*time.Hour).Sub(open) / time.Second
		at := open.Add(time.Duration(rng.Int64N(int64(span))) * time.Second)
		if at.After(now) {
			at = now.Add(-time.Duration(rng.IntN(3600)) * time.Second)
		}
		w, v := rng.IntN(100), ""
		for _, c := range verdicts {
			if w < c.w {
				v = c.v
				break
			}
			w -= c.w
		}
		if v == "" {
			v = store.VerdictAccepted
		}
		rec := &store.Receipt{
			Received: at.In(loc), MessageID: fmt.Sprintf("<scale.%d.%x@example.cn>", i, rng.Uint64()),
			From: u.Emails[0], FromName: u.Name, Subject: fmt.Sprintf("%s关于%s的简报（%s）", u.Name, s.c.Title, s.p.Key),
			Date: at.In(loc), Unit: u.ID, Match: roster.MatchAddress, Campaign: s.c.ID, Period: s.p.Key,
			Late: ros.Late(s.p, at), Verdict: v, Links: []string{}, Reply: store.ReplySent, Size: int64(100_000 + rng.IntN(3_000_000)),
			Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1),
		}
		if v == store.VerdictIgnored {
			rec.Unit, rec.Campaign, rec.Period, rec.Match, rec.Reply, rec.Note = "", "", "", roster.MatchNone, store.ReplySuppressed, "auto-reply"
		}
		natt := 0
		switch v {
		case store.VerdictAccepted, store.VerdictRejected:
			natt = 1 + rng.IntN(2)
		case store.VerdictPartial:
			natt = 2
		}
		for k := range natt {
			sum := sha256.Sum256([]byte(rec.MessageID + fmt.Sprint(k)))
			a := store.Attachment{Filename: fmt.Sprintf("%s%s简报%d.pdf", u.Name, s.p.Key, k+1), Size: int64(100_000 + rng.IntN(3_000_000)),
				SHA256: hex.EncodeToString(sum[:]), Kind: "pdf", Verdict: "ok", Pages: 1 + rng.IntN(20)}
			if v == store.VerdictRejected || (v == store.VerdictPartial && k == 1) {
				a.Kind, a.Verdict, a.Pages, a.Reason = "doc", "reject", 0, "not_pdf_word"
			} else {
				a.Archived = fmt.Sprintf("%s/%s/%s_JB_%d.pdf", s.c.ID, s.p.Key, u.Name, k+1)
			}
			rec.Attachments = append(rec.Attachments, a)
		}
		if rec.Attachments == nil {
			rec.Attachments = []store.Attachment{}
		}
		key := store.MessageKey{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1)}
		if _, _, err := st.Record(rec, &key, nil, nil); err != nil {
			st.Close()
			return err
		}
	}
	if err := st.Close(); err != nil {
		return err
	}
	sr.genTime = time.Since(start)
	dbPath := filepath.Join(dir, "briefd.db")
	if err := copyFile(filepath.Join(buildDir, "briefd.db"), dbPath); err != nil {
		return err
	}
	fi, err := os.Stat(dbPath)
	if err != nil {
		return err
	}
	sr.dbSize = fi.Size()
	logf("store with %d receipts (%d units, %d campaign periods) built in %s: %s", b.c.receipts, len(us), len(slots),
		secs(sr.genTime), mb(sr.dbSize))

	cfg, err := writeScaleConfig(dir, us)
	if err != nil {
		return err
	}
	if b.c.keep != "" {
		if err := os.MkdirAll(b.c.keep, 0o700); err != nil {
			return err
		}
		if err := copyFile(dbPath, filepath.Join(b.c.keep, "briefd.db")); err != nil {
			return err
		}
		kept, err := writeScaleConfig(b.c.keep, us)
		if err != nil {
			return err
		}
		logf("scale store kept: %s", kept)
	}
	runCmd := func(args ...string) (usage, error) {
		var us []usage
		for range b.c.runs {
			cmd := exec.Command(b.c.briefd, append(args, "-config", cfg)...)
			cmd.Stdout = io.Discard
			u, err := measure(ctx, cmd)
			if err != nil {
				return u, err
			}
			us = append(us, u)
		}
		return median(us), nil
	}
	if sr.status, err = runCmd("status"); err != nil {
		return err
	}
	logf("briefd status: %s (rss %s)", secs(sr.status.Wall), mb(sr.status.MaxRSS))
	if sr.statusJSON, err = runCmd("status", "-json"); err != nil {
		return err
	}
	logf("briefd status -json: %s", secs(sr.statusJSON.Wall))
	if exec.Command(b.c.briefd, "summary", "-h").Run() == nil {
		if sr.summary, err = runCmd("summary"); err != nil {
			sr.summaryNote = "failed: " + firstLine(err.Error())
		}
		logf("briefd summary: %s %s", secs(sr.summary.Wall), sr.summaryNote)
	} else {
		sr.summaryNote = "not measured: briefd has no summary command yet"
		logf("briefd summary: %s", sr.summaryNote)
	}
	if err := b.forwardedStatus(ctx, cfg); err != nil {
		sr.forwardNote = "not measured: " + firstLine(err.Error())
		logf("briefd status forwarded: %s", sr.forwardNote)
	}
	return b.webOverview(dbPath, ros, loc)
}

// forwardedStatus starts `briefd run` on the scale store (its IMAP and SMTP servers do not exist: the
// daemon retries them in the background) and times `briefd status`, which the daemon answers over its
// control socket: the median of 5 runs after one that is not counted, then the median of 5 that each
// come first after a new receipt.
func (b *bench) forwardedStatus(ctx context.Context, cfg string) error {
	d, err := startDaemon(b.c.briefd, cfg)
	if err != nil {
		return err
	}
	defer d.stop()
	status := func() (usage, error) {
		cmd := exec.Command(b.c.briefd, "status", "-config", cfg)
		cmd.Stdout = io.Discard
		return measure(ctx, cmd)
	}
	// Ready when the daemon answers on its control socket (it opened the store first).
	sock := control.Socket(filepath.Join(filepath.Dir(cfg), "briefd.db"))
	for deadline := time.Now().Add(2 * time.Minute); !control.Answers(sock); time.Sleep(100 * time.Millisecond) {
		select {
		case <-d.done:
			return fmt.Errorf("briefd run exited: %v\n%s", d.err, d.output())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("briefd run did not answer on its control socket within 2 minutes\n%s", d.output())
		}
	}
	if _, err := status(); err != nil { // not counted
		return err
	}
	var us []usage
	for range 5 {
		u, err := status()
		if err != nil {
			return err
		}
		us = append(us, u)
	}
	b.res.scale.forwarded = median(us)
	logf("briefd status forwarded to briefd run: %s (client rss %s)", secs(b.res.scale.forwarded.Wall), mb(b.res.scale.forwarded.MaxRSS))
	// The first status after a new receipt: the daemon's cached status is out of date. The receipt is
	// registered by hand (`briefd receipt add`, forwarded too), as the office does for paper briefings.
	us = nil
	for i := range 5 {
		add := exec.Command(b.c.briefd, "receipt", "add", "-config", cfg, "-unit", scaleUnits()[i].ID, "-campaign", "safety", "-note", "纸质报送")
		if out, err := add.CombinedOutput(); err != nil {
			logf("briefd status forwarded, the first after a new receipt: not measured: briefd receipt add: %v: %s", err, firstLine(string(out)))
			return nil
		}
		u, err := status()
		if err != nil {
			return err
		}
		us = append(us, u)
	}
	b.res.scale.forwardedNew = median(us)
	logf("briefd status forwarded, the first after a new receipt: %s", secs(b.res.scale.forwardedNew.Wall))
	return nil
}

// webOverview renders the dashboard's overview page over the store: the first request after opening
// (it loads every receipt) and a second one.
func (b *bench) webOverview(dbPath string, ros *roster.Roster, loc *time.Location) error {
	sr := &b.res.scale
	st, err := store.Open(dbPath, store.Options{Prefix: "JB", Location: loc})
	if err != nil {
		return err
	}
	defer st.Close()
	arch := store.Archive{Root: filepath.Join(filepath.Dir(dbPath), "archive")}
	off, err := office.New(office.Options{Roster: ros, Archive: arch, Location: loc}, st, nil)
	if err != nil {
		return err
	}
	srv, err := web.New(web.Options{Listen: "127.0.0.1:8080", Office: off, ReadOnly: true,
		Location: loc, OfficeName: "忻州市教育局职业教育科"}, st, arch, nil)
	if err != nil {
		sr.webNote = "not measured: " + err.Error()
		return nil
	}
	h := srv.Handler()
	get := func() (time.Duration, int, int) {
		start := time.Now()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		return time.Since(start), rec.Code, rec.Body.Len()
	}
	var code int
	sr.webCold, code, sr.webBytes = get()
	if code != 200 {
		sr.webNote = fmt.Sprintf("overview answered %d", code)
	}
	var warm []time.Duration
	for range 5 {
		d, _, _ := get()
		warm = append(warm, d)
	}
	sr.webWarm = warm[len(warm)/2]
	logf("dashboard overview: first %s, then %s (%d bytes, status %d)", secs(sr.webCold), secs(sr.webWarm), sr.webBytes, code)
	return nil
}

func writeScaleConfig(dir string, us []roster.Unit) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, `office:
  name: 忻州市教育局职业教育科
  address: %s
  timezone: Asia/Shanghai
imap: {server: "127.0.0.1:1", security: plain, username: office, password_file: "%s/imap.pass"}
smtp: {server: "127.0.0.1:1", security: plain, username: ""}
store: {path: "%s/briefd.db", archive: "%s/archive", spool: "%s/spool"}
web: {listen: "127.0.0.1:0"}
log: {level: warn}
units:
`, officeAddr, dir, dir, dir, dir)
	for _, u := range us {
		fmt.Fprintf(&b, "  - {id: %s, name: %s, emails: [%s], kind: %s}\n", u.ID, u.Name, u.Emails[0], u.Kind)
	}
	b.WriteString("campaigns:\n")
	for _, c := range scaleCampaigns() {
		fmt.Fprintf(&b, "  - {id: %s, title: %s, units: all, opens: %s", c.id, c.title, c.opens)
		if c.every != "" {
			fmt.Fprintf(&b, ", every: %s, until: %s}\n", c.every, c.until)
		} else {
			fmt.Fprintf(&b, ", due: %s}\n", c.due)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "imap.pass"), []byte("x\n"), 0o600); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "config.yaml")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
