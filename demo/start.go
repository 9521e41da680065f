package demo

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"briefd/config"
)

// Setting is the demo's world, running: its IMAP server holding the sample mail, its SMTP sink, and the
// config that points briefd at them.
type Setting struct {
	IMAP       *IMAPServer
	Sink       *SMTPSink
	Samples    []Sample // in the mailbox, in this order
	ConfigPath string   // config.yaml in the folder given to Start
}

// Start starts the demo's servers on loopback ports, fills the mailbox with Samples(now) and writes the
// demo's config (Config) into dir, with the dashboard on webPort. Close stops the servers.
func Start(dir string, now time.Time, webPort int) (*Setting, error) {
	s := &Setting{}
	var err error
	if s.IMAP, err = StartIMAP(IMAPOptions{User: "office", Pass: "demo-imap-password"}); err != nil {
		return nil, fmt.Errorf("starting the demo IMAP server: %w", err)
	}
	if s.Sink, err = NewSMTPSink(SinkOptions{}); err != nil {
		s.Close()
		return nil, fmt.Errorf("starting the demo SMTP sink: %w", err)
	}
	if s.Samples, err = Samples(now); err != nil {
		s.Close()
		return nil, err
	}
	for _, m := range s.Samples {
		if _, err := s.IMAP.Append("INBOX", m.Raw, m.Date); err != nil {
			s.Close()
			return nil, fmt.Errorf("filling the demo mailbox: %w", err)
		}
	}
	c, err := Config(dir, s.IMAP.Addr, s.Sink.Addr(), webPort, now)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.ConfigPath = filepath.Join(dir, "config.yaml")
	if err := config.Write(s.ConfigPath, c); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops the servers.
func (s *Setting) Close() error {
	var errs []error
	if s.Sink != nil {
		errs = append(errs, s.Sink.Close())
	}
	if s.IMAP != nil {
		errs = append(errs, s.IMAP.Close())
	}
	return errors.Join(errs...)
}
