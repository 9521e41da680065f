package robot_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"briefd/robot"
)

var cst = time.FixedZone("CST", 8*3600)

func TestSummaryMessage(t *testing.T) {
	m := summary()
	want := "忻州市教育局职业教育科\n\n" +
		"**职业学校安全月报 · 2026年11月**（11月30日 截止）\n" +
		"共 18 个单位：按时 12，逾期 1，需重报 1，未报 4\n" +
		"- 未报：忻府区职业中学、原平市职教中心、定襄县职业中学、五台县职业中学\n" +
		"- 需重报：代县职业中学\n" +
		"\n[打开控制台](https://briefd.example.cn/)\n"
	if m.Title != "报送周报" || m.Markdown != want {
		t.Errorf("got %q\n%s\nwant\n%s", m.Title, m.Markdown, want)
	}
	closed := robot.SummaryMessage("", []robot.PeriodCounts{{Campaign: "年报", Due: "1月31日", Closed: true, Units: 2, Reported: 2}}, "")
	if !strings.Contains(closed.Markdown, "（1月31日 已截止）") || strings.Contains(closed.Markdown, "[打开控制台]") || strings.Contains(closed.Markdown, "未报：") {
		t.Errorf("closed period, no link, nobody missing:\n%s", closed.Markdown)
	}
	if none := robot.SummaryMessage("科", nil, ""); !strings.Contains(none.Markdown, "没有进行中的报送任务") {
		t.Errorf("no periods: %s", none.Markdown)
	}
}

func TestNamesAreCapped(t *testing.T) {
	var ns []string
	for i := range robot.MaxNames + 5 {
		ns = append(ns, fmt.Sprintf("第%d中学", i+1))
	}
	m := robot.SummaryMessage("", []robot.PeriodCounts{{Campaign: "月报", Absent: ns}}, "")
	if !strings.Contains(m.Markdown, fmt.Sprintf("第%d中学 等 %d 个单位", robot.MaxNames, robot.MaxNames+5)) ||
		strings.Contains(m.Markdown, fmt.Sprintf("第%d中学", robot.MaxNames+1)) {
		t.Errorf("names not capped at %d:\n%s", robot.MaxNames, m.Markdown)
	}
}

func TestReminderMessage(t *testing.T) {
	m := robot.ReminderMessage("职教科", []robot.ReminderPeriod{
		{Campaign: "安全月报", Period: "2026年11月", Due: "11月30日", DaysLeft: 3, Absent: []string{"甲校", "乙校"}, Resend: []string{"丙校"}},
		{Campaign: "年报", Due: "11月27日", DaysLeft: 0, Absent: []string{"丁校"}},
		{Campaign: "季报", Due: "11月20日", DaysLeft: -7},
	}, "https://briefd.example.cn/status")
	for _, want := range []string{
		"**安全月报 · 2026年11月**：11月30日 截止，还有 3 天\n- 未报（2）：甲校、乙校\n- 需重报（1）：丙校\n",
		"**年报**：今天（11月27日）截止\n- 未报（1）：丁校\n",
		"**季报**：11月20日 已截止\n- 各单位均已报送\n",
		"[打开控制台](https://briefd.example.cn/status)",
	} {
		if !strings.Contains(m.Markdown, want) {
			t.Errorf("reminder lacks %q:\n%s", want, m.Markdown)
		}
	}
	if m.Title != "报送提醒" {
		t.Errorf("title %q", m.Title)
	}
}

func TestAlertMessage(t *testing.T) {
	since := time.Date(2026, 11, 23, 0, 29, 0, 0, time.UTC).In(cst)
	down := robot.AlertMessage(true, since, "imap: dial tcp 220.181.12.100:993: i/o timeout\n(retrying)")
	if down.Title != "报送邮箱告警：无法读取" || !strings.Contains(down.Markdown, "自 11月23日 08:29 起无法读取报送邮箱") ||
		!strings.Contains(down.Markdown, "- 最近的错误：imap: dial tcp 220.181.12.100:993: i/o timeout （retrying）") {
		t.Errorf("down:\n%s\n%s", down.Title, down.Markdown)
	}
	up := robot.AlertMessage(false, since, "")
	if up.Title != "报送邮箱恢复" || !strings.Contains(up.Markdown, "已恢复读取（自 11月23日 08:29 起中断）") || strings.Contains(up.Markdown, "错误") {
		t.Errorf("up:\n%s\n%s", up.Title, up.Markdown)
	}
	long := robot.AlertMessage(true, since, strings.Repeat("错", 1000))
	if n := strings.Count(long.Markdown, "错"); n > 301 {
		t.Errorf("a long error is not cut: %d characters", n)
	}
}

func TestProblemMessage(t *testing.T) {
	m := robot.ProblemMessage("JB2026-0012", "王老师 <wang_ls@163.com>", "11月安全月报", robot.ProblemSpoofed, "https://briefd.example.cn/receipt/JB2026-0012")
	want := "**" + robot.ProblemSpoofed + "**\n- 回执：JB2026-0012\n- 发件人：王老师 ＜wang_ls@163.com＞\n- 主题：11月安全月报\n\n[查看回执](https://briefd.example.cn/receipt/JB2026-0012)\n"
	if m.Title != "报送待处理：JB2026-0012" || m.Markdown != want {
		t.Errorf("got %q\n%s\nwant\n%s", m.Title, m.Markdown, want)
	}
}

// Text from mail cannot post a link, an image, HTML (WeCom's <font>, Feishu's <at id=all>) or
// emphasis into the office's chat.
func TestMailTextIsInert(t *testing.T) {
	evil := "[点此重新报送](https://evil.example/phish) <at id=all></at> <font color=\"warning\">急</font> **粗** `code` ![x](https://evil.example/x.png) # 标题 ~~删~~ | a | \\*"
	msgs := []robot.Message{
		robot.ProblemMessage(evil, evil, evil, evil, ""),
		robot.SummaryMessage(evil, []robot.PeriodCounts{{Campaign: evil, Period: evil, Due: evil, Absent: []string{evil}, Resend: []string{evil}}}, ""),
		robot.ReminderMessage(evil, []robot.ReminderPeriod{{Campaign: evil, Due: evil, Absent: []string{evil}}}, ""),
		robot.AlertMessage(true, time.Now(), evil),
		robot.TestMessage(evil, time.Now()),
	}
	for _, m := range msgs {
		md := m.Markdown
		for _, bad := range []string{"](", "[点", "<at", "<font", "`", "![", "~~", "\\*", "# 标题"} {
			if strings.Contains(md, bad) {
				t.Errorf("%s: %q survives:\n%s", m.Title, bad, md)
			}
		}
		// Our own bold survives, theirs does not.
		if strings.Contains(md, "**粗**") {
			t.Errorf("%s: their bold survives", m.Title)
		}
	}
}

func TestLinks(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://briefd.example.cn/", "[打开控制台](https://briefd.example.cn/)"},
		{"http://10.0.0.5:8080/status", "[打开控制台](http://10.0.0.5:8080/status)"},
		{"https://x.example/a b(c)", "[打开控制台](https://x.example/a%20b%28c%29)"},
		{"javascript:alert(1)", ""},
		{"/relative", ""},
		{"", ""},
	}
	for _, tc := range tests {
		md := robot.SummaryMessage("", nil, tc.in).Markdown
		if tc.want == "" && strings.Contains(md, "](") || tc.want != "" && !strings.Contains(md, tc.want) {
			t.Errorf("link %q: %q", tc.in, md)
		}
	}
}

func TestTestMessage(t *testing.T) {
	m := robot.TestMessage("职教科群", time.Date(2026, 11, 23, 0, 30, 0, 0, time.UTC))
	if !strings.HasPrefix(m.Title, robot.TitleMark) || !strings.Contains(m.Markdown, "**职教科群**") || !strings.Contains(m.Markdown, "2026年11月23日 08:30:00") {
		t.Errorf("%q\n%s", m.Title, m.Markdown)
	}
}

// A Message goes into the outbox as JSON and comes back the same.
func TestMessageJSON(t *testing.T) {
	m := summary()
	m.Text = "纯文本"
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back robot.Message
	if err := json.Unmarshal(b, &back); err != nil || back != m {
		t.Errorf("round trip: %v\n%+v", err, back)
	}
}
