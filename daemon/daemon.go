// Package daemon assembles briefd's long-lived parts from the config — the PDF checker, the mailbox
// watcher and its pipeline, the notifier that composes mail, the outbox that delivers it, the scheduler
// (summary, reminders, health alert) and the dashboard — and runs them: one pass over the mailbox
// (Poll, for `briefd poll` and the demo) or all of them under one supervisor until stopped (Run, for
// `briefd run`). Commands that change receipts (recheck, receipt add, remind) build one too, so that
// the office's operations reach the same pipeline and outbox as the daemon's.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"briefd/config"
	"briefd/control"
	"briefd/intake"
	"briefd/internal/mailnet"
	"briefd/notify"
	"briefd/office"
	"briefd/outbox"
	"briefd/pdfcheck"
	"briefd/robot"
	"briefd/store"
	"briefd/supervise"
	"briefd/web"
)

// Options are what the parts are built from.
type Options struct {
	Config *config.Config
	Store  *store.Store
	Office *office.Office // its roster is the one every part sees; the parts are set on it
	Log    *slog.Logger   // default: discard
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Progress, when set, gets a line for every mail recorded: "[3/40] 忻府区教育科技局 accepted JB2026-0003".
	Progress io.Writer
}

// Daemon is the set of parts built from one config.
type Daemon struct {
	o        Options
	checker  *pdfcheck.Checker
	watcher  *intake.Watcher
	pipeline *intake.Pipeline
	notifier *notify.Notifier
	outbox   *outbox.Outbox    // delivers what notifier composes
	schedule *notify.Scheduler // weekly summary, reminders, health alert
	wake     chan struct{}     // tells the outbox sender that something was queued
	web      *web.Server       // the dashboard, after EnableDashboard
	parts    *supervise.Supervisor
}

// ReplyMarker is in the Message-ID of every mail briefd sends, so that it recognises them coming back.
const ReplyMarker = "briefd"

// New builds the parts and sets the office's pipeline, composer and reminder to them. Close releases
// the PDF checker's workers.
func New(o Options) (*Daemon, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	cfg, off, log := o.Config, o.Office, o.Log
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
	d := &Daemon{o: o, wake: make(chan struct{}, 1)}
	off.SetQueued(d.poke)
	if d.notifier, err = Composer(o); err != nil {
		return nil, err
	}
	off.SetComposer(d.notifier)
	d.checker = pdfcheck.New(pdfcheck.Options{Timeout: cfg.Limits.PDFTime(), MaxSize: cfg.Limits.AttachmentBytes(),
		MaxMemory: cfg.Limits.PDFMemoryBytes(), Workers: 2}, log)
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
	d.watcher = intake.NewWatcher(iopts, o.Store, log)
	d.pipeline = intake.NewPipeline(intake.PipelineOptions{Ours: []string{cfg.Office.Address, cfg.IMAP.Username},
		Marker: ReplyMarker, Replies: cfg.Replies.Enabled, MaxAttachment: cfg.Limits.AttachmentBytes(),
		SpoolDir: cfg.Store.Spool, Location: cfg.Location(), OfficeTo: cfg.Office.SummaryTo,
		AuthServIDs: cfg.IMAP.Trusted(), MaxAge: cfg.Replies.Age(), Now: o.Now, Notices: d.notifier.ProblemItems},
		o.Store, off.Roster, d.checker, off.Archive(), log)
	off.SetRechecker(d.pipeline)
	off.SetRecorder(d.pipeline)
	if o.Progress != nil {
		d.pipeline.Recorded = func(f *intake.Fetched, r *store.Receipt, dup bool) {
			who := off.Roster().UnitName(r.Unit)
			if r.Unit == "" {
				who = r.From
			}
			state := r.Verdict
			if dup {
				state = "already recorded"
			}
			fmt.Fprintf(o.Progress, "[%d/%d] %s %s %s\n", f.Index, f.Total, who, state, r.Number)
		}
	}
	sender := outbox.NewSMTPSender(outbox.SMTPOptions{Server: cfg.SMTP.Server, Security: cfg.SMTP.Security,
		Username: cfg.SMTP.Username, Password: cfg.SMTP.Value(), RootCAs: smtpCAs})
	var saveSent func(context.Context, []byte) error
	if folder := cfg.SMTP.SaveSent; folder != "" {
		saveSent = func(ctx context.Context, msg []byte) error { return intake.SaveCopy(ctx, iopts, log, folder, msg) }
	}
	robots := map[string]*robot.Robot{}
	for _, r := range cfg.ResolvedRobots() {
		robots[r.Name()] = r
	}
	d.outbox = outbox.New(outbox.Options{PerSenderPerHour: cfg.Replies.PerSenderPerHour, SaveSent: saveSent, Robots: robots,
		Now: o.Now}, o.Store, d.notifier, sender, log)
	d.schedule, err = Scheduler(o, d.notifier, func() (string, bool) {
		st := d.watcher.Stats()
		return st.LastError, st.LastFault
	})
	if err != nil {
		d.checker.Close()
		return nil, err
	}
	off.SetReminder(d.schedule)
	return d, nil
}

// Composer is the notifier that writes the office's mail, as the daemon builds it: for a command that
// only composes (`briefd summary`, `briefd campaign notice`).
func Composer(o Options) (*notify.Notifier, error) {
	cfg, now := o.Config, o.Now
	if now == nil {
		now = time.Now
	}
	var robots []notify.Robot
	for _, r := range cfg.Robots {
		robots = append(robots, notify.Robot{Name: r.Name, Events: r.Events})
	}
	return notify.New(notify.Options{
		Office: notify.Office{Name: cfg.Office.Name, Address: cfg.Office.Address, Contact: cfg.Office.Contact,
			Location: cfg.Location()},
		TemplateDir: cfg.Replies.Templates, ReasonText: pdfcheck.ReasonText, Marker: ReplyMarker, Now: now,
		MaxMessage: cfg.Limits.MessageBytes(), Robots: robots, DashboardURL: cfg.Web.PublicURL,
		Roster: o.Office.Roster,
	}, o.Office.Roster())
}

// Scheduler is the weekly summary, the reminders and the health alert, as the daemon builds them;
// lastError (nil without a watcher) tells the health alert what went wrong last.
func Scheduler(o Options, n *notify.Notifier, lastError func() (string, bool)) (*notify.Scheduler, error) {
	cfg := o.Config
	return notify.NewScheduler(notify.SchedulerOptions{
		SummaryTo: cfg.Office.SummaryTo, SummaryWeekday: cfg.Summary.Weekday, SummaryAt: cfg.Summary.At,
		RemindDays: cfg.Reminders.DaysBeforeDue, RemindAt: cfg.Reminders.At,
		AlertAfter: cfg.Health.After(), HealthMark: intake.MarkIMAPLastOK, LastError: lastError,
		Roster: o.Office.Roster, Now: o.Now,
	}, o.Store, n, o.Log)
}

// Close releases the PDF checker's workers.
func (d *Daemon) Close() { d.checker.Close() }

// Counts are the pipeline's counts of what it did with the mail since it was built, by outcome.
func (d *Daemon) Counts() map[string]int { return d.pipeline.Counts() }

// Recover finishes what a crash interrupted: staged archive files are moved into place or removed, and
// raw messages and parts left in the spool are removed (their messages were not recorded and are
// fetched again). It runs at start, while this process holds the store.
func (d *Daemon) Recover() {
	if err := d.pipeline.RecoverStaged(); err != nil {
		d.o.Log.Warn("recovering staged archive files", "err", err)
	}
	if n, err := intake.CleanSpool(d.o.Config.Store.Spool); err != nil {
		d.o.Log.Warn("cleaning the spool folder", "err", err)
	} else if n > 0 {
		d.o.Log.Info("removed files an interrupted run left in the spool folder", "count", n)
	}
}

// Poll fetches and processes all new mail, then sends what the outbox holds and runs the scheduled jobs
// that are due. It returns the number of new messages.
func (d *Daemon) Poll(ctx context.Context) (int, error) {
	d.Recover()
	// Replies go out while the next mails are fetched and checked, as in the daemon, rather than all
	// after the last one: on a backlog the sending otherwise adds its whole time to the pass.
	sendCtx, stopSending := context.WithCancel(ctx)
	sending := make(chan struct{})
	go func() {
		defer close(sending)
		d.outbox.Run(sendCtx, d.wake)
	}()
	n, perr := d.watcher.PollWith(ctx, waking{d.pipeline, d.poke})
	stopSending()
	<-sending
	// Whatever is left (and what could not be sent during the pass) gets one more try now.
	_, failed, serr := d.outbox.Flush(ctx)
	// An office that runs `poll` from cron instead of the daemon still gets its summary and reminders;
	// they are composed after the replies went out, so the summary counts what is really pending.
	if err := d.schedule.Tick(ctx, d.o.Now()); err != nil {
		d.o.Log.Warn("scheduled jobs", "err", err)
	}
	_, failed2, serr2 := d.outbox.Flush(ctx)
	if failed += failed2; failed > 0 && serr == nil && serr2 == nil {
		d.o.Log.Warn("some mail could not be sent; it stays in the outbox", "failed", failed)
	}
	return n, errors.Join(perr, serr, serr2)
}

// ControlFunc serves the control socket on ln until ctx is done.
type ControlFunc func(ctx context.Context, ln net.Listener) error

// Run runs every part until ctx is done, under one supervisor: the control socket beside the database
// (served by serve), the dashboard when enabled, the mailbox watcher, the outbox sender and the
// scheduler. A part that cannot start (the dashboard's port is taken, the control socket cannot be
// made) ends Run at once with an error naming it; a part that fails later is started again with
// backoff, and one that keeps failing ends Run, so that the service manager restarts briefd. At the end
// each part finishes what it has in hand.
func (d *Daemon) Run(ctx context.Context, serve ControlFunc) error {
	d.Recover()
	var ctl net.Listener
	parts := []supervise.Part{
		{Name: "control socket", Start: func() (err error) {
			ctl, err = control.Listen(control.Socket(d.o.Config.Store.Path))
			return err
		}, Run: func(ctx context.Context) error { return serve(ctx, ctl) }},
	}
	if d.web != nil {
		parts = append(parts, supervise.Part{Name: "dashboard", Start: d.web.Listen, Run: d.web.Serve})
	}
	parts = append(parts,
		supervise.Part{Name: "mailbox watcher", Run: func(ctx context.Context) error { return d.watcher.RunWith(ctx, waking{d.pipeline, d.poke}) }},
		supervise.Part{Name: "outbox sender", Run: func(ctx context.Context) error { return d.outbox.Run(ctx, d.wake) }},
		supervise.Part{Name: "scheduler", Run: func(ctx context.Context) error { return d.schedule.Run(ctx, d.wake) }},
	)
	d.parts = supervise.New(supervise.Options{}, d.o.Log, parts...)
	err := d.parts.Run(ctx)
	if err == nil {
		d.o.Log.Info("briefd stopped")
	}
	return err
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

// poke wakes the outbox sender.
func (d *Daemon) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}
