package store

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"briefd/internal/emulator"
)

var beijing = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

func openTest(t *testing.T, path string) *Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "data", "briefd.db")
	}
	s, err := Open(path, Options{Prefix: "JB", Location: beijing})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func receipt(msgID string, at time.Time) *Receipt {
	return &Receipt{Received: at, MessageID: msgID, From: "xinfu-jky@example.cn", Subject: "简报", Verdict: VerdictAccepted}
}

func count(t *testing.T, s *Store) (receipts, outbox int) {
	t.Helper()
	rs, err := s.Receipts(nil)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := s.Outbox(nil)
	if err != nil {
		t.Fatal(err)
	}
	return len(rs), len(ob)
}

func TestReceiptNumbersConcurrent(t *testing.T) {
	s := openTest(t, "")
	const writers, each = 8, 50
	years := []time.Time{
		time.Date(2025, 6, 1, 9, 0, 0, 0, beijing),
		time.Date(2026, 3, 1, 9, 0, 0, 0, beijing),
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				rec := receipt(fmt.Sprintf("<%d.%d@example.cn>", w, i), years[(w+i)%2])
				key := &MessageKey{Mailbox: "INBOX", UIDValidity: 7, UID: uint32(w*each + i + 1)}
				n, dup, err := s.Record(rec, key, &Cursor{Mailbox: "INBOX", UIDValidity: 7, LastUID: key.UID}, &OutboxItem{Kind: KindReply})
				switch {
				case err != nil:
					errs <- err
				case dup:
					errs <- fmt.Errorf("%s recorded as a duplicate", rec.MessageID)
				case n != rec.Number:
					errs <- fmt.Errorf("Record returned %s but set rec.Number %s", n, rec.Number)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	rs, err := s.Receipts(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != writers*each {
		t.Fatalf("%d receipts, want %d", len(rs), writers*each)
	}
	perYear := map[string][]string{}
	for _, r := range rs {
		y := r.Number[2:6]
		if want := fmt.Sprint(r.Received.In(beijing).Year()); y != want {
			t.Errorf("%s received in %s", r.Number, want)
		}
		perYear[y] = append(perYear[y], r.Number)
	}
	for _, y := range []string{"2025", "2026"} {
		got := perYear[y]
		sort.Strings(got)
		if len(got) != writers*each/2 {
			t.Errorf("%s: %d receipts, want %d", y, len(got), writers*each/2)
		}
		for i, n := range got {
			if want := fmt.Sprintf("JB%s-%04d", y, i+1); n != want {
				t.Fatalf("%s: number %d is %s, want %s (gap or duplicate)", y, i+1, n, want)
			}
		}
	}
	if _, ob := count(t, s); ob != writers*each {
		t.Errorf("outbox holds %d replies, want %d", ob, writers*each)
	}
	cur, err := s.Cursor("INBOX")
	if err != nil || cur.LastUID != writers*each || cur.UIDValidity != 7 {
		t.Errorf("cursor %+v %v, want last UID %d", cur, err, writers*each)
	}
}

func TestReceiptYearInOfficeTimeZone(t *testing.T) {
	s := openTest(t, "")
	// 2025-12-31 16:30 UTC is 2026-01-01 00:30 in Beijing: the first receipt of 2026.
	n, _, err := s.Record(receipt("<a@x>", time.Date(2025, 12, 31, 16, 30, 0, 0, time.UTC)), nil, nil, nil)
	if err != nil || n != "JB2026-0001" {
		t.Errorf("got %s %v, want JB2026-0001", n, err)
	}
	n, _, err = s.Record(receipt("<b@x>", time.Date(2025, 12, 31, 15, 59, 0, 0, time.UTC)), nil, nil, nil)
	if err != nil || n != "JB2025-0001" {
		t.Errorf("got %s %v, want JB2025-0001", n, err)
	}
}

func TestRecordDuplicate(t *testing.T) {
	at := time.Date(2026, 1, 10, 9, 0, 0, 0, beijing)
	key := MessageKey{Mailbox: "INBOX", UIDValidity: 1, UID: 5}
	tests := []struct {
		name   string
		second func() (*Receipt, *MessageKey)
	}{
		{"same message key", func() (*Receipt, *MessageKey) { return receipt("<other@x>", at), &key }},
		{"same Message-ID, new key (UIDVALIDITY changed)", func() (*Receipt, *MessageKey) {
			return receipt("<first@x>", at), &MessageKey{Mailbox: "INBOX", UIDValidity: 2, UID: 1}
		}},
		{"same Message-ID, no key", func() (*Receipt, *MessageKey) { return receipt("<first@x>", at), nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, "")
			first, dup, err := s.Record(receipt("<first@x>", at), &key, nil, &OutboxItem{Kind: KindReply})
			if err != nil || dup || first != "JB2026-0001" {
				t.Fatalf("first Record: %s %v %v", first, dup, err)
			}
			rec, k := tc.second()
			n, dup, err := s.Record(rec, k, nil, &OutboxItem{Kind: KindReply})
			if err != nil || !dup || n != first {
				t.Errorf("second Record = %s dup=%v %v, want %s dup=true", n, dup, err, first)
			}
			if r, o := count(t, s); r != 1 || o != 1 {
				t.Errorf("after the duplicate: %d receipts, %d outbox items, want 1 and 1", r, o)
			}
			if rec.Number != "" {
				t.Errorf("the duplicate got a number: %s", rec.Number)
			}
			// No number was used up: the next message is 0002.
			n, _, err = s.Record(receipt("<next@x>", at), nil, nil, nil)
			if err != nil || n != "JB2026-0002" {
				t.Errorf("next Record = %s %v, want JB2026-0002", n, err)
			}
			if got, ok, _ := s.LookupMessageID("<first@x>"); !ok || got != first {
				t.Errorf("LookupMessageID = %s %v", got, ok)
			}
			if got, ok, _ := s.LookupMessage(key); !ok || got != first {
				t.Errorf("LookupMessage = %s %v", got, ok)
			}
		})
	}
}

func TestCursorOnlyMovesForward(t *testing.T) {
	s := openTest(t, "")
	at := time.Date(2026, 1, 10, 9, 0, 0, 0, beijing)
	steps := []struct {
		name string
		cur  Cursor
		rec  bool // through Record, else SetCursor
		want Cursor
	}{
		{"first", Cursor{"INBOX", 1, 10}, true, Cursor{"INBOX", 1, 10}},
		{"forward", Cursor{"INBOX", 1, 12}, true, Cursor{"INBOX", 1, 12}},
		{"back through Record is ignored", Cursor{"INBOX", 1, 11}, true, Cursor{"INBOX", 1, 12}},
		{"back through SetCursor is ignored", Cursor{"INBOX", 1, 3}, false, Cursor{"INBOX", 1, 12}},
		{"forward through SetCursor", Cursor{"INBOX", 1, 20}, false, Cursor{"INBOX", 1, 20}},
		{"new UIDVALIDITY resets", Cursor{"INBOX", 2, 0}, false, Cursor{"INBOX", 2, 0}},
		{"another mailbox is separate", Cursor{"其他", 1, 1}, false, Cursor{"INBOX", 2, 0}},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var err error
			if st.rec {
				_, _, err = s.Record(receipt(fmt.Sprintf("<%d@x>", i), at), nil, &st.cur, nil)
			} else {
				err = s.SetCursor(st.cur)
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Cursor("INBOX")
			if err != nil || got != st.want {
				t.Errorf("cursor = %+v %v, want %+v", got, err, st.want)
			}
		})
	}
	if c, _ := s.Cursor("never"); c != (Cursor{Mailbox: "never"}) {
		t.Errorf("unread mailbox cursor = %+v", c)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "briefd.db")
	s, err := Open(path, Options{Location: beijing})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 10, 9, 0, 0, 0, beijing)
	rec := receipt("<a@x>", at)
	rec.Attachments = []Attachment{{Filename: "忻府区简报.pdf", Size: 1234, SHA256: "ab", Kind: "pdf", Verdict: "ok", Pages: 3}}
	key := MessageKey{"INBOX", 9, 4}
	n, _, err := s.Record(rec, &key, &Cursor{"INBOX", 9, 4}, &OutboxItem{Kind: KindReply})
	if err != nil {
		t.Fatal(err)
	}
	mark := time.Date(2026, 1, 12, 8, 30, 0, 0, beijing)
	if err := s.SetMark("summary-2026-W03", mark); err != nil {
		t.Fatal(err)
	}
	if err := s.Learn(" New@QQ.com ", "xinfu"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, path)
	got, err := s.Receipt(n)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "简报" || len(got.Attachments) != 1 || got.Attachments[0].Pages != 3 || !got.Received.Equal(at) || got.Reply != ReplyQueued {
		t.Errorf("receipt after reopen: %+v", got)
	}
	if c, _ := s.Cursor("INBOX"); c != (Cursor{"INBOX", 9, 4}) {
		t.Errorf("cursor after reopen: %+v", c)
	}
	if m, ok, err := s.Mark("summary-2026-W03"); !ok || err != nil || !m.Equal(mark) {
		t.Errorf("mark after reopen: %v %v %v", m, ok, err)
	}
	if l, _ := s.Learned(); l["new@qq.com"] != "xinfu" {
		t.Errorf("learned after reopen: %v", l)
	}
	if ob, _ := s.Outbox(nil); len(ob) != 1 || ob[0].Receipt != n || ob[0].To != "xinfu-jky@example.cn" {
		t.Errorf("outbox after reopen: %+v", ob)
	}
	if k, ok, _ := s.LookupMessage(key); !ok || k != n {
		t.Errorf("message key index after reopen: %q %v", k, ok)
	}
	n2, _, err := s.Record(receipt("<b@x>", at), nil, nil, nil)
	if err != nil || n2 != "JB2026-0002" {
		t.Errorf("numbering after reopen: %s %v, want JB2026-0002", n2, err)
	}
	if _, err := s.Receipt("JB2026-9999"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown receipt: %v, want ErrNotFound", err)
	}
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s := openTest(t, filepath.Join(dir, "briefd.db"))
	for _, tc := range []struct {
		path string
		want os.FileMode
	}{{dir, 0o700}, {s.Path(), 0o600}} {
		st, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != tc.want {
			t.Errorf("%s: mode %o, want %o", tc.path, got, tc.want)
		}
	}
}

// The helper process of TestSecondOpen: it holds the database until its stdin closes.
func TestHelperHoldStore(t *testing.T) {
	path := os.Getenv("BRIEFD_TEST_HOLD_STORE")
	if path == "" {
		t.Skip("helper process for TestSecondOpenFailsFast")
	}
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	s.Close()
	os.Exit(0)
}

func TestSecondOpenFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "briefd.db")
	t.Run("another process", func(t *testing.T) {
		argv := emulator.Command(os.Args[0], "-test.run=^TestHelperHoldStore$") // through qemu-user in make test-emulated
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "BRIEFD_TEST_HOLD_STORE="+path)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			stdin.Close()
			cmd.Wait()
		}()
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if strings.TrimSpace(line) != "ready" {
			t.Fatalf("helper: %q", line)
		}
		start := time.Now()
		s, err := Open(path, Options{})
		if err == nil {
			s.Close()
			t.Fatal("second Open succeeded while another process holds the file")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("second Open took %v, want < 2s", d)
		}
		if !errors.Is(err, ErrInUse) {
			t.Errorf("error %v is not ErrInUse", err)
		}
		want := fmt.Sprintf("database is in use by another briefd (pid %d)", cmd.Process.Pid)
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
		// Once the holder is gone the file opens again.
		stdin.Close()
		cmd.Wait()
		s, err = Open(path, Options{})
		if err != nil {
			t.Fatalf("Open after the holder exited: %v", err)
		}
		s.Close()
	})
	t.Run("same process", func(t *testing.T) {
		// flock locks belong to an open file description, so a second bolt.Open in the same process
		// waits for the lock as another process would.
		s1 := openTest(t, path)
		start := time.Now()
		s2, err := Open(path, Options{LockTimeout: 200 * time.Millisecond})
		if err == nil {
			s2.Close()
			t.Fatal("second Open in the same process succeeded")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("second Open took %v", d)
		}
		want := fmt.Sprintf("database is in use by another briefd (pid %d)", os.Getpid())
		if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), want) {
			t.Errorf("error %q, want ErrInUse saying %q", err, want)
		}
		// The failed Open must not have removed the holder's pid file.
		s1.Close()
		s3, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		s3.Close()
	})
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "briefd.db")
	s := openTest(t, path)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put([]byte("schema"), []byte("99"))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := Open(path, Options{})
	if err == nil {
		s.Close()
		t.Fatal("opened a database with a newer schema")
	}
	if !regexp.MustCompile(`schema 99 is newer`).MatchString(err.Error()) {
		t.Errorf("error %q", err)
	}
}

func TestOutbox(t *testing.T) {
	at := time.Date(2026, 1, 10, 9, 0, 0, 0, beijing)
	s := openTest(t, "")
	n, _, err := s.Record(receipt("<a@x>", at), nil, nil, &OutboxItem{Kind: KindReply, NextTry: at})
	if err != nil {
		t.Fatal(err)
	}
	later := &OutboxItem{Kind: KindSummary, To: "head@example.cn", Message: []byte("Subject: x\r\n\r\nbody"), NextTry: at.Add(time.Hour)}
	if err := s.Enqueue(later); err != nil {
		t.Fatal(err)
	}
	if later.ID == 0 || later.State != OutQueued {
		t.Errorf("Enqueue left id %d state %q", later.ID, later.State)
	}
	due, err := s.Due(at)
	if err != nil || len(due) != 1 || due[0].Receipt != n || due[0].Kind != KindReply {
		t.Fatalf("Due(at) = %+v %v, want only the reply", due, err)
	}
	if due, _ := s.Due(at.Add(2 * time.Hour)); len(due) != 2 {
		t.Errorf("Due(later) = %d items, want 2", len(due))
	}
	reply := due[0]

	for _, tc := range []struct {
		name      string
		update    func(*OutboxItem)
		wantReply string
		wantNote  string
		wantDue   int // due at +2h
	}{
		{"failed attempt, retry later", func(it *OutboxItem) {
			it.Attempts++
			it.LastError = "421 try later"
			it.NextTry = at.Add(10 * time.Minute)
		}, ReplyQueued, "421 try later", 2},
		{"failed for good", func(it *OutboxItem) { it.State, it.LastError = OutFailed, "550 no such user" }, ReplyFailed, "550 no such user", 1},
		{"suppressed", func(it *OutboxItem) { it.State, it.LastError = OutSuppressed, "auto-submitted" }, ReplySuppressed, "auto-submitted", 1},
		{"sent", func(it *OutboxItem) { it.State, it.LastError, it.Sent = OutSent, "", at }, ReplySent, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.UpdateOutbox(reply.ID, tc.update); err != nil {
				t.Fatal(err)
			}
			r, err := s.Receipt(n)
			if err != nil {
				t.Fatal(err)
			}
			if r.Reply != tc.wantReply || r.ReplyNote != tc.wantNote {
				t.Errorf("receipt reply %q note %q, want %q %q", r.Reply, r.ReplyNote, tc.wantReply, tc.wantNote)
			}
			if due, _ := s.Due(at.Add(2 * time.Hour)); len(due) != tc.wantDue {
				t.Errorf("Due = %d items, want %d", len(due), tc.wantDue)
			}
		})
	}
	if err := s.UpdateOutbox(12345, func(*OutboxItem) {}); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateOutbox of an unknown id: %v", err)
	}

	t.Run("Requeue", func(t *testing.T) {
		it, err := s.Requeue(n, at.Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if it.Kind != KindReply || it.Receipt != n || it.To != "xinfu-jky@example.cn" || it.State != OutQueued {
			t.Errorf("requeued item %+v", it)
		}
		r, _ := s.Receipt(n)
		if r.Reply != ReplyQueued {
			t.Errorf("receipt reply after Requeue: %q", r.Reply)
		}
		if due, _ := s.Due(at.Add(3 * time.Hour)); len(due) != 2 {
			t.Errorf("Due after Requeue = %d, want 2", len(due))
		}
		if _, err := s.Requeue("JB2026-9999", at); !errors.Is(err, ErrNotFound) {
			t.Errorf("Requeue of an unknown receipt: %v", err)
		}
	})

	t.Run("EnqueueOnce", func(t *testing.T) {
		before, _ := s.Outbox(nil)
		for i, want := range []bool{true, false, false} {
			q, err := s.EnqueueOnce("summary-2026-W02", at, &OutboxItem{Kind: KindSummary, To: "head@example.cn"})
			if err != nil || q != want {
				t.Errorf("EnqueueOnce #%d = %v %v, want %v", i+1, q, err, want)
			}
		}
		after, _ := s.Outbox(nil)
		if len(after) != len(before)+1 {
			t.Errorf("EnqueueOnce three times added %d items, want 1", len(after)-len(before))
		}
		if m, ok, _ := s.Mark("summary-2026-W02"); !ok || !m.Equal(at) {
			t.Errorf("mark %v %v", m, ok)
		}
	})
}

func TestBackup(t *testing.T) {
	at := time.Date(2026, 1, 10, 9, 0, 0, 0, beijing)
	s := openTest(t, "")
	for i := range 5 {
		if _, _, err := s.Record(receipt(fmt.Sprintf("<%d@x>", i), at), nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		write func(path string) error
	}{
		{"BackupFile", func(p string) error { _, err := s.BackupFile(p); return err }},
		{"Backup to a writer", func(p string) error {
			f, err := os.Create(p)
			if err != nil {
				return err
			}
			if _, err := s.Backup(f); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".db")
			if err := tc.write(p); err != nil {
				t.Fatal(err)
			}
			b, err := Open(p, Options{Location: beijing})
			if err != nil {
				t.Fatalf("the copy does not open: %v", err)
			}
			defer b.Close()
			orig, _ := s.Receipts(nil)
			cp, _ := b.Receipts(nil)
			if len(cp) != len(orig) {
				t.Fatalf("copy has %d receipts, want %d", len(cp), len(orig))
			}
			for i := range cp {
				if cp[i].Number != orig[i].Number || cp[i].MessageID != orig[i].MessageID {
					t.Errorf("copy receipt %d = %s %s, want %s %s", i, cp[i].Number, cp[i].MessageID, orig[i].Number, orig[i].MessageID)
				}
			}
			if n, _, _ := b.Record(receipt("<new@x>", at), nil, nil, nil); n != "JB2026-0006" {
				t.Errorf("numbering in the copy continues with %s, want JB2026-0006", n)
			}
		})
	}
	t.Run("BackupFile mode", func(t *testing.T) {
		p := filepath.Join(dir, "BackupFile.db")
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("backup mode: %v %v", st.Mode(), err)
		}
	})
}

func TestUpdateReceipt(t *testing.T) {
	s := openTest(t, "")
	n, _, _ := s.Record(receipt("<a@x>", time.Date(2026, 1, 10, 9, 0, 0, 0, beijing)), nil, nil, nil)
	if err := s.UpdateReceipt(n, func(r *Receipt) error { r.Unit, r.Number = "xinfu", "JB2026-0099"; return nil }); err != nil {
		t.Fatal(err)
	}
	r, _ := s.Receipt(n)
	if r.Unit != "xinfu" || r.Number != n {
		t.Errorf("after update: unit %q number %q", r.Unit, r.Number)
	}
	if _, err := s.Receipt("JB2026-0099"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an update wrote a second receipt: %v", err)
	}
	boom := errors.New("boom")
	if err := s.UpdateReceipt(n, func(r *Receipt) error { r.Unit = "other"; return boom }); !errors.Is(err, boom) {
		t.Errorf("error from fn: %v", err)
	}
	if r, _ := s.Receipt(n); r.Unit != "xinfu" {
		t.Errorf("a failed update changed the receipt: %q", r.Unit)
	}
}

func TestEntriesFollowWrites(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "briefd.db"), Options{Prefix: "JB", Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		r := &Receipt{Received: at, MessageID: fmt.Sprintf("<e%d@example.cn>", i), From: "a@example.cn", Verdict: VerdictAccepted,
			Attachments: []Attachment{{Filename: "简报.pdf", Verdict: "ok"}}}
		if _, _, err := st.Record(r, nil, nil, &OutboxItem{Kind: KindReply}); err != nil {
			t.Fatal(err)
		}
	}
	es, err := st.Entries(nil)
	if err != nil || len(es) != 3 || es[0].Number != "JB2026-0001" || !es[2].Usable || es[1].Filenames != "简报.pdf" {
		t.Fatalf("entries = %+v, %v", es, err)
	}
	if err := st.UpdateReceipt("JB2026-0002", func(r *Receipt) error { r.Unit = "xinfu"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Record(&Receipt{Received: at, MessageID: "<e3@example.cn>", Verdict: VerdictRejected}, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	es, _ = st.Entries(func(e *Entry) bool { return e.Unit == "xinfu" || e.Verdict == VerdictRejected })
	if len(es) != 2 || es[0].Number != "JB2026-0002" || es[1].Usable {
		t.Errorf("after updates: %+v", es)
	}
	if !numberLess("JB2026-9999", "JB2026-10000") || numberLess("JB2026-10000", "JB2026-9999") || !numberLess("JB2025-9999", "JB2026-0001") {
		t.Errorf("numberLess orders by sequence")
	}
}

// TestMessageIDReuse: the same mail is recorded once however often it comes; a different mail that
// reuses a Message-ID gets its own receipt, which names the receipt it shares the ID with.
func TestMessageIDReuse(t *testing.T) {
	s := openTest(t, "")
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, beijing)
	key := func(uid uint32) *MessageKey { return &MessageKey{Mailbox: "INBOX", UIDValidity: 1, UID: uid} }
	rec := func(id, fp string) *Receipt { r := receipt(id, at); r.Fingerprint = fp; return r }
	steps := []struct {
		name       string
		r          *Receipt
		uid        uint32
		want       string
		dup        bool
		sharesWith string
	}{
		{"first", rec("<x@example.cn>", "aaaa"), 1, "JB2026-0001", false, ""},
		{"other mail, same id", rec("<x@example.cn>", "bbbb"), 2, "JB2026-0002", false, "JB2026-0001"},
		{"first again, after a rescan", rec("<x@example.cn>", "aaaa"), 3, "JB2026-0001", true, ""},
		{"second again", rec("<x@example.cn>", "bbbb"), 4, "JB2026-0002", true, ""},
		{"third mail, same id", rec("<x@example.cn>", "cccc"), 5, "JB2026-0003", false, "JB2026-0001"},
		{"no fingerprint: the Message-ID decides", rec("<x@example.cn>", ""), 6, "JB2026-0001", true, ""},
		{"same mail without a Message-ID", rec("", "dddd"), 7, "JB2026-0004", false, ""},
		{"found twice in the mailbox", rec("", "dddd"), 8, "JB2026-0004", true, ""},
	}
	for _, st := range steps {
		n, dup, err := s.Record(st.r, key(st.uid), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n != st.want || dup != st.dup || st.r.SharesMessageID != st.sharesWith {
			t.Errorf("%s: got %s dup %v shares %q, want %s dup %v shares %q", st.name, n, dup, st.r.SharesMessageID, st.want, st.dup, st.sharesWith)
		}
	}
	if n, _ := count(t, s); n != 4 {
		t.Errorf("%d receipts, want 4", n)
	}
	if n, ok, _ := s.LookupMessageID("<x@example.cn>"); !ok || n != "JB2026-0001" {
		t.Errorf("the Message-ID points at %q, want the first receipt", n)
	}
}

// TestMigrateSchema1: a database of schema 1 is backed up, then migrated; its receipts keep deciding
// by Message-ID alone, as they have no fingerprint.
func TestMigrateSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "briefd.db")
	s := openTest(t, path)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, beijing)
	if _, _, err := s.Record(receipt("<old@example.cn>", at), nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { // as schema 1 left it
		if err := tx.DeleteBucket(bPrints); err != nil {
			return err
		}
		return tx.Bucket(bMeta).Put([]byte("schema"), []byte("1"))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, path)
	if v, err := s.Schema(); err != nil || v != SchemaVersion {
		t.Fatalf("schema %d (%v) after opening, want %d", v, err, SchemaVersion)
	}
	bak, err := bolt.Open(path+".schema1.bak", 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("no backup beside the database: %v", err)
	}
	bak.View(func(tx *bolt.Tx) error {
		if v := string(tx.Bucket(bMeta).Get([]byte("schema"))); v != "1" || tx.Bucket(bReceipts).Stats().KeyN != 1 {
			t.Errorf("the backup has schema %q and %d receipts, want 1 and 1", v, tx.Bucket(bReceipts).Stats().KeyN)
		}
		return nil
	})
	bak.Close()
	n, dup, err := s.Record(func() *Receipt { r := receipt("<old@example.cn>", at); r.Fingerprint = "ffff"; return r }(), nil, nil, nil)
	if err != nil || !dup || n != "JB2026-0001" {
		t.Errorf("the old mail read again: %s dup %v (%v), want JB2026-0001 dup", n, dup, err)
	}
}

// TestRecordBatch: a batch is recorded in one transaction, in order: numbers follow the order, a later
// recording of the same mail is a duplicate of the earlier one in the batch, a recording without a
// receipt only moves the cursor, the cursor ends at the last one. A batch that fails leaves nothing.
func TestRecordBatch(t *testing.T) {
	s := openTest(t, "")
	at := time.Date(2026, 1, 10, 9, 0, 0, 0, beijing)
	key := func(uid uint32) *MessageKey { return &MessageKey{Mailbox: "INBOX", UIDValidity: 1, UID: uid} }
	cur := func(uid uint32) *Cursor { return &Cursor{Mailbox: "INBOX", UIDValidity: 1, LastUID: uid} }
	same := receipt("<same@x>", at)
	same.Fingerprint = "fp-same"
	again := receipt("<same@x>", at)
	again.Fingerprint = "fp-same"
	rs := []*Recording{
		{Receipt: receipt("<a@x>", at), Key: key(1), Cursor: cur(1), Out: []*OutboxItem{{Kind: KindReply}}},
		{Key: key(2), Cursor: cur(2)}, // recorded before: the cursor only
		{Receipt: same, Key: key(3), Cursor: cur(3), Out: []*OutboxItem{{Kind: KindReply}},
			Prepare: func(r *Receipt) { r.Note = "prepared as " + r.Number }},
		{Receipt: again, Key: key(4), Cursor: cur(4), Out: []*OutboxItem{{Kind: KindReply}}},
	}
	if err := s.RecordBatch(rs); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, r := range rs {
		got = append(got, fmt.Sprintf("%s/%v", r.Number, r.Dup))
	}
	if want := "[JB2026-0001/false /false JB2026-0002/false JB2026-0002/true]"; fmt.Sprint(got) != want {
		t.Errorf("batch gave %v, want %s", got, want)
	}
	if same.Note != "prepared as JB2026-0002" {
		t.Errorf("prepare saw %q", same.Note)
	}
	if r, o := count(t, s); r != 2 || o != 2 {
		t.Errorf("%d receipts, %d outbox items; want 2 and 2 (no reply for the duplicate)", r, o)
	}
	if c, _ := s.Cursor("INBOX"); c.LastUID != 4 {
		t.Errorf("cursor at %d, want 4", c.LastUID)
	}
	if n, ok, _ := s.LookupMessage(*key(4)); !ok || n != "JB2026-0002" {
		t.Errorf("the duplicate's key leads to %q %v", n, ok)
	}

	// A batch whose last recording fails (a mailbox key longer than bbolt takes) records none of it.
	rs = []*Recording{
		{Receipt: receipt("<c@x>", at), Key: key(5), Cursor: cur(5), Out: []*OutboxItem{{Kind: KindReply}}},
		{Receipt: receipt("<d@x>", at), Key: &MessageKey{Mailbox: strings.Repeat("m", bolt.MaxKeySize+1), UID: 7}},
	}
	if err := s.RecordBatch(rs); err == nil {
		t.Fatal("a batch with a key bbolt refuses was recorded")
	}
	if r, o := count(t, s); r != 2 || o != 2 {
		t.Errorf("after the failed batch: %d receipts, %d outbox items; want 2 and 2", r, o)
	}
	if c, _ := s.Cursor("INBOX"); c.LastUID != 4 {
		t.Errorf("after the failed batch the cursor is at %d, want 4", c.LastUID)
	}
	if n, _, err := s.Record(receipt("<e@x>", at), nil, nil, nil); err != nil || n != "JB2026-0003" {
		t.Errorf("next Record = %s %v, want JB2026-0003 (no number used up by the failed batch)", n, err)
	}
}
