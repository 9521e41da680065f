package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"briefd/robot"
	"briefd/roster"
	"briefd/store"
)

// SchedulerOptions configure the Scheduler. Times of day are in the office time zone.
type SchedulerOptions struct {
	// SummaryTo receive the weekly summary and the health alerts. Empty: neither is sent.
	SummaryTo []string
	// SummaryWeekday and SummaryAt are when the weekly summary goes out: "monday" and "08:30" by default.
	SummaryWeekday string
	SummaryAt      string
	// RemindDays are the days before a period's due date on which units that have not reported are
	// reminded (0 is the due date itself); RemindAt is the time of day, "09:00" by default. No days:
	// no reminders.
	RemindDays []int
	RemindAt   string
	// AlertAfter is how long the mailbox may go unchecked before the office is told. Default 2h;
	// negative disables the alert.
	AlertAfter time.Duration
	// HealthMark is the store mark the mailbox watcher sets after each successful check. Default
	// "imap:last_ok".
	HealthMark string
	// LastError, when set, says what went wrong last with the mailbox checks, and whether it is a
	// fault of this machine (a full disk, say) rather than of the mail server: the alert names it.
	LastError func() (err string, local bool)
	// Roster returns the current roster (it changes when an address is learned). Default: the
	// notifier's roster.
	Roster func() *roster.Roster
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Interval is how often Run ticks. Default one minute.
	Interval time.Duration
}

// Scheduler queues the mail that is due at a given time: the weekly summary, reminders (催报) and the
// mailbox health alert. Every job is guarded by a mark in the store, set in the same transaction that
// queues its mail (store.EnqueueOnce), so each fires once whatever restarts happen:
//
//   - summary:<ISO week>, e.g. summary:2026-W48: the summary is due from SummaryWeekday SummaryAt of
//     that ISO week; a daemon that was down at that moment sends it when it starts later in the week.
//   - remind:<campaign>:<period>:<unit>:<date>: one reminder per unit, period and reminder day, sent
//     from RemindAt on that day only (a day missed is not made up the next day).
//   - alert:down:<last ok> and alert:up:<last ok>: one alert per outage and one when it ends.
//   - remind-robot:<date>: the group robots' post of a reminder day.
//
// The group robots that post an event (Options.Robots) get their posts in the same transaction as the
// event's mail.
type Scheduler struct {
	o       SchedulerOptions
	n       *Notifier
	st      *store.Store
	log     *slog.Logger
	weekday time.Weekday
	sumH    int
	sumM    int
	remH    int
	remM    int
	started time.Time // the first Tick: the reference for the health alert while no check ever succeeded
}

// NewScheduler checks the options and returns a Scheduler that queues in st's outbox and composes with
// n's office, marker and templates.
func NewScheduler(o SchedulerOptions, st *store.Store, n *Notifier, log *slog.Logger) (*Scheduler, error) {
	if st == nil || n == nil {
		return nil, errors.New("notify: scheduler needs a store and a notifier")
	}
	if o.SummaryWeekday == "" {
		o.SummaryWeekday = "monday"
	}
	if o.SummaryAt == "" {
		o.SummaryAt = "08:30"
	}
	if o.RemindAt == "" {
		o.RemindAt = "09:00"
	}
	if o.AlertAfter == 0 {
		o.AlertAfter = 2 * time.Hour
	}
	if o.HealthMark == "" {
		o.HealthMark = "imap:last_ok"
	}
	if o.Roster == nil {
		o.Roster = n.o.Roster
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{o: o, n: n, st: st, log: log}
	var ok bool
	var errs []error
	if s.weekday, ok = roster.ParseWeekday(o.SummaryWeekday); !ok {
		errs = append(errs, fmt.Errorf("notify: summary weekday %q is not a day of the week", o.SummaryWeekday))
	}
	if s.sumH, s.sumM, ok = roster.ParseClock(o.SummaryAt); !ok {
		errs = append(errs, fmt.Errorf("notify: summary time %q is not like 08:30", o.SummaryAt))
	}
	if s.remH, s.remM, ok = roster.ParseClock(o.RemindAt); !ok {
		errs = append(errs, fmt.Errorf("notify: reminder time %q is not like 09:00", o.RemindAt))
	}
	for _, to := range o.SummaryTo {
		if why := roster.AddressProblem(to); why != "" {
			errs = append(errs, fmt.Errorf("notify: summary recipient %q: %s", to, why))
		}
	}
	for _, d := range o.RemindDays {
		if d < 0 {
			errs = append(errs, fmt.Errorf("notify: reminder day %d is negative", d))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, t := range []string{"summary.txt.tmpl", "summary.html.tmpl", "remind.txt.tmpl", "alert.txt.tmpl"} {
		if _, err := n.readTemplate(t); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Scheduler) loc() *time.Location { return s.n.o.Office.Location }

// Tick queues whatever is due at now: the week's summary, today's reminders, a health alert. The error
// joins the failures of the jobs; each job runs even when another fails.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) error {
	_, err := s.tick(ctx, now)
	return err
}

// tick is Tick; it also reports how many mails were queued.
func (s *Scheduler) tick(ctx context.Context, now time.Time) (int, error) {
	if s.started.IsZero() {
		s.started = now
	}
	total := 0
	var errs []error
	for _, job := range []struct {
		name string
		fn   func(time.Time) (int, error)
	}{{"summary", s.tickSummary}, {"reminders", s.tickReminders}, {"health alert", s.tickHealth}} {
		if ctx.Err() != nil {
			break
		}
		n, err := job.fn(now)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", job.name, err))
		}
	}
	return total, errors.Join(errs...)
}

// Run ticks at start and then every Interval until ctx is cancelled; after a tick that queued mail it
// signals wake (without blocking) so that the outbox sender looks at once. It returns nil when ctx is
// cancelled.
func (s *Scheduler) Run(ctx context.Context, wake chan<- struct{}) error {
	for {
		n, err := s.tick(ctx, s.o.Now())
		if err != nil {
			s.log.Error("notify: scheduler", "err", err)
		}
		if n > 0 {
			s.log.Info("notify: scheduler queued mail", "count", n)
			select {
			case wake <- struct{}{}:
			default:
			}
		}
		t := time.NewTimer(s.o.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// SummaryDue is when the summary of now's ISO week is due, and that week's key (2026-W48).
func (s *Scheduler) SummaryDue(now time.Time) (time.Time, string) {
	local := now.In(s.loc())
	y, w := local.ISOWeek()
	// Monday of this ISO week.
	wd := (int(local.Weekday()) + 6) % 7 // Monday 0 … Sunday 6
	monday := time.Date(local.Year(), local.Month(), local.Day()-wd, 0, 0, 0, 0, s.loc())
	off := (int(s.weekday) + 6) % 7
	due := time.Date(monday.Year(), monday.Month(), monday.Day()+off, s.sumH, s.sumM, 0, 0, s.loc())
	return due, fmt.Sprintf("%04d-W%02d", y, w)
}

// summaryMark is the store mark set when the summary of a week (2026-W48) was queued.
func summaryMark(week string) string { return "summary:" + week }

// SummaryQueued reports when the summary of week (SummaryDue's key) was queued, if it was.
func (s *Scheduler) SummaryQueued(week string) (time.Time, bool, error) {
	return s.st.Mark(summaryMark(week))
}

func (s *Scheduler) tickSummary(now time.Time) (int, error) {
	if len(s.o.SummaryTo) == 0 && len(s.n.robotsFor(robot.EventSummary)) == 0 {
		return 0, nil
	}
	due, week := s.SummaryDue(now)
	if now.Before(due) {
		return 0, nil
	}
	mark := summaryMark(week)
	if _, done, err := s.st.Mark(mark); err != nil || done {
		return 0, err
	}
	items, err := s.summaryItems(now)
	if err != nil {
		return 0, err
	}
	queued, err := s.st.EnqueueOnce(mark, now, items...)
	if err != nil || !queued {
		return 0, err
	}
	s.log.Info("notify: weekly summary queued", "week", week, "to", strings.Join(s.o.SummaryTo, ","))
	return len(items), nil
}

// QueueSummary queues this week's summary now, whether or not it was sent already (`briefd summary
// -send`), and marks the week as done so that the scheduled one does not follow it. It returns the
// number of mails queued (one per recipient).
func (s *Scheduler) QueueSummary(now time.Time) (int, error) {
	if len(s.o.SummaryTo) == 0 && len(s.n.robotsFor(robot.EventSummary)) == 0 {
		return 0, errors.New("notify: no summary recipients (office.summary_to) and no robot that posts the summary")
	}
	items, err := s.summaryItems(now)
	if err != nil {
		return 0, err
	}
	_, week := s.SummaryDue(now)
	if _, err := s.st.EnqueueOnce("summary-manual:"+week+":"+now.UTC().Format(time.RFC3339Nano), now, items...); err != nil {
		return 0, err
	}
	if _, done, err := s.st.Mark(summaryMark(week)); err == nil && !done {
		if err := s.st.SetMark(summaryMark(week), now); err != nil {
			return len(items), err
		}
	}
	return len(items), nil
}

// summaryItems composes the summary for every recipient.
func (s *Scheduler) summaryItems(now time.Time) ([]*store.OutboxItem, error) {
	sum, err := s.Summary(now)
	if err != nil {
		return nil, err
	}
	var items []*store.OutboxItem
	for _, to := range s.o.SummaryTo {
		msg, err := s.n.composeGenerated(&generatedMail{To: to, Subject: sum.Subject, Text: []byte(sum.Text),
			HTML: []byte(sum.HTML), ID: s.n.generatedID("summary", sum.Week, to), Date: now,
			Attach: []mailAttachment{{Name: sum.FileName, Type: xlsxType, Data: sum.XLSX}}})
		if err != nil {
			return nil, err
		}
		items = append(items, &store.OutboxItem{Kind: store.KindSummary, To: to, Subject: sum.Subject, Message: msg,
			Created: now, NextTry: now})
	}
	posts, err := s.summaryRobotItems(sum, now)
	return append(items, posts...), err
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// AlertData is what templates/alert.txt.tmpl sees.
type AlertData struct {
	Down      bool   // true: the mailbox cannot be checked; false: it recovered
	Hours     int    // how long it has been (or was) down, in whole hours
	LastCheck string // the last successful check (Down), or the first one after the outage
	Since     string // when the outage began (the last check before it)
	Zone      string
	Office    Office
	LastError string // what went wrong last (Down), "" when not known
	Local     bool   // LastError is a fault of this machine, not of the mail server or the network
}

// tickHealth mails SummaryTo once when no mailbox check has succeeded for AlertAfter, and once more
// when checks succeed again. An outage is named by the last good check before it.
func (s *Scheduler) tickHealth(now time.Time) (int, error) {
	if s.o.AlertAfter < 0 || len(s.o.SummaryTo) == 0 && len(s.n.robotsFor(robot.EventAlert)) == 0 {
		return 0, nil
	}
	last, ok, err := s.st.Mark(s.o.HealthMark)
	if err != nil {
		return 0, err
	}
	ref := last
	if !ok {
		ref = s.started // never checked: count from the start of this daemon
	}
	// Recovery: an alert was sent for an outage that began at open, and a check has succeeded since.
	open, alerted, err := s.st.Mark("alert:open")
	if err != nil {
		return 0, err
	}
	if alerted && ok && last.After(open) {
		key := "alert:up:" + open.UTC().Format(time.RFC3339)
		_, done, err := s.st.Mark(key)
		if err != nil {
			return 0, err
		}
		if !done {
			d := &AlertData{Down: false, Hours: int(last.Sub(open).Hours()), LastCheck: cnDateTime(last.In(s.loc())),
				Since: cnDateTime(open.In(s.loc())), Zone: zoneName(last.In(s.loc())), Office: s.n.o.Office}
			if open.Year() < 2000 { // the outage began before any check succeeded
				d.Since, d.Hours = "启动时", int(last.Sub(s.started).Hours())
			}
			return s.queueAlert(key, "邮箱检查已恢复正常", d, open, now)
		}
	}
	if now.Sub(ref) < s.o.AlertAfter {
		return 0, nil
	}
	key := "alert:down:" + ref.UTC().Format(time.RFC3339)
	if _, done, err := s.st.Mark(key); err != nil || done {
		return 0, err
	}
	hours := int(now.Sub(ref).Hours())
	d := &AlertData{Down: true, Hours: hours, Zone: zoneName(now.In(s.loc())), Office: s.n.o.Office,
		LastCheck: "从未成功"}
	if ok {
		d.LastCheck = cnDateTime(last.In(s.loc()))
	}
	if s.o.LastError != nil {
		e, local := s.o.LastError()
		d.LastError, d.Local = Clean(e, 500), local && e != ""
	}
	subject := fmt.Sprintf("告警：邮箱已 %d 小时无法检查", hours)
	if d.Local {
		subject = fmt.Sprintf("告警：已 %d 小时无法处理新邮件（本机故障）", hours)
	}
	n, err := s.queueAlert(key, subject, d, ref, now)
	if err != nil || n == 0 {
		return n, err
	}
	// Remember the outage so that its end is reported. Without a successful check ever, there is
	// no time to compare with: the first check after it ends the outage.
	mark := ref
	if !ok {
		mark = time.Time{}.Add(time.Second)
	}
	return n, s.st.SetMark("alert:open", mark)
}

// queueAlert queues the alert (or recovery) mail to SummaryTo and the robots' posts; since is when the
// outage began (the last good check).
func (s *Scheduler) queueAlert(key, subject string, d *AlertData, since, now time.Time) (int, error) {
	tmpl, err := s.n.loadText("alert.txt.tmpl")
	if err != nil {
		return 0, err
	}
	var text bytes.Buffer
	if err := tmpl.Execute(&text, d); err != nil {
		return 0, fmt.Errorf("notify: alert text: %w", err)
	}
	var items []*store.OutboxItem
	for _, to := range s.o.SummaryTo {
		msg, err := s.n.composeGenerated(&generatedMail{To: to, Subject: subject, Text: text.Bytes(),
			ID: s.n.generatedID("alert", key, to), Date: now, Priority: d.Down})
		if err != nil {
			return 0, err
		}
		items = append(items, &store.OutboxItem{Kind: store.KindAlert, To: to, Subject: subject, Message: msg,
			Created: now, NextTry: now})
	}
	if since.Year() < 2000 { // no check ever succeeded: the outage began when this daemon started
		since = s.started
	}
	posts, err := s.alertRobotItems(d.Down, since, d.LastError, now)
	if err != nil {
		return 0, err
	}
	items = append(items, posts...)
	queued, err := s.st.EnqueueOnce(key, now, items...)
	if err != nil || !queued {
		return 0, err
	}
	s.log.Warn("notify: "+subject, "to", s.o.SummaryTo)
	return len(items), nil
}
