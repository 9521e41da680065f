package office

import (
	"time"

	"briefd/report"
	"briefd/roster"
	"briefd/store"
)

// Filter selects receipts; zero fields select all.
type Filter struct {
	Campaign string
	Unit     string // "none": mail no unit was found for
	Verdict  string
	Since    time.Time
}

func (f Filter) keep(r *store.Receipt) bool {
	return (f.Campaign == "" || r.Campaign == f.Campaign) &&
		(f.Unit == "" || r.Unit == f.Unit || (f.Unit == "none" && r.Unit == "")) &&
		(f.Verdict == "" || r.Verdict == f.Verdict) &&
		(f.Since.IsZero() || !r.Received.Before(f.Since))
}

// Receipts returns the receipts f selects, in number order, as `briefd receipts -json` prints them: the
// time received in the office time zone whatever zone the server reported, and empty lists as [].
func (o *Office) Receipts(f Filter) ([]*store.Receipt, error) {
	rs, err := o.st.Receipts(f.keep)
	if err != nil {
		return nil, err
	}
	if rs == nil {
		rs = []*store.Receipt{}
	}
	for _, r := range rs {
		r.Received = r.Received.In(o.o.Location)
		if r.Attachments == nil {
			r.Attachments = []store.Attachment{}
		}
		if r.Links == nil {
			r.Links = []string{}
		}
	}
	return rs, nil
}

// Status is who has reported in every period opened by now (of one campaign, or all when campaign is
// ""), and how many mails wait on 待确认.
func (o *Office) Status(campaign string) (status []roster.PeriodStatus, unassigned int, err error) {
	es, err := o.st.Entries(nil)
	if err != nil {
		return nil, 0, err
	}
	for i := range es {
		if es[i].Unassigned() {
			unassigned++
		}
	}
	status = report.Status(es, o.Roster(), campaign, o.o.Now())
	if status == nil {
		status = []roster.PeriodStatus{}
	}
	return status, unassigned, nil
}
