package mailmsg

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/mail")

// testOurs and testMarker are the office address and Message-ID marker the corpus is classified with.
var (
	testOurs   = []string{"xzszjk@example.cn"}
	testMarker = "briefd"
)

// golden is the part of a parsed Message compared with testdata/mail/*.golden.json.
type golden struct {
	From        string       `json:"from"`
	FromName    string       `json:"from_name"`
	Subject     string       `json:"subject"`
	Date        string       `json:"date"`
	MessageID   string       `json:"message_id"`
	InReplyTo   string       `json:"in_reply_to,omitempty"`
	References  []string     `json:"references,omitempty"`
	ContentType string       `json:"content_type"`
	Report      bool         `json:"report,omitempty"`
	Auth        string       `json:"auth"`
	Attachments []Attachment `json:"attachments"`
	Links       []string     `json:"links,omitempty"`
	Text        string       `json:"text"`
	Problems    []string     `json:"problems,omitempty"`
	Classify    string       `json:"classify"`
}

func goldenOf(m *Message) golden {
	g := golden{
		From: m.From, FromName: m.FromName, Subject: m.Subject, MessageID: m.MessageID,
		InReplyTo: m.InReplyTo, References: m.References, ContentType: m.ContentType, Report: m.Report,
		Auth: m.Auth, Links: m.Links, Text: m.Text, Problems: m.Problems, Classify: Classify(m, testOurs, testMarker),
		Attachments: []Attachment{},
	}
	if !m.Date.IsZero() {
		g.Date = m.Date.Format(time.RFC3339)
	}
	for _, a := range m.Attachments {
		a.Path = ""
		g.Attachments = append(g.Attachments, a)
	}
	return g
}

func TestParseCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/mail/*.eml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no .eml files in testdata/mail")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			spool := t.TempDir()
			// The samples were received by mx.example.cn, the office's provider.
			m, err := Parse(bytes.NewReader(raw), spool, ParseOptions{MaxAttachment: 1 << 20, AuthServIDs: []string{"example.cn"}})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			// Every kept attachment's spooled file holds exactly the bytes that were hashed.
			for _, a := range m.Attachments {
				if a.TooLarge {
					continue
				}
				b, err := os.ReadFile(a.Path)
				if err != nil {
					t.Fatalf("spooled file of %q: %v", a.Filename, err)
				}
				sum := sha256.Sum256(b)
				if int64(len(b)) != a.Size || hex.EncodeToString(sum[:]) != a.SHA256 {
					t.Errorf("%q: spooled %d bytes, sha %x; recorded %d, %s", a.Filename, len(b), sum, a.Size, a.SHA256)
				}
			}
			var out bytes.Buffer
			enc := json.NewEncoder(&out)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(goldenOf(m)); err != nil {
				t.Fatal(err)
			}
			got := out.Bytes()
			m.Cleanup()
			if left, _ := os.ReadDir(spool); len(left) != 0 {
				t.Errorf("Cleanup left %d files in the spool", len(left))
			}
			gfile := strings.TrimSuffix(file, ".eml") + ".golden.json"
			if *update {
				if err := os.WriteFile(gfile, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(gfile)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("parsed message differs from %s (run with -update after checking):\n--- got\n%s\n--- want\n%s", gfile, got, want)
			}
		})
	}
}

// pdfBytes is a small valid one-page PDF.
func pdfBytes(title string) []byte {
	content := "BT /F1 18 Tf 72 720 Td (" + title + ") Tj ET"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return b.Bytes()
}

func mustParse(t testing.TB, raw string, opts ParseOptions) *Message {
	t.Helper()
	m, err := Parse(strings.NewReader(raw), t.TempDir(), opts)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	t.Cleanup(m.Cleanup)
	return m
}

func TestParseNotAMessage(t *testing.T) {
	for name, raw := range map[string]string{
		"empty":       "",
		"blank lines": "\r\n\r\n",
		"binary":      "\x00\x01\x02\xff\xfe",
		"no colon":    "hello world\nthis is not mail\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(raw), t.TempDir(), ParseOptions{})
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

type failingReader struct{ after int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk on fire")
	}
	n := min(len(p), f.after)
	for i := range p[:n] {
		p[i] = 'A'
	}
	f.after -= n
	return n, nil
}

func TestParseReadErrorIsNotMalformed(t *testing.T) {
	hdr := "From: a@b.c\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	spool := t.TempDir()
	_, err := Parse(io.MultiReader(strings.NewReader(hdr), &failingReader{after: 100000}), spool, ParseOptions{})
	if err == nil || errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v, want the read error", err)
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("%d spooled files left after a failed parse", len(left))
	}
}

func TestParseBadInput(t *testing.T) {
	pdf := base64.StdEncoding.EncodeToString(pdfBytes("x"))
	nested := func(depth int) string {
		var b strings.Builder
		b.WriteString("From: a@example.cn\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
		for i := 1; i < depth; i++ {
			fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i-1, i)
		}
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: application/pdf; name=deep.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n", depth-1, pdf)
		for i := depth - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "--b%d--\r\n", i)
		}
		return b.String()
	}
	manyParts := func(n int) string {
		var b strings.Builder
		b.WriteString("From: a@example.cn\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "--p\r\nContent-Type: application/pdf; name=p%d.pdf\r\n\r\n%%PDF-1.4 %d\r\n", i, i)
		}
		b.WriteString("--p--\r\n")
		return b.String()
	}
	tests := []struct {
		name        string
		raw         string
		opts        ParseOptions
		attachments int
		problem     string // a substring of one of the problems; "" for none expected
	}{
		{"1 MB header line", "From: a@example.cn\r\nSubject: " + strings.Repeat("长", 350000) + "\r\nContent-Type: application/pdf; name=a.pdf\r\n\r\n%PDF\r\n",
			ParseOptions{}, 1, "field longer than 64 KiB truncated"},
		{"1 MB header line in a part", "From: a@example.cn\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: application/pdf; name=a.pdf\r\nX-Junk: " + strings.Repeat("x", 1<<20) + "\r\n\r\n%PDF\r\n--q--\r\n",
			ParseOptions{}, 1, "part 1 header: field longer"},
		{"5000 parts, default limit", manyParts(5000), ParseOptions{}, 1000, "more than 1000 parts"},
		{"5000 parts, higher limit", manyParts(5000), ParseOptions{MaxParts: 6000}, 5000, ""},
		{"nesting 100 deep", nested(100), ParseOptions{}, 0, "nested deeper than 20 levels"},
		{"nesting 15 deep", nested(15), ParseOptions{}, 1, ""},
		{"headers without colons", "From: a@example.cn\r\nno colon here\r\nanother one\r\nContent-Type: application/pdf; name=a.pdf\r\n\r\n%PDF\r\n",
			ParseOptions{}, 1, "2 line(s) without a colon"},
		{"unknown transfer encoding keeps later parts", "From: a@example.cn\r\nContent-Type: multipart/mixed; boundary=u\r\n\r\n--u\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: x-foo\r\n\r\nabc\r\n--u\r\nContent-Type: application/pdf; name=b.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + pdf + "\r\n--u--\r\n",
			ParseOptions{}, 2, `unknown transfer encoding "x-foo"`},
		{"bad base64 keeps what decodes", "From: a@example.cn\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + pdf[:100] + "!!!\r\n" + pdf[100:] + "\r\n",
			ParseOptions{}, 1, ""},
		{"boundary never found", "From: a@example.cn\r\nContent-Type: multipart/mixed; boundary=nope\r\n\r\nsome text\r\n", ParseOptions{}, 0, "with no parts"},
		{"multipart without boundary", "From: a@example.cn\r\nContent-Type: multipart/mixed\r\n\r\nsome text\r\n", ParseOptions{}, 0, "without a boundary"},
		{"too large", "From: a@example.cn\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + pdf + "\r\n", ParseOptions{MaxAttachment: 100}, 1, ""},
		{"garbage content type", "From: a@example.cn\r\nContent-Type: ;;;\r\n\r\nhello\r\n", ParseOptions{}, 0, "unreadable Content-Type"},
		{"header only, no body", "From: a@example.cn\r\nSubject: x", ParseOptions{}, 0, ""},
		{"forward nested in forward", "From: a@example.cn\r\nContent-Type: message/rfc822\r\n\r\nFrom: b@example.cn\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			base64.StdEncoding.EncodeToString([]byte("From: c@example.cn\r\nContent-Type: application/pdf; name=inner.pdf\r\n\r\n%PDF-1.4\r\n")) + "\r\n",
			ParseOptions{}, 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mustParse(t, tc.raw, tc.opts)
			if len(m.Attachments) != tc.attachments {
				t.Errorf("%d attachments, want %d; problems %q", len(m.Attachments), tc.attachments, m.Problems)
			}
			found := tc.problem == ""
			for _, p := range m.Problems {
				if tc.problem != "" && strings.Contains(p, tc.problem) {
					found = true
				}
			}
			if !found {
				t.Errorf("problems %q, want one containing %q", m.Problems, tc.problem)
			}
			if tc.problem == "" && len(m.Problems) > 0 && tc.name != "bad base64 keeps what decodes" {
				t.Errorf("unexpected problems %q", m.Problems)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 50000)
	raw := "From: a@example.cn\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString(data) + "\r\n"
	spool := t.TempDir()
	m, err := Parse(strings.NewReader(raw), spool, ParseOptions{MaxAttachment: 1000})
	if err != nil {
		t.Fatal(err)
	}
	a := m.Attachments[0]
	sum := sha256.Sum256(data)
	if !a.TooLarge || a.Path != "" || a.Size != int64(len(data)) || a.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("attachment %+v, want TooLarge, no path, full size and hash", a)
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("%d files left in the spool for a too-large part", len(left))
	}
}

func TestParseInlineRules(t *testing.T) {
	raw := "From: a@example.cn\r\nContent-Type: multipart/related; boundary=r\r\n\r\n" +
		"--r\r\nContent-Type: text/html\r\n\r\n<img src=\"cid:logo\">\r\n" +
		"--r\r\nContent-Type: image/png; name=logo.png\r\nContent-Disposition: inline; filename=logo.png\r\nContent-ID: <logo>\r\n\r\nPNG\r\n" +
		"--r\r\nContent-Type: image/gif\r\nContent-ID: <x>\r\n\r\nGIF\r\n" +
		"--r\r\nContent-Type: image/jpeg; name=scan.jpg\r\nContent-Disposition: attachment; filename=scan.jpg\r\nContent-ID: <scan>\r\n\r\nJPG\r\n" +
		"--r\r\nContent-Type: image/jpeg; name=photo.jpg\r\n\r\nJPG\r\n" +
		"--r\r\nContent-Type: application/pdf\r\nContent-Disposition: inline; filename=inline.pdf\r\n\r\n%PDF\r\n" +
		"--r\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Disposition: attachment; filename=smime.p7s\r\n\r\nsig\r\n" +
		"--r\r\nContent-Type: text/plain; name=notes.txt\r\n\r\nnotes\r\n" +
		"--r--\r\n"
	m := mustParse(t, raw, ParseOptions{})
	var names []string
	for _, a := range m.Attachments {
		names = append(names, fmt.Sprintf("%s inline=%v", a.Filename, a.Inline))
	}
	want := []string{"scan.jpg inline=false", "photo.jpg inline=false", "inline.pdf inline=true", "notes.txt inline=false"}
	if strings.Join(names, ", ") != strings.Join(want, ", ") {
		t.Errorf("attachments %q, want %q", names, want)
	}
}

func TestParseLinks(t *testing.T) {
	long := strings.Repeat("filler text 填充 ", 20000) // pushes links across scan chunks
	raw := "From: a@example.cn\r\nContent-Type: multipart/alternative; boundary=l\r\n\r\n" +
		"--l\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + long + "链接：https://pan.baidu.com/s/1xYz 提取码：abcd\r\nhttps://example.com/not-a-cloud-link\r\n" +
		"--l\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"<a href=3D\"https://wx.mail.qq.com/ftn/download?func=3D3&amp;k=3Dabc&amp;key=3D=\r\ndef\">x</a>" + long +
		"<a href='https://mail.163.com/large-attachment-download/index.html?p=3DX&amp;file=3Dy'>y</a>" +
		"<a href=3D\"https://pan.baidu.com/s/1xYz\">dup</a>\r\n" +
		"--l--\r\n"
	m := mustParse(t, raw, ParseOptions{})
	want := []string{
		"https://pan.baidu.com/s/1xYz",
		"https://wx.mail.qq.com/ftn/download?func=3&k=abc&key=def",
		"https://mail.163.com/large-attachment-download/index.html?p=X&file=y",
	}
	if strings.Join(m.Links, "\n") != strings.Join(want, "\n") {
		t.Errorf("links\n%s\nwant\n%s", strings.Join(m.Links, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseCloudLinkSplitAcrossChunks(t *testing.T) {
	for pad := 65536 - 40; pad < 65536+4; pad++ {
		raw := "From: a@example.cn\r\n\r\n" + strings.Repeat("x", pad) + " https://pan.baidu.com/s/1Chunk end\r\n"
		m := mustParse(t, raw, ParseOptions{})
		if len(m.Links) != 1 || m.Links[0] != "https://pan.baidu.com/s/1Chunk" {
			t.Fatalf("pad %d: links %q", pad, m.Links)
		}
	}
}

func TestParseEnvelope(t *testing.T) {
	raw := "From: =?GB18030?B?1cXI/Q==?= <ZS@Example.CN>\r\n" +
		"Subject: =?gbk?B?vPKxqA==?=\r\n" +
		"Date: Mon, 10 Jan 2022 14:32:05 +0800 (CST)\r\n" +
		"Message-ID: bare-id@example.cn\r\n" +
		"In-Reply-To: <r1@briefd.example.cn> (comment)\r\n" +
		"References: <r0@x>\r\n <r1@briefd.example.cn>\r\n" +
		"Authentication-Results: mx.example.cn; dkim=pass header.d=example.cn; spf=fail; dmarc=pass\r\n" +
		"Authentication-Results: forged.example; dkim=fail\r\n" +
		"\r\nhello\r\n"
	m := mustParse(t, raw, ParseOptions{AuthServIDs: []string{"example.cn"}})
	if m.From != "zs@example.cn" || m.FromName != "张三" || m.Subject != "简报" {
		t.Errorf("from %q %q subject %q", m.From, m.FromName, m.Subject)
	}
	if want := time.Date(2022, 1, 10, 6, 32, 5, 0, time.UTC); !m.Date.Equal(want) {
		t.Errorf("date %v, want %v", m.Date, want)
	}
	if m.MessageID != "<bare-id@example.cn>" || m.InReplyTo != "<r1@briefd.example.cn>" ||
		strings.Join(m.References, " ") != "<r0@x> <r1@briefd.example.cn>" {
		t.Errorf("ids %q %q %q", m.MessageID, m.InReplyTo, m.References)
	}
	if m.Auth != "pass" {
		t.Errorf("auth %q, want pass (the topmost header)", m.Auth)
	}
	if m.Header.Get("Authentication-Results") != "mx.example.cn; dkim=pass header.d=example.cn; spf=fail; dmarc=pass" {
		t.Errorf("Header.Get returns %q, want the topmost field", m.Header.Get("Authentication-Results"))
	}
}

// TestParseHeader: the header alone gives the same fields as the whole message, with nothing of the
// body; no header at all is malformed.
func TestParseHeader(t *testing.T) {
	raw := "From: =?GBK?B?1cXI/Q==?= <ZS@Example.CN>\r\nSubject: =?gbk?B?vPKxqA==?=\r\nMessage-ID: <h1@example.cn>\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pdf; name=a.pdf\r\n\r\n%PDF-1.4\r\n--b--\r\n"
	whole := mustParse(t, raw, ParseOptions{})
	for _, in := range []string{raw, raw[:strings.Index(raw, "\r\n\r\n")+2]} {
		m, err := ParseHeader(strings.NewReader(in), ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if m.From != whole.From || m.FromName != "张三" || m.Subject != whole.Subject || m.MessageID != whole.MessageID {
			t.Errorf("header %q %q %q %q; whole message %q %q %q %q", m.From, m.FromName, m.Subject, m.MessageID,
				whole.From, whole.FromName, whole.Subject, whole.MessageID)
		}
		if len(m.Attachments) != 0 || m.ContentType != "" || m.Text != "" {
			t.Errorf("body read: %d attachments, %q, %q", len(m.Attachments), m.ContentType, m.Text)
		}
	}
	if _, err := ParseHeader(strings.NewReader("no header here\r\n\r\nbody\r\n"), ParseOptions{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("no header: %v, want ErrMalformed", err)
	}
}

// TestAuthResult: only the receiving provider's Authentication-Results field counts; one written by
// the sender (above or below it) or by another server is ignored.
func TestAuthResult(t *testing.T) {
	const mx = "Authentication-Results: mx1.163.com; "
	tests := []struct {
		name, fields, want string
		ids                []string
	}{
		{"no field", "", "none", []string{"163.com"}},
		{"nothing checked", mx + "none", "none", []string{"163.com"}},
		{"dmarc pass", mx + "dmarc=pass header.from=example.cn", "pass", []string{"163.com"}},
		{"dmarc decides", mx + "dkim=fail; spf=pass; dmarc=fail (p=reject) header.from=example.cn", "fail", []string{"163.com"}},
		{"dkim pass", mx + "dkim=pass header.d=example.cn", "pass", []string{"163.com"}},
		{"spf softfail is weak", mx + "spf=softfail smtp.mailfrom=a@example.cn", "none", []string{"163.com"}},
		{"spf fail", mx + "spf=fail smtp.mailfrom=a@example.cn", "fail", []string{"163.com"}},
		{"dkim fail alone is weak", mx + "dkim=fail header.d=example.cn; spf=softfail", "none", []string{"163.com"}},
		{"neutral", mx + "dkim=none; spf=neutral", "none", []string{"163.com"}},
		{"upper case", mx + "DKIM=Pass; SPF=Fail", "pass", []string{"163.com"}},
		{"comments", mx + "spf=pass (163.com: domain of a@example.cn designates 192.0.2.1 as permitted sender) smtp.mailfrom=a@example.cn", "pass", []string{"163.com"}},
		{"the provider itself", "Authentication-Results: 163.com; dmarc=fail", "fail", []string{"163.com"}},
		{"no provider configured", mx + "dmarc=fail", "none", nil},
		{"another server", "Authentication-Results: mx.attacker.example; dmarc=pass", "none", []string{"163.com"}},
		{"lookalike", "Authentication-Results: evil163.com; dmarc=pass", "none", []string{"163.com"}},
		{"forged above the provider's", "Authentication-Results: mx.attacker.example; dmarc=pass\r\n" + mx + "dmarc=fail", "fail", []string{"163.com"}},
		{"forged below the provider's", mx + "dmarc=fail\r\nAuthentication-Results: mx1.163.com; dmarc=pass", "fail", []string{"163.com"}},
		{"unreadable version", "Authentication-Results: mx1.163.com 2; dmarc=pass", "none", []string{"163.com"}},
		{"qq", "Authentication-Results: mx3.qq.com; spf=pass", "pass", []string{"163.com", "qq.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.fields
			if raw != "" {
				raw += "\r\n"
			}
			raw += "From: a@example.cn\r\nSubject: x\r\n\r\nhi\r\n"
			if got := mustParse(t, raw, ParseOptions{AuthServIDs: tc.ids}).Auth; got != tc.want {
				t.Errorf("Auth = %q, want %q", got, tc.want)
			}
		})
	}
}
