package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"briefd/demo"
	"briefd/mailmsg"
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
	set, err := demo.Start(dir, time.Now(), freePort(8080))
	if err != nil {
		return err
	}
	defer set.Close()
	samples, sink := set.Samples, set.Sink
	a, err := openApp(e, set.ConfigPath, true)
	if err != nil {
		return err
	}
	defer a.close()
	d, err := a.daemon(io.Discard)
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintf(e.stdout, "briefd demo: %d sample mails in an IMAP mailbox on %s, replies to an SMTP sink on %s\n\n",
		len(samples), set.IMAP.Addr, sink.Addr())
	if _, err := d.Poll(ctx); err != nil {
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
			fmt.Fprintln(e.stdout, indent(mailmsg.Readable(m.Data), "  | "))
			break
		}
	}
	for _, m := range others {
		if slices.Contains(m.To, "head@example.cn") { // office.summary_to of the demo config
			fmt.Fprintln(e.stdout, "== The weekly summary the office receives (with an Excel attachment):")
			fmt.Fprintln(e.stdout)
			fmt.Fprintln(e.stdout, indent(mailmsg.Readable(m.Data), "  | "))
			break
		}
	}
	fmt.Fprintf(e.stdout, "demo finished in %s\n", time.Since(start).Round(10*time.Millisecond))
	if *web {
		if err := d.EnableDashboard(); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "\n总览 (dashboard): http://%s/  — the demo keeps running until Ctrl-C\n", a.cfg.Web.Listen)
		a.shared = d
		return d.Run(ctx, func(ctx context.Context, ln net.Listener) error { return serveControl(ctx, a, ln) })
	}
	return nil
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
