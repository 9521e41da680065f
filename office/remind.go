package office

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"briefd/notify"
	"briefd/store"
)

// Reminder sends reminders at once (*notify.Scheduler).
type Reminder interface {
	RemindNow(now time.Time, f notify.RemindFilter, audit func(notify.RemindResult) *store.AuditEntry) (notify.RemindResult, error)
}

// SetReminder gives the office the scheduler whose reminders it sends.
func (o *Office) SetReminder(r Reminder) { o.reminder = r }

// Remind sends the reminder (催报) now to the units that have not reported in the current period of
// a campaign ("" for every open campaign), or only to unit (""  for all). A unit reminded today already
// (by the schedule or by hand) is not reminded again; the result says who got one and who was
// skipped. The reminders and the audit entry are queued in one transaction.
func (o *Office) Remind(by Source, campaign, unit string) (notify.RemindResult, error) {
	ros := o.Roster()
	var probs []string
	campaign, unit = strings.TrimSpace(campaign), strings.TrimSpace(unit)
	if campaign != "" {
		if c, ok := ros.Campaign(campaign); !ok {
			probs = append(probs, missingWord("报送任务", campaign))
		} else if !c.Closed.IsZero() {
			probs = append(probs, fmt.Sprintf("报送任务《%s》已于 %s 关闭，不再催报", c.Title, c.Closed))
		} else if u, ok := ros.Unit(unit); unit != "" && ok && !ros.Owes(unit, c) {
			probs = append(probs, fmt.Sprintf("%s不需要报送《%s》", u.Name, c.Title))
		}
	}
	if _, ok := ros.Unit(unit); unit != "" && !ok {
		probs = append(probs, missingWord("单位", unit))
	}
	if len(probs) > 0 {
		return notify.RemindResult{}, &InputError{Problems: probs}
	}
	if o.reminder == nil {
		return notify.RemindResult{}, errors.New("office: remind: no scheduler to remind with")
	}
	target := campaign
	if unit != "" {
		target = strings.Trim(campaign+" "+unit, " ")
	}
	res, err := o.reminder.RemindNow(o.o.Now(), notify.RemindFilter{Campaign: campaign, Unit: unit}, func(r notify.RemindResult) *store.AuditEntry {
		return o.entry(by, ActRemind, target, RemindSummary(r))
	})
	if err != nil {
		return res, err
	}
	if len(res.Sent) > 0 {
		o.queued()
	}
	return res, nil
}

// RemindSummary says in one line who was reminded and who was not.
func RemindSummary(r notify.RemindResult) string {
	if len(r.Sent) == 0 && len(r.Skipped) == 0 {
		return "没有需要催报的单位（都已报送，或没有进行中的报送任务）"
	}
	var parts []string
	if len(r.Sent) > 0 {
		var names []string
		for _, l := range r.Sent {
			names = append(names, l.UnitName)
		}
		parts = append(parts, fmt.Sprintf("已发送 %d 个单位：%s", len(r.Sent), strings.Join(names, "、")))
	}
	if len(r.Skipped) > 0 {
		var names []string
		for _, l := range r.Skipped {
			names = append(names, l.UnitName+"（"+l.Why+"）")
		}
		parts = append(parts, fmt.Sprintf("未发送 %d 个：%s", len(r.Skipped), strings.Join(names, "、")))
	}
	return strings.Join(parts, "；")
}
