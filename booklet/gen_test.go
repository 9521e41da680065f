package booklet

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testPDF writes a PDF by hand (not with the code under test): pages pages of size 595x842, each showing
// "<label> p<i>" in Helvetica, so that a test can tell from pdftotext which source page landed where.
// With pad, every page also carries an incompressible stream of that many bytes, like a scan.
type testPDF struct {
	label  string
	pages  int
	pad    int
	rotate int  // /Rotate on the page tree root, inherited by every page
	nested bool // pages under an intermediate /Pages node, resources inherited from the root
}

func (t testPDF) bytes() []byte {
	var buf bytes.Buffer
	offs := map[int]int{}
	max := 0
	obj := func(n int, body string) {
		offs[n] = buf.Len()
		max = maxInt(max, n)
		fmt.Fprintf(&buf, "%d 0 obj\n%s\nendobj\n", n, body)
	}
	stream := func(n int, dict string, data []byte) {
		offs[n] = buf.Len()
		max = maxInt(max, n)
		fmt.Fprintf(&buf, "%d 0 obj\n<< %s /Length %d >>\nstream\n", n, dict, len(data))
		buf.Write(data)
		buf.WriteString("\nendstream\nendobj\n")
	}
	buf.WriteString("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	var kids []string
	for i := 0; i < t.pages; i++ {
		kids = append(kids, fmt.Sprintf("%d 0 R", 10+3*i))
	}
	rot := ""
	if t.rotate != 0 {
		rot = fmt.Sprintf(" /Rotate %d", t.rotate)
	}
	parent := 2
	if t.nested {
		obj(2, fmt.Sprintf("<< /Type /Pages /Kids [4 0 R] /Count %d /Resources << /Font << /F1 3 0 R >> >> /MediaBox [0 0 595 842]%s >>", t.pages, rot))
		obj(4, fmt.Sprintf("<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count %d >>", strings.Join(kids, " "), t.pages))
		parent = 4
	} else {
		obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d%s >>", strings.Join(kids, " "), t.pages, rot))
	}
	obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	seed := uint32(len(t.label)*7919 + t.pages)
	for i := 0; i < t.pages; i++ {
		res := "/Resources << /Font << /F1 3 0 R >> >> /MediaBox [0 0 595 842] "
		if t.nested {
			res = ""
		}
		content := fmt.Sprintf("BT /F1 24 Tf 72 700 Td (%s p%d) Tj ET\n", t.label, i+1)
		if t.pad > 0 {
			res = strings.Replace(res, ">> >>", ">> /XObject << /Im1 "+fmt.Sprint(12+3*i)+" 0 R >> >>", 1)
			if t.nested {
				res = "/Resources << /Font << /F1 3 0 R >> /XObject << /Im1 " + fmt.Sprint(12+3*i) + " 0 R >> >> "
			}
			content += "q 200 0 0 200 100 300 cm /Im1 Do Q\n"
			noise := make([]byte, t.pad)
			for k := range noise {
				seed = seed*1664525 + 1013904223
				noise[k] = byte(seed >> 24)
			}
			side := 1
			for side*side < t.pad {
				side++
			}
			stream(12+3*i, fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8", side, t.pad/side), noise[:side*(t.pad/side)])
		}
		obj(10+3*i, fmt.Sprintf("<< /Type /Page /Parent %d 0 R %s/Contents %d 0 R >>", parent, res, 11+3*i))
		stream(11+3*i, "/Filter /FlateDecode", deflate([]byte(content)))
	}
	xref := buf.Len()
	fmt.Fprintf(&buf, "xref\n0 %d\n0000000000 65535 f \n", max+1)
	for i := 1; i <= max; i++ {
		if o, ok := offs[i]; ok {
			fmt.Fprintf(&buf, "%010d 00000 n \n", o)
		} else {
			buf.WriteString("0000000000 65535 f \n")
		}
	}
	fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", max+1, xref)
	return buf.Bytes()
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func deflate(b []byte) []byte {
	var out bytes.Buffer
	w := zlib.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// writeTestPDF writes t into dir under name and returns the path.
func writeTestPDF(tb testing.TB, dir, name string, t testPDF) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, t.bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}
