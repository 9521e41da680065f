package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"briefd/robot"
	"briefd/store"
)

// posts returns the robot posts in the outbox, by robot name, as their messages.
func posts(t *testing.T, e *env) map[string][]robot.Message {
	t.Helper()
	out := map[string][]robot.Message{}
	for _, it := range e.items(t) {
		if it.Kind != store.KindRobot {
			continue
		}
		var m robot.Message
		if len(it.Message) > 0 {
			if err := json.Unmarshal(it.Message, &m); err != nil {
				t.Fatal(err)
			}
		}
		m.Title = it.Subject + "|" + m.Title
		out[it.To] = append(out[it.To], m)
	}
	return out
}

// Each event goes to the robots that post it, once however often the scheduler ticks or restarts, in
// the same transaction as its mail; an office without summary_to still gets the robots' posts.
func TestRobotPosts(t *testing.T) {
	robots := []Robot{
		{Name: "全部", Events: robot.Events},
		{Name: "只要周报", Events: []robot.Event{robot.EventSummary}},
	}
	e := newEnv(t, func(o *Options) { o.Robots, o.DashboardURL = robots, "https://briefd.example.cn/" })
	summaryFixture(t, e)
	if err := e.st.SetMark("imap:last_ok", at(2026, 1, 26, 8, 0, shanghai)); err != nil {
		t.Fatal(err)
	}
	noMail := func(o *SchedulerOptions) { o.SummaryTo = nil }
	for _, now := range []time.Time{at(2026, 1, 26, 8, 40, shanghai), at(2026, 1, 26, 9, 0, shanghai), at(2026, 1, 28, 9, 5, shanghai),
		at(2026, 1, 28, 9, 30, shanghai), at(2026, 1, 28, 12, 0, shanghai), at(2026, 1, 28, 12, 10, shanghai)} {
		if now.Hour() == 12 && now.Minute() == 10 {
			e.st.SetMark("imap:last_ok", now) // the mailbox is read again
		}
		tick(t, newSched(t, e, noMail), now) // a restart before every tick
	}
	got := posts(t, e)
	var titles []string
	for _, m := range got["全部"] {
		titles = append(titles, strings.SplitN(m.Title, "|", 2)[0])
	}
	if strings.Join(titles, ",") != "summary,reminder,alert,alert" {
		t.Errorf("robot 全部 got %v, want summary, reminder, alert (down), alert (up)", titles)
	}
	if len(got["只要周报"]) != 1 || !strings.HasPrefix(got["只要周报"][0].Title, "summary|") {
		t.Errorf("robot 只要周报 got %+v", got["只要周报"])
	}
	if k := kinds(t, e); k[store.KindSummary]+k[store.KindAlert] != 0 || k[store.KindReminder] != 2 {
		t.Errorf("mails without summary_to: %v; want only the units' reminders", k)
	}
	sum, rem := got["全部"][0], got["全部"][1]
	for _, want := range []string{"学习贯彻全省职教大会精神情况简报", "需重报", "定襄县教育局", "https://briefd.example.cn/"} {
		if !strings.Contains(sum.Markdown, want) {
			t.Errorf("summary post lacks %q:\n%s", want, sum.Markdown)
		}
	}
	for _, want := range []string{"1月31日", "定襄县教育局"} {
		if !strings.Contains(rem.Markdown, want) {
			t.Errorf("reminder post lacks %q:\n%s", want, rem.Markdown)
		}
	}
	if down := got["全部"][2]; !strings.Contains(down.Markdown, "1月26日 08:00") {
		t.Errorf("alert post does not say since when:\n%s", down.Markdown)
	}
}

// Problem says which receipts need a person, and ProblemItems queues one post per robot for them.
func TestProblemItems(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Robots = []Robot{{Name: "群", Events: []robot.Event{robot.EventProblems}}, {Name: "不要", Events: []robot.Event{robot.EventSummary}}}
	})
	for _, c := range []struct {
		r    store.Receipt
		want string
	}{
		{store.Receipt{Verdict: store.VerdictAccepted, Unit: "xinfu"}, ""},
		{store.Receipt{Verdict: store.VerdictAccepted}, robot.ProblemUnmatched},
		{store.Receipt{Verdict: store.VerdictIgnored, Category: store.CategoryStranger}, ""},
		{store.Receipt{Verdict: store.VerdictRejected, Unit: "xinfu"}, robot.ProblemRejected},
		{store.Receipt{Verdict: store.VerdictFailed}, robot.ProblemFailed},
		{store.Receipt{Verdict: store.VerdictAccepted, Unit: "xinfu", Auth: "fail"}, robot.ProblemSpoofed},
		{store.Receipt{Verdict: store.VerdictRejected, Unit: "xinfu", History: true}, ""},
	} {
		if got := Problem(&c.r); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
		items := e.n.ProblemItems(&c.r)
		if (c.want != "") != (len(items) == 1) || len(items) == 1 && (items[0].To != "群" || items[0].Kind != store.KindRobot) {
			t.Errorf("%+v: items %+v", c.r, items)
		}
	}
}
