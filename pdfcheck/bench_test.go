package pdfcheck

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"briefd/internal/rusage"
)

// benchFiles are the corpus files sniffed as PDF: what the worker parses.
func benchFiles(b *testing.B) []string {
	var out []string
	for _, f := range corpusFiles(b) {
		fh, err := os.Open(f)
		if err != nil {
			b.Fatal(err)
		}
		fi, _ := fh.Stat()
		if Sniff(fh, fi.Size()) == KindPDF {
			out = append(out, f)
		}
		fh.Close()
	}
	return out
}

// BenchmarkCheckCorpus checks the corpus PDFs one after another with one worker; compare files/s with
// BenchmarkQPDFCheckCorpus.
func BenchmarkCheckCorpus(b *testing.B) {
	files := benchFiles(b)
	c := newTestChecker(b, Options{Workers: 1})
	c.CheckFile(context.Background(), files[0]) // start the worker
	b.ResetTimer()
	n := 0
	for b.Loop() {
		c.CheckFile(context.Background(), files[n%len(files)])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkQPDFCheckCorpus runs `qpdf --check`, a process per file as an admin would, on the same files.
func BenchmarkQPDFCheckCorpus(b *testing.B) {
	if _, err := exec.LookPath("qpdf"); err != nil {
		b.Skip("qpdf not installed")
	}
	files := benchFiles(b)
	n := 0
	for b.Loop() {
		exec.Command("qpdf", "--check", files[n%len(files)]).Run() // exit 2/3 on damaged files is expected
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "files/s")
}

// write50MB writes a 500-page PDF of about 50 MB (a scan: one 100 KB image per page) to dir.
func write50MB(b *testing.B, dir string, damaged bool) string {
	var buf bytes.Buffer
	offs := map[int]int{}
	obj := func(n int, s string) {
		offs[n] = buf.Len()
		fmt.Fprintf(&buf, "%d 0 obj\n%s\nendobj\n", n, s)
	}
	const pages = 500
	buf.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	kids := ""
	for i := 0; i < pages; i++ {
		kids += fmt.Sprintf("%d 0 R ", 10+3*i)
	}
	obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids, pages))
	rng := rand.New(rand.NewPCG(1, 2))
	img := make([]byte, 100<<10)
	for i := 0; i < pages; i++ {
		for j := range img {
			img[j] = byte(rng.Uint32())
		}
		p := 10 + 3*i
		obj(p, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im %d 0 R >> >> /Contents %d 0 R >>", p+2, p+1))
		c := "q 595 0 0 842 0 0 cm /Im Do Q"
		obj(p+1, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(c), c))
		offs[p+2] = buf.Len()
		fmt.Fprintf(&buf, "%d 0 obj\n<< /Type /XObject /Subtype /Image /Width 1000 /Height 1400 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n", p+2, len(img))
		buf.Write(img)
		buf.WriteString("\nendstream\nendobj\n")
	}
	maxObj := 10 + 3*pages
	xref := buf.Len()
	fmt.Fprintf(&buf, "xref\n0 %d\n0000000000 65535 f \n", maxObj)
	for i := 1; i < maxObj; i++ {
		if o, ok := offs[i]; ok {
			fmt.Fprintf(&buf, "%010d 00000 n \n", o)
		} else {
			buf.WriteString("0000000000 65535 f \n")
		}
	}
	if damaged {
		xref = 12 // viewers rebuild the xref by scanning: so must we
	}
	fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", maxObj, xref)
	p := filepath.Join(dir, "scan-50mb.pdf")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkCheck50MB checks a 50 MB PDF and reports the worker's peak resident memory (VmHWM), next to
// the time and peak memory of `qpdf --check` on the same file.
func BenchmarkCheck50MB(b *testing.B) {
	b.Run("intact", func(b *testing.B) { bench50MB(b, false) })
	b.Run("xref-damaged", func(b *testing.B) { bench50MB(b, true) })
}

func bench50MB(b *testing.B, damaged bool) {
	path := write50MB(b, b.TempDir(), damaged)
	fi, _ := os.Stat(path)
	var peak int64
	for b.Loop() {
		c := New(Options{Workers: 1, MaxSize: 64 << 20}, testLogger(b))
		v := c.CheckFile(context.Background(), path)
		b.Logf("%s: %s %d pages, warnings %q", filepath.Base(path), v.Verdict, v.Pages, v.Warnings)
		if !v.OK() || v.Pages != 500 {
			b.Fatalf("got %+v", v)
		}
		w := <-c.slots
		peak = max(peak, procStatusBytes(strconv.Itoa(w.pid), "VmHWM:"))
		c.slots <- w
		c.Close()
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
}

func BenchmarkQPDFCheck50MB(b *testing.B) {
	if _, err := exec.LookPath("qpdf"); err != nil {
		b.Skip("qpdf not installed")
	}
	path := write50MB(b, b.TempDir(), false)
	var peak int64
	for b.Loop() {
		start := time.Now()
		cmd := exec.Command("qpdf", "--check", path)
		if err := cmd.Run(); err != nil {
			b.Logf("qpdf --check: %v after %v", err, time.Since(start))
		}
		peak = max(peak, rusage.PeakRSS(cmd.ProcessState))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
}
