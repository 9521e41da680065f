package booklet

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"briefd/internal/rusage"
)

// The benchmark's period: 60 units, each with one 5-page PDF carrying an incompressible 100 KB "scan" per
// page (about 500 KB a file, 30 MB in all), as the issue asks to measure.
const (
	benchUnits    = 60
	benchPages    = 5
	benchPagePad  = 100 << 10
	rssChildEnv   = "BOOKLET_RSS_CHILD"   // set: this process is the benchmark's child
	rssChildPages = "BOOKLET_RSS_NUMBERS" // set: the child stamps page numbers
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(rssChildEnv); dir != "" {
		os.Exit(rssChild(dir))
	}
	os.Exit(m.Run())
}

// benchPeriod writes the benchmark's files into dir (unless there) and returns its units.
func benchPeriod(dir string) ([]Unit, error) {
	var units []Unit
	for i := range benchUnits {
		name := fmt.Sprintf("u%02d.pdf", i+1)
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			pdf := testPDF{label: fmt.Sprintf("Unit-%02d", i+1), pages: benchPages, pad: benchPagePad}
			if err := os.WriteFile(path, pdf.bytes(), 0o644); err != nil {
				return nil, err
			}
		}
		units = append(units, Unit{Seq: i + 1, Name: fmt.Sprintf("第%d县（市、区）教育科技局", i+1), State: StateReported,
			Receipt: fmt.Sprintf("JB2026-%04d", i+1), Received: time.Date(2026, 3, 28, 10, 0, 0, 0, shanghai), Files: []string{path}})
	}
	return units, nil
}

func inputBytes(units []Unit) int64 {
	var n int64
	for _, u := range units {
		for _, f := range u.Files {
			if fi, err := os.Stat(f); err == nil {
				n += fi.Size()
			}
		}
	}
	return n
}

// rssChild builds the benchmark booklet into dir/booklet.pdf and prints its time and the peak RSS the
// kernel recorded for this process (VmHWM).
func rssChild(dir string) int {
	units, err := benchPeriod(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	f, err := os.Create(filepath.Join(dir, "booklet.pdf"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	start := time.Now()
	res, err := WritePDF(context.Background(), f, testCover, units, Options{PageNumbers: os.Getenv(rssChildPages) != ""})
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Printf("seconds %.3f pages %d bytes %d hwm-kb %d\n", time.Since(start).Seconds(), res.Pages, res.Bytes, vmHWM())
	return 0
}

// vmHWM is this process's peak resident set in KiB, from /proc/self/status; 0 when unknown.
func vmHWM() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for l := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}

// BenchmarkBooklet60x5 is the figure: 60 units × 5-page PDFs into one booklet (written to
// io.Discard; the child run below writes a file). It also runs the build once in a child process and
// reports that process's peak RSS (VmHWM; rusage maxrss is logged too) and wall time: the target is ≤ 2 s
// and ≤ 200 MB.
func BenchmarkBooklet60x5(b *testing.B) {
	for _, numbers := range []bool{false, true} {
		b.Run(fmt.Sprintf("pagenumbers=%v", numbers), func(b *testing.B) {
			dir := b.TempDir()
			units, err := benchPeriod(dir)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(inputBytes(units))
			var res Result
			for b.Loop() {
				var err error
				res, err = WritePDF(context.Background(), io.Discard, testCover, units, Options{PageNumbers: numbers})
				if err != nil {
					b.Fatal(err)
				}
			}
			if res.Pages != 1+res.ContentsPages+benchUnits*benchPages || len(res.Placeholders) != 0 {
				b.Fatalf("result = %d pages, %d placeholders", res.Pages, len(res.Placeholders))
			}
			b.ReportMetric(float64(res.Bytes)/(1<<20), "booklet-MB")

			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), rssChildEnv+"="+dir)
			if numbers {
				cmd.Env = append(cmd.Env, rssChildPages+"=1")
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				b.Fatalf("child: %v: %s", err, out)
			}
			var secs float64
			var pages, hwm int
			var size int64
			if _, err := fmt.Sscanf(string(out), "seconds %f pages %d bytes %d hwm-kb %d", &secs, &pages, &size, &hwm); err != nil {
				b.Fatalf("child said %q: %v", out, err)
			}
			// VmHWM is the figure: rusage's maxrss of a child can include the parent's pages it was forked with.
			maxrss := rusage.PeakRSS(cmd.ProcessState) >> 10 // KiB; 0 where the OS does not say
			b.ReportMetric(float64(hwm)/1024, "child-peakRSS-MB")
			b.ReportMetric(secs, "child-s")
			b.Logf("child process: %d pages, %.1f MB booklet from %.1f MB of input in %.3f s; peak RSS %.1f MB (VmHWM %.1f MB)",
				pages, float64(size)/(1<<20), float64(inputBytes(units))/(1<<20), secs, float64(maxrss)/1024, float64(hwm)/1024)
		})
	}
}

// BenchmarkZip60x5 is the zip of the same period.
func BenchmarkZip60x5(b *testing.B) {
	units, err := benchPeriod(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(inputBytes(units))
	for b.Loop() {
		if _, err := WriteZip(context.Background(), io.Discard, units, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
