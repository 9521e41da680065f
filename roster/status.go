package roster

import (
	"encoding/json"
	"slices"
	"time"
)

// Unit states in a period.
const (
	StateReported = "reported" // a usable PDF arrived by the due date
	StateLate     = "late"     // a usable PDF arrived, but only after the due date
	StateRejected = "rejected" // mail came, but no usable PDF
	StateMissing  = "missing"  // nothing yet
)

// Submission is what status needs of one receipt.
type Submission struct {
	Receipt  string
	Unit     string
	Campaign string
	Period   string
	At       time.Time
	Usable   bool // it carried at least one PDF that opens
}

// UnitState is one unit's state in one period.
type UnitState struct {
	Unit    string    `json:"unit"`
	Name    string    `json:"name"`
	State   string    `json:"state"`
	Receipt string    `json:"receipt,omitempty"`
	At      time.Time `json:"at,omitzero"`
	Tries   int       `json:"tries,omitempty"` // receipts for this unit and period, usable or not
	// Latest is the last usable submission (notices say 以最后一次报送为准: a corrected version sent
	// after an accepted one is the one to read); Receipt, the first, decides whether the unit was late.
	Latest   string    `json:"latest,omitempty"`
	LatestAt time.Time `json:"latest_at,omitzero"`
}

// MarshalJSON writes every key of the `briefd status -json` contract, with "" for receipt and at while
// nothing has come, so that scripts find the same keys for every unit.
func (u UnitState) MarshalJSON() ([]byte, error) {
	at := ""
	if !u.At.IsZero() {
		at = u.At.Format(time.RFC3339)
	}
	return json.Marshal(struct {
		Unit    string `json:"unit"`
		Name    string `json:"name"`
		State   string `json:"state"`
		Receipt string `json:"receipt"`
		At      string `json:"at"`
		Tries   int    `json:"tries,omitempty"`
		Latest  string `json:"latest,omitempty"`
	}{u.Unit, u.Name, u.State, u.Receipt, at, u.Tries, u.Latest})
}

// PeriodStatus is the state of every unit owing one campaign period.
type PeriodStatus struct {
	Campaign string         `json:"campaign"`
	Title    string         `json:"title"`
	Period   string         `json:"period"`
	Opens    string         `json:"opens"`
	Due      string         `json:"due"`
	Units    []UnitState    `json:"units"`
	Counts   map[string]int `json:"counts"`
}

// Status works out, for every period opened by now (all campaigns when campaign is ""), which units have
// reported. The first usable submission decides reported or late; later ones do not change it, the last
// one is Latest. subs must be in the order their receipts were numbered (store.Entries gives them so):
// of two submissions at the same moment, the one numbered first came first.
func (r *Roster) Status(subs []Submission, campaign string, now time.Time) []PeriodStatus {
	var t Tally
	for _, s := range subs {
		t.Add(s)
	}
	return r.StatusOf(&t, campaign, now)
}

// Tally is what Status keeps of the submissions, for each campaign, period and unit: how many came, the
// earliest usable one, the earliest of any kind and the latest usable one. It depends on the submissions
// only, not on the roster or the time, so it can be kept and added to as receipts come in
// (report.StatusCache) and turned into a status with StatusOf. The zero Tally is empty.
type Tally struct {
	at    map[tallyKey]int32 // position in picks
	picks []pick
	n     int // submissions added: the order of the next
}

type tallyKey struct{ campaign, period, unit string }

type pick struct {
	usable, any picked // the earliest usable submission, the earliest of any kind
	latest      picked // the latest usable one: 以最后一次报送为准
	hasUsable   bool
	tries       int
}

// picked is what a pick keeps of a submission (its campaign, period and unit are the pick's).
type picked struct {
	receipt string
	at      time.Time
	usable  bool
	order   int
}

// Add counts s, which must come after every submission added before in the order their receipts were
// numbered. "Earliest" is the earlier At, then the one added first.
func (t *Tally) Add(s Submission) {
	if t.at == nil {
		t.at = make(map[tallyKey]int32)
	}
	k := tallyKey{s.Campaign, s.Period, s.Unit}
	ps := picked{receipt: s.Receipt, at: s.At, usable: s.Usable, order: t.n}
	t.n++
	j, ok := t.at[k]
	if !ok {
		j = int32(len(t.picks))
		t.at[k] = j
		t.picks = append(t.picks, pick{any: ps})
	}
	p := &t.picks[j]
	p.tries++
	if ok && earlier(&ps, &p.any) {
		p.any = ps
	}
	if ps.usable {
		if !p.hasUsable || earlier(&ps, &p.usable) {
			p.usable = ps
		}
		if !p.hasUsable || earlier(&p.latest, &ps) {
			p.latest = ps
		}
		p.hasUsable = true
	}
}

// Len is the number of submissions added.
func (t *Tally) Len() int { return t.n }

// StatusOf is Status over the submissions counted in t.
func (r *Roster) StatusOf(t *Tally, campaign string, now time.Time) []PeriodStatus {
	var out []PeriodStatus
	for _, c := range r.campaigns {
		if campaign != "" && c.ID != campaign {
			continue
		}
		units := r.UnitsOf(c)
		for _, p := range r.PeriodsUntil(c, now) {
			out = append(out, r.periodStatus(t, c, units, p))
		}
	}
	return out
}

// UpdateStatus is StatusOf when prev is what StatusOf gave with this roster, campaign and date, and
// since then only submissions of the periods for which touched is true were added to t: those periods
// are worked out again, the others are prev's (shared, not copied). It returns false when a period of
// prev is not the roster's (prev was not made with it): then StatusOf is needed.
func (r *Roster) UpdateStatus(t *Tally, prev []PeriodStatus, touched func(campaign, period string) bool) ([]PeriodStatus, bool) {
	out := slices.Clone(prev)
	for i := range out {
		ps := &out[i]
		if !touched(ps.Campaign, ps.Period) {
			continue
		}
		c, ok := r.Campaign(ps.Campaign)
		if !ok {
			return nil, false
		}
		p, ok := c.Period(ps.Period)
		if !ok {
			return nil, false
		}
		*ps = r.periodStatus(t, c, r.UnitsOf(c), p)
	}
	return out, true
}

// periodStatus is the state of the units of campaign c in period p.
func (r *Roster) periodStatus(t *Tally, c Campaign, units []Unit, p Period) PeriodStatus {
	ps := PeriodStatus{Campaign: c.ID, Title: c.Title, Period: p.Key, Opens: p.Opens.String(),
		Due: p.Due.String(), Counts: map[string]int{StateReported: 0, StateLate: 0, StateRejected: 0, StateMissing: 0}}
	if len(units) > 0 {
		ps.Units = make([]UnitState, 0, len(units))
	}
	for _, u := range units {
		us := UnitState{Unit: u.ID, Name: u.Name, State: StateMissing}
		if j, ok := t.at[tallyKey{c.ID, p.Key, u.ID}]; ok {
			pk := &t.picks[j]
			us.Tries = pk.tries
			s := &pk.any
			if pk.hasUsable {
				s = &pk.usable
			}
			us.Receipt, us.At = s.receipt, s.at.In(r.loc)
			if pk.hasUsable {
				us.Latest, us.LatestAt = pk.latest.receipt, pk.latest.at.In(r.loc)
			}
			switch {
			case !s.usable:
				us.State = StateRejected
			case r.Late(p, s.at):
				us.State = StateLate
			default:
				us.State = StateReported
			}
		}
		ps.Counts[us.State]++
		ps.Units = append(ps.Units, us)
	}
	return ps
}

// earlier reports whether a came before b: the earlier time, then the one added to the tally first (the
// lower receipt number).
func earlier(a, b *picked) bool {
	if c := a.at.Compare(b.at); c != 0 {
		return c < 0
	}
	return a.order < b.order
}
