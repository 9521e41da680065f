package mailtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

func sinkSend(addr string, auth sasl.Client, body string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	return c.SendMail("from@example.cn", []string{"to@example.cn"}, strings.NewReader(body))
}

func TestSinkRecordsFailsAndRestarts(t *testing.T) {
	s := NewSink(t, SinkOptions{})
	addr := s.Addr()
	if err := sinkSend(addr, nil, "Subject: 1\r\n\r\n.dot\r\n"); err != nil {
		t.Fatal(err)
	}
	s.FailNext(1, 451, "later")
	if err := sinkSend(addr, nil, "Subject: 2\r\n\r\nx\r\n"); err == nil || !strings.Contains(err.Error(), "451") {
		t.Fatalf("FailNext: %v", err)
	}
	s.RejectAll(550, "no")
	if err := sinkSend(addr, nil, "Subject: 3\r\n\r\nx\r\n"); err == nil || !strings.Contains(err.Error(), "550") {
		t.Fatalf("RejectAll: %v", err)
	}
	s.RejectAll(0, "")
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := sinkSend(addr, nil, "Subject: 4\r\n\r\nx\r\n"); err == nil {
		t.Fatal("sent to a stopped sink")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr {
		t.Fatalf("restarted on %s, not %s", s.Addr(), addr)
	}
	if err := sinkSend(addr, nil, "Subject: 5\r\n\r\nx\r\n"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := s.Wait(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || string(msgs[0].Data) != "Subject: 1\r\n\r\n.dot\r\n" || msgs[0].From != "from@example.cn" || msgs[0].To[0] != "to@example.cn" {
		t.Errorf("messages %+v", msgs)
	}
	if s.Attempts() != 4 {
		t.Errorf("attempts %d; want 4", s.Attempts())
	}
}

func TestSinkAuth(t *testing.T) {
	s := NewSink(t, SinkOptions{Username: "u", Password: "p"})
	if err := sinkSend(s.Addr(), nil, "x\r\n"); err == nil {
		t.Error("accepted without AUTH")
	}
	if err := sinkSend(s.Addr(), sasl.NewPlainClient("", "u", "bad"), "x\r\n"); err == nil {
		t.Error("accepted a wrong password")
	}
	if err := sinkSend(s.Addr(), sasl.NewPlainClient("", "u", "p"), "x\r\n"); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages(); len(m) != 1 || m[0].User != "u" {
		t.Errorf("%+v", m)
	}
}
