package notify

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	"briefd/report"
	"briefd/roster"
	"briefd/store"
)

// SummaryWindow is how long after its due date a period stays in the weekly summary.
const SummaryWindow = 30 * 24 * time.Hour

// MaxUnassignedLines is how many mails from unregistered senders the summary mail lists; the
// attachment lists all of them.
const MaxUnassignedLines = 30

// SummaryData is what the summary templates (templates/summary.txt.tmpl, summary.html.tmpl) see.
// Every string is cleaned of control characters; the HTML template escapes them as well.
type SummaryData struct {
	Office    Office
	Week      string // ISO week, e.g. 2026-W48
	WeekZH    string // 2026年第48周
	Generated string // 2026年11月23日 08:30
	Zone      string // 北京时间

	Periods        []PeriodSummary // open now, or closed within SummaryWindow
	Unassigned     []UnassignedLine
	UnassignedAll  int // how many there are in all (Unassigned holds at most MaxUnassignedLines)
	UnassignedMore int
	NoEmail        []string         // units owing an open period without a registered address: no reminders reach them
	Questions      []UnassignedLine // units' mails that are no submission and wait for a person's answer
	Health         HealthLine
}

// PeriodSummary is one campaign period in the summary.
type PeriodSummary struct {
	Campaign string
	Title    string
	Period   string // 2026年1月 for a monthly campaign, "" for a once campaign
	Key      string // 2026-01
	Due      string // 2026年1月31日
	Closed   bool   // the due date has passed
	Units    int
	Reported int // on time
	Late     int
	Rejected int // mail came, no usable PDF: must resend
	Missing  int

	ReportedList []UnitLine // reported and late, in roster order
	RejectedList []UnitLine
	MissingList  []UnitLine
}

// UnitLine is one unit in a list of the summary.
type UnitLine struct {
	Unit    string
	Name    string
	Receipt string
	At      string // 1月10日 14:32
	Late    bool
	Tries   int
}

// UnassignedLine is a mail from an address not registered to any unit.
type UnassignedLine struct {
	Receipt string
	At      string
	From    string
	Subject string
	Verdict string // in Chinese
}

// HealthLine is the state of the service.
type HealthLine struct {
	LastCheck string // the last successful mailbox check, 2026年11月23日 08:29
	Never     bool   // no check ever succeeded
	Stale     bool   // the last check is older than the alert threshold
	Ago       string // e.g. 3小时
	Failed    int    // outbox items that failed for good in the last 7 days
	Queued    int    // items waiting to be sent (retries included)
	Failures  []string
}

// Summary is a composed weekly summary.
type Summary struct {
	Week     string
	Subject  string
	Text     string
	HTML     string
	XLSX     []byte
	FileName string // of the attachment, e.g. briefd-summary-2026-W48.xlsx
	Data     *SummaryData
	Status   []roster.PeriodStatus // the periods the summary covers
	Entries  []store.Entry         // every receipt, as the status was computed from
}

// Summary builds the weekly summary as of now: data, text, HTML and the .xlsx attachment.
func (s *Scheduler) Summary(now time.Time) (*Summary, error) {
	ros := s.o.Roster()
	loc := s.loc()
	// As of now: a summary composed for a past moment (tests, `briefd summary`) leaves out later mail.
	es, err := s.st.Entries(func(e *store.Entry) bool { return !e.Received.After(now) })
	if err != nil {
		return nil, fmt.Errorf("notify: summary: read receipts: %w", err)
	}
	all := report.Status(es, ros, "", now)
	var shown []roster.PeriodStatus
	for _, ps := range all {
		c, _ := ros.Campaign(ps.Campaign)
		p, ok := c.Period(ps.Period)
		if !ok {
			continue
		}
		if ros.DueEnd(p).After(now.Add(-SummaryWindow)) {
			shown = append(shown, ps)
		}
	}
	_, week := s.SummaryDue(now)
	local := now.In(loc)
	y, w := local.ISOWeek()
	d := &SummaryData{Office: s.n.o.Office, Week: week, WeekZH: fmt.Sprintf("%d年第%d周", y, w),
		Generated: cnDateTime(local), Zone: zoneName(local)}
	noEmail := map[string]bool{}
	for _, ps := range shown {
		c, _ := ros.Campaign(ps.Campaign)
		p, _ := c.Period(ps.Period)
		line := PeriodSummary{Campaign: Clean(ps.Campaign, 60), Title: Clean(ps.Title, 120), Key: ps.Period,
			Due: cnDate(p.Due), Closed: !now.Before(ros.DueEnd(p)), Units: len(ps.Units),
			Reported: ps.Counts[roster.StateReported], Late: ps.Counts[roster.StateLate],
			Rejected: ps.Counts[roster.StateRejected], Missing: ps.Counts[roster.StateMissing], Period: c.PeriodName(ps.Period)}
		for _, u := range ps.Units {
			ul := UnitLine{Unit: Clean(u.Unit, 60), Name: Clean(u.Name, 80), Receipt: Clean(u.Receipt, 40), Tries: u.Tries}
			if !u.At.IsZero() {
				at := u.At.In(loc)
				ul.At = fmt.Sprintf("%d月%d日 %02d:%02d", at.Month(), at.Day(), at.Hour(), at.Minute())
			}
			switch u.State {
			case roster.StateReported, roster.StateLate:
				ul.Late = u.State == roster.StateLate
				line.ReportedList = append(line.ReportedList, ul)
			case roster.StateRejected:
				line.RejectedList = append(line.RejectedList, ul)
			default:
				line.MissingList = append(line.MissingList, ul)
			}
			if !line.Closed && (u.State == roster.StateMissing || u.State == roster.StateRejected) {
				if unit, ok := ros.Unit(u.Unit); ok && len(unit.Emails) == 0 && !noEmail[u.Unit] {
					noEmail[u.Unit] = true
					d.NoEmail = append(d.NoEmail, Clean(unit.Name, 80))
				}
			}
		}
		d.Periods = append(d.Periods, line)
	}
	var waiting []store.Entry
	for i := range es {
		if es[i].Unassigned() {
			waiting = append(waiting, es[i])
		}
	}
	sort.SliceStable(waiting, func(i, j int) bool { return waiting[i].Received.After(waiting[j].Received) })
	d.UnassignedAll = len(waiting)
	for i, e := range waiting {
		if i == MaxUnassignedLines {
			d.UnassignedMore = len(waiting) - i
			break
		}
		subj := Clean(e.Subject, 40)
		if subj == "" {
			subj = "（无主题）"
		}
		d.Unassigned = append(d.Unassigned, UnassignedLine{Receipt: Clean(e.Number, 40), At: cnDateTime(e.Received.In(loc)),
			From: Clean(e.From, 100), Subject: subj, Verdict: report.VerdictZH(e.Verdict)})
	}
	for _, e := range es {
		if e.Verdict == store.VerdictIgnored && e.Category == store.CategoryQuestion && !e.Answered {
			subj := Clean(e.Subject, 40)
			if subj == "" {
				subj = "（无主题）"
			}
			d.Questions = append(d.Questions, UnassignedLine{Receipt: Clean(e.Number, 40), At: cnDateTime(e.Received.In(loc)),
				From: Clean(ros.UnitName(e.Unit), 80), Subject: subj})
		}
	}
	if d.Health, err = s.health(now); err != nil {
		return nil, err
	}

	sum := &Summary{Week: week, Data: d, Status: shown, Entries: es, FileName: "briefd-summary-" + week + ".xlsx"}
	missing, rejected := 0, 0
	for _, p := range d.Periods {
		if !p.Closed {
			missing += p.Missing
			rejected += p.Rejected
		}
	}
	sum.Subject = fmt.Sprintf("报送情况周报（%s）", d.WeekZH)
	if missing+rejected > 0 {
		sum.Subject += fmt.Sprintf("：未报送 %d，需重报 %d", missing, rejected)
	}
	if len(d.Questions) > 0 {
		sum.Subject += fmt.Sprintf("；单位来信 %d 封待回复", len(d.Questions))
	}
	if d.Health.Never || d.Health.Stale {
		sum.Subject += "；邮箱检查异常"
	}
	txt, err := s.n.loadText("summary.txt.tmpl")
	if err != nil {
		return nil, err
	}
	html, err := s.n.loadHTML("summary.html.tmpl")
	if err != nil {
		return nil, err
	}
	var tb, hb bytes.Buffer
	if err := txt.Execute(&tb, d); err != nil {
		return nil, fmt.Errorf("notify: summary text: %w", err)
	}
	if err := html.Execute(&hb, d); err != nil {
		return nil, fmt.Errorf("notify: summary html: %w", err)
	}
	sum.Text, sum.HTML = tb.String(), hb.String()

	sheets := []report.Sheet{report.OverviewSheet(shown)}
	for _, ps := range shown {
		sheets = append(sheets, report.StatusSheet(ps, loc))
	}
	sheets = append(sheets, report.ReceiptsSheet("待确认来信", waiting, ros, loc))
	var xb bytes.Buffer
	if err := report.WriteXLSX(&xb, sheets); err != nil {
		return nil, fmt.Errorf("notify: summary attachment: %w", err)
	}
	sum.XLSX = xb.Bytes()
	return sum, nil
}

// health reads the last successful mailbox check and the outbox.
func (s *Scheduler) health(now time.Time) (HealthLine, error) {
	var h HealthLine
	last, ok, err := s.st.Mark(s.o.HealthMark)
	if err != nil {
		return h, fmt.Errorf("notify: read mark %s: %w", s.o.HealthMark, err)
	}
	if !ok {
		h.Never = true
	} else {
		h.LastCheck = cnDateTime(last.In(s.loc()))
		h.Ago = agoZH(now.Sub(last))
		h.Stale = s.o.AlertAfter > 0 && now.Sub(last) >= s.o.AlertAfter
	}
	since := now.Add(-7 * 24 * time.Hour)
	items, err := s.st.Outbox(func(it *store.OutboxItem) bool {
		return it.State == store.OutQueued || (it.State == store.OutFailed && it.Created.After(since))
	})
	if err != nil {
		return h, fmt.Errorf("notify: read outbox: %w", err)
	}
	for _, it := range items {
		if it.State == store.OutQueued {
			h.Queued++
			continue
		}
		h.Failed++
		if len(h.Failures) < 10 {
			h.Failures = append(h.Failures, Clean(fmt.Sprintf("%s → %s：%s", report.KindZH(it.Kind), it.To, it.LastError), 200))
		}
	}
	return h, nil
}

// agoZH says a duration the way the office reads it: 15分钟, 3小时, 2天.
func agoZH(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d分钟", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d小时", int(d.Hours()))
	default:
		return fmt.Sprintf("%d天", int(d.Hours()/24))
	}
}
