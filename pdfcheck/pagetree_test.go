package pdfcheck

import (
	"bytes"
	"context"
	"encoding/ascii85"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// miniPDF writes a PDF of the given objects (numbered from 1; object 1 is the catalog) with a classic
// cross-reference table and a trailer of trailerExtra besides /Root, and returns its path. With
// badStartxref the startxref offset points nowhere, so that viewers rebuild the table by scanning.
func miniPDF(t *testing.T, dir, name string, objs []string, trailerExtra string, badStartxref bool) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	if badStartxref {
		xref = 5
	}
	fmt.Fprintf(&b, "trailer\n<< /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n", trailerExtra, xref)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPageTreeAsPoppler covers the page count as poppler computes it: the root's /Count (a real number
// counts, 0 or less means no pages, more than the number of objects means none either, where the number of
// objects is the trailer's /Size or, in a rebuilt table, a multiple of 256), a root that is a page, a root
// without /Type, inherited attributes, a leaf without /Type. When pdfinfo is installed each expectation is
// also checked against it.
func TestPageTreeAsPoppler(t *testing.T) {
	const (
		catalog = "<< /Type /Catalog /Pages 2 0 R >>"
		page    = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"
	)
	pages := func(count string) string {
		return "<< /Type /Pages /Kids [3 0 R] /Count " + count + " >>"
	}
	cases := []struct {
		name     string
		objs     []string
		trailer  string
		damaged  bool
		ok       bool
		pages    int
		warnPart string // a warning that must be there, "" for none
		reason   string // when not ok; "" means pdf_no_pages
		// popplerPages, when set, is where poppler differs on purpose: pdfinfo opens the file with that many
		// pages because it only reads the root's /Count, while no page can be shown (issue 14: a file is ok
		// only if its page tree leads to a page whose content and resources are there).
		popplerPages int
	}{
		{"count matches", []string{catalog, pages("1"), page}, "/Size 4", false, true, 1, "", "", 0},
		{"count as a real number", []string{catalog, pages("1.0"), page}, "/Size 4", false, true, 1, "", "", 0},
		{"count says 2, one page", []string{catalog, pages("2"), page}, "/Size 4", false, true, 2, "/Count says 2", "", 0},
		{"count 0", []string{catalog, pages("0"), page}, "/Size 4", false, false, 0, "", "", 0},
		{"count negative", []string{catalog, pages("-3"), page}, "/Size 4", false, false, 0, "", "", 0},
		{"count beyond the objects", []string{catalog, pages("100"), page}, "/Size 4", false, false, 0, "", "", 0},
		{"count within the trailer's /Size", []string{catalog, pages("100"), page}, "/Size 200", false, true, 100, "poppler counts 200 objects", "", 0},
		{"count within a rebuilt table of 256", []string{catalog, pages("100"), page}, "/Size 4", true, true, 100, "poppler counts 256 objects", "", 0},
		{"count beyond a rebuilt table of 256", []string{catalog, pages("300"), page}, "/Size 4", true, false, 0, "", "", 0},
		{"root without /Type", []string{catalog, "<< /Kids [3 0 R] /Count 1 >>", page}, "/Size 4", false, true, 1, "", "", 0},
		{"root is a page", []string{catalog, "<< /Type /Page /MediaBox [0 0 200 200] >>"}, "/Size 3", false, true, 1, "", "", 0},
		{"leaf without /Type, inherited MediaBox", []string{catalog,
			"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 300 300] /Resources << >> >>",
			"<< /Parent 2 0 R >>"}, "/Size 4", false, true, 1, "", "", 0},
		{"no page tree", []string{"<< /Type /Catalog >>"}, "/Size 2", false, false, 0, "", "", 0},
		{"a /Count but no kids", []string{catalog, "<< /Type /Pages /Kids [] /Count 1 >>"}, "/Size 3", false, false, 0,
			"no page object found", "", 1},
		{"the only kid is not in the file", []string{catalog, "<< /Type /Pages /Kids [9 0 R] /Count 1 >>"}, "/Size 3", false, false, 0,
			"no page object found", "", 1},
		{"a loop and no page", []string{catalog, "<< /Type /Pages /Kids [2 0 R] /Count 1 >>"}, "/Size 3", false, false, 0,
			"no page object found", "", 1},
		{"the first page's content is not in the file", []string{catalog, pages("1"),
			"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 9 0 R >>"}, "/Size 4", false, false, 0,
			"content stream is not in the file", ReasonDamaged, 1},
		{"the first page's resources are not in the file", []string{catalog, pages("1"),
			"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources 9 0 R >>"}, "/Size 4", false, false, 0,
			"resources are not in the file", ReasonDamaged, 1},
		{"resources of the wrong type: a viewer ignores them", []string{catalog, pages("1"),
			"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources [1 2] >>"}, "/Size 4", false, true, 1,
			"not a dictionary", "", 0},
	}
	_, err := exec.LookPath("pdfinfo")
	withPdfinfo := err == nil
	if !withPdfinfo {
		t.Log("pdfinfo not installed: the expectations are not compared with poppler")
	}
	c := newTestChecker(t, Options{})
	dir := t.TempDir()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := miniPDF(t, dir, fmt.Sprintf("tree-%d.pdf", i), tc.objs, tc.trailer, tc.damaged)
			if withPdfinfo {
				wantOpens, wantPages := tc.ok, tc.pages
				if tc.popplerPages > 0 {
					wantOpens, wantPages = true, tc.popplerPages
				}
				if pv := pdfinfo(p); pv.opens != wantOpens || (wantOpens && pv.pages != wantPages) {
					t.Fatalf("pdfinfo opens=%v pages=%d (%s); the case expects %v, %d: fix the case", pv.opens, pv.pages, pv.msg, wantOpens, wantPages)
				}
			}
			v := c.CheckFile(context.Background(), p)
			if v.OK() != tc.ok || v.Pages != tc.pages {
				t.Errorf("got %s/%s %d pages, want ok=%v %d pages; warnings %q", v.Verdict, v.Reason, v.Pages, tc.ok, tc.pages, v.Warnings)
			}
			want := tc.reason
			if want == "" {
				want = ReasonNoPages
			}
			if !tc.ok && v.Reason != want {
				t.Errorf("reason %s, want %s", v.Reason, want)
			}
			if tc.warnPart != "" && !bytes.Contains([]byte(fmt.Sprint(v.Warnings)), []byte(tc.warnPart)) {
				t.Errorf("no warning with %q in %q", tc.warnPart, v.Warnings)
			}
		})
	}
}

// TestRebuildAsPoppler covers files poppler opens only by rebuilding the cross-reference table, and one
// it refuses after rebuilding it; when pdfinfo is installed each expectation is also checked against it.
func TestRebuildAsPoppler(t *testing.T) {
	const (
		catalog = "<< /Type /Catalog /Pages 2 0 R >>"
		page    = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"
	)
	dir := t.TempDir()
	onePage := func(t *testing.T) []byte {
		b, err := os.ReadFile(miniPDF(t, dir, "one.pdf", []string{catalog, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page}, "/Size 4", false))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write := func(t *testing.T, name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name      string
		build     func(t *testing.T) string
		ok        bool
		pages     int
		encrypted bool
	}{
		{"no header", func(t *testing.T) string {
			b := onePage(t)
			return write(t, "noheader.pdf", b[bytes.IndexByte(b, '\n')+1:])
		}, true, 1, false},
		{"junk before the header", func(t *testing.T) string {
			return write(t, "junk.pdf", append([]byte("From: office@example.cn\r\n\r\n"), onePage(t)...))
		}, true, 1, false},
		{"two files pasted together: the first trailer, the last objects", func(t *testing.T) string {
			second, err := os.ReadFile(miniPDF(t, dir, "two.pdf", []string{catalog,
				"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>", page, page,
				"<< /Filter /Standard /V 2 /R 3 /Length 128 /P -4 /O <00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff> /U <00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff> >>"},
				"/Size 6 /Encrypt 5 0 R /ID [<0011> <0011>]", false))
			if err != nil {
				t.Fatal(err)
			}
			return write(t, "pasted.pdf", append(onePage(t), second...))
		}, true, 2, false},
		{"xref stream with a bad ASCII85 digit in an unused entry", func(t *testing.T) string {
			return write(t, "xrefstm-a85.pdf", xrefStreamPDF(t, true))
		}, true, 1, false},
		{"xref stream in ASCII85, intact", func(t *testing.T) string {
			return write(t, "xrefstm-a85-ok.pdf", xrefStreamPDF(t, false))
		}, true, 1, false},
		{"xref stream whose Flate data is damaged, no trailer keyword", func(t *testing.T) string {
			return write(t, "xrefstm-flate-bad.pdf", flipInXRefStream(t, 2))
		}, false, 0, false},
		{"xref stream whose Flate checksum is damaged", func(t *testing.T) string {
			return write(t, "xrefstm-adler-bad.pdf", flipInXRefStream(t, -6))
		}, true, 3, false},
		{"the table points at another object's header", func(t *testing.T) string {
			// object 2 (the page tree) is written as a second "3 0 obj": after rebuilding there is no object 2
			b := bytes.Replace(onePage(t), []byte("2 0 obj"), []byte("3 0 obj"), 1)
			return write(t, "misplaced.pdf", b)
		}, false, 0, false},
	}
	_, err := exec.LookPath("pdfinfo")
	withPdfinfo := err == nil
	c := newTestChecker(t, Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.build(t)
			if withPdfinfo {
				if pv := pdfinfo(p); pv.opens != tc.ok || (tc.ok && pv.pages != tc.pages) {
					t.Fatalf("pdfinfo opens=%v pages=%d (%s); the case expects %v, %d: fix the case", pv.opens, pv.pages, pv.msg, tc.ok, tc.pages)
				}
			}
			v := c.CheckFile(context.Background(), p)
			if v.OK() != tc.ok || v.Pages != tc.pages || v.Encrypted != tc.encrypted || v.Kind != KindPDF {
				t.Errorf("got %s %s/%s %d pages encrypted=%v, want ok=%v %d pages encrypted=%v; warnings %q",
					v.Kind, v.Verdict, v.Reason, v.Pages, v.Encrypted, tc.ok, tc.pages, tc.encrypted, v.Warnings)
			}
		})
	}
}

// xrefStreamPDF returns a one-page PDF whose cross-reference stream (W [0 4 2], no type bytes) is encoded in
// ASCII85 only, and with bad, a digit out of range in the group that holds the offset of an unused object:
// poppler decodes that group to garbage and reads the rest; pdfcpu refuses the stream.
func xrefStreamPDF(t *testing.T, bad bool) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n")
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>", "<< /Unused true >>"}
	offs := []int{0}
	for i, o := range objs {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	offs = append(offs, xref) // object 5, the stream itself
	var raw []byte
	for i, o := range offs {
		gen := 0
		if i == 0 {
			gen = 65535
		}
		raw = append(raw, byte(o>>24), byte(o>>16), byte(o>>8), byte(o), byte(gen>>8), byte(gen))
	}
	enc := make([]byte, ascii85.MaxEncodedLen(len(raw)))
	enc = append(enc[:ascii85.Encode(enc, raw)], "~>"...)
	if bad {
		// entry 4 (the unused object) is bytes 24-29, ASCII85 group 6 is bytes 24-27: find where it starts
		pos := 0
		for range 6 {
			if enc[pos] == 'z' { // four zero bytes in one character
				pos++
			} else {
				pos += 5
			}
		}
		enc[pos] = 0xb1
	}
	fmt.Fprintf(&b, "5 0 obj\n<< /Type /XRef /Size 6 /W [0 4 2] /Root 1 0 R /Filter /ASCII85Decode /Length %d >>\nstream\n", len(enc))
	b.Write(enc)
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes()
}

// flipInXRefStream returns testdata's valid-objstm.pdf (3 pages, a Flate cross-reference stream, no
// "trailer" keyword) with four bytes of its cross-reference stream's data flipped, at offset at from the
// data's start (negative: from its end).
func flipInXRefStream(t *testing.T, at int) []byte {
	b, err := os.ReadFile("testdata/corpus/valid-objstm.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("trailer")) {
		t.Fatal("valid-objstm.pdf has a trailer keyword: it no longer fits this case")
	}
	x := bytes.LastIndex(b, []byte("/Type /XRef"))
	start := bytes.Index(b[x:], []byte("stream\n")) + x + 7
	end := bytes.Index(b[start:], []byte("endstream")) + start
	if x < 0 || start < x || end < start+16 {
		t.Fatal("valid-objstm.pdf: cross-reference stream not found")
	}
	pos := start + at
	if at < 0 {
		pos = end + at
	}
	for i := pos; i < pos+4; i++ {
		b[i] ^= 0x5a
	}
	return b
}
