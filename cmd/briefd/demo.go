package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"briefd/internal/mailtest"

	gomail "github.com/emersion/go-message/mail"
)

// demoConfig is the embedded default the demo runs on: the units of the notice, a once campaign open
// until five days from now and a monthly one. Servers are the demo's own, on loopback; the weekly summary
// is due today at midnight, so the demo always shows it.
const demoConfig = `office:
  name: 忻州市教育局职业教育科（演示）
  address: {{office}}
  contact: 职教科 0350-0000000（演示）
  summary_to: [head@example.cn]
  timezone: Asia/Shanghai
imap: {server: "{{imap}}", security: plain, username: office, password_file: "{{dir}}/imap.pass", idle: true}
smtp: {server: "{{smtp}}", security: plain, username: ""}
store: {path: "{{dir}}/briefd.db", archive: "{{dir}}/archive", spool: "{{dir}}/spool"}
web: {listen: "127.0.0.1:{{webport}}"}
summary: {weekday: {{weekday}}, at: "00:00"}
log: {level: warn}
units:
  - {id: xinfu, name: 忻府区教育科技局, aliases: [忻府区], emails: [xinfu-jky@example.cn], kind: county}
  - {id: yuanping, name: 原平市教育科技局, emails: [yuanping-jky@example.cn], kind: county}
  - {id: dingxiang, name: 定襄县教育科技局, emails: [dingxiang-jky@example.cn], kind: county}
  - {id: wutai, name: 五台县教育科技局, emails: [wutai-jky@example.cn], kind: county}
  - {id: daixian, name: 代县教育科技局, emails: [daixian-jky@example.cn], kind: county}
  - {id: fanshi, name: 繁峙县教育科技局, emails: [fanshi-jky@example.cn], kind: county}
  - {id: ningwu, name: 宁武县教育科技局, emails: [ningwu-jky@example.cn], kind: county}
  - {id: jingle, name: 静乐县教育科技局, emails: [jingle-jky@example.cn], kind: county}
  - {id: shenchi, name: 神池县教育科技局, emails: [shenchi-jky@example.cn], kind: county}
  - {id: wuzhai, name: 五寨县教育科技局, emails: [wuzhai-jky@example.cn], kind: county}
  - {id: kelan, name: 岢岚县教育科技局, emails: [kelan-jky@example.cn], kind: county}
campaigns:
  - {id: zjdh-study, title: 学习贯彻全省职教大会精神情况简报, units: all, opens: {{opens}}, due: {{due}}, keywords: [学习贯彻, 职教大会精神]}
  - {id: zjdh-monthly, title: 职业教育大会筹备召开情况, units: [xinfu, yuanping], opens: {{mopens}}, every: month, until: {{muntil}}, keywords: [筹备, 召开情况]}
`

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
	imapSrv, err := mailtest.StartIMAP(mailtest.IMAPOptions{User: "office", Pass: "demo-imap-password"})
	if err != nil {
		return fmt.Errorf("starting the demo IMAP server: %w", err)
	}
	defer imapSrv.Close()
	sink, err := mailtest.NewSMTPSink(mailtest.SinkOptions{})
	if err != nil {
		return fmt.Errorf("starting the demo SMTP sink: %w", err)
	}
	defer sink.Close()

	now := time.Now()
	samples, err := mailtest.Samples(now)
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

	var replies, others []mailtest.SinkMessage
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
			fmt.Fprintln(e.stdout, indent(readableMail(m.Data), "  | "))
			break
		}
	}
	for _, m := range others {
		if slices.Contains(m.To, "head@example.cn") { // office.summary_to of the demo config
			fmt.Fprintln(e.stdout, "== The weekly summary the office receives (with an Excel attachment):")
			fmt.Fprintln(e.stdout)
			fmt.Fprintln(e.stdout, indent(readableMail(m.Data), "  | "))
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

// writeDemoConfig writes the demo config and the IMAP password file into dir.
func writeDemoConfig(dir, imapAddr, smtpAddr string, now time.Time) (string, error) {
	if err := os.WriteFile(filepath.Join(dir, "imap.pass"), []byte("demo-imap-password\n"), 0o600); err != nil {
		return "", err
	}
	loc := time.FixedZone("CST", 8*3600)
	now = now.In(loc)
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	r := strings.NewReplacer("{{office}}", mailtest.SampleOffice, "{{imap}}", imapAddr, "{{smtp}}", smtpAddr,
		"{{dir}}", filepath.ToSlash(dir), "{{webport}}", freePort(8080), "{{weekday}}", strings.ToLower(now.Weekday().String()),
		"{{opens}}", day(now.AddDate(0, 0, -20)), "{{due}}", day(now.AddDate(0, 0, 5)),
		"{{mopens}}", day(time.Date(now.Year(), now.Month()-2, 1, 0, 0, 0, 0, loc)),
		"{{muntil}}", day(time.Date(now.Year(), now.Month()+3, 0, 0, 0, 0, 0, loc)))
	path := filepath.Join(dir, "config.yaml")
	return path, os.WriteFile(path, []byte(r.Replace(demoConfig)), 0o600)
}

// readableMail shows a mail the way a mail program would: a few headers and the plain text part.
func readableMail(raw []byte) string {
	mr, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		return string(raw)
	}
	var b strings.Builder
	for _, k := range []string{"From", "To", "Subject", "Date"} {
		v, err := mr.Header.Text(k)
		if err != nil {
			v = mr.Header.Get(k)
		}
		if k == "From" || k == "To" {
			if a, err := mail.ParseAddress(v); err == nil && a.Name != "" {
				v = a.Name + " <" + a.Address + ">"
			}
		}
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	b.WriteString("\n")
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if h, ok := p.Header.(*gomail.InlineHeader); ok {
			if ct, _, _ := h.ContentType(); ct == "text/plain" {
				body, _ := io.ReadAll(p.Body)
				b.Write(body)
				break
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
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
func freePort(want int) string {
	for _, addr := range []string{fmt.Sprintf("127.0.0.1:%d", want), "127.0.0.1:0"} {
		if ln, err := net.Listen("tcp", addr); err == nil {
			port := ln.Addr().(*net.TCPAddr).Port
			ln.Close()
			return fmt.Sprint(port)
		}
	}
	return fmt.Sprint(want)
}
