// Package report writes tables of receipts and status as .xlsx and .csv for people: one sheet per
// campaign period (who reported, when, with which receipt), a sheet of receipts and a sheet of mails
// from unregistered senders. The same tables go into the weekly summary's attachment, `briefd export`
// and the dashboard's export.
//
// Every text cell is neutralised against formula injection: a cell that starts with =, +, -, @, a tab
// or a carriage return gets a leading apostrophe, so that a unit name like =HYPERLINK(…) is shown as
// text by Excel and WPS and never evaluated. CSV files are UTF-8 with a byte order mark and CRLF line
// ends, which is what Excel and WPS need to open Chinese text correctly.
package report

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"briefd/roster"
	"briefd/store"
)

// Sheet is one table: a name (a sheet of an .xlsx) and rows, the first of which is the header. A cell
// is a string or an int.
type Sheet struct {
	Name  string
	Rows  [][]any
	Width []float64 // column widths in characters; optional
}

// ErrFormat is returned for an export format other than xlsx and csv.
var ErrFormat = errors.New("unknown format (use xlsx or csv)")

// Safe neutralises a cell against formula injection: text that a spreadsheet would read as a formula
// (it starts with =, +, -, @, a tab or a carriage return, possibly after spaces) is prefixed with an
// apostrophe.
func Safe(s string) string {
	t := strings.TrimLeft(s, " ")
	if t == "" {
		return s
	}
	switch t[0] {
	case '=', '+', '-', '@', '\t', '\r', '\n':
		return "'" + s
	}
	// Full-width forms that some spreadsheet programs also take as the start of a formula.
	if r, _ := utf8.DecodeRuneInString(t); r == '＝' || r == '＋' || r == '－' || r == '＠' {
		return "'" + s
	}
	return s
}

// cellString is a cell as text, neutralised.
func cellString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return Safe(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		if x {
			return "是"
		}
		return "否"
	default:
		return Safe(fmt.Sprint(x))
	}
}

// StateZH is the Chinese word for a unit's state in a period; the CLI, the dashboard, the summary and the
// spreadsheets all use it.
func StateZH(s string) string {
	switch s {
	case roster.StateReported:
		return "已报送"
	case roster.StateLate:
		return "逾期报送"
	case roster.StateRejected:
		return "未通过"
	case roster.StateMissing:
		return "未报送"
	}
	return s
}

// KindZH is the Chinese word for what an outbox item is (回执, 周报, 群机器人 …).
func KindZH(kind string) string {
	switch kind {
	case store.KindReply:
		return "回执"
	case store.KindSummary:
		return "周报"
	case store.KindReminder:
		return "催报"
	case store.KindAlert:
		return "告警"
	case store.KindRobot:
		return "群机器人消息"
	case store.KindFailure:
		return "处理失败通知"
	}
	return kind
}

// VerdictZH is the Chinese word for a receipt verdict, the same everywhere a person reads it.
func VerdictZH(v string) string {
	switch v {
	case store.VerdictAccepted:
		return "已受理"
	case store.VerdictPartial:
		return "部分受理"
	case store.VerdictRejected:
		return "未通过"
	case store.VerdictNoAttachment:
		return "无附件"
	case store.VerdictTooLarge:
		return "邮件过大"
	case store.VerdictMalformed:
		return "无法解析"
	case store.VerdictIgnored:
		return "非报送邮件"
	case store.VerdictFailed:
		return "处理失败"
	}
	return v
}

// Status is who has reported, per campaign period (every campaign when campaign is ""), as of now: the
// one place receipts become units' states. es are receipt entries in number order (store.Entries);
// receipts of a known unit placed in a campaign count, mail that is no submission does not.
func Status(es []store.Entry, ros *roster.Roster, campaign string, now time.Time) []roster.PeriodStatus {
	subs := make([]roster.Submission, 0, len(es))
	for i := range es {
		if s, ok := submissionOf(&es[i]); ok {
			subs = append(subs, s)
		}
	}
	return ros.Status(subs, campaign, now)
}

// StoreStatus is Status over every receipt of st, and the number of receipts waiting to be assigned
// (Entry.Unassigned). It reads the store's index in place instead of copying it (copying 100,000
// entries costs more than the status itself).
func StoreStatus(st *store.Store, ros *roster.Roster, campaign string, now time.Time) (status []roster.PeriodStatus, unassigned int, err error) {
	var t tally
	if err := t.load(st); err != nil {
		return nil, 0, err
	}
	return ros.StatusOf(&t.Tally, campaign, now), t.unassigned, nil
}

// tally is what a status is computed from: the submissions of a store's receipts as of one
// EntriesVersion, and how many receipts wait to be assigned.
type tally struct {
	roster.Tally
	st         *store.Store
	version    uint64
	unassigned int
}

func (t *tally) add(e *store.Entry) {
	if e.Unassigned() {
		t.unassigned++
	}
	if s, ok := submissionOf(e); ok {
		t.Add(s)
	}
}

// load counts every receipt of st afresh.
func (t *tally) load(st *store.Store) error {
	*t = tally{st: st}
	v, err := st.EachEntry(t.add)
	if err != nil {
		*t = tally{}
		return err
	}
	t.version = v
	return nil
}

// update brings t up to date with st: it adds the receipts that came since, or counts all of them again
// when a receipt changed in a way that matters to the status (its unit, campaign, period, time or
// usable files: assign, recheck), which cannot be taken back from the tally. It returns the campaign
// periods of the submissions it added, or counted true when it counted every receipt.
func (t *tally) update(st *store.Store) (touched map[[2]string]bool, counted bool, err error) {
	if t.st == st {
		v, ok, err := st.EntriesSince(t.version, func(before, now *store.Entry) bool {
			if before != nil {
				return sameForStatus(before, now)
			}
			t.add(now)
			if s, ok := submissionOf(now); ok {
				if touched == nil {
					touched = map[[2]string]bool{}
				}
				touched[[2]string{s.Campaign, s.Period}] = true
			}
			return true
		})
		if err != nil {
			*t = tally{}
			return nil, false, err
		}
		if ok {
			t.version = v
			return touched, false, nil
		}
	}
	return nil, true, t.load(st)
}

// sameForStatus reports whether a and b count the same in a status: a change of the reply's state or of
// a question's answer does not.
func sameForStatus(a, b *store.Entry) bool {
	sa, oka := submissionOf(a)
	sb, okb := submissionOf(b)
	return a.Unassigned() == b.Unassigned() && oka == okb &&
		(!oka || sa.Receipt == sb.Receipt && sa.Unit == sb.Unit && sa.Campaign == sb.Campaign && sa.Period == sb.Period &&
			sa.At.Equal(sb.At) && sa.Usable == sb.Usable)
}

// StatusCache keeps what StoreStatus computes between calls: the daemon answers `briefd status` and the
// dashboard's pages from the same receipts many times between two new ones. It keeps the submissions'
// tally, to which a new receipt is added (counting 100,000 receipts again takes ~80 ms; a receipt that
// changed, by assign or recheck, still makes it count all of them), and the last status, which it
// returns again while the receipts, the roster, the campaign asked for and the office's date are the
// same. What it returns is shared: callers must not change it. The zero StatusCache is ready to use.
type StatusCache struct {
	mu      sync.Mutex
	tally   tally
	key     statusKey
	status  []roster.PeriodStatus
	counted int // times every receipt was counted (for tests)
}

// statusKey is what a status depends on besides the receipts: the roster, the campaign asked for, and
// the office's date (which periods have opened: the only way the time enters roster.Status; lateness
// depends on each receipt's own time).
type statusKey struct {
	ros      *roster.Roster
	campaign string
	date     roster.Date
}

// Status is StoreStatus, computed again only when the store's receipts, the roster, the campaign or the
// office's date changed since the last call, and then from the receipts that came since.
func (c *StatusCache) Status(st *store.Store, ros *roster.Roster, campaign string, now time.Time) ([]roster.PeriodStatus, int, error) {
	key := statusKey{ros, campaign, roster.DateOf(now.In(ros.Location()))}
	c.mu.Lock()
	defer c.mu.Unlock()
	touched, counted, err := c.tally.update(st)
	if counted {
		c.counted++
	}
	if err != nil {
		c.status = nil
		return nil, 0, err
	}
	if !counted && c.key == key && c.status != nil && touched != nil { // new receipts: their periods are worked out again
		status, ok := ros.UpdateStatus(&c.tally.Tally, c.status, func(campaign, period string) bool {
			return touched[[2]string{campaign, period}]
		})
		if ok {
			c.status = status
			return c.status, c.tally.unassigned, nil
		}
		c.status = nil
	}
	if counted || c.key != key || c.status == nil {
		c.key, c.status = key, ros.StatusOf(&c.tally.Tally, campaign, now)
	}
	return c.status, c.tally.unassigned, nil
}

// submissionOf is e as a submission, when it counts for a unit's status: receipts of a known unit placed
// in a campaign, except mail that is no submission.
func submissionOf(e *store.Entry) (roster.Submission, bool) {
	if e.Unit == "" || e.Campaign == "" || e.Verdict == store.VerdictIgnored {
		return roster.Submission{}, false
	}
	return roster.Submission{Receipt: e.Number, Unit: e.Unit, Campaign: e.Campaign, Period: e.Period,
		At: e.Received, Usable: e.Usable}, true
}

func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc != nil {
		t = t.In(loc)
	}
	return t.Format("2006-01-02 15:04")
}

// StatusSheet is one campaign period: a row per unit with its state, receipt and time.
func StatusSheet(ps roster.PeriodStatus, loc *time.Location) Sheet {
	sh := Sheet{Name: ps.Campaign + " " + ps.Period,
		Width: []float64{14, 30, 16, 16, 18, 8}}
	sh.Rows = append(sh.Rows, []any{"单位编号", "单位名称", "状态", "回执编号", "收到时间", "来信次数"})
	for _, u := range ps.Units {
		sh.Rows = append(sh.Rows, []any{u.Unit, u.Name, StateZH(u.State), u.Receipt, fmtTime(u.At, loc), u.Tries})
	}
	return sh
}

// StatusTable is every period's state in one flat table, a row per unit and period: the CSV form.
func StatusTable(st []roster.PeriodStatus, loc *time.Location) Sheet {
	sh := Sheet{Name: "报送情况", Width: []float64{16, 30, 10, 12, 14, 30, 16, 16, 18, 8}}
	sh.Rows = append(sh.Rows, []any{"任务编号", "任务名称", "期", "截止日期", "单位编号", "单位名称", "状态", "回执编号", "收到时间", "来信次数"})
	for _, ps := range st {
		for _, u := range ps.Units {
			sh.Rows = append(sh.Rows, []any{ps.Campaign, ps.Title, ps.Period, ps.Due, u.Unit, u.Name, StateZH(u.State),
				u.Receipt, fmtTime(u.At, loc), u.Tries})
		}
	}
	return sh
}

// OverviewSheet counts the states of every period.
func OverviewSheet(st []roster.PeriodStatus) Sheet {
	sh := Sheet{Name: "概览", Width: []float64{16, 30, 10, 12, 8, 8, 8, 8, 8}}
	sh.Rows = append(sh.Rows, []any{"任务编号", "任务名称", "期", "截止日期", "单位数", "已报送", "逾期报送", "未通过", "未报送"})
	for _, ps := range st {
		c := ps.Counts
		sh.Rows = append(sh.Rows, []any{ps.Campaign, ps.Title, ps.Period, ps.Due, len(ps.Units),
			c[roster.StateReported], c[roster.StateLate], c[roster.StateRejected], c[roster.StateMissing]})
	}
	return sh
}

// ReceiptsSheet lists receipts, one row each. name is the sheet's name.
func ReceiptsSheet(name string, es []store.Entry, ros *roster.Roster, loc *time.Location) Sheet {
	sh := Sheet{Name: name, Width: []float64{16, 18, 28, 20, 36, 40, 14, 30, 10, 10, 16, 8}}
	sh.Rows = append(sh.Rows, []any{"回执编号", "收到时间", "发件人", "发件人名称", "主题", "附件", "单位编号", "单位名称",
		"任务编号", "期", "结果", "逾期"})
	for _, e := range es {
		unitName := ""
		if e.Unit != "" && ros != nil {
			unitName = ros.UnitName(e.Unit)
		}
		late := ""
		if e.Late {
			late = "逾期"
		}
		sh.Rows = append(sh.Rows, []any{e.Number, fmtTime(e.Received, loc), e.From, e.FromName, e.Subject, e.Filenames,
			e.Unit, unitName, e.Campaign, e.Period, VerdictZH(e.Verdict), late})
	}
	return sh
}

// Workbook is the sheets of a full export: an overview, one sheet per campaign period, every receipt
// and the mails waiting for assignment.
func Workbook(st []roster.PeriodStatus, es []store.Entry, ros *roster.Roster, loc *time.Location) []Sheet {
	sheets := []Sheet{OverviewSheet(st)}
	for _, ps := range st {
		sheets = append(sheets, StatusSheet(ps, loc))
	}
	var waiting []store.Entry
	for i := range es {
		if es[i].Unassigned() {
			waiting = append(waiting, es[i])
		}
	}
	sheets = append(sheets, ReceiptsSheet("收件记录", es, ros, loc), ReceiptsSheet("待确认来信", waiting, ros, loc))
	return sheets
}
