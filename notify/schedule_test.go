package notify

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/xuri/excelize/v2"

	"briefd/internal/mailtest"
	"briefd/report"
	"briefd/roster"
	"briefd/store"
)

const headAddr = "head@example.cn"

// newSched is a scheduler on the env's store: summary Monday 08:30, reminders 3 and 1 days before the
// due date at 09:00, alert after 2h. Each call is a "restart": a fresh scheduler on the same store.
func newSched(t *testing.T, e *env, mod func(*SchedulerOptions)) *Scheduler {
	t.Helper()
	o := SchedulerOptions{SummaryTo: []string{headAddr}, SummaryWeekday: "monday", SummaryAt: "08:30",
		RemindDays: []int{3, 1}, RemindAt: "09:00", AlertAfter: 2 * time.Hour, Now: e.clk.Now}
	if mod != nil {
		mod(&o)
	}
	s, err := NewScheduler(o, e.st, e.n, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func at(y int, m time.Month, d, h, min int, loc *time.Location) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, loc)
}

// kinds counts outbox items by kind.
func kinds(t *testing.T, e *env) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, it := range e.items(t) {
		out[it.Kind]++
	}
	return out
}

func tick(t *testing.T, s *Scheduler, now time.Time) {
	t.Helper()
	if err := s.Tick(context.Background(), now); err != nil {
		t.Fatalf("tick at %s: %v", now, err)
	}
}

// noHealth keeps the health alert out of tests about other jobs.
func noHealth(o *SchedulerOptions) { o.AlertAfter = -1 }

func TestSummaryFiresInOfficeTime(t *testing.T) {
	e := newEnv(t, nil)
	s := newSched(t, e, noHealth)
	// Monday 2026-01-19 08:30 Beijing time is 00:30 UTC.
	tick(t, s, time.Date(2026, 1, 19, 0, 29, 59, 0, time.UTC))
	if n := kinds(t, e)[store.KindSummary]; n != 0 {
		t.Fatalf("summary queued before 08:30 Beijing time: %d", n)
	}
	tick(t, s, time.Date(2026, 1, 19, 0, 30, 0, 0, time.UTC))
	if n := kinds(t, e)[store.KindSummary]; n != 1 {
		t.Fatalf("summary not queued at 08:30 Beijing time (00:30 UTC): %d", n)
	}
	tick(t, s, time.Date(2026, 1, 19, 8, 30, 0, 0, time.UTC)) // 08:30 UTC: nothing more
	if n := kinds(t, e)[store.KindSummary]; n != 1 {
		t.Fatalf("%d summaries after 08:30 UTC, want 1", n)
	}
	if _, ok, _ := e.st.Mark("summary:2026-W04"); !ok {
		t.Error("mark summary:2026-W04 not set")
	}

	// An office in UTC gets it at 08:30 UTC, not at 08:30 Beijing time.
	e2 := newEnv(t, func(o *Options) { o.Office.Location = time.UTC })
	s2 := newSched(t, e2, noHealth)
	tick(t, s2, time.Date(2026, 1, 19, 0, 30, 0, 0, time.UTC))
	if n := kinds(t, e2)[store.KindSummary]; n != 0 {
		t.Fatalf("UTC office: summary at 00:30 UTC")
	}
	tick(t, s2, time.Date(2026, 1, 19, 8, 30, 0, 0, time.UTC))
	if n := kinds(t, e2)[store.KindSummary]; n != 1 {
		t.Fatalf("UTC office: %d summaries at 08:30 UTC", n)
	}
}

func TestSummaryDownOverMonday(t *testing.T) {
	e := newEnv(t, nil)
	s := newSched(t, e, noHealth)
	tick(t, s, at(2026, 1, 12, 8, 30, shanghai)) // last week's summary
	tick(t, s, at(2026, 1, 18, 23, 0, shanghai)) // Sunday, then the daemon stops
	if n := kinds(t, e)[store.KindSummary]; n != 1 {
		t.Fatalf("%d summaries last week, want 1", n)
	}
	// It starts again on Tuesday: the week's summary goes out once.
	s = newSched(t, e, noHealth)
	for _, now := range []time.Time{at(2026, 1, 20, 10, 0, shanghai), at(2026, 1, 20, 10, 1, shanghai), at(2026, 1, 25, 23, 59, shanghai)} {
		tick(t, s, now)
	}
	if n := kinds(t, e)[store.KindSummary]; n != 2 {
		t.Fatalf("%d summaries after starting on Tuesday, want 2", n)
	}
	if _, ok, _ := e.st.Mark("summary:2026-W04"); !ok {
		t.Error("mark summary:2026-W04 not set")
	}
	// The next Monday is a new week.
	tick(t, s, at(2026, 1, 26, 8, 30, shanghai))
	if n := kinds(t, e)[store.KindSummary]; n != 3 {
		t.Fatalf("%d summaries after the next Monday, want 3", n)
	}
}

func TestSummaryRestartsOnMonday(t *testing.T) {
	e := newEnv(t, func(o *Options) {})
	for i, now := range []time.Time{at(2026, 1, 19, 8, 30, shanghai), at(2026, 1, 19, 8, 31, shanghai), at(2026, 1, 19, 14, 0, shanghai)} {
		s := newSched(t, e, func(o *SchedulerOptions) { noHealth(o); o.SummaryTo = []string{headAddr, "deputy@example.cn"} })
		tick(t, s, now)
		tick(t, s, now.Add(time.Minute))
		if n := kinds(t, e)[store.KindSummary]; n != 2 {
			t.Fatalf("after start %d: %d summary mails, want 2 (one per recipient)", i+1, n)
		}
	}
}

// TestSummaryWeekdaySunday: Sunday is the last day of an ISO week.
func TestSummaryWeekdaySunday(t *testing.T) {
	e := newEnv(t, nil)
	s := newSched(t, e, func(o *SchedulerOptions) { noHealth(o); o.SummaryWeekday = "sun"; o.SummaryAt = "18:00" })
	due, week := s.SummaryDue(at(2026, 1, 19, 9, 0, shanghai))
	if !due.Equal(at(2026, 1, 25, 18, 0, shanghai)) || week != "2026-W04" {
		t.Errorf("due %s week %s", due, week)
	}
	tick(t, s, at(2026, 1, 25, 17, 59, shanghai))
	tick(t, s, at(2026, 1, 26, 9, 0, shanghai)) // Monday of the next week: that week's is not due yet
	if n := kinds(t, e)[store.KindSummary]; n != 0 {
		t.Fatalf("%d summaries", n)
	}
	tick(t, s, at(2026, 1, 25, 18, 0, shanghai))
	if n := kinds(t, e)[store.KindSummary]; n != 1 {
		t.Fatalf("%d summaries", n)
	}
}

// summaryFixture records: xinfu reported study on time and monthly January late, dingxiang sent only a
// Word file for study, and a stranger wrote (with a hostile subject).
func summaryFixture(t *testing.T, e *env) {
	t.Helper()
	rec := func(r *store.Receipt) {
		t.Helper()
		if _, _, err := e.st.Record(r, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	rec(&store.Receipt{Received: at(2026, 1, 20, 14, 32, shanghai), MessageID: "<1@x>", From: "xinfu-jky@example.cn", Subject: "学习贯彻简报",
		Unit: "xinfu", Match: "address", Campaign: "zjdh-study", Period: "2026-01", Verdict: store.VerdictAccepted, Attachments: []store.Attachment{pdf("a.pdf", 3)}})
	rec(&store.Receipt{Received: at(2026, 1, 21, 9, 0, shanghai), MessageID: "<2@x>", From: "dx@example.cn", Subject: "简报",
		Unit: "dingxiang", Match: "address", Campaign: "zjdh-study", Period: "2026-01", Verdict: store.VerdictRejected, Attachments: []store.Attachment{bad("a.doc", "doc", "not_pdf_word")}})
	rec(&store.Receipt{Received: at(2026, 2, 2, 9, 0, shanghai), MessageID: "<3@x>", From: "xinfu-jky@example.cn", Subject: "1月筹备情况",
		Unit: "xinfu", Match: "address", Campaign: "zjdh-monthly", Period: "2026-01", Late: true, Verdict: store.VerdictAccepted, Attachments: []store.Attachment{pdf("b.pdf", 2)}})
	rec(&store.Receipt{Received: at(2026, 2, 3, 9, 0, shanghai), MessageID: "<4@x>", From: "who@example.com", Subject: `<script>alert(1)</script>`,
		Match: "none", Verdict: store.VerdictAccepted, Attachments: []store.Attachment{pdf("c.pdf", 1)}})
}

// TestSummaryMail queues the summary once (the outbox sends it as queued: outbox's TestOtherKinds),
// parses it back and opens the attachment: its counts match the store.
func TestSummaryMail(t *testing.T) {
	e := newEnv(t, nil)
	summaryFixture(t, e)
	if err := e.st.SetMark("imap:last_ok", at(2026, 2, 9, 8, 25, shanghai)); err != nil {
		t.Fatal(err)
	}
	now := at(2026, 2, 9, 8, 30, shanghai) // Monday
	e.clk.t = now
	s := newSched(t, e, noHealth)
	tick(t, s, now)
	tick(t, s, now.Add(time.Hour))
	items := e.items(t)
	if len(items) != 1 || items[0].Kind != store.KindSummary || items[0].To != headAddr || items[0].State != store.OutQueued {
		t.Fatalf("queued %d items (%+v); want one summary to %s", len(items), items, headAddr)
	}
	raw := items[0].Message
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if v := mr.Header.Get("Auto-Submitted"); v != "auto-generated" {
		t.Errorf("Auto-Submitted %q", v)
	}
	if v := mr.Header.Get("X-Auto-Response-Suppress"); v != "All" {
		t.Errorf("X-Auto-Response-Suppress %q", v)
	}
	if id := mr.Header.Get("Message-ID"); !e.n.OwnMessageID(id) {
		t.Errorf("Message-ID %q is not recognisably ours", id)
	}
	subj, err := mr.Header.Subject()
	if err != nil || !strings.Contains(subj, "报送情况周报") || !strings.Contains(subj, "2026年第7周") {
		t.Errorf("subject %q (%v)", subj, err)
	}
	var text, html string
	var xlsx []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p.Body)
		switch h := p.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ := h.ContentType()
			if ct == "text/plain" {
				text = string(body)
			} else if ct == "text/html" {
				html = string(body)
			}
		case *mail.AttachmentHeader:
			name, _ := h.Filename()
			if name != "briefd-summary-2026-W07.xlsx" {
				t.Errorf("attachment %q", name)
			}
			xlsx = body
		}
	}
	for _, want := range []string{"学习贯彻全省职教大会精神情况简报", "已报送 1，逾期报送 0，需重报 1，未报送 0",
		"职业教育大会筹备召开情况 · 2026年1月", "已报送 0，逾期报送 1", "职业教育大会筹备召开情况 · 2026年2月",
		"需重报（来信中没有可以打开的PDF）：\n  - 定襄县教育局", "待确认来信（发件地址未登记到任何单位）：1 封", "who@example.com",
		"最近一次成功检查邮箱：2026年2月9日 08:25", "待发送邮件：0 封"} {
		if !strings.Contains(strings.ReplaceAll(text, "\r\n", "\n"), want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if strings.Contains(html, "<script>") || !strings.Contains(html, "&lt;script&gt;") {
		t.Error("HTML does not escape the subject of a mail")
	}
	if !strings.Contains(html, "定襄县教育局") {
		t.Error("HTML lacks the rejected unit")
	}

	f, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	want := []string{"概览", "zjdh-study 2026-01", "zjdh-monthly 2026-01", "zjdh-monthly 2026-02", "待确认来信"}
	if strings.Join(sheets, "|") != strings.Join(want, "|") {
		t.Fatalf("sheets %q, want %q", sheets, want)
	}
	// Counts in the attachment match the store, computed independently from the receipts.
	rs, err := e.st.Receipts(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range sheets[1:4] {
		rows, _ := f.GetRows(sh)
		campaign, period, _ := strings.Cut(sh, " ")
		for _, r := range rows[1:] {
			unit, state := r[0], r[2]
			var usable, any bool
			for _, rc := range rs {
				if rc.Unit == unit && rc.Campaign == campaign && rc.Period == period {
					any = true
					usable = usable || rc.Counts()
				}
			}
			switch {
			case usable && state != "已报送" && state != "逾期报送",
				any && !usable && state != report.StateZH(roster.StateRejected),
				!any && state != "未报送":
				t.Errorf("%s: unit %s is %q in the attachment; store: mail %v usable %v", sh, unit, state, any, usable)
			}
		}
	}
	over, _ := f.GetRows("概览")
	if len(over) != 4 || strings.Join(over[1][4:], ",") != "2,1,0,1,0" {
		t.Errorf("overview %q", over)
	}
	waiting, _ := f.GetRows("待确认来信")
	if len(waiting) != 2 || waiting[1][2] != "who@example.com" {
		t.Errorf("waiting sheet %q", waiting)
	}
}

// TestSummaryNoUnits: a campaign that nobody owes (no units registered) still gives a summary.
func TestSummaryNoUnits(t *testing.T) {
	e := newEnv(t, nil)
	ros, err := roster.New(nil, []roster.Campaign{{ID: "c", Title: "空任务", Opens: roster.Date{Year: 2026, Month: 1, Day: 1},
		Due: roster.Date{Year: 2026, Month: 1, Day: 31}}}, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	s := newSched(t, e, func(o *SchedulerOptions) { noHealth(o); o.Roster = func() *roster.Roster { return ros } })
	sum, err := s.Summary(at(2026, 1, 19, 8, 30, shanghai))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sum.Text, "应报 0 个单位") || !strings.Contains(sum.Text, "尚未成功检查过邮箱") {
		t.Errorf("text:\n%s", sum.Text)
	}
	tick(t, s, at(2026, 1, 28, 9, 0, shanghai)) // a reminder day: nobody to remind
	if n := kinds(t, e)[store.KindReminder]; n != 0 {
		t.Errorf("%d reminders", n)
	}
}

func reminderTos(t *testing.T, e *env) []string {
	t.Helper()
	var out []string
	for _, it := range e.items(t) {
		if it.Kind == store.KindReminder {
			out = append(out, it.To)
		}
	}
	return out
}

// TestReminders: reminders go out 3 and 1 days before each due date at 09:00, only to units that have
// not reported (missing or rejected only), once per unit, period and day, across month ends.
func TestReminders(t *testing.T) {
	e := newEnv(t, nil)
	summaryFixture(t, e) // xinfu reported study; dingxiang rejected only; xinfu monthly January late (on 2 Feb)
	s := newSched(t, e, noHealth)
	step := func(now time.Time, want ...string) {
		t.Helper()
		before := len(reminderTos(t, e))
		s = newSched(t, e, noHealth) // a restart before every step changes nothing
		tick(t, s, now)
		tick(t, s, now)
		got := reminderTos(t, e)[before:]
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: reminders to %v, want %v", now.Format("01-02 15:04"), got, want)
		}
	}
	// Status is as of the tick: at 01-28 xinfu's monthly January PDF (received 02-02) has not come yet.
	step(at(2026, 1, 28, 8, 59, shanghai))
	step(at(2026, 1, 28, 9, 0, shanghai), "dx@example.cn", "xinfu-jky@example.cn") // study: dingxiang rejected; monthly Jan: xinfu
	step(at(2026, 1, 28, 15, 0, shanghai))                                         // same day again: nothing
	step(at(2026, 1, 29, 9, 0, shanghai))                                          // 2 days before: not a reminder day
	step(at(2026, 1, 30, 9, 0, shanghai), "dx@example.cn", "xinfu-jky@example.cn")
	step(at(2026, 1, 31, 9, 0, shanghai))
	step(at(2026, 2, 25, 9, 0, shanghai), "xinfu-jky@example.cn") // February has 28 days: due 02-28
	step(at(2026, 2, 27, 9, 0, shanghai), "xinfu-jky@example.cn")
	step(at(2026, 2, 28, 9, 0, shanghai))
	step(at(2026, 3, 28, 9, 0, shanghai), "xinfu-jky@example.cn") // March: due 03-31

	// The text says what, by when, where and how.
	var msg []byte
	for _, it := range e.items(t) {
		if it.Kind == store.KindReminder && it.To == "dx@example.cn" {
			msg = it.Message
			break
		}
	}
	mr, err := mail.CreateReader(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if v := mr.Header.Get("Auto-Submitted"); v != "auto-generated" {
		t.Errorf("Auto-Submitted %q", v)
	}
	subj, _ := mr.Header.Subject()
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(p.Body)
	for _, want := range []string{"学习贯彻全省职教大会精神情况简报", "2026年1月31日", officeAddr, "PDF格式", "没有可以打开的PDF文件", "定襄县教育局"} {
		if !strings.Contains(string(body)+subj, want) {
			t.Errorf("reminder lacks %q:\n%s\n%s", want, subj, body)
		}
	}
	if _, ok, _ := e.st.Mark("remind:zjdh-study:2026-01:dingxiang:2026-01-28"); !ok {
		t.Error("reminder mark not set")
	}
}

// TestReminderLateInTheDay: a daemon that starts at 15:00 on a reminder day still sends that day's
// reminders; one that starts the next day does not make them up.
func TestReminderLateInTheDay(t *testing.T) {
	e := newEnv(t, nil)
	s := newSched(t, e, noHealth)
	tick(t, s, at(2026, 1, 29, 9, 0, shanghai)) // the day after the 3-day reminder: nothing
	if got := reminderTos(t, e); len(got) != 0 {
		t.Fatalf("made up a missed day: %v", got)
	}
	tick(t, s, at(2026, 1, 30, 15, 0, shanghai))
	if got := reminderTos(t, e); len(got) != 3 { // study: xinfu, dingxiang; monthly: xinfu
		t.Fatalf("reminders %v", got)
	}
}

// TestMonthRollover: at the last second of January the monthly campaign has one period; at midnight
// Beijing time (16:00 UTC) February opens, and mail from then on is late for January.
func TestMonthRollover(t *testing.T) {
	e := newEnv(t, nil)
	s := newSched(t, e, noHealth)
	ros := s.o.Roster()
	c, _ := ros.Campaign("zjdh-monthly")
	before := time.Date(2026, 1, 31, 15, 59, 59, 0, time.UTC) // 23:59:59 Beijing
	after := before.Add(time.Second)
	if ps := ros.PeriodsUntil(c, before); len(ps) != 1 || ps[0].Key != "2026-01" {
		t.Errorf("periods before midnight: %v", ps)
	}
	if ps := ros.PeriodsUntil(c, after); len(ps) != 2 || ps[1].Key != "2026-02" || ps[1].Due.String() != "2026-02-28" {
		t.Errorf("periods after midnight: %v", ps)
	}
	p, _ := c.Period("2026-01")
	if ros.Late(p, before) || !ros.Late(p, after) {
		t.Error("late flag wrong at the month boundary")
	}
	sum, err := s.Summary(after)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, ps := range sum.Status {
		keys = append(keys, ps.Campaign+" "+ps.Period)
	}
	if strings.Join(keys, ",") != "zjdh-study 2026-01,zjdh-monthly 2026-01,zjdh-monthly 2026-02" {
		t.Errorf("summary periods %v", keys)
	}
	// 30 days after its due date a period leaves the summary.
	sum, _ = s.Summary(at(2026, 3, 3, 0, 0, shanghai))
	keys = keys[:0]
	for _, ps := range sum.Status {
		keys = append(keys, ps.Campaign+" "+ps.Period)
	}
	if strings.Join(keys, ",") != "zjdh-monthly 2026-02,zjdh-monthly 2026-03" {
		t.Errorf("summary periods in March %v", keys)
	}
}

// TestHealthAlert: no mailbox check for 2h: one alert; it stays one through restarts; recovery: one
// more mail; a later outage alerts again.
func TestHealthAlert(t *testing.T) {
	e := newEnv(t, nil)
	t0 := at(2026, 1, 20, 10, 0, shanghai)
	if err := e.st.SetMark("imap:last_ok", t0); err != nil {
		t.Fatal(err)
	}
	noSummary := func(o *SchedulerOptions) { o.SummaryWeekday = "sunday"; o.RemindDays = nil }
	s := newSched(t, e, noSummary)
	alerts := func() []*store.OutboxItem {
		var out []*store.OutboxItem
		for _, it := range e.items(t) {
			if it.Kind == store.KindAlert {
				out = append(out, it)
			}
		}
		return out
	}
	tick(t, s, t0.Add(119*time.Minute))
	if n := len(alerts()); n != 0 {
		t.Fatalf("%d alerts before 2h", n)
	}
	tick(t, s, t0.Add(3*time.Hour))
	tick(t, s, t0.Add(4*time.Hour))
	s = newSched(t, e, noSummary)
	tick(t, s, t0.Add(5*time.Hour))
	a := alerts()
	if len(a) != 1 {
		t.Fatalf("%d alerts during one outage, want 1", len(a))
	}
	if dec, _ := new(mime.WordDecoder).DecodeHeader(a[0].Subject); !strings.Contains(dec, "邮箱已 3 小时无法检查") {
		t.Errorf("alert subject %q", a[0].Subject)
	}
	if !bytes.Contains(a[0].Message, []byte("Auto-Submitted: auto-generated")) {
		t.Error("alert lacks Auto-Submitted")
	}
	// It recovers.
	e.st.SetMark("imap:last_ok", t0.Add(5*time.Hour+time.Minute))
	tick(t, s, t0.Add(5*time.Hour+2*time.Minute))
	tick(t, s, t0.Add(5*time.Hour+3*time.Minute))
	a = alerts()
	if len(a) != 2 || !strings.Contains(a[1].Subject, "恢复") {
		t.Fatalf("after recovery: %d alerts", len(a))
	}
	// A later outage.
	e.st.SetMark("imap:last_ok", t0.Add(6*time.Hour))
	tick(t, s, t0.Add(7*time.Hour))
	tick(t, s, t0.Add(8*time.Hour))
	if n := len(alerts()); n != 3 {
		t.Fatalf("second outage: %d alerts, want 3", n)
	}
	e.st.SetMark("imap:last_ok", t0.Add(9*time.Hour))
	tick(t, s, t0.Add(9*time.Hour))
	if n := len(alerts()); n != 4 {
		t.Fatalf("second recovery: %d alerts, want 4", n)
	}
}

// TestHealthNeverChecked: a daemon whose mailbox never answered alerts 2h after it started.
// TestHealthAlertLocalFault: when what stops the checks is this machine (a full disk), the alert says
// so and names the error, instead of sending the office to the mail server's settings.
func TestHealthAlertLocalFault(t *testing.T) {
	e := newEnv(t, nil)
	t0 := at(2026, 1, 20, 10, 0, shanghai)
	if err := e.st.SetMark("imap:last_ok", t0); err != nil {
		t.Fatal(err)
	}
	s := newSched(t, e, func(o *SchedulerOptions) {
		o.SummaryWeekday, o.RemindDays = "sunday", nil
		o.LastError = func() (string, bool) {
			return "intake: spooling part 2: write spool/att-1: no space left on device", true
		}
	})
	tick(t, s, t0.Add(3*time.Hour))
	items := e.items(t)
	if len(items) != 1 || items[0].Kind != store.KindAlert {
		t.Fatalf("outbox %+v", items)
	}
	text := mailtest.Render(t, items[0].Message)
	for _, want := range []string{"已 3 小时无法处理新邮件（本机故障）", "no space left on device", "磁盘已满"} {
		if !strings.Contains(text, want) {
			t.Errorf("alert lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "授权码") {
		t.Errorf("a local fault alert sends the office to the mail password:\n%s", text)
	}
}

func TestHealthNeverChecked(t *testing.T) {
	e := newEnv(t, nil)
	s := newSched(t, e, func(o *SchedulerOptions) { o.RemindDays = nil; o.SummaryWeekday = "sunday" })
	t0 := at(2026, 1, 20, 10, 0, shanghai)
	tick(t, s, t0)
	tick(t, s, t0.Add(2*time.Hour))
	if n := kinds(t, e)[store.KindAlert]; n != 1 {
		t.Fatalf("%d alerts", n)
	}
	e.st.SetMark("imap:last_ok", t0.Add(2*time.Hour+time.Minute))
	tick(t, s, t0.Add(2*time.Hour+2*time.Minute))
	if n := kinds(t, e)[store.KindAlert]; n != 2 {
		t.Fatalf("%d alerts after the first good check", n)
	}
}

// TestRun: Run ticks at start, signals wake when it queued mail and stops with ctx.
func TestSchedulerRun(t *testing.T) {
	e := newEnv(t, nil)
	e.clk.t = at(2026, 1, 19, 9, 0, shanghai)
	s := newSched(t, e, func(o *SchedulerOptions) { noHealth(o); o.Interval = 10 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	wake := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, wake) }()
	select {
	case <-wake:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake after the summary was queued")
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	if n := kinds(t, e)[store.KindSummary]; n != 1 {
		t.Errorf("%d summaries", n)
	}
}

func TestSchedulerOptionsErrors(t *testing.T) {
	e := newEnv(t, nil)
	_, err := NewScheduler(SchedulerOptions{SummaryWeekday: "moonday", SummaryAt: "25:00", SummaryTo: []string{"not an address"}}, e.st, e.n, nil)
	if err == nil {
		t.Fatal("bad options accepted")
	}
	for _, want := range []string{"moonday", "25:00", "not an address"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}
