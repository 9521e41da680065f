// Command gencorpus writes pdfcheck's test corpus: PDFs of every shape the office receives, damaged and
// hostile ones, and the other files people attach instead of a PDF. Everything is generated here (qpdf is
// used for linearization, object streams and encryption); no third-party file is committed.
//
//	go run ./pdfcheck/internal/gencorpus [-out pdfcheck/testdata]
//
// It rewrites DIR/corpus and DIR/fuzz/FuzzCheck. Afterwards regenerate the golden verdicts with
// `go test ./pdfcheck -run TestGolden -update` and review the diff.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf16"
)

var outDir = flag.String("out", "pdfcheck/testdata", "testdata directory")

func main() {
	flag.Parse()
	corpus := filepath.Join(*outDir, "corpus")
	must(os.RemoveAll(corpus))
	must(os.MkdirAll(corpus, 0o755))
	g := &gen{dir: corpus, tmp: must1(os.MkdirTemp("", "gencorpus"))}
	defer os.RemoveAll(g.tmp)
	g.valid()
	g.encrypted()
	g.damaged()
	g.truncated()
	g.hostile()
	g.notPDF()
	g.fuzzSeeds(filepath.Join(*outDir, "fuzz", "FuzzCheck"))
	log.Printf("wrote %d files to %s", g.n, corpus)
}

type gen struct {
	dir, tmp string
	n        int
	seeds    [][]byte
}

func (g *gen) write(name string, b []byte) {
	must(os.WriteFile(filepath.Join(g.dir, name), b, 0o644))
	g.n++
}

func (g *gen) seed(b []byte) {
	if len(b) <= 8<<10 {
		g.seeds = append(g.seeds, b)
	}
}

// qpdf runs qpdf on b with args (between input and output) and returns the output.
func (g *gen) qpdf(b []byte, args ...string) []byte {
	in, out := filepath.Join(g.tmp, "in.pdf"), filepath.Join(g.tmp, "out.pdf")
	must(os.WriteFile(in, b, 0o644))
	cmd := exec.Command("qpdf", append(append(append([]string{"--static-id"}, args...), in), out)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		// exit status 3 means warnings: the output is written
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			log.Fatalf("qpdf %v: %v\n%s", args, err, msg)
		}
	}
	return must1(os.ReadFile(out))
}

func (g *gen) valid() {
	for _, v := range []string{"1.3", "1.4", "1.5", "1.6", "1.7", "2.0"} {
		b := simple(docSpec{version: v, pages: 2})
		g.write("valid-v"+v+".pdf", b)
		g.seed(b)
	}
	g.write("valid-1page.pdf", simple(docSpec{version: "1.4", pages: 1}))
	g.write("valid-cjk.pdf", simple(docSpec{version: "1.6", pages: 2, cjk: true, title: "<FEFF7B8062A5>"}))
	g.write("valid-scan.pdf", simple(docSpec{version: "1.4", pages: 3, image: true}))
	g.write("valid-scan-cjk.pdf", simple(docSpec{version: "1.7", pages: 2, image: true, cjk: true}))
	g.write("valid-20pages.pdf", simple(docSpec{version: "1.7", pages: 20}))
	g.write("valid-nofontres.pdf", simple(docSpec{version: "1.4", pages: 1, noRes: true}))
	g.write("valid-v2.0-cjk.pdf", simple(docSpec{version: "2.0", pages: 1, cjk: true}))

	base := simple(docSpec{version: "1.7", pages: 3, cjk: true, image: true})
	g.write("valid-linearized.pdf", g.qpdf(base, "--linearize"))
	g.write("valid-objstm.pdf", g.qpdf(base, "--object-streams=generate"))
	g.write("valid-linearized-objstm.pdf", g.qpdf(base, "--linearize", "--object-streams=generate"))
	g.write("valid-qpdf-v2.0.pdf", g.qpdf(simple(docSpec{version: "1.7", pages: 2}), "--force-version=2.0"))

	// Incremental updates: a new content for page 1, then a new page appended.
	p := buildDoc(docSpec{version: "1.4", pages: 2})
	first := p.xref("/Root 1 0 R /Info 8 0 R")
	p.stream(11, "/Filter /FlateDecode", deflate([]byte("BT /F1 18 Tf 72 720 Td (Revised page 1) Tj ET")))
	p.obj(8, "<< /Title (revised) /Producer (briefd gencorpus) >>")
	second := p.xrefUpdate([]int{8, 11}, first, "/Root 1 0 R /Info 8 0 R")
	g.write("valid-incremental-1.pdf", p.bytes())
	p.obj(14, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 15 0 R >>")
	p.stream(15, "", []byte("BT /F1 18 Tf 72 720 Td (Added page 3) Tj ET"))
	p.obj(2, "<< /Type /Pages /Kids [10 0 R 12 0 R 14 0 R] /Count 3 >>")
	p.xrefUpdate([]int{2, 14, 15}, second, "/Root 1 0 R /Info 8 0 R")
	g.write("valid-incremental-2.pdf", p.bytes())
	g.seed(p.bytes())

	// Page tree with intermediate nodes and inherited attributes.
	q := newPDF("1.4")
	q.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	q.obj(2, "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 4 /MediaBox [0 0 595 842] /Resources << /Font << /F1 9 0 R >> >> >>")
	q.obj(3, "<< /Type /Pages /Parent 2 0 R /Kids [5 0 R 6 0 R] /Count 2 >>")
	q.obj(4, "<< /Type /Pages /Parent 2 0 R /Kids [7 0 R 8 0 R] /Count 2 >>")
	for i := 5; i <= 8; i++ {
		parent := 3
		if i > 6 {
			parent = 4
		}
		q.obj(i, fmt.Sprintf("<< /Type /Page /Parent %d 0 R /Contents 10 0 R >>", parent))
	}
	q.obj(9, "<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>")
	q.stream(10, "", []byte("BT /F1 24 Tf 72 700 Td (A4 page, inherited resources) Tj ET"))
	q.xref("/Root 1 0 R")
	g.write("valid-pagetree.pdf", q.bytes())

	// Junk around the file.
	b := simple(docSpec{version: "1.4", pages: 2})
	g.write("junk-before-100.pdf", append([]byte(strings.Repeat("X-Junk: mail header residue\r\n", 4)), b...))
	g.write("junk-before-bom.pdf", append([]byte("\xef\xbb\xbf"), b...))
	g.write("junk-before-2000.pdf", append(bytes.Repeat([]byte("scanner preamble "), 118), b...))
	g.write("junk-after-text.pdf", append(bytes.Clone(b), []byte("\r\n-- \r\nSent from my phone\r\n")...))
	g.write("junk-after-zeros.pdf", append(bytes.Clone(b), make([]byte, 4096)...))
	g.write("junk-after-binary.pdf", append(bytes.Clone(b), scanJPEG(40, 40)...))
	g.write("junk-both.pdf", append(append([]byte("garbage\n"), b...), []byte("trailing garbage")...))
	g.write("valid-crlf.pdf", bytes.ReplaceAll(simple(docSpec{version: "1.3", pages: 1}), []byte("\n"), []byte("\r\n")))
}

func (g *gen) encrypted() {
	base := simple(docSpec{version: "1.6", pages: 2, cjk: true})
	g.write("enc-owner-aes256.pdf", g.qpdf(base, "--static-aes-iv", "--encrypt", "", "owner-secret", "256", "--print=none", "--modify=none", "--"))
	g.write("enc-owner-rc4-128.pdf", g.qpdf(base, "--allow-weak-crypto", "--encrypt", "", "owner-secret", "128", "--use-aes=n", "--print=low", "--"))
	g.write("enc-owner-rc4-40.pdf", g.qpdf(base, "--allow-weak-crypto", "--encrypt", "", "owner-secret", "40", "--print=n", "--"))
	g.write("enc-owner-aes128.pdf", g.qpdf(base, "--static-aes-iv", "--encrypt", "", "owner-secret", "128", "--use-aes=y", "--"))
	g.write("enc-user-aes256.pdf", g.qpdf(base, "--static-aes-iv", "--encrypt", "user-secret", "owner-secret", "256", "--"))
	g.write("enc-user-rc4-128.pdf", g.qpdf(base, "--allow-weak-crypto", "--encrypt", "user-secret", "owner-secret", "128", "--use-aes=n", "--"))
	g.write("enc-user-rc4-40.pdf", g.qpdf(base, "--allow-weak-crypto", "--encrypt", "123456", "owner-secret", "40", "--"))
	g.write("enc-user-aes128.pdf", g.qpdf(base, "--static-aes-iv", "--encrypt", "123456", "654321", "128", "--use-aes=y", "--"))
	g.write("enc-same-passwords.pdf", g.qpdf(base, "--static-aes-iv", "--encrypt", "same", "same", "256", "--"))
	g.write("enc-owner-linearized.pdf", g.qpdf(base, "--static-aes-iv", "--linearize", "--encrypt", "", "owner-secret", "256", "--print=none", "--"))
}

// damaged: files viewers repair.
func (g *gen) damaged() {
	spec := docSpec{version: "1.4", pages: 2}
	b := simple(spec)
	// every xref offset off by 7
	p := buildDoc(spec)
	for n := range p.offs {
		p.offs[n] += 7
	}
	p.xref("/Root 1 0 R")
	g.write("xref-offsets-shifted.pdf", p.bytes())
	// startxref points into the middle of nowhere
	g.write("xref-startxref-wrong.pdf", replaceLast(b, "startxref\n"+startxref(b), "startxref\n12"))
	// startxref missing
	g.write("xref-no-startxref.pdf", replaceLast(b, "startxref\n"+startxref(b)+"\n", ""))
	// the xref keyword damaged
	g.write("xref-keyword-garbled.pdf", replaceLast(b, "xref\n0 ", "xrfe\n0 "))
	// no xref table at all, no trailer
	cut := bytes.LastIndex(b, []byte("xref\n0 "))
	g.write("xref-missing.pdf", append(bytes.Clone(b[:cut]), []byte("%%EOF\n")...))
	// the trailer lost but an xref present
	g.write("xref-trailer-garbled.pdf", replaceLast(b, "trailer\n<<", "trailor\n<<"))
	// the xref table claims fewer entries than exist
	g.write("xref-short-count.pdf", replaceLast(b, "xref\n0 ", "xref\n0 3"))
	// lines of the xref table with bad widths
	g.write("xref-bad-entries.pdf", bytes.Replace(b, []byte(" 00000 n \n"), []byte(" 0 n\n"), 3))
	// a wrong /Length on a content stream
	g.write("stream-wrong-length.pdf", bytes.Replace(b, []byte("/FlateDecode /Length "), []byte("/FlateDecode /Length 9"), 1))
	// /Size wrong in the trailer
	g.write("trailer-size-wrong.pdf", replaceLast(b, "/Size ", "/Size 9"))
	// CR-only line ends, shifted offsets
	g.write("xref-cr-only.pdf", bytes.ReplaceAll(b, []byte("\n"), []byte("\r")))
	// Page count lies: /Count says 5, two pages exist; /Count 1, two exist
	g.write("count-too-high.pdf", simple(docSpec{version: "1.4", pages: 2, count: 5}))
	g.write("count-too-low.pdf", simple(docSpec{version: "1.4", pages: 2, count: 1}))
	// an object stream file with a damaged xref stream offset
	os := g.qpdf(simple(docSpec{version: "1.5", pages: 2}), "--object-streams=generate")
	g.write("xrefstm-startxref-wrong.pdf", replaceLast(os, "startxref\n"+startxref(os), "startxref\n99"))
	// no pages at all: an empty page tree
	q := newPDF("1.4")
	q.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	q.obj(2, "<< /Type /Pages /Kids [] /Count 0 >>")
	q.xref("/Root 1 0 R")
	g.write("nopages-empty-tree.pdf", q.bytes())
	g.seed(q.bytes())
	// no catalog
	q = newPDF("1.4")
	q.obj(1, "<< /Producer (nothing) >>")
	q.xref("/Info 1 0 R")
	g.write("nopages-no-root.pdf", q.bytes())
	// just a header
	g.write("header-only.pdf", []byte("%PDF-1.4\n%%EOF\n"))
	g.write("header-garbage.pdf", append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("\x00\x13garbage\xff"), 200)...))
}

func startxref(b []byte) string {
	i := bytes.LastIndex(b, []byte("startxref\n"))
	rest := b[i+len("startxref\n"):]
	j := bytes.IndexByte(rest, '\n')
	return string(rest[:j])
}

func replaceLast(b []byte, old, new string) []byte {
	i := bytes.LastIndex(b, []byte(old))
	if i < 0 {
		log.Fatalf("replaceLast: %q not found", old)
	}
	return append(append(bytes.Clone(b[:i]), new...), b[i+len(old):]...)
}

// truncated: a valid file cut at many offsets.
func (g *gen) truncated() {
	inc := buildDoc(docSpec{version: "1.4", pages: 2})
	first := inc.xref("/Root 1 0 R")
	inc.stream(11, "", []byte("BT /F1 18 Tf 72 720 Td (Revised) Tj ET"))
	inc.xrefUpdate([]int{11}, first, "/Root 1 0 R")
	cjk := simple(docSpec{version: "1.7", pages: 2, cjk: true})
	bases := map[string][]byte{
		"classic":  simple(docSpec{version: "1.4", pages: 3, cjk: true, image: true}),
		"small":    simple(docSpec{version: "1.4", pages: 2}),
		"incr":     inc.bytes(),
		"v20":      simple(docSpec{version: "2.0", pages: 2, cjk: true}),
		"objstm":   g.qpdf(simple(docSpec{version: "1.5", pages: 3, cjk: true}), "--object-streams=generate"),
		"linear":   g.qpdf(simple(docSpec{version: "1.6", pages: 4}), "--linearize"),
		"encowner": g.qpdf(cjk, "--static-aes-iv", "--encrypt", "", "owner-secret", "256", "--print=none", "--"),
		"encuser":  g.qpdf(cjk, "--static-aes-iv", "--encrypt", "user", "owner-secret", "256", "--"),
	}
	counts := map[string]int{"classic": 70, "small": 150, "incr": 120, "v20": 90, "objstm": 100, "linear": 100, "encowner": 100, "encuser": 60}
	for name, b := range bases {
		offs := map[int]bool{}
		n := counts[name]
		for i := 1; i <= n; i++ {
			offs[len(b)*i/(n+1)] = true
		}
		// the last bytes: %%EOF, startxref, the xref table
		for _, k := range []int{1, 3, 6, 12, 20, 40, 80} {
			offs[len(b)-k] = true
		}
		for o := range offs {
			if o <= 0 || o >= len(b) {
				continue
			}
			g.write(fmt.Sprintf("trunc-%s-%06d.pdf", name, o), b[:o])
		}
		if name == "classic" {
			g.seed(b[:len(b)/2])
		}
	}
}

func (g *gen) hostile() {
	// xref /Prev pointing at itself
	b := simple(docSpec{version: "1.4", pages: 1})
	sx := startxref(b)
	g.write("hostile-xref-prev-self.pdf", replaceLast(b, "/Root 1 0 R", "/Root 1 0 R /Prev "+sx))
	// two sections pointing at each other
	p := buildDoc(docSpec{version: "1.4", pages: 1})
	first := p.xref("/Root 1 0 R")
	p.obj(8, "<< /Title (update) >>")
	nextOff := p.buf.Len()
	p.xrefUpdate([]int{8}, nextOff+1000000, "/Root 1 0 R")
	b2 := p.bytes()
	b2 = replaceLast(b2, "/Prev "+strconv.Itoa(nextOff+1000000), "/Prev "+strconv.Itoa(first))
	b2 = replaceLast(b2, "trailer\n<< /Size 12 /Root 1 0 R", "trailer\n<< /Size 12 /Prev "+strconv.Itoa(nextOff)+" /Root 1 0 R")
	g.write("hostile-xref-prev-loop.pdf", b2)
	// xref stream whose /Prev is itself
	os := g.qpdf(simple(docSpec{version: "1.5", pages: 1}), "--object-streams=generate")
	g.write("hostile-xrefstm-prev-self.pdf", bytes.Replace(os, []byte("/Type /XRef"), []byte("/Type /XRef /Prev "+startxref(os)), 1))

	// deep nesting: arrays and dictionaries hung off the page
	for _, depth := range []int{1000, 50000} {
		p := buildDoc(docSpec{version: "1.4", pages: 1})
		p.obj(9, strings.Repeat("[", depth)+strings.Repeat("]", depth))
		p.obj(1, "<< /Type /Catalog /Pages 2 0 R /Deep 9 0 R >>")
		p.xref("/Root 1 0 R")
		g.write(fmt.Sprintf("hostile-deep-array-%d.pdf", depth), p.bytes())
	}
	p = buildDoc(docSpec{version: "1.4", pages: 1})
	p.obj(9, strings.Repeat("<< /A ", 20000)+strings.Repeat(">> ", 20000))
	p.obj(1, "<< /Type /Catalog /Pages 2 0 R /Deep 9 0 R >>")
	p.xref("/Root 1 0 R")
	g.write("hostile-deep-dict.pdf", p.bytes())
	// unterminated nesting, then nothing
	g.write("hostile-deep-unterminated.pdf", append([]byte("%PDF-1.4\n1 0 obj\n"), bytes.Repeat([]byte("[<<"), 60000)...))

	// a page tree 2000 levels deep with one page at the bottom
	q := newPDF("1.4")
	q.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	const levels = 2000
	for i := 0; i < levels; i++ {
		q.obj(2+i, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", 3+i))
	}
	q.obj(2+levels, "<< /Type /Page /MediaBox [0 0 100 100] >>")
	q.xref("/Root 1 0 R")
	g.write("hostile-deep-pagetree.pdf", q.bytes())
	// page tree loops: a node lists the root among its kids
	q = newPDF("1.4")
	q.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	q.obj(2, "<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>")
	q.obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>")
	q.xref("/Root 1 0 R")
	g.write("hostile-pagetree-loop.pdf", q.bytes())
	g.seed(q.bytes())
	q = newPDF("1.4")
	q.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	q.obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	q.obj(3, "<< /Type /Pages /Kids [2 0 R] /Count 1 >>")
	q.xref("/Root 1 0 R")
	g.write("hostile-pagetree-loop-nopage.pdf", q.bytes())
	// an object that is a reference to itself
	q = newPDF("1.4")
	q.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	q.obj(2, "3 0 R")
	q.obj(3, "2 0 R")
	q.xref("/Root 1 0 R")
	g.write("hostile-ref-cycle.pdf", q.bytes())

	// huge page counts: a lie with one page, a lie with none, and a real 5000-page file
	g.write("hostile-count-2e9.pdf", simple(docSpec{version: "1.4", pages: 1, count: 2000000000}))
	q = newPDF("1.4")
	q.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	q.obj(2, "<< /Type /Pages /Kids [] /Count 1000000000 >>")
	q.xref("/Root 1 0 R")
	g.write("hostile-count-1e9-nopage.pdf", q.bytes())
	q = newPDF("1.4")
	q.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	var kids []string
	for i := 0; i < 50; i++ {
		kids = append(kids, fmt.Sprintf("%d 0 R", 10+i))
	}
	q.obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count 5000 /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> >>", strings.Join(kids, " ")))
	q.obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	q.stream(4, "", []byte("BT /F1 12 Tf 72 72 Td (many pages) Tj ET"))
	for i := 0; i < 50; i++ {
		var leaves []string
		for j := 0; j < 100; j++ {
			leaves = append(leaves, fmt.Sprintf("%d 0 R", 100+i*100+j))
		}
		q.obj(10+i, fmt.Sprintf("<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count 100 >>", strings.Join(leaves, " ")))
		for j := 0; j < 100; j++ {
			q.obj(100+i*100+j, fmt.Sprintf("<< /Type /Page /Parent %d 0 R /Contents 4 0 R >>", 10+i))
		}
	}
	q.xref("/Root 1 0 R")
	g.write("hostile-5000-pages.pdf", q.bytes())

	// a stream /Length far beyond the file
	g.write("hostile-length-huge.pdf", bytes.Replace(b, []byte("/FlateDecode /Length "), []byte("/FlateDecode /Length 99999999"), 1))
	g.write("hostile-length-negative.pdf", bytes.Replace(b, []byte("/FlateDecode /Length "), []byte("/FlateDecode /Length -"), 1))
	// an xref table claiming 10^9 entries
	g.write("hostile-xref-huge-count.pdf", replaceLast(b, "xref\n0 ", "xref\n0 999999999"))
	// object numbers near the int32 limit
	g.write("hostile-huge-objnum.pdf", replaceLast(b, "xref\n0 ", "xref\n2147483000 "))

	// decompression bombs: a content stream of 200 MB zeros (nobody needs to decode it to open the file),
	// and an object stream compressed twice that holds the catalog (must be decoded).
	zeros := bytes.Repeat([]byte{0}, 1<<20)
	p = buildDoc(docSpec{version: "1.5", pages: 1})
	var big bytes.Buffer
	zw := newZlib(&big)
	for i := 0; i < 200; i++ {
		zw.Write(zeros)
	}
	zw.Close()
	p.stream(11, "/Filter [/FlateDecode /FlateDecode]", deflate(big.Bytes()))
	p.xref("/Root 1 0 R")
	g.write("hostile-bomb-content.pdf", p.bytes())

	var bigObj bytes.Buffer
	zw = newZlib(&bigObj)
	hdr := "1 0 "
	objs := "<< /Type /Catalog /Pages 2 0 R >>"
	zw.Write([]byte(hdr + objs + " "))
	for i := 0; i < 1024; i++ { // 1 GiB of spaces after the object
		zw.Write(bytes.Repeat([]byte{' '}, 1<<20))
	}
	zw.Close()
	p = newPDF("1.5")
	p.obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	p.obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>")
	p.stream(4, fmt.Sprintf("/Type /ObjStm /N 1 /First %d /Filter [/FlateDecode /FlateDecode]", len(hdr)), deflate(bigObj.Bytes()))
	// xref stream: W [1 4 2]; obj 1 lives in object stream 4, index 0
	var xs bytes.Buffer
	entry := func(t byte, f2 uint32, f3 uint16) {
		xs.WriteByte(t)
		binary.Write(&xs, binary.BigEndian, f2)
		binary.Write(&xs, binary.BigEndian, f3)
	}
	entry(0, 0, 65535)
	entry(2, 4, 0)
	entry(1, uint32(p.offs[2]), 0)
	entry(1, uint32(p.offs[3]), 0)
	entry(1, uint32(p.offs[4]), 0)
	xoff := p.buf.Len()
	entry(1, uint32(xoff), 0)
	p.stream(5, "/Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R", xs.Bytes())
	fmt.Fprintf(&p.buf, "startxref\n%d\n%%%%EOF\n", xoff)
	g.write("hostile-bomb-objstm.pdf", p.bytes())
}

// notPDF: what people attach instead of a PDF, renamed .pdf.
func (g *gen) notPDF() {
	g.write("empty.pdf", nil)
	g.write("word-doc.pdf", ole2(map[string][]byte{"WordDocument": bytes.Repeat([]byte{0xEC, 0xA5}, 3000), "1Table": make([]byte, 100)}))
	g.write("excel-xls.pdf", ole2(map[string][]byte{"Workbook": make([]byte, 5000)}))
	g.write("powerpoint-ppt.pdf", ole2(map[string][]byte{"PowerPoint Document": make([]byte, 5000)}))
	g.write("wps-wps.pdf", ole2(map[string][]byte{"WordDocument": make([]byte, 5000), "WpsCustomData": make([]byte, 200)}))
	g.write("ole2-unknown.pdf", ole2(map[string][]byte{"Contents": make([]byte, 5000)}))
	g.write("word-docx.pdf", zipOf(map[string]string{
		"[Content_Types].xml": `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"_rels/.rels":         `<?xml version="1.0"?><Relationships/>`,
		"word/document.xml":   `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>简报</w:t></w:r></w:p></w:body></w:document>`,
	}))
	g.write("excel-xlsx.pdf", zipOf(map[string]string{"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"}))
	g.write("powerpoint-pptx.pdf", zipOf(map[string]string{"[Content_Types].xml": "<Types/>", "ppt/presentation.xml": "<p/>"}))
	g.write("ofd.pdf", zipOf(map[string]string{"OFD.xml": `<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0"/>`, "Doc_0/Document.xml": "<ofd:Document/>"}))
	g.write("zip-with-pdf.pdf", zipOf(map[string]string{"简报.pdf": string(simple(docSpec{version: "1.4", pages: 1}))}))
	g.write("rar.pdf", append([]byte("Rar!\x1a\x07\x01\x00"), make([]byte, 200)...))
	g.write("7z.pdf", append([]byte("7z\xbc\xaf\x27\x1c\x00\x04"), make([]byte, 200)...))
	g.write("jpeg.pdf", colorJPEG(120, 80))
	g.write("jpeg-scan.pdf", scanJPEG(200, 280))
	img := image.NewPaletted(image.Rect(0, 0, 32, 32), []color.Color{color.White, color.Black})
	var b bytes.Buffer
	png.Encode(&b, img)
	g.write("png.pdf", b.Bytes())
	b.Reset()
	gif.Encode(&b, img, nil)
	g.write("gif.pdf", b.Bytes())
	g.write("heic.pdf", append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 100)...))
	g.write("html.pdf", []byte("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>简报</title></head><body><p>请查收附件</p></body></html>\n"))
	g.write("html-bigattach.pdf", []byte("<html><body>从QQ邮箱发来的超大附件<br><a href=\"https://mail.qq.com/cgi-bin/ftnExs_download?k=abc\">简报.pdf</a></body></html>"))
	g.write("text-utf8.pdf", []byte("忻州市教育局：\n本单位本月简报如下。\n一、学习情况……\n"))
	g.write("text-gbk.pdf", []byte{0xBC, 0xF2, 0xB1, 0xA8, 0xA3, 0xBA, 0xC7, 0xEB, 0xB2, 0xE9, 0xCA, 0xD5, '\r', '\n'})
	g.write("rtf.pdf", []byte(`{\rtf1\ansi\ansicpg936 {\fonttbl{\f0 SimSun;}}\f0 briefing}`))
	g.write("binary-other.pdf", bytes.Repeat([]byte{0x00, 0x01, 0x02, 0xfe, 0x80}, 100))
	g.write("postscript.pdf", []byte("%!PS-Adobe-3.0\n%%Pages: 1\n/Helvetica findfont 12 scalefont setfont 72 72 moveto (hi) show showpage\n"))
}

// ole2 writes a minimal Compound File Binary (version 3, 512-byte sectors) with the given streams, each
// stored in regular sectors (padded to at least 4096 bytes, the mini-stream cutoff).
func ole2(streams map[string][]byte) []byte {
	const (
		free   = 0xFFFFFFFF
		endc   = 0xFFFFFFFE
		fatsec = 0xFFFFFFFD
		nostr  = 0xFFFFFFFF
	)
	var names []string
	for n := range streams {
		names = append(names, n)
	}
	sortStrings(names)
	// sector 0: FAT, sector 1..: directory (4 entries per sector), then data
	nEntries := 1 + len(names)
	dirSectors := (nEntries + 3) / 4
	next := 1 + dirSectors
	fat := []uint32{fatsec}
	for i := 0; i < dirSectors; i++ {
		if i == dirSectors-1 {
			fat = append(fat, endc)
		} else {
			fat = append(fat, uint32(len(fat)+1))
		}
	}
	type placed struct {
		start, size uint32
		data        []byte
	}
	var data []placed
	for _, n := range names {
		d := streams[n]
		if len(d) < 4096 {
			d = append(bytes.Clone(d), make([]byte, 4096-len(d))...)
		}
		secs := (len(d) + 511) / 512
		data = append(data, placed{uint32(next), uint32(len(d)), d})
		for i := 0; i < secs; i++ {
			if i == secs-1 {
				fat = append(fat, endc)
			} else {
				fat = append(fat, uint32(len(fat)+1))
			}
		}
		next += secs
	}
	if len(fat) > 128 {
		log.Fatal("ole2: too many sectors for one FAT sector")
	}
	for len(fat) < 128 {
		fat = append(fat, free)
	}
	var out bytes.Buffer
	le := func(v any) { binary.Write(&out, binary.LittleEndian, v) }
	out.Write([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
	out.Write(make([]byte, 16))
	le(uint16(0x3E))
	le(uint16(3))
	le(uint16(0xFFFE))
	le(uint16(9))
	le(uint16(6))
	out.Write(make([]byte, 6))
	le(uint32(0))    // directory sectors (0 for v3)
	le(uint32(1))    // FAT sectors
	le(uint32(1))    // first directory sector
	le(uint32(0))    // transaction
	le(uint32(4096)) // mini stream cutoff
	le(uint32(endc)) // first mini FAT sector
	le(uint32(0))    // mini FAT sectors
	le(uint32(endc)) // first DIFAT sector
	le(uint32(0))    // DIFAT sectors
	le(uint32(0))    // DIFAT[0]: the FAT is sector 0
	for i := 1; i < 109; i++ {
		le(uint32(free))
	}
	for _, v := range fat {
		le(v)
	}
	entry := func(name string, typ byte, left, right, child, start, size uint32) {
		var e [128]byte
		u := utf16.Encode([]rune(name))
		for i, c := range u {
			binary.LittleEndian.PutUint16(e[2*i:], c)
		}
		binary.LittleEndian.PutUint16(e[64:], uint16(2*len(u)+2))
		e[66], e[67] = typ, 1
		binary.LittleEndian.PutUint32(e[68:], left)
		binary.LittleEndian.PutUint32(e[72:], right)
		binary.LittleEndian.PutUint32(e[76:], child)
		binary.LittleEndian.PutUint32(e[116:], start)
		binary.LittleEndian.PutUint32(e[120:], size)
		out.Write(e[:])
	}
	entry("Root Entry", 5, nostr, nostr, 1, endc, 0)
	for i, n := range names {
		right := uint32(nostr)
		if i+2 < nEntries {
			right = uint32(i + 2)
		}
		entry(n, 2, nostr, right, nostr, data[i].start, data[i].size)
	}
	for i := nEntries; i < dirSectors*4; i++ {
		var e [128]byte
		binary.LittleEndian.PutUint32(e[68:], nostr)
		binary.LittleEndian.PutUint32(e[72:], nostr)
		binary.LittleEndian.PutUint32(e[76:], nostr)
		out.Write(e[:])
	}
	for _, d := range data {
		out.Write(d.data)
		if pad := len(d.data) % 512; pad != 0 {
			out.Write(make([]byte, 512-pad))
		}
	}
	return out.Bytes()
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func zipOf(files map[string]string) []byte {
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sortStrings(names)
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range names {
		w := must1(zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate}))
		w.Write([]byte(files[n]))
	}
	must(zw.Close())
	return b.Bytes()
}

// fuzzSeeds writes the small corpus files as seeds in the go test fuzz format.
func (g *gen) fuzzSeeds(dir string) {
	must(os.RemoveAll(dir))
	must(os.MkdirAll(dir, 0o755))
	for i, s := range g.seeds {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s)) + ")\n"
		must(os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644))
	}
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func must1[T any](v T, err error) T {
	must(err)
	return v
}
