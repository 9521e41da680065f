package intake

import (
	"bytes"
	"crypto/sha256"
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
	Problems    []string     `json:"problems,omitempty"`
	Classify    string       `json:"classify"`
}

func goldenOf(m *Message) golden {
	g := golden{
		From: m.From, FromName: m.FromName, Subject: m.Subject, MessageID: m.MessageID,
		InReplyTo: m.InReplyTo, References: m.References, ContentType: m.ContentType, Report: m.Report,
		Auth: m.Auth, Links: m.Links, Problems: m.Problems, Classify: Classify(m, testOurs, testMarker),
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
			m, err := Parse(bytes.NewReader(raw), spool, ParseOptions{MaxAttachment: 1 << 20})
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
