package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"briefd/roster"
	"briefd/store"
)

var cst = time.FixedZone("CST", 8*3600)

func date(t *testing.T, s string) roster.Date {
	t.Helper()
	d, err := roster.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// fixture is a roster with a hostile unit name, a campaign with no units, and a store with receipts.
func fixture(t *testing.T) (*store.Store, *roster.Roster) {
	t.Helper()
	ros, err := roster.New([]roster.Unit{
		{ID: "xinfu", Name: "忻府区教育科技局", Emails: []string{"xinfu@example.cn"}},
		{ID: "evil", Name: `=HYPERLINK("http://x","y")`, Emails: []string{"evil@example.cn"}},
		{ID: "quiet", Name: "定襄县教育局"},
	}, []roster.Campaign{
		{ID: "study", Title: "学习简报", Opens: date(t, "2026-01-05"), Due: date(t, "2026-01-31")},
		{ID: "monthly", Title: "月报", Units: []string{"xinfu"}, Opens: date(t, "2026-01-05"), Every: "month", Until: date(t, "2026-03-31")},
	}, cst)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "b.db"), store.Options{Location: cst})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ok := []store.Attachment{{Filename: "a.pdf", Verdict: "ok", Pages: 2}}
	badA := []store.Attachment{{Filename: "a.doc", Verdict: "reject"}}
	for _, r := range []*store.Receipt{
		{Received: time.Date(2026, 1, 10, 9, 0, 0, 0, cst), MessageID: "<1@x>", From: "xinfu@example.cn", Subject: "学习简报",
			Unit: "xinfu", Match: "address", Campaign: "study", Period: "2026-01", Verdict: store.VerdictAccepted, Attachments: ok},
		{Received: time.Date(2026, 1, 11, 9, 0, 0, 0, cst), MessageID: "<2@x>", From: "evil@example.cn", Subject: "@SUM(A1:A9)",
			Unit: "evil", Match: "address", Campaign: "study", Period: "2026-01", Verdict: store.VerdictRejected, Attachments: badA},
		{Received: time.Date(2026, 1, 12, 9, 0, 0, 0, cst), MessageID: "<3@x>", From: "who@example.com", Subject: "-1+1",
			Match: "none", Verdict: store.VerdictAccepted, Attachments: ok},
	} {
		if _, _, err := st.Record(r, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	return st, ros
}

func TestSafe(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"+1", "'+1"}, {"-1", "'-1"}, {"@SUM(A1)", "'@SUM(A1)"}, {"\tx", "'\tx"}, {"\rx", "'\rx"},
		{"  =1", "'  =1"}, {"＝1", "'＝1"},
		{"忻府区", "忻府区"}, {"2026-01-31", "2026-01-31"}, {"", ""}, {"a=b", "a=b"},
	} {
		if got := Safe(c.in); got != c.want {
			t.Errorf("Safe(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestExportCSV(t *testing.T) {
	st, ros := fixture(t)
	now := time.Date(2026, 2, 10, 12, 0, 0, 0, cst)
	var buf bytes.Buffer
	name, err := Export(&buf, st, ros, now, "csv", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if name != "briefd-20260210.csv" {
		t.Errorf("name %q", name)
	}
	raw := buf.Bytes()
	if !bytes.HasPrefix(raw, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("no BOM: % x", raw[:8])
	}
	if bytes.Count(raw, []byte("\r\n")) != bytes.Count(raw, []byte("\n")) {
		t.Error("line ends are not all CRLF")
	}
	recs, err := csv.NewReader(bytes.NewReader(raw[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// status rows: study 3 units + monthly 2 periods opened by February × 1 unit
	if got, want := len(recs)-1, 3+2; got != want {
		t.Errorf("%d status rows, want %d", got, want)
	}
	found := false
	for _, r := range recs {
		for _, c := range r {
			if strings.HasPrefix(c, "=") || strings.HasPrefix(c, "@") || strings.HasPrefix(c, "+") || strings.HasPrefix(c, "-") {
				t.Errorf("unneutralised cell %q", c)
			}
		}
		if r[4] == "evil" && r[0] == "study" {
			found = true
			if r[5] != `'=HYPERLINK("http://x","y")` || r[6] != StateZH(roster.StateRejected) {
				t.Errorf("evil row %q", r)
			}
		}
		if r[4] == "xinfu" && r[0] == "study" && (r[6] != "已报送" || r[8] != "2026-01-10 09:00") {
			t.Errorf("xinfu row %q", r)
		}
	}
	if !found {
		t.Error("no row for the unit evil")
	}

	buf.Reset()
	if _, err := Export(&buf, st, ros, now, "csv", "", "receipts"); err != nil {
		t.Fatal(err)
	}
	recs, err = csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[3][4] != "'-1+1" || recs[2][4] != "'@SUM(A1:A9)" {
		t.Errorf("receipts csv %q", recs)
	}
}

func TestExportXLSX(t *testing.T) {
	st, ros := fixture(t)
	now := time.Date(2026, 2, 10, 12, 0, 0, 0, cst)
	var buf bytes.Buffer
	name, err := Export(&buf, st, ros, now, "xlsx", "study", "")
	if err != nil {
		t.Fatal(err)
	}
	if name != "briefd-study-20260210.xlsx" {
		t.Errorf("name %q", name)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := []string{"概览", "study 2026-01", "收件记录", "待确认来信"}
	if got := f.GetSheetList(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	rows, err := f.GetRows("study 2026-01")
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, r := range rows[1:] {
		states[r[0]] = r[2]
		if r[0] == "evil" && r[1] != `'=HYPERLINK("http://x","y")` {
			t.Errorf("evil name cell %q", r[1])
		}
	}
	if states["xinfu"] != "已报送" || states["evil"] != StateZH(roster.StateRejected) || states["quiet"] != "未报送" {
		t.Errorf("states %v", states)
	}
	for _, sh := range f.GetSheetList() {
		rows, _ := f.GetRows(sh)
		for i, r := range rows {
			for j := range r {
				cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
				if fm, _ := f.GetCellFormula(sh, cell); fm != "" {
					t.Errorf("%s!%s has formula %q", sh, cell, fm)
				}
			}
		}
	}
	over, _ := f.GetRows("概览")
	if len(over) != 2 || over[1][5] != "1" || over[1][7] != "1" || over[1][8] != "1" {
		t.Errorf("overview %q", over)
	}
	waiting, _ := f.GetRows("待确认来信")
	if len(waiting) != 2 || waiting[1][2] != "who@example.com" {
		t.Errorf("waiting %q", waiting)
	}
}

func TestExportBadInput(t *testing.T) {
	st, ros := fixture(t)
	now := time.Date(2026, 2, 10, 12, 0, 0, 0, cst)
	if _, err := Export(&bytes.Buffer{}, st, ros, now, "pdf", "", ""); err == nil || !strings.Contains(err.Error(), "xlsx or csv") {
		t.Errorf("format pdf: %v", err)
	}
	if _, err := Export(&bytes.Buffer{}, st, ros, now, "csv", "nope", ""); err == nil {
		t.Error("unknown campaign accepted")
	}
}

// A campaign that nobody owes (a roster without units, e.g. an empty units_file): export still works.
func TestNoUnits(t *testing.T) {
	ros, err := roster.New(nil, []roster.Campaign{{ID: "c", Title: "任务", Opens: date(t, "2026-01-01"), Due: date(t, "2026-01-31")}}, cst)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "b.db"), store.Options{Location: cst})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, cst)
	for _, format := range []string{"xlsx", "csv"} {
		var buf bytes.Buffer
		if _, err := Export(&buf, st, ros, now, format, "", ""); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if buf.Len() < 3 {
			t.Errorf("%s: empty output", format)
		}
	}
}

func TestSheetName(t *testing.T) {
	used := map[string]bool{}
	for _, c := range []struct{ in, want string }{
		{"a/b:c", "a_b_c"},
		{strings.Repeat("长", 40), strings.Repeat("长", 31)},
		{strings.Repeat("长", 40), strings.Repeat("长", 29) + "~2"},
		{"A/B:C", "A_B_C~2"},
		{"", "Sheet"},
	} {
		if got := sheetName(c.in, used); got != c.want {
			t.Errorf("sheetName(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

// TestStatusCache: the cached status is the one computed afresh, and it is computed again after a new
// receipt, a change of the roster, another campaign or another day; otherwise the same is returned.
func TestStatusCache(t *testing.T) {
	st, ros := fixture(t)
	var c StatusCache
	now := time.Date(2026, 2, 10, 9, 0, 0, 0, cst)
	check := func(what string, ros *roster.Roster, campaign string, now time.Time, wantSame bool, prev []roster.PeriodStatus) []roster.PeriodStatus {
		t.Helper()
		got, n, err := c.Status(st, ros, campaign, now)
		if err != nil {
			t.Fatal(err)
		}
		want, wn, err := StoreStatus(st, ros, campaign, now)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) || n != wn {
			t.Errorf("%s: cached status differs from a fresh one:\n%v %d\n%v %d", what, got, n, want, wn)
		}
		if same := prev != nil && len(got) > 0 && &got[0] == &prev[0]; same != wantSame {
			t.Errorf("%s: reused the cached status: %v, want %v", what, same, wantSame)
		}
		return got
	}
	s1 := check("first", ros, "", now, false, nil)
	s1 = check("again", ros, "", now.Add(time.Hour), true, s1)
	s1 = check("next day", ros, "", now.Add(24*time.Hour), false, s1)
	s1 = check("one campaign", ros, "study", now.Add(24*time.Hour), false, s1)
	if _, _, err := st.Record(&store.Receipt{Received: now, MessageID: "<4@x>", From: "quiet@example.cn", Unit: "quiet",
		Match: "address", Campaign: "study", Period: "2026-01", Verdict: store.VerdictAccepted,
		Attachments: []store.Attachment{{Filename: "a.pdf", Verdict: "ok", Pages: 1}}}, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	s1 = check("a new receipt", ros, "study", now.Add(24*time.Hour), false, s1)
	ros2, err := roster.New(ros.Units()[:2], ros.Campaigns(), cst)
	if err != nil {
		t.Fatal(err)
	}
	check("another roster", ros2, "study", now.Add(24*time.Hour), false, s1)
}

// TestStatusCacheFollowsReceipts: after every kind of change a store sees — new receipts (at the same
// moment as others, unassigned, not submissions), a reply sent, a question answered, a receipt assigned
// or rechecked, a receipt of an earlier year numbered before the others — the cached status is the one
// computed afresh; new receipts and changes that do not touch the status are added to what was counted,
// not counted again with every receipt, and only the period a new receipt is in is worked out again.
func TestStatusCacheFollowsReceipts(t *testing.T) {
	st, ros := fixture(t)
	var c StatusCache
	now := time.Date(2026, 4, 10, 9, 0, 0, 0, cst)
	rng := rand.New(rand.NewPCG(1, 2))
	units := []string{"xinfu", "evil", "quiet", ""}
	places := [][2]string{{"study", "2026-01"}, {"monthly", "2026-01"}, {"monthly", "2026-02"}, {"monthly", "2026-03"}}
	times := []time.Time{time.Date(2026, 1, 20, 9, 0, 0, 0, cst), time.Date(2026, 2, 1, 0, 0, 0, 0, cst),
		time.Date(2026, 2, 27, 23, 59, 0, 0, cst), time.Date(2026, 3, 31, 16, 0, 0, 0, cst)}
	files := func(usable bool) []store.Attachment {
		if usable {
			return []store.Attachment{{Filename: "a.pdf", Verdict: "ok", Pages: 1}}
		}
		return []store.Attachment{{Filename: "a.doc", Verdict: "reject"}}
	}
	var numbers []string
	var prev []roster.PeriodStatus
	check := func(step int, what string, wantCounted bool) {
		t.Helper()
		before := c.counted
		got, n, err := c.Status(st, ros, "", now)
		if err != nil {
			t.Fatal(err)
		}
		if !wantCounted && len(got) == len(prev) { // one receipt changes one period at most: the others are kept
			kept := 0
			for i := range got {
				if len(got[i].Units) > 0 && &got[i].Units[0] == &prev[i].Units[0] {
					kept++
				}
			}
			if kept < len(got)-1 {
				t.Errorf("step %d, %s: %d of %d periods worked out again", step, what, len(got)-kept, len(got))
			}
		}
		prev = got
		want, wn, err := StoreStatus(st, ros, "", now)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) || n != wn {
			t.Fatalf("step %d, %s: cached status differs from a fresh one:\n%v %d\n%v %d", step, what, got, n, want, wn)
		}
		if counted := c.counted > before; counted && !wantCounted {
			t.Errorf("step %d, %s: every receipt was counted again", step, what)
		}
	}
	check(0, "first", true)
	for step := 1; step <= 300; step++ {
		switch op := rng.IntN(10); {
		case op < 5 || len(numbers) == 0: // a new receipt
			u, pl := units[rng.IntN(len(units))], places[rng.IntN(len(places))]
			r := &store.Receipt{Received: times[rng.IntN(len(times))], MessageID: fmt.Sprintf("<r%d@x>", step),
				From: "a@example.cn", Unit: u, Match: "address", Campaign: pl[0], Period: pl[1], Verdict: store.VerdictAccepted,
				Attachments: files(rng.IntN(3) > 0)}
			if u == "" {
				r.Match, r.Campaign, r.Period = "none", "", ""
			}
			if rng.IntN(10) == 0 {
				r.Verdict = store.VerdictIgnored
			}
			n, _, err := st.Record(r, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			numbers = append(numbers, n)
			check(step, "new receipt "+n, false)
		case op < 7: // the reply sent, or a question answered: nothing the status reads
			n := numbers[rng.IntN(len(numbers))]
			if err := st.UpdateReceipt(n, func(r *store.Receipt) error {
				r.Reply, r.Answered = store.ReplySent, now
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			check(step, "reply of "+n, false)
		case op < 8: // assigned to another unit
			n := numbers[rng.IntN(len(numbers))]
			if err := st.UpdateReceipt(n, func(r *store.Receipt) error {
				pl := places[rng.IntN(len(places))]
				r.Unit, r.Match, r.Campaign, r.Period = units[rng.IntN(3)], "manual", pl[0], pl[1]
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			check(step, "assign "+n, true)
		case op < 9: // rechecked: its files are usable now, or no longer
			n := numbers[rng.IntN(len(numbers))]
			if err := st.UpdateReceipt(n, func(r *store.Receipt) error {
				r.Attachments = files(!r.Counts())
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			check(step, "recheck "+n, true)
		default: // mail dated last year: numbered before every receipt of this year
			n, _, err := st.Record(&store.Receipt{Received: time.Date(2025, 12, 31, 9, 0, 0, 0, cst),
				MessageID: fmt.Sprintf("<old%d@x>", step), From: "a@example.cn", Unit: "xinfu", Match: "address",
				Campaign: "study", Period: "2026-01", Verdict: store.VerdictAccepted, Attachments: files(true)}, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			check(step, "last year's "+n, true)
		}
	}
	if c.counted > 120 {
		t.Errorf("every receipt was counted %d times in 300 steps", c.counted)
	}
}

// TestText: columns line up on a terminal, Chinese characters counted as two columns.
func TestText(t *testing.T) {
	tb := &Text{Header: []string{"单位", "状态", "回执编号"}, Indent: "  "}
	tb.Add("忻府区教育科技局", "已报送", "JB2026-0001")
	tb.Add("school-1", "未报送", "")
	tb.Add("Ｘ中学", "-", "JB2026-0002")
	var b strings.Builder
	tb.Write(&b)
	want := "  单位              状态    回执编号\n" +
		"  忻府区教育科技局  已报送  JB2026-0001\n" +
		"  school-1          未报送  \n" +
		"  Ｘ中学            -       JB2026-0002\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
