package office

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"briefd/roster"
	"briefd/store"
)

// ErrUnknownUnit is returned (wrapped) for a unit id the roster does not know.
var ErrUnknownUnit = errors.New("no such unit")

// Assign gives the receipt to the unit, as the office decided: it is matched by hand and placed in the
// unit's campaign period (status follows), its archived PDFs move to that period's folder under the
// unit's name, and the duplicate index follows (a file the unit sent before for that period is marked
// a duplicate). With learn, the sender's address is registered for the unit and later mail from it is
// matched by address.
//
// Files are linked at their new names before the receipt changes and the old names removed after, so
// a crash in between leaves a file at both names, never at none.
//
// The change, and the learned address, are each written with their audit entry (by) in one transaction.
func (o *Office) Assign(by Source, number, unitID string, learn bool) (*store.Receipt, error) {
	ros := o.Roster()
	unit, ok := ros.Unit(unitID)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownUnit, unitID)
	}
	cur, err := o.st.Receipt(number)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, at := range cur.Attachments {
		names = append(names, at.Filename)
	}
	pl, placed := ros.Place(unitID, cur.Received, cur.Subject, names)
	moves := map[string]string{} // old -> new, relative to the archive root
	for i, at := range cur.Attachments {
		if at.Archived == "" {
			continue
		}
		to := o.o.Archive.PDFPath(pl.Campaign, pl.Period, unit.Name, number, i+1)
		if to == at.Archived {
			continue
		}
		if err := o.link(at.Archived, to); err != nil {
			return nil, err
		}
		moves[at.Archived] = to
	}
	detail := fmt.Sprintf("%s → %s（%s）", number, unit.Name, unitID)
	if placed {
		c, _ := ros.Campaign(pl.Campaign)
		detail += fmt.Sprintf("，《%s》第 %s 期", c.Title, pl.Period)
	}
	_, after, err := o.st.Audited(o.entry(by, ActAssign, number, detail)).Replace(number, func(r *store.Receipt) error {
		r.Unit, r.Match = unitID, roster.MatchManual
		r.Campaign, r.Period, r.Late = "", "", false
		if placed {
			r.Campaign, r.Period, r.Late = pl.Campaign, pl.Period, pl.Late
		}
		for i := range r.Attachments {
			if to, ok := moves[r.Attachments[i].Archived]; ok {
				r.Attachments[i].Archived = to
			}
		}
		return nil
	})
	if err != nil {
		for _, to := range moves {
			os.Remove(filepath.Join(o.o.Archive.Root, to))
		}
		return nil, err
	}
	for from := range moves {
		if err := os.Remove(filepath.Join(o.o.Archive.Root, from)); err != nil && !os.IsNotExist(err) {
			o.log.Warn("office: assign: old archive name not removed", "receipt", number, "path", from, "err", err)
		}
	}
	o.log.Info("office: receipt assigned", "receipt", number, "unit", unitID, "campaign", after.Campaign, "period", after.Period)
	if learn && after.From != "" {
		o.mu.Lock()
		defer o.mu.Unlock()
		if other, ok := o.Roster().UnitByAddress(after.From); ok && other != unitID {
			return after, fmt.Errorf("%s is already registered to %s; not learned", after.From, other)
		}
		learned := fmt.Sprintf("%s 登记为 %s（%s）的邮箱（来自 %s）", after.From, unit.Name, unitID, number)
		if err := o.st.Audited(o.entry(by, ActLearn, unitID, learned)).Learn(after.From, unitID); err != nil {
			return after, err
		}
		if err := o.reload(); err != nil {
			return after, err
		}
	}
	return after, nil
}

// link gives the archived file from a second name, to.
func (o *Office) link(from, to string) error {
	root := o.o.Archive.Root
	src, dst := filepath.Join(root, from), filepath.Join(root, to)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("office: archive: %w", err)
	}
	os.Remove(dst) // left by an assign that crashed
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return o.o.Archive.Save(to, src)
}
