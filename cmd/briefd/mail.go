package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"briefd/config"
	"briefd/intake"
	"briefd/internal/mailnet"
	"briefd/notify"
	"briefd/outbox"
	"briefd/pdfcheck"
	"briefd/robot"
	"briefd/roster"
	"briefd/store"
	"briefd/supervise"
	"briefd/web"
)

// services are the long-lived parts wired from the config: the same for run, poll and demo.
type services struct {
	a        *app
	checker  *pdfcheck.Checker
	watcher  *intake.Watcher
	pipeline *intake.Pipeline
	notifier *notify.Notifier
	outbox   *outbox.Outbox    // delivers what notifier composes
	schedule *notify.Scheduler // weekly summary, reminders, health alert
	wake     chan struct{}     // tells the outbox sender that something was queued
	web      *web.Server       // the dashboard, in `run` and `demo -web`
	parts    *supervise.Supervisor
}

// buildServices wires checker, watcher, pipeline and notifier by hand.
func buildServices(a *app, progress io.Writer) (*services, error) {
	cfg := a.cfg
	imapCAs, err := mailnet.Roots(cfg.IMAP.CAFile)
	if err != nil {
		return nil, &config.Error{Path: cfg.File(), Problems: []string{"imap.ca_file: " + err.Error()}}
	}
	smtpCAs, err := mailnet.Roots(cfg.SMTP.CAFile)
	if err != nil {
		return nil, &config.Error{Path: cfg.File(), Problems: []string{"smtp.ca_file: " + err.Error()}}
	}
	for _, d := range []string{cfg.Store.Spool, cfg.Store.Archive} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	s := &services{a: a, wake: make(chan struct{}, 1)}
	a.off.SetQueued(s.poke)
	if s.notifier, err = composer(a); err != nil {
		return nil, err
	}
	a.off.SetComposer(s.notifier)
	s.checker = pdfcheck.New(pdfcheck.Options{Timeout: cfg.Limits.PDFTime(), MaxSize: cfg.Limits.AttachmentBytes(),
		MaxMemory: cfg.Limits.PDFMemoryBytes(), Workers: 2}, a.log)
	var debug io.Writer
	if cfg.IMAP.Debug {
		debug = os.Stderr
	}
	iopts := intake.IMAPOptions{Server: cfg.IMAP.Server, Security: cfg.IMAP.Security, Username: cfg.IMAP.Username,
		Password: cfg.IMAP.Value(), Mailbox: cfg.IMAP.Mailbox, IDLE: cfg.IMAP.IDLE, PollInterval: cfg.IMAP.Every(),
		After: cfg.IMAP.After, MoveTo: cfg.IMAP.MoveTo, MaxMessage: cfg.Limits.MessageBytes(),
		SpoolDir: cfg.Store.Spool, RootCAs: imapCAs, Debug: debug, Since: cfg.IMAP.From(), Junk: cfg.IMAP.SpamMailbox}
	if iopts.Junk == "none" {
		iopts.Junk = "-"
	}
	s.watcher = intake.NewWatcher(iopts, a.st, a.log)
	s.pipeline = intake.NewPipeline(intake.PipelineOptions{Ours: []string{cfg.Office.Address, cfg.IMAP.Username},
		Marker: replyMarker, Replies: cfg.Replies.Enabled, MaxAttachment: cfg.Limits.AttachmentBytes(),
		SpoolDir: cfg.Store.Spool, Location: cfg.Location(), OfficeTo: cfg.Office.SummaryTo,
		AuthServIDs: cfg.IMAP.Trusted(), MaxAge: cfg.Replies.Age(), Now: a.now, Notices: s.notifier.ProblemItems}, a.st, func() *roster.Roster { return a.R() }, s.checker, a.archive, a.log)
	a.off.SetRechecker(s.pipeline)
	a.off.SetRecorder(s.pipeline)
	if progress != nil {
		s.pipeline.Recorded = func(f *intake.Fetched, r *store.Receipt, dup bool) {
			who := a.R().UnitName(r.Unit)
			if r.Unit == "" {
				who = r.From
			}
			state := r.Verdict
			if dup {
				state = "already recorded"
			}
			fmt.Fprintf(progress, "[%d/%d] %s %s %s\n", f.Index, f.Total, who, state, r.Number)
		}
	}
	sender := outbox.NewSMTPSender(outbox.SMTPOptions{Server: cfg.SMTP.Server, Security: cfg.SMTP.Security,
		Username: cfg.SMTP.Username, Password: cfg.SMTP.Value(), RootCAs: smtpCAs})
	var saveSent func(context.Context, []byte) error
	if folder := cfg.SMTP.SaveSent; folder != "" {
		saveSent = func(ctx context.Context, msg []byte) error { return intake.SaveCopy(ctx, iopts, a.log, folder, msg) }
	}
	robots := map[string]*robot.Robot{}
	for _, r := range cfg.ResolvedRobots() {
		robots[r.Name()] = r
	}
	s.outbox = outbox.New(outbox.Options{PerSenderPerHour: cfg.Replies.PerSenderPerHour, SaveSent: saveSent, Robots: robots,
		Now: a.now}, a.st, s.notifier, sender, a.log)
	s.schedule, err = newScheduler(a, s.notifier, func() (string, bool) {
		st := s.watcher.Stats()
		return st.LastError, st.LastFault
	})
	if err != nil {
		s.checker.Close()
		return nil, err
	}
	a.off.SetReminder(s.schedule)
	return s, nil
}

// waking is the pipeline as the watcher's Processor, waking the sender after every commit: the replies
// it queued go out while the next mails are checked.
type waking struct {
	*intake.Pipeline
	wake func()
}

// Commit implements intake.Processor.
func (w waking) Commit(ctx context.Context, batch []intake.Prepared) (int, error) {
	n, err := w.Pipeline.Commit(ctx, batch)
	if n > 0 {
		w.wake()
	}
	return n, err
}

// replyMarker is in the Message-ID of every mail briefd sends, so that it recognises them coming back.
const replyMarker = "briefd"

func (s *services) close() { s.checker.Close() }

// recover finishes what a crash interrupted: staged archive files are moved into place or removed, and
// raw messages and parts left in the spool are removed (their messages were not recorded and are
// fetched again). It runs at start, while this process holds the store.
func (s *services) recover() {
	if err := s.pipeline.RecoverStaged(); err != nil {
		s.a.log.Warn("recovering staged archive files", "err", err)
	}
	if n, err := intake.CleanSpool(s.a.cfg.Store.Spool); err != nil {
		s.a.log.Warn("cleaning the spool folder", "err", err)
	} else if n > 0 {
		s.a.log.Info("removed files an interrupted run left in the spool folder", "count", n)
	}
}

// pollOnce fetches and processes all new mail, then sends what the outbox holds.
func (s *services) pollOnce(ctx context.Context) (int, error) {
	s.recover()
	// Replies go out while the next mails are fetched and checked, as in the daemon, rather than all
	// after the last one: on a backlog the sending otherwise adds its whole time to the pass.
	sendCtx, stopSending := context.WithCancel(ctx)
	sending := make(chan struct{})
	go func() {
		defer close(sending)
		s.outbox.Run(sendCtx, s.wake)
	}()
	n, perr := s.watcher.PollWith(ctx, waking{s.pipeline, s.poke})
	stopSending()
	<-sending
	// Whatever is left (and what could not be sent during the pass) gets one more try now.
	_, failed, serr := s.outbox.Flush(ctx)
	// An office that runs `poll` from cron instead of the daemon still gets its summary and reminders;
	// they are composed after the replies went out, so the summary counts what is really pending.
	if err := s.schedule.Tick(ctx, s.a.now()); err != nil {
		s.a.log.Warn("scheduled jobs", "err", err)
	}
	_, failed2, serr2 := s.outbox.Flush(ctx)
	if failed += failed2; failed > 0 && serr == nil && serr2 == nil {
		s.a.log.Warn("some mail could not be sent; it stays in the outbox", "failed", failed)
	}
	return n, errors.Join(perr, serr, serr2)
}

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
	s, err := buildServices(a, e.stderr)
	if err != nil {
		return err
	}
	defer s.close()
	start := time.Now()
	n, err := s.pollOnce(ctx)
	counts := s.pipeline.Counts()
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
	s, err := buildServices(a, nil)
	if err != nil {
		return err
	}
	defer s.close()
	if s.web, err = s.buildWeb(); err != nil {
		return err
	}
	a.svc = s // forwarded commands use the daemon's pipeline
	a.log.Info("briefd started", "version", version(), "mailbox", a.cfg.IMAP.Mailbox, "server", a.cfg.IMAP.Server,
		"dashboard", "http://"+a.cfg.Web.Listen)
	return s.run(ctx)
}

// run runs every part until ctx is done, under one supervisor: a part that cannot start (the dashboard's
// port is taken, the control socket cannot be made) ends run at once with an error naming it; a part that
// fails later is started again with backoff, and one that keeps failing ends run, so that the service
// manager restarts briefd. At the end each part finishes what it has in hand.
func (s *services) run(ctx context.Context) error {
	s.recover()
	var ctl net.Listener
	parts := []supervise.Part{
		{Name: "control socket", Start: func() (err error) {
			ctl, err = listenControl(s.a.cfg.Store.Path)
			return err
		}, Run: func(ctx context.Context) error { return serveControl(ctx, s.a, ctl) }},
	}
	if s.web != nil {
		parts = append(parts, supervise.Part{Name: "dashboard", Start: s.web.Listen, Run: s.web.Serve})
	}
	parts = append(parts,
		supervise.Part{Name: "mailbox watcher", Run: func(ctx context.Context) error { return s.watcher.RunWith(ctx, waking{s.pipeline, s.poke}) }},
		supervise.Part{Name: "outbox sender", Run: func(ctx context.Context) error { return s.outbox.Run(ctx, s.wake) }},
		supervise.Part{Name: "scheduler", Run: func(ctx context.Context) error { return s.schedule.Run(ctx, s.wake) }},
	)
	s.parts = supervise.New(supervise.Options{}, s.a.log, parts...)
	err := s.parts.Run(ctx)
	if err == nil {
		s.a.log.Info("briefd stopped")
	}
	return err
}
