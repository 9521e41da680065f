package mailmsg

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
)

// A Fingerprinter tells the same mail from a different one that reuses its Message-ID (broken mailers,
// scripts and OA systems do). The fingerprint is the SHA-256 of the raw message as its sender wrote it:
// without the trace fields servers add on the way (TraceField), CR bytes dropped (line ends as LF).
// The same mail read again — after a UIDVALIDITY change, or found twice in the mailbox — has the same
// fingerprint; a different mail has another.
type Fingerprinter struct {
	h        hash.Hash
	body     bool   // past the blank line that ends the header
	lineBeg  bool   // at the start of a header line
	deciding bool   // at the start of a field line, its name not known yet
	skip     bool   // the current field is a trace field
	name     []byte // the start of the current field line while deciding
	lf       []byte // scratch: the chunk without CRs
}

// maxFieldName bounds how much of a line is looked at for its field name.
const maxFieldName = 128

// NewFingerprinter returns a Fingerprinter to write a raw message to, in chunks of any size.
func NewFingerprinter() *Fingerprinter {
	return &Fingerprinter{h: sha256.New(), lineBeg: true}
}

// TraceField reports whether a header field is one that servers add on the way (RFC 5321 trace
// fields, delivery and filtering notes, X- fields), not part of the mail its sender wrote.
func TraceField(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "received", "return-path", "delivered-to", "authentication-results", "received-spf",
		"arc-seal", "arc-message-signature", "arc-authentication-results", "status", "lines", "content-length":
		return true
	}
	return strings.HasPrefix(n, "x-")
}

// Write hashes p. It never fails.
func (f *Fingerprinter) Write(p []byte) (int, error) {
	n := len(p)
	if bytes.IndexByte(p, '\r') >= 0 {
		f.lf = f.lf[:0]
		for len(p) > 0 {
			i := bytes.IndexByte(p, '\r')
			if i < 0 {
				f.lf = append(f.lf, p...)
				break
			}
			f.lf = append(f.lf, p[:i]...)
			p = p[i+1:]
		}
		p = f.lf
	}
	for len(p) > 0 && !f.body {
		p = f.header(p)
	}
	f.h.Write(p)
	return n, nil
}

// header consumes header bytes of p up to the end of the current line (or of p) and returns the rest:
// all of it once the blank line that ends the header is reached.
func (f *Fingerprinter) header(p []byte) []byte {
	if f.lineBeg {
		f.lineBeg = false
		switch p[0] {
		case ' ', '\t': // a continuation: same fate as its field
		case '\n': // the blank line: the body follows
			f.body = true
			return p
		default:
			f.deciding, f.skip, f.name = true, false, f.name[:0]
		}
	}
	end := bytes.IndexByte(p, '\n')
	line := p
	if end >= 0 {
		line = p[:end+1]
	}
	rest := p[len(line):]
	if f.deciding {
		i := bytes.IndexByte(line, ':')
		switch {
		case i >= 0 && len(f.name)+i <= maxFieldName:
			f.name = append(f.name, line[:i]...)
			f.skip = TraceField(string(f.name))
			line = line[i:]
		case end < 0 && len(f.name)+len(line) <= maxFieldName: // the name goes on in the next chunk
			f.name = append(f.name, line...)
			return rest
		}
		// Else no name on this line (a broken header) or one too long to be a name: kept.
		f.deciding = false
		if !f.skip {
			f.h.Write(f.name)
		}
	}
	if !f.skip {
		f.h.Write(line)
	}
	f.lineBeg = end >= 0
	return rest
}

// Sum returns the fingerprint, hex.
func (f *Fingerprinter) Sum() string {
	if f.deciding {
		f.h.Write(f.name)
		f.deciding = false
	}
	return hex.EncodeToString(f.h.Sum(nil))
}

// FingerprintFile returns the fingerprint of the raw message at path.
func FingerprintFile(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("mailmsg: fingerprint: %w", err)
	}
	defer fh.Close()
	f := NewFingerprinter()
	if _, err := io.Copy(f, fh); err != nil {
		return "", fmt.Errorf("mailmsg: fingerprint: %w", err)
	}
	return f.Sum(), nil
}
