package roster

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Periods returns every period of the campaign, in order. A closed campaign has no period that opens
// after the day it was closed.
func (c Campaign) Periods() []Period {
	closedBefore := func(opens Date) bool { return !c.Closed.IsZero() && c.Closed.Before(opens) }
	if !c.Monthly() {
		if closedBefore(c.Opens) {
			return nil
		}
		return []Period{{Campaign: c.ID, Key: monthKey(c.Due), Opens: c.Opens, Due: c.Due}}
	}
	var out []Period
	first := Date{c.Opens.Year, c.Opens.Month, 1}
	for m := first; !c.Until.Before(m); m = (Date{m.Year, m.Month + 1, 1}).normal() {
		due := m.MonthEnd()
		if c.Until.Before(due) {
			due = c.Until
		}
		opens := m
		if m.Before(c.Opens) {
			opens = c.Opens
		}
		if closedBefore(opens) {
			break
		}
		out = append(out, Period{Campaign: c.ID, Key: monthKey(m), Opens: opens, Due: due})
	}
	return out
}

func (d Date) normal() Date { return DateOf(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)) }

func monthKey(d Date) string { return strconv.Itoa(d.Year) + "-" + twoDigits(int(d.Month)) }

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// Period returns the campaign's period with the key.
func (c Campaign) Period(key string) (Period, bool) {
	for _, p := range c.Periods() {
		if p.Key == key {
			return p, true
		}
	}
	return Period{}, false
}

// PeriodName is how a period of c is named for people: 2026年11月 for a monthly campaign's period, ""
// for a once campaign's (its one period is named by the campaign itself). A key that is not a month is
// returned as it is.
func (c Campaign) PeriodName(key string) string {
	if !c.Monthly() {
		return ""
	}
	y, m, ok := strings.Cut(key, "-")
	mi, err := strconv.Atoi(m)
	if !ok || err != nil || mi < 1 || mi > 12 {
		return key
	}
	return y + "年" + strconv.Itoa(mi) + "月"
}

// PeriodName is the PeriodName of the roster's campaign; the key itself for a campaign it does not have.
func (r *Roster) PeriodName(campaign, key string) string {
	if c, ok := r.Campaign(campaign); ok {
		return c.PeriodName(key)
	}
	return key
}

// PeriodsUntil returns the campaign's periods that have opened by t.
func (r *Roster) PeriodsUntil(c Campaign, t time.Time) []Period {
	var out []Period
	for _, p := range c.Periods() {
		if !t.Before(p.Opens.Start(r.loc)) {
			out = append(out, p)
		}
	}
	return out
}

// Late reports whether a submission at t is after the period's due date (office time zone).
func (r *Roster) Late(p Period, t time.Time) bool { return !t.Before(p.Due.End(r.loc)) }

// DueEnd is the first instant after the period's due date, in the office time zone.
func (r *Roster) DueEnd(p Period) time.Time { return p.Due.End(r.loc) }

// Placement is where a submission belongs.
type Placement struct {
	Campaign string
	Period   string
	Late     bool
}

// Place finds the campaign and period a unit's submission at t belongs to. Among the campaigns the unit
// owes that have opened by t, the one whose title or keywords the subject and filenames resemble most wins;
// on a tie, the one whose current period is due soonest and not yet past. Within a monthly campaign a month
// named in the text ("1月", "2022-01", "2022年1月") picks the period; otherwise the month of t does.
// ok is false when the unit owes nothing open at t.
func (r *Roster) Place(unitID string, t time.Time, subject string, filenames []string) (Placement, bool) {
	text := Normalize(subject + " " + strings.Join(filenames, " "))
	t = t.In(r.loc)
	var best Placement
	bestScore, bestDue, found := -1, time.Time{}, false
	for _, c := range r.campaigns {
		if !r.Owes(unitID, c) || t.Before(c.Opens.Start(r.loc)) || len(c.Periods()) == 0 {
			continue
		}
		p := r.periodAt(c, t, text)
		score := similarity(text, Normalize(c.Title+" "+strings.Join(c.Keywords, " ")))
		for _, k := range c.Keywords {
			if k = Normalize(k); k != "" && strings.Contains(text, k) {
				score += 100
			}
		}
		due := p.Due.End(r.loc)
		if t.After(due) {
			due = due.Add(100 * 365 * 24 * time.Hour) // past periods rank after open ones on a tie
		}
		if !found || score > bestScore || (score == bestScore && due.Before(bestDue)) {
			best = Placement{Campaign: c.ID, Period: p.Key, Late: r.Late(p, t)}
			bestScore, bestDue, found = score, due, true
		}
	}
	return best, found
}

// PeriodAt is the period of c a submission at t belongs to when nothing in it names a month: the
// first period not yet past its due date, else the last one. ok is false when c has no period (it was
// closed before it opened).
func (r *Roster) PeriodAt(c Campaign, t time.Time) (p Period, ok bool) {
	if len(c.Periods()) == 0 {
		return Period{}, false
	}
	return r.periodAt(c, t.In(r.loc), ""), true
}

var (
	reYearMonth = regexp.MustCompile(`(20\d\d)\s*(?:年|-|\.|/)\s*(\d{1,2})\s*月?`)
	reMonth     = regexp.MustCompile(`(\d{1,2})\s*月`)
)

// periodAt picks the period of c for a submission at t whose normalised text is text.
func (r *Roster) periodAt(c Campaign, t time.Time, text string) Period {
	ps := c.Periods()
	if len(ps) == 1 {
		return ps[0]
	}
	year, month := 0, 0
	if m := reYearMonth.FindStringSubmatch(text); m != nil {
		year, _ = strconv.Atoi(m[1])
		month, _ = strconv.Atoi(m[2])
	} else if m := reMonth.FindStringSubmatch(text); m != nil {
		month, _ = strconv.Atoi(m[1])
		year = t.Year()
		if month > int(t.Month()) { // "12月" written in January means last year's December
			year--
		}
	}
	if month >= 1 && month <= 12 {
		key := strconv.Itoa(year) + "-" + twoDigits(month)
		if p, ok := c.Period(key); ok {
			return p
		}
	}
	d := DateOf(t)
	for _, p := range ps {
		if !p.Due.Before(d) {
			return p
		}
	}
	return ps[len(ps)-1]
}

// similarity counts the character pairs of b that also occur in a.
func similarity(a, b string) int {
	rb := []rune(b)
	n := 0
	seen := map[string]bool{}
	for i := 0; i+1 < len(rb); i++ {
		pair := string(rb[i : i+2])
		if seen[pair] || strings.TrimSpace(pair) != pair {
			continue
		}
		seen[pair] = true
		if strings.Contains(a, pair) {
			n++
		}
	}
	return n
}

// ParseWeekday reads a day of the week as the config writes it: monday, Mon, …
func ParseWeekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(s, d.String()) || strings.EqualFold(s, d.String()[:3]) {
			return d, true
		}
	}
	return 0, false
}

// ParseClock reads a time of day like 08:30.
func ParseClock(s string) (h, m int, ok bool) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, 0, false
	}
	return t.Hour(), t.Minute(), true
}
