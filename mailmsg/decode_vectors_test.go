package mailmsg

import (
	"bytes"
	"io"
	"math/rand"
	"mime/quotedprintable"
	"os/exec"
	"testing"
)

// base64Vectors: lenient base64 as mail clients meet it. Where coreutils is marked, the expected bytes
// are what `base64 -d -i` (GNU coreutils 9.1) decodes, and TestBase64Vectors runs it again to show it;
// where coreutils gives up (exit 1), we decode on, and the expected bytes say how.
var base64Vectors = []struct {
	name, in, want string
	coreutils      bool
}{
	{"padded chunks", "QQ==QQ==", "AA", true},
	{"padded chunks of two", "QUI=QUI=", "ABAB", true},
	{"clean", "QUJDRA==", "ABCD", true},
	{"junk inside", "QU*JD", "ABC", true},
	{"spaces and padding", "QU JD RA ==", "ABCD", true},
	{"line breaks between padded chunks", "QQ==\r\nQUI=\r\nQUJD\r\n", "AABABC", true},
	{"padded chunks, lines of a PDF encoder", "JVBERi0=\r\nMS43Cg==\r\n", "%PDF-1.7\n", true},
	{"missing padding at the end", "QUJDRA", "ABCD", false},
	{"padding then more data", "QUJD=REVG", "ABCDEF", false},
	{"too much padding between", "QUJD====QUJD", "ABCABC", false},
	{"short padding then data", "QQ=QQ==", "AA", false},
	{"padding after one character is junk", "Q=QQ", "A\x04", false},
	{"padding first", "=QUJD", "ABC", false},
	{"url alphabet", "-_-_", "\xfb\xff\xbf", false},
}

func TestBase64Vectors(t *testing.T) {
	_, err := exec.LookPath("base64")
	for _, v := range base64Vectors {
		t.Run(v.name, func(t *testing.T) {
			for _, max := range []int{1, 3, 1 << 10} {
				for _, slow := range []bool{false, true} {
					got := decodeB64(t, []byte(v.in), slow, rand.New(rand.NewSource(1)), max)
					if string(got) != v.want {
						t.Errorf("reads ≤ %d, slow %v: %q decodes to %q, want %q", max, slow, v.in, got, v.want)
					}
				}
			}
			if !v.coreutils || err != nil {
				return
			}
			cmd := exec.Command("base64", "-d", "-i")
			cmd.Stdin = bytes.NewReader([]byte(v.in))
			out, cerr := cmd.Output()
			if cerr != nil || string(out) != v.want {
				t.Errorf("the table is wrong: base64 -d -i gives %q (%v), the table %q", out, cerr, v.want)
			}
		})
	}
}

// qpVectors: lenient quoted-printable. Where stdlib is marked, Go's mime/quotedprintable (an
// independent, strict decoder) decodes it the same and TestQPVectors shows it; the others are input it
// refuses, and the expected bytes are what mail clients show (Thunderbird keeps a bad escape as is).
var qpVectors = []struct {
	name, in, want string
	stdlib         bool
}{
	{"escape", "a=3Db", "a=b", true},
	{"lowercase hex", "=e4=bd=a0", "\xe4\xbd\xa0", true},
	{"soft break CRLF", "soft=\r\nbreak", "softbreak", true},
	{"soft break LF", "soft=\nbreak", "softbreak", true},
	{"blanks after a soft break", "pad=  \r\nbreak", "padbreak", true},
	{"tab after a soft break", "pad=\t\nx", "padx", true},
	{"hard line breaks kept", "one\r\ntwo\r\n", "one\r\ntwo\r\n", true},
	{"soft break ends the body", "end=", "end", false},
	{"bad escape kept", "bad=ZZescape", "bad=ZZescape", false},
	{"half an escape", "x=4g", "x=4g", false},
	{"escape cut by the end", "bad=4", "bad=4", false},
	{"bare = in a URL", "https://example.cn/?a=1&b=2", "https://example.cn/?a=1&b=2", false},
	{"long line", string(bytes.Repeat([]byte("=41"), 3000)), string(bytes.Repeat([]byte("A"), 3000)), false},
}

func TestQPVectors(t *testing.T) {
	for _, v := range qpVectors {
		t.Run(v.name, func(t *testing.T) {
			for _, max := range []int{1, 2, 5, 1 << 16} {
				r := newQPReader(&chunkReader{d: []byte(v.in), rnd: rand.New(rand.NewSource(1)), max: max})
				got, err := io.ReadAll(r)
				if err != nil || string(got) != v.want {
					t.Errorf("reads ≤ %d: %q decodes to %q (%v), want %q", max, v.in, got, err, v.want)
				}
			}
			if !v.stdlib {
				return
			}
			got, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader([]byte(v.in))))
			if err != nil || string(got) != v.want {
				t.Errorf("the table is wrong: mime/quotedprintable gives %q (%v), the table %q", got, err, v.want)
			}
		})
	}
}
