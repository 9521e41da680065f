package main

import (
	"context"
	"fmt"
	"strings"

	"briefd/control"
	"briefd/daemon"
)

// cmdSummary implements `briefd summary`: print this week's summary; -send queues it now.
func cmdSummary(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "summary", "summary [-send] [-xlsx FILE] [-config PATH]")
	send := fs.Bool("send", false, "queue the summary to office.summary_to now, even if this week's was sent")
	xlsx := fs.String("xlsx", "", "also write the summary's Excel attachment to FILE")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	a, err := openApp(e, *cfgFlag, false)
	if err != nil {
		return err
	}
	defer a.close()
	n, err := daemon.Composer(a.parts(nil))
	if err != nil {
		return err
	}
	s, err := daemon.Scheduler(a.parts(nil), n, nil)
	if err != nil {
		return err
	}
	now := a.now()
	sum, err := s.Summary(now)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "主题：%s\n\n%s\n", sum.Subject, strings.TrimRight(sum.Text, "\n"))
	if *xlsx != "" {
		f, err := e.createFile(*xlsx)
		if err != nil {
			return err
		}
		if _, err := f.Write(sum.XLSX); err != nil {
			control.Abort(f)
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "wrote %s\n", *xlsx)
	}
	if !*send {
		due, week := s.SummaryDue(now)
		state := "not sent yet; due " + due.Format("2006-01-02 15:04 MST")
		if t, ok, err := s.SummaryQueued(week); err == nil && ok {
			state = "queued at " + t.In(a.cfg.Location()).Format("2006-01-02 15:04")
		}
		fmt.Fprintf(e.stderr, "this week's (%s) summary: %s; -send queues it now\n", week, state)
		return nil
	}
	if len(a.cfg.Office.SummaryTo) == 0 {
		return usagef("office.summary_to is empty: nobody to send the summary to")
	}
	count, err := s.QueueSummary(now)
	if err != nil {
		return err
	}
	where := "run `briefd poll` or start the daemon to send it"
	if e.shared != nil {
		where = "the daemon sends it within a minute"
	}
	fmt.Fprintf(e.stderr, "queued the summary to %d recipient(s) (%v); %s\n", count, a.cfg.Office.SummaryTo, where)
	return nil
}
