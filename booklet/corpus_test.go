package booklet

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sharedCorpus holds real-world PDFs (pdf.js's test files) beside the project; see its README.
const sharedCorpus = "../../shared/corpus/pdf"

// TestHostileFiles puts every file of our hostile and damaged corpus into one booklet, each as a unit
// of its own: none may panic or hang the build, and the booklet must still be a sound PDF whose pages
// and outline poppler and qpdf read as the Result says.
func TestHostileFiles(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(corpus, "*.pdf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in %s: %v", corpus, err)
	}
	checkCorpusBooklet(t, files, nil)
}

// TestRealWorldFiles does the same with the shared real-world corpus, and compares with poppler: a file
// poppler opens should be merged, with poppler's page count. Disagreements are logged, and a drop
// below the rate measured when this was written fails the test.
func TestRealWorldFiles(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(sharedCorpus, "*.pdf"))
	if err != nil || len(files) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("no shared corpus in %s: %v", sharedCorpus, err)
		}
		t.Skipf("no shared corpus in %s", sharedCorpus)
	}
	checkCorpusBooklet(t, files, popplerPages(t, filepath.Join(sharedCorpus, "poppler.tsv")))
}

// popplerPages reads poppler.tsv: file name -> pages for the files poppler opens.
func popplerPages(t *testing.T, path string) map[string]int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) < 3 || strings.HasPrefix(fields[0], "#") || fields[1] != "1" {
			continue
		}
		n, err := strconv.Atoi(fields[2])
		if err == nil && n > 0 {
			m[fields[0]] = n
		}
	}
	return m
}

func checkCorpusBooklet(t *testing.T, files []string, poppler map[string]int) {
	needTool(t, "pdfinfo", "qpdf")
	units := make([]Unit, len(files))
	for i, f := range files {
		units[i] = Unit{Seq: i + 1, Name: filepath.Base(f), State: StateReported, Receipt: "JB2026-" + strconv.Itoa(i), Files: []string{f}}
	}
	path, res := writeBooklet(t, units, Options{PageNumbers: true})
	t.Logf("%d files: %d merged, %d placeholders, %d pages, %d bytes", len(files), res.Merged, len(res.Placeholders), res.Pages, res.Bytes)
	if got := pdfinfoPages(t, path); got != res.Pages {
		t.Errorf("pdfinfo pages = %d, Result.Pages = %d", got, res.Pages)
	}
	qpdfCheckStructure(t, path)
	outs := qpdfOutlines(t, path)
	if len(outs) != len(units) {
		t.Fatalf("%d outline entries, want %d", len(outs), len(units))
	}
	for i, o := range outs {
		if o.Title != units[i].Name || o.Page != res.Units[i].Start {
			t.Errorf("outline %d = %s → page %d, want %s → page %d", i, o.Title, o.Page, units[i].Name, res.Units[i].Start)
		}
	}
	if poppler == nil {
		return
	}
	placeholder := map[int]error{}
	for _, p := range res.Placeholders {
		placeholder[p.Unit] = p.Err
	}
	opens, merged, samePages := 0, 0, 0
	for i, u := range units {
		want, ok := poppler[u.Name]
		if !ok {
			continue
		}
		opens++
		if err, bad := placeholder[i]; bad {
			t.Logf("poppler opens %s (%d pages), the booklet does not: %v", u.Name, want, err)
			continue
		}
		merged++
		if got := res.Units[i].Pages; got == want {
			samePages++
		} else {
			t.Logf("%s: %d pages merged, poppler counts %d", u.Name, got, want)
		}
	}
	t.Logf("of %d files poppler opens: %d merged (%.1f%%), %d with poppler's page count", opens, merged, 100*float64(merged)/float64(opens), samePages)
	if rate := float64(merged) / float64(opens); rate < minMergeRate {
		t.Errorf("merged %.1f%% of the files poppler opens, less than the %.0f%% measured before", 100*rate, 100*minMergeRate)
	}
}

// minMergeRate is the share of poppler-readable real-world files the booklet merged when the test was
// written, rounded down.
const minMergeRate = 0.97
