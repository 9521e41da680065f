// Package office is what the office does with briefd, in one place: give a receipt to a unit, send a
// reply again, look at receipts and who has reported, add and change campaigns and units while briefd
// runs, register a briefing that came on paper, remind the units that have not reported, and keep the
// log of every such change (操作记录). The command line, the control socket and the dashboard all call
// it, so each of these operations has one implementation. It owns the current roster: the units and
// campaigns of the config, those the office added or changed at run time (stored in the database), and
// the addresses learned by hand.
package office

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"briefd/report"
	"briefd/roster"
	"briefd/store"
)

// Options configure an Office.
type Options struct {
	// Roster is the roster of the config, without learned addresses.
	Roster *roster.Roster
	// Archive is the folder of archived PDFs and raw mail.
	Archive store.Archive
	// Location is the office time zone. Default time.Local.
	Location *time.Location
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Queued, when set, is called after mail was queued in the outbox (to wake the sender).
	Queued func()
	// OfficeName is the office's name, on what it hands on (the booklet's cover).
	OfficeName string
}

// Office performs the office's operations on a store.
type Office struct {
	o   Options
	st  *store.Store
	log *slog.Logger
	ros atomic.Pointer[roster.Roster]

	// mu orders the changes of the roster (campaigns, units, learned addresses): each reads what is
	// stored, checks the new roster and stores the change, without another change in between.
	mu        sync.Mutex
	runtime   atomic.Pointer[runtimeState] // what of the roster the office added or changed at run time
	ignored   atomic.Pointer[leftOut]      // run-time entries left out of the roster, and why
	rechecker Rechecker                    // set by SetRechecker
	composer  Composer                     // set by SetComposer
	recorder  Recorder                     // set by SetRecorder
	reminder  Reminder                     // set by SetReminder
	status    report.StatusCache           // Status between two new receipts
}

// New returns an Office on st; the roster it serves has the campaigns and units the office added or
// changed at run time and the addresses learned in st.
func New(o Options, st *store.Store, log *slog.Logger) (*Office, error) {
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	off := &Office{o: o, st: st, log: log}
	if err := off.reload(); err != nil {
		return nil, err
	}
	return off, nil
}

// Roster returns the current roster. It changes when a campaign or unit is added or changed, or an
// address is learned.
func (o *Office) Roster() *roster.Roster { return o.ros.Load() }

// Today is the office's date now (in its time zone).
func (o *Office) Today() roster.Date { return roster.DateOf(o.o.Now().In(o.o.Location)) }

// Store returns the store.
func (o *Office) Store() *store.Store { return o.st }

// Archive returns the archive.
func (o *Office) Archive() store.Archive { return o.o.Archive }

// runtimeState is what the store holds of the roster: the run-time campaigns and units, the learned
// addresses.
type runtimeState struct {
	units   []store.UnitRecord
	camps   []store.CampaignRecord
	learned map[string]string
}

func (o *Office) load() (*runtimeState, error) {
	var s runtimeState
	var err error
	if s.units, err = o.st.Units(); err != nil {
		return nil, err
	}
	if s.camps, err = o.st.Campaigns(); err != nil {
		return nil, err
	}
	if s.learned, err = o.st.Learned(); err != nil {
		return nil, err
	}
	return &s, nil
}

// reload builds the roster from the config's, the run-time campaigns and units, and the learned
// addresses. A run-time campaign or unit that no longer fits (config.yaml was changed since: the same
// id, a unit removed) is left out, logged and named by Ignored, rather than keep briefd from starting.
func (o *Office) reload() error {
	s, err := o.load()
	if err != nil {
		return err
	}
	r, out, err := o.build(s, nil)
	if err != nil {
		return fmt.Errorf("office: roster: %w", err)
	}
	for _, why := range out.list() {
		o.log.Warn("office: a run-time change left out of the roster", "why", why)
	}
	o.ros.Store(r)
	o.runtime.Store(s)
	o.ignored.Store(out)
	return nil
}

// Ignored names the campaigns and units added or changed at run time that are left out of the roster
// because config.yaml changed since, and why, in Chinese; none normally.
func (o *Office) Ignored() []string {
	if p := o.ignored.Load(); p != nil {
		return p.list()
	}
	return nil
}

// leftOut are the run-time entries build left out of the roster: id → why, in Chinese.
type leftOut struct{ units, camps map[string]string }

// list is every why, campaigns first, each sorted by id.
func (l *leftOut) list() []string {
	var out []string
	for _, m := range []map[string]string{l.camps, l.units} {
		for _, id := range sortedKeys(m) {
			out = append(out, m[id])
		}
	}
	return out
}

// changing names the run-time campaigns and units a change of the office's touches.
type changing struct{ units, camps map[string]bool }

// build makes the roster of the config with s applied. With ch nil (at start) run-time entries with
// problems are left out and named. With ch set (a change the office is making) the entries ch names must
// fit, or the change is refused; the others that were left out before stay left out, and no other entry
// may be made not to fit by the change.
func (o *Office) build(s *runtimeState, ch *changing) (r *roster.Roster, out *leftOut, err error) {
	base := o.o.Roster
	out = &leftOut{units: map[string]string{}, camps: map[string]string{}}
	if prev := o.ignored.Load(); ch != nil && prev != nil {
		for id, why := range prev.units {
			if !ch.units[id] {
				out.units[id] = why
			}
		}
		for id, why := range prev.camps {
			if !ch.camps[id] {
				out.camps[id] = why
			}
		}
	}
	for range 4 {
		units := base.Units()
		for _, u := range s.units {
			if _, left := out.units[u.ID]; left {
				continue
			}
			ru := roster.Unit{ID: u.ID, Name: u.Name, Aliases: slices.Clone(u.Aliases), Emails: slices.Clone(u.Emails), Kind: u.Kind}
			if i := slices.IndexFunc(units, func(x roster.Unit) bool { return x.ID == u.ID }); i >= 0 {
				units[i] = ru
			} else {
				units = append(units, ru)
			}
		}
		registered := map[string]bool{}
		for _, u := range units {
			for _, e := range u.Emails {
				registered[roster.NormalizeAddress(e)] = true
			}
		}
		for _, addr := range sortedKeys(s.learned) {
			if registered[addr] {
				continue
			}
			for i := range units {
				if units[i].ID == s.learned[addr] {
					units[i].Emails = append(units[i].Emails, addr)
				}
			}
		}
		camps := base.Campaigns()
		runtime := map[string]bool{}
		for _, c := range s.camps {
			if _, left := out.camps[c.ID]; left {
				continue
			}
			if _, inConfig := base.Campaign(c.ID); inConfig {
				if ch != nil {
					return nil, nil, &InputError{Problems: []string{fmt.Sprintf("任务编号 %s 已在 config.yaml 中定义", c.ID)}}
				}
				out.camps[c.ID] = fmt.Sprintf("报送任务 %s（%s）：config.yaml 中也有这个编号，以配置文件为准，网页或命令添加的这个任务暂不生效", c.ID, c.Title)
				continue
			}
			rc, err := campaignOf(c)
			if err != nil {
				return nil, nil, err
			}
			camps = append(camps, rc)
			runtime[c.ID] = true
		}
		r, err = roster.New(units, camps, o.o.Location)
		if err == nil {
			return r, out, nil
		}
		var re *roster.Error
		if ch != nil || !errors.As(err, &re) {
			return nil, nil, err
		}
		progress := false
		for _, p := range re.Details {
			switch {
			case p.What == "campaign" && runtime[p.ID] && out.camps[p.ID] == "":
				out.camps[p.ID], progress = fmt.Sprintf("报送任务 %s：%s（config.yaml 修改后不再成立），暂不生效", p.ID, p.ZH), true
			case p.What == "unit" && isRuntimeUnit(s, p.ID) && out.units[p.ID] == "":
				out.units[p.ID], progress = fmt.Sprintf("单位 %s：%s（config.yaml 修改后不再成立），网页修改的内容暂不生效", p.ID, p.ZH), true
			}
		}
		if !progress {
			return nil, nil, err
		}
	}
	return nil, nil, err
}

func isRuntimeUnit(s *runtimeState, id string) bool {
	return slices.ContainsFunc(s.units, func(u store.UnitRecord) bool { return u.ID == id })
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// SetQueued sets Options.Queued: the daemon wakes its sender when the office queued mail.
func (o *Office) SetQueued(fn func()) { o.o.Queued = fn }

func (o *Office) queued() {
	if o.o.Queued != nil {
		o.o.Queued()
	}
}
