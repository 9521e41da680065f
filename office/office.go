// Package office is what the office does with briefd, in one place: give a receipt to a unit, send a
// reply again, look at receipts and who has reported. The command line, the control socket and the
// dashboard all call it, so each of these operations has one implementation. It owns the current
// roster: the units and campaigns of the config plus the addresses learned by hand.
package office

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

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

	rechecker Rechecker // set by SetRechecker
	composer  Composer  // set by SetComposer
}

// New returns an Office on st; the roster it serves has the addresses learned in st.
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

// Roster returns the current roster. It changes when an address is learned.
func (o *Office) Roster() *roster.Roster { return o.ros.Load() }

// Store returns the store.
func (o *Office) Store() *store.Store { return o.st }

// Archive returns the archive.
func (o *Office) Archive() store.Archive { return o.o.Archive }

// reload builds the roster from the config's plus the learned addresses.
func (o *Office) reload() error {
	learned, err := o.st.Learned()
	if err != nil {
		return err
	}
	base := o.o.Roster
	units := base.Units()
	for addr, id := range learned {
		if _, taken := base.UnitByAddress(addr); taken {
			continue
		}
		for i := range units {
			if units[i].ID == id {
				units[i].Emails = append(units[i].Emails, addr)
			}
		}
	}
	r, err := roster.New(units, base.Campaigns(), o.o.Location)
	if err != nil {
		return fmt.Errorf("office: learned addresses: %w", err)
	}
	o.ros.Store(r)
	return nil
}

// SetQueued sets Options.Queued: the daemon wakes its sender when the office queued mail.
func (o *Office) SetQueued(fn func()) { o.o.Queued = fn }

func (o *Office) queued() {
	if o.o.Queued != nil {
		o.o.Queued()
	}
}
