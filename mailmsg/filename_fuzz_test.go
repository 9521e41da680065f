package mailmsg

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzFilename feeds Content-Disposition and Content-Type values to the parameter parser and filename
// decoder (RFC 2231 continuations and charsets, RFC 2047 words, raw GBK). Whatever comes in, the filename
// is valid UTF-8 without control characters, and not wildly longer than the input. Seeds: the forms real
// clients send, and testdata/fuzz/FuzzFilename/.
func FuzzFilename(f *testing.F) {
	seeds := [][2]string{
		{`attachment; filename="report.pdf"`, `application/pdf`},
		{`attachment; filename*=UTF-8''%E5%BF%BB%E5%BA%9C.pdf`, `application/pdf`},
		{`attachment; filename*=gbk''%D6%D0%CE%C4.pdf`, `application/octet-stream`},
		{`attachment; filename*0*=UTF-8''%E7%AE%80; filename*1*=%E6%8A%A5.pdf`, ``},
		{`attachment; filename="=?GB18030?B?vPK xqA==?="`, `application/pdf; name="=?GB18030?B?vPKxqA==?="`},
		{"attachment; filename=\"\xd6\xd0\xce\xc4.pdf\"", ``},
		{`attachment; filename="../../etc/passwd"`, ``},
		{"attachment; filename=\"a\x00b.pdf\"", ``},
		{"attachment; filename=\"\u202Efdp.exe\"", ``},
		{`attachment; filename="` + strings.Repeat("长", 1000) + `.pdf"`, ``},
		{`inline`, `application/pdf; name=x.pdf; name=y.pdf`},
		{`attachment; filename*=''; filename*0=; filename*99999999999=x`, `;;;=;"`},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, disp, ctype string) {
		_, dp := parseHeaderParams(disp)
		_, cp := parseHeaderParams(ctype)
		name := filenameOf(dp, cp)
		if !utf8.ValidString(name) {
			t.Errorf("filename %q is not valid UTF-8", name)
		}
		if strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Errorf("filename %q holds a control character", name)
		}
		if limit := 4*(len(disp)+len(ctype)) + 16; len(name) > limit {
			t.Errorf("filename of %d bytes from %d bytes of header", len(name), len(disp)+len(ctype))
		}
		for _, s := range []string{disp, ctype} {
			if d := DecodeHeader(s); !utf8.ValidString(d) {
				t.Errorf("DecodeHeader(%q) = %q, not valid UTF-8", s, d)
			}
		}
	})
}
