package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"briefd/internal/mailtest"
	"briefd/store"
)

// TestPollAnswersSubmissionsOnly is a public mailbox as an office has it, on Dovecot: 300 mails from
// past years and a week of mail with spam, questions, newsletters, a forgotten attachment, a mail the
// provider flagged, a forged sender and a submission found in the spam folder (垃圾邮件, SPECIAL-USE
// \Junk). `briefd poll` records every mail and answers exactly the submissions of this week.
func TestPollAnswersSubmissionsOnly(t *testing.T) {
	d := mailtest.NewDovecot(t)
	sink := mailtest.NewSink(t, mailtest.SinkOptions{})
	dir := t.TempDir()
	cfgPath := writeRelConfig(t, dir, &relConfig{IMAP: d.Addr, SMTP: sink.Addr(), User: d.User, Pass: d.Pass,
		AuthServID: "office.example.cn", PerSenderHour: 1000})
	now := time.Now()
	pdf := mailtest.PDF(2, "briefing")
	gbk := func(s string) string {
		b, _ := simplifiedchinese.GB18030.NewEncoder().String(s)
		return "=?GB18030?B?" + base64.StdEncoding.EncodeToString([]byte(b)) + "?="
	}
	plain := func(from, subject, extra, body string, at time.Time, id string) []byte {
		return []byte(strings.ReplaceAll(extra+"From: "+from+"\nTo: "+mailtest.SampleOffice+"\nSubject: "+subject+
			"\nDate: "+at.Format(time.RFC1123Z)+"\nMessage-ID: <"+id+"@mail.example.org>\nMIME-Version: 1.0\n"+
			"Content-Type: text/plain; charset=UTF-8\n\n"+body+"\n", "\n", "\r\n"))
	}
	put := func(mailbox string, raw []byte, at time.Time) {
		t.Helper()
		if _, err := d.Append(mailbox, raw, at); err != nil {
			t.Fatal(err)
		}
	}
	units := []string{"xinfu-jky@example.cn", "yuanping-jky@example.cn", "dingxiang-jky@example.cn", "wutai-jky@example.cn", "daixian-jky@example.cn"}

	// Mail of 2024 and 2025: recorded and counted, never answered.
	for i := range 300 {
		at := time.Date(2024, 3, 1, 9, 0, 0, 0, time.Local).Add(time.Duration(i) * 53 * time.Hour)
		put("INBOX", mailtest.MailWithPDF("单位", units[i%len(units)], fmt.Sprintf("历史简报 %d", i), at, fmt.Sprintf("old-%03d", i),
			"old.pdf", pdf), at)
	}
	week := now.Add(-2 * time.Hour)
	type want struct {
		id      string
		verdict string
		reply   bool
		cat     string
	}
	var wants []want
	add := func(w want, mailbox string, raw []byte) {
		put(mailbox, raw, week)
		wants = append(wants, w)
		week = week.Add(time.Minute)
	}
	for i, u := range units {
		id := fmt.Sprintf("new-%d", i)
		add(want{id, "accepted", true, ""}, "INBOX", mailtest.MailWithPDF("单位", u, "学习贯彻全省职教大会精神情况简报", week, id, "简报.pdf", pdf))
	}
	add(want{"spam", "ignored", false, "stranger"}, "INBOX", plain("fapiao@example.com", "代开发票", "", "各种发票，联系电话……", week, "spam"))
	add(want{"question", "ignored", false, "question"}, "INBOX", plain("daixian-jky@example.cn", "请问简报截止时间是哪天？", "",
		"市局职教科：请问这次简报什么时候截止？", week, "question"))
	add(want{"question-html", "ignored", false, "question"}, "INBOX", []byte(strings.ReplaceAll("From: wutai-jky@example.cn\nTo: "+
		mailtest.SampleOffice+"\nSubject: "+gbk("关于下周会议")+"\nDate: "+week.Format(time.RFC1123Z)+
		"\nMessage-ID: <question-html@mail.example.org>\nMIME-Version: 1.0\nContent-Type: text/html; charset=UTF-8\n\n"+
		"<html><body><p>简报我们上周已经报了。</p><p>想问一下下周的会议几点开始？</p></body></html>\n", "\n", "\r\n")))
	add(want{"newsletter", "ignored", false, "stranger"}, "INBOX", plain("news@edu-weekly.example.com", "教育周刊 第48期", "",
		"本期要闻：……退订请回复TD", week, "newsletter"))
	add(want{"bulk", "ignored", false, "bulk"}, "INBOX", plain("notice@edu-weekly.example.com", "教育周刊 第49期", "Precedence: bulk\n",
		"本期要闻", week, "bulk"))
	add(want{"forgot", "no_attachment", true, ""}, "INBOX", []byte(strings.ReplaceAll("From: xinfu-jky@example.cn\nTo: "+
		mailtest.SampleOffice+"\nSubject: "+gbk("忻府区简报")+"\nDate: "+week.Format(time.RFC1123Z)+
		"\nMessage-ID: <forgot@mail.example.org>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n附件为我区简报，请查收。\n", "\n", "\r\n")))
	add(want{"unregistered", "accepted", true, ""}, "INBOX", mailtest.MailWithPDF("张老师", "zhang.teacher@example.com", "简报",
		week, "unregistered", "简报.pdf", pdf))
	add(want{"flagged", "accepted", false, ""}, "INBOX", append([]byte("X-Spam-Flag: YES\r\n"),
		mailtest.MailWithPDF("五台县教育科技局", "wutai-jky@example.cn", "五台县简报", week, "flagged", "wutai.pdf", pdf)...))
	add(want{"forged", "accepted", false, ""}, "INBOX", append([]byte("Authentication-Results: mx.office.example.cn; spf=fail smtp.mailfrom=yuanping-jky@example.cn; dmarc=fail header.from=example.cn\r\n"),
		mailtest.MailWithPDF("原平市教育科技局", "yuanping-jky@example.cn", "原平市简报", week, "forged", "yuanping.pdf", pdf)...))
	add(want{"junk-submission", "accepted", true, ""}, "垃圾邮件", mailtest.MailWithPDF("定襄县教育科技局", "dingxiang-jky@example.cn",
		"定襄县简报", week, "junk-submission", "dingxiang.pdf", pdf))
	put("垃圾邮件", plain("win@lottery.example.com", "恭喜中奖", "", "点击领取", week, "junk-spam"), week) // left alone

	var out, errb bytes.Buffer
	code := runMain(context.Background(), &env{stdout: &out, stderr: &errb, getenv: noEnv}, []string{"poll", "-config", cfgPath})
	if code != 0 {
		t.Fatalf("poll: exit %d\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "300 old mails") {
		t.Errorf("poll does not say how many old mails it recorded without a reply:\n%s", lastLines(errb.String(), 3))
	}
	rs := readStore(t, cfgPath)
	if len(rs) != 300+len(wants) {
		t.Errorf("%d receipts, want %d (the spam folder's junk left alone)", len(rs), 300+len(wants))
	}
	byID := map[string]*store.Receipt{}
	history := 0
	for _, r := range rs {
		byID[strings.TrimSuffix(strings.TrimPrefix(r.MessageID, "<"), "@mail.example.org>")] = r
		if r.History {
			history++
			if r.Reply != store.ReplySuppressed || !r.Counts() {
				t.Errorf("%s: old mail reply %q counts %v", r.Number, r.Reply, r.Counts())
			}
		}
	}
	if history != 300 {
		t.Errorf("%d receipts marked as history, want 300", history)
	}
	if byID["junk-spam"] != nil {
		t.Error("spam in the spam folder was recorded")
	}
	replied := map[string]bool{}
	for _, m := range autoReplies(sink.Messages()) {
		for _, w := range wants {
			if bytes.Contains(m.Data, []byte("<"+w.id+"@mail.example.org>")) {
				replied[w.id] = true
			}
		}
	}
	nreplies := len(autoReplies(sink.Messages()))
	wantReplies := 0
	for _, w := range wants {
		r := byID[w.id]
		if r == nil {
			t.Errorf("%s: no receipt", w.id)
			continue
		}
		if w.reply {
			wantReplies++
		}
		if r.Verdict != w.verdict || r.Category != w.cat || replied[w.id] != w.reply {
			t.Errorf("%s: verdict %s category %q replied %v (%s); want %s %q %v", w.id, r.Verdict, r.Category, replied[w.id], r.ReplyNote,
				w.verdict, w.cat, w.reply)
		}
	}
	if nreplies != wantReplies {
		t.Errorf("%d replies sent, want %d", nreplies, wantReplies)
	}
	if r := byID["junk-submission"]; r == nil || !r.Junk {
		t.Error("the submission from the spam folder is not marked as found there")
	}
	if r := byID["question"]; r == nil || !strings.Contains(r.Text, "请问这次简报什么时候截止") {
		t.Error("the question's text is not kept")
	}
	if r := byID["question-html"]; r == nil || !strings.Contains(r.Text, "想问一下下周的会议几点开始") || strings.Contains(r.Text, "<p>") {
		t.Errorf("the HTML question's text: %q", r.Text)
	}

	out.Reset()
	errb.Reset()
	if code := runMain(context.Background(), &env{stdout: &out, stderr: &errb, getenv: noEnv}, []string{"summary", "-config", cfgPath}); code != 0 {
		t.Fatalf("summary: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "单位来信 2 封，请人工回复") || !strings.Contains(out.String(), "请问简报截止时间是哪天？") ||
		strings.Contains(out.String(), "代开发票") {
		t.Errorf("the summary does not list the 2 questions (and only them):\n%s", out.String())
	}
	if subj := firstLineWith(out.String(), "主题："); !strings.Contains(subj, "单位来信 2 封待回复") {
		t.Errorf("summary subject %q does not mention the questions", subj)
	}
	t.Logf("%d receipts, %d history, %d replies", len(rs), history, nreplies)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func firstLineWith(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
