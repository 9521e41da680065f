package mailmsg

import (
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	const base = "From: Unit <unit@example.cn>\r\nTo: xzszjk@example.cn\r\nMessage-ID: <a1@example.cn>\r\n"
	pdf := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pdf; name=x.pdf\r\n\r\n%PDF-1.4\r\n--b--\r\n"
	tests := []struct {
		name   string
		header string // replaces base when it starts with "From:", else is added to it
		body   string
		want   string // a prefix of the reason; "" means a reply is allowed
	}{
		{"ordinary mail", "", "", ""},
		{"empty sender", "From: <>\r\nSubject: x\r\n", "", "empty sender"},
		{"no sender at all", "Subject: x\r\n", "", "empty sender"},
		{"mailer-daemon", "From: MAILER-DAEMON@mx.example.cn\r\n", "", "sender is mailer-daemon"},
		{"mailer-daemon display name", "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\n", "", "sender is mailer-daemon"},
		{"postmaster", "From: postmaster@example.cn\r\n", "", "sender is postmaster"},
		{"listserv", "From: LISTSERV@lists.example.edu\r\n", "", "sender is listserv"},
		{"majordomo", "From: majordomo@example.org\r\n", "", "sender is majordomo"},
		{"-request", "From: news-request@example.org\r\n", "", "sender is a list request address"},
		{"owner-", "From: owner-news@example.org\r\n", "", "sender is a list owner address"},
		{"noreply", "From: noreply@example.cn\r\n", "", "sender is a no-reply address"},
		{"no-reply", "From: \"系统\" <no-reply@example.cn>\r\n", "", "sender is a no-reply address"},
		{"no_reply prefix", "From: system.no_reply@example.cn\r\n", "", "sender is a no-reply address"},
		{"donotreply", "From: DoNotReply@example.cn\r\n", "", "sender is a no-reply address"},
		{"do-not-reply", "From: do-not-reply@example.cn\r\n", "", "sender is a no-reply address"},
		{"our own address", "From: XZSZJK@Example.CN\r\n", "", "sender is our own address"},
		{"auto-submitted auto-replied", "Auto-Submitted: auto-replied\r\n", "", "auto-submitted: auto-replied"},
		{"auto-submitted auto-generated", "Auto-Submitted: Auto-Generated (daily)\r\n", "", "auto-submitted: auto-generated"},
		{"auto-submitted no", "Auto-Submitted: no\r\n", "", ""},
		{"auto-submitted with parameter", "Auto-Submitted: auto-notified; owner-email=a@b\r\n", "", "auto-submitted: auto-notified"},
		{"precedence bulk", "Precedence: bulk\r\n", "", "precedence: bulk"},
		{"precedence junk", "Precedence: JUNK\r\n", "", "precedence: junk"},
		{"precedence list", "Precedence: list\r\n", "", "precedence: list"},
		{"precedence first-class", "Precedence: first-class\r\n", "", ""},
		{"list-id", "List-Id: <news.example.org>\r\n", "", "mailing list (List-Id)"},
		{"list-unsubscribe", "List-Unsubscribe: <mailto:u@example.org>\r\n", "", "mailing list (List-Unsubscribe)"},
		{"list-post lowercase", "list-post: <mailto:p@example.org>\r\n", "", "mailing list (List-Post)"},
		{"x-auto-response-suppress all", "X-Auto-Response-Suppress: All\r\n", "", "x-auto-response-suppress: all"},
		{"x-auto-response-suppress oof", "X-Auto-Response-Suppress: DR, OOF, AutoReply\r\n", "", "x-auto-response-suppress: oof"},
		{"x-auto-response-suppress dr only", "X-Auto-Response-Suppress: DR\r\n", "", ""},
		{"x-autoreply", "X-Autoreply: yes\r\n", "", "auto-reply header X-Autoreply"},
		{"x-autorespond", "X-Autorespond: yes\r\n", "", "auto-reply header X-Autorespond"},
		{"x-autoreply-from", "X-Autoreply-From: unit@example.cn\r\n", "", "auto-reply header X-Autoreply-From"},
		{"multipart/report", "", "Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--r--\r\n", "delivery report"},
		{"delivery-status part", "", "Content-Type: multipart/mixed; boundary=r\r\n\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n--r--\r\n", "delivery report"},
		{"delivery-status inside a forward", "", "Content-Type: multipart/mixed; boundary=r\r\n\r\n--r\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y\r\nContent-Type: multipart/report; boundary=q\r\n\r\n--q\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n--q--\r\n--r--\r\n", ""},
		{"our Message-ID marker", "From: unit@example.cn\r\nMessage-ID: <JB2022-0001.1@briefd.example.cn>\r\n", "", "our own message"},
		{"subject 自动回复", "Subject: =?UTF-8?B?6Ieq5Yqo5Zue5aSNOiDnroDmiqU=?=\r\n", "", "auto-reply subject"},
		{"subject Auto Reply", "Subject: Auto Reply: briefing\r\n", "", "auto-reply subject"},
		{"subject Out of Office", "Subject: Out of Office: briefing\r\n", "", "auto-reply subject"},
		{"subject Automatic reply (Outlook)", "Subject: Automatic reply: briefing\r\n", "", "auto-reply subject"},
		{"subject 【休假】", "Subject: =?UTF-8?B?44CQ5LyR5YGH44CR5oiR5Zyo5LyR5YGH?=\r\n", "", "auto-reply subject"},
		{"subject mentions 休假 later", "Subject: =?UTF-8?B?5a+S5YGH5LyR5YGH5a6J5o6S566A5oql?=\r\n", "", ""},
		{"reply to our receipt, nothing attached", "In-Reply-To: <JB2022-0001.1@briefd.example.cn>\r\n", "", "reply to our own message"},
		{"reply to our receipt with the corrected PDF", "In-Reply-To: <JB2022-0001.1@briefd.example.cn>\r\n", pdf, ""},
		{"references our receipt, nothing attached", "References: <x@y> <JB2022-0001.1@briefd.example.cn>\r\n", "", "reply to our own message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var raw string
			switch {
			case strings.HasPrefix(tc.header, "From:"), strings.HasPrefix(tc.header, "Subject: x\r\n"):
				raw = tc.header + "Message-ID: <a1@example.cn>\r\n"
			default:
				raw = base + tc.header
			}
			if strings.HasPrefix(tc.header, "From: unit@example.cn\r\nMessage-ID:") {
				raw = tc.header
			}
			if !strings.Contains(raw, "Subject:") {
				raw += "Subject: =?UTF-8?B?566A5oql?=\r\n"
			}
			if tc.body == "" {
				raw += "Content-Type: text/plain\r\n\r\nhello\r\n"
			} else {
				raw += tc.body
			}
			m := mustParse(t, raw, ParseOptions{})
			got := Classify(m, []string{"xzszjk@example.cn"}, "briefd")
			if tc.want == "" && got != "" || tc.want != "" && !strings.HasPrefix(got, tc.want) {
				t.Errorf("Classify = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClassifyWithoutMarker(t *testing.T) {
	m := mustParse(t, "From: a@example.cn\r\nMessage-ID: <x@briefd.example.cn>\r\nIn-Reply-To: <y@briefd.example.cn>\r\n\r\nhi\r\n", ParseOptions{})
	if got := Classify(m, nil, ""); got != "" {
		t.Errorf("Classify with no marker = %q, want a reply allowed", got)
	}
}
