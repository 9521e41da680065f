package intake

import (
	"bytes"
	"encoding/base64"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// This file decodes the text that mail headers carry: RFC 2047 encoded words (merged across adjacent
// words, so a GBK character split between two words survives), RFC 2231 parameters with any charset
// and continuations, and raw 8-bit GBK. Go's mime package gives up on most of these.

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
// are not valid in the declared one, fall back to fixText.
func decodeCharset(name string, b []byte) string {
	if isUTF8Name(name) {
		if utf8.Valid(b) || normCharset(name) != "" && mostlyUTF8(b) {
			return strings.ToValidUTF8(string(b), "\uFFFD")
		}
		return fixText(string(b)) // labelled UTF-8 (or unlabelled) but really GBK
	}
	dr := charsetDecoder(name, bytes.NewReader(b))
	if dr == nil {
		return fixText(string(b))
	}
	out, err := io.ReadAll(io.LimitReader(dr, maxDecodedHeader))
	if err != nil {
		return fixText(string(b))
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

// fixText returns s unchanged when it is valid UTF-8, else s read as GB18030 (raw 8-bit GBK is what
// Chinese mailers send when they do not encode at all).
func fixText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().String(s)
	if err != nil {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ToValidUTF8(out, "\uFFFD")
}

// decodeHeaderText decodes an unstructured header value (Subject, a display name, a parameter value):
// raw 8-bit text is read as GB18030 when it is not UTF-8, then RFC 2047 encoded words are decoded,
// adjacent words in the same charset being joined at the byte level before the charset is applied.
func decodeHeaderText(raw string) string {
	s := fixText(raw)
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

// params holds the parsed parameters of a Content-Type or Content-Disposition value, decoded to UTF-8.
type params struct {
	values map[string]string // lowercased name → decoded value
	dups   []string          // names given more than once (the first occurrence wins)
}

func (p params) get(name string) string { return p.values[name] }

// rawParam is one "name=value" as it appeared, value unquoted but not decoded.
type rawParam struct {
	name  string
	value string
}

// parseHeaderParams splits a structured header value into its lowercased first token ("text/plain",
// "attachment") and parameters. It never fails: anything it cannot read is skipped.
// It decodes RFC 2231 extended parameters (filename*=gbk”%D6%D0), their continuations (filename*0*=,
// filename*1*=), RFC 2047 encoded words inside quoted values, and raw 8-bit GBK values.
func parseHeaderParams(v string) (string, params) {
	first, rest, _ := strings.Cut(v, ";")
	first = strings.ToLower(strings.TrimSpace(first))
	if i := strings.IndexAny(first, " \t("); i >= 0 { // "text/plain (comment)", "text/html charset=..."
		first = first[:i]
	}
	first = strings.Trim(first, `"'`)
	raws := splitParams(rest)

	p := params{values: map[string]string{}}
	seen := map[string]bool{}
	type segment struct {
		index   int
		encoded bool
		value   string
	}
	extended := map[string][]segment{}
	var extOrder []string
	for _, r := range raws {
		name := r.name
		star := strings.IndexByte(name, '*')
		if star < 0 {
			if seen[name] {
				p.dups = append(p.dups, name)
				continue
			}
			seen[name] = true
			p.values[name] = decodeHeaderText(r.value)
			continue
		}
		base, suffix := name[:star], name[star+1:]
		seg := segment{value: r.value}
		switch {
		case suffix == "": // name*=charset'lang'value
			seg.encoded = true
		default:
			numStr := strings.TrimSuffix(suffix, "*")
			seg.encoded = strings.HasSuffix(suffix, "*")
			n, err := strconv.Atoi(numStr)
			if err != nil || n < 0 || n > 999 {
				continue
			}
			seg.index = n
		}
		if _, ok := extended[base]; !ok {
			extOrder = append(extOrder, base)
		}
		extended[base] = append(extended[base], seg)
	}
	for _, base := range extOrder {
		segs := extended[base]
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].index < segs[j].index })
		// Encoded segments are joined before percent-decoding, so that an escape split across two
		// segments (which RFC 2231 forbids, but happens) still decodes.
		var joined strings.Builder
		cs := ""
		last := -1
		anyEncoded := false
		for i, s := range segs {
			if s.index == last { // duplicate segment: first wins
				continue
			}
			last = s.index
			val := s.value
			if s.encoded {
				anyEncoded = true
				if i == 0 {
					if a := strings.IndexByte(val, '\''); a >= 0 {
						if b := strings.IndexByte(val[a+1:], '\''); b >= 0 {
							cs = val[:a]
							val = val[a+1+b+1:]
						}
					}
				}
				joined.WriteString(val)
			} else {
				joined.WriteString(strings.ReplaceAll(val, "%", "%25"))
			}
		}
		buf := percentDecode(joined.String())
		var dec string
		if anyEncoded && cs != "" {
			dec = decodeCharset(cs, buf)
		} else {
			dec = fixText(string(buf))
		}
		if strings.Contains(dec, "=?") { // encoded words inside RFC 2231 continuations (seen from Outlook)
			dec = decodeWords(dec)
		}
		if dec == "" {
			continue
		}
		// An extended value wins over a plain one of the same name: it is the one meant to be exact.
		p.values[base] = dec
	}
	return first, p
}

// splitParams reads "; a=b; c="d e"" into raw parameters. Quoted values keep backslash escapes
// resolved; an unterminated quote runs to the end.
func splitParams(s string) []rawParam {
	var out []rawParam
	i := 0
	for i < len(s) && len(out) < 200 {
		for i < len(s) && (s[i] == ';' || s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
			i++
		}
		if i >= len(s) {
			break
		}
		eq := strings.IndexAny(s[i:], "=;")
		if eq < 0 {
			break
		}
		if s[i+eq] == ';' { // a bare token without value
			i += eq + 1
			continue
		}
		name := strings.ToLower(strings.TrimSpace(s[i : i+eq]))
		i += eq + 1
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		var val string
		if i < len(s) && s[i] == '"' {
			i++
			var b strings.Builder
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			i++ // closing quote
			val = b.String()
			// Skip anything between the closing quote and the next ';'.
			if j := strings.IndexByte(s[min(i, len(s)):], ';'); j >= 0 {
				i += j
			} else {
				i = len(s)
			}
		} else {
			j := strings.IndexByte(s[i:], ';')
			if j < 0 {
				j = len(s) - i
			}
			val = strings.TrimSpace(s[i : i+j])
			i += j
		}
		if name == "" || strings.ContainsAny(name, " \t\"") {
			continue
		}
		out = append(out, rawParam{name: name, value: val})
	}
	return out
}

// percentDecode decodes %XX escapes; malformed escapes are kept literally.
func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

// cleanFilename removes NUL and other control characters and surrounding spaces from a decoded
// filename. Path separators and dots stay: the caller decides what is safe on disk.
func cleanFilename(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// filenameOf returns a part's decoded filename: Content-Disposition filename, else Content-Type name.
func filenameOf(disp, ctype params) string {
	if f := cleanFilename(disp.get("filename")); f != "" {
		return f
	}
	return cleanFilename(ctype.get("name"))
}
