package intake

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"briefd/internal/mailtest"
	"briefd/pdfcheck"
	"briefd/roster"
	"briefd/store"
)

// faultRig is a pipeline whose spool, archive, checker and store a test can break and mend.
type faultRig struct {
	t       *testing.T
	dir     string
	spool   string
	archive string
	dbPath  string
	st      *store.Store
	checker *pdfcheck.Checker
	ros     func() *roster.Roster
}

func newFaultRig(t *testing.T) *faultRig {
	r := &faultRig{t: t, dir: t.TempDir()}
	r.spool, r.archive = filepath.Join(r.dir, "spool"), filepath.Join(r.dir, "archive")
	r.dbPath = filepath.Join(r.dir, "briefd.db")
	for _, d := range []string{r.spool, r.archive} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	r.openStore()
	r.checker = pdfcheck.New(pdfcheck.Options{Timeout: 20 * time.Second}, nil)
	t.Cleanup(func() { r.checker.Close() })
	ros := corpusRoster(t)
	r.ros = func() *roster.Roster { return ros }
	return r
}

func (r *faultRig) openStore() {
	st, err := store.Open(r.dbPath, store.Options{Location: beijing})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { st.Close() })
	r.st = st
}

func (r *faultRig) pipeline() *Pipeline {
	return NewPipeline(PipelineOptions{Ours: []string{"xzszjk@example.cn"}, Marker: "briefd", Replies: true,
		MaxAttachment: 10 << 20, SpoolDir: r.spool, Location: beijing, OfficeTo: []string{"head@example.cn"}},
		r.st, r.ros, r.checker, store.Archive{Root: r.archive}, testLogger(r.t))
}

// fetched writes raw where the watcher would have spooled it (outside the spool, which a test may break).
func (r *faultRig) fetched(uid uint32, raw []byte) *Fetched {
	p := filepath.Join(r.dir, "raw-"+time.Now().Format("150405.000000000")+".eml")
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		r.t.Fatal(err)
	}
	return &Fetched{Key: store.MessageKey{Mailbox: "INBOX", UIDValidity: 7, UID: uid}, Size: int64(len(raw)),
		InternalDate: time.Date(2022, 1, 20, 10, 0, 0, 0, beijing), Path: p}
}

// nothingRecorded checks that a fault left no trace: no receipt, no outbox item, the cursor unmoved,
// no staged or spooled leftovers.
func (r *faultRig) nothingRecorded(what string) {
	r.t.Helper()
	rs, _ := r.st.Receipts(nil)
	ob, _ := r.st.Outbox(nil)
	cur, _ := r.st.Cursor("INBOX")
	if len(rs) != 0 || len(ob) != 0 || cur.LastUID != 0 {
		r.t.Errorf("%s: %d receipts, %d outbox items, cursor at %d after a fault; want nothing", what, len(rs), len(ob), cur.LastUID)
	}
	staged, _ := filepath.Glob(filepath.Join(r.archive, ".staging", "*"))
	parts, _ := filepath.Glob(filepath.Join(r.spool, "parts-*"))
	if len(staged)+len(parts) > 0 {
		r.t.Errorf("%s: left behind %v %v", what, staged, parts)
	}
}

// TestPipelineMachineFaults: a fault of this machine is never the sender's verdict. The mail is not
// recorded and the cursor does not move; once the fault is mended, the same mail is recorded normally:
// one receipt, accepted, one reply.
func TestPipelineMachineFaults(t *testing.T) {
	big := mailtest.PDF(2, strings.Repeat("a briefing long enough to fill a small disk ", 60_000)) // 2.6 MB
	raw := mailtest.MailWithPDF("忻府区教育科技局", "xinfu-jky@example.cn", "忻府区学习贯彻简报", time.Date(2022, 1, 20, 10, 0, 0, 0, beijing),
		"fault-1", "xinfu.pdf", big)
	cases := []struct {
		name   string
		break_ func(r *faultRig) (mend func())
	}{
		{"pdf worker cannot start", func(r *faultRig) func() {
			good := r.checker
			r.checker = pdfcheck.New(pdfcheck.Options{Command: []string{filepath.Join(r.dir, "no-such-program")}}, nil)
			return func() { r.checker.Close(); r.checker = good }
		}},
		// Attachments are decoded straight into the archive's staging folder: the spool holds only what
		// the watcher downloads, and a full spool is its fault (cmd/briefd's TestPollDiskFull).
		{"archive folder read-only", func(r *faultRig) func() {
			remount := mailtest.MountTmpfs(r.t, r.archive, "64m", true)
			return func() {
				if err := remount("64m", false); err != nil {
					r.t.Fatal(err)
				}
			}
		}},
		{"disk full while the attachment is decoded into the staging folder", func(r *faultRig) func() {
			remount := mailtest.MountTmpfs(r.t, r.archive, "1m", false)
			return func() {
				if err := remount("64m", false); err != nil {
					r.t.Fatal(err)
				}
			}
		}},
		{"store closed", func(r *faultRig) func() {
			r.st.Close()
			return func() { r.openStore() }
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newFaultRig(t)
			mend := c.break_(r)
			f := r.fetched(1, raw)
			err := r.pipeline().Handle(context.Background(), f)
			if err == nil || !IsFault(err) {
				t.Fatalf("Handle = %v; want a fault of this machine", err)
			}
			t.Logf("fault: %v", err)
			mend()
			r.nothingRecorded(c.name)
			if err := r.pipeline().Handle(context.Background(), f); err != nil {
				t.Fatalf("after mending: %v", err)
			}
			rs, _ := r.st.Receipts(nil)
			ob, _ := r.st.Outbox(nil)
			if len(rs) != 1 || rs[0].Verdict != store.VerdictAccepted || len(ob) != 1 || ob[0].Kind != store.KindReply {
				t.Fatalf("after mending: %d receipts (%+v), %d outbox items; want 1 accepted with 1 reply", len(rs), rs, len(ob))
			}
			if rs[0].Attachments[0].Archived == "" {
				t.Errorf("the PDF was not archived")
			} else if fi, err := os.Stat(filepath.Join(r.archive, rs[0].Attachments[0].Archived)); err != nil || fi.Size() != int64(len(big)) {
				t.Errorf("archived PDF: %v", err)
			}
		})
	}
	t.Run("spool folder removed", func(t *testing.T) { // made again: not even a fault
		r := newFaultRig(t)
		os.RemoveAll(r.spool)
		if err := r.pipeline().Handle(context.Background(), r.fetched(1, raw)); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPipelinePoisonMail: a mail that cannot be handled (here: the matching panics on it) is tried
// MaxAttempts times, then recorded as failed with its raw copy; the office is told, the sender is not.
func TestPipelinePoisonMail(t *testing.T) {
	r := newFaultRig(t)
	r.ros = func() *roster.Roster { panic("matching went wrong") }
	raw := mailtest.MailWithPDF("忻府区教育科技局", "xinfu-jky@example.cn", "忻府区学习贯彻简报", time.Now(), "poison-1", "x.pdf", mailtest.PDF(1, "x"))
	f := r.fetched(1, raw)
	p := r.pipeline()
	for i := 1; i < MaxAttempts; i++ {
		err := p.Handle(context.Background(), f)
		if err == nil || IsFault(err) || !strings.Contains(err.Error(), "matching went wrong") {
			t.Fatalf("attempt %d: %v; want the message's error", i, err)
		}
		if rs, _ := r.st.Receipts(nil); len(rs) != 0 {
			t.Fatalf("attempt %d: recorded already", i)
		}
	}
	if err := p.Handle(context.Background(), f); err != nil {
		t.Fatalf("attempt %d: %v; want it recorded as failed", MaxAttempts, err)
	}
	rs, _ := r.st.Receipts(nil)
	ob, _ := r.st.Outbox(nil)
	if len(rs) != 1 || rs[0].Verdict != store.VerdictFailed || rs[0].Reply != store.ReplySuppressed ||
		!strings.Contains(rs[0].Note, "matching went wrong") || rs[0].From != "xinfu-jky@example.cn" {
		t.Fatalf("receipts %+v", rs)
	}
	if len(ob) != 1 || ob[0].Kind != store.KindFailure || ob[0].To != "head@example.cn" || ob[0].Receipt != rs[0].Number {
		t.Errorf("outbox %+v; want one failure notice to the office", ob)
	}
	if b, err := os.ReadFile(filepath.Join(r.archive, rs[0].Raw)); err != nil || string(b) != string(raw) {
		t.Errorf("raw copy: %v", err)
	}
	if cur, _ := r.st.Cursor("INBOX"); cur.LastUID != 1 {
		t.Errorf("cursor at %d, want 1", cur.LastUID)
	}

	// Once what failed is mended, `briefd recheck` records the mail as it is; with -reply it gets its
	// first reply (not a correction: it never had one).
	r.ros = func() *roster.Roster { return corpusRoster(t) }
	c, err := r.pipeline().Recheck(context.Background(), rs[0].Number, false, true)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := r.st.Receipt(rs[0].Number)
	if !c.Changed || c.Before != store.VerdictFailed || rec.Verdict != store.VerdictAccepted || rec.Unit != "xinfu" ||
		rec.Attachments[0].Archived == "" || rec.Raw != rs[0].Raw || rec.Reply != store.ReplyQueued {
		t.Errorf("after the recheck: change %+v, receipt %+v", c, rec)
	}
	if ob, _ := r.st.Outbox(nil); len(ob) != 2 || ob[1].Kind != store.KindReply || ob[1].Correction || ob[1].To != "xinfu-jky@example.cn" {
		t.Errorf("outbox after the recheck: %+v", ob)
	}
}

// TestArchiveMoveFails: when the files of a recorded receipt cannot be moved into the archive (here a
// file stands where the raw mail's folder goes), they stay staged, and RecoverStaged moves them at the
// next start; nothing of the receipt is lost.
func TestArchiveMoveFails(t *testing.T) {
	r := newFaultRig(t)
	raw := mailtest.MailWithPDF("忻府区教育科技局", "xinfu-jky@example.cn", "忻府区学习贯彻简报", time.Date(2022, 1, 20, 10, 0, 0, 0, beijing),
		"move-1", "xinfu.pdf", mailtest.PDF(1, "x"))
	blocker := filepath.Join(r.archive, "raw")
	if err := os.WriteFile(blocker, []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := r.pipeline()
	if err := p.Handle(context.Background(), r.fetched(1, raw)); err != nil {
		t.Fatal(err)
	}
	rs, _ := r.st.Receipts(nil)
	if len(rs) != 1 || rs[0].Raw == "" {
		t.Fatalf("receipts %+v", rs)
	}
	staged, _ := filepath.Glob(filepath.Join(r.archive, ".staging", "*", "raw.eml"))
	if len(staged) != 1 {
		t.Fatalf("staged raw copies after the failed move: %v; want the one kept", staged)
	}
	os.Remove(blocker)
	if err := p.RecoverStaged(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(r.archive, rs[0].Raw)); err != nil || !bytes.Equal(got, raw) {
		t.Errorf("raw copy after recovery: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(r.archive, rs[0].Attachments[0].Archived)); err != nil || fi.Size() == 0 {
		t.Errorf("archived PDF after recovery: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(r.archive, ".staging", "*")); len(left) != 0 {
		t.Errorf("staging folders left after recovery: %v", left)
	}
}
