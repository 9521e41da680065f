package intake

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"briefd/internal/mailtest"
	"briefd/pdfcheck"
	"briefd/store"
)

// TestPipelineZip: the PDFs in a zip (GBK names, as Windows writes them) are checked and archived as if
// attached; a zip with a password is refused with its remedy.
func TestPipelineZip(t *testing.T) {
	r := newFaultRig(t)
	p := r.pipeline()
	at := time.Date(2022, 1, 20, 10, 0, 0, 0, beijing)
	good, err := os.ReadFile("testdata/zip/python-cp936.zip")
	if err != nil {
		t.Fatal(err)
	}
	locked, err := os.ReadFile("testdata/zip/infozip-zipcrypto.zip")
	if err != nil {
		t.Fatal(err)
	}
	raw := mailtest.MailWithAttachments("忻府区教育科技局", "xinfu-jky@example.cn", "忻府区学习贯彻简报", at, "zip-1",
		mailtest.File{Name: "各校简报.zip", Type: "application/x-zip-compressed", Data: good},
		mailtest.File{Name: "加密.zip", Type: "application/zip", Data: locked})
	if err := p.Handle(context.Background(), r.fetched(1, raw)); err != nil {
		t.Fatal(err)
	}
	rs, _ := r.st.Receipts(nil)
	if len(rs) != 1 {
		t.Fatalf("%d receipts", len(rs))
	}
	rec := rs[0]
	var names []string
	for _, a := range rec.Attachments {
		names = append(names, a.Filename+" "+a.Verdict+" "+a.Reason)
	}
	want := []string{"各校简报.zip/各校简报/一中简报.pdf ok ", "各校简报.zip/各校简报/誠信承诺书.pdf ok "}
	if len(rec.Attachments) != 3 || names[0] != want[0] || names[1] != want[1] ||
		!strings.HasPrefix(names[2], "加密.zip（内含：") || rec.Attachments[2].Reason != pdfcheck.ReasonZipEncrypted {
		t.Errorf("attachments:\n%s", strings.Join(names, "\n"))
	}
	if rec.Verdict != store.VerdictPartial || rec.Unit != "xinfu" {
		t.Errorf("verdict %s unit %s", rec.Verdict, rec.Unit)
	}
	for i := 0; i < 2; i++ {
		a := rec.Attachments[i]
		if a.Archived == "" || a.Pages < 1 {
			t.Errorf("%s: archived %q pages %d", a.Filename, a.Archived, a.Pages)
			continue
		}
		if fi, err := os.Stat(filepath.Join(r.archive, a.Archived)); err != nil || fi.Size() != a.Size {
			t.Errorf("%s: archived file %v", a.Filename, err)
		}
	}
	if zh, _ := pdfcheck.ReasonText(rec.Attachments[2].Reason); !strings.Contains(zh, "请直接以PDF附件发送") {
		t.Errorf("the remedy for a locked zip: %q", zh)
	}
	if left, _ := filepath.Glob(filepath.Join(r.spool, "parts-*")); len(left) != 0 {
		t.Errorf("spool left: %v", left)
	}
}
