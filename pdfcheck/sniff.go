package pdfcheck

import (
	"archive/zip"
	"bytes"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/richardlehane/mscfb"
)

// Kinds returned by Sniff and reported in Verdict.Kind.
const (
	KindPDF     = "pdf"
	KindDoc     = "doc"
	KindDocx    = "docx"
	KindXls     = "xls"
	KindXlsx    = "xlsx"
	KindPpt     = "ppt"
	KindPptx    = "pptx"
	KindWPS     = "wps"
	KindOFD     = "ofd"
	KindImage   = "image"
	KindArchive = "archive"
	KindHTML    = "html"
	KindText    = "text"
	KindEmpty   = "empty"
	KindOther   = "other"
)

// pdfHeaderWindow is how far into a file Sniff looks for "%PDF-". Poppler looks at the first 1024 bytes and
// then tries anyway; mail clients and scanners sometimes prepend a few KB of junk, so we look further.
const pdfHeaderWindow = 64 << 10

// Sniff says what kind of file r holds, by its content only (never by name or Content-Type). It reads the
// head of the file, and for zip and OLE2 containers their directories; it never reads a whole large file.
// It does not panic on hostile input.
func Sniff(r io.ReaderAt, size int64) (kind string) {
	if size <= 0 {
		return KindEmpty
	}
	defer func() {
		if recover() != nil { // a container parser choked: we still know it is not a PDF
			kind = KindOther
		}
	}()
	head := make([]byte, min(size, pdfHeaderWindow))
	n, err := r.ReadAt(head, 0)
	if n == 0 && err != nil {
		return KindOther
	}
	head = head[:n]

	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return KindPDF
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return sniffOLE(r, size)
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return sniffZip(r, size)
	case bytes.HasPrefix(head, []byte("{\\rtf")):
		return KindDoc // Word saves RTF too; for the sender it is "a Word document"
	case isImage(head):
		return KindImage
	case bytes.HasPrefix(head, []byte("Rar!\x1a\x07")),
		bytes.HasPrefix(head, []byte("7z\xbc\xaf\x27\x1c")),
		bytes.HasPrefix(head, []byte{0x1f, 0x8b}),
		bytes.HasPrefix(head, []byte("BZh")),
		bytes.HasPrefix(head, []byte{0xFD, '7', 'z', 'X', 'Z', 0x00}),
		len(head) > 262 && bytes.Equal(head[257:262], []byte("ustar")):
		return KindArchive
	}
	// A PDF behind some junk (a mail header, a BOM, a scanner's preamble) still opens in viewers.
	if bytes.Contains(head, []byte("%PDF-")) {
		return KindPDF
	}
	// So does one that lost its header: poppler does not need it, it rebuilds the cross-reference table.
	if headerlessPDF(r, size, head) {
		return KindPDF
	}
	if isHTML(head) {
		return KindHTML
	}
	if isText(head) {
		return KindText
	}
	return KindOther
}

var objHeaderRE = regexp.MustCompile(`(?m)^[ \t]*\d{1,10}[ \t\r\n]+\d{1,5}[ \t\r\n]+obj\b`)

// headerlessPDF reports whether a file without "%PDF-" still has a PDF's body: an object header near its
// start, and "startxref" or "trailer" near its end.
func headerlessPDF(r io.ReaderAt, size int64, head []byte) bool {
	if !objHeaderRE.Match(head[:min(len(head), 4096)]) {
		return false
	}
	tail := make([]byte, min(size, 4096))
	n, _ := r.ReadAt(tail, size-int64(len(tail)))
	return bytes.Contains(tail[:n], []byte("startxref")) || bytes.Contains(tail[:n], []byte("trailer"))
}

func isImage(b []byte) bool {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}),
		bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")),
		bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")),
		bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")),
		len(b) >= 12 && bytes.HasPrefix(b, []byte("RIFF")) && string(b[8:12]) == "WEBP":
		return true
	case len(b) >= 26 && b[0] == 'B' && b[1] == 'M' && b[14] != 0 && b[15] == 0 && b[16] == 0 && b[17] == 0:
		return true // BMP: a plausible DIB header size follows the 14-byte file header
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		switch string(b[8:12]) {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1", "avif", "avis":
			return true
		}
	}
	return false
}

func isHTML(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	s := strings.ToLower(string(bytes.TrimSpace(b[:min(len(b), 1024)])))
	for _, p := range []string{"<!doctype html", "<html", "<head", "<body", "<meta", "<title", "<?xml version=\"1.0\"?><html"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return strings.HasPrefix(s, "<") && strings.Contains(s, "<html")
}

// isText reports whether b looks like text: UTF-8 or a legacy Chinese encoding, without control bytes.
func isText(b []byte) bool {
	b = b[:min(len(b), 4096)]
	if len(b) == 0 {
		return false
	}
	ctl := 0
	for _, c := range b {
		if c == 0 {
			return false
		}
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != 0x1b {
			ctl++
		}
	}
	if ctl*100 > len(b) {
		return false
	}
	if utf8.Valid(b[:max(0, len(b)-4)]) {
		return true
	}
	// GBK/GB18030: high bytes come in pairs of lead 0x81-0xFE and trail 0x40-0xFE.
	bad := 0
	for i := 0; i < len(b); i++ {
		if b[i] < 0x80 {
			continue
		}
		if b[i] >= 0x81 && b[i] <= 0xFE && i+1 < len(b) && b[i+1] >= 0x40 && b[i+1] <= 0xFE {
			i++
			continue
		}
		bad++
	}
	return bad*50 < len(b)
}

// sniffZip tells OOXML (docx, xlsx, pptx) and OFD apart from other zip archives by their part names.
func sniffZip(r io.ReaderAt, size int64) string {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return KindArchive
	}
	var ct, word, xl, ppt, ofd bool
	for i, f := range zr.File {
		if i > 10000 {
			break
		}
		name := strings.ToLower(strings.TrimPrefix(f.Name, "/"))
		switch {
		case name == "[content_types].xml":
			ct = true
		case strings.HasPrefix(name, "word/"):
			word = true
		case strings.HasPrefix(name, "xl/"):
			xl = true
		case strings.HasPrefix(name, "ppt/"):
			ppt = true
		case name == "ofd.xml":
			ofd = true
		}
	}
	switch {
	case ofd:
		return KindOFD
	case ct && word:
		return KindDocx
	case ct && xl:
		return KindXlsx
	case ct && ppt:
		return KindPptx
	}
	return KindArchive
}

// sniffOLE tells Word, Excel, PowerPoint and Kingsoft WPS binaries apart by their stream names.
func sniffOLE(r io.ReaderAt, size int64) string {
	doc, err := mscfb.New(io.NewSectionReader(r, 0, size))
	if err != nil {
		return KindDoc // an OLE2 file we cannot read: most such attachments are Word documents
	}
	var word, xls, ppt, wps bool
	for i := 0; i < 10000; i++ {
		e, err := doc.Next()
		if err != nil {
			break
		}
		n := strings.ToLower(e.Name)
		switch {
		case strings.Contains(n, "wps") || strings.Contains(n, "kingsoft") || n == "etextdata":
			wps = true
		case n == "worddocument":
			word = true
		case n == "workbook" || n == "book":
			xls = true
		case n == "powerpoint document":
			ppt = true
		}
	}
	switch {
	case wps:
		return KindWPS
	case word:
		return KindDoc
	case xls:
		return KindXls
	case ppt:
		return KindPpt
	}
	return KindDoc
}
