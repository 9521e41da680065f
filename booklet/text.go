package booklet

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The booklet's one font: STSong-Light (Adobe-GB1), not embedded, UTF-16 encoded (see the package doc).
// Codes are UTF-16BE, so the ToUnicode map is the identity over the characters used.

// stampFontName is the font's resource name on copied pages, chosen not to clash with a source's own.
const stampFontName = "BriefdSong"

// asciiWidths are STSong-Light's widths (per 1000 em) of CIDs 1–95, which UniGB-UTF16-H gives to
// U+0020–U+007E; every other character is 1000 (the font's /DW).
var asciiWidths = [95]int{
	207, 270, 342, 467, 462, 797, 710, 239, 374, 374, 423, 605, 238, 375, 238, 334, // space to /
	462, 462, 462, 462, 462, 462, 462, 462, 462, 462, // 0-9
	238, 238, 605, 605, 605, 344, 748, // : to @
	684, 560, 695, 739, 563, 511, 729, 793, 318, 312, 666, 526, 896, 758, 772, 544, 772, 628, 465, 607, 753,
	711, 972, 647, 620, 607, // A-Z
	374, 333, 374, 606, 500, 239, // [ to `
	417, 503, 427, 529, 415, 264, 444, 518, 241, 230, 495, 228, 793, 527, 524, 524, 504, 338, 336, 277, 517,
	450, 652, 466, 452, 407, // a-z
	370, 258, 370, 605, // { to ~
}

// runeWidth is r's advance in 1000ths of the font size.
func runeWidth(r rune) int {
	if r >= 0x20 && r <= 0x7e {
		return asciiWidths[r-0x20]
	}
	return 1000
}

// textWidth is s's width in points at size.
func textWidth(s string, size float64) float64 {
	w := 0
	for _, r := range s {
		w += runeWidth(r)
	}
	return float64(w) * size / 1000
}

// clean makes a string fit to show: invalid UTF-8 becomes U+FFFD, control, format and line-breaking
// characters become spaces, runs of spaces one space, and the ends are trimmed.
func clean(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// wrap breaks s into lines no wider than width, at most maxLines; a cut last line ends with "…". CJK
// text breaks anywhere; a Latin word is kept whole when it fits on a line of its own.
func wrap(s string, size, width float64, maxLines int) []string {
	s = clean(s)
	if s == "" {
		return []string{""}
	}
	var lines []string
	rs := []rune(s)
	for len(rs) > 0 {
		w, cut := 0.0, len(rs)
		for i, r := range rs {
			w += float64(runeWidth(r)) * size / 1000
			if w > width && i > 0 {
				cut = i
				break
			}
		}
		if cut < len(rs) {
			// prefer to break after a space or before a CJK character rather than inside a word
			for j := cut; j > cut/2; j-- {
				if rs[j-1] == ' ' || rs[j] > 0x2e7f || rs[j-1] > 0x2e7f {
					cut = j
					break
				}
			}
		}
		if len(lines) == maxLines-1 && cut < len(rs) {
			// the last line allowed: make room for the ellipsis
			line := rs[:cut]
			for len(line) > 0 && textWidth(string(line)+"…", size) > width {
				line = line[:len(line)-1]
			}
			lines = append(lines, strings.TrimRight(string(line), " ")+"…")
			return lines
		}
		lines = append(lines, strings.TrimRight(string(rs[:cut]), " "))
		rs = rs[cut:]
		for len(rs) > 0 && rs[0] == ' ' {
			rs = rs[1:]
		}
	}
	return lines
}

// canvas builds one content stream and records the characters shown, for the ToUnicode map.
type canvas struct {
	b    bytes.Buffer
	font string // the font's resource name
	used map[rune]bool
}

func newCanvas(font string, used map[rune]bool) *canvas {
	return &canvas{font: font, used: used}
}

// text shows s with its baseline starting at x, y.
func (c *canvas) text(x, y, size float64, s string) {
	s = clean(s)
	fmt.Fprintf(&c.b, "BT /%s %s Tf %s %s Td <%s> Tj ET\n", c.font, num2(size), num2(x), num2(y), c.hex(s))
}

// textRight shows s ending at x.
func (c *canvas) textRight(x, y, size float64, s string) {
	c.text(x-textWidth(clean(s), size), y, size, s)
}

// textCenter shows s centred on x.
func (c *canvas) textCenter(x, y, size float64, s string) {
	c.text(x-textWidth(clean(s), size)/2, y, size, s)
}

// bold shows s centred on x, thickened with a stroke (the font has no bold face).
func (c *canvas) boldCenter(x, y, size float64, s string) {
	fmt.Fprintf(&c.b, "q 2 Tr %s w\n", num2(size/40))
	c.textCenter(x, y, size, s)
	c.b.WriteString("0 Tr Q\n")
}

func (c *canvas) line(x1, y1, x2, y2, width float64) {
	fmt.Fprintf(&c.b, "q %s w %s %s m %s %s l S Q\n", num2(width), num2(x1), num2(y1), num2(x2), num2(y2))
}

// hex is s in the font's encoding, UTF-16BE, as hex digits.
func (c *canvas) hex(s string) string {
	var b strings.Builder
	for _, r := range s {
		if !utf8.ValidRune(r) || (r >= 0xd800 && r <= 0xdfff) {
			r = utf8.RuneError
		}
		c.used[r] = true
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			fmt.Fprintf(&b, "%04X%04X", r1, r2)
		} else {
			fmt.Fprintf(&b, "%04X", r)
		}
	}
	return b.String()
}

func num2(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

// textString is s as a PDF text string (UTF-16BE with a byte order mark), for the outline and the
// document information.
func textString(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(clean(s))) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}

// fontObjects writes the font: the Type0 font at num, its CID font, descriptor and ToUnicode map at the
// numbers that follow in nums.
func fontObjects(c *chunk, num int, nums [3]int, used map[rune]bool) {
	cid, desc, tu := nums[0], nums[1], nums[2]
	c.obj(num, fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H "+
		"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>", cid, tu))
	var w strings.Builder
	w.WriteString("[1 [")
	for i, x := range asciiWidths {
		if i > 0 {
			w.WriteByte(' ')
		}
		fmt.Fprint(&w, x)
	}
	w.WriteString("]]")
	c.obj(cid, fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "+
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor %d 0 R /DW 1000 /W %s >>",
		desc, w.String()))
	c.obj(desc, "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "+
		"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")
	c.stream(tu, "", toUnicode(used))
}

// toUnicode is the ToUnicode CMap for the characters used: each code maps to itself.
func toUnicode(used map[rune]bool) []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Briefd-UTF16 def\n/CMapType 2 def\n" +
		"3 begincodespacerange\n<0000> <D7FF>\n<D800DC00> <DBFFDFFF>\n<E000> <FFFF>\nendcodespacerange\n")
	runes := slices.Sorted(maps.Keys(used))
	for len(runes) > 0 {
		n := min(len(runes), 100)
		fmt.Fprintf(&b, "%d beginbfchar\n", n)
		for _, r := range runes[:n] {
			var code string
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				code = fmt.Sprintf("%04X%04X", r1, r2)
			} else {
				code = fmt.Sprintf("%04X", r)
			}
			fmt.Fprintf(&b, "<%s> <%s>\n", code, code)
		}
		b.WriteString("endbfchar\n")
		runes = runes[n:]
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}
