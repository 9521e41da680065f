package notify

import (
	"bytes"
	"fmt"
	texttemplate "text/template"
	"time"

	"briefd/report"
	"briefd/roster"
	"briefd/store"
)

// ReminderData is what templates/remind.txt.tmpl sees.
type ReminderData struct {
	UnitName      string
	Title         string // the campaign
	Period        string // 2026年1月 for a monthly campaign; "" for a once campaign
	Due           string // 2026年1月31日
	DaysLeft      int    // days until the due date, 0 on the day (and after it)
	Overdue       int    // days past the due date (a reminder sent by hand after it), else 0
	Rejected      bool   // mail came, but no usable PDF
	Receipt       string // the receipt of that mail
	OfficeAddress string // where to send
	Office        Office
}

// Reminder is one reminder due now: a unit that has not reported for a period.
type Reminder struct {
	Mark     string // remind:<campaign>:<period>:<unit>:<date>
	Campaign string
	Period   string
	Unit     string
	Emails   []string
	Data     *ReminderData
}

// DueReminders lists the reminders due at now: for every period whose due date is one of RemindDays
// days after today (office time zone), from RemindAt on, the units owing it that have not reported
// (missing, or only rejected mail). A unit without an email address is listed with no Emails: no mail
// reaches it, but the group robots' reminder and the summary name it. Whether a reminder was already
// sent is not checked here. Closed campaigns are left out.
func (s *Scheduler) DueReminders(now time.Time) ([]Reminder, error) {
	if len(s.o.RemindDays) == 0 {
		return nil, nil
	}
	loc := s.loc()
	local := now.In(loc)
	if local.Before(time.Date(local.Year(), local.Month(), local.Day(), s.remH, s.remM, 0, 0, loc)) {
		return nil, nil
	}
	today := roster.DateOf(local)
	var dues []due
	for _, c := range s.o.Roster().Campaigns() {
		if !c.Closed.IsZero() {
			continue
		}
		for _, p := range c.Periods() {
			if today.Before(p.Opens) {
				continue
			}
			left := daysBetween(today, p.Due)
			for _, d := range s.o.RemindDays {
				if d == left {
					dues = append(dues, due{c, p, left})
					break
				}
			}
		}
	}
	return s.reminders(now, dues, "")
}

// due is a period to remind of, and the days left until its due date (negative: past it).
type due struct {
	c    roster.Campaign
	p    roster.Period
	left int
}

// reminders lists, for the periods dues, the units owing them (only unit, when not "") that have not
// reported at now: missing, or only rejected mail. A unit without an email address is listed with no
// Emails.
func (s *Scheduler) reminders(now time.Time, dues []due, unit string) ([]Reminder, error) {
	if len(dues) == 0 {
		return nil, nil
	}
	ros := s.o.Roster()
	today := roster.DateOf(now.In(s.loc()))
	es, err := s.st.Entries(func(e *store.Entry) bool { return e.Unit != "" && e.Campaign != "" && !e.Received.After(now) })
	if err != nil {
		return nil, fmt.Errorf("notify: reminders: read receipts: %w", err)
	}
	var out []Reminder
	for _, d := range dues {
		for _, ps := range report.Status(es, ros, d.c.ID, now) {
			if ps.Period != d.p.Key {
				continue
			}
			for _, u := range ps.Units {
				if u.State != roster.StateMissing && u.State != roster.StateRejected || unit != "" && u.Unit != unit {
					continue
				}
				un, ok := ros.Unit(u.Unit)
				if !ok {
					continue
				}
				data := &ReminderData{UnitName: Clean(un.Name, 80), Title: Clean(d.c.Title, 120), Due: cnDate(d.p.Due),
					DaysLeft: max(d.left, 0), Overdue: max(-d.left, 0), Rejected: u.State == roster.StateRejected,
					Receipt: Clean(u.Receipt, 40), OfficeAddress: s.n.o.Office.Address, Office: s.n.o.Office}
				data.Period = d.c.PeriodName(d.p.Key)
				r := Reminder{Mark: "remind:" + d.c.ID + ":" + d.p.Key + ":" + u.Unit + ":" + today.String(),
					Campaign: d.c.ID, Period: d.p.Key, Unit: u.Unit, Emails: un.Emails, Data: data}
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// daysBetween is the number of days from a to b (negative when b is before a).
func daysBetween(a, b roster.Date) int {
	ta := time.Date(a.Year, a.Month, a.Day, 12, 0, 0, 0, time.UTC)
	tb := time.Date(b.Year, b.Month, b.Day, 12, 0, 0, 0, time.UTC)
	return int(tb.Sub(ta).Hours() / 24)
}

// tickReminders queues the reminders due now that were not sent yet: one mail to each of the unit's
// addresses, once per unit, period and day.
func (s *Scheduler) tickReminders(now time.Time) (int, error) {
	rs, err := s.DueReminders(now)
	if err != nil || len(rs) == 0 {
		return 0, err
	}
	tmpl, err := s.n.loadText("remind.txt.tmpl")
	if err != nil {
		return 0, err
	}
	total := 0
	for _, r := range rs {
		if _, done, err := s.st.Mark(r.Mark); err != nil || done {
			if err != nil {
				return total, err
			}
			continue
		}
		items, err := s.reminderItems(tmpl, r, now)
		if err != nil {
			return total, err
		}
		if len(items) == 0 {
			if len(r.Emails) == 0 {
				s.log.Info("notify: no reminder mail: the unit has no address", "campaign", r.Campaign, "period", r.Period, "unit", r.Unit)
			}
			continue
		}
		queued, err := s.st.EnqueueOnce(r.Mark, now, items...)
		if err != nil {
			return total, err
		}
		if queued {
			total += len(items)
			s.log.Info("notify: reminder queued", "campaign", r.Campaign, "period", r.Period, "unit", r.Unit)
		}
	}
	// One post a reminder day for the group: every unit still missing.
	posts, err := s.reminderRobotItems(rs, now)
	if err != nil || len(posts) == 0 {
		return total, err
	}
	queued, err := s.st.EnqueueOnce("remind-robot:"+roster.DateOf(now.In(s.loc())).String(), now, posts...)
	if queued {
		total += len(posts)
	}
	return total, err
}

// reminderItems composes the reminder r: one mail to each of the unit's valid addresses.
func (s *Scheduler) reminderItems(tmpl *texttemplate.Template, r Reminder, now time.Time) ([]*store.OutboxItem, error) {
	var text bytes.Buffer
	if err := tmpl.Execute(&text, r.Data); err != nil {
		return nil, fmt.Errorf("notify: reminder text: %w", err)
	}
	subject := "催报：请报送《" + r.Data.Title + "》"
	if r.Data.Overdue > 0 {
		subject = "催报：请补报《" + r.Data.Title + "》"
	}
	if r.Data.Period != "" {
		subject += r.Data.Period
	}
	subject += "（截止" + r.Data.Due + "）"
	var items []*store.OutboxItem
	for _, to := range r.Emails {
		if why := roster.AddressProblem(to); why != "" {
			s.log.Warn("notify: reminder not sent to an invalid address", "unit", r.Unit, "to", to, "why", why)
			continue
		}
		msg, err := s.n.composeGenerated(&generatedMail{To: to, ToName: r.Data.UnitName, Subject: subject, Text: text.Bytes(),
			ID: s.n.generatedID("remind", r.Mark, to), Date: now})
		if err != nil {
			return nil, err
		}
		items = append(items, &store.OutboxItem{Kind: store.KindReminder, To: to, Subject: subject, Message: msg,
			Created: now, NextTry: now})
	}
	return items, nil
}

// RemindFilter selects what RemindNow reminds of: a campaign and a unit ("" for all).
type RemindFilter struct {
	Campaign string
	Unit     string
}

// RemindResult says what RemindNow did: who was reminded, and who was not and why.
type RemindResult struct {
	Sent    []RemindLine `json:"sent"`
	Skipped []RemindLine `json:"skipped"`
}

// RemindLine is one unit and period of a RemindResult.
type RemindLine struct {
	Campaign string `json:"campaign"`
	Title    string `json:"title"`
	Period   string `json:"period"`
	// PeriodName is the period as people read it: 2026年11月, "" for a once campaign (roster.PeriodName).
	PeriodName string   `json:"period_name,omitempty"`
	Due        string   `json:"due"`
	Unit       string   `json:"unit"`
	UnitName   string   `json:"name"`
	To         []string `json:"to,omitempty"`
	Why        string   `json:"why,omitempty"` // why it was skipped, in Chinese
}

// Why a unit that has not reported gets no reminder now (RemindLine.Why).
const (
	SkipToday     = "今天已经催报过（每个单位每期每天最多一次）"
	SkipNoAddress = "没有登记邮箱"
)

// RemindNow reminds at once (催报, the office's button), whatever RemindDays say: for the current period
// of every open campaign f selects (the first period opened by now whose due date has not passed, else
// the last one opened, which is then overdue), the units that have not reported (missing, or only
// rejected mail; only f.Unit when set). The reminders are those the scheduler sends, with the same
// marks: a unit reminded today, by the scheduler or by hand, is not reminded again that day. Every
// reminder is queued in one transaction; audit, when set, gives the audit entry written with them.
func (s *Scheduler) RemindNow(now time.Time, f RemindFilter, audit func(RemindResult) *store.AuditEntry) (RemindResult, error) {
	today := roster.DateOf(now.In(s.loc()))
	ros := s.o.Roster()
	var dues []due
	for _, c := range ros.Campaigns() {
		if f.Campaign != "" && c.ID != f.Campaign || !c.Closed.IsZero() {
			continue
		}
		opened := ros.PeriodsUntil(c, now)
		if len(opened) == 0 {
			continue
		}
		p := opened[len(opened)-1]
		for _, q := range opened {
			if !q.Due.Before(today) {
				p = q
				break
			}
		}
		dues = append(dues, due{c, p, daysBetween(today, p.Due)})
	}
	rs, err := s.reminders(now, dues, f.Unit)
	if err != nil {
		return RemindResult{}, err
	}
	tmpl, err := s.n.loadText("remind.txt.tmpl")
	if err != nil {
		return RemindResult{}, err
	}
	var batches []store.Batch
	var sent, noAddress []Reminder
	for _, r := range rs {
		items, err := s.reminderItems(tmpl, r, now)
		if err != nil {
			return RemindResult{}, err
		}
		if len(items) == 0 { // no valid address
			noAddress = append(noAddress, r)
			continue
		}
		batches = append(batches, store.Batch{Mark: r.Mark, Items: items})
		sent = append(sent, r)
	}
	line := func(r Reminder, to []*store.OutboxItem, why string) RemindLine {
		c, _ := ros.Campaign(r.Campaign)
		p, _ := c.Period(r.Period)
		l := RemindLine{Campaign: r.Campaign, Title: c.Title, Period: r.Period, PeriodName: c.PeriodName(r.Period), Due: p.Due.String(), Unit: r.Unit,
			UnitName: ros.UnitName(r.Unit), Why: why}
		for _, it := range to {
			l.To = append(l.To, it.To)
		}
		return l
	}
	var res RemindResult
	_, err = s.st.EnqueueOnceEach(now, batches, func(queued []bool) *store.AuditEntry {
		res = RemindResult{}
		for i, r := range sent {
			if queued[i] {
				res.Sent = append(res.Sent, line(r, batches[i].Items, ""))
			} else {
				res.Skipped = append(res.Skipped, line(r, nil, SkipToday))
			}
		}
		for _, r := range noAddress {
			res.Skipped = append(res.Skipped, line(r, nil, SkipNoAddress))
		}
		if audit == nil {
			return nil
		}
		return audit(res)
	})
	if err != nil {
		return RemindResult{}, err
	}
	for _, l := range res.Sent {
		s.log.Info("notify: reminder queued by hand", "campaign", l.Campaign, "period", l.Period, "unit", l.Unit)
	}
	return res, nil
}
