package demo

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Sample is one realistic mail for `briefd demo` and end-to-end tests.
type Sample struct {
	Name    string    // short English name
	About   string    // what it shows, in Chinese, for the demo's output
	Date    time.Time // INTERNALDATE to append it with
	Raw     []byte
	Verdict string // the receipt verdict briefd should record
	Reply   bool   // whether it deserves a reply
}

// SampleOffice is the office address the samples are sent to.
const SampleOffice = "xzszjk@example.cn"

// Samples returns about a dozen mails as units really send them, dated relative to now. The demo config
// (cmd/briefd demo) has the units and campaigns they refer to: a once campaign open until now+5 days and
// a monthly one; the "late" sample reports last month's period after its due date.
func Samples(now time.Time) ([]Sample, error) {
	loc := time.FixedZone("CST", 8*3600)
	now = now.In(loc)
	at := func(d time.Duration) time.Time { return now.Add(-d) }
	enc, err := EncryptedPDF(2, "Dingxiang briefing", "123456")
	if err != nil {
		return nil, err
	}
	good := PDF(4, "Xinfu briefing on the provincial vocational education conference")
	lastMonth := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, loc)
	gbk := func(s string) string {
		b, _ := simplifiedchinese.GB18030.NewEncoder().String(s)
		return "=?GB18030?B?" + base64.StdEncoding.EncodeToString([]byte(b)) + "?="
	}
	var out []Sample
	add := func(name, about string, date time.Time, verdict string, reply bool, raw string) {
		out = append(out, Sample{Name: name, About: about, Date: date, Raw: []byte(strings.ReplaceAll(raw, "\n", "\r\n")),
			Verdict: verdict, Reply: reply})
	}

	add("good-163", "忻府区：163网页邮箱发来的合格PDF简报", at(50*time.Hour), "accepted", true,
		header("忻府区教育科技局", "xinfu-jky@example.cn", "忻府区学习贯彻全省职教大会精神情况简报", at(50*time.Hour), "163-1")+
			mixed("请查收附件。\n忻府区教育科技局", attachment("application/pdf",
				`attachment; filename*=UTF-8''%E5%BF%BB%E5%BA%9C%E5%8C%BA%E5%AD%A6%E4%B9%A0%E8%B4%AF%E5%BD%BB%E6%83%85%E5%86%B5%E7%AE%80%E6%8A%A5.pdf`, good)))
	add("word-file", "原平市：发来的是Word文档，不是PDF", at(47*time.Hour), "rejected", true,
		header("原平市教育科技局", "yuanping-jky@example.cn", "原平市简报", at(47*time.Hour), "ol-2")+
			mixed("简报见附件", attachment("application/msword", `attachment; filename="=?UTF-8?B?`+
				base64.StdEncoding.EncodeToString([]byte("原平市简报.doc"))+`?="`, WordDoc())))
	add("password-pdf", "定襄县：PDF设置了打开密码", at(40*time.Hour), "rejected", true,
		header("定襄县教育科技局", "dingxiang-jky@example.cn", "定襄县学习贯彻职教大会精神简报", at(40*time.Hour), "qq-3")+
			mixed("附件为简报", attachment("application/pdf", `attachment; filename="dingxiang.pdf"`, enc)))
	inner := header("五台县职业中学", "wutai-school@example.org", "五台县职业中学简报", at(30*time.Hour), "fw-inner") +
		mixed("转给局里", attachment("application/pdf", `attachment; filename="wutai-zhongxue.pdf"`, PDF(2, "Wutai school")))
	add("forwarded", "五台县：转发学校的邮件，简报在被转发的邮件里", at(29*time.Hour), "accepted", true,
		header("五台县教育科技局", "wutai-jky@example.cn", "转发：五台县职业中学简报", at(29*time.Hour), "fw-4")+
			mixed("转发学校报送的简报。", "Content-Type: message/rfc822\nContent-Disposition: inline\n\n"+strings.ReplaceAll(inner, "\r\n", "\n")))
	add("foxmail-gbk", "代县：Foxmail发来，附件名是GB18030编码", at(26*time.Hour), "accepted", true,
		header("代县教育科技局", "daixian-jky@example.cn", "代县简报", at(26*time.Hour), "fox-5")+
			mixed("请查收", attachment("application/octet-stream", `attachment; filename="`+gbk("代县学习贯彻全省职教大会精神简报.pdf")+`"`,
				PDF(3, "Daixian briefing")))+"")
	add("qq-cloud-link", "繁峙县：QQ邮箱超大附件，只有下载链接", at(24*time.Hour), "no_attachment", true,
		header("繁峙县教育科技局", "fanshi-jky@example.cn", "繁峙县简报（超大附件）", at(24*time.Hour), "qq-6")+
			"Content-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n"+
			`<div>简报请查收</div><div style="border:1px solid #ccc">从QQ邮箱发来的超大附件<br><a href="https://wx.mail.qq.com/ftn/download?func=3&k=demo-fanshi-briefing">繁峙县简报.pdf (65.2M, 2026年12月30日 10:00 到期)</a></div>`+"\n")
	add("unregistered-named", "宁武县：用未登记的个人邮箱发送，按单位名称识别", at(20*time.Hour), "accepted", true,
		header("宁武县教育科技局 王老师", "wang.ningwu@example.org", "宁武县学习贯彻职教大会精神简报", at(20*time.Hour), "ol-7")+
			mixed("王老师代发", attachment("application/pdf", `attachment; filename="ningwu.pdf"`, PDF(2, "Ningwu"))))
	add("unregistered-unknown", "陌生发件人：看不出是哪个单位，等待科室确认", at(18*time.Hour), "accepted", true,
		header("张老师", "zhang.teacher@example.com", "简报", at(18*time.Hour), "am-8")+
			mixed("附件是我校简报。", attachment("application/pdf", `attachment; filename="jianbao.pdf"`, PDF(1, "Unknown school"))))
	add("auto-reply", "静乐县：休假自动回复，不回执", at(16*time.Hour), "ignored", false,
		"Auto-Submitted: auto-replied\n"+header("静乐县教育科技局", "jingle-jky@example.cn", "自动回复：休假中", at(16*time.Hour), "auto-9")+
			"Content-Type: text/plain; charset=UTF-8\n\n您好，我正在休假，回来后尽快回复。\n")
	add("late-monthly", "忻府区：补报上月的月报，已过截止日期", at(3*time.Hour), "accepted", true,
		header("忻府区教育科技局", "xinfu-jky@example.cn", fmt.Sprintf("忻府区%d年%d月职业教育大会筹备召开情况", lastMonth.Year(), lastMonth.Month()), at(3*time.Hour), "163-10")+
			mixed("补报上月情况", attachment("application/pdf", `attachment; filename="xinfu-monthly.pdf"`, PDF(2, "Xinfu monthly"))))
	add("truncated-pdf", "神池县：PDF文件不完整（上传中断）", at(2*time.Hour), "rejected", true,
		header("神池县教育科技局", "shenchi-jky@example.cn", "神池县简报", at(2*time.Hour), "qq-11")+
			mixed("简报", attachment("application/pdf", `attachment; filename="shenchi.pdf"`, good[:300])))
	add("forgot-attachment", "五寨县：忘了加附件", at(time.Hour), "no_attachment", true,
		header("五寨县教育科技局", "wuzhai-jky@example.cn", "五寨县简报", at(time.Hour), "163-12")+
			"Content-Type: text/plain; charset=UTF-8\n\n简报见附件。\n")
	add("bounce", "退信：系统退信，不回执", at(30*time.Minute), "ignored", false,
		"From: MAILER-DAEMON@example.net\nTo: "+SampleOffice+"\nSubject: Undelivered Mail Returned to Sender\n"+
			"Date: "+at(30*time.Minute).Format(time.RFC1123Z)+"\nMessage-ID: <bounce-13@example.net>\nMIME-Version: 1.0\n"+
			"Content-Type: multipart/report; report-type=delivery-status; boundary=\"rep\"\n\n--rep\nContent-Type: text/plain\n\n"+
			"Delivery failed.\n--rep\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n--rep--\n")
	return out, nil
}

// header writes the top of a mail from a unit to the office.
func header(name, addr, subject string, date time.Time, id string) string {
	return fmt.Sprintf("From: %s <%s>\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: <%s@mail.example.org>\nMIME-Version: 1.0\n",
		mime.BEncoding.Encode("UTF-8", name), addr, SampleOffice, mime.BEncoding.Encode("UTF-8", subject),
		date.Format(time.RFC1123Z), id)
}

// mixed writes a multipart/mixed body with a text part and the given parts.
func mixed(text string, parts ...string) string {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=\"=-b1\"\n\n--=-b1\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n")
	b.WriteString(text + "\n")
	for _, p := range parts {
		b.WriteString("--=-b1\n" + p + "\n")
	}
	b.WriteString("--=-b1--\n")
	return b.String()
}

// attachment writes one base64 part.
func attachment(ctype, disposition string, data []byte) string {
	var b bytes.Buffer
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
	return fmt.Sprintf("Content-Type: %s\nContent-Disposition: %s\nContent-Transfer-Encoding: base64\n\n%s", ctype, disposition, b.String())
}

// MailWithPDF returns a mail from a unit to the office with one PDF attached as filename, CRLF line ends.
func MailWithPDF(name, addr, subject string, date time.Time, id, filename string, pdf []byte) []byte {
	return crlf(header(name, addr, subject, date, id) + mixed("请查收附件。", attachment("application/pdf",
		fmt.Sprintf(`attachment; filename="%s"`, filename), pdf)))
}

// File is one attachment of MailWithAttachments.
type File struct {
	Name, Type string
	Data       []byte
}

// MailWithAttachments returns a mail from a unit to the office with the files attached (names as
// RFC 2231 UTF-8, as 163 webmail writes them), CRLF line ends.
func MailWithAttachments(name, addr, subject string, date time.Time, id string, files ...File) []byte {
	var parts []string
	for _, f := range files {
		parts = append(parts, attachment(f.Type, "attachment; filename*=UTF-8''"+url.PathEscape(f.Name), f.Data))
	}
	return crlf(header(name, addr, subject, date, id) + mixed("请查收附件。", parts...))
}
