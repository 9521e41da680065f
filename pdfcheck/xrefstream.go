package pdfcheck

import (
	"bytes"
	"compress/flate"
	"io"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Poppler reads a cross-reference stream's entries through its own decoders, which never fail on bad
// ASCII85 or hex digits (they decode garbage) but end the data at the first error in Flate data. It
// gives up on the section, and rebuilds the whole table by scanning, when the data ends before the
// entries the dictionary declares; without a "trailer" keyword in the file that rebuild fails. pdfcpu
// repairs such files by itself, so whether poppler reads the stream is decided here.

// maxXRefStream bounds the decoded data looked at: a cross-reference stream of 8 M entries of 20 bytes.
const maxXRefStream = 160 << 20

// xrefStreamReadable reports whether poppler reads every entry of the cross-reference stream with
// dictionary d, whose "stream" keyword follows at dictEnd.
func xrefStreamReadable(r io.ReaderAt, size int64, d types.Dict, dictEnd int64) bool {
	if d == nil {
		return false
	}
	n, ok := intOf(lookup(d, "Size", nil))
	if !ok || n < 0 {
		return false
	}
	w, ok := lookup(d, "W", nil).(types.Array)
	if !ok || len(w) < 3 {
		return false
	}
	width := int64(0)
	for i, max := range []int64{4, 8, 8} {
		v, ok := intOf(w[i])
		if !ok || v < 0 || v > max {
			return false
		}
		width += v
	}
	entries := n
	if idx, ok := lookup(d, "Index", nil).(types.Array); ok {
		entries = 0
		for i := 0; i+1 < len(idx); i += 2 {
			first, ok1 := intOf(idx[i])
			count, ok2 := intOf(idx[i+1])
			if !ok1 || !ok2 || first < 0 || count < 0 || count > maxObjNum {
				return false
			}
			entries += count
		}
	}
	if entries > maxObjNum {
		return false
	}
	need := entries * width
	length, ok := intOf(lookup(d, "Length", nil)) // poppler reads it before there is a table to look it up in
	if !ok || length < 0 {
		return need == 0
	}
	// the data starts on the line after "stream"
	head := make([]byte, 64)
	k, _ := r.ReadAt(head, dictEnd)
	at := bytes.Index(head[:k], []byte("stream"))
	if at < 0 {
		return false
	}
	start := dictEnd + int64(at) + 6
	if i := bytes.IndexByte(head[at+6:k], '\n'); i >= 0 {
		start += int64(i) + 1
	} else if i := bytes.IndexByte(head[at+6:k], '\r'); i >= 0 {
		start += int64(i) + 1
	}
	length = min(length, size-start, maxXRefStream)
	if length < 0 {
		return need == 0
	}
	data := make([]byte, length)
	m, _ := r.ReadAt(data, start)
	data = data[:m]

	filters, parms := filterChain(d)
	for i, name := range filters {
		switch name {
		case "FlateDecode", "Fl":
			data = inflatePoppler(data)
			if p, ok := parms[i].(types.Dict); ok {
				data = data[:pngRows(p, len(data))]
			}
		case "ASCII85Decode", "A85":
			data = ascii85Poppler(data)
		case "ASCIIHexDecode", "AHx":
			data = asciiHexPoppler(data)
		default:
			return true // a filter not looked at here: assume poppler reads it
		}
	}
	return int64(len(data)) >= need
}

// filterChain returns the stream's filter names and their parameters (nil where there are none).
func filterChain(d types.Dict) ([]string, []types.Object) {
	var names []string
	switch f := lookup(d, "Filter", nil).(type) {
	case types.Name:
		names = []string{f.Value()}
	case types.Array:
		for _, o := range f {
			if n, ok := o.(types.Name); ok {
				names = append(names, n.Value())
			}
		}
	}
	parms := make([]types.Object, len(names))
	switch p := lookup(d, "DecodeParms", nil).(type) {
	case types.Dict:
		if len(parms) > 0 {
			parms[0] = p
		}
	case types.Array:
		for i := range min(len(p), len(parms)) {
			parms[i] = p[i]
		}
	}
	return names, parms
}

// inflatePoppler decodes zlib data as poppler's FlateStream does: the header must name deflate, have a
// valid check and no preset dictionary, and the data ends at the first error; the checksum is not read.
func inflatePoppler(b []byte) []byte {
	if len(b) < 2 || b[0]&0x0f != 8 || (int(b[0])<<8+int(b[1]))%31 != 0 || b[1]&0x20 != 0 {
		return nil
	}
	out, _ := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(b[2:])), maxXRefStream))
	return out
}

// pngRows returns how many bytes of data a PNG predictor (Predictor >= 10) leaves in whole rows, or
// len(data) for no or another predictor.
func pngRows(p types.Dict, n int) int {
	pred, ok := intOf(lookup(p, "Predictor", nil))
	if !ok || pred < 10 {
		return n
	}
	param := func(key string, def int64) int64 {
		if v, ok := intOf(lookup(p, key, nil)); ok && v > 0 && v < 1<<16 {
			return v
		}
		return def
	}
	cols := (param("Columns", 1)*param("Colors", 1)*param("BitsPerComponent", 8) + 7) / 8
	rows := int64(n) / (cols + 1) // each row has a predictor tag byte
	return int(min(rows*cols, int64(n)))
}

// ascii85Poppler decodes ASCII85 as poppler does: white space skipped, "z" for four zeros, any other
// character taken as a digit whatever its value, up to "~" or the end.
func ascii85Poppler(b []byte) []byte {
	var out []byte
	i := 0
	next := func() (byte, bool) {
		for i < len(b) {
			c := b[i]
			i++
			if !isSpace(c) && c != 0 {
				return c, true
			}
		}
		return 0, false
	}
	for {
		c, ok := next()
		if !ok || c == '~' {
			return out
		}
		if c == 'z' {
			out = append(out, 0, 0, 0, 0)
			continue
		}
		group := [5]byte{c, 0x21 + 84, 0x21 + 84, 0x21 + 84, 0x21 + 84}
		k := 1
		for ; k < 5; k++ {
			c, ok := next()
			if !ok || c == '~' {
				break
			}
			group[k] = c
		}
		var t uint32
		for _, g := range group {
			t = t*85 + uint32(g-0x21)
		}
		word := []byte{byte(t >> 24), byte(t >> 16), byte(t >> 8), byte(t)}
		out = append(out, word[:k-1]...)
		if k < 5 {
			return out
		}
	}
}

// asciiHexPoppler decodes ASCIIHex as poppler does: white space skipped, up to ">" or the end.
func asciiHexPoppler(b []byte) []byte {
	var out []byte
	var nib []byte
	for _, c := range b {
		if c == '>' {
			break
		}
		if isSpace(c) || c == 0 {
			continue
		}
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		}
		if nib = append(nib, v); len(nib) == 2 {
			out = append(out, nib[0]<<4|nib[1])
			nib = nib[:0]
		}
	}
	if len(nib) == 1 {
		out = append(out, nib[0]<<4)
	}
	return out
}
