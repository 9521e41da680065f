package mailtest

import (
	"bytes"
	"testing"
	"time"
)

func TestIMAPAddIDCap(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"greeting", "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n", "* OK [CAPABILITY ID IMAP4rev1 AUTH=PLAIN] hi\r\n"},
		{"untagged", "* CAPABILITY IMAP4rev1 IDLE\r\n", "* CAPABILITY ID IMAP4rev1 IDLE\r\n"},
		{"tagged", "T2 OK [CAPABILITY IMAP4rev1 MOVE] Logged in\r\n", "T2 OK [CAPABILITY ID IMAP4rev1 MOVE] Logged in\r\n"},
		{"already", "* CAPABILITY IMAP4rev1 ID\r\n", "* CAPABILITY IMAP4rev1 ID\r\n"},
		{"other", "* 3 EXISTS\r\n", "* 3 EXISTS\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := addIDCap(tc.in); got != tc.want {
				t.Errorf("addIDCap(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

type harness interface {
	Append(mailbox string, raw []byte, date time.Time) (uint32, error)
	Messages(mailbox string) ([]Message, error)
	RecreateMailbox(name string) error
}

func testHarness(t *testing.T, h harness, addr, user, pass, box string) {
	raw := []byte("Subject: hello\r\nMessage-ID: <1@x>\r\n\r\nbody\r\n")
	date := time.Date(2022, 1, 10, 14, 32, 5, 0, time.UTC)
	if _, err := h.Append(box, raw, date); err != nil {
		t.Fatal(err)
	}
	before, err := UIDValidity(addr, user, pass, box)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.RecreateMailbox(box); err != nil {
		t.Fatal(err)
	}
	after, err := UIDValidity(addr, user, pass, box)
	if err != nil || after == before {
		t.Fatalf("UIDVALIDITY %d -> %d (%v)", before, after, err)
	}
	msgs, err := h.Messages(box)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Messages = %d, %v", len(msgs), err)
	}
	if !bytes.Equal(msgs[0].Raw, raw) || !msgs[0].InternalDate.Equal(date) {
		t.Errorf("message after recreate: %q %v", msgs[0].Raw, msgs[0].InternalDate)
	}
}

func TestIMAPMemHarness(t *testing.T) {
	s := NewIMAP(t, IMAPOptions{Mailboxes: []string{"Other"}})
	testHarness(t, s, s.Addr, s.User, s.Pass, "INBOX")
	testHarness(t, s, s.Addr, s.User, s.Pass, "Other")
}

func TestDovecotHarness(t *testing.T) {
	d := NewDovecot(t)
	testHarness(t, d, d.Addr, d.User, d.Pass, "INBOX")
	if err := CreateMailbox(d.Addr, d.User, d.Pass, "简报"); err != nil {
		t.Fatal(err)
	}
	testHarness(t, d, d.Addr, d.User, d.Pass, "简报")
}
