package mailmsg

import (
	"sort"
	"strconv"
	"strings"
)

// This file reads the parameters of structured header fields (Content-Type, Content-Disposition) and
// the filenames in them, in every form mailers write: RFC 2231 extended values in any charset and with
// continuations, RFC 2047 encoded words inside quotes (QQ, Foxmail), raw 8-bit GBK.

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
			p.values[name] = DecodeHeader(r.value)
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
			dec = FixText(string(buf))
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

// CleanFilename removes NUL and other control characters and surrounding spaces from a decoded
// filename. Path separators and dots stay: the caller decides what is safe on disk.
func CleanFilename(s string) string {
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
	if f := CleanFilename(disp.get("filename")); f != "" {
		return f
	}
	return CleanFilename(ctype.get("name"))
}
