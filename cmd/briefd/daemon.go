package main

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"briefd/intake"
)

// cmdPoll implements `briefd poll`.
func cmdPoll(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "poll", "poll [-config PATH]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openApp(e, *cfgFlag, true)
	if err != nil {
		return err
	}
	defer a.close()
	d, err := a.daemon(e.stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	start := time.Now()
	n, err := d.Poll(ctx)
	counts := d.Counts()
	fmt.Fprintf(e.stderr, "%d new messages in %s: %s\n", n, time.Since(start).Round(time.Millisecond), countLine(counts))
	if old := counts[intake.CountHistory]; old > 0 {
		fmt.Fprintf(e.stderr, "%d old mails (received more than %s ago, or before the first campaign opened) were recorded without a reply; "+
			"`briefd resend RECEIPT` answers one\n", old, a.cfg.Replies.MaxAge)
	}
	if intake.IsFault(err) {
		return fmt.Errorf("this machine failed, so the pass stopped; the mail not recorded is handled by the next poll once that is fixed: %w", err)
	}
	return err
}

func countLine(c map[string]int) string {
	var keys []string
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, c[k]))
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, ", ")
}

// cmdRun implements `briefd run`, the daemon.
func cmdRun(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "run", "run [-config PATH]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openApp(e, *cfgFlag, true)
	if err != nil {
		return err
	}
	defer a.close()
	d, err := a.daemon(nil)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.EnableDashboard(); err != nil {
		return err
	}
	a.shared = d // forwarded commands use the daemon's pipeline
	a.log.Info("briefd started", "version", version(), "mailbox", a.cfg.IMAP.Mailbox, "server", a.cfg.IMAP.Server,
		"dashboard", "http://"+a.cfg.Web.Listen)
	return d.Run(ctx, func(ctx context.Context, ln net.Listener) error { return serveControl(ctx, a, ln) })
}
