package mailmsg

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that no input panics Parse, that what it returns is consistent (valid UTF-8 text,
// spooled files that exist and match their size), and that Cleanup removes every spooled file.
// Seeds: testdata/mail/*.eml and testdata/fuzz/FuzzParse/.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/mail/*.eml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		spool := t.TempDir()
		m, err := Parse(bytes.NewReader(raw), spool, ParseOptions{MaxAttachment: 1 << 16, MaxParts: 200, MaxDepth: 10})
		if err != nil {
			if left, _ := os.ReadDir(spool); len(left) != 0 {
				t.Fatalf("error %v but %d files spooled", err, len(left))
			}
			return
		}
		Classify(m, []string{"xzszjk@example.cn"}, "briefd")
		for _, s := range []string{m.From, m.FromName, m.Subject} {
			if !utf8.ValidString(s) {
				t.Errorf("invalid UTF-8 %q", s)
			}
		}
		if len(m.Problems) > MaxProblems+1 || len(m.Links) > maxLinks || len(m.References) > maxIDs {
			t.Errorf("unbounded lists: %d problems, %d links, %d references", len(m.Problems), len(m.Links), len(m.References))
		}
		for _, a := range m.Attachments {
			if !utf8.ValidString(a.Filename) || strings.ContainsRune(a.Filename, 0) {
				t.Errorf("bad filename %q", a.Filename)
			}
			if a.TooLarge {
				if a.Path != "" || a.Size <= 1<<16 {
					t.Errorf("too large attachment %+v", a)
				}
				continue
			}
			st, err := os.Stat(a.Path)
			if err != nil || st.Size() != a.Size {
				t.Errorf("spooled %q: %v, size %d", a.Path, err, a.Size)
			}
		}
		m.Cleanup()
		if left, _ := os.ReadDir(spool); len(left) != 0 {
			t.Errorf("Cleanup left %d files", len(left))
		}
	})
}

// bigMessage streams a message of about 4/3·size bytes whose only attachment is size bytes of
// pseudo-random data, base64 in 76-column lines, with a text part before it.
func bigMessage(size int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		io.WriteString(pw, "From: \"Big\" <big@example.cn>\r\nSubject: big\r\nMessage-ID: <big@example.cn>\r\n"+
			"Content-Type: multipart/mixed; boundary=\"----=_Part_1\"\r\n\r\n------=_Part_1\r\n"+
			"Content-Type: text/plain; charset=utf-8\r\n\r\n"+strings.Repeat("简报见附件。\r\n", 100)+
			"------=_Part_1\r\nContent-Type: application/pdf; name=\"big.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		rng := rand.NewChaCha8([32]byte{1})
		src := io.LimitReader(rng, int64(size))
		chunk := make([]byte, 57*1024)
		line := make([]byte, 0, 80*1024)
		for {
			n, err := io.ReadFull(src, chunk)
			if n > 0 {
				line = line[:0]
				for i := 0; i < n; i += 57 {
					line = base64.StdEncoding.AppendEncode(line, chunk[i:min(i+57, n)])
					line = append(line, '\r', '\n')
				}
				pw.Write(line)
			}
			if err != nil {
				break
			}
		}
		io.WriteString(pw, "------=_Part_1--\r\n")
		pw.Close()
	}()
	return pr
}

// BenchmarkParse20MB parses a ~20 MB message carrying a 15 MB base64 attachment, spooled to disk.
func BenchmarkParse20MB(b *testing.B) {
	var raw bytes.Buffer
	io.Copy(&raw, bigMessage(15<<20))
	spool := b.TempDir()
	b.SetBytes(int64(raw.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m, err := Parse(bytes.NewReader(raw.Bytes()), spool, ParseOptions{MaxAttachment: 50 << 20})
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Attachments) != 1 || m.Attachments[0].Size != 15<<20 {
			b.Fatalf("attachments %+v", m.Attachments)
		}
		m.Cleanup()
	}
}

// TestParseMemoryFlat checks that what Parse allocates does not grow with the attachment's size.
func TestParseMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 32 MB")
	}
	alloc := func(size int) uint64 {
		spool := t.TempDir()
		r := bigMessage(size)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m, err := Parse(r, spool, ParseOptions{})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Attachments) != 1 || m.Attachments[0].Size != int64(size) {
			t.Fatalf("attachments %+v", m.Attachments)
		}
		m.Cleanup()
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := alloc(1<<20), alloc(24<<20)
	t.Logf("allocated %d KiB for a 1 MiB attachment, %d KiB for 24 MiB", small>>10, large>>10)
	if large > 4<<20 || large > 2*small+(1<<20) {
		t.Errorf("allocations grow with the attachment: %d KiB for 1 MiB, %d KiB for 24 MiB", small>>10, large>>10)
	}
}
