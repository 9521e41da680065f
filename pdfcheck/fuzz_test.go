package pdfcheck

import (
	"bytes"
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
			fuzzChecker = New(Options{Timeout: timeout, MaxMemory: 256 << 20, Command: workerCommand()}, nil)
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

// FuzzRawFile feeds arbitrary bytes to what the worker reads by itself, before and besides pdfcpu: the
// trailer poppler would take, the encryption judgement, the linearization dictionary, the scan for
// object headers. None of it may panic or hang, whatever the input. Seeds: the encrypted and damaged
// files of testdata/corpus.
func FuzzRawFile(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/corpus/enc-*.pdf")
	more, _ := filepath.Glob("testdata/corpus/xref-*.pdf")
	for _, p := range append(seeds, more...) {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte("%PDF-1.7\n1 0 obj<</Linearized 1/L 60/N 1>>endobj\ntrailer<</Root 1 0 R/Encrypt<</Filter/Standard/V 5/R 6/O(x)/U(y)/P -4>>>>\nstartxref\n9\n%%EOF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		defer func() {
			if took := time.Since(start); took > 2*time.Second {
				t.Fatalf("took %v on %d bytes", took, len(data))
			}
		}()
		r := newRawFile(bytes.NewReader(data), int64(len(data)))
		sec := r.security()
		if sec.state < secNone || sec.state > secHandler || sec.why == "" {
			t.Fatalf("security judgement %+v", sec)
		}
		if n := r.linearizedPages(); n < 0 || n > maxTreeNodes {
			t.Fatalf("linearized pages %d", n)
		}
		for _, p := range encryptKeys(r.r, r.size) {
			if p.off < 0 || p.off >= r.size {
				t.Fatalf("patch at %d of %d bytes", p.off, r.size)
			}
		}
		if s, err := r.scanned(); err == nil {
			for num, off := range s.offsets {
				if off < 0 || off >= r.size || num <= 0 {
					t.Fatalf("object %d at %d of %d bytes", num, off, r.size)
				}
			}
		}
	})
}
