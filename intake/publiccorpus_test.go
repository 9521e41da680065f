package intake

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"briefd/internal/mailtest"
	"briefd/mailmsg"
	"briefd/store"
)

// publicMailDir is the public test mail of other projects (apache/james-mime4j, jhillyerd/enmime), beside
// the project's root for every developer and for CI.
const publicMailDir = "../../shared/corpus/mail"

// publicMail returns the files of publicMailDir; without them the test fails under CI, else skips.
func publicMail(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(publicMailDir, "*"))
	if len(files) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("no public test mail in %s", publicMailDir)
		}
		t.Skipf("no public test mail in %s", publicMailDir)
	}
	return files
}

// maxFieldName is how much of a header line the fingerprinter looks at for a field name.
const maxFieldName = 128

// sameMail is an independent, plain statement of when two raw mails are the same mail: equal once the
// header fields servers add on the way are left out and line ends are LF. It reads the whole message
// (the fingerprinter streams), so the two can check each other.
func sameMailKey(raw []byte) string {
	raw = bytes.ReplaceAll(raw, []byte("\r"), nil)
	head, body, found := bytes.Cut(raw, []byte("\n\n"))
	if bytes.HasPrefix(raw, []byte("\n")) {
		head, body, found = nil, raw[1:], true
	}
	var kept bytes.Buffer
	skip := false
	sc := bufio.NewScanner(bytes.NewReader(head))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if line != "" && (line[0] == ' ' || line[0] == '\t') {
			if !skip {
				kept.WriteString(line + "\n")
			}
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		skip = ok && len(name) <= maxFieldName && mailmsg.TraceField(name)
		if !skip {
			kept.WriteString(line + "\n")
		}
	}
	if found {
		kept.WriteString("\n")
		kept.Write(body)
	}
	sum := sha256.Sum256(kept.Bytes())
	return fmt.Sprintf("%x", sum)
}

// TestDovecotPublicCorpus: every distinct mail of the public corpus gets exactly one receipt on Dovecot,
// though many reuse a Message-ID; a second pass and a UIDVALIDITY change add nothing.
func TestDovecotPublicCorpus(t *testing.T) {
	files := publicMail(t)
	d := mailtest.NewDovecot(t)
	date := time.Date(2026, 11, 20, 9, 0, 0, 0, beijing)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Append("INBOX", raw, date); err != nil {
			t.Errorf("%s: Dovecot refuses it: %v", filepath.Base(f), err)
		}
	}
	stored, err := d.Messages("INBOX")
	if err != nil {
		t.Fatal(err)
	}
	// What Dovecot stored is what briefd reads: the same mail is decided on that.
	distinct, ids, reused := map[string]bool{}, map[string]string{}, 0
	for _, m := range stored {
		k := sameMailKey(m.Raw)
		if distinct[k] {
			continue
		}
		distinct[k] = true
		if id := messageIDOf(m.Raw); id != "" {
			if _, seen := ids[id]; seen {
				reused++
			}
			ids[id] = k
		}
	}

	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "briefd.db"), store.Options{Location: beijing})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := newTestPipeline(t, st, dir)
	os.MkdirAll(filepath.Join(dir, "spool"), 0o700)
	w := NewWatcher(baseOptions(d.Addr, d.User, d.Pass, filepath.Join(dir, "spool")), st, testLogger(t))
	receipts := func(what string) []*store.Receipt {
		t.Helper()
		if _, err := w.Poll(context.Background(), p.Handle); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		rs, err := st.Receipts(nil)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	rs := receipts("first pass")
	if len(rs) != len(distinct) {
		t.Errorf("%d receipts for %d distinct mails (%d stored)", len(rs), len(distinct), len(stored))
	}
	// Every stored message maps to a receipt; the same mail to the same one, others to others.
	uidValidity, err := mailtest.UIDValidity(d.Addr, d.User, d.Pass, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]string{}
	for _, m := range stored {
		n, ok, err := st.LookupMessage(store.MessageKey{Mailbox: "INBOX", UIDValidity: uidValidity, UID: m.UID})
		if err != nil || !ok {
			t.Errorf("uid %d (%s): no receipt (%v)", m.UID, messageIDOf(m.Raw), err)
			continue
		}
		k := sameMailKey(m.Raw)
		if prev, ok := byKey[k]; ok && prev != n {
			t.Errorf("uid %d: the same mail has receipts %s and %s", m.UID, prev, n)
		}
		byKey[k] = n
	}
	seen := map[string]string{}
	shares := 0
	for k, n := range byKey {
		if other, ok := seen[n]; ok {
			t.Errorf("receipt %s stands for two different mails (%s, %s)", n, other[:8], k[:8])
		}
		seen[n] = k
	}
	for _, r := range rs {
		if r.SharesMessageID != "" {
			shares++
		}
	}
	if shares != reused {
		t.Errorf("%d receipts say they share a Message-ID, want %d", shares, reused)
	}
	if again := receipts("second pass"); len(again) != len(rs) {
		t.Errorf("second pass: %d receipts, want %d", len(again), len(rs))
	}
	if err := d.RecreateMailbox("INBOX"); err != nil {
		t.Fatal(err)
	}
	if again := receipts("after a UIDVALIDITY change"); len(again) != len(rs) {
		t.Errorf("after a UIDVALIDITY change: %d receipts, want %d", len(again), len(rs))
	}
	verdicts := map[string]int{}
	for _, r := range rs {
		verdicts[r.Verdict]++
	}
	fmt.Printf("PUBLIC MAIL %d files, %d stored by Dovecot, %d distinct -> %d receipts (%d reuse a Message-ID of another mail); verdicts %v\n",
		len(files), len(stored), len(distinct), len(rs), shares, verdicts)
}

// messageIDOf returns the Message-ID of a raw mail as briefd reads it, "" when it has none.
func messageIDOf(raw []byte) string {
	m, err := mailmsg.Parse(bytes.NewReader(raw), os.TempDir(), mailmsg.ParseOptions{MaxAttachment: 1})
	if err != nil {
		return ""
	}
	m.Cleanup()
	return m.MessageID
}
