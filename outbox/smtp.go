package outbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"briefd/internal/mailnet"
)

// Sender delivers one message to an SMTP server. SMTPSender is the real one; tests use others.
//
// An error that IsPermanent reports as permanent means the server refused this message for good (5xx);
// any other error is worth retrying later.
type Sender interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
}

// SMTPOptions configure an SMTPSender.
type SMTPOptions struct {
	// Server is host:port, e.g. smtp.163.com:465.
	Server string
	// Security is tls (implicit TLS, port 465), starttls (port 587; refuses to go on without it) or plain
	// (no encryption: only to a loopback address). Default tls.
	Security string
	// Username and Password, when Username is set, are used for AUTH PLAIN (or LOGIN when the server
	// offers only that). With an empty Username no AUTH is sent (a local relay).
	Username, Password string
	// RootCAs verifies the server's certificate; nil means the system's roots.
	RootCAs *x509.CertPool
	// Timeout bounds each step: connecting with the TLS handshake, each command and its answer, writing
	// the message, the answer to its end. Default 30s. A whole delivery is bounded by 10 Timeouts.
	Timeout time.Duration
	// HelloName is the name sent in EHLO. Default "localhost".
	HelloName string
}

// SMTPSender sends mail through one SMTP server, one connection per message.
type SMTPSender struct {
	o    SMTPOptions
	host string
}

// NewSMTPSender returns a sender; it does not connect until Send. Use Check to validate the options.
func NewSMTPSender(o SMTPOptions) *SMTPSender {
	if o.Security == "" {
		o.Security = "tls"
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.HelloName == "" {
		o.HelloName = "localhost"
	}
	host, _, _ := net.SplitHostPort(o.Server)
	return &SMTPSender{o: o, host: host}
}

// Check reports what is wrong with the options without connecting: a missing port, an unknown security
// mode, plain text to a host that is not a loopback address.
func (s *SMTPSender) Check() error {
	host, port, err := net.SplitHostPort(s.o.Server)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("smtp server %q: want host:port", s.o.Server)
	}
	switch s.o.Security {
	case "tls", "starttls":
	case "plain":
		if !mailnet.IsLoopback(host) {
			return fmt.Errorf("smtp server %s: security plain is allowed only to a loopback address (use tls or starttls)", s.o.Server)
		}
	default:
		return fmt.Errorf("smtp security %q: want tls, starttls or plain", s.o.Security)
	}
	return nil
}

// SendError is an error of one delivery: the step it happened at and, when the server answered, its code.
type SendError struct {
	Stage string // connect, tls, starttls, hello, auth, mail, rcpt, data
	Code  int    // the server's reply code, 0 when it did not answer (network, TLS, timeout)
	Err   error
}

// Error says the step and what went wrong, with the server's answer when there was one.
func (e *SendError) Error() string { return "smtp " + e.Stage + ": " + e.Err.Error() }

// Unwrap returns the underlying error (a *smtp.SMTPError when the server answered).
func (e *SendError) Unwrap() error { return e.Err }

// Permanent reports whether the server refused this message for good: a 5xx answer to RCPT (no such
// user) or to the message (DATA: spam, too large). A 5xx at connect, hello, auth or MAIL FROM (a wrong
// password, authentication required, "mail from must equal the authorized user", SMTP disabled for the
// mailbox) is about our setup, not about the message, so it is retried like a temporary error while the
// office fixes it.
func (e *SendError) Permanent() bool {
	switch e.Stage {
	case "rcpt", "data":
		return e.Code >= 500 && e.Code < 600
	}
	return false
}

// connection reports whether the error is about the connection or session (not the message): the next
// message would most likely fail the same way.
func (e *SendError) connection() bool {
	switch e.Stage {
	case "rcpt", "data":
		return e.Code == 0 || e.Code == 421
	}
	return true
}

// unreachable reports whether err means no SMTP server answered at all (refused, timed out, cut off, or
// 421 "service not available"), as opposed to a server that answered and refused.
func unreachable(err error) bool {
	var se *SendError
	return errors.As(err, &se) && (se.Code == 0 || se.Code == 421) && se.connection()
}

// IsPermanent reports whether err means the message will never be accepted (a 5xx answer to RCPT or
// DATA). Network errors, timeouts, 4xx answers and problems with our own setup are not permanent.
func IsPermanent(err error) bool {
	var se *SendError
	if errors.As(err, &se) {
		return se.Permanent()
	}
	var pe *smtp.SMTPError
	if errors.As(err, &pe) {
		return pe.Code >= 500 && pe.Code < 600
	}
	return false
}

// isConnectionError reports whether err means the server is unreachable or our session with it does not
// work, so trying the next message now is pointless.
func isConnectionError(err error) bool {
	var se *SendError
	if errors.As(err, &se) {
		return se.connection()
	}
	return false
}

func stageErr(stage string, err error) error {
	if err == nil {
		return nil
	}
	se := &SendError{Stage: stage, Err: err}
	var pe *smtp.SMTPError
	if errors.As(err, &pe) {
		se.Code = pe.Code
	}
	return se
}

// Send delivers msg from the envelope sender to the recipients in one SMTP transaction. It returns nil
// only after the server answered 250 to the end of the data. A *SendError tells the step and the code.
func (s *SMTPSender) Send(ctx context.Context, from string, to []string, msg []byte) error {
	if err := s.Check(); err != nil {
		return &SendError{Stage: "connect", Err: err}
	}
	if len(to) == 0 {
		return &SendError{Stage: "rcpt", Code: 554, Err: errors.New("no recipients")}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*s.o.Timeout)
	defer cancel()
	ss, err := s.open(ctx)
	if err != nil {
		return err
	}
	quitting := false // after the 250, a goroutine says QUIT and closes the connection
	defer func() {
		if !quitting {
			ss.close()
		}
	}()
	c := ss.c
	if err := s.auth(c); err != nil {
		return err
	}
	var mo *smtp.MailOptions
	if !isASCII(from) || !isASCII(strings.Join(to, "")) {
		mo = &smtp.MailOptions{UTF8: true}
	}
	if err := c.Mail(from, mo); err != nil {
		return stageErr("mail", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return stageErr("rcpt", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return stageErr("data", err)
	}
	// The deadline go-smtp cleared after DATA is now one Timeout for writing the message.
	if _, err := w.Write(msg); err != nil {
		return stageErr("data", err)
	}
	if err := w.Close(); err != nil {
		return stageErr("data", err)
	}
	// 250: the server has the message. What follows cannot undo that, so its errors are ignored. QUIT
	// is said in the background (bounded by CommandTimeout) so that the caller records the delivery at
	// once: a crash between the 250 and that record sends the message again, and waiting for the
	// server's goodbye would only widen that window.
	ss.stop()
	quitting = true
	go func() {
		defer ss.conn.Close()
		c.Quit() //nolint:errcheck // the message is delivered
	}()
	return nil
}

// session is one connection to the server, greeted, encrypted as configured and past EHLO.
type session struct {
	conn net.Conn
	c    *smtp.Client
	stop func() bool // undoes the closing of conn when the context is done
}

// close ends the session at once, without QUIT.
func (ss *session) close() {
	ss.stop()
	ss.c.Close()
	ss.conn.Close()
}

// open connects as every delivery does: TCP, then the TLS handshake (security tls) or STARTTLS
// (starttls), then EHLO, each step bounded by Timeout; when ctx is done the connection is closed, which
// ends any step at once. Its error is a *SendError naming the step: connect, tls, starttls or hello.
func (s *SMTPSender) open(ctx context.Context) (*session, error) {
	tlsConf := mailnet.TLSConfig(s.host, s.o.RootCAs)
	dialer := &net.Dialer{Timeout: s.o.Timeout, KeepAlive: 30 * time.Second}
	conn, err := dialer.DialContext(ctx, "tcp", s.o.Server)
	if err != nil {
		return nil, stageErr("connect", err)
	}
	if s.o.Security == "tls" {
		tc := tls.Client(conn, tlsConf)
		hctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			conn.Close()
			return nil, stageErr("tls", err)
		}
		conn = tc
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	// go-smtp allows 5 minutes per command by default and none while the message is written: cap every
	// deadline it sets (and every "no deadline") at one Timeout from now.
	bc := &boundedConn{Conn: conn, timeout: s.o.Timeout}
	bc.SetDeadline(time.Time{})
	var c *smtp.Client
	if s.o.Security == "starttls" {
		// Greeting, EHLO, STARTTLS, TLS handshake; then EHLO again with our name below.
		c, err = smtp.NewClientStartTLS(bc, tlsConf)
		if err != nil {
			stop()
			conn.Close()
			return nil, stageErr("starttls", err)
		}
	} else {
		c = smtp.NewClient(bc)
	}
	c.CommandTimeout = s.o.Timeout
	c.SubmissionTimeout = s.o.Timeout
	ss := &session{conn: conn, c: c, stop: stop}
	if err := c.Hello(s.o.HelloName); err != nil {
		ss.close()
		return nil, stageErr("hello", err)
	}
	return ss, nil
}

// auth logs in as Username with AUTH PLAIN, or LOGIN when the server offers only that; without a
// Username it does nothing (a local relay).
func (s *SMTPSender) auth(c *smtp.Client) error {
	if s.o.Username == "" {
		return nil
	}
	var a sasl.Client
	switch {
	case c.SupportsAuth(sasl.Plain):
		a = sasl.NewPlainClient("", s.o.Username, s.o.Password)
	case c.SupportsAuth(sasl.Login):
		a = sasl.NewLoginClient(s.o.Username, s.o.Password)
	default:
		return &SendError{Stage: "auth", Err: fmt.Errorf("server %s offers neither AUTH PLAIN nor LOGIN", s.o.Server)}
	}
	return stageErr("auth", c.Auth(a))
}

// CheckSMTP tries the server of o as every delivery does (connect, TLS or STARTTLS, EHLO, AUTH) and
// says in the office's words what works and what to fix, then quits: nothing is sent. It stops at the
// first step that fails. `briefd doctor` prints it.
func CheckSMTP(ctx context.Context, o SMTPOptions) []mailnet.Check {
	return NewSMTPSender(o).diagnose(ctx)
}

func (s *SMTPSender) diagnose(ctx context.Context) []mailnet.Check {
	var out []mailnet.Check
	add := func(c mailnet.Check) bool { out = append(out, c); return c.OK }
	if err := s.Check(); err != nil {
		add(mailnet.Check{Step: "SMTP 配置", Detail: err.Error(), Fix: "修改 config.yaml 的 smtp 部分"})
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, 10*s.o.Timeout)
	defer cancel()
	host, port, _ := net.SplitHostPort(s.o.Server)
	ss, err := s.open(ctx)
	// failed is the error of the step stage, nil when open got past it.
	failed := func(stage string) error {
		if se, ok := err.(*SendError); ok && se.Stage == stage {
			return se.Err
		}
		return nil
	}
	if !add(mailnet.ExplainConnect("SMTP 连接 "+s.o.Server, host, port, failed("connect"))) {
		return out
	}
	switch s.o.Security {
	case "tls":
		if !add(mailnet.ExplainTLS("SMTP 加密连接 (TLS)", host, failed("tls"))) {
			return out
		}
	case "starttls":
		if !add(mailnet.ExplainTLS("SMTP 加密连接 (STARTTLS)", host, failed("starttls"))) {
			return out
		}
	}
	if err := failed("hello"); err != nil {
		add(mailnet.Check{Step: "SMTP 问候", Detail: err.Error(), Fix: "服务器没有按 SMTP 协议应答：检查端口（TLS 用 465，STARTTLS 用 587）"})
		return out
	}
	defer ss.close()
	if s.o.Username == "" {
		add(mailnet.Check{Step: "SMTP 登录", OK: true, Warn: true, Detail: "没有配置用户名：不登录（只适合本机或内网中继）"})
	} else if err := s.auth(ss.c); err != nil {
		ck := mailnet.Check{Step: "SMTP 登录 " + s.o.Username, Detail: errors.Unwrap(err).Error(),
			Fix: "发信登录失败：授权码不对或网页邮箱没有开启 SMTP 服务（163/QQ 用同一个授权码）"}
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code == 535 {
			ck.Detail = fmt.Sprintf("服务器答复 535（认证失败）：%s", se.Message)
		}
		add(ck)
		return out
	} else {
		add(mailnet.Check{Step: "SMTP 登录 " + s.o.Username, OK: true, Detail: "用户名和授权码正确"})
	}
	if err := ss.c.Quit(); err != nil && !strings.Contains(err.Error(), "closed") {
		add(mailnet.Check{Step: "SMTP 退出", OK: true, Warn: true, Detail: err.Error()})
	}
	add(mailnet.Check{Step: "SMTP", OK: true, Detail: "可以发信（没有发送任何邮件）"})
	return out
}

// boundedConn caps every deadline at timeout from the moment it is set, so no step can wait longer.
type boundedConn struct {
	net.Conn
	timeout time.Duration
}

func (b *boundedConn) SetDeadline(t time.Time) error {
	if limit := time.Now().Add(b.timeout); t.IsZero() || t.After(limit) {
		t = limit
	}
	return b.Conn.SetDeadline(t)
}

func (b *boundedConn) SetReadDeadline(t time.Time) error {
	if limit := time.Now().Add(b.timeout); t.IsZero() || t.After(limit) {
		t = limit
	}
	return b.Conn.SetReadDeadline(t)
}

func (b *boundedConn) SetWriteDeadline(t time.Time) error {
	if limit := time.Now().Add(b.timeout); t.IsZero() || t.After(limit) {
		t = limit
	}
	return b.Conn.SetWriteDeadline(t)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
