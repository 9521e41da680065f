package office

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"briefd/booklet"
	"briefd/roster"
	"briefd/store"
)

// ErrNoPeriod is returned (wrapped) by Booklet for a campaign or period the roster does not know; the
// message lists the valid choices.
var ErrNoPeriod = errors.New("no such campaign period")

// Booklet is one campaign period's briefings, ready to be written as a booklet PDF or a zip.
type Booklet struct {
	Cover    booklet.Cover
	Units    []booklet.Unit
	Campaign string
	Period   string
	// Usable is how many units have a usable file: 0 makes a booklet of cover and contents only.
	Usable int

	loc *time.Location
}

// Booklet gathers a campaign period's briefings (简报汇编): every unit the campaign expects, in the
// roster's order, each reporting unit with the accepted files of its latest usable submission
// (以最后一次报送为准; whether it was late follows its first). period "" is the latest period whose due
// date has passed (else the open one).
func (o *Office) Booklet(campaign, period string) (*Booklet, error) {
	ros := o.Roster()
	c, ok := ros.Campaign(campaign)
	if !ok {
		var ids []string
		for _, c := range ros.Campaigns() {
			ids = append(ids, c.ID)
		}
		return nil, fmt.Errorf("%w: no campaign has the id %q (campaigns: %s)", ErrNoPeriod, campaign, strings.Join(ids, ", "))
	}
	status, _, err := o.Status(campaign)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, ps := range status {
		keys = append(keys, ps.Period)
	}
	if period == "" {
		now := o.o.Now()
		for _, ps := range status {
			p, _ := c.Period(ps.Period)
			if !now.Before(ros.DueEnd(p)) || period == "" {
				period = ps.Period
			}
		}
	}
	i := slices.IndexFunc(status, func(ps roster.PeriodStatus) bool { return ps.Period == period })
	if i < 0 {
		return nil, fmt.Errorf("%w: %s has no period %q (periods: %s)", ErrNoPeriod, campaign, period, strings.Join(keys, ", "))
	}
	ps := status[i]
	b := &Booklet{Campaign: campaign, Period: period, loc: o.o.Location,
		Cover: booklet.Cover{Office: o.o.OfficeName, Campaign: c.Title, Period: period, Due: ps.Due, Made: o.o.Now()}}
	for n, u := range ps.Units {
		bu := booklet.Unit{Seq: n + 1, Name: u.Name, State: u.State}
		if u.State == roster.StateReported || u.State == roster.StateLate {
			number := u.Latest
			if number == "" {
				number = u.Receipt
			}
			r, err := o.st.Receipt(number)
			if err != nil {
				return nil, err
			}
			bu.Receipt, bu.Received = r.Number, r.Received.In(o.o.Location)
			bu.Files, err = o.archivedFiles(r)
			if err != nil {
				return nil, err
			}
			b.Usable++
		} else if u.Receipt != "" {
			bu.Receipt = u.Receipt
		}
		b.Units = append(b.Units, bu)
	}
	return b, nil
}

// WritePDF writes the booklet PDF: cover, contents, each reporting unit's files, an outline entry per
// unit; with pageNumbers, 第 N 页 / 共 M 页 at the foot of every page.
func (b *Booklet) WritePDF(ctx context.Context, w io.Writer, pageNumbers bool) (booklet.Result, error) {
	return booklet.WritePDF(ctx, w, b.Cover, b.Units, booklet.Options{PageNumbers: pageNumbers, Location: b.loc})
}

// WriteZip writes the zip of the same files and its 清单.csv.
func (b *Booklet) WriteZip(ctx context.Context, w io.Writer) ([]booklet.Problem, error) {
	return booklet.WriteZip(ctx, w, b.Units, booklet.Options{Location: b.loc})
}

// archivedFiles are the paths of r's usable PDFs, in order. A file the unit had sent before for the
// period is archived with that earlier receipt (DuplicateOf), and taken from there.
func (o *Office) archivedFiles(r *store.Receipt) ([]string, error) {
	var out []string
	for _, a := range r.Attachments {
		if !a.OK() {
			continue
		}
		rel := a.Archived
		if rel == "" && a.DuplicateOf != "" {
			first, err := o.st.Receipt(a.DuplicateOf)
			if err != nil {
				return nil, err
			}
			for _, fa := range first.Attachments {
				if fa.SHA256 == a.SHA256 && fa.Archived != "" {
					rel = fa.Archived
					break
				}
			}
		}
		if rel != "" {
			out = append(out, filepath.Join(o.o.Archive.Root, filepath.FromSlash(rel)))
		}
	}
	return out, nil
}
