package demo

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// IMAPOptions configure an in-memory IMAP server.
type IMAPOptions struct {
	User, Pass string      // default "office", "secret"
	Mailboxes  []string    // created at start; INBOX always is
	Caps       imap.CapSet // default IMAP4rev1 + IMAP4rev2 (which brings IDLE, MOVE, UIDPLUS)
	Debug      io.Writer   // server side protocol transcript
	Logger     *log.Logger // server errors; default discarded
	Listen     string      // default 127.0.0.1:0
	// TLS enables STARTTLS with this configuration, or, with ImplicitTLS, TLS from the first byte.
	TLS         *tls.Config
	ImplicitTLS bool
}

// IMAPServer is go-imap's in-memory server on a real loopback TCP listener.
type IMAPServer struct {
	Addr, User, Pass string

	ln   net.Listener
	srv  *imapserver.Server
	done chan struct{}
}

// StartIMAP starts an in-memory IMAP server.
func StartIMAP(o IMAPOptions) (*IMAPServer, error) {
	if o.User == "" {
		o.User = "office"
	}
	if o.Pass == "" {
		o.Pass = "secret"
	}
	if o.Caps == nil {
		o.Caps = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.Logger == nil {
		o.Logger = log.New(io.Discard, "", 0)
	}
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(o.User, o.Pass)
	for _, name := range append([]string{"INBOX"}, o.Mailboxes...) {
		if err := user.Create(name, nil); err != nil {
			return nil, fmt.Errorf("demo: create %s: %w", name, err)
		}
	}
	mem.AddUser(user)
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("demo: listen: %w", err)
	}
	addr := ln.Addr().String()
	var starttls *tls.Config
	switch {
	case o.TLS != nil && o.ImplicitTLS:
		ln = tls.NewListener(ln, o.TLS)
	case o.TLS != nil:
		starttls = o.TLS
	}
	srv := imapserver.New(&imapserver.Options{
		TLSConfig: starttls,
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		InsecureAuth: true,
		Caps:         o.Caps,
		DebugWriter:  o.Debug,
		Logger:       o.Logger,
	})
	s := &IMAPServer{Addr: addr, User: o.User, Pass: o.Pass, ln: ln, srv: srv, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		srv.Serve(ln)
	}()
	return s, nil
}

// Close stops the server and closes its connections.
func (s *IMAPServer) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}

// Append stores a message in mailbox with the given INTERNALDATE and returns its UID.
func (s *IMAPServer) Append(mailbox string, raw []byte, date time.Time) (uint32, error) {
	return Append(s.Addr, s.User, s.Pass, mailbox, raw, date)
}

// RecreateMailbox gives the mailbox a new UIDVALIDITY: it is deleted and created again, and its messages
// are appended again (with new UIDs), as after a server migration.
func (s *IMAPServer) RecreateMailbox(name string) error {
	return RecreateMailbox(s.Addr, s.User, s.Pass, name)
}

// Messages lists a mailbox.
func (s *IMAPServer) Messages(mailbox string) ([]Message, error) {
	return Messages(s.Addr, s.User, s.Pass, mailbox)
}

// Message is a stored message as Messages returns it.
type Message struct {
	UID          uint32
	Flags        []string
	InternalDate time.Time
	Raw          []byte
}

// HasFlag reports whether the message carries flag (e.g. `\Seen`).
func (m Message) HasFlag(flag string) bool { return slices.Contains(m.Flags, flag) }

func login(addr, user, pass string) (*imapclient.Client, error) {
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		return nil, fmt.Errorf("demo: dial %s: %w", addr, err)
	}
	if err := c.Login(user, pass).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("demo: login %s: %w", addr, err)
	}
	return c, nil
}

// Append stores a message through IMAP APPEND on a plain loopback server; it returns the new UID when
// the server tells (UIDPLUS), else 0.
func Append(addr, user, pass, mailbox string, raw []byte, date time.Time) (uint32, error) {
	c, err := login(addr, user, pass)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	uid, err := appendWith(c, mailbox, raw, date, nil)
	if err != nil {
		return 0, err
	}
	return uid, c.Logout().Wait()
}

func appendWith(c *imapclient.Client, mailbox string, raw []byte, date time.Time, flags []imap.Flag) (uint32, error) {
	cmd := c.Append(mailbox, int64(len(raw)), &imap.AppendOptions{Time: date, Flags: flags})
	if _, err := cmd.Write(raw); err != nil {
		return 0, fmt.Errorf("demo: append to %s: %w", mailbox, err)
	}
	if err := cmd.Close(); err != nil {
		return 0, fmt.Errorf("demo: append to %s: %w", mailbox, err)
	}
	data, err := cmd.Wait()
	if err != nil {
		return 0, fmt.Errorf("demo: append to %s: %w", mailbox, err)
	}
	return uint32(data.UID), nil
}

// Messages returns every message of a mailbox with its body (for tests: it reads them into memory).
func Messages(addr, user, pass, mailbox string) ([]Message, error) {
	c, err := login(addr, user, pass)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	msgs, err := messagesWith(c, mailbox)
	if err != nil {
		return nil, err
	}
	return msgs, c.Logout().Wait()
}

func messagesWith(c *imapclient.Client, mailbox string) ([]Message, error) {
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("demo: select %s: %w", mailbox, err)
	}
	if sel.NumMessages == 0 {
		return nil, nil
	}
	section := &imap.FetchItemBodySection{Peek: true}
	bufs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID: true, Flags: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{section},
	}).Collect()
	if err != nil {
		return nil, fmt.Errorf("demo: fetch %s: %w", mailbox, err)
	}
	var out []Message
	for _, b := range bufs {
		m := Message{UID: uint32(b.UID), InternalDate: b.InternalDate, Raw: bytes.Clone(b.FindBodySection(section))}
		for _, f := range b.Flags {
			m.Flags = append(m.Flags, string(f))
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Message) int { return int(a.UID) - int(b.UID) })
	return out, nil
}

// UIDValidity returns the mailbox's UIDVALIDITY.
func UIDValidity(addr, user, pass, mailbox string) (uint32, error) {
	c, err := login(addr, user, pass)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	st, err := c.Status(mailbox, &imap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		return 0, fmt.Errorf("demo: status %s: %w", mailbox, err)
	}
	return st.UIDValidity, c.Logout().Wait()
}

// CreateMailbox creates a mailbox.
func CreateMailbox(addr, user, pass, mailbox string) error {
	c, err := login(addr, user, pass)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Create(mailbox, nil).Wait(); err != nil {
		return fmt.Errorf("demo: create %s: %w", mailbox, err)
	}
	return c.Logout().Wait()
}

// RecreateMailbox deletes mailbox and makes it again with the same messages: a new UIDVALIDITY, as after
// a server migration. (INBOX cannot be deleted over IMAP.)
func RecreateMailbox(addr, user, pass, mailbox string) error {
	c, err := login(addr, user, pass)
	if err != nil {
		return err
	}
	defer c.Close()
	msgs, err := messagesWith(c, mailbox)
	if err != nil {
		return err
	}
	old, err := c.Status(mailbox, &imap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		return fmt.Errorf("demo: status %s: %w", mailbox, err)
	}
	if err := c.Unselect().Wait(); err != nil {
		return fmt.Errorf("demo: unselect: %w", err)
	}
	if err := c.Delete(mailbox).Wait(); err != nil {
		return fmt.Errorf("demo: delete %s: %w", mailbox, err)
	}
	if err := c.Create(mailbox, nil).Wait(); err != nil {
		return fmt.Errorf("demo: create %s: %w", mailbox, err)
	}
	for _, m := range msgs {
		var flags []imap.Flag
		for _, f := range m.Flags {
			if f != `\Recent` {
				flags = append(flags, imap.Flag(f))
			}
		}
		if _, err := appendWith(c, mailbox, m.Raw, m.InternalDate, flags); err != nil {
			return err
		}
	}
	st, err := c.Status(mailbox, &imap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		return fmt.Errorf("demo: status %s: %w", mailbox, err)
	}
	if st.UIDValidity == old.UIDValidity {
		return errors.New("demo: recreated mailbox kept its UIDVALIDITY")
	}
	return c.Logout().Wait()
}

// AppendAll appends the samples to mailbox over one connection (Append logs in for every message, which
// is slow for a backlog of hundreds) and returns their UIDs.
func AppendAll(addr, user, pass, mailbox string, samples []Sample) ([]uint32, error) {
	c, err := login(addr, user, pass)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	uids := make([]uint32, 0, len(samples))
	for _, s := range samples {
		uid, err := appendWith(c, mailbox, s.Raw, s.Date, nil)
		if err != nil {
			return uids, err
		}
		uids = append(uids, uid)
	}
	return uids, c.Logout().Wait()
}
