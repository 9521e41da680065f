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

// New checks units and campaigns and indexes them. It reports every problem it finds, one per line.
func New(units []Unit, campaigns []Campaign, loc *time.Location) (*Roster, error) {
	if loc == nil {
		loc = time.Local
	}
	r := &Roster{loc: loc, byID: map[string]int{}, byEmail: map[string]string{}}
	var errs []string
	for i, u := range units {
		u.ID = strings.TrimSpace(u.ID)
		u.Name = strings.TrimSpace(u.Name)
		u.Aliases, u.Emails = slices.Clone(u.Aliases), slices.Clone(u.Emails) // the roster owns its slices
		switch {
		case u.ID == "":
			errs = append(errs, fmt.Sprintf("units[%d]: id is empty", i))
			continue
		case u.Name == "":
			errs = append(errs, fmt.Sprintf("units[%d] (%s): name is empty", i, u.ID))
		}
		if _, dup := r.byID[u.ID]; dup {
			errs = append(errs, fmt.Sprintf("units[%d]: id %q is used by two units", i, u.ID))
			continue
		}
		for j, e := range u.Emails {
			e = NormalizeAddress(e)
			u.Emails[j] = e
			if why := AddressProblem(e); why != "" {
				errs = append(errs, fmt.Sprintf("units[%d] (%s).emails: %q is not an email address: %s", i, u.ID, e, why))
				continue
			}
			if other, ok := r.byEmail[e]; ok && other != u.ID {
				errs = append(errs, fmt.Sprintf("units[%d] (%s).emails: %s is already registered to unit %s", i, u.ID, e, other))
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
			errs = append(errs, fmt.Sprintf("campaigns[%d]: id is empty", i))
			continue
		}
		if seen[c.ID] {
			errs = append(errs, fmt.Sprintf("%s: id is used by two campaigns", where))
		}
		seen[c.ID] = true
		if c.Title == "" {
			errs = append(errs, where+": title is empty")
		}
		for _, u := range c.Units {
			if _, ok := r.byID[u]; !ok && u != "all" {
				errs = append(errs, fmt.Sprintf("%s.units: no unit has the id %q", where, u))
			}
		}
		if slices.Contains(c.Units, "all") {
			c.Units = nil
		}
		if c.Opens.IsZero() {
			errs = append(errs, where+".opens: missing (the date the campaign starts)")
		}
		switch c.Every {
		case "":
			if c.Due.IsZero() {
				errs = append(errs, where+".due: missing (a once campaign needs a due date)")
			} else if !c.Opens.IsZero() && c.Due.Before(c.Opens) {
				errs = append(errs, fmt.Sprintf("%s.due: %s is before opens %s", where, c.Due, c.Opens))
			}
		case "month":
			if c.Until.IsZero() {
				errs = append(errs, where+".until: missing (a monthly campaign needs the last due date)")
			} else if !c.Opens.IsZero() && c.Until.Before(c.Opens) {
				errs = append(errs, fmt.Sprintf("%s.until: %s is before opens %s", where, c.Until, c.Opens))
			}
		default:
			errs = append(errs, fmt.Sprintf("%s.every: %q is not supported (leave it out for a once campaign, or use month)", where, c.Every))
		}
		r.campaigns = append(r.campaigns, c)
	}
	if len(errs) > 0 {
		return nil, &Error{Problems: errs}
	}
	r.terms = buildTerms(r.units)
	return r, nil
}

// Error lists every problem found in units and campaigns.
type Error struct{ Problems []string }

func (e *Error) Error() string { return strings.Join(e.Problems, "\n") }

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

// Owes reports whether the unit must report for the campaign.
func (r *Roster) Owes(unitID string, c Campaign) bool {
	if _, ok := r.byID[unitID]; !ok {
		return false
	}
	return len(c.Units) == 0 || slices.Contains(c.Units, unitID)
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
