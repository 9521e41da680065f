package pdfcheck

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// rawFile reads a PDF's bytes the way poppler's XRef does, for what pdfcpu decides differently: which
// trailer dictionary counts, and what the encryption dictionary says. Its scan of the whole file is made
// once, when first needed.
type rawFile struct {
	r    io.ReaderAt
	size int64

	scanDone bool
	scan     *scanResult
	scanErr  error

	trailerDone bool
	trailer     types.Dict // poppler's trailer, nil if it finds none
	fromXRef    bool       // the trailer is the one startxref leads to, not a reconstruction's
}

func newRawFile(r io.ReaderAt, size int64) *rawFile { return &rawFile{r: r, size: size} }

// scanned returns the scan of every object header and trailer in the file (see scanObjects).
func (f *rawFile) scanned() (*scanResult, error) {
	if !f.scanDone {
		f.scan, f.scanErr = scanObjects(f.r, f.size)
		f.scanDone = true
	}
	return f.scan, f.scanErr
}

// popplerTrailer returns the trailer dictionary poppler works with: the one of the cross-reference section
// that startxref points at if that section reads, otherwise the one its reconstruction settles on (see
// scanObjects). fromXRef says which. nil: poppler finds no trailer and cannot open the file.
func (f *rawFile) popplerTrailer() (t types.Dict, fromXRef bool) {
	if f.trailerDone {
		return f.trailer, f.fromXRef
	}
	f.trailerDone = true
	if d := parseDict(f.startxrefTrailer()); d != nil && isRef(d, "Root") {
		f.trailer, f.fromXRef = d, true
		return f.trailer, true
	}
	if s, err := f.scanned(); err == nil {
		f.trailer = parseDict(s.trailer)
	}
	return f.trailer, false
}

func isRef(d types.Dict, key string) bool {
	o, ok := d.Find(key)
	if !ok {
		return false
	}
	_, ok = o.(types.IndirectRef)
	return ok
}

// parseDict parses the text of a dictionary; nil if it is not one.
func parseDict(text []byte) types.Dict {
	if len(text) == 0 {
		return nil
	}
	s := string(text)
	var (
		o   types.Object
		err error
	)
	func() {
		defer func() {
			if recover() != nil {
				err = errPanic
			}
		}()
		o, err = model.ParseObject(&s)
	}()
	if err != nil {
		return nil
	}
	d, _ := o.(types.Dict)
	return d
}

// startxrefTrailer returns the text of the trailer dictionary of the cross-reference section that the
// last startxref in the file points at, if poppler reads that section (see xrefSection) and, in a hybrid
// file, the cross-reference stream its /XRefStm names. nil if it does not: poppler then rebuilds the table.
func (f *rawFile) startxrefTrailer() []byte {
	tail := make([]byte, min(f.size, 1024))
	n, _ := f.r.ReadAt(tail, f.size-int64(len(tail)))
	tail = tail[:n]
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return nil
	}
	num := bytes.TrimLeft(tail[i+9:], " \t\r\n\f\x00")
	end := 0
	for end < len(num) && end < 19 && isDigit(num[end]) {
		end++
	}
	pos, err := strconv.ParseInt(string(num[:end]), 10, 64)
	if err != nil || pos <= 0 {
		return nil // poppler reconstructs when startxref is 0 or missing
	}
	d, classic := f.xrefSection(pos)
	if d == nil {
		return nil
	}
	if classic {
		if x, ok := intOf(lookup(parseDict(d), "XRefStm", nil)); ok {
			if xd, isClassic := f.xrefSection(x); xd == nil || isClassic {
				return nil
			}
		}
	}
	return d
}

// xrefSection reads the cross-reference section at pos as poppler does and returns its trailer dictionary's
// text: for a table ("xref", well-formed subsections and entries, "trailer", a dictionary) the dictionary
// after it, for a cross-reference stream ("N G obj", a dictionary, "stream") its dictionary, if its data
// decodes to all the entries it declares. nil if poppler cannot read the section.
func (f *rawFile) xrefSection(pos int64) (dict []byte, classic bool) {
	if pos <= 0 || pos >= f.size {
		return nil, false
	}
	lx := newLexer(io.NewSectionReader(f.r, pos, f.size-pos))
	first := lx.token()
	if string(first) == "xref" {
		if !lx.xrefTable() {
			return nil, true
		}
		return readDict(f.r, f.size, pos+lx.pos), true
	}
	if _, err := strconv.Atoi(string(first)); err != nil {
		return nil, false
	}
	if _, err := strconv.Atoi(string(lx.token())); err != nil || string(lx.token()) != "obj" {
		return nil, false
	}
	d, dictEnd := dictAt(f.r, f.size, pos+lx.pos)
	if d == nil || !xrefStreamReadable(f.r, f.size, parseDict(d), dictEnd) {
		return nil, false
	}
	return d, false
}

// object returns object num as the scan found its last definition in the file, parsed; nil if there is
// none (objects inside object streams are not looked at: an encryption dictionary is never in one).
func (f *rawFile) object(num int) types.Object {
	s, _ := f.scanned()
	if s == nil {
		return nil
	}
	off, ok := s.offsets[num]
	if !ok {
		return nil
	}
	buf := make([]byte, min(maxDictText, f.size-off))
	n, _ := f.r.ReadAt(buf, off)
	lx := newLexer(bytes.NewReader(buf[:n]))
	for range 3 { // N G obj
		lx.token()
	}
	text := string(buf[lx.pos:n])
	var o types.Object
	func() {
		defer func() { recover() }()
		o, _ = model.ParseObject(&text)
	}()
	return o
}

// resolve dereferences o when it is an indirect reference, through object.
func (f *rawFile) resolve(o types.Object) types.Object {
	if ir, ok := o.(types.IndirectRef); ok {
		return f.object(ir.ObjectNumber.Value())
	}
	return o
}

// security judges the encryption of the file as poppler does (see judgeEncryption).
func (f *rawFile) security() security {
	t, _ := f.popplerTrailer()
	if t == nil {
		return security{state: secNone, why: "no trailer"}
	}
	enc, ok := t.Find("Encrypt")
	if !ok {
		return security{state: secNone, why: "no /Encrypt in the trailer"}
	}
	enc = f.resolve(enc)
	var id []byte
	if arr, ok := f.resolve(lookup(t, "ID", nil)).(types.Array); ok && len(arr) > 0 {
		id, _ = stringBytes(f.resolve(arr[0]))
	}
	return judgeEncryption(enc, id, f.resolve)
}

// lexer splits PDF text into tokens the way poppler's Lexer skips white space and comments. It is only
// used on the few tokens around cross-reference sections.
type lexer struct {
	br  *bufio.Reader
	pos int64 // offset of the next byte
}

func newLexer(r io.Reader) *lexer { return &lexer{br: bufio.NewReaderSize(r, 16<<10)} }

func (l *lexer) next() (byte, bool) {
	c, err := l.br.ReadByte()
	if err != nil {
		return 0, false
	}
	l.pos++
	return c, true
}

func (l *lexer) unread() {
	if l.br.UnreadByte() == nil {
		l.pos--
	}
}

// token returns the next run of regular characters (or one delimiter), nil at the end.
func (l *lexer) token() []byte {
	for {
		c, ok := l.next()
		if !ok {
			return nil
		}
		switch {
		case isSpace(c) || c == 0:
			continue
		case c == '%':
			for c != '\n' && c != '\r' {
				if c, ok = l.next(); !ok {
					return nil
				}
			}
			continue
		case isDelimiter(c):
			return []byte{c}
		}
		tok := []byte{c}
		for len(tok) < 64 {
			c, ok := l.next()
			if !ok {
				break
			}
			if isSpace(c) || c == 0 || isDelimiter(c) || c == '%' {
				l.unread()
				break
			}
			tok = append(tok, c)
		}
		return tok
	}
}

func isDelimiter(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/':
		return true
	}
	return false
}

// xrefTable reads the subsections of a cross-reference table after its "xref" keyword, up to and including
// "trailer", and reports whether poppler would accept them: "first count" headers, and entries of an
// offset, a generation and "n" or "f".
func (l *lexer) xrefTable() bool {
	total := 0
	for {
		tok := l.token()
		if string(tok) == "trailer" {
			return true
		}
		first, err1 := strconv.Atoi(string(tok))
		n, err2 := strconv.Atoi(string(l.token()))
		if err1 != nil || err2 != nil || first < 0 || n < 0 || first > maxObjNum || n > maxObjNum {
			return false
		}
		if total += n; total > maxObjNum {
			return false
		}
		for range n {
			if _, err := strconv.ParseInt(string(l.token()), 10, 64); err != nil {
				return false
			}
			if _, err := strconv.Atoi(string(l.token())); err != nil {
				return false
			}
			if t := string(l.token()); t != "n" && t != "f" {
				return false
			}
		}
	}
}

// misplacedObjects checks, for the objects a viewer reads to open the file and show its first page (the
// catalog, the page tree nodes down to the first page, that page, its /Resources and /Contents), that the
// cross-reference table pdfcpu read points at their own "N G obj" headers. pdfcpu takes whatever object
// it finds there; poppler sees the mismatch and rebuilds the table by scanning the file, which can
// change what the file holds. It returns a warning naming the first misplaced object, or "".
func misplacedObjects(pctx *model.Context, f *rawFile) (warning string) {
	if pctx == nil || pctx.XRefTable == nil || pctx.XRefTable.Root == nil {
		return ""
	}
	defer func() {
		if recover() != nil {
			warning = ""
		}
	}()
	xt := pctx.XRefTable
	checked := map[int]bool{}
	check := func(o types.Object) bool {
		ir, ok := o.(types.IndirectRef)
		if !ok {
			return true
		}
		n := ir.ObjectNumber.Value()
		if checked[n] {
			return true
		}
		checked[n] = true
		e, ok := xt.Table[n]
		if !ok || e == nil || e.Free || e.Compressed || e.Offset == nil || *e.Offset < 0 || *e.Offset >= f.size {
			return true
		}
		lx := newLexer(io.NewSectionReader(f.r, *e.Offset, min(256, f.size-*e.Offset)))
		num, gen, kw := lx.token(), lx.token(), lx.token()
		okGen := e.Generation == nil || string(gen) == strconv.Itoa(*e.Generation)
		if string(num) == strconv.Itoa(n) && okGen && bytes.HasPrefix(kw, []byte("obj")) {
			return true
		}
		warning = fmt.Sprintf("object %d: the cross-reference table points at %q", n, bytes.Join([][]byte{num, gen, kw}, []byte(" ")))
		return false
	}
	if !check(*xt.Root) {
		return warning
	}
	cat, err := xt.DereferenceDict(*xt.Root)
	if err != nil || cat == nil {
		return ""
	}
	node, _ := cat.Find("Pages")
	for depth := 0; node != nil && depth < 64; depth++ {
		if !check(node) {
			return warning
		}
		d, err := xt.DereferenceDict(node)
		if err != nil || d == nil {
			return ""
		}
		kids, hasKids := d.Find("Kids")
		if t := d.Type(); !hasKids || (t != nil && *t == "Page") {
			for _, key := range []string{"Resources", "Contents"} {
				o, _ := d.Find(key)
				if arr, ok := o.(types.Array); ok {
					for _, c := range arr[:min(len(arr), 16)] {
						if !check(c) {
							return warning
						}
					}
				} else if !check(o) {
					return warning
				}
			}
			return ""
		}
		arr, err := xt.DereferenceArray(kids)
		if err != nil || len(arr) == 0 {
			return ""
		}
		node = arr[0]
	}
	return ""
}

// linearizedPages returns the page count of the linearization dictionary, which poppler reports instead
// of the page tree's when the file is linearized: its first object is a dictionary with a positive
// /Linearized and an /L equal to the file's length. 0 if it is not, or has no positive /N.
func (f *rawFile) linearizedPages() int {
	lx := newLexer(io.NewSectionReader(f.r, 0, min(f.size, 4096)))
	if _, err := strconv.Atoi(string(lx.token())); err != nil {
		return 0
	}
	if _, err := strconv.Atoi(string(lx.token())); err != nil || string(lx.token()) != "obj" {
		return 0
	}
	d := parseDict(readDict(f.r, f.size, lx.pos))
	if d == nil {
		return 0
	}
	switch lin := lookup(d, "Linearized", nil).(type) {
	case types.Integer:
		if lin.Value() <= 0 {
			return 0
		}
	case types.Float:
		if lin.Value() <= 0 {
			return 0
		}
	default:
		return 0
	}
	if l, ok := intOf(lookup(d, "L", nil)); !ok || l != f.size {
		return 0
	}
	if n, ok := intOf(lookup(d, "N", nil)); ok && n > 0 && n <= maxTreeNodes {
		return int(n)
	}
	return 0
}

// popplerSize returns the number of objects poppler compares a page count with: its trailer's /Size, or,
// when it rebuilt the cross-reference table (reconstructed), at least the highest object number found
// plus one, rounded up to a multiple of 256 as poppler grows its table.
func (f *rawFile) popplerSize(reconstructed bool) int {
	n := 0
	if t, _ := f.popplerTrailer(); t != nil {
		if size, ok := intOf(lookup(t, "Size", nil)); ok && size > 0 && size <= maxObjNum {
			n = int(size)
		}
	}
	if reconstructed {
		if s, _ := f.scanned(); s != nil {
			n = max(n, (s.maxObj+1+255)&^255)
		}
	}
	return n
}
