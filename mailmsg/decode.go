package mailmsg

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// This file undoes the Content-Transfer-Encoding of a body: base64, quoted-printable and uuencode, each
// leniently, in a stream (a body is never held whole in memory).

// transferDecoder returns a reader decoding the Content-Transfer-Encoding of body. An unknown encoding
// is noted and the body passed through undecoded (uuencode is decoded).
func (p *parser) transferDecoder(h textproto.Header, body io.Reader, where string) io.Reader {
	enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	if i := strings.IndexAny(enc, " \t;("); i >= 0 {
		enc = enc[:i]
	}
	enc = strings.Trim(enc, `"'`)
	switch enc {
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit":
		return body
	case "base64", "base-64":
		return &problemReader{r: newBase64Reader(body), p: p, what: where + ": base64"}
	case "quoted-printable", "quotedprintable", "qp":
		return &problemReader{r: newQPReader(body), p: p, what: where + ": quoted-printable"}
	case "x-uuencode", "uuencode", "x-uue", "uue":
		p.problem("%s: transfer encoding %q decoded as uuencode", where, enc)
		return &problemReader{r: newUUReader(body), p: p, what: where + ": uuencode"}
	}
	p.problem("%s: unknown transfer encoding %q; kept undecoded", where, truncate(enc, 40))
	return body
}

// problemReader turns a decoding error into a noted problem and an early EOF, so that one broken part
// does not stop the others. Errors of the source itself are passed on unchanged.
type problemReader struct {
	r    io.Reader
	p    *parser
	what string
	done bool
}

func (r *problemReader) Read(b []byte) (int, error) {
	if r.done {
		return 0, io.EOF
	}
	n, err := r.r.Read(b)
	if err != nil && err != io.EOF {
		var se *sourceError
		if errors.As(err, &se) {
			return n, err
		}
		r.p.problem("%s decoding stopped: %v", r.what, err)
		r.done = true
		return n, io.EOF
	}
	return n, err
}

// base64Reader decodes base64 leniently: whitespace and stray characters (including '=' padding in
// the middle of concatenated chunks) are skipped.
type base64Reader struct {
	r    io.Reader
	in   []byte
	quad [4]byte
	nq   int
	out  []byte
	obuf []byte
	err  error

	slowOnly bool // tests: decode byte by byte only
}

func newBase64Reader(r io.Reader) *base64Reader {
	return &base64Reader{r: r, in: make([]byte, 32<<10), obuf: make([]byte, 0, 24<<10+3)}
}

var b64val = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(a); i++ {
		t[a[i]] = byte(i)
	}
	t['-'] = 62 // base64url, seen from broken webmail
	t['_'] = 63
	return t
}()

func (b *base64Reader) Read(p []byte) (int, error) {
	for len(b.out) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		n, err := b.r.Read(b.in)
		var o []byte
		if b.slowOnly {
			o = b.slow(b.obuf[:0], b.in[:n])
		} else {
			o = b.fast(b.obuf[:0], b.in[:n])
		}
		if err != nil {
			switch b.nq {
			case 2:
				o = append(o, b.quad[0]<<2|b.quad[1]>>4)
			case 3:
				o = append(o, b.quad[0]<<2|b.quad[1]>>4, b.quad[1]<<4|b.quad[2]>>2)
			}
			b.nq = 0
			b.err = err
		}
		b.out = o
	}
	n := copy(p, b.out)
	b.out = b.out[n:]
	return n, nil
}

// fast appends the decoding of data to o. It drops line breaks (in place), then decodes runs of whole
// 4-character blocks with encoding/base64 and the rest (a pending partial block, '=' padding, the tail
// of the chunk) byte by byte; on any byte outside the standard alphabet it decodes the rest of the
// chunk byte by byte, so the result is exactly that of slow.
func (b *base64Reader) fast(o, data []byte) []byte {
	data = dropLineBreaks(data)
	for len(data) > 0 {
		for b.nq != 0 && len(data) > 0 {
			o = b.slow(o, data[:1])
			data = data[1:]
		}
		if len(data) == 0 {
			break
		}
		end := bytes.IndexByte(data, '=')
		tail := end + 1
		if end < 0 {
			end, tail = len(data), len(data)
		}
		if blk := end &^ 3; blk > 0 {
			m := blk / 4 * 3
			o = slices.Grow(o, m)
			k, err := base64.StdEncoding.Decode(o[len(o):len(o)+m], data[:blk])
			if err != nil || k != m {
				return b.slow(o, data)
			}
			o = o[:len(o)+m]
			data, tail = data[blk:], tail-blk
		}
		o = b.slow(o, data[:tail])
		data = data[tail:]
	}
	return o
}

// dropLineBreaks removes every '\n' and the '\r' before it from d, in place.
func dropLineBreaks(d []byte) []byte {
	i := bytes.IndexByte(d, '\n')
	if i < 0 {
		return d
	}
	w, r := 0, 0
	for r < len(d) {
		j := i
		if j < 0 {
			j = len(d) - r
		}
		seg := d[r : r+j]
		if len(seg) > 0 && seg[len(seg)-1] == '\r' {
			seg = seg[:len(seg)-1]
		}
		w += copy(d[w:], seg)
		r += j + 1
		if r < len(d) {
			i = bytes.IndexByte(d[r:], '\n')
		}
	}
	return d[:w]
}

// slow appends the lenient byte-at-a-time decoding of data to o, carrying a partial block in b.quad.
// Bytes outside the alphabet are skipped. A '=' ends the quantum it pads and decoding starts afresh
// after it, as `base64 -d -i` does: encoders that pad every chunk write "QQ==QQ==" for "AA". A '='
// that pads nothing (after 0 or 1 character of a quantum) is skipped like any other junk.
func (b *base64Reader) slow(o, data []byte) []byte {
	for _, c := range data {
		v := b64val[c]
		if v == 0xff {
			if c == '=' && b.nq >= 2 {
				o = append(o, b.quad[0]<<2|b.quad[1]>>4)
				if b.nq == 3 {
					o = append(o, b.quad[1]<<4|b.quad[2]>>2)
				}
				b.nq = 0
			}
			continue
		}
		b.quad[b.nq] = v
		b.nq++
		if b.nq == 4 {
			o = append(o, b.quad[0]<<2|b.quad[1]>>4, b.quad[1]<<4|b.quad[2]>>2, b.quad[2]<<6|b.quad[3])
			b.nq = 0
		}
	}
	return o
}

// qpReader decodes quoted-printable leniently and with no limit on line length (Go's
// mime/quotedprintable stops at lines over 4 KiB, which broken HTML mail has): hex digits in either
// case, a "=" not followed by two hex digits or a line break is kept as is (Outlook writes a bare "="
// in URLs), blanks after a soft line break's "=" are transport padding.
type qpReader struct {
	r     io.Reader
	in    []byte
	npend int // undecoded bytes carried at the start of in
	out   []byte
	obuf  []byte
	err   error
}

// qpMaxPad is the most blanks between a "=" and the line's end that still make a soft line break:
// more are not transport padding, and the carry-over between reads stays small.
const qpMaxPad = 64

func newQPReader(r io.Reader) *qpReader {
	return &qpReader{r: r, in: make([]byte, 32<<10), obuf: make([]byte, 0, 32<<10)}
}

func (q *qpReader) Read(p []byte) (int, error) {
	for len(q.out) == 0 {
		if q.err != nil {
			return 0, q.err
		}
		n, err := q.r.Read(q.in[q.npend:])
		data := q.in[:q.npend+n]
		eof := err != nil
		o := q.obuf[:0]
		i := 0
	loop:
		for i < len(data) {
			c := data[i]
			if c != '=' {
				o = append(o, c)
				i++
				continue
			}
			// A soft line break is "=" and the line's end; blanks between them were added in transport
			// (RFC 2045 6.7 (3)) and a "=" that ends the body breaks nothing.
			j := i + 1
			for j < len(data) && j-i <= qpMaxPad && (data[j] == ' ' || data[j] == '\t') {
				j++
			}
			switch {
			case j < len(data) && data[j] == '\n':
				i = j + 1
			case j+1 < len(data) && data[j] == '\r' && data[j+1] == '\n':
				i = j + 2
			case i+2 < len(data) && isHex(data[i+1]) && isHex(data[i+2]):
				o = append(o, unhex(data[i+1])<<4|unhex(data[i+2]))
				i += 3
			case j+1 >= len(data) && j-i <= qpMaxPad && !eof:
				break loop // need more input to decide
			case j >= len(data) && eof:
				i = j
			default:
				o = append(o, '=')
				i++
			}
		}
		q.npend = copy(q.in, data[i:])
		q.out = o
		if err != nil {
			q.err = err
		}
	}
	n := copy(p, q.out)
	q.out = q.out[n:]
	return n, nil
}

// uuReader decodes a uuencoded body ("begin 644 name" ... "end").
type uuReader struct {
	br    *bufio.Reader
	begun bool
	done  bool
	out   []byte
	buf   []byte
}

func newUUReader(r io.Reader) *uuReader {
	return &uuReader{br: bufio.NewReaderSize(r, 4<<10)}
}

func (u *uuReader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.done {
			return 0, io.EOF
		}
		line, _, err := readLine(u.br, u.buf[:0], 1024)
		u.buf = line
		if err != nil && err != io.EOF {
			return 0, err
		}
		if err == io.EOF {
			u.done = true
		}
		switch {
		case !u.begun:
			u.begun = bytes.HasPrefix(line, []byte("begin "))
		case bytes.Equal(bytes.TrimSpace(line), []byte("end")):
			u.done = true
		case len(line) > 0:
			n := int((line[0] - ' ') & 0x3f)
			if n == 0 {
				continue
			}
			var dec []byte
			for i := 1; i < len(line) && len(dec) < n; i += 4 {
				var q [4]byte
				for k := 0; k < 4; k++ {
					if i+k < len(line) {
						q[k] = (line[i+k] - ' ') & 0x3f
					}
				}
				dec = append(dec, q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2, q[2]<<6|q[3])
			}
			if len(dec) > n {
				dec = dec[:n]
			}
			u.out = dec
		}
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
