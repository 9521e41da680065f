package outbox

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"briefd/internal/mailtest"
)

var testMsg = []byte("From: <xzszjk@example.cn>\r\nTo: <a@example.cn>\r\nSubject: t\r\n\r\n.leading dot\r\nbody\r\n")

func TestSMTPSender(t *testing.T) {
	srvTLS, pool, err := mailtest.NewLoopbackCert()
	if err != nil {
		t.Fatal(err)
	}
	_, otherPool, err := mailtest.NewLoopbackCert()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		sink     mailtest.SinkOptions
		security string
		user     string
		pass     string
		roots    *x509.CertPool
		wantErr  string // "" for success
		wantUser string
		wantTLS  bool
	}{
		{name: "plain, no auth", security: "plain"},
		{name: "plain with AUTH PLAIN", sink: mailtest.SinkOptions{Username: "office", Password: "授权码123"}, security: "plain", user: "office", pass: "授权码123", wantUser: "office"},
		{name: "auth required but no username", sink: mailtest.SinkOptions{Username: "office", Password: "x"}, security: "plain", wantErr: "smtp mail"},
		{name: "plain with AUTH LOGIN only", sink: mailtest.SinkOptions{Username: "office", Password: "授权码123", LoginOnly: true}, security: "plain", user: "office", pass: "授权码123", wantUser: "office"},
		{name: "wrong password", sink: mailtest.SinkOptions{Username: "office", Password: "x"}, security: "plain", user: "office", pass: "y", wantErr: "smtp auth"},
		{name: "starttls trusted via RootCAs", sink: mailtest.SinkOptions{TLS: srvTLS, Username: "u", Password: "p"}, security: "starttls", user: "u", pass: "p", roots: pool, wantUser: "u", wantTLS: true},
		{name: "starttls with an untrusted certificate", sink: mailtest.SinkOptions{TLS: srvTLS}, security: "starttls", roots: otherPool, wantErr: "certificate"},
		{name: "starttls not offered", security: "starttls", roots: pool, wantErr: "STARTTLS"},
		{name: "implicit tls", sink: mailtest.SinkOptions{TLS: srvTLS, ImplicitTLS: true, Username: "u", Password: "p"}, security: "tls", user: "u", pass: "p", roots: pool, wantUser: "u", wantTLS: true},
		{name: "implicit tls untrusted", sink: mailtest.SinkOptions{TLS: srvTLS, ImplicitTLS: true}, security: "tls", roots: otherPool, wantErr: "certificate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, err := mailtest.NewSMTPSink(c.sink)
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			s := NewSMTPSender(SMTPOptions{Server: sink.Addr(), Security: c.security, Username: c.user, Password: c.pass, RootCAs: c.roots, Timeout: 5 * time.Second})
			err = s.Send(context.Background(), officeAddr, []string{"a@example.cn"}, testMsg)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v; want one containing %q", err, c.wantErr)
				}
				if IsPermanent(err) {
					t.Errorf("%v taken as permanent", err)
				}
				if len(sink.Messages()) != 0 {
					t.Error("delivered anyway")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			msgs := sink.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			m := msgs[0]
			if string(m.Data) != string(testMsg) || m.From != officeAddr || m.To[0] != "a@example.cn" || m.User != c.wantUser || m.TLS != c.wantTLS {
				t.Errorf("got %+v (data %q)", m, m.Data)
			}
		})
	}
}

func TestSMTPCheck(t *testing.T) {
	for _, c := range []struct {
		o    SMTPOptions
		want string
	}{
		{SMTPOptions{Server: "smtp.163.com:465"}, ""},
		{SMTPOptions{Server: "smtp.163.com:587", Security: "starttls"}, ""},
		{SMTPOptions{Server: "127.0.0.1:25", Security: "plain"}, ""},
		{SMTPOptions{Server: "localhost:25", Security: "plain"}, ""},
		{SMTPOptions{Server: "smtp.163.com:25", Security: "plain"}, "loopback"},
		{SMTPOptions{Server: "smtp.163.com"}, "host:port"},
		{SMTPOptions{Server: "smtp.163.com:465", Security: "ssl"}, "tls, starttls or plain"},
	} {
		err := NewSMTPSender(c.o).Check()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v; want %q", c.o, err, c.want)
		}
	}
}

// TestSMTPErrors: codes and steps are kept, and permanence follows them.
func TestSMTPErrors(t *testing.T) {
	sink, err := mailtest.NewSMTPSink(mailtest.SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	s := NewSMTPSender(SMTPOptions{Server: sink.Addr(), Security: "plain", Timeout: 5 * time.Second})
	send := func() error { return s.Send(context.Background(), officeAddr, []string{"a@example.cn"}, testMsg) }

	sink.FailNext(1, 451, "4.3.0 later")
	err = send()
	var se *SendError
	if !errors.As(err, &se) || se.Stage != "data" || se.Code != 451 || IsPermanent(err) {
		t.Errorf("451: %#v", err)
	}
	sink.RejectAll(554, "5.7.1 DT:SPM spam")
	err = send()
	if !errors.As(err, &se) || se.Code != 554 || !IsPermanent(err) || !strings.Contains(err.Error(), "DT:SPM") {
		t.Errorf("554: %v", err)
	}
	sink.RejectAll(0, "")
	sink.Stop()
	err = send()
	if !errors.As(err, &se) || se.Stage != "connect" || IsPermanent(err) || !isConnectionError(err) {
		t.Errorf("down: %v", err)
	}
	if !IsPermanent(&smtp.SMTPError{Code: 550}) || IsPermanent(&smtp.SMTPError{Code: 421}) || IsPermanent(errors.New("x")) {
		t.Error("IsPermanent on plain errors")
	}
}

// TestSMTPTimeout: a server that accepts the connection and never answers is given up after the
// timeout, not the library's five minutes.
func TestSMTPTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, say nothing
		}
	}()
	s := NewSMTPSender(SMTPOptions{Server: ln.Addr().String(), Security: "plain", Timeout: 300 * time.Millisecond})
	start := time.Now()
	err = s.Send(context.Background(), officeAddr, []string{"a@example.cn"}, testMsg)
	if err == nil || IsPermanent(err) {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
}

// TestCheckSMTP: the doctor's SMTP checks go as far as a delivery would, log in as it would (AUTH LOGIN
// where the server offers only that), send nothing, and say what to fix at the step that fails.
func TestCheckSMTP(t *testing.T) {
	srvTLS, pool, err := mailtest.NewLoopbackCert()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		sink     mailtest.SinkOptions
		security string
		user     string
		pass     string
		roots    *x509.CertPool
		down     bool     // nothing listening
		want     []string // the checks' steps, with ✗ on the one that fails
		wantText string   // in the failing check's detail or fix
	}{
		{name: "AUTH PLAIN", sink: mailtest.SinkOptions{Username: "u", Password: "p"}, security: "plain", user: "u", pass: "p",
			want: []string{"SMTP 连接", "SMTP 登录 u", "SMTP"}},
		{name: "AUTH LOGIN only", sink: mailtest.SinkOptions{Username: "u", Password: "p", LoginOnly: true}, security: "plain", user: "u", pass: "p",
			want: []string{"SMTP 连接", "SMTP 登录 u", "SMTP"}},
		{name: "no username", security: "plain", want: []string{"SMTP 连接", "SMTP 登录", "SMTP"}},
		{name: "wrong password", sink: mailtest.SinkOptions{Username: "u", Password: "p"}, security: "plain", user: "u", pass: "x",
			want: []string{"SMTP 连接", "✗SMTP 登录 u"}, wantText: "535"},
		{name: "starttls", sink: mailtest.SinkOptions{TLS: srvTLS, Username: "u", Password: "p"}, security: "starttls", user: "u", pass: "p", roots: pool,
			want: []string{"SMTP 连接", "SMTP 加密连接 (STARTTLS)", "SMTP 登录 u", "SMTP"}},
		{name: "implicit tls untrusted", sink: mailtest.SinkOptions{TLS: srvTLS, ImplicitTLS: true}, security: "tls",
			want: []string{"SMTP 连接", "✗SMTP 加密连接 (TLS)"}, wantText: "不是受信任的机构签发的"},
		{name: "nothing listening", security: "plain", down: true, want: []string{"✗SMTP 连接"}, wantText: "检查端口号"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, err := mailtest.NewSMTPSink(c.sink)
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			addr := sink.Addr()
			if c.down {
				sink.Close()
			}
			checks := CheckSMTP(context.Background(), SMTPOptions{Server: addr, Security: c.security, Username: c.user, Password: c.pass,
				RootCAs: c.roots, Timeout: 5 * time.Second})
			var steps []string
			text := ""
			for _, ck := range checks {
				step := strings.TrimSuffix(ck.Step, " "+addr)
				if !ck.OK {
					step = "✗" + step
					text = ck.Detail + " " + ck.Fix
				}
				steps = append(steps, step)
			}
			if strings.Join(steps, "|") != strings.Join(c.want, "|") || !strings.Contains(text, c.wantText) {
				t.Errorf("checks %q (%s); want %q with %q", steps, text, c.want, c.wantText)
			}
			if len(sink.Messages()) != 0 {
				t.Error("the check sent mail")
			}
		})
	}
}
