package notify

import (
	"bytes"
	"fmt"
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
	DaysLeft      int    // days until the due date, 0 on the day
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
// sent is not checked here.
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
	ros := s.o.Roster()
	type due struct {
		c    roster.Campaign
		p    roster.Period
		left int
	}
	var dues []due
	for _, c := range ros.Campaigns() {
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
	if len(dues) == 0 {
		return nil, nil
	}
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
				if u.State != roster.StateMissing && u.State != roster.StateRejected {
					continue
				}
				unit, ok := ros.Unit(u.Unit)
				if !ok {
					continue
				}
				data := &ReminderData{UnitName: Clean(unit.Name, 80), Title: Clean(d.c.Title, 120), Due: cnDate(d.p.Due),
					DaysLeft: d.left, Rejected: u.State == roster.StateRejected, Receipt: Clean(u.Receipt, 40),
					OfficeAddress: s.n.o.Office.Address, Office: s.n.o.Office}
				if d.c.Monthly() {
					data.Period = cnMonth(d.p.Key)
				}
				out = append(out, Reminder{Mark: "remind:" + d.c.ID + ":" + d.p.Key + ":" + u.Unit + ":" + today.String(),
					Campaign: d.c.ID, Period: d.p.Key, Unit: u.Unit, Emails: unit.Emails, Data: data})
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
		var text bytes.Buffer
		if err := tmpl.Execute(&text, r.Data); err != nil {
			return total, fmt.Errorf("notify: reminder text: %w", err)
		}
		subject := "催报：请报送《" + r.Data.Title + "》"
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
				return total, err
			}
			items = append(items, &store.OutboxItem{Kind: store.KindReminder, To: to, Subject: subject, Message: msg,
				Created: now, NextTry: now})
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
