package intake

import (
	"context"
	"strings"
	"testing"
	"time"

	"briefd/internal/mailtest"
	"briefd/pdfcheck"
	"briefd/store"
)

// stricter rejects every PDF as damaged: a checker of a release that judged too harshly.
type stricter struct{ Checker }

func (s stricter) CheckFile(ctx context.Context, path string) pdfcheck.Verdict {
	v := s.Checker.CheckFile(ctx, path)
	if v.OK() {
		v.Verdict, v.Reason = pdfcheck.VerdictReject, pdfcheck.ReasonDamaged
	}
	return v
}

// TestRecheck: a receipt rejected by a stricter checker is accepted when checked again with today's:
// one corrected reply queued, the PDF archived, the status counts it, the history keeps the correction;
// a second recheck changes nothing; a dry run writes nothing.
func TestRecheck(t *testing.T) {
	r := newFaultRig(t)
	good := r.checker
	r.checker = nil
	strict := NewPipeline(PipelineOptions{Ours: []string{"xzszjk@example.cn"}, Marker: "briefd", Replies: true,
		MaxAttachment: 10 << 20, SpoolDir: r.spool, Location: beijing}, r.st, r.ros, stricter{good}, store.Archive{Root: r.archive}, testLogger(t))
	raw := mailtest.MailWithPDF("忻府区教育科技局", "xinfu-jky@example.cn", "忻府区学习贯彻简报", time.Date(2022, 1, 20, 10, 0, 0, 0, beijing),
		"recheck-1", "xinfu.pdf", mailtest.PDF(3, "x"))
	if err := strict.Handle(context.Background(), r.fetched(1, raw)); err != nil {
		t.Fatal(err)
	}
	rs, _ := r.st.Receipts(nil)
	n := rs[0].Number
	if rs[0].Verdict != store.VerdictRejected || rs[0].Attachments[0].Archived != "" {
		t.Fatalf("under the stricter checker: %+v", rs[0])
	}
	before, _ := r.st.Outbox(nil)

	r.checker = good
	p := r.pipeline()
	dry, err := p.Recheck(context.Background(), n, true, true)
	if err != nil || !dry.Changed || dry.After != store.VerdictAccepted {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	if rec, _ := r.st.Receipt(n); rec.Verdict != store.VerdictRejected {
		t.Fatal("the dry run changed the receipt")
	}
	c, err := p.Recheck(context.Background(), n, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Changed || c.Before != store.VerdictRejected || c.After != store.VerdictAccepted || !c.Replied ||
		c.Files[0].Before != "reject: pdf_damaged" || c.Files[0].After != "ok" {
		t.Errorf("change %+v", c)
	}
	rec, _ := r.st.Receipt(n)
	if rec.Verdict != store.VerdictAccepted || rec.Attachments[0].Pages != 3 || rec.Attachments[0].Archived == "" ||
		rec.Reply != store.ReplyQueued || len(rec.Corrections) != 1 || !strings.Contains(rec.Corrections[0].Files, "xinfu.pdf") {
		t.Errorf("receipt after the recheck: %+v", rec)
	}
	after, _ := r.st.Outbox(nil)
	if len(after) != len(before)+1 || !after[len(after)-1].Correction || after[len(after)-1].Kind != store.KindReply {
		t.Errorf("outbox: %d items before, %d after; last %+v", len(before), len(after), after[len(after)-1])
	}
	es, _ := r.st.Entries(func(e *store.Entry) bool { return e.Number == n })
	if len(es) != 1 || !es[0].Usable {
		t.Errorf("status does not count the receipt: %+v", es)
	}
	if n2, ok, _ := r.st.LookupFile("xinfu", rec.Campaign, rec.Period, rec.Attachments[0].SHA256); !ok || n2 != n {
		t.Errorf("the duplicate index does not know the file: %q %v", n2, ok)
	}
	again, err := p.Recheck(context.Background(), n, false, true)
	if err != nil || again.Changed || again.Replied {
		t.Errorf("a second recheck: %+v, %v", again, err)
	}
	if o, _ := r.st.Outbox(nil); len(o) != len(after) {
		t.Error("a second recheck queued another reply")
	}
}
