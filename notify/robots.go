package notify

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"briefd/robot"
	"briefd/store"
)

// Robot is a group robot as notify sees it: its name (the outbox item's To) and what it posts.
type Robot struct {
	Name   string
	Events []robot.Event
}

// robotsFor returns the names of the robots that post ev.
func (n *Notifier) robotsFor(ev robot.Event) []string {
	var out []string
	for _, r := range n.o.Robots {
		if slices.Contains(r.Events, ev) {
			out = append(out, r.Name)
		}
	}
	return out
}

// robotItems queues m for every robot that posts ev: outbox items of kind robot whose Message is m as
// JSON, delivered by the outbox like mail.
func (n *Notifier) robotItems(ev robot.Event, m robot.Message, now time.Time) ([]*store.OutboxItem, error) {
	names := n.robotsFor(ev)
	if len(names) == 0 {
		return nil, nil
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("notify: robot message: %w", err)
	}
	var items []*store.OutboxItem
	for _, name := range names {
		items = append(items, &store.OutboxItem{Kind: store.KindRobot, To: name, Subject: string(ev), Message: data,
			Created: now, NextTry: now})
	}
	return items, nil
}

// dashboardLink is the dashboard's address for path (/receipts/JB2026-0001), "" without
// Options.DashboardURL.
func (n *Notifier) dashboardLink(path string) string {
	if n.o.DashboardURL == "" {
		return ""
	}
	return strings.TrimRight(n.o.DashboardURL, "/") + path
}

// Problem says what about r needs a person, as the sentence the group robot posts (robot.Problem…),
// or "" when nothing does: a unit's address that failed the sender checks (a forged unit), mail no unit
// could be found for, a unit's mail without a usable PDF, a mail that could not be handled. Old mail
// (History) needs nobody at once: the dashboard lists it.
func Problem(r *store.Receipt) string {
	switch {
	case r.History:
		return ""
	case r.Verdict == store.VerdictFailed:
		return robot.ProblemFailed
	case r.Auth == "fail" && r.Unit != "":
		return robot.ProblemSpoofed
	case r.Unit == "" && r.Verdict != store.VerdictIgnored:
		return robot.ProblemUnmatched
	case r.Verdict == store.VerdictRejected:
		return robot.ProblemRejected
	}
	return ""
}

// ProblemItems are the outbox items that tell the group robots about r when it needs a person (Problem):
// one per robot that posts problems. They are recorded with the receipt, in its transaction, and
// composed when sent (RobotProblem), from the receipt as it is then.
func (n *Notifier) ProblemItems(r *store.Receipt) []*store.OutboxItem {
	if Problem(r) == "" {
		return nil
	}
	now := n.o.Now()
	var items []*store.OutboxItem
	for _, name := range n.robotsFor(robot.EventProblems) {
		items = append(items, &store.OutboxItem{Kind: store.KindRobot, To: name, Subject: string(robot.EventProblems),
			Created: now, NextTry: now})
	}
	return items
}

// RobotProblem composes the problem post about r as it is now; ok is false when nothing about it needs a
// person any more (the office assigned it before the post went out).
func (n *Notifier) RobotProblem(r *store.Receipt) (m robot.Message, ok bool) {
	what := Problem(r)
	if what == "" {
		return robot.Message{}, false
	}
	from := r.From
	if r.FromName != "" {
		from = r.FromName + " <" + r.From + ">"
	}
	if r.Unit != "" {
		from = n.o.Roster().UnitName(r.Unit) + "（" + r.From + "）"
	}
	return robot.ProblemMessage(r.Number, from, r.Subject, what, n.dashboardLink("/receipts/"+url.PathEscape(r.Number))), true
}

// summaryRobotItems are the weekly summary's posts.
func (s *Scheduler) summaryRobotItems(sum *Summary, now time.Time) ([]*store.OutboxItem, error) {
	if len(s.n.robotsFor(robot.EventSummary)) == 0 {
		return nil, nil
	}
	var periods []robot.PeriodCounts
	for _, p := range sum.Data.Periods {
		pc := robot.PeriodCounts{Campaign: p.Title, Period: p.Period, Due: shortDate(p.Due), Closed: p.Closed,
			Units: p.Units, Reported: p.Reported, Late: p.Late, Rejected: p.Rejected, Missing: p.Missing}
		for _, u := range p.RejectedList {
			pc.Resend = append(pc.Resend, u.Name)
		}
		for _, u := range p.MissingList {
			pc.Absent = append(pc.Absent, u.Name)
		}
		periods = append(periods, pc)
	}
	return s.n.robotItems(robot.EventSummary, robot.SummaryMessage(s.n.o.Office.Name, periods, s.n.dashboardLink("/")), now)
}

// reminderRobotItems are the post of a reminder day: every period due on a reminder day, with the units
// that have not reported (those without an address too: no mail reaches them, the group can).
func (s *Scheduler) reminderRobotItems(rs []Reminder, now time.Time) ([]*store.OutboxItem, error) {
	if len(rs) == 0 || len(s.n.robotsFor(robot.EventReminder)) == 0 {
		return nil, nil
	}
	var periods []robot.ReminderPeriod
	for _, r := range rs {
		i := slices.IndexFunc(periods, func(p robot.ReminderPeriod) bool {
			return p.Campaign == r.Data.Title && p.Period == r.Data.Period
		})
		if i < 0 {
			periods = append(periods, robot.ReminderPeriod{Campaign: r.Data.Title, Period: r.Data.Period,
				Due: shortDate(r.Data.Due), DaysLeft: r.Data.DaysLeft})
			i = len(periods) - 1
		}
		if r.Data.Rejected {
			periods[i].Resend = append(periods[i].Resend, r.Data.UnitName)
		} else {
			periods[i].Absent = append(periods[i].Absent, r.Data.UnitName)
		}
	}
	return s.n.robotItems(robot.EventReminder, robot.ReminderMessage(s.n.o.Office.Name, periods, s.n.dashboardLink("/")), now)
}

// alertRobotItems are the posts of a health alert (down) or of its recovery.
func (s *Scheduler) alertRobotItems(down bool, since time.Time, errText string, now time.Time) ([]*store.OutboxItem, error) {
	return s.n.robotItems(robot.EventAlert, robot.AlertMessage(down, since.In(s.loc()), errText), now)
}

// shortDate turns 2026年1月31日 into 1月31日, as a chat message writes it.
func shortDate(cn string) string {
	if i := strings.Index(cn, "年"); i >= 0 {
		return cn[i+len("年"):]
	}
	return cn
}
