package demo

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SinkOptions configure an SMTPSink.
type SinkOptions struct {
	// Addr to listen on. Default "127.0.0.1:0" (a free loopback port).
	Addr string
	// Username and Password, when Username is set, make the sink require AUTH PLAIN before MAIL FROM.
	Username, Password string
	// LoginOnly offers AUTH LOGIN instead of PLAIN, as some providers' servers do.
	LoginOnly bool
	// TLS, when set, offers STARTTLS with this configuration, or speaks TLS from the first byte when
	// ImplicitTLS is set too. NewLoopbackCert makes one.
	TLS         *tls.Config
	ImplicitTLS bool
	// Domain is the name in the greeting. Default "sink.test".
	Domain string
}

// SinkMessage is one message the sink accepted.
type SinkMessage struct {
	From string    // MAIL FROM
	To   []string  // RCPT TO, in order
	Data []byte    // the message as received (dot-unstuffed, CRLF line ends)
	User string    // the authenticated user, "" without AUTH
	TLS  bool      // whether the session was encrypted
	At   time.Time // when the sink answered 250
}

// SMTPSink is an SMTP server on a loopback port that records every message it accepts. It can be told to
// refuse the next messages with a temporary (4xx) or permanent (5xx) answer, and be stopped and started
// again on the same port, to show how a sender copes with a server that is down. It is safe for concurrent
// use.
type SMTPSink struct {
	opts SinkOptions
	addr string

	mu       sync.Mutex
	server   *smtp.Server
	ln       net.Listener
	done     chan struct{}
	msgs     []SinkMessage
	failN    int             // answer the next failN messages with failErr
	failErr  *smtp.SMTPError // nil: accept
	always   *smtp.SMTPError // every message gets this answer while set
	attempts int             // DATA transactions seen, accepted or not
	notify   chan struct{}   // closed and replaced on every accepted message
}

// NewSMTPSink starts a sink. Stop it with Close.
func NewSMTPSink(opts SinkOptions) (*SMTPSink, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Domain == "" {
		opts.Domain = "sink.test"
	}
	if opts.ImplicitTLS && opts.TLS == nil {
		return nil, errors.New("demo: ImplicitTLS needs a TLS config")
	}
	s := &SMTPSink{opts: opts, notify: make(chan struct{})}
	if err := s.start(opts.Addr); err != nil {
		return nil, err
	}
	return s, nil
}

// Addr is the host:port the sink listens on; it stays the same across Stop and Start.
func (s *SMTPSink) Addr() string { return s.addr }

func (s *SMTPSink) start(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.server != nil {
		return nil
	}
	var ln net.Listener
	var err error
	// Right after Stop the port may still be busy for a moment; try for a second.
	for i := 0; i < 50; i++ {
		ln, err = net.Listen("tcp", addr)
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("demo: smtp sink listen on %s: %w", addr, err)
	}
	if s.opts.ImplicitTLS {
		ln = tls.NewListener(ln, s.opts.TLS)
	}
	srv := smtp.NewServer(&sinkBackend{s: s})
	srv.Domain = s.opts.Domain
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 64 << 20
	srv.MaxRecipients = 10
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.EnableSMTPUTF8 = true
	srv.AllowInsecureAuth = s.opts.TLS == nil
	if !s.opts.ImplicitTLS {
		srv.TLSConfig = s.opts.TLS
	}
	s.server, s.ln, s.addr = srv, ln, ln.Addr().String()
	done := make(chan struct{})
	s.done = done
	go func() {
		defer close(done)
		srv.Serve(ln) //nolint:errcheck // ends when Stop closes the listener
	}()
	return nil
}

// Start starts a stopped sink again on the same port. Starting a running sink does nothing.
func (s *SMTPSink) Start() error { return s.start(s.addr) }

// Stop closes the listener and every open connection: clients see "connection refused" until Start.
func (s *SMTPSink) Stop() error {
	s.mu.Lock()
	srv, ln, done := s.server, s.ln, s.done
	s.server, s.ln, s.done = nil, nil, nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	// Serve may not have registered the listener with the server yet: close it here too.
	if lerr := ln.Close(); err == nil && lerr != nil && !errors.Is(lerr, net.ErrClosed) {
		err = lerr
	}
	<-done
	return err
}

// Close stops the sink for good.
func (s *SMTPSink) Close() error { return s.Stop() }

// FailNext makes the sink answer the next n messages (at the end of DATA) with code and text, e.g.
// 451 "4.3.0 try again later"; those messages are not recorded.
func (s *SMTPSink) FailNext(n, code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failErr = n, sinkError(code, text)
}

// RejectAll makes the sink answer every message with code and text (e.g. 550) until RejectAll(0, "").
func (s *SMTPSink) RejectAll(code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.always = nil
		return
	}
	s.always = sinkError(code, text)
}

func sinkError(code int, text string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: text}
}

// Messages returns a copy of the messages accepted so far, in order.
func (s *SMTPSink) Messages() []SinkMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SinkMessage, len(s.msgs))
	copy(out, s.msgs)
	return out
}

// Attempts is the number of messages offered (DATA sent), whether accepted or refused.
func (s *SMTPSink) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Reset forgets the recorded messages and attempts and any refusal set.
func (s *SMTPSink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs, s.attempts, s.failN, s.failErr, s.always = nil, 0, 0, nil, nil
}

// Wait waits until the sink has accepted at least n messages, or ctx ends.
func (s *SMTPSink) Wait(ctx context.Context, n int) ([]SinkMessage, error) {
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			out := append([]SinkMessage(nil), s.msgs...)
			s.mu.Unlock()
			return out, nil
		}
		ch := s.notify
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return s.Messages(), fmt.Errorf("demo: waiting for %d messages: %w", n, ctx.Err())
		}
	}
}

type sinkBackend struct{ s *SMTPSink }

func (b *sinkBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &sinkSession{s: b.s, tls: isTLS, conn: c}, nil
}

type sinkSession struct {
	s    *SMTPSink
	conn *smtp.Conn
	tls  bool
	user string
	from string
	to   []string
}

func (ss *sinkSession) AuthMechanisms() []string {
	switch {
	case ss.s.opts.Username == "":
		return nil
	case ss.s.opts.LoginOnly:
		return []string{sasl.Login}
	}
	return []string{sasl.Plain}
}

func (ss *sinkSession) Auth(mech string) (sasl.Server, error) {
	mechs := ss.AuthMechanisms()
	if len(mechs) == 0 || mech != mechs[0] {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	check := func(username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}
	if mech == sasl.Login {
		return &loginServer{check: check}, nil
	}
	return sasl.NewPlainServer(func(_, username, password string) error { return check(username, password) }), nil
}

// loginServer is the server side of AUTH LOGIN: the user name (in the first response, or asked for),
// then the password.
type loginServer struct {
	user  *string
	check func(username, password string) error
}

// Next asks for what is missing, then checks.
func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch {
	case l.user == nil && len(response) == 0:
		return []byte("Username:"), false, nil
	case l.user == nil:
		u := string(response)
		l.user = &u
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(*l.user, string(response))
}

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if s.always != nil {
		return s.always
	}
	if s.failN > 0 && s.failErr != nil {
		s.failN--
		return s.failErr
	}
	_, isTLS := ss.conn.TLSConnectionState()
	s.msgs = append(s.msgs, SinkMessage{
		From: ss.from, To: append([]string(nil), ss.to...), Data: bytes.Clone(data),
		User: ss.user, TLS: isTLS || ss.tls, At: time.Now(),
	})
	close(s.notify)
	s.notify = make(chan struct{})
	return nil
}

func (ss *sinkSession) Reset() { ss.from, ss.to = "", nil }

func (ss *sinkSession) Logout() error { return nil }

// NewLoopbackCert makes a self-signed certificate for 127.0.0.1, ::1 and localhost, valid for a day. It
