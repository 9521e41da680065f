package pdfcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// popplerVerdict is what poppler's pdfinfo says of a file: does it open, and how many pages.
type popplerVerdict struct {
	opens bool
	pages int
	msg   string
}

var pagesRE = regexp.MustCompile(`(?m)^Pages:\s+(\d+)`)

func pdfinfo(path string) popplerVerdict {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second) // the 1 GiB bomb takes poppler ~20 s
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "pdfinfo", path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	p := popplerVerdict{msg: firstLine(stderr.String())}
	if m := pagesRE.FindSubmatch(stdout.Bytes()); m != nil {
		p.pages, _ = strconv.Atoi(string(m[1]))
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		p.opens = p.pages >= 1
	case errors.As(err, &ee):
		p.msg = fmt.Sprintf("exit %d: %s", ee.ExitCode(), p.msg)
	default:
		p.msg = err.Error()
	}
	return p
}

func firstLine(s string) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// TestAgreesWithPdfinfo compares the verdict with "poppler's pdfinfo opens it and it has at least one
// page" on every file of the corpus. It needs pdfinfo (Debian poppler-utils): without it the test is
// skipped, except under CI (CI set), where that is a failure.
func TestAgreesWithPdfinfo(t *testing.T) {
	if _, err := exec.LookPath("pdfinfo"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pdfinfo not found (install poppler-utils); it is required when CI is set: %v", err)
		}
		t.Skip("pdfinfo not found: install poppler-utils to compare verdicts with poppler")
	}
	files := corpusFiles(t)
	c := newTestChecker(t, Options{Timeout: 20 * time.Second})
	got := checkAll(t, c, files)

	var agree, pdfAgree, pdfTotal, pageMismatch int
	groups := map[string][2]int{} // name prefix -> agree, total
	poppler := make([]popplerVerdict, len(files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, f := range files {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			poppler[i] = pdfinfo(f)
		})
	}
	wg.Wait()
	for i, f := range files {
		name := filepath.Base(f)
		v, p := got[name], poppler[i]
		group := strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '.' })[0]
		gs := groups[group]
		gs[1]++
		if v.OK() == p.opens {
			gs[0]++
		}
		groups[group] = gs
		if v.Kind == KindPDF {
			pdfTotal++
		}
		if v.OK() == p.opens {
			agree++
			if v.Kind == KindPDF {
				pdfAgree++
			}
		} else {
			t.Logf("DISAGREE %s: ours %s/%s pages=%d; pdfinfo opens=%v pages=%d (%s); our warnings: %q",
				name, v.Verdict, v.Reason, v.Pages, p.opens, p.pages, p.msg, v.Warnings)
		}
		if v.OK() && p.opens && v.Pages != p.pages {
			pageMismatch++
			t.Errorf("PAGES %s: ours %d, pdfinfo %d; warnings %q", name, v.Pages, p.pages, v.Warnings)
		}
	}
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		t.Logf("  %-10s %4d of %4d agree", g, groups[g][0], groups[g][1])
	}
	pct := 100 * float64(agree) / float64(len(files))
	t.Logf("agreement with pdfinfo: %d of %d files = %.2f%% (files sniffed as PDF: %d of %d = %.2f%%); page count mismatches: %d",
		agree, len(files), pct, pdfAgree, pdfTotal, 100*float64(pdfAgree)/float64(max(pdfTotal, 1)), pageMismatch)
	if pct < 99.5 {
		t.Errorf("agreement %.2f%% is below 99.5%%", pct)
	}
}
