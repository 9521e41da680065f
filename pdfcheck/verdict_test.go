package pdfcheck

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"briefd/internal/emulator"
)

// TestIntent states, independently of the golden file, what the office needs for the typical cases.
func TestIntent(t *testing.T) {
	c := newTestChecker(t, Options{})
	tests := []struct {
		file      string
		verdict   string
		reason    string
		kind      string
		encrypted bool
		pages     int
	}{
		{"valid-v1.4.pdf", "ok", "", "pdf", false, 2},
		{"valid-v2.0.pdf", "ok", "", "pdf", false, 2},
		{"valid-cjk.pdf", "ok", "", "pdf", false, 2},
		{"valid-scan.pdf", "ok", "", "pdf", false, 3},
		{"valid-linearized.pdf", "ok", "", "pdf", false, 3},
		{"valid-objstm.pdf", "ok", "", "pdf", false, 3},
		{"valid-incremental-2.pdf", "ok", "", "pdf", false, 3},
		{"valid-nofontres.pdf", "ok", "", "pdf", false, 1},
		{"junk-before-100.pdf", "ok", "", "pdf", false, 2},
		{"junk-after-binary.pdf", "ok", "", "pdf", false, 2},
		{"xref-offsets-shifted.pdf", "ok", "", "pdf", false, 2},
		{"enc-owner-aes256.pdf", "ok", "", "pdf", true, 2},
		{"enc-owner-rc4-40.pdf", "ok", "", "pdf", true, 2},
		{"enc-user-aes256.pdf", "reject", ReasonPassword, "pdf", true, 0},
		{"enc-user-rc4-128.pdf", "reject", ReasonPassword, "pdf", true, 0},
		{"nopages-empty-tree.pdf", "reject", ReasonNoPages, "pdf", false, 0},
		{"header-only.pdf", "reject", ReasonDamaged, "pdf", false, 0},
		{"empty.pdf", "reject", ReasonEmpty, "empty", false, 0},
		{"word-doc.pdf", "reject", ReasonNotPDFWord, "doc", false, 0},
		{"word-docx.pdf", "reject", ReasonNotPDFWord, "docx", false, 0},
		{"excel-xlsx.pdf", "reject", ReasonNotPDFExcel, "xlsx", false, 0},
		{"wps-wps.pdf", "reject", ReasonNotPDFWPS, "wps", false, 0},
		{"ofd.pdf", "reject", ReasonOFD, "ofd", false, 0},
		{"zip-with-pdf.pdf", "reject", ReasonArchive, "archive", false, 0},
		{"jpeg.pdf", "reject", ReasonImage, "image", false, 0},
		{"html.pdf", "reject", ReasonHTML, "html", false, 0},
		{"text-gbk.pdf", "reject", ReasonNotPDF, "text", false, 0},
		{"hostile-5000-pages.pdf", "ok", "", "pdf", false, 5000},
		{"hostile-count-2e9.pdf", "reject", ReasonNoPages, "pdf", false, 0},
		{"hostile-xref-prev-loop.pdf", "ok", "", "pdf", false, 1},
		{"hostile-bomb-content.pdf", "ok", "", "pdf", false, 1},
		{"hostile-bomb-objstm.pdf", "reject", ReasonCheckFailed, "pdf", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if ok, why := hardMemoryBound(); !ok && slices.Contains(hardBoundFiles, tt.file) {
				t.Skipf("needs the worker's hard memory bound, not in force here: %s", why)
			}
			v := c.CheckFile(context.Background(), filepath.Join("testdata/corpus", tt.file))
			if v.Verdict != tt.verdict || v.Reason != tt.reason || v.Kind != tt.kind || v.Encrypted != tt.encrypted || v.Pages != tt.pages {
				t.Errorf("got %s/%s kind=%s enc=%v pages=%d, want %s/%s kind=%s enc=%v pages=%d; warnings %q",
					v.Verdict, v.Reason, v.Kind, v.Encrypted, v.Pages, tt.verdict, tt.reason, tt.kind, tt.encrypted, tt.pages, v.Warnings)
			}
			if v.OK() != (tt.verdict == "ok") {
				t.Errorf("OK() = %v", v.OK())
			}
			if zh, en := ReasonText(v.Reason); (v.Reason == "") != (zh == "") || (v.Reason == "") != (en == "") {
				t.Errorf("ReasonText(%q) = %q, %q", v.Reason, zh, en)
			}
		})
	}
}

func TestReasonTextCoversAllCodes(t *testing.T) {
	for code := range reasonTexts {
		zh, en := ReasonText(code)
		if !strings.HasSuffix(zh, "。") || en == "" {
			t.Errorf("%s: %q %q", code, zh, en)
		}
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	c := newTestChecker(t, Options{Timeout: 5 * time.Second})

	t.Run("sparse 2 GB file", func(t *testing.T) {
		p := filepath.Join(dir, "big.pdf")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("%PDF-1.4\n")
		if err := f.Truncate(2 << 30); err != nil {
			t.Fatal(err)
		}
		f.Close()
		start := time.Now()
		v := c.CheckFile(context.Background(), p)
		if v.Reason != ReasonTooLarge || v.Kind != KindPDF || time.Since(start) > time.Second {
			t.Errorf("got %+v after %v", v, time.Since(start))
		}
	})
	t.Run("fifo", func(t *testing.T) {
		p := filepath.Join(dir, "fifo.pdf")
		if err := mkfifo(p); err != nil {
			t.Skip("mkfifo:", err)
		}
		v := c.CheckFile(context.Background(), p)
		if v.Reason != ReasonUnreadable {
			t.Errorf("got %+v", v)
		}
	})
	t.Run("missing", func(t *testing.T) {
		if v := c.CheckFile(context.Background(), filepath.Join(dir, "nope.pdf")); v.Reason != ReasonUnreadable || v.Fault == nil {
			t.Errorf("got %+v", v)
		}
	})
	t.Run("directory", func(t *testing.T) {
		if v := c.CheckFile(context.Background(), dir); v.Reason != ReasonUnreadable {
			t.Errorf("got %+v", v)
		}
	})
}

// TestIsolation: a memory bomb, a hang and a killed worker each cost one check_failed verdict, within the
// time limit, and the next file is checked normally.
func TestIsolation(t *testing.T) {
	bomb := "testdata/corpus/hostile-bomb-objstm.pdf"
	good := "testdata/corpus/valid-cjk.pdf"

	t.Run("memory bound", func(t *testing.T) {
		if raceEnabled {
			t.Skip("the race detector needs more address space than the bound allows")
		}
		if ok, why := hardMemoryBound(); !ok {
			if runtime.GOOS == "linux" && emulator.Name() == "" {
				t.Fatalf("a worker on Linux runs without its hard memory bound: %s", why)
			}
			t.Skipf("no hard memory bound here (%s); Linux (natively) and Windows have one", why)
		}
		c := newTestChecker(t, Options{Timeout: 20 * time.Second, MaxMemory: 256 << 20, Workers: 1})
		v := c.CheckFile(context.Background(), bomb)
		if v.Reason != ReasonCheckFailed || !strings.Contains(strings.Join(v.Warnings, " "), "out of memory") {
			t.Errorf("bomb: got %+v", v)
		}
		if v := c.CheckFile(context.Background(), good); !v.OK() {
			t.Errorf("after the bomb: got %+v", v)
		}
	})
	t.Run("time bound", func(t *testing.T) {
		if raceEnabled {
			t.Skip("the race-instrumented worker starts slower than the 300 ms limit")
		}
		// Under an emulator a worker takes most of a second to start: the limit must leave room for that.
		timeout := 300 * time.Millisecond
		if emulator.Name() != "" {
			timeout = 3 * time.Second
		}
		c := newTestChecker(t, Options{Timeout: timeout, MaxMemory: -1, Workers: 1})
		c.CheckFile(context.Background(), good) // start the worker
		start := time.Now()
		v := c.CheckFile(context.Background(), bomb)
		took := time.Since(start)
		if v.Reason != ReasonCheckFailed || v.Fault != nil || took > timeout+1700*time.Millisecond {
			t.Errorf("bomb without memory bound: got %+v after %v", v, took)
		}
		t.Logf("timed out after %v: %q", took, v.Warnings)
		// The next check starts a new worker, which under load can itself take longer than this test's
		// limit: the service must go on, so one of a few tries must succeed.
		var after Verdict
		for range 3 {
			if after = c.CheckFile(context.Background(), good); after.OK() {
				break
			}
		}
		if !after.OK() {
			t.Errorf("after the timeout: got %+v", after)
		}
	})
	t.Run("worker killed between files", func(t *testing.T) {
		c := newTestChecker(t, Options{Workers: 1})
		if v := c.CheckFile(context.Background(), good); !v.OK() {
			t.Fatalf("got %+v", v)
		}
		w := <-c.slots
		pid := w.pid
		w.cmd.Process.Kill() // as from outside: SIGKILL on Unix, TerminateProcess on Windows
		<-w.exited
		c.slots <- w
		if v := c.CheckFile(context.Background(), good); !v.OK() {
			t.Errorf("after kill: got %+v", v)
		}
		w = <-c.slots
		if w.pid == pid {
			t.Errorf("worker not restarted")
		}
		c.slots <- w
	})
	t.Run("cancelled", func(t *testing.T) {
		c := newTestChecker(t, Options{Workers: 1, MaxMemory: -1})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		// The caller gave up (a shutdown): no verdict on the file, a fault of this machine.
		if v := c.CheckFile(ctx, bomb); v.Reason != ReasonCheckFailed || v.Fault == nil {
			t.Errorf("got %+v", v)
		}
	})
	t.Run("worker cannot start", func(t *testing.T) {
		c := newTestChecker(t, Options{Workers: 1, Command: []string{filepath.Join(t.TempDir(), "no-such-briefd")}})
		if v := c.CheckFile(context.Background(), good); v.Reason != ReasonCheckFailed || v.Fault == nil {
			t.Errorf("got %+v", v)
		}
	})
	t.Run("closed", func(t *testing.T) {
		c := New(Options{}, nil)
		c.Close()
		if v := c.CheckFile(context.Background(), good); v.Reason != ReasonCheckFailed || v.Fault == nil {
			t.Errorf("got %+v", v)
		}
	})
}

func TestSniff(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"pdf", "%PDF-1.7\n", KindPDF},
		{"pdf after junk", "From: x\r\n\r\n%PDF-1.4\n", KindPDF},
		{"jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF", KindImage},
		{"png", "\x89PNG\r\n\x1a\n\x00", KindImage},
		{"webp", "RIFF\x00\x00\x00\x00WEBPVP8 ", KindImage},
		{"tiff", "II*\x00\x08\x00\x00\x00", KindImage},
		{"rar", "Rar!\x1a\x07\x00", KindArchive},
		{"gzip", "\x1f\x8b\x08\x00", KindArchive},
		{"html", "  <!DOCTYPE HTML><html>", KindHTML},
		{"text", "简报内容\n", KindText},
		{"binary", "\x00\x01\x02\x03", KindOther},
		{"broken zip", "PK\x03\x04garbage", KindArchive},
		{"broken ole2", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1garbage", KindDoc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sniff(strings.NewReader(tt.data), int64(len(tt.data))); got != tt.want {
				t.Errorf("Sniff = %q, want %q", got, tt.want)
			}
		})
	}
	if got := Sniff(strings.NewReader(""), 0); got != KindEmpty {
		t.Errorf("empty: %q", got)
	}
}
