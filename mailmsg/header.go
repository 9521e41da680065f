package mailmsg

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// This file decodes the text that mail headers carry: RFC 2047 encoded words (merged across adjacent
// words, so a GBK character split between two words survives) and raw 8-bit GBK, with the charsets
// real Chinese mail uses. Go's mime package gives up on most of these. filename.go reads the
// parameters (RFC 2231) of structured fields with these.

const (
	// maxDecodedHeader bounds what one decoded header value may grow to.
	maxDecodedHeader = 64 << 10
	// maxWordText is the longest encoded-text accepted in one encoded word.
	maxWordText = 4096
)

// charsetDecoder returns a reader converting r from the named charset to UTF-8, or nil when the
// charset is unknown. The GB family (gb2312, gbk, cp936, ...) is always read as GB18030, its superset,
// because real mail labelled GB2312 routinely contains GBK and GB18030 characters.
func charsetDecoder(name string, r io.Reader) io.Reader {
	switch charsetFamily(name) {
	case "utf8", "us", "ansix3.41968", "iso646us", "unicode11utf8":
		return r
	case "gb18030":
		return simplifiedchinese.GB18030.NewDecoder().Reader(r)
	}
	dr, err := charset.Reader(strings.ToLower(strings.TrimSpace(name)), r)
	if err != nil {
		return nil
	}
	return dr
}

// charsetFamily names the decoder a charset label ends up with, so that adjacent encoded words
// labelled "gb2312" and "GBK" are joined before decoding like words with the same label.
func charsetFamily(name string) string {
	n := normCharset(name)
	switch n {
	case "gb2312", "gbk", "cp936", "xgbk", "gb18030", "euccn", "xeuccn", "csgb2312", "gb231280",
		"windows936", "ms936", "csgbk", "chinese", "isoir58":
		return "gb18030"
	case "", "utf8", "usascii", "ascii":
		return "utf8"
	}
	return n
}

// normCharset lowercases a charset name and drops the punctuation that mailers vary ("GB-2312", "utf_8").
func normCharset(name string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(strings.TrimSpace(name)) {
		if c == '-' || c == '_' || c == ' ' || c == '"' || c == '\'' {
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// decodeCharset converts b from the named charset to valid UTF-8. An unknown charset, or bytes that
// are not valid in the declared one, fall back to FixText.
func decodeCharset(name string, b []byte) string {
	if isUTF8Name(name) {
		if utf8.Valid(b) || normCharset(name) != "" && mostlyUTF8(b) {
			return strings.ToValidUTF8(string(b), "\uFFFD")
		}
		return FixText(string(b)) // labelled UTF-8 (or unlabelled) but really GBK
	}
	dr := charsetDecoder(name, bytes.NewReader(b))
	if dr == nil {
		return FixText(string(b))
	}
	out, err := io.ReadAll(io.LimitReader(dr, maxDecodedHeader))
	if err != nil {
		return FixText(string(b))
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

func isUTF8Name(name string) bool {
	switch normCharset(name) {
	case "", "utf8", "usascii", "ascii":
		return true
	}
	return false
}

// mostlyUTF8 reports whether most non-ASCII sequences in b are valid UTF-8.
func mostlyUTF8(b []byte) bool {
	good, bad := 0, 0
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n <= 1:
			bad++
		case n > 1:
			good++
		}
		b = b[n:]
	}
	return good > bad
}

// FixText returns s unchanged when it is valid UTF-8, else s read as GB18030 (raw 8-bit GBK is what
// Chinese mailers send when they do not encode at all).
func FixText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().String(s)
	if err != nil {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ToValidUTF8(out, "\uFFFD")
}

// DecodeHeader decodes an unstructured header value (Subject, a display name, a parameter value):
// raw 8-bit text is read as GB18030 when it is not UTF-8, then RFC 2047 encoded words are decoded,
// adjacent words in the same charset being joined at the byte level before the charset is applied.
func DecodeHeader(raw string) string {
	s := FixText(raw)
	if !strings.Contains(s, "=?") {
		return s
	}
	return decodeWords(s)
}

// encodedWord is one parsed "=?charset?enc?text?=".
type encodedWord struct {
	start, end int // byte offsets in the input
	charset    string
	data       []byte // transfer-decoded bytes, still in charset
}

// decodeWords decodes every RFC 2047 encoded word in s. It is lenient: words need not be separated by
// whitespace from surrounding text, base64 may lack padding, and an undecodable word is kept as is.
func decodeWords(s string) string {
	var out strings.Builder
	var run []byte
	inRun := false
	runCharset := ""
	flush := func() {
		if inRun {
			out.WriteString(decodeCharset(runCharset, run))
			run, inRun = nil, false
		}
	}
	pos := 0
	for pos < len(s) {
		w, ok := nextEncodedWord(s, pos)
		if !ok {
			break
		}
		between := s[pos:w.start]
		// Whitespace between two encoded words is not part of the text (RFC 2047 section 6.2).
		if inRun && strings.TrimSpace(between) == "" {
			if charsetFamily(w.charset) == charsetFamily(runCharset) {
				run = append(run, w.data...)
				pos = w.end
				continue
			}
			flush()
		} else {
			flush()
			out.WriteString(between)
		}
		run = append([]byte{}, w.data...)
		inRun = true
		runCharset = w.charset
		pos = w.end
	}
	flush()
	out.WriteString(s[pos:])
	return out.String()
}

// nextEncodedWord finds the next well-formed encoded word at or after from.
func nextEncodedWord(s string, from int) (encodedWord, bool) {
	for {
		i := strings.Index(s[from:], "=?")
		if i < 0 {
			return encodedWord{}, false
		}
		start := from + i
		w, ok := parseEncodedWord(s, start)
		if ok {
			return w, true
		}
		from = start + 2
	}
}

func parseEncodedWord(s string, start int) (encodedWord, bool) {
	rest := s[start+2:]
	q1 := strings.IndexByte(rest, '?')
	if q1 <= 0 || q1 > 64 {
		return encodedWord{}, false
	}
	cs := rest[:q1]
	if strings.ContainsAny(cs, " \t\r\n") {
		return encodedWord{}, false
	}
	if k := strings.IndexByte(cs, '*'); k >= 0 { // RFC 2231 language suffix
		cs = cs[:k]
	}
	rest = rest[q1+1:]
	if len(rest) < 2 || rest[1] != '?' {
		return encodedWord{}, false
	}
	enc := rest[0] | 0x20
	rest = rest[2:]
	// RFC 2047 caps a word at 75 characters; allow far more, but not a search to the end of every
	// value for every "=?" (quadratic on hostile input).
	e := strings.Index(rest[:min(len(rest), maxWordText)], "?=")
	if e < 0 {
		return encodedWord{}, false
	}
	text := rest[:e]
	if strings.ContainsAny(text, " \t\r\n") {
		return encodedWord{}, false
	}
	end := len(s) - len(rest) + e + 2
	var data []byte
	switch enc {
	case 'b':
		d, ok := decodeBase64Lenient(text)
		if !ok {
			return encodedWord{}, false
		}
		data = d
	case 'q':
		data = decodeQWord(text)
	default:
		return encodedWord{}, false
	}
	return encodedWord{start: start, end: end, charset: cs, data: data}, true
}

func decodeBase64Lenient(text string) ([]byte, bool) {
	text = strings.TrimRight(text, "=")
	d, err := base64.RawStdEncoding.DecodeString(text)
	if err != nil {
		d, err = base64.RawURLEncoding.DecodeString(text)
		if err != nil {
			return nil, false
		}
	}
	return d, true
}

func decodeQWord(text string) []byte {
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]):
			out = append(out, unhex(text[i+1])<<4|unhex(text[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out
}
