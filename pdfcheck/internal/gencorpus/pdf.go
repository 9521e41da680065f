package main

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"sort"
	"strings"
)

// pdfw writes a PDF by hand, one object at a time, so that every byte of the corpus is ours and any
// defect can be placed exactly.
type pdfw struct {
	buf  bytes.Buffer
	offs map[int]int
	max  int
}

func newPDF(version string) *pdfw {
	p := &pdfw{offs: map[int]int{}}
	fmt.Fprintf(&p.buf, "%%PDF-%s\n%%\xe2\xe3\xcf\xd3\n", version)
	return p
}

func (p *pdfw) obj(n int, body string) {
	p.offs[n] = p.buf.Len()
	p.max = max(p.max, n)
	fmt.Fprintf(&p.buf, "%d 0 obj\n%s\nendobj\n", n, body)
}

func (p *pdfw) stream(n int, dict string, data []byte) {
	p.offs[n] = p.buf.Len()
	p.max = max(p.max, n)
	fmt.Fprintf(&p.buf, "%d 0 obj\n<< %s /Length %d >>\nstream\n", n, dict, len(data))
	p.buf.Write(data)
	p.buf.WriteString("\nendstream\nendobj\n")
}

// xref writes a classic cross-reference table for the objects written since from (all when from is
// nil), the trailer and startxref; it returns the table's offset.
func (p *pdfw) xref(trailer string) int {
	off := p.buf.Len()
	fmt.Fprintf(&p.buf, "xref\n0 %d\n0000000000 65535 f \n", p.max+1)
	for i := 1; i <= p.max; i++ {
		if o, ok := p.offs[i]; ok {
			fmt.Fprintf(&p.buf, "%010d 00000 n \n", o)
		} else {
			fmt.Fprintf(&p.buf, "0000000000 65535 f \n")
		}
	}
	fmt.Fprintf(&p.buf, "trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n", p.max+1, trailer, off)
	return off
}

// xrefUpdate writes an incremental-update section for the given objects only, pointing at prev.
func (p *pdfw) xrefUpdate(objs []int, prev int, trailer string) int {
	sort.Ints(objs)
	off := p.buf.Len()
	p.buf.WriteString("xref\n")
	for _, n := range objs {
		fmt.Fprintf(&p.buf, "%d 1\n%010d 00000 n \n", n, p.offs[n])
	}
	fmt.Fprintf(&p.buf, "trailer\n<< /Size %d /Prev %d %s >>\nstartxref\n%d\n%%%%EOF\n", p.max+1, prev, trailer, off)
	return off
}

func (p *pdfw) bytes() []byte { return bytes.Clone(p.buf.Bytes()) }

func deflate(b []byte) []byte {
	var out bytes.Buffer
	w, _ := zlib.NewWriterLevel(&out, zlib.BestCompression)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// docSpec describes a simple document: n pages of Latin text, optionally CJK text and a scanned image.
type docSpec struct {
	version string
	pages   int
	cjk     bool
	image   bool // a JPEG "scan" on every page
	noRes   bool // content uses /F1 without any /Resources (viewers cope)
	count   int  // /Count to write when not 0 (a lie)
	title   string
}

// buildDoc writes the document and returns the writer (xref not yet written) so callers can damage it.
// Objects: 1 catalog, 2 pages, 3 Helvetica, 4 CJK font, 5 CID font, 6 descriptor, 7 image, 8 info,
// 10+2i page i, 11+2i its content.
func buildDoc(s docSpec) *pdfw {
	p := newPDF(s.version)
	p.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	var kids []string
	for i := 0; i < s.pages; i++ {
		kids = append(kids, fmt.Sprintf("%d 0 R", 10+2*i))
	}
	count := s.pages
	if s.count != 0 {
		count = s.count
	}
	p.obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), count))
	p.obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	res := "/Font << /F1 3 0 R >>"
	if s.cjk {
		p.obj(4, "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [5 0 R] >>")
		p.obj(5, "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 6 0 R /DW 1000 >>")
		p.obj(6, "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")
		res = "/Font << /F1 3 0 R /F2 4 0 R >>"
	}
	if s.image {
		p.stream(7, "/Type /XObject /Subtype /Image /Width 240 /Height 320 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode", scanJPEG(240, 320))
		res += " /XObject << /Im1 7 0 R >>"
	}
	title := s.title
	if title == "" {
		title = "briefd test " + s.version
	}
	p.obj(8, fmt.Sprintf("<< /Title (%s) /Producer (briefd gencorpus) >>", title))
	for i := 0; i < s.pages; i++ {
		var c strings.Builder
		fmt.Fprintf(&c, "BT /F1 18 Tf 72 720 Td (Briefing page %d of %d) Tj ET\n", i+1, s.pages)
		if s.cjk {
			// "忻州市教育局简报" in UCS-2 big endian
			c.WriteString("BT /F2 16 Tf 72 690 Td <5FFB5DDE5E0265596D2C5C407B8062A5> Tj ET\n")
		}
		if s.image {
			c.WriteString("q 360 0 0 480 120 150 cm /Im1 Do Q\n")
		}
		r := "/Resources << " + res + " >> "
		if s.noRes {
			r = ""
		}
		p.obj(10+2*i, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] %s/Contents %d 0 R >>", r, 11+2*i))
		p.stream(11+2*i, "/Filter /FlateDecode", deflate([]byte(c.String())))
	}
	return p
}

func simple(s docSpec) []byte {
	p := buildDoc(s)
	p.xref("/Root 1 0 R /Info 8 0 R")
	return p.bytes()
}

// scanJPEG draws something like a scanned page: paper grey, lines of "text", a stamp.
func scanJPEG(w, h int) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := 235 + (x*7+y*13)%12
			if y > 30 && y < h-30 && (y/9)%2 == 0 && x > 20 && x < w-20 && (x*31+y)%17 > 3 {
				v = 40 + (x+y)%30
			}
			img.SetGray(x, y, color.Gray{uint8(v)})
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: 40})
	return b.Bytes()
}

func colorJPEG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: 50})
	return b.Bytes()
}

func newZlib(w *bytes.Buffer) *zlib.Writer {
	z, _ := zlib.NewWriterLevel(w, zlib.BestCompression)
	return z
}
