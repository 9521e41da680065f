package notify_test

import (
	"bytes"
	"fmt"
	"mime"
	"net/mail"
	"time"

	"briefd/notify"
	"briefd/store"
)

// A reply is composed from a receipt; the outbox sends the same text when it delivers the receipt's
// outbox item. A nil store and roster are enough for a preview.
func ExampleNotifier_ComposeReply() {
	loc := time.FixedZone("CST", 8*3600)
	n, err := notify.New(notify.Options{
		Office: notify.Office{Name: "忻州市教育局职业教育科", Address: "xzszjk@example.cn", Contact: "王老师 0350-1234567", Location: loc},
		Now:    func() time.Time { return time.Date(2026, 1, 20, 10, 0, 0, 0, loc) },
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	msg, err := n.ComposeReply(&store.Receipt{
		Number: "JB2026-0012", Received: time.Date(2026, 1, 20, 9, 58, 0, 0, loc), MessageID: "<abc@mail.example.cn>",
		From: "xinfu-jky@example.cn", Subject: "忻府区学习贯彻全省职教大会精神情况简报", Match: "none", Verdict: store.VerdictAccepted,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, _ := mail.ReadMessage(bytes.NewReader(msg))
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	fmt.Println(subject)
	fmt.Println(m.Header.Get("To"))
	fmt.Println(m.Header.Get("Message-Id"))
	fmt.Println(m.Header.Get("Auto-Submitted"))
	// Output:
	// 回执：已收到《忻府区学习贯彻全省职教大会精神情况简报》（编号 JB2026-0012）
	// <xinfu-jky@example.cn>
	// <JB2026-0012.0.9da755c09cd1@briefd.example.cn>
	// auto-replied
}
