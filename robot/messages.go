package robot

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Every title starts with TitleMark, so that a robot whose security setting is a keyword (DingTalk and
// Feishu 自定义关键词) can be given this one keyword and accept everything briefd posts.
const TitleMark = "报送"

// MaxNames is how many unit names a list shows; the rest are counted ("等 12 个单位").
const MaxNames = 40

// PeriodCounts is one campaign period in the weekly summary.
type PeriodCounts struct {
	Campaign string // the campaign's title, e.g. 2026年职业学校安全月报
	Period   string // e.g. 2026年1月; "" for a once campaign
	Due      string // the due date as the office writes it, e.g. 1月31日
	Closed   bool   // the due date has passed
	Units    int    // units that owe it
	Reported int    // on time
	Late     int
	Rejected int      // mail came, no usable PDF: must resend
	Missing  int      // nothing came
	Resend   []string // names of the units that must resend
	Absent   []string // names of the units still missing
}

// SummaryMessage is the weekly summary: per campaign period the counts, the units still missing and
// those to resend, and a link to the dashboard when dashboardURL is set.
func SummaryMessage(office string, periods []PeriodCounts, dashboardURL string) Message {
	var b strings.Builder
	if office != "" {
		fmt.Fprintf(&b, "%s\n", esc(office))
	}
	if len(periods) == 0 {
		b.WriteString("本周没有进行中的报送任务。\n")
	}
	for _, p := range periods {
		b.WriteString("\n**" + esc(periodName(p.Campaign, p.Period)) + "**")
		if p.Due != "" {
			state := "截止"
			if p.Closed {
				state = "已截止"
			}
			fmt.Fprintf(&b, "（%s %s）", esc(p.Due), state)
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "共 %d 个单位：按时 %d，逾期 %d，需重报 %d，未报 %d\n", p.Units, p.Reported, p.Late, p.Rejected, p.Missing)
		if len(p.Absent) > 0 {
			b.WriteString("- 未报：" + names(p.Absent) + "\n")
		}
		if len(p.Resend) > 0 {
			b.WriteString("- 需重报：" + names(p.Resend) + "\n")
		}
	}
	writeLink(&b, "打开控制台", dashboardURL)
	return Message{Title: TitleMark + "周报", Markdown: b.String()}
}

// ReminderPeriod is one period on a reminder day: the units that have not reported.
type ReminderPeriod struct {
	Campaign string
	Period   string
	Due      string // e.g. 1月31日
	DaysLeft int    // days until the due date, 0 on the day
	Absent   []string
	Resend   []string
}

// ReminderMessage lists, on a reminder day, the units that have not reported, per period.
func ReminderMessage(office string, periods []ReminderPeriod, dashboardURL string) Message {
	var b strings.Builder
	if office != "" {
		fmt.Fprintf(&b, "%s\n", esc(office))
	}
	for _, p := range periods {
		b.WriteString("\n**" + esc(periodName(p.Campaign, p.Period)) + "**")
		switch {
		case p.Due == "":
		case p.DaysLeft > 0:
			fmt.Fprintf(&b, "：%s 截止，还有 %d 天", esc(p.Due), p.DaysLeft)
		case p.DaysLeft == 0:
			fmt.Fprintf(&b, "：今天（%s）截止", esc(p.Due))
		default:
			fmt.Fprintf(&b, "：%s 已截止", esc(p.Due))
		}
		b.WriteString("\n")
		if len(p.Absent) > 0 {
			fmt.Fprintf(&b, "- 未报（%d）：%s\n", len(p.Absent), names(p.Absent))
		}
		if len(p.Resend) > 0 {
			fmt.Fprintf(&b, "- 需重报（%d）：%s\n", len(p.Resend), names(p.Resend))
		}
		if len(p.Absent)+len(p.Resend) == 0 {
			b.WriteString("- 各单位均已报送\n")
		}
	}
	writeLink(&b, "打开控制台", dashboardURL)
	return Message{Title: TitleMark + "提醒", Markdown: b.String()}
}

// AlertMessage says the mailbox could not be read since since (down), or that it can again after an
// outage that began at since (!down). errText is the last error. Times are written in since's
// location: pass office time.
func AlertMessage(down bool, since time.Time, errText string) Message {
	var b strings.Builder
	at := since.Format("1月2日 15:04")
	if down {
		fmt.Fprintf(&b, "自 %s 起无法读取报送邮箱，来件暂未处理、未回执。\n", at)
		if errText = cleanLine(errText); errText != "" {
			fmt.Fprintf(&b, "- 最近的错误：%s\n", esc(cutTo(errText, 300, runeLen)))
		}
		b.WriteString("请检查邮箱密码（授权码）与网络；恢复后会再通知。\n")
		return Message{Title: TitleMark + "邮箱告警：无法读取", Markdown: b.String()}
	}
	fmt.Fprintf(&b, "报送邮箱已恢复读取（自 %s 起中断）。中断期间的来件会依次处理和回执。\n", at)
	if errText = cleanLine(errText); errText != "" {
		fmt.Fprintf(&b, "- 中断时的错误：%s\n", esc(cutTo(errText, 300, runeLen)))
	}
	return Message{Title: TitleMark + "邮箱恢复", Markdown: b.String()}
}

// What needs a person about a receipt: the what of ProblemMessage.
const (
	ProblemUnmatched = "发件地址未登记，无法确定报送单位，请在控制台指定单位"
	ProblemRejected  = "附件不合格，已回执要求重报"
	ProblemFailed    = "邮件多次处理未成功，没有检查结果，请人工查看"
	ProblemSpoofed   = "发件人验证未通过，疑似冒用单位地址，请核实"
)

// ProblemMessage is one receipt that needs a person: its number, sender, subject, what is wrong (one of
// the Problem… sentences, or the caller's) and a link to it on the dashboard when link is set.
func ProblemMessage(receipt, from, subject, what, link string) Message {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n", esc(cleanLine(what)))
	fmt.Fprintf(&b, "- 回执：%s\n", esc(cleanLine(receipt)))
	if from = cleanLine(from); from != "" {
		fmt.Fprintf(&b, "- 发件人：%s\n", esc(cutTo(from, 120, runeLen)))
	}
	if subject = cleanLine(subject); subject != "" {
		fmt.Fprintf(&b, "- 主题：%s\n", esc(cutTo(subject, 120, runeLen)))
	}
	writeLink(&b, "查看回执", link)
	title := TitleMark + "待处理"
	if r := cleanLine(receipt); r != "" {
		title += "：" + cutTo(r, 40, runeLen)
	}
	return Message{Title: title, Markdown: b.String()}
}

// TestMessage is what `briefd robot test` posts.
func TestMessage(name string, now time.Time) Message {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	return Message{
		Title: TitleMark + "机器人测试",
		Markdown: fmt.Sprintf("这是 briefd 的测试消息：机器人 **%s** 配置正确，可以在本群发送报送周报、提醒、告警和待处理事项。\n- 时间：%s\n",
			esc(cleanLine(name)), now.In(loc).Format("2006年1月2日 15:04:05")),
	}
}

func periodName(campaign, period string) string {
	campaign, period = cleanLine(campaign), cleanLine(period)
	if period == "" {
		return campaign
	}
	return campaign + " · " + period
}

// names joins unit names with 、, at most MaxNames of them.
func names(ns []string) string {
	var out []string
	for _, n := range ns {
		if n = cleanLine(n); n != "" {
			out = append(out, esc(n))
		}
	}
	if len(out) > MaxNames {
		return strings.Join(out[:MaxNames], "、") + fmt.Sprintf(" 等 %d 个单位", len(out))
	}
	return strings.Join(out, "、")
}

// writeLink adds a markdown link when u is an absolute http(s) URL; it escapes what would end the link.
func writeLink(b *strings.Builder, text, u string) {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return
	}
	s := strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "[", "%5B", "]", "%5D", "<", "%3C", ">", "%3E").Replace(p.String())
	fmt.Fprintf(b, "\n[%s](%s)\n", text, s)
}

// esc makes text from mail (names, subjects, addresses, error messages) inert in the services'
// markdown: the characters that would start emphasis, a link, HTML (WeCom's <font>, Feishu's <at>), a
// heading or code become their full-width forms, which read the same to a person. A subject cannot
// then post a disguised link or @all into the office's chat. Underscores stay (addresses have them;
// within a word they do not emphasise).
func esc(s string) string { return mdEscaper.Replace(s) }

var mdEscaper = strings.NewReplacer(
	"*", "＊", "[", "［", "]", "］", "(", "（", ")", "）", "<", "＜", ">", "＞",
	"`", "｀", "#", "＃", "~", "～", "|", "｜", "\\", "＼", "!", "！",
)
