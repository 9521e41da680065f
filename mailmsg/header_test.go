package mailmsg

import (
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/text/encoding/traditionalchinese"

	"briefd/internal/mailtest"
)

var gbk = mailtest.GBK

func pct(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteString("%")
		b.WriteString(strings.ToUpper(string("0123456789abcdef"[s[i]>>4]) + string("0123456789abcdef"[s[i]&15])))
	}
	return b.String()
}

func b64w(cs, s string) string {
	return "=?" + cs + "?B?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
}

func TestFilenameForms(t *testing.T) {
	const name = "忻府区简报.pdf"
	g := gbk(name)
	big5, _ := traditionalchinese.Big5.NewEncoder().String("職教簡報.pdf")
	tests := []struct {
		name  string
		ctype string
		disp  string
		want  string
	}{
		{"plain ascii", `application/pdf; name="report.pdf"`, "", "report.pdf"},
		{"unquoted", `application/pdf; name=report.pdf`, "", "report.pdf"},
		{"disposition wins over name", `application/pdf; name="a.pdf"`, `attachment; filename="b.pdf"`, "b.pdf"},
		{"GB18030 encoded word in quotes (Foxmail)", `application/octet-stream; name="` + b64w("GB18030", g) + `"`, "", name},
		{"gb2312 label holding GBK", `application/pdf; name="` + b64w("gb2312", gbk("镕基简报.pdf")) + `"`, "", "镕基简报.pdf"},
		{"utf-8 Q word", `application/pdf; name="=?utf-8?Q?=E7=AE=80=E6=8A=A5.pdf?="`, "", "简报.pdf"},
		{"encoded word unquoted", `application/pdf; name=` + b64w("UTF-8", name), "", name},
		{"Big5", `application/pdf; name="` + b64w("big5", big5) + `"`, "", "職教簡報.pdf"},
		{"split encoded words, GBK char split", `application/pdf; name="` + b64w("gbk", g[:3]) + " " + b64w("gbk", g[3:]) + `"`, "", name},
		{"split encoded words folded", `application/pdf; name="` + b64w("GB18030", g[:5]) + "\r\n\t" + b64w("gb18030", g[5:]) + `"`, "", name},
		{"split words, gb2312 then GBK label", `application/pdf; name="` + b64w("gb2312", g[:3]) + " " + b64w("GBK", g[3:]) + `"`, "", name},
		{"split words, different charsets", `application/pdf; name="` + b64w("utf-8", "简") + " " + b64w("gbk", gbk("报.pdf")) + `"`, "", "简报.pdf"},
		{"RFC 2231 utf-8", "", `attachment; filename*=UTF-8''` + pct(name), name},
		{"RFC 2231 gbk (Go's mime returns empty)", "", `attachment; filename*=gbk''` + pct(g), name},
		{"RFC 2231 gb18030 quoted", "", `attachment; filename*="GB18030''` + pct(g) + `"`, name},
		{"RFC 2231 with language", "", `attachment; filename*=utf-8'zh-cn'` + pct(name), name},
		{"RFC 2231 continuations", "", `attachment; filename*0*=utf-8''` + pct(name)[:27] + `; filename*1*=` + pct(name)[27:], name},
		{"RFC 2231 continuations out of order", "", `attachment; filename*1*=` + pct(name)[27:] + `; filename*0*=utf-8''` + pct(name)[:27], name},
		{"RFC 2231 continuation, escape split", "", `attachment; filename*0*=utf-8''` + pct(name)[:26] + `; filename*1*=` + pct(name)[26:], name},
		{"RFC 2231 mixed plain continuation", "", `attachment; filename*0*=utf-8''` + pct("简报") + `; filename*1="_100%.pdf"`, "简报_100%.pdf"},
		{"RFC 2231 plain continuations with encoded word", "", `attachment; filename*0="=?UTF-8?B?5b+75bqc"; filename*1="5Yy6566A5oqlLnBkZg==?="`, name},
		{"extended wins over plain", "", `attachment; filename="fallback.pdf"; filename*=utf-8''` + pct(name), name},
		{"raw 8-bit GBK", `application/pdf; name="` + g + `"`, "", name},
		{"raw 8-bit UTF-8", `application/pdf; name="` + name + `"`, "", name},
		{"duplicate params: first wins", "", `attachment; filename="one.pdf"; filename="two.pdf"`, "one.pdf"},
		{"NUL stripped", "", "attachment; filename=\"a\x00b.pdf\"", "ab.pdf"},
		{"path kept for the caller", "", `attachment; filename="../../x.pdf"`, "../../x.pdf"},
		{"backslash escape", "", `attachment; filename="a\"b.pdf"`, `a"b.pdf`},
		{"unterminated quote", "", `attachment; filename="unterminated.pdf`, "unterminated.pdf"},
		{"no name", "application/pdf", "attachment", ""},
		{"broken encoded word kept", `application/pdf; name="=?utf-8?B?***?=.pdf"`, "", "=?utf-8?B?***?=.pdf"},
		{"unknown charset", `application/pdf; name="=?x-klingon?B?YWJj?="`, "", "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, cp := parseHeaderParams(tc.ctype)
			_, dp := parseHeaderParams(tc.disp)
			if got := filenameOf(dp, cp); got != tc.want {
				t.Errorf("filename = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFilenameInMessage(t *testing.T) {
	// The same forms survive the whole parse: header folding, part headers, spooling.
	g := gbk("忻府区简报.pdf")
	raw := "From: a@example.cn\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n" +
		"--zz\r\nContent-Type: application/pdf;\r\n name=\"" + b64w("gbk", g[:3]) + "\r\n " + b64w("gbk", g[3:]) + "\"\r\n\r\n%PDF\r\n" +
		"--zz\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment;\r\n filename*0*=gbk''" + pct(g)[:12] + ";\r\n filename*1*=" + pct(g)[12:] + "\r\n\r\n%PDF\r\n" +
		"--zz\r\nContent-Type: application/pdf; name=\"" + g + "\"\r\n\r\n%PDF\r\n--zz--\r\n"
	m := mustParse(t, raw, ParseOptions{})
	if len(m.Attachments) != 3 {
		t.Fatalf("%d attachments, want 3", len(m.Attachments))
	}
	for i, a := range m.Attachments {
		if a.Filename != "忻府区简报.pdf" {
			t.Errorf("attachment %d: filename %q", i, a.Filename)
		}
	}
}

func TestDecodeHeaderText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"=?UTF-8?B?566A5oql?=", "简报"},
		{"Re: =?UTF-8?B?566A5oql?= (2)", "Re: 简报 (2)"},
		{"=?UTF-8?B?566A?= =?UTF-8?B?5oql?=", "简报"},
		{"=?UTF-8?Q?a_b?= =?UTF-8?Q?_c?=", "a b c"},
		{"=?UTF-8?B?566A5oql?=  text", "简报  text"},
		{gbk("简报"), "简报"},
		{"=?gb2312?B?" + base64.StdEncoding.EncodeToString([]byte(gbk("简报"))) + "?=", "简报"},
		{"=?UTF-8?B?5Z", "=?UTF-8?B?5Z"},
		{"a =?utf-8?b?566A5oql?=b", "a 简报b"},
	}
	for _, tc := range tests {
		if got := DecodeHeader(tc.in); got != tc.want {
			t.Errorf("DecodeHeader(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseFromHeader(t *testing.T) {
	tests := []struct{ in, addr, name string }{
		{`"Zhang San" <Zhang@Example.CN>`, "zhang@example.cn", "Zhang San"},
		{`=?UTF-8?B?5byg5LiJ?= <zs@example.cn>`, "zs@example.cn", "张三"},
		{`"=?GB18030?B?1cXI/Q==?=" <zs@example.cn>`, "zs@example.cn", "张三"},
		{`zs@example.cn (张三)`, "zs@example.cn", "张三"},
		{`zs@example.cn`, "zs@example.cn", ""},
		{`<>`, "", ""},
		{`"a, b" <ab@example.cn>, c@example.cn`, "ab@example.cn", "a, b"},
		{`first@example.cn, second@example.cn`, "first@example.cn", ""},
		{gbk("张三") + ` <zs@example.cn>`, "zs@example.cn", "张三"},
		{`MAILER-DAEMON (Mail Delivery System)`, "mailer-daemon", "Mail Delivery System"},
		{`"unterminated <zs@example.cn>`, "zs@example.cn", ""},
	}
	for _, tc := range tests {
		addr, name := parseFrom(tc.in)
		if addr != tc.addr || name != tc.name {
			t.Errorf("parseFrom(%q) = %q, %q; want %q, %q", tc.in, addr, name, tc.addr, tc.name)
		}
	}
}
