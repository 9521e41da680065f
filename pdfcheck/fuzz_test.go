package pdfcheck

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	fuzzOnce    sync.Once
	fuzzChecker *Checker
)

// FuzzCheck feeds arbitrary bytes, saved as a file, through the whole check: sniffing in this process,
// parsing in the worker. Whatever the input, the verdict must be well-formed and come within the time
// limit; a crash of the worker is allowed (it is what isolation is for) and shows as check_failed.
// Seeds: testdata/fuzz/FuzzCheck, written by gencorpus.
func FuzzCheck(f *testing.F) {
	f.Add([]byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj trailer<</Root 1 0 R>>"))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	const timeout = 5 * time.Second
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzOnce.Do(func() {
			fuzzChecker = New(Options{Timeout: timeout, MaxMemory: 256 << 20}, nil)
		})
		p := filepath.Join(t.TempDir(), "in.pdf")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		v := fuzzChecker.CheckFile(context.Background(), p)
		if took := time.Since(start); took > timeout+2*time.Second {
			t.Fatalf("check took %v", took)
		}
		switch v.Verdict {
		case VerdictOK:
			if v.Reason != "" || v.Kind != KindPDF || v.Pages < 1 {
				t.Fatalf("ok verdict inconsistent: %+v", v)
			}
		case VerdictReject:
			if _, known := reasonTexts[v.Reason]; !known {
				t.Fatalf("reject with unknown reason: %+v", v)
			}
		default:
			t.Fatalf("verdict %q", v.Verdict)
		}
		if len(data) == 0 && v.Reason != ReasonEmpty {
			t.Fatalf("empty input: %+v", v)
		}
	})
}
