package main

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"mime"
	"net/url"
	"strings"
	"time"
	"unicode/utf16"

	"briefd/internal/mailtest"
)

// unit is one 报送单位 of 忻州 as the bench config registers it.
type unit struct{ id, name, alias, email string }

var units = []unit{
	{"xinfu", "忻府区教育科技局", "忻府", "xinfu-jky@example.cn"},
	{"yuanping", "原平市教育科技局", "原平", "yuanping-jky@example.cn"},
	{"dingxiang", "定襄县教育科技局", "定襄", "dingxiang-jky@example.cn"},
	{"wutai", "五台县教育科技局", "五台", "wutai-jky@example.cn"},
	{"daixian", "代县教育科技局", "代县", "daixian-jky@example.cn"},
	{"fanshi", "繁峙县教育科技局", "繁峙", "fanshi-jky@example.cn"},
	{"ningwu", "宁武县教育科技局", "宁武", "ningwu-jky@example.cn"},
	{"jingle", "静乐县教育科技局", "静乐", "jingle-jky@example.cn"},
	{"shenchi", "神池县教育科技局", "神池", "shenchi-jky@example.cn"},
	{"wuzhai", "五寨县教育科技局", "五寨", "wuzhai-jky@example.cn"},
	{"kelan", "岢岚县教育科技局", "岢岚", "kelan-jky@example.cn"},
	{"hequ", "河曲县教育科技局", "河曲", "hequ-jky@example.cn"},
	{"baode", "保德县教育科技局", "保德", "baode-jky@example.cn"},
	{"pianguan", "偏关县教育科技局", "偏关", "pianguan-jky@example.cn"},
	{"xzzx", "忻州市职业技术学校", "忻州职校", "xzzx@example.cn"},
}

const officeAddr = "xzszjk@example.cn"

// mailSpec is one generated mail.
type mailSpec struct {
	Raw       []byte // CRLF line ends
	Date      time.Time
	MessageID string
	Kind      string // pdf | pdf2 | word | broken
	PDFBytes  int    // total attachment bytes
}

// image is a pre-encoded image XObject: its dictionary entries and stream.
type pdfImage struct {
	dict string // without Length
	data []byte
}

// generator makes realistic submissions: PDFs of 0.1–3 MB with noise images (JPEG and Flate), CJK
// text through a Type0 STSong-Light font (UniGB-UCS2-H, not embedded, as Word's "save as PDF" does for
// a standard font), 10% Word files, some broken PDFs.
type generator struct {
	rng  *rand.Rand
	pool []pdfImage
	seq  int
	// real, when set, gives realShare of the PDFs: real-world files instead of generated ones.
	real      *realPool
	realShare float64
	realUsed  int // real-world files put into mail
}

func newGenerator(seed uint64) *generator {
	g := &generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	// A pool of images of varied sizes (about 20 KB to 900 KB each) reused across PDFs: encoding fresh
	// noise for every file would dominate the generation time without changing what is measured.
	for i := range 14 {
		w := 160 + i*70
		h := w * 3 / 4
		if i%3 == 2 {
			g.pool = append(g.pool, g.flateImage(w, h))
		} else {
			g.pool = append(g.pool, g.jpegImage(w, h))
		}
	}
	return g
}

// jpegImage is smooth-ish noise (a photo compresses like this) as a baseline JPEG.
func (g *generator) jpegImage(w, h int) pdfImage {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			base := uint8((x*3 + y*2) & 0xff)
			img.Set(x, y, color.RGBA{base ^ uint8(g.rng.IntN(256)), uint8(g.rng.IntN(256)), base, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		panic(err)
	}
	return pdfImage{
		dict: fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", w, h),
		data: b.Bytes(),
	}
}

// flateImage is a grey scan-like noise image, deflated (it hardly compresses).
func (g *generator) flateImage(w, h int) pdfImage {
	raw := make([]byte, w*h)
	for i := range raw {
		raw[i] = uint8(g.rng.IntN(256))
	}
	var b bytes.Buffer
	zw, _ := flate.NewWriter(&b, flate.BestSpeed)
	zw.Write(raw)
	zw.Close()
	// zlib framing: header, deflate data, Adler-32.
	var z bytes.Buffer
	z.Write([]byte{0x78, 0x01})
	z.Write(b.Bytes())
	a := adler32(raw)
	z.Write([]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
	return pdfImage{
		dict: fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", w, h),
		data: z.Bytes(),
	}
}

func adler32(p []byte) uint32 {
	const mod = 65521
	a, b := uint32(1), uint32(0)
	for len(p) > 0 {
		n := min(len(p), 5552)
		for _, c := range p[:n] {
			a += uint32(c)
			b += a
		}
		a %= mod
		b %= mod
		p = p[n:]
	}
	return b<<16 | a
}

var paragraphs = []string{
	"为深入学习贯彻全省职业教育大会精神，我局高度重视，迅速行动，召开专题会议进行传达部署。",
	"各中等职业学校结合实际，组织师生开展专题学习，深化产教融合、校企合作，推进职业教育高质量发展。",
	"下一步，我们将继续抓好会议精神的贯彻落实，完善工作机制，确保各项任务落到实处。",
	"一、加强组织领导，成立工作专班，明确责任分工。二、强化宣传引导，营造良好氛围。",
	"三、聚焦重点任务，推动职业教育提质培优、增值赋能，服务地方经济社会发展。",
}

// pdf builds a PDF of about target bytes.
func (g *generator) pdf(u unit, target int) []byte {
	pages := 1 + g.rng.IntN(16)
	// Pick images until the target size is reached.
	var imgs []int
	size := 4000 + pages*1500
	for size < target {
		i := g.rng.IntN(len(g.pool))
		if size+len(g.pool[i].data) > target+target/5 && len(imgs) > 0 {
			// the closest smaller image, if any
			best := -1
			for j, im := range g.pool {
				if size+len(im.data) <= target+target/5 && (best < 0 || len(im.data) > len(g.pool[best].data)) {
					best = j
				}
			}
			if best < 0 {
				break
			}
			i = best
		}
		imgs = append(imgs, i)
		size += len(g.pool[i].data) + 200
	}
	compress := g.rng.IntN(2) == 0

	var b bytes.Buffer
	var offsets []int
	obj := func(body string) int {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
		return len(offsets)
	}
	stream := func(dict string, data []byte) int {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n<< %s /Length %d >>\nstream\n", len(offsets), dict, len(data))
		b.Write(data)
		b.WriteString("\nendstream\nendobj\n")
		return len(offsets)
	}
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	// 1 catalog, 2 pages (Kids filled below), 3 Helvetica, 4 Type0, 5 CIDFont, 6 descriptor, 7 info.
	kidsStart := 8 + len(imgs)
	kids := make([]string, pages)
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", kidsStart+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R /Lang (zh-CN) >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	obj("<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [5 0 R] >>")
	obj("<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 6 0 R /DW 1000 >>")
	obj("<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")
	obj(fmt.Sprintf("<< /Producer (Microsoft Word 2016) /Title <%s> /CreationDate (D:%s+08'00') >>",
		utf16Hex("关于"+u.name+"学习贯彻全省职教大会精神情况的简报", true), time.Now().Format("20060102150405")))
	imgObj := make([]int, len(imgs))
	for k, i := range imgs {
		imgObj[k] = stream(g.pool[i].dict, g.pool[i].data)
	}
	for p := range pages {
		var c strings.Builder
		fmt.Fprintf(&c, "BT /F2 16 Tf 72 780 Td <%s> Tj ET\n", utf16Hex(u.name+"简报（第"+fmt.Sprint(p+1)+"页）", false))
		y := 740
		for l := range 4 + g.rng.IntN(12) {
			fmt.Fprintf(&c, "BT /F2 11 Tf 72 %d Td <%s> Tj ET\n", y, utf16Hex(paragraphs[(p+l)%len(paragraphs)], false))
			y -= 18
		}
		fmt.Fprintf(&c, "BT /F1 9 Tf 72 40 Td (Page %d of %d) Tj ET\n", p+1, pages)
		var xo strings.Builder
		for k := range imgs {
			if k%pages == p {
				fmt.Fprintf(&xo, "/Im%d %d 0 R ", k, imgObj[k])
				fmt.Fprintf(&c, "q 420 0 0 300 88 %d cm /Im%d Do Q\n", max(60, y-320), k)
			}
		}
		res := "<< /Font << /F1 3 0 R /F2 4 0 R >> /ProcSet [/PDF /Text /ImageC /ImageB]"
		if xo.Len() > 0 {
			res += " /XObject << " + xo.String() + ">>"
		}
		res += " >>"
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources %s /Contents %d 0 R >>", res, kidsStart+2*p+1))
		content := []byte(c.String())
		if compress {
			var z bytes.Buffer
			z.Write([]byte{0x78, 0x9c})
			zw, _ := flate.NewWriter(&z, flate.DefaultCompression)
			zw.Write(content)
			zw.Close()
			a := adler32(content)
			z.Write([]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
			stream("/Filter /FlateDecode", z.Bytes())
		} else {
			stream("", content)
		}
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// pdfFile is a PDF of about target bytes: from the real-world pool (realShare of the time, whatever its
// size) or generated. A real-world file gets a comment line after its end, so that every copy is a file
// of its own (its own SHA-256, never a duplicate of an earlier submission); readers look for startxref in
// the last kilobyte, which a short comment leaves in reach.
func (g *generator) pdfFile(u unit, target int) []byte {
	if g.real == nil || g.rng.Float64() >= g.realShare {
		return g.pdf(u, target)
	}
	g.realUsed++
	f := g.real.files[g.rng.IntN(len(g.real.files))]
	return fmt.Appendf(append(make([]byte, 0, len(f)+32), f...), "%%benchmail %d\n", g.realUsed)
}

// utf16Hex is s as UTF-16BE hex, with a BOM for text strings (bom) or without for UCS2-H show strings.
func utf16Hex(s string, bom bool) string {
	var b strings.Builder
	if bom {
		b.WriteString("FEFF")
	}
	for _, r := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", r)
	}
	return b.String()
}

// wordFile is a legacy .doc (OLE2) of size bytes.
func (g *generator) wordFile(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = uint8(g.rng.IntN(256))
	}
	copy(b, mailtest.WordDoc())
	return b
}

// target draws an attachment size, log-uniform between 100 KB and 3 MB (most briefings are small,
// a few carry many photos).
func (g *generator) target() int {
	lo, hi := math.Log(100_000), math.Log(3_000_000)
	return int(math.Exp(lo + g.rng.Float64()*(hi-lo)))
}

type attachment struct {
	name string
	ct   string
	data []byte
}

// next makes the i-th mail of a backlog, received at date.
func (g *generator) next(date time.Time) mailSpec {
	g.seq++
	u := units[g.rng.IntN(len(units))]
	month := fmt.Sprintf("%d月", int(date.Month()))
	subject := fmt.Sprintf("%s关于学习贯彻全省职教大会精神情况的简报（%s）", u.name, month)
	base := fmt.Sprintf("%s%s学习贯彻职教大会精神简报", u.alias, month)
	spec := mailSpec{Date: date, MessageID: fmt.Sprintf("<bench.%d.%d@%s>", g.seq, g.rng.Uint32(), strings.SplitN(u.email, "@", 2)[1])}
	var atts []attachment
	switch r := g.rng.IntN(100); {
	case r < 10: // Word instead of PDF
		spec.Kind = "word"
		atts = append(atts, attachment{base + ".doc", "application/msword", g.wordFile(50_000 + g.rng.IntN(400_000))})
	case r < 16: // broken: truncated by a failed upload, or an HTML error page saved as .pdf
		spec.Kind = "broken"
		p := g.pdfFile(u, g.target())
		if r < 14 {
			p = p[:len(p)*(30+g.rng.IntN(50))/100]
		} else {
			p = []byte("<!DOCTYPE html><html><head><title>下载失败</title></head><body>文件不存在或已过期</body></html>\n")
		}
		atts = append(atts, attachment{base + ".pdf", "application/pdf", p})
	case r < 26: // two PDFs
		spec.Kind = "pdf2"
		t := g.target()
		atts = append(atts, attachment{base + "（一）.pdf", "application/pdf", g.pdfFile(u, t*2/3)},
			attachment{base + "（二）附件.pdf", "application/pdf", g.pdfFile(u, max(100_000, t/3))})
	default:
		spec.Kind = "pdf"
		atts = append(atts, attachment{base + ".pdf", "application/pdf", g.pdfFile(u, g.target())})
	}
	for _, a := range atts {
		spec.PDFBytes += len(a.data)
	}
	spec.Raw = g.compose(u, subject, spec, atts)
	return spec
}

// compose writes the mail the way Foxmail (encoded-word names) or webmail (RFC 2231) would.
func (g *generator) compose(u unit, subject string, spec mailSpec, atts []attachment) []byte {
	var b bytes.Buffer
	boundary := fmt.Sprintf("----=_NextPart_%08X_%04X", g.rng.Uint32(), g.seq)
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("Return-Path", "<"+u.email+">")
	h("Received", fmt.Sprintf("from mail.example.cn (unknown [10.0.0.%d]) by mx.example.cn with ESMTPA; %s", 1+g.rng.IntN(250), spec.Date.Format(time.RFC1123Z)))
	h("From", mime.BEncoding.Encode("UTF-8", u.name)+" <"+u.email+">")
	h("To", officeAddr)
	h("Subject", mime.BEncoding.Encode("UTF-8", subject))
	h("Date", spec.Date.Format(time.RFC1123Z))
	h("Message-ID", spec.MessageID)
	h("MIME-Version", "1.0")
	if g.seq%2 == 0 {
		h("X-Mailer", "Foxmail 7.2.25.228[cn]")
	} else {
		h("X-Mailer", "Coremail Webmail Server Version 2023.2")
	}
	h("Content-Type", "multipart/mixed; boundary=\""+boundary+"\"")
	b.WriteString("\r\nThis is a multi-part message in MIME format.\r\n\r\n")
	b.WriteString("--" + boundary + "\r\n")
	b.WriteString("Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	writeBase64(&b, []byte("您好！\r\n\r\n附件是"+u.name+"的简报，请查收。\r\n\r\n"+u.name+"\r\n"+spec.Date.Format("2006年1月2日")+"\r\n"))
	for _, a := range atts {
		b.WriteString("--" + boundary + "\r\n")
		if g.seq%2 == 0 {
			enc := mime.BEncoding.Encode("UTF-8", a.name)
			fmt.Fprintf(&b, "Content-Type: %s;\r\n\tname=\"%s\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment;\r\n\tfilename=\"%s\"\r\n\r\n", a.ct, enc, enc)
		} else {
			enc := strings.ReplaceAll(url.PathEscape(a.name), "+", "%2B")
			fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename*=UTF-8''%s\r\n\r\n", a.ct, enc)
		}
		writeBase64(&b, a.data)
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes()
}

func writeBase64(b *bytes.Buffer, data []byte) {
	enc := base64.StdEncoding
	line := make([]byte, 76)
	for len(data) > 0 {
		n := min(len(data), 57)
		enc.Encode(line, data[:n])
		b.Write(line[:enc.EncodedLen(n)])
		b.WriteString("\r\n")
		data = data[n:]
	}
}
