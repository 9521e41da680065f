package mailmsg

import (
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fingerprintOf(data string, chunk int) string {
	f := NewFingerprinter()
	for len(data) > 0 {
		n := min(chunk, len(data))
		f.Write([]byte(data[:n]))
		data = data[n:]
	}
	return f.Sum()
}

func TestFingerprint(t *testing.T) {
	base := "From: a@example.cn\r\nSubject: 简报\r\nMessage-ID: <1@example.cn>\r\n\r\nbody\r\nline two\r\n"
	same := map[string]string{
		"trace fields added": "Return-Path: <a@example.cn>\r\nDelivered-To: office@example.cn\r\nReceived: from x\r\n\tby y; Mon, 1 Jan 2026\r\n" +
			"X-Spam-Flag: NO\r\nX-Folded: a\r\n b\r\n" + base,
		"trace field in the middle": strings.Replace(base, "Subject:", "Received: by z\r\n (folded)\r\nSubject:", 1),
		"LF line ends":              strings.ReplaceAll(base, "\r\n", "\n"),
		"authentication results":    "Authentication-Results: mx.example.cn; dkim=pass\r\n" + base,
	}
	different := map[string]string{
		"other body":                         strings.Replace(base, "line two", "line 2", 1),
		"other subject":                      strings.Replace(base, "简报", "简报（更正）", 1),
		"other Message-ID":                   strings.Replace(base, "<1@", "<2@", 1),
		"field moved into the body":          strings.Replace(base, "Subject: 简报\r\n", "", 1) + "Subject: 简报\r\n",
		"a header line without a colon":      strings.Replace(base, "Subject", "Subject 简报\r\nX", 1),
		"body that looks like a trace field": base + "Received: not in the header\r\n",
	}
	want := fingerprintOf(base, len(base))
	for _, chunk := range []int{1, 2, 3, 7, 64, 1 << 20} {
		if got := fingerprintOf(base, chunk); got != want {
			t.Fatalf("chunks of %d: %s, whole: %s", chunk, got, want)
		}
		for name, m := range same {
			if got := fingerprintOf(m, chunk); got != want {
				t.Errorf("%s (chunks of %d): fingerprint differs", name, chunk)
			}
		}
		for name, m := range different {
			if got := fingerprintOf(m, chunk); got == want {
				t.Errorf("%s (chunks of %d): fingerprint is the same", name, chunk)
			}
		}
	}
}

// TestFingerprintChunking: however the server's literal is cut into reads, the fingerprint of every
// real-world mail is the same.
func TestFingerprintChunking(t *testing.T) {
	files, _ := filepath.Glob("testdata/mail/*.eml")
	corpus, _ := filepath.Glob("../../shared/corpus/mail/*")
	files = append(files, corpus...)
	if len(files) == 0 {
		t.Fatal("no sample mail")
	}
	rnd := rand.New(rand.NewSource(1))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		want := fingerprintOf(string(b), len(b)+1)
		for range 5 {
			f := NewFingerprinter()
			for d := b; len(d) > 0; {
				n := min(1+rnd.Intn(200), len(d))
				f.Write(d[:n])
				d = d[n:]
			}
			if got := f.Sum(); got != want {
				t.Fatalf("%s: fingerprint depends on how it is read", name)
			}
		}
	}
}
