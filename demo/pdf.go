package demo

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"briefd/internal/pdfcpuconf"
)

// PDF returns a small, valid PDF with the given number of pages, each showing the text (ASCII; a
// viewer shows it in Helvetica). Offsets in the xref table are exact, so every viewer opens it.
func PDF(pages int, text string) []byte {
	if pages < 1 {
		pages = 1
	}
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	// 1: catalog, 2: pages, 3: font, then a page and its content per page.
	kids := make([]string, pages)
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	for i := range pages {
		content := fmt.Sprintf("BT /F1 18 Tf 72 720 Td (%s - page %d) Tj ET", pdfEscape(text), i+1)
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i))
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

func pdfEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`).Replace(s)
}

// EncryptedPDF returns PDF(pages, text) protected with a user (open) password, as a school might send it
// by mistake.
func EncryptedPDF(pages int, text, userPassword string) ([]byte, error) {
	// What api.Encrypt does for a file of our own (no validation needed), without importing the api
	// package (see pdfcpuconf).
	pdfcpuconf.NoConfigDir()
	conf := model.NewAESConfiguration(userPassword, userPassword+"-owner", 256)
	conf.Cmd = model.ENCRYPT
	ctx, err := pdfcpu.ReadWithContext(context.Background(), bytes.NewReader(PDF(pages, text)), conf)
	if err != nil {
		return nil, fmt.Errorf("demo: encrypt pdf: %w", err)
	}
	if err := pdfcpu.OptimizeXRefTable(ctx); err != nil {
		return nil, fmt.Errorf("demo: encrypt pdf: %w", err)
	}
	var out bytes.Buffer
	ctx.Write.Writer = bufio.NewWriter(&out)
	if err := pdfcpu.WriteContext(ctx); err != nil {
		return nil, fmt.Errorf("demo: encrypt pdf: %w", err)
	}
	if err := ctx.Write.Flush(); err != nil {
		return nil, fmt.Errorf("demo: encrypt pdf: %w", err)
	}
	return out.Bytes(), nil
}

// WordDoc returns the first bytes of a legacy Word file (an OLE2 compound file), enough for content
// sniffing to see Word and not PDF.
func WordDoc() []byte {
	b := make([]byte, 4096)
	copy(b, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
	copy(b[512:], "W\x00o\x00r\x00d\x00D\x00o\x00c\x00u\x00m\x00e\x00n\x00t\x00")
	return b
}
