// Package roster knows who must report what by when: the units (报送单位), the campaigns (报送任务) and
// their periods (期), and which unit a mail comes from.
//
// All dates are civil dates in the office's time zone: a period due on 2022-01-31 accepts mail until
// 2022-01-31 23:59:59 Beijing time, whatever the hour in UTC.
package roster

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Unit is an office or school that must report.
type Unit struct {
	ID      string   `yaml:"id" json:"id"`
	Name    string   `yaml:"name" json:"name"`
	Aliases []string `yaml:"aliases,omitempty" json:"aliases,omitempty"`
	Emails  []string `yaml:"emails,omitempty" json:"emails,omitempty"`
	Kind    string   `yaml:"kind,omitempty" json:"kind,omitempty"` // county | school | other
}

// Campaign is one thing to report: once (Due) or every month from Opens until Until.
type Campaign struct {
	ID       string
	Title    string
	Units    []string // unit ids; empty means every unit
	Opens    Date
	Due      Date   // once campaigns
	Every    string // "" (once) or "month"
	Until    Date   // monthly campaigns: the last due date
	Keywords []string
	// Closed is the day the office closed the campaign (`briefd campaign close`): no reminders from then
	// on, and no period opens after it; what came before stays in the history.
	Closed Date
}

// Monthly reports whether the campaign repeats every month.
func (c Campaign) Monthly() bool { return c.Every == "month" }

// Date is a civil date without a time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date like 2022-01-31", s)
	}
	return DateOf(t), nil
}

// DateOf returns the civil date of t in t's location.
func DateOf(t time.Time) Date { y, m, d := t.Date(); return Date{y, m, d} }

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d.Year == 0 }

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// Compare returns -1, 0 or 1.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Start is the first instant of d in loc.
func (d Date) Start(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// End is the first instant after d in loc: mail before End is on or before d.
func (d Date) End(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, loc)
}

// MonthEnd returns the last day of d's month (28, 29, 30 or 31).
func (d Date) MonthEnd() Date {
	t := time.Date(d.Year, d.Month+1, 0, 0, 0, 0, 0, time.UTC)
	return DateOf(t)
}

// Period is one due date of a campaign.
type Period struct {
	Campaign string
	Key      string // "2022-01": the month of the due date
	Opens    Date
	Due      Date
}

// Roster holds units and campaigns, validated and indexed.
type Roster struct {
	loc       *time.Location
	units     []Unit
	byID      map[string]int
	byEmail   map[string]string
	terms     []term // name and alias forms, longest first
	campaigns []Campaign
}

// New checks units and campaigns and indexes them. It reports every problem it finds, one per line: the
// same rules for config.yaml (`config check`) and for units and campaigns the office adds at run time.
//
// A campaign's Units are unit ids, "all" (or none) for every unit, or "kind:county" for every unit of
// that kind (county, school, other), now and added later.
func New(units []Unit, campaigns []Campaign, loc *time.Location) (*Roster, error) {
	if loc == nil {
		loc = time.Local
	}
	r := &Roster{loc: loc, byID: map[string]int{}, byEmail: map[string]string{}}
	var probs []Problem
	add := func(p Problem) { probs = append(probs, p) }
	for i, u := range units {
		u.ID = strings.TrimSpace(u.ID)
		u.Name = strings.TrimSpace(u.Name)
		u.Aliases, u.Emails = slices.Clone(u.Aliases), slices.Clone(u.Emails) // the roster owns its slices
		at := fmt.Sprintf("units[%d]", i)
		where := fmt.Sprintf("%s (%s)", at, u.ID)
		switch {
		case u.ID == "":
			add(Problem{Key: at, What: "unit", Field: "id", EN: "id is empty", ZH: "单位编号不能为空"})
			continue
		case u.Name == "":
			add(Problem{Key: where, What: "unit", ID: u.ID, Field: "name", EN: "name is empty", ZH: "单位名称不能为空"})
		}
		if _, dup := r.byID[u.ID]; dup {
			add(Problem{Key: at, What: "unit", ID: u.ID, Field: "id", EN: fmt.Sprintf("id %q is used by two units", u.ID),
				ZH: fmt.Sprintf("单位编号 %s 已被另一个单位使用", u.ID)})
			continue
		}
		for j, e := range u.Emails {
			e = NormalizeAddress(e)
			u.Emails[j] = e
			if why := AddressProblem(e); why != "" {
				add(Problem{Key: where + ".emails", What: "unit", ID: u.ID, Field: "emails",
					EN: fmt.Sprintf("%q is not an email address: %s", e, why), ZH: fmt.Sprintf("“%s”不是有效的邮箱地址", e)})
				continue
			}
			if other, ok := r.byEmail[e]; ok && other != u.ID {
				add(Problem{Key: where + ".emails", What: "unit", ID: u.ID, Field: "emails",
					EN: fmt.Sprintf("%s is already registered to unit %s", e, other),
					ZH: fmt.Sprintf("邮箱 %s 已登记给单位 %s（%s）", e, r.units[r.byID[other]].Name, other)})
				continue
			}
			r.byEmail[e] = u.ID
		}
		r.byID[u.ID] = len(r.units)
		r.units = append(r.units, u)
	}
	seen := map[string]bool{}
	for i, c := range campaigns {
		where := fmt.Sprintf("campaigns[%d] (%s)", i, c.ID)
		if c.ID == "" {
			where = fmt.Sprintf("campaigns[%d]", i)
		}
		camp := func(field, en, zh string) {
			key := where
			if field != "" && field != "id" && field != "title" {
				key += "." + field
			}
			add(Problem{Key: key, What: "campaign", ID: c.ID, Field: field, EN: en, ZH: zh})
		}
		if c.ID == "" {
			camp("id", "id is empty", "任务编号不能为空") // and the other problems of the campaign
		} else if seen[c.ID] {
			camp("id", "id is used by two campaigns", fmt.Sprintf("任务编号 %s 已被另一个报送任务使用", c.ID))
		}
		seen[c.ID] = true
		if c.Title == "" {
			camp("title", "title is empty", "任务名称不能为空")
		}
		for _, u := range c.Units {
			if kind, ok := strings.CutPrefix(u, "kind:"); ok {
				if !slices.Contains(UnitKinds, kind) {
					camp("units", fmt.Sprintf("%q is not a kind of unit (kind:county, kind:school or kind:other)", u),
						fmt.Sprintf("“%s”不是单位类型（可用 kind:county、kind:school、kind:other）", u))
				}
				continue
			}
			if _, ok := r.byID[u]; !ok && u != "all" {
				camp("units", fmt.Sprintf("no unit has the id %q", u), fmt.Sprintf("没有编号为“%s”的单位", u))
			}
		}
		if slices.Contains(c.Units, "all") {
			c.Units = nil
		}
		c.Units, c.Keywords = slices.Clone(c.Units), slices.Clone(c.Keywords)
		if c.Opens.IsZero() {
			camp("opens", "missing (the date the campaign starts)", "缺少开始日期")
		}
		switch c.Every {
		case "":
			if c.Due.IsZero() {
				camp("due", "missing (a once campaign needs a due date)", "缺少截止日期")
			} else if !c.Opens.IsZero() && c.Due.Before(c.Opens) {
				camp("due", fmt.Sprintf("%s is before opens %s", c.Due, c.Opens), fmt.Sprintf("截止日期 %s 早于开始日期 %s", c.Due, c.Opens))
			}
		case "month":
			if c.Until.IsZero() {
				camp("until", "missing (a monthly campaign needs the last due date)", "每月报送的任务缺少最后一期的截止日期")
			} else if !c.Opens.IsZero() && c.Until.Before(c.Opens) {
				camp("until", fmt.Sprintf("%s is before opens %s", c.Until, c.Opens), fmt.Sprintf("最后一期的截止日期 %s 早于开始日期 %s", c.Until, c.Opens))
			}
		default:
			camp("every", fmt.Sprintf("%q is not supported (leave it out for a once campaign, or use month)", c.Every),
				fmt.Sprintf("报送周期“%s”不支持（只报一次请留空，每月报送请选 month）", c.Every))
		}
		r.campaigns = append(r.campaigns, c)
	}
	if len(probs) > 0 {
		e := &Error{Details: probs}
		for _, p := range probs {
			e.Problems = append(e.Problems, p.Key+": "+p.EN)
		}
		return nil, e
	}
	r.terms = buildTerms(r.units)
	return r, nil
}

// UnitKinds are the kinds of unit (Unit.Kind; "" counts as other).
var UnitKinds = []string{"county", "school", "other"}

// Error lists every problem found in units and campaigns.
type Error struct {
	Problems []string  // each "key: problem", in English, as `config check` prints them
	Details  []Problem // the same problems, with the Chinese sentence for people
}

func (e *Error) Error() string { return strings.Join(e.Problems, "\n") }

// Problem is one thing wrong with a unit or a campaign given to New.
type Problem struct {
	Key   string // where, as config.yaml names it: campaigns[1] (zjdh-monthly).due
	What  string // unit | campaign
	ID    string // the unit's or campaign's id; "" when it has none
	Field string // id, name, emails; id, title, units, opens, due, every, until
	EN    string // the problem in English (config check, logs)
	ZH    string // the problem in Chinese, for the office (the dashboard and the commands that change the roster)
}

// Location is the office time zone.
func (r *Roster) Location() *time.Location { return r.loc }

// Units returns a copy of the units in configuration order; changing it does not change the roster.
func (r *Roster) Units() []Unit {
	out := slices.Clone(r.units)
	for i := range out {
		out[i].Aliases, out[i].Emails = slices.Clone(out[i].Aliases), slices.Clone(out[i].Emails)
	}
	return out
}

// Unit returns the unit with the id.
func (r *Roster) Unit(id string) (Unit, bool) {
	i, ok := r.byID[id]
	if !ok {
		return Unit{}, false
	}
	return r.units[i], true
}

// UnitName returns the unit's name, or the id when it is unknown.
func (r *Roster) UnitName(id string) string {
	if u, ok := r.Unit(id); ok {
		return u.Name
	}
	return id
}

// Campaigns returns the campaigns in configuration order.
func (r *Roster) Campaigns() []Campaign { return slices.Clone(r.campaigns) }

// Campaign returns the campaign with the id.
func (r *Roster) Campaign(id string) (Campaign, bool) {
	for _, c := range r.campaigns {
		if c.ID == id {
			return c, true
		}
	}
	return Campaign{}, false
}

// Owes reports whether the unit must report for the campaign: it is listed by id or by kind
// ("kind:county"), or the campaign names no units.
func (r *Roster) Owes(unitID string, c Campaign) bool {
	i, ok := r.byID[unitID]
	if !ok {
		return false
	}
	if len(c.Units) == 0 || slices.Contains(c.Units, unitID) {
		return true
	}
	kind := r.units[i].Kind
	if kind == "" {
		kind = "other"
	}
	return slices.Contains(c.Units, "kind:"+kind)
}

// UnitsOf returns the units that owe the campaign, in configuration order.
func (r *Roster) UnitsOf(c Campaign) []Unit {
	var out []Unit
	for _, u := range r.units {
		if r.Owes(u.ID, c) {
			out = append(out, u)
		}
	}
	return out
}
