package booklet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// needTool skips the test when a program is missing, except under CI, where that is a failure.
func needTool(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not found (install poppler-utils and qpdf); it is required when CI is set: %v", name, err)
			}
			t.Skipf("%s not found: install poppler-utils and qpdf to check booklets with real tools", name)
		}
	}
}

// gbCMap is the CMap the booklet's font uses; poppler finds it in poppler-data.
const gbCMap = "/usr/share/poppler/cMap/Adobe-GB1/UniGB-UTF16-H"

// needPopplerData skips (fails under CI) when poppler cannot know the booklet's CJK encoding.
func needPopplerData(t testing.TB) {
	t.Helper()
	needTool(t, "pdftotext", "pdftoppm")
	if _, err := os.Stat(gbCMap); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing (install poppler-data); it is required when CI is set", gbCMap)
		}
		t.Skipf("%s missing: install poppler-data so that poppler shows Chinese text in standard fonts", gbCMap)
	}
}

// run runs a program with a time limit and returns its stdout and stderr.
func run(t testing.TB, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var o, e bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

var pagesRE = regexp.MustCompile(`(?m)^Pages:\s+(\d+)`)

// pdfinfoPages is the page count poppler reads.
func pdfinfoPages(t testing.TB, path string) int {
	t.Helper()
	out, errOut, err := run(t, "pdfinfo", path)
	if err != nil {
		t.Fatalf("pdfinfo %s: %v: %s", path, err, errOut)
	}
	m := pagesRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo %s: no page count in %q", path, out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

type outline struct {
	Title string `json:"title"`
	Page  int    `json:"destpageposfrom1"`
	Kids  []any  `json:"kids"`
}

// qpdfOutlines is the document outline as qpdf reads it.
func qpdfOutlines(t testing.TB, path string) []outline {
	t.Helper()
	out, errOut, err := run(t, "qpdf", "--json", "--json-key=outlines", path)
	if err != nil {
		var ee *exec.ExitError
		if !(errors.As(err, &ee) && ee.ExitCode() == 3) { // 3: warnings only
			t.Fatalf("qpdf --json %s: %v: %s", path, err, errOut)
		}
	}
	var doc struct {
		Outlines []outline `json:"outlines"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("qpdf --json %s: %v", path, err)
	}
	return doc.Outlines
}

// qpdfCheck fails the test unless qpdf finds the file free of errors (exit 0; 3 would be warnings).
func qpdfCheck(t testing.TB, path string) {
	t.Helper()
	out, errOut, err := run(t, "qpdf", "--check", path)
	if err != nil {
		t.Errorf("qpdf --check %s: %v\n%s%s", path, err, out, errOut)
	}
}

// qpdfCheckStructure is qpdfCheck for booklets of damaged sources: a page's content stream that does
// not decode is the source's (it is copied byte for byte); any other error is the booklet's.
func qpdfCheckStructure(t testing.TB, path string) {
	t.Helper()
	out, errOut, err := run(t, "qpdf", "--check", path)
	if err == nil {
		return
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || (ee.ExitCode() != 2 && ee.ExitCode() != 3) {
		t.Fatalf("qpdf --check %s: %v: %s", path, err, errOut)
	}
	for l := range strings.Lines(out + errOut) {
		if strings.HasPrefix(l, "ERROR") && !strings.Contains(l, "errors while decoding content stream") {
			t.Errorf("qpdf --check %s: %s", path, strings.TrimSpace(l))
		}
	}
}

// pageText is pdftotext's text of pages first to last.
func pageText(t testing.TB, path string, first, last int) string {
	t.Helper()
	out, errOut, err := run(t, "pdftotext", "-f", strconv.Itoa(first), "-l", strconv.Itoa(last), "-layout", path, "-")
	if err != nil {
		t.Fatalf("pdftotext %s: %v: %s", path, err, errOut)
	}
	if errOut != "" {
		t.Errorf("pdftotext %s pages %d-%d complained: %s", path, first, last, errOut)
	}
	return out
}

// renderPage renders one page with pdftoppm and fails on any error or complaint.
func renderPage(t testing.TB, path string, page int) []byte {
	t.Helper()
	dir := t.TempDir()
	prefix := filepath.Join(dir, "p")
	_, errOut, err := run(t, "pdftoppm", "-f", strconv.Itoa(page), "-l", strconv.Itoa(page), "-r", "40", "-png", "-singlefile", path, prefix)
	if err != nil || errOut != "" {
		t.Fatalf("pdftoppm page %d of %s: %v: %s", page, path, err, errOut)
	}
	png, err := os.ReadFile(prefix + ".png")
	if err != nil {
		t.Fatal(err)
	}
	return png
}
