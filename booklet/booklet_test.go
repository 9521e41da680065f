package booklet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var shanghai = time.FixedZone("CST", 8*3600)

var testCover = Cover{
	Office:   "忻州市教育局办公室",
	Campaign: "2026年3月全市教育工作简报",
	Period:   "2026-03",
	Due:      "2026-03-31",
	Made:     time.Date(2026, 4, 2, 9, 30, 0, 0, shanghai),
}

// writeBooklet writes the booklet to a file in a test folder and returns its path.
func writeBooklet(t testing.TB, units []Unit, o Options) (string, Result) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "booklet.pdf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := WritePDF(context.Background(), f, testCover, units, o)
	if err != nil {
		t.Fatalf("WritePDF: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, res
}

const corpus = "../pdfcheck/testdata/corpus"

// mixedUnits is a period as it happens: units on time, late, rejected, silent, and files that need care.
func mixedUnits(t testing.TB) (units []Unit, labels map[int]string) {
	dir := t.TempDir()
	at := time.Date(2026, 3, 28, 10, 5, 0, 0, shanghai)
	units = []Unit{
		{Name: "忻府区教育科技局", State: StateReported, Receipt: "JB2026-0012", Received: at, Files: []string{
			writeTestPDF(t, dir, "a1.pdf", testPDF{label: "Xinfu-1", pages: 2}),
			writeTestPDF(t, dir, "a2.pdf", testPDF{label: "Xinfu-2", pages: 3}),
		}},
		{Name: "原平市教育局", State: StateMissing},
		{Name: "定襄县教育科技局", State: StateLate, Receipt: "JB2026-0031", Received: at.AddDate(0, 0, 5), Files: []string{
			writeTestPDF(t, dir, "b.pdf", testPDF{label: "Dingxiang", pages: 4, nested: true, rotate: 90}),
		}},
		{Name: "五台县教育局", State: StateRejected, Receipt: "JB2026-0007", Received: at},
		{Name: "代县教育局（加密）", State: StateReported, Receipt: "JB2026-0015", Received: at, Files: []string{
			filepath.Join(corpus, "enc-owner-aes256.pdf"), // owner password only: opens without one
		}},
		{Name: "繁峙县教育局", State: StateReported, Receipt: "JB2026-0016", Received: at, Files: []string{
			filepath.Join(corpus, "header-only.pdf"), // nothing after the header
			writeTestPDF(t, dir, "c.pdf", testPDF{label: "Fanshi", pages: 1}),
		}},
		{Name: `宁武县/教育\局:*?"<>|`, State: StateReported, Receipt: "JB2026-0020", Received: at, Files: []string{
			filepath.Join(dir, "vanished.pdf"), // archived once, gone now
		}},
		{Name: "静乐县教育科技局", State: StateMissing},
	}
	for i := range units {
		units[i].Seq = i + 1
	}
	// the text on the first page each unit's outline entry must point at
	labels = map[int]string{0: "Xinfu-1 p1", 2: "Dingxiang p1", 4: "Briefing page 1 of 2", 5: "该单位文件无法并入汇编", 6: "该单位文件无法并入汇编"}
	return units, labels
}

func TestBookletWithRealTools(t *testing.T) {
	needTool(t, "pdfinfo", "qpdf")
	needPopplerData(t)
	units, labels := mixedUnits(t)
	path, res := writeBooklet(t, units, Options{Location: shanghai})

	// pages: cover + contents + every merged file's pages + one per placeholder
	merged := 2 + 3 + 4 + 2 + 1
	placeholders := 2 // header-only.pdf and vanished.pdf
	want := 1 + res.ContentsPages + merged + placeholders
	if res.ContentsPages != 1 {
		t.Errorf("contents pages = %d, want 1 for %d units", res.ContentsPages, len(units))
	}
	if got := pdfinfoPages(t, path); got != want || res.Pages != want {
		t.Errorf("pdfinfo pages = %d, Result.Pages = %d, want %d", got, res.Pages, want)
	}
	qpdfCheck(t, path)
	if res.Merged != 5 {
		t.Errorf("merged %d files, want 5", res.Merged)
	}

	// the placeholders, and why
	if len(res.Placeholders) != placeholders {
		t.Fatalf("placeholders = %v, want %d", res.Placeholders, placeholders)
	}
	if p := res.Placeholders[0]; p.Unit != 5 || filepath.Base(p.File) != "header-only.pdf" {
		t.Errorf("first placeholder = %+v, want 繁峙县's header-only.pdf", p)
	}
	if p := res.Placeholders[1]; p.Unit != 6 || !errors.Is(p, fs.ErrNotExist) {
		t.Errorf("second placeholder = %+v, want 宁武县's missing file", p)
	}

	// outline: one entry per reporting unit, in roster order, each on the page its files start on
	var wantTitles []string
	for _, u := range units {
		if u.reporting() {
			wantTitles = append(wantTitles, u.Name)
		}
	}
	outs := qpdfOutlines(t, path)
	var titles []string
	for _, o := range outs {
		titles = append(titles, o.Title)
	}
	if !slices.Equal(titles, wantTitles) {
		t.Fatalf("outline titles = %q, want %q", titles, wantTitles)
	}
	k := 0
	for i, u := range units {
		if !u.reporting() {
			if res.Units[i].Start != 0 {
				t.Errorf("%s (%s) starts on page %d, want none", u.Name, u.State, res.Units[i].Start)
			}
			continue
		}
		o := outs[k]
		k++
		if o.Page != res.Units[i].Start {
			t.Errorf("outline %s points at page %d, Result says %d", o.Title, o.Page, res.Units[i].Start)
		}
		// independent of Result: the page the entry points at shows the unit's first page
		if text := pageText(t, path, o.Page, o.Page); !strings.Contains(text, labels[i]) {
			t.Errorf("outline %s → page %d, which reads %q; want %q", o.Title, o.Page, text, labels[i])
		}
	}
	// the second file of the first unit follows its first
	if text := pageText(t, path, res.Units[0].Start+2, res.Units[0].Start+2); !strings.Contains(text, "Xinfu-2 p1") {
		t.Errorf("page %d reads %q, want Xinfu-2 p1", res.Units[0].Start+2, text)
	}

	// contents: every unit, its state, and the page it starts on, on one line
	contents := pageText(t, path, 2, 1+res.ContentsPages)
	for i, u := range units {
		line := lineWith(contents, clean(u.Name))
		if line == "" {
			t.Errorf("contents do not name %q:\n%s", u.Name, contents)
			continue
		}
		if !strings.Contains(line, StateWord(u.State)) {
			t.Errorf("contents line for %s = %q, want state %s", u.Name, line, StateWord(u.State))
		}
		if s := res.Units[i].Start; s > 0 && !regexp.MustCompile(fmt.Sprintf(`\s%d\s*$`, s)).MatchString(line) {
			t.Errorf("contents line for %s = %q, want it to end with page %d", u.Name, line, s)
		}
		if u.Receipt != "" && !strings.Contains(line, u.Receipt) {
			t.Errorf("contents line for %s = %q, want receipt %s", u.Name, line, u.Receipt)
		}
	}
	for _, w := range []string{"目", "录", "※"} {
		if !strings.Contains(contents, w) {
			t.Errorf("contents lack %q", w)
		}
	}

	// cover: renders, and says what it must
	renderPage(t, path, 1)
	cover := pageText(t, path, 1, 1)
	cover = strings.ReplaceAll(cover, " ", "")
	for _, w := range []string{testCover.Office, testCover.Campaign, "简报汇编", "2026-03", "2026-03-31",
		"2026年4月2日09:30", "已报送4/逾期1/未通过1/未报送2", "另有2份文件无法并入"} {
		if !strings.Contains(cover, w) {
			t.Errorf("cover lacks %q:\n%s", w, cover)
		}
	}
	// the placeholder names the receipt
	if text := pageText(t, path, res.Units[6].Start, res.Units[6].Start); !strings.Contains(text, "回执编号 JB2026-0020") {
		t.Errorf("placeholder reads %q, want the receipt number", text)
	}
}

// lineWith is the first line of text containing s, "" when none.
func lineWith(text, s string) string {
	for l := range strings.Lines(text) {
		if strings.Contains(l, s) {
			return strings.TrimRight(l, "\n")
		}
	}
	return ""
}

func TestPageNumbers(t *testing.T) {
	needTool(t, "pdfinfo")
	needPopplerData(t)
	units, _ := mixedUnits(t)
	path, res := writeBooklet(t, units, Options{PageNumbers: true})
	if got := pdfinfoPages(t, path); got != res.Pages {
		t.Fatalf("pdfinfo pages = %d, Result.Pages = %d", got, res.Pages)
	}
	qpdfCheck(t, path)
	for p := 1; p <= res.Pages; p++ {
		want := fmt.Sprintf("第 %d 页 / 共 %d 页", p, res.Pages)
		text := pageText(t, path, p, p)
		if !strings.Contains(text, want) {
			t.Errorf("page %d reads %q, want %q", p, text, want)
		}
	}
	// the stamp does not disturb a copied page's own text
	if text := pageText(t, path, res.Units[2].Start, res.Units[2].Start); !strings.Contains(text, "Dingxiang p1") {
		t.Errorf("page %d reads %q, want its own text too", res.Units[2].Start, text)
	}
}

func TestNoUsableFile(t *testing.T) {
	needTool(t, "pdfinfo", "qpdf")
	needPopplerData(t)
	units := []Unit{
		{Seq: 1, Name: "原平市教育局", State: StateMissing},
		{Seq: 2, Name: "五台县教育局", State: StateRejected, Receipt: "JB2026-0007"},
	}
	path, res := writeBooklet(t, units, Options{PageNumbers: true})
	if res.Merged != 0 || res.Pages != 2 || len(res.Placeholders) != 0 {
		t.Errorf("result = %+v, want cover and contents only", res)
	}
	if got := pdfinfoPages(t, path); got != 2 {
		t.Errorf("pdfinfo pages = %d, want 2", got)
	}
	if outs := qpdfOutlines(t, path); len(outs) != 0 {
		t.Errorf("outline = %v, want none", outs)
	}
	qpdfCheck(t, path)
	if text := pageText(t, path, 1, 1); !strings.Contains(text, "本期没有可并入的文件") {
		t.Errorf("cover reads %q, want it to say nothing was merged", text)
	}

	// and with no unit at all
	path, res = writeBooklet(t, nil, Options{})
	if got := pdfinfoPages(t, path); got != 2 || res.Pages != 2 {
		t.Errorf("no units: pdfinfo pages = %d, Result.Pages = %d, want 2", got, res.Pages)
	}
}

// TestLongContents has more units than a contents page holds, and names that must wrap.
func TestLongContents(t *testing.T) {
	needTool(t, "pdfinfo", "qpdf")
	needPopplerData(t)
	dir := t.TempDir()
	file := writeTestPDF(t, dir, "x.pdf", testPDF{label: "X", pages: 1})
	var units []Unit
	for i := range 130 {
		u := Unit{Seq: i + 1, Name: fmt.Sprintf("第%d中等职业学校", i+1), State: StateMissing}
		if i%3 == 0 {
			u.State, u.Receipt, u.Files = StateReported, fmt.Sprintf("JB2026-%04d", i+1), []string{file}
		}
		units = append(units, u)
	}
	long := strings.Repeat("忻州市五寨县教育科技局直属第一职业技术学校", 12) // far past three lines
	units[6].Name = long
	units[7].Name = "Xinzhou Municipal Vocational and Technical College of Agriculture, Forestry and Water Conservancy"
	path, res := writeBooklet(t, units, Options{PageNumbers: true})
	if res.ContentsPages < 3 {
		t.Errorf("contents pages = %d, want at least 3 for 130 units", res.ContentsPages)
	}
	if got := pdfinfoPages(t, path); got != res.Pages || res.Pages != 1+res.ContentsPages+44 {
		t.Errorf("pdfinfo pages = %d, Result.Pages = %d, want %d", got, res.Pages, 1+res.ContentsPages+44)
	}
	qpdfCheck(t, path)
	contents := pageText(t, path, 2, 1+res.ContentsPages)
	for i, u := range units {
		if i == 6 || i == 7 {
			continue
		}
		if !strings.Contains(contents, u.Name) {
			t.Errorf("contents lack %q", u.Name)
		}
	}
	if !strings.Contains(contents, "忻州市五寨县教育科技局") || !strings.Contains(contents, "…") {
		t.Errorf("the long name is neither started nor cut with …")
	}
	if !strings.Contains(contents, "Xinzhou Municipal") {
		t.Errorf("the Latin name is missing")
	}
	outs := qpdfOutlines(t, path)
	if len(outs) != 44 || outs[2].Title != long {
		t.Errorf("outline has %d entries (want 44), third %q", len(outs), outs[min(2, len(outs)-1)].Title)
	}
}

func TestCallerMistakes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		units []Unit
	}{
		{"unknown state", []Unit{{Name: "a", State: "done"}}},
		{"files on a missing unit", []Unit{{Name: "a", State: StateMissing, Files: []string{"x.pdf"}}}},
		{"files on a rejected unit", []Unit{{Name: "a", State: StateRejected, Files: []string{"x.pdf"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := WritePDF(context.Background(), &buf, testCover, tc.units, Options{}); err == nil {
				t.Error("WritePDF: no error")
			}
			if _, err := WriteZip(context.Background(), &buf, tc.units, Options{}); err == nil {
				t.Error("WriteZip: no error")
			}
		})
	}
}

// TestCancel: a cancelled context stops the booklet with its error.
func TestCancel(t *testing.T) {
	units, _ := mixedUnits(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	if _, err := WritePDF(ctx, &buf, testCover, units, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("WritePDF err = %v, want context.Canceled", err)
	}
	if _, err := WriteZip(ctx, &buf, units, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteZip err = %v, want context.Canceled", err)
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteFailure(t *testing.T) {
	units, _ := mixedUnits(t)
	for _, n := range []int{0, 100, 5000} {
		if _, err := WritePDF(context.Background(), &failWriter{n}, testCover, units, Options{}); !errors.Is(err, errDiskFull) {
			t.Errorf("WritePDF failing after %d bytes: err = %v, want errDiskFull", n, err)
		}
		if _, err := WriteZip(context.Background(), &failWriter{n}, units, Options{}); !errors.Is(err, errDiskFull) {
			t.Errorf("WriteZip failing after %d bytes: err = %v, want errDiskFull", n, err)
		}
	}
}

func TestLimits(t *testing.T) {
	dir := t.TempDir()
	big := writeTestPDF(t, dir, "big.pdf", testPDF{label: "big", pages: 1, pad: 200 << 10})
	units := []Unit{{Name: "a", State: StateReported, Receipt: "JB1", Files: []string{big, dir}}}
	var buf bytes.Buffer
	res, err := WritePDF(context.Background(), &buf, testCover, units, Options{MaxFileSize: 100 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Placeholders) != 2 || !errors.Is(res.Placeholders[0], ErrTooLarge) || res.Placeholders[1].Err == nil {
		t.Errorf("placeholders = %v, want too large and not a file", res.Placeholders)
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		s        string
		width    float64
		maxLines int
		want     []string
	}{
		{"原平市教育局", 100, 3, []string{"原平市教育局"}},
		{"一二三四五六七八九十", 50, 3, []string{"一二三四五", "六七八九十"}},
		{"一二三四五六七八九十一二三四五六七八九十", 50, 2, []string{"一二三四五", "六七八九…"}},
		{"ab cd", 1000, 1, []string{"ab cd"}},
		{"  a\n\tb\u202e c\x00 ", 1000, 1, []string{"a b c"}},
		{"", 100, 3, []string{""}},
		{"a\xff\xfeb", 100, 1, []string{"a\uFFFDb"}},
	} {
		got := wrap(tc.s, 10, tc.width, tc.maxLines)
		if !slices.Equal(got, tc.want) {
			t.Errorf("wrap(%q, %v, %d) = %q, want %q", tc.s, tc.width, tc.maxLines, got, tc.want)
		}
	}
}

// TestCiphertextNotMerged: pdfcpu reads some damaged encrypted files without decrypting their streams;
// such a file must become a placeholder, not pages of ciphertext.
func TestCiphertextNotMerged(t *testing.T) {
	for _, name := range []string{"trunc-encowner-002746.pdf", "trunc-encowner-002740.pdf"} {
		units := []Unit{{Name: "a", State: StateReported, Receipt: "JB1", Files: []string{filepath.Join(corpus, name)}}}
		var buf bytes.Buffer
		res, err := WritePDF(context.Background(), &buf, testCover, units, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Placeholders) != 1 || !errors.Is(res.Placeholders[0], ErrEncryption) {
			t.Errorf("%s: placeholders = %v, want ErrEncryption", name, res.Placeholders)
		}
	}
}

// TestConcurrent: the dashboard may build several booklets at once; each must come out whole (run with
// -race to check the sharing of pdfcpu's state).
func TestConcurrent(t *testing.T) {
	units, _ := mixedUnits(t)
	want, err := WritePDF(context.Background(), io.Discard, testCover, units, Options{PageNumbers: true})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			var buf bytes.Buffer
			res, err := WritePDF(context.Background(), &buf, testCover, units, Options{PageNumbers: true})
			if err != nil || res.Pages != want.Pages || res.Bytes != want.Bytes || int64(buf.Len()) != res.Bytes {
				t.Errorf("concurrent build: %d pages, %d bytes (%d written), %v; alone %d pages, %d bytes", res.Pages, res.Bytes, buf.Len(), err, want.Pages, want.Bytes)
			}
		})
	}
	wg.Wait()
}
