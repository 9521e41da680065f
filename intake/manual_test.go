package intake

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"briefd/demo"
	"briefd/pdfcheck"
	"briefd/roster"
	"briefd/store"
)

// TestRecordManual: a receipt registered by hand gets the next number, its PDFs are checked and
// archived where a mail's would be, no reply is queued; a file that is no PDF records nothing.
func TestRecordManual(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "briefd.db"), store.Options{Location: beijing})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := newTestPipeline(t, st, dir)
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, "upload", name)
		os.MkdirAll(filepath.Dir(path), 0o700)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pdf := write("a.pdf", demo.PDF(2, "xinfu"))
	at := time.Date(2022, 1, 20, 10, 0, 0, 0, beijing)
	m := Manual{Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01", At: at, Note: "纸质报送", Via: store.ViaWeb, Client: "192.0.2.1",
		Files: []ManualFile{{Name: "忻府区简报.pdf", Path: pdf}}, Audit: &store.AuditEntry{At: at, Action: "receipt.add"}}

	bad := m
	bad.Files = append(bad.Files, ManualFile{Name: "简报.doc", Path: write("b.doc", demo.WordDoc())})
	var rf *RejectedFile
	if _, err := p.RecordManual(context.Background(), bad); !errors.As(err, &rf) || rf.Name != "简报.doc" || rf.Reason != pdfcheck.ReasonNotPDFWord {
		t.Fatalf("a Word file: %v", err)
	}
	if rs, _ := st.Receipts(nil); len(rs) != 0 {
		t.Fatalf("a refused registration recorded %d receipts", len(rs))
	}
	if es, _ := st.AuditLog(time.Time{}); len(es) != 0 {
		t.Fatalf("a refused registration was audited")
	}

	rec, err := p.RecordManual(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Receipt(rec.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Number != "JB2022-0001" || got.Verdict != store.VerdictAccepted || got.Reply != "" || got.Match != roster.MatchManual ||
		got.Manual == nil || got.Manual.Note != "纸质报送" || got.Manual.Client != "192.0.2.1" || got.Subject != "人工登记：纸质报送" {
		t.Errorf("receipt %+v", got)
	}
	if ob, _ := st.Outbox(nil); len(ob) != 0 {
		t.Errorf("a reply was queued: %+v", ob[0])
	}
	a := got.Attachments[0]
	if a.Pages != 2 || a.Archived != p.archive.PDFPath("zjdh-study", "2022-01", "忻府区教育科技局", got.Number, 1) {
		t.Errorf("attachment %+v", a)
	}
	if b, err := os.ReadFile(filepath.Join(p.archive.Root, a.Archived)); err != nil || string(b) != string(demo.PDF(2, "xinfu")) {
		t.Errorf("archived file: %v", err)
	}
	if left, _ := os.ReadDir(filepath.Join(p.archive.Root, ".staging")); len(left) != 0 {
		t.Errorf("staging left %d entries", len(left))
	}
	if es, _ := st.AuditLog(time.Time{}); len(es) != 1 {
		t.Errorf("audit log %+v", es)
	}
	// The same file again is a duplicate of the first, archived once.
	again, err := p.RecordManual(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if again.DuplicateOf != rec.Number || again.Attachments[0].Archived != "" {
		t.Errorf("the same file again: %+v", again)
	}
	// Paper only: no file.
	paper := m
	paper.Files = nil
	if r, err := p.RecordManual(context.Background(), paper); err != nil || r.Verdict != store.VerdictAccepted || len(r.Attachments) != 0 {
		t.Errorf("paper only: %+v %v", r, err)
	}
}

// TestRecordManualRecovered: files staged for a receipt registered just before a crash are put in place
// at the next start, as a mail's are.
func TestRecordManualRecovered(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "briefd.db"), store.Options{Location: beijing})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := newTestPipeline(t, st, dir)
	key := store.MessageKey{Mailbox: "manual:abc"}
	stage := filepath.Join(p.archive.Root, ".staging", store.SafeName(stageName(key)))
	if err := os.MkdirAll(stage, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stage, "0.pdf"), demo.PDF(1, "x"), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &store.Receipt{Received: time.Date(2022, 1, 20, 10, 0, 0, 0, beijing), Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01",
		Verdict: store.VerdictAccepted, Attachments: []store.Attachment{{Filename: "a.pdf", Verdict: "ok", Kind: "pdf"}}}
	n, _, err := st.RecordWith(rec, &key, nil, nil, func(r *store.Receipt) {
		r.Attachments[0].Archived = p.archive.PDFPath(r.Campaign, r.Period, "忻府区教育科技局", r.Number, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RecoverStaged(); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Receipt(n)
	if _, err := os.Stat(filepath.Join(p.archive.Root, got.Attachments[0].Archived)); err != nil {
		t.Errorf("the staged file was not put in place: %v", err)
	}
}
