package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"briefd/config"
	"briefd/demo"
)

// cmdDemo implements `briefd demo`: the whole flow on sample mail, with nothing to configure.
func cmdDemo(ctx context.Context, e *env, args []string) error {
	fs, _ := newFlags(e, "demo", "demo [-web] [-keep]")
	web := fs.Bool("web", false, "then keep the daemon and its dashboard running on 127.0.0.1 with the demo data until Ctrl-C")
	keep := fs.Bool("keep", false, "keep the demo's folder (config, database, archive) and print its path")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	start := time.Now()
	dir, err := os.MkdirTemp("", "briefd-demo-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintf(e.stdout, "demo folder: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	imapSrv, err := demo.StartIMAP(demo.IMAPOptions{User: "office", Pass: "demo-imap-password"})
	if err != nil {
		return fmt.Errorf("starting the demo IMAP server: %w", err)
	}
	defer imapSrv.Close()
	sink, err := demo.NewSMTPSink(demo.SinkOptions{})
	if err != nil {
		return fmt.Errorf("starting the demo SMTP sink: %w", err)
	}
	defer sink.Close()

	now := time.Now()
	samples, err := demo.Samples(now)
	if err != nil {
		return err
	}
	for _, s := range samples {
		if _, err := imapSrv.Append("INBOX", s.Raw, s.Date); err != nil {
			return fmt.Errorf("filling the demo mailbox: %w", err)
		}
	}
	cfgPath, err := writeDemoConfig(dir, imapSrv.Addr, sink.Addr(), now)
	if err != nil {
		return err
	}
	a, err := openApp(e, cfgPath, true)
	if err != nil {
		return err
	}
	defer a.close()
	svc, err := buildServices(a, io.Discard)
	if err != nil {
		return err
	}
	defer svc.close()
	fmt.Fprintf(e.stdout, "briefd demo: %d sample mails in an IMAP mailbox on %s, replies to an SMTP sink on %s\n\n",
		len(samples), imapSrv.Addr, sink.Addr())
	if _, err := svc.pollOnce(ctx); err != nil {
		return err
	}
	rs, err := a.st.Receipts(nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "== 收件记录 (receipts)")
	printReceipts(e.stdout, a, rs)
	fmt.Fprintln(e.stdout)
	for i, s := range samples {
		if i < len(rs) {
			fmt.Fprintf(e.stdout, "  %-22s %-14s %s\n", s.Name, rs[i].Verdict, s.About)
		}
	}
	fmt.Fprintln(e.stdout)

	var replies, others []demo.SinkMessage
	for _, m := range sink.Messages() {
		if bytes.Contains(m.Data, []byte("\r\nAuto-Submitted: auto-replied")) {
			replies = append(replies, m)
		} else {
			others = append(others, m)
		}
	}
	fmt.Fprintf(e.stdout, "== %d receipt replies were sent. One of them, as the school reads it:\n\n", len(replies))
	for _, m := range replies {
		if slices.Contains(m.To, "yuanping-jky@example.cn") {
			fmt.Fprintln(e.stdout, indent(demo.Readable(m.Data), "  | "))
			break
		}
	}
	for _, m := range others {
		if slices.Contains(m.To, "head@example.cn") { // office.summary_to of the demo config
			fmt.Fprintln(e.stdout, "== The weekly summary the office receives (with an Excel attachment):")
			fmt.Fprintln(e.stdout)
			fmt.Fprintln(e.stdout, indent(demo.Readable(m.Data), "  | "))
			break
		}
	}
	fmt.Fprintf(e.stdout, "demo finished in %s\n", time.Since(start).Round(10*time.Millisecond))
	if *web {
		if svc.web, err = svc.buildWeb(); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "\n总览 (dashboard): http://%s/  — the demo keeps running until Ctrl-C\n", a.cfg.Web.Listen)
		return svc.run(ctx)
	}
	return nil
}

// writeDemoConfig writes the demo's config (its servers at imapAddr and smtpAddr, its state in dir, the
// dashboard on 8080 when it is free) and returns its path.
func writeDemoConfig(dir, imapAddr, smtpAddr string, now time.Time) (string, error) {
	c, err := demoConfig(dir, imapAddr, smtpAddr, freePort(8080), now)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "config.yaml")
	return path, config.Write(path, c)
}

// demoConfig is the demo's config around now: its servers at imapAddr and smtpAddr (IMAP user
// "office"), its state in dir, a once campaign open for the last 20 days and due in 5, a monthly one, the summary
// due at once, the dashboard on webPort. It writes the IMAP password file into dir.
func demoConfig(dir, imapAddr, smtpAddr string, webPort int, now time.Time) (*config.Config, error) {
	pass := filepath.Join(dir, "imap.pass")
	if err := os.WriteFile(pass, []byte("demo-imap-password\n"), 0o600); err != nil {
		return nil, err
	}
	loc := time.FixedZone("CST", 8*3600)
	now = now.In(loc)
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	c := config.Default()
	c.Office = config.OfficeConfig{Name: "忻州市教育局职业教育科（演示）", Address: demo.SampleOffice, Contact: "职教科 0350-0000000（演示）",
		SummaryTo: []string{"head@example.cn"}, Timezone: "Asia/Shanghai"}
	c.IMAP.Server, c.IMAP.Security, c.IMAP.Username = imapAddr, "plain", "office"
	c.IMAP.Secret = config.Secret{PasswordFile: pass}
	c.SMTP.Server, c.SMTP.Security, c.SMTP.Secret = smtpAddr, "plain", config.Secret{}
	c.Store = config.StoreConfig{Path: filepath.Join(dir, "briefd.db"), Archive: filepath.Join(dir, "archive"), Spool: filepath.Join(dir, "spool")}
	c.Web.Listen = fmt.Sprintf("127.0.0.1:%d", webPort)
	c.Summary = config.SummaryConfig{Weekday: strings.ToLower(now.Weekday().String()), At: "00:00"}
	c.Log.Level = "warn"
	c.Units = demo.Units
	c.Campaigns = []config.CampaignConfig{
		{ID: "zjdh-study", Title: "学习贯彻全省职教大会精神情况简报", Units: config.UnitList{"all"}, Opens: day(now.AddDate(0, 0, -20)),
			Due: day(now.AddDate(0, 0, 5)), Keywords: []string{"学习贯彻", "职教大会精神"}},
		{ID: "zjdh-monthly", Title: "职业教育大会筹备召开情况", Units: config.UnitList{"xinfu", "yuanping"},
			Opens: day(time.Date(now.Year(), now.Month()-2, 1, 0, 0, 0, 0, loc)), Every: "month",
			Until: day(time.Date(now.Year(), now.Month()+3, 0, 0, 0, 0, 0, loc)), Keywords: []string{"筹备", "召开情况"}},
	}
	return &c, nil
}

func indent(s, prefix string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		b.WriteString(prefix + sc.Text() + "\n")
	}
	return b.String()
}

// freePort returns want when it is free on 127.0.0.1, else a free port chosen by the system.
func freePort(want int) int {
	for _, addr := range []string{fmt.Sprintf("127.0.0.1:%d", want), "127.0.0.1:0"} {
		if ln, err := net.Listen("tcp", addr); err == nil {
			port := ln.Addr().(*net.TCPAddr).Port
			ln.Close()
			return port
		}
	}
	return want
}
