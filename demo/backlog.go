package demo

import (
	"fmt"
	"time"
)

// Backlog returns n mails as a real mailbox fills up over a reporting week, for crash and outage tests:
// good PDFs from many senders (half of them registered units), Word files, truncated PDFs, password PDFs,
// mails without attachment, out-of-office replies and bounces. Every mail has its own sender address (so
// no hourly reply cap applies) and its own Message-ID, <backlog-NNNN@mail.example.org>. Dates are spread
// over the hours before now.
func Backlog(n int, now time.Time) ([]Sample, error) {
	loc := time.FixedZone("CST", 8*3600)
	now = now.In(loc)
	enc, err := EncryptedPDF(1, "password briefing", "123456")
	if err != nil {
		return nil, err
	}
	good := PDF(2, "Backlog briefing")
	out := make([]Sample, 0, n)
	for i := range n {
		date := now.Add(-time.Duration(n-i) * time.Minute)
		id := fmt.Sprintf("backlog-%04d", i)
		from := fmt.Sprintf("sender%04d@school.example.org", i)
		name := fmt.Sprintf("学校%04d", i)
		if i%2 == 0 {
			from = fmt.Sprintf("unit%04d@example.cn", i)
			name = fmt.Sprintf("单位%04d教育科技局", i)
		}
		subject := fmt.Sprintf("学习贯彻全省职教大会精神情况简报 %04d", i)
		s := Sample{Name: id, Date: date, Reply: true}
		var raw string
		switch i % 20 {
		case 0, 1, 2, 3, 4, 5, 6, 7, 8, 9:
			s.About, s.Verdict = "good PDF", "accepted"
			raw = header(name, from, subject, date, id) + mixed("请查收附件。", attachment("application/pdf",
				fmt.Sprintf(`attachment; filename="briefing-%04d.pdf"`, i), PDF(1+i%3, fmt.Sprintf("Backlog briefing %d", i))))
		case 10, 11:
			s.About, s.Verdict = "Word file", "rejected"
			raw = header(name, from, subject, date, id) + mixed("简报见附件", attachment("application/msword",
				fmt.Sprintf(`attachment; filename="briefing-%04d.doc"`, i), WordDoc()))
		case 12, 13:
			s.About, s.Verdict = "truncated PDF", "rejected"
			raw = header(name, from, subject, date, id) + mixed("简报", attachment("application/pdf",
				fmt.Sprintf(`attachment; filename="broken-%04d.pdf"`, i), good[:300]))
		case 14:
			s.About, s.Verdict = "password PDF", "rejected"
			raw = header(name, from, subject, date, id) + mixed("附件为简报", attachment("application/pdf",
				fmt.Sprintf(`attachment; filename="locked-%04d.pdf"`, i), enc))
		case 15, 16:
			// An unknown sender without attachment is no submission: recorded, not answered.
			s.About, s.Verdict, s.Reply = "no attachment", "ignored", false
			raw = header(name, from, subject, date, id) + "Content-Type: text/plain; charset=UTF-8\n\n简报见附件。\n"
		case 17, 18:
			s.About, s.Verdict, s.Reply = "out-of-office reply", "ignored", false
			raw = "Auto-Submitted: auto-replied\n" + header(name, from, "自动回复：休假中", date, id) +
				"Content-Type: text/plain; charset=UTF-8\n\n您好，我正在休假。\n"
		case 19:
			s.About, s.Verdict, s.Reply = "bounce", "ignored", false
			raw = "From: MAILER-DAEMON@example.net\nTo: " + SampleOffice + "\nSubject: Undelivered Mail Returned to Sender\n" +
				"Date: " + date.Format(time.RFC1123Z) + "\nMessage-ID: <" + id + "@mail.example.org>\nMIME-Version: 1.0\n" +
				"Content-Type: multipart/report; report-type=delivery-status; boundary=\"rep\"\n\n--rep\nContent-Type: text/plain\n\n" +
				"Delivery failed.\n--rep\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n--rep--\n"
		}
		s.Raw = crlf(raw)
		out = append(out, s)
	}
	return out, nil
}

// BacklogMessageID is the Message-ID of the i-th Backlog mail.
func BacklogMessageID(i int) string { return fmt.Sprintf("<backlog-%04d@mail.example.org>", i) }

func crlf(s string) []byte {
	b := make([]byte, 0, len(s)+len(s)/40)
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			b = append(b, '\r')
		}
		b = append(b, s[i])
	}
	return b
}
