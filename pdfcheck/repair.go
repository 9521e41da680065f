package pdfcheck

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Poppler, which decides what "opens" means here, rebuilds a broken cross-reference table by scanning the
// file for "N G obj" headers and takes /Root (and /Encrypt, /ID) from the last trailer dictionary it finds.
// When pdfcpu cannot make sense of a file, we do the same scan and hand pdfcpu the original bytes with a
// fresh xref table and trailer appended, as an incremental update would. Without a "trailer" dictionary
// poppler gives up (it does not take /Root from a damaged xref stream), and so do we.

const (
	scanChunk   = 1 << 20
	scanOverlap = 64
	maxObjNum   = 8 << 20 // poppler's reconstruction has similar limits; beyond this is hostile
	maxDictText = 64 << 10
	maxTrailers = 1000 // "trailer" keywords looked at; real files have one per update
)

var (
	trailerRE    = regexp.MustCompile(`trailer[ \t\f\r\n\x00]*<<`)
	rootRE       = regexp.MustCompile(`/Root[ \t\f\r\n]+(\d+)[ \t\f\r\n]+(\d+)[ \t\f\r\n]+R`)
	errNoTrailer = errors.New("no trailer dictionary with /Root")
	refEntryRE   = regexp.MustCompile(`/(?:Info|Encrypt)[ \t\f\r\n]+\d+[ \t\f\r\n]+\d+[ \t\f\r\n]+R`)
	idEntryRE    = regexp.MustCompile(`/ID[ \t\f\r\n]*\[[ \t\f\r\n]*<[0-9A-Fa-f \t\r\n]*>[ \t\f\r\n]*<[0-9A-Fa-f \t\r\n]*>[ \t\f\r\n]*\]`)
	objStmRE     = regexp.MustCompile(`/Type[ \t\f\r\n]*/ObjStm\b`)
	intEntryRE   = regexp.MustCompile(`/(N|First|Length)[ \t\f\r\n]+(\d+)(?:[ \t\f\r\n]+\d+[ \t\f\r\n]+R)?`)
	streamKwRE   = regexp.MustCompile(`>>[ \t\f\r\n]*stream\r?\n`)
)

// scanResult is what a linear scan of a PDF found.
type scanResult struct {
	offsets map[int]int64 // object number -> offset of its last definition
	inStm   map[int]stmRef
	maxObj  int
	trailer []byte // the trailer dictionary poppler's reconstruction takes
}

// scanObjects reads r once, in chunks, and finds object headers and, among the trailers with a /Root, the
// one poppler's reconstruction takes.
func scanObjects(r io.ReaderAt, size int64) (*scanResult, error) {
	res := &scanResult{offsets: map[int]int64{}, inStm: map[int]stmRef{}}
	var stms []int
	lastTrailer, trailerRoot, trailers := int64(-1), 0, 0
	buf := make([]byte, scanChunk+scanOverlap)
	for base := int64(0); base < size; base += scanChunk {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), size-base)], base)
		if n == 0 && err != nil {
			return nil, err
		}
		chunk := buf[:n]
		limit := min(n, scanChunk) // matches starting in the overlap belong to the next chunk
		for i := 0; ; {
			k := bytes.Index(chunk[i:], []byte("obj"))
			if k < 0 {
				break
			}
			at := i + k
			i = at + 3
			num, start, ok := objHeaderBefore(chunk, at)
			if !ok || start >= limit || (at+3 < len(chunk) && isRegular(chunk[at+3])) {
				continue
			}
			res.offsets[num] = base + int64(start)
			res.maxObj = max(res.maxObj, num)
			if objStmRE.Match(chunk[at:min(len(chunk), at+512)]) {
				stms = append(stms, num)
			}
		}
		for _, m := range trailerRE.FindAllIndex(chunk, -1) {
			if m[0] >= limit || !atLineStart(chunk, m[0]) {
				continue
			}
			if trailers++; trailers > maxTrailers {
				break // a hostile file: each candidate may cost a 64 KB read
			}
			at := base + int64(m[1]-2)
			d := trailerDict(r, size, at)
			if d == nil {
				continue
			}
			// Poppler keeps the first trailer with a /Root and lets a later one replace it only when that
			// names another root object (two files pasted together keep the first one's trailer).
			if root := rootNum(d); lastTrailer < 0 || root != trailerRoot {
				lastTrailer, trailerRoot = at, root
			}
		}
	}
	for _, num := range stms {
		readObjStm(r, size, num, res)
	}
	switch {
	case lastTrailer >= 0:
		res.trailer = trailerDict(r, size, lastTrailer)
	}
	if res.trailer == nil {
		return res, errNoTrailer
	}
	return res, nil
}

// rootNum returns the object number of a trailer's /Root, 0 if none.
func rootNum(trailer []byte) int {
	m := rootRE.FindSubmatch(trailer)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// atLineStart reports whether b[i:] begins a line, after blanks, or follows an "endobj" on its line: where
// poppler's reconstruction looks for keywords.
func atLineStart(b []byte, i int) bool {
	for i > 0 && (b[i-1] == ' ' || b[i-1] == '\t' || b[i-1] == '\f' || b[i-1] == 0) {
		i--
	}
	return i == 0 || b[i-1] == '\r' || b[i-1] == '\n' || bytes.HasSuffix(b[:i], []byte("endobj"))
}

// trailerDict returns the trailer dictionary at off, or nil if it has no /Root. A dictionary cut short by the end of the file keeps the entries a reader needs, as poppler does.
func trailerDict(r io.ReaderAt, size, off int64) []byte {
	if d := readDict(r, size, off); d != nil {
		if !rootRE.Match(d) {
			return nil
		}
		return d
	}
	if size-off > maxDictText {
		return nil // unbalanced in the middle of the file: not a trailer we can use
	}
	raw := make([]byte, size-off)
	n, _ := r.ReadAt(raw, off)
	raw = raw[:n]
	root := rootRE.Find(raw)
	if root == nil {
		return nil
	}
	t := append([]byte("<< "), root...)
	for _, e := range refEntryRE.FindAll(raw, -1) {
		t = append(append(t, ' '), e...)
	}
	if id := idEntryRE.Find(raw); id != nil {
		t = append(append(t, ' '), id...)
	}
	return append(t, " >>"...)
}

// readDict returns the balanced "<< ... >>" text starting at or shortly after off, or nil.
func readDict(r io.ReaderAt, size, off int64) []byte {
	d, _ := dictAt(r, size, off)
	return d
}

// dictAt returns the balanced "<< ... >>" text starting at or shortly after off, and the offset just after
// it; nil if there is none.
func dictAt(r io.ReaderAt, size, off int64) ([]byte, int64) {
	if off < 0 || off >= size {
		return nil, 0
	}
	// Most dictionaries are short: look at 4 KB before reading the most a dictionary may take.
	if d, end := dictIn(r, size, off, 4<<10); d != nil || size-off <= 4<<10 {
		return d, end
	}
	return dictIn(r, size, off, maxDictText)
}

func dictIn(r io.ReaderAt, size, off, limit int64) ([]byte, int64) {
	buf := make([]byte, min(limit, size-off))
	n, _ := r.ReadAt(buf, off)
	buf = buf[:n]
	start := bytes.Index(buf, []byte("<<"))
	if start < 0 || start > 600 {
		return nil, 0
	}
	depth := 0
	for i := start; i+1 < len(buf); i++ {
		switch {
		case buf[i] == '(': // skip a literal string, with nesting and escapes
			level := 0
			for ; i < len(buf); i++ {
				if buf[i] == '\\' {
					i++
				} else if buf[i] == '(' {
					level++
				} else if buf[i] == ')' {
					if level--; level == 0 {
						break
					}
				}
			}
		case buf[i] == '<' && buf[i+1] == '<':
			depth++
			i++
		case buf[i] == '>' && buf[i+1] == '>':
			depth--
			i++
			if depth == 0 {
				return buf[start : i+1], off + int64(i+1)
			}
		}
	}
	return nil, 0
}

// stmRef places an object inside an object stream.
type stmRef struct {
	stm, index int
	at         int64 // the object stream's offset, to order it against plain definitions
}

func isSpace(c byte) bool   { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' }
func isDigit(c byte) bool   { return c >= '0' && c <= '9' }
func isRegular(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || isDigit(c) }

// objHeaderBefore parses "NUM GEN " backwards from the "obj" keyword at b[at:], as found at the start of
// a line (or of the chunk). It returns the object number and where the header starts.
func objHeaderBefore(b []byte, at int) (num, start int, ok bool) {
	j := at
	skipSpace := func() int {
		n := 0
		for j > 0 && isSpace(b[j-1]) {
			j--
			n++
		}
		return n
	}
	digits := func() (int, bool) {
		end := j
		for j > 0 && isDigit(b[j-1]) && end-j < 10 {
			j--
		}
		if j == end {
			return 0, false
		}
		v, err := strconv.Atoi(string(b[j:end]))
		return v, err == nil
	}
	if skipSpace() == 0 {
		return 0, 0, false
	}
	if _, ok := digits(); !ok {
		return 0, 0, false
	}
	if skipSpace() == 0 {
		return 0, 0, false
	}
	num, ok = digits()
	if !ok || num <= 0 || num > maxObjNum {
		return 0, 0, false
	}
	start = j
	for j > 0 && (b[j-1] == ' ' || b[j-1] == '\t' || b[j-1] == '\f') {
		j--
	}
	if j > 0 && b[j-1] != '\r' && b[j-1] != '\n' {
		return 0, 0, false // not at the start of a line
	}
	return num, start, true
}

// readObjStm reads the header of object stream num (only its first /First bytes are inflated, so a
// compression bomb costs nothing) and records the objects it holds.
func readObjStm(r io.ReaderAt, size int64, num int, res *scanResult) {
	off := res.offsets[num]
	d := readDict(r, size, off)
	if d == nil {
		return
	}
	vals := map[string]int{}
	for _, m := range intEntryRE.FindAllSubmatch(d, -1) {
		if bytes.Contains(m[0], []byte(" R")) || bytes.HasSuffix(m[0], []byte("R")) {
			continue // an indirect /Length: unknown here
		}
		v, _ := strconv.Atoi(string(m[2]))
		vals[string(m[1])] = v
	}
	n, first := vals["N"], vals["First"]
	if n <= 0 || n > 1<<20 || first <= 0 || first > 1<<22 {
		return
	}
	filtered := bytes.Contains(d, []byte("/Filter"))
	if filtered && !bytes.Contains(d, []byte("/FlateDecode")) {
		return
	}
	head := make([]byte, min(int64(len(d))+64, size-off))
	k, _ := r.ReadAt(head, off)
	loc := streamKwRE.FindIndex(head[:k])
	if loc == nil {
		return
	}
	data := io.NewSectionReader(r, off+int64(loc[1]), size-off-int64(loc[1]))
	var src io.Reader = data
	if filtered {
		zr, err := zlib.NewReader(data)
		if err != nil {
			return
		}
		src = zr
	}
	hdr := make([]byte, first)
	k, _ = io.ReadFull(src, hdr)
	f := bytes.Fields(hdr[:k])
	for i := 0; i+1 < len(f) && i/2 < n; i += 2 {
		obj, err := strconv.Atoi(string(f[i]))
		if err != nil || obj <= 0 || obj > maxObjNum {
			return
		}
		if prev, ok := res.offsets[obj]; ok && prev > off {
			continue // redefined later in the file
		}
		if prev, ok := res.inStm[obj]; ok && prev.at > off {
			continue
		}
		delete(res.offsets, obj)
		res.inStm[obj] = stmRef{stm: num, index: i / 2, at: off}
		res.maxObj = max(res.maxObj, obj)
	}
}

// repairTail returns a cross-reference section and trailer to append to a file of size bytes that is
// shown shift bytes further on (behind a new header): a classic table, or an xref stream when some
// objects live in object streams. entries are the trailer's entries besides /Size.
func repairTail(s *scanResult, size, shift int64, entries string) []byte {
	var b bytes.Buffer
	xrefAt := shift + size + 1
	if len(s.inStm) == 0 {
		b.WriteString("\nxref\n")
		fmt.Fprintf(&b, "0 %d\n0000000000 65535 f \n", s.maxObj+1)
		for i := 1; i <= s.maxObj; i++ {
			if o, ok := s.offsets[i]; ok && o+shift < 1e10 {
				fmt.Fprintf(&b, "%010d 00000 n \n", o+shift)
			} else {
				b.WriteString("0000000000 65535 f \n")
			}
		}
		fmt.Fprintf(&b, "trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n", s.maxObj+1, entries, xrefAt)
		return b.Bytes()
	}
	self := s.maxObj + 1
	var rows bytes.Buffer
	row := func(t byte, f2 uint64, f3 uint16) {
		rows.WriteByte(t)
		rows.Write([]byte{byte(f2 >> 32), byte(f2 >> 24), byte(f2 >> 16), byte(f2 >> 8), byte(f2)})
		rows.Write([]byte{byte(f3 >> 8), byte(f3)})
	}
	row(0, 0, 65535)
	for i := 1; i <= s.maxObj; i++ {
		if o, ok := s.offsets[i]; ok {
			row(1, uint64(o+shift), 0)
		} else if st, ok := s.inStm[i]; ok {
			row(2, uint64(st.stm), uint16(st.index))
		} else {
			row(0, 0, 65535)
		}
	}
	row(1, uint64(xrefAt), 0)
	fmt.Fprintf(&b, "\n%d 0 obj\n<< /Type /XRef /Size %d /W [1 5 2] %s /Length %d >>\nstream\n",
		self, self+1, entries, rows.Len())
	b.Write(rows.Bytes())
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xrefAt)
	return b.Bytes()
}

// trailerEntries returns the entries of trailer t that a rebuilt trailer keeps: /Root, /Info, /ID and,
// unless hideEncrypt, /Encrypt.
func trailerEntries(t types.Dict, hideEncrypt bool) string {
	var b strings.Builder
	for _, k := range []string{"Root", "Info", "ID", "Encrypt"} {
		if k == "Encrypt" && hideEncrypt {
			continue
		}
		if o, ok := t.Find(k); ok && o != nil {
			fmt.Fprintf(&b, " /%s %s", k, o.PDFString())
		}
	}
	return b.String()
}

// overlay shows pdfcpu a file as poppler reads it without changing it: head in front (a header, so that
// offsets count from the start), then base with a few bytes replaced (patches), then tail (a rebuilt
// cross-reference section).
type overlay struct {
	head    []byte
	base    io.ReaderAt
	size    int64 // of base
	patches []patch
	tail    []byte
	off     int64
}

// patch replaces the bytes of base at off by b.
type patch struct {
	off int64
	b   []byte
}

func (o *overlay) Read(p []byte) (int, error) {
	h, total := int64(len(o.head)), int64(len(o.head))+o.size+int64(len(o.tail))
	if o.off >= total {
		return 0, io.EOF
	}
	var n int
	var err error
	switch {
	case o.off < h:
		n = copy(p, o.head[o.off:])
	case o.off < h+o.size:
		at := o.off - h
		n, err = o.base.ReadAt(p[:min(int64(len(p)), o.size-at)], at)
		if err == io.EOF {
			err = nil
		}
		for _, pt := range o.patches {
			lo, hi := max(pt.off, at), min(pt.off+int64(len(pt.b)), at+int64(n))
			if lo < hi {
				copy(p[lo-at:hi-at], pt.b[lo-pt.off:hi-pt.off])
			}
		}
	default:
		n = copy(p, o.tail[o.off-h-o.size:])
	}
	o.off += int64(n)
	return n, err
}

func (o *overlay) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.off
	case io.SeekEnd:
		offset += int64(len(o.head)) + o.size + int64(len(o.tail))
	}
	if offset < 0 {
		return 0, errors.New("overlay: negative position")
	}
	o.off = offset
	return offset, nil
}

var encryptKeyRE = regexp.MustCompile(`/Encrypt(?:[^A-Za-z0-9]|$)`)

// encryptKeys returns where the name /Encrypt occurs in r: the patches that make pdfcpu read the file
// without its encryption dictionary, as poppler does when it judges that dictionary unusable.
func encryptKeys(r io.ReaderAt, size int64) []patch {
	var out []patch
	buf := make([]byte, scanChunk+scanOverlap)
	for base := int64(0); base < size; base += scanChunk {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), size-base)], base)
		if n == 0 && err != nil {
			break
		}
		limit := min(n, scanChunk)
		for _, m := range encryptKeyRE.FindAllIndex(buf[:n], -1) {
			if m[0] < limit && len(out) < 1000 {
				out = append(out, patch{off: base + int64(m[0]) + 7, b: []byte("x")}) // /Encrypt -> /Encrypx
			}
		}
	}
	return out
}

var headerRE = regexp.MustCompile(`%PDF-([12]\.[0-9])`)

// newHeader returns the header put in front of a rebuilt file: the file's own version if it has a usable
// one in its first kilobyte, else 1.7.
func newHeader(r io.ReaderAt, size int64) []byte {
	b := make([]byte, min(size, 1024))
	n, _ := r.ReadAt(b, 0)
	v := "1.7"
	if m := headerRE.FindSubmatch(b[:n]); m != nil {
		if _, err := model.PDFVersion(string(m[1])); err == nil {
			v = string(m[1])
		}
	}
	return []byte("%PDF-" + v + "\n")
}

// missingEOF reports whether the file ends with startxref but without the %%EOF marker after it.
func missingEOF(r io.ReaderAt, size int64) bool {
	tail := make([]byte, min(size, 1024))
	n, _ := r.ReadAt(tail, size-int64(len(tail)))
	tail = tail[:n]
	i := bytes.LastIndex(tail, []byte("startxref"))
	return i >= 0 && !bytes.Contains(tail[i:], []byte("%%EOF"))
}

var countRE = regexp.MustCompile(`/Count[ \t\f\r\n]+(\d{1,10})`)

// partialCount returns /Count of an object that the end of the file cut short (no "endobj" follows its
// start), or 0.
func partialCount(r io.ReaderAt, size, off int64) int {
	if off <= 0 || off >= size || size-off > maxDictText {
		return 0
	}
	buf := make([]byte, size-off)
	n, _ := r.ReadAt(buf, off)
	buf = buf[:n]
	if bytes.Contains(buf, []byte("endobj")) {
		return 0
	}
	m := countRE.FindSubmatch(buf)
	if m == nil {
		return 0
	}
	v, _ := strconv.Atoi(string(m[1]))
	return v
}
