package office

import (
	"io"
	"time"

	"briefd/mailmsg"
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
// ""), and how many mails wait on 待确认. It is computed again only after a receipt came or changed, the
// roster changed or the day changed; what it returns is shared and must not be changed.
func (o *Office) Status(campaign string) (status []roster.PeriodStatus, unassigned int, err error) {
	status, unassigned, err = o.status.Status(o.st, o.Roster(), campaign, o.o.Now())
	if status == nil && err == nil {
		status = []roster.PeriodStatus{}
	}
	return status, unassigned, err
}

// Export writes receipts and status as format (xlsx or csv) for a campaign ("" for all) and returns the
// file name to offer.
func (o *Office) Export(w io.Writer, format, campaign string) (string, error) {
	return report.Export(w, o.st, o.Roster(), o.o.Now(), format, campaign, "")
}

// Composer writes the reply a receipt's sender gets and the notice of a campaign (*notify.Notifier).
type Composer interface {
	ComposeReply(r *store.Receipt) ([]byte, error)
	Notice(c roster.Campaign) (string, error)
}

// SetComposer gives the office what writes replies, for ReplyText.
func (o *Office) SetComposer(c Composer) { o.composer = c }

// ReplyText is the plain text of the reply r's sender gets (or got), as a mail program shows it; ""
// when nothing composes replies here.
func (o *Office) ReplyText(r *store.Receipt) (string, error) {
	if o.composer == nil {
		return "", nil // nothing composes replies here (a command without the daemon's wiring)
	}
	msg, err := o.composer.ComposeReply(r)
	if err != nil {
		return "", err
	}
	return mailmsg.Readable(msg), nil
}
