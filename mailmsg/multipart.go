package mailmsg

import (
	"bufio"
	"bytes"
	"io"
)

// This file splits a multipart body into its parts at the boundary lines.

// multipartReader reads the parts of one multipart body. It is an io.Reader over the current part's
// raw body. It holds one bufio buffer, and tolerates LF line endings, a missing closing boundary and
// trailing space after boundaries.
type multipartReader struct {
	br        *bufio.Reader
	dash      []byte // "--" + boundary
	nl        []byte // line ending held back: it belongs to a boundary if one follows
	pend      []byte // line ending to emit before out
	out       []byte // data to return, a slice of br's buffer
	lineStart bool
	stop      bool // the current part (or the preamble) has ended
	final     bool // the closing boundary was seen
	eof       bool // the input ended
	err       error
}

var (
	crlf = []byte("\r\n")
	lf   = []byte("\n")
)

func newMultipartReader(r io.Reader, boundary string) *multipartReader {
	return &multipartReader{
		br:        bufio.NewReaderSize(r, 16<<10),
		dash:      []byte("--" + boundary),
		lineStart: true,
	}
}

// next discards the rest of the current part (or the preamble) and reports whether another part
// follows. The part's header is then read from m.br.
func (m *multipartReader) next() bool {
	if _, err := io.Copy(io.Discard, m); err != nil && m.err == nil {
		m.err = err
	}
	if m.final || m.eof || m.err != nil {
		return false
	}
	m.stop = false
	m.lineStart = true
	m.nl = nil
	return true
}

// Read returns the current part's raw body; io.EOF at the next boundary or the end of input.
func (m *multipartReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(m.pend) > 0 {
			c := copy(p[n:], m.pend)
			m.pend = m.pend[c:]
			n += c
			continue
		}
		if len(m.out) > 0 {
			c := copy(p[n:], m.out)
			m.out = m.out[c:]
			n += c
			continue
		}
		if m.stop {
			break
		}
		if n > 0 && m.br.Buffered() == 0 {
			break // do not block for more while we have something to return
		}
		m.fill()
	}
	if n == 0 && m.stop {
		if m.err != nil {
			return 0, m.err
		}
		return 0, io.EOF
	}
	return n, nil
}

// fill reads one line (or a buffer's worth of a long line) and decides whether it is a boundary.
func (m *multipartReader) fill() {
	line, err := m.br.ReadSlice('\n')
	if m.lineStart && bytes.HasPrefix(line, m.dash) && err != bufio.ErrBufferFull {
		rest := line[len(m.dash):]
		final := false
		if bytes.HasPrefix(rest, []byte("--")) {
			final = true
			rest = rest[2:]
		}
		if len(bytes.Trim(rest, " \t\r\n")) == 0 {
			m.stop = true
			m.final = final
			m.nl = nil
			if err != nil && err != io.EOF {
				m.err = &sourceError{err}
			} else if err == io.EOF && !final {
				m.eof = true
			}
			return
		}
	}
	body := line
	var nl []byte
	switch {
	case err == nil && len(body) >= 2 && body[len(body)-2] == '\r':
		nl, body = crlf, body[:len(body)-2]
	case err == nil:
		nl, body = lf, body[:len(body)-1]
	}
	m.lineStart = err == nil
	m.pend, m.out, m.nl = m.nl, body, nl
	if err != nil && err != bufio.ErrBufferFull {
		m.stop = true
		if err == io.EOF {
			m.eof = true
		} else {
			m.err = &sourceError{err}
		}
	}
}
