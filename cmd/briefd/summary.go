package main

import (
	"context"
	"fmt"
	"strings"

	"briefd/control"
	"briefd/intake"
	"briefd/notify"
	"briefd/pdfcheck"
	"briefd/robot"
)

// newScheduler wires the weekly summary, reminders and the health alert from the config.
// newScheduler wires the scheduler; lastError (nil without a watcher) tells the health alert what went
// wrong last.
func newScheduler(a *app, n *notify.Notifier, lastError func() (string, bool)) (*notify.Scheduler, error) {
	cfg := a.cfg
	return notify.NewScheduler(notify.SchedulerOptions{
		SummaryTo: cfg.Office.SummaryTo, SummaryWeekday: cfg.Summary.Weekday, SummaryAt: cfg.Summary.At,
		RemindDays: cfg.Reminders.DaysBeforeDue, RemindAt: cfg.Reminders.At,
		AlertAfter: cfg.Health.After(), HealthMark: intake.MarkIMAPLastOK, LastError: lastError,
		Roster: a.R, Now: a.now,
	}, a.st, n, a.log)
}

// composer is the notifier that writes the office's mail: for the outbox, and for `briefd summary`.
func composer(a *app) (*notify.Notifier, error) {
	cfg := a.cfg
	return notify.New(notify.Options{
		Office: notify.Office{Name: cfg.Office.Name, Address: cfg.Office.Address, Contact: cfg.Office.Contact,
			Location: cfg.Location()},
		TemplateDir: cfg.Replies.Templates, ReasonText: pdfcheck.ReasonText, Marker: replyMarker, Now: a.now,
		MaxMessage: cfg.Limits.MessageBytes(), Robots: robotTargets(cfg.Robots), DashboardURL: cfg.Web.PublicURL,
		Roster: a.R,
	}, a.R())
}

// robotTargets are the configured group robots as notify sees them.
func robotTargets(rs []robot.Config) []notify.Robot {
	var out []notify.Robot
	for _, r := range rs {
		out = append(out, notify.Robot{Name: r.Name, Events: r.Events})
	}
	return out
}

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
	n, err := composer(a)
	if err != nil {
		return err
	}
	s, err := newScheduler(a, n, nil)
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
		if t, ok, err := a.st.Mark("summary:" + week); err == nil && ok {
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
