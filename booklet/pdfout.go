package booklet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// out writes a PDF file as a stream: objects are staged in a chunk and committed whole, so that a failure
// while serialising one source file never leaves half an object in the output.
type out struct {
	w    *bufio.Writer
	n    int64   // bytes written so far
	offs []int64 // offs[num] is the offset of object num; 0 while not written
	err  error
}

func newOut(w io.Writer) *out {
	o := &out{w: bufio.NewWriterSize(w, 256<<10), offs: []int64{0}}
	o.raw([]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"))
	return o
}

// alloc returns a new object number.
func (o *out) alloc() int {
	o.offs = append(o.offs, 0)
	return len(o.offs) - 1
}

func (o *out) raw(b []byte) {
	if o.err != nil {
		return
	}
	n, err := o.w.Write(b)
	o.n += int64(n)
	if err != nil {
		o.err = fmt.Errorf("write booklet: %w", err)
	}
}

// commit writes a chunk's objects.
func (o *out) commit(c *chunk) {
	if o.err != nil {
		return
	}
	for _, at := range c.objs {
		o.offs[at.num] = o.n + int64(at.off)
	}
	o.raw(c.buf.Bytes())
	c.reset()
}

// finish writes the cross-reference table and the trailer.
func (o *out) finish(root, info int, id []byte) error {
	start := o.n
	var b bytes.Buffer
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(o.offs))
	for _, off := range o.offs[1:] {
		if off == 0 {
			b.WriteString("0000000000 65535 f\r\n")
		} else {
			fmt.Fprintf(&b, "%010d 00000 n\r\n", off)
		}
		if b.Len() > 64<<10 {
			o.raw(b.Bytes())
			b.Reset()
		}
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%x> <%x>] >>\nstartxref\n%d\n%%%%EOF\n",
		len(o.offs), root, info, id, id, start)
	o.raw(b.Bytes())
	if o.err == nil {
		if err := o.w.Flush(); err != nil {
			o.err = fmt.Errorf("write booklet: %w", err)
		}
	}
	return o.err
}

// chunk holds serialised objects until they are committed.
type chunk struct {
	buf  bytes.Buffer
	objs []objAt
}

type objAt struct{ num, off int }

func (c *chunk) reset() {
	c.buf.Reset()
	c.objs = c.objs[:0]
}

// obj writes "num 0 obj body endobj".
func (c *chunk) obj(num int, body string) {
	c.objs = append(c.objs, objAt{num, c.buf.Len()})
	fmt.Fprintf(&c.buf, "%d 0 obj\n%s\nendobj\n", num, body)
}

// stream writes a stream object; dict is the dictionary's inside, without /Length.
func (c *chunk) stream(num int, dict string, data []byte) {
	c.objs = append(c.objs, objAt{num, c.buf.Len()})
	fmt.Fprintf(&c.buf, "%d 0 obj\n<< %s /Length %d >>\nstream\n", num, dict, len(data))
	c.buf.Write(data)
	c.buf.WriteString("\nendstream\nendobj\n")
}

func sortedKeys(d types.Dict) []string { return slices.Sorted(maps.Keys(d)) }

// maxDepth bounds the nesting of arrays and dictionaries copied from a source file.
const maxDepth = 256

var errTooDeep = errors.New("objects nested too deep")

// remapper gives the booklet's object number for a source reference, 0 to write null instead.
type remapper func(types.IndirectRef) int

// writeObject serialises a direct pdfcpu object with references renumbered by remap. Stream
// dictionaries are only valid at the top of an object (see writeStream); nested ones become null.
func writeObject(b *bytes.Buffer, o types.Object, remap remapper, depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	switch v := o.(type) {
	case nil:
		b.WriteString("null")
	case types.Boolean:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case types.Integer:
		b.WriteString(strconv.Itoa(int(v)))
	case types.Float:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			f = 0
		}
		b.WriteString(strconv.FormatFloat(f, 'f', -1, 64))
	case types.Name:
		b.WriteByte('/')
		b.WriteString(types.EncodeName(string(v)))
	case types.StringLiteral:
		// pdfcpu keeps literals escaped as they were (decrypted and escaped again for encrypted files);
		// writing the bytes as hex cannot unbalance a parenthesis.
		raw, err := types.Unescape(string(v))
		if err != nil {
			raw = nil
		}
		fmt.Fprintf(b, "<%x>", raw)
	case types.HexLiteral:
		raw, err := v.Bytes()
		if err != nil {
			raw = nil
		}
		fmt.Fprintf(b, "<%x>", raw)
	case types.IndirectRef:
		writeRef(b, remap(v))
	case *types.IndirectRef:
		if v == nil {
			b.WriteString("null")
		} else {
			writeRef(b, remap(*v))
		}
	case types.Array:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(' ')
			}
			if err := writeObject(b, e, remap, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case types.Dict:
		return writeDict(b, v, remap, depth, nil)
	default:
		b.WriteString("null")
	}
	return nil
}

func writeRef(b *bytes.Buffer, num int) {
	if num == 0 {
		b.WriteString("null")
		return
	}
	b.WriteString(strconv.Itoa(num))
	b.WriteString(" 0 R")
}

// writeDict writes d without the keys skip says to leave out (skip may be nil). Keys come in sorted
// order so that the output is reproducible.
func writeDict(b *bytes.Buffer, d types.Dict, remap remapper, depth int, skip func(string) bool) error {
	if depth > maxDepth {
		return errTooDeep
	}
	b.WriteString("<<")
	for _, k := range sortedKeys(d) {
		if skip != nil && skip(k) {
			continue
		}
		b.WriteString(" /")
		b.WriteString(types.EncodeName(k))
		b.WriteByte(' ')
		if err := writeObject(b, d[k], remap, depth+1); err != nil {
			return err
		}
	}
	b.WriteString(" >>")
	return nil
}
