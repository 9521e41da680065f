package notify

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"briefd/roster"
	"briefd/store"
)

func lineUnits(ls []RemindLine) string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Campaign+"/"+l.Period+"/"+l.Unit)
	}
	return strings.Join(out, ",")
}

// reminderText returns the subject and text of the last reminder queued to `to`.
func reminderText(t *testing.T, e *env, to string) (string, string) {
	t.Helper()
	var msg []byte
	for _, it := range e.items(t) {
		if it.Kind == store.KindReminder && it.To == to {
			msg = it.Message
		}
	}
	if msg == nil {
		t.Fatalf("no reminder to %s", to)
	}
	mr, err := mail.CreateReader(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	subj, _ := mr.Header.Subject()
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(p.Body)
	return subj, string(body)
}

// TestRemindNow: the office's 催报 reminds the units that have not reported in the current period,
// whatever the reminder days; the once-per-unit-per-day rule holds with the scheduler's reminders;
// overdue periods are reminded as such; closed campaigns are not.
func TestRemindNow(t *testing.T) {
	e := newEnv(t, nil)
	summaryFixture(t, e) // xinfu reported study; dingxiang rejected only; xinfu's January monthly comes on 02-02
	s := newSched(t, e, noHealth)
	now := at(2026, 1, 20, 16, 0, shanghai) // not a reminder day
	var audited []RemindResult
	audit := func(r RemindResult) *store.AuditEntry {
		audited = append(audited, r)
		return &store.AuditEntry{At: now, Action: "remind", Detail: lineUnits(r.Sent)}
	}
	res, err := s.RemindNow(now, RemindFilter{}, audit)
	if err != nil {
		t.Fatal(err)
	}
	if got := lineUnits(res.Sent); got != "zjdh-study/2026-01/dingxiang,zjdh-monthly/2026-01/xinfu" {
		t.Errorf("sent %s", got)
	}
	if len(res.Skipped) != 0 || len(reminderTos(t, e)) != 2 {
		t.Errorf("skipped %v, queued %v", res.Skipped, reminderTos(t, e))
	}
	if len(audited) != 1 || lineUnits(audited[0].Sent) != lineUnits(res.Sent) {
		t.Errorf("the audit entry saw %+v", audited)
	}
	if es, _ := e.st.AuditLog(time.Time{}); len(es) != 1 || es[0].Detail != lineUnits(res.Sent) {
		t.Errorf("audit log %+v", es)
	}
	if res.Sent[0].Title != "学习贯彻全省职教大会精神情况简报" || res.Sent[0].Due != "2026-01-31" || res.Sent[0].UnitName != "定襄县教育局" ||
		strings.Join(res.Sent[0].To, ",") != "dx@example.cn" {
		t.Errorf("line %+v", res.Sent[0])
	}
	subj, body := reminderText(t, e, "dx@example.cn")
	if !strings.Contains(subj, "催报：请报送《学习贯彻全省职教大会精神情况简报》") || !strings.Contains(body, "还有 11 天") {
		t.Errorf("reminder:\n%s\n%s", subj, body)
	}

	// The same day again, by hand or by the scheduler: nobody gets a second one.
	res, err = s.RemindNow(now.Add(time.Hour), RemindFilter{Campaign: "zjdh-study"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sent) != 0 || lineUnits(res.Skipped) != "zjdh-study/2026-01/dingxiang" || res.Skipped[0].Why != SkipToday {
		t.Errorf("second time today: sent %v, skipped %+v", res.Sent, res.Skipped)
	}
	if got := len(reminderTos(t, e)); got != 2 {
		t.Errorf("%d reminders queued after the second press", got)
	}
	// A scheduled reminder on a reminder day blocks the button the same day.
	day := at(2026, 1, 28, 9, 0, shanghai)
	tick(t, s, day)
	before := len(reminderTos(t, e))
	res, err = s.RemindNow(day.Add(time.Hour), RemindFilter{Unit: "dingxiang"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sent) != 0 || lineUnits(res.Skipped) != "zjdh-study/2026-01/dingxiang" || len(reminderTos(t, e)) != before {
		t.Errorf("after the scheduler's reminder: sent %v skipped %v", res.Sent, res.Skipped)
	}

	// After the due date: the period is overdue; the text says so.
	late := at(2026, 2, 5, 10, 0, shanghai)
	res, err = s.RemindNow(late, RemindFilter{Campaign: "zjdh-study"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lineUnits(res.Sent) != "zjdh-study/2026-01/dingxiang" {
		t.Fatalf("overdue: sent %v", res.Sent)
	}
	subj, body = reminderText(t, e, "dx@example.cn")
	if !strings.Contains(subj, "请补报") || !strings.Contains(body, "已过截止日期 5 天") || strings.Contains(body, "还有") {
		t.Errorf("overdue reminder:\n%s\n%s", subj, body)
	}
}

// TestRemindNowSkips: a unit without an address is named as skipped; a closed campaign reminds nobody.
func TestRemindNowSkips(t *testing.T) {
	e := newEnv(t, nil)
	d := func(s string) roster.Date { x, _ := roster.ParseDate(s); return x }
	ros, err := roster.New([]roster.Unit{
		{ID: "xinfu", Name: "忻府区教育科技局", Emails: []string{"xinfu-jky@example.cn"}},
		{ID: "paper", Name: "只交纸质的学校"},
	}, []roster.Campaign{
		{ID: "open", Title: "进行中", Opens: d("2026-01-05"), Due: d("2026-01-31")},
		{ID: "closed", Title: "已关闭", Opens: d("2026-01-05"), Due: d("2026-01-31"), Closed: d("2026-01-10")},
	}, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	s := newSched(t, e, func(o *SchedulerOptions) { noHealth(o); o.Roster = func() *roster.Roster { return ros } })
	res, err := s.RemindNow(at(2026, 1, 20, 10, 0, shanghai), RemindFilter{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lineUnits(res.Sent) != "open/2026-01/xinfu" || lineUnits(res.Skipped) != "open/2026-01/paper" || res.Skipped[0].Why != SkipNoAddress {
		t.Errorf("sent %v, skipped %+v", res.Sent, res.Skipped)
	}
	tick(t, s, at(2026, 1, 28, 9, 0, shanghai)) // a reminder day: the closed campaign is not reminded of
	for _, it := range e.items(t) {
		if strings.Contains(it.Subject, "已关闭") {
			t.Errorf("reminder of a closed campaign: %s", it.Subject)
		}
	}
}

func TestNotice(t *testing.T) {
	e := newEnv(t, nil)
	c, _ := e.ros.Campaign("zjdh-monthly")
	text, err := e.n.Notice(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"关于报送《职业教育大会筹备召开情况》的通知", "忻府区教育科技局：", "每月月底前", "2026年4月30日止",
		"PDF格式", officeAddr, "王老师", "忻州市教育局职业教育科\n2026年1月20日"} {
		if !strings.Contains(text, want) {
			t.Errorf("notice lacks %q:\n%s", want, text)
		}
	}
	c, _ = e.ros.Campaign("zjdh-study")
	text, _ = e.n.Notice(c)
	if !strings.Contains(text, "各报送单位：") || !strings.Contains(text, "请于2026年1月31日前报送") {
		t.Errorf("notice of a once campaign for every unit:\n%s", text)
	}
}
