package intake

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"briefd/internal/mailtest"
	"briefd/notify"
	"briefd/store"
)

// TestHostileMail sends hand-made nasty mails through the whole pipeline (parse, pdfcheck in its
// isolated workers, matching, the store, the archive) and the reply composition. Each must get a recorded
// outcome within a bounded time, with a bounded heap in this process, without writing outside the archive
// or expanding anything; afterwards an ordinary mail still goes through. It prints a line per case.
func TestHostileMail(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10 MB header and a zip bomb")
	}
	const (
		timeLimit = 60 * time.Second
		heapLimit = 256 << 20 // in-use heap of this process, pdfcheck workers excluded (they have their own limit)
	)
	dir := t.TempDir()
	st := openStore(t)
	p := newTestPipeline(t, st, dir)
	archive := filepath.Join(dir, "archive")
	n, err := notify.New(notify.Options{Office: notify.Office{Name: "职教科", Address: "xzszjk@example.cn"}}, nil)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name  string
		raw   func(t *testing.T) []byte
		check func(t *testing.T, r *store.Receipt)
	}{
		{"zip bomb (256 MiB of zeros in a small zip)", zipBombMail, func(t *testing.T, r *store.Receipt) {
			if len(r.Attachments) != 1 || r.Attachments[0].Kind != "archive" || r.Attachments[0].OK() {
				t.Errorf("attachments %+v, want one rejected archive", r.Attachments)
			}
		}},
		{"10,000 parts", manyPartsMail, func(t *testing.T, r *store.Receipt) {
			if !strings.Contains(r.Note, "parts") {
				t.Errorf("note %q does not say that parts were ignored", r.Note)
			}
		}},
		{"header of 10 MB", hugeHeaderMail, nil},
		{"message/rfc822 nested 100 deep", deepForwardMail, func(t *testing.T, r *store.Receipt) {
			if !strings.Contains(r.Note, "nested") {
				t.Errorf("note %q does not say that nesting was cut", r.Note)
			}
		}},
		{"PDF whose xref loops (/Prev to itself)", loopingXrefMail, func(t *testing.T, r *store.Receipt) {
			if len(r.Attachments) != 1 {
				t.Errorf("attachments %+v", r.Attachments)
			}
		}},
		{"filenames: ../, NUL, RTL override, 1,000 characters", nastyNamesMail, func(t *testing.T, r *store.Receipt) {
			if len(r.Attachments) != 4 {
				t.Fatalf("%d attachments, want 4", len(r.Attachments))
			}
			for _, a := range r.Attachments {
				if strings.ContainsAny(a.Filename, "\x00\u202e") {
					t.Errorf("filename %q keeps a NUL or an RTL override", a.Filename)
				}
				if !a.OK() {
					t.Errorf("%q: %s %s, want the PDF accepted whatever its name", a.Filename, a.Verdict, a.Reason)
				}
				if a.Archived == "" || strings.Contains(a.Archived, "..") || strings.Contains(a.Archived, "\u202e") {
					t.Errorf("%q archived as %q", a.Filename, a.Archived)
				}
			}
		}},
	}
	var report []string
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.raw(t)
			path := filepath.Join(dir, fmt.Sprintf("hostile-%d.eml", i))
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			runtime.GC()
			var peak uint64
			stop := sampleHeap(&peak)
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), timeLimit)
			defer cancel()
			f := &Fetched{Key: store.MessageKey{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1)}, Size: int64(len(raw)),
				InternalDate: time.Now(), Path: path, Index: 1, Total: 1}
			err := p.Handle(ctx, f)
			took := time.Since(start)
			stop()
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			num, ok, err := st.LookupMessage(f.Key)
			if err != nil || !ok {
				t.Fatalf("no receipt recorded (%v)", err)
			}
			r, err := st.Receipt(num)
			if err != nil {
				t.Fatal(err)
			}
			if took > timeLimit {
				t.Errorf("took %v, limit %v", took, timeLimit)
			}
			if peak > heapLimit {
				t.Errorf("peak heap %d MiB, limit %d MiB", peak>>20, heapLimit>>20)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
			// The reply is one well-formed mail with one-line headers whatever the names say.
			reply, err := n.ComposeReply(r)
			if err != nil {
				t.Fatalf("compose reply: %v", err)
			}
			m, err := mail.ReadMessage(bytes.NewReader(reply))
			if err != nil {
				t.Fatalf("reply does not parse: %v", err)
			}
			if s := m.Header.Get("Subject"); strings.ContainsAny(s, "\r\n") || len(s) > 2000 {
				t.Errorf("reply subject of %d bytes: %q", len(s), s[:min(len(s), 200)])
			}
			line := fmt.Sprintf("HOSTILE %-52s %7d KiB mail -> %s %s, %d attachments, %s, peak heap %d MiB, note %q",
				tc.name, len(raw)>>10, r.Number, r.Verdict, len(r.Attachments), took.Round(time.Millisecond), peak>>20,
				r.Note[:min(len(r.Note), 100)])
			report = append(report, line)
			fmt.Println(line)
		})
	}
	// Nothing was written outside the archive, nothing expanded, no file larger than the mails.
	filepath.Walk(archive, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && info.Size() > 12<<20 {
			t.Errorf("%s: %d bytes in the archive", p, info.Size())
		}
		return nil
	})
	for _, d := range []string{filepath.Join(dir, "spool")} {
		if es, _ := os.ReadDir(d); len(es) > 0 {
			t.Errorf("%s not empty after the hostile mails: %d entries", d, len(es))
		}
	}
	// The pipeline goes on: an ordinary mail after them.
	samples, err := mailtest.Samples(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "after.eml")
	os.WriteFile(path, samples[0].Raw, 0o600)
	f := &Fetched{Key: store.MessageKey{Mailbox: "INBOX", UIDValidity: 1, UID: 1000}, Size: int64(len(samples[0].Raw)),
		InternalDate: time.Now(), Path: path}
	if err := p.Handle(context.Background(), f); err != nil {
		t.Fatalf("ordinary mail after the hostile ones: %v", err)
	}
	if num, ok, _ := st.LookupMessage(f.Key); !ok {
		t.Errorf("ordinary mail after the hostile ones not recorded")
	} else if r, _ := st.Receipt(num); r.Verdict != store.VerdictAccepted {
		t.Errorf("ordinary mail after the hostile ones: %s", r.Verdict)
	}
	t.Logf("%d hostile cases:\n%s", len(cases), strings.Join(report, "\n"))
}

const hostileHeader = "From: 忻府区教育科技局 <xinfu-jky@example.cn>\r\nTo: xzszjk@example.cn\r\nSubject: %s\r\n" +
	"Date: Mon, 10 Jan 2022 14:32:05 +0800\r\nMessage-ID: <hostile-%d@example.cn>\r\nMIME-Version: 1.0\r\n"

func b64(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.String()
}

func mixedMail(id int, subject string, parts ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, hostileHeader, subject, id)
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n简报见附件\r\n")
	for _, p := range parts {
		b.WriteString("--b\r\n" + p)
	}
	b.WriteString("--b--\r\n")
	return []byte(b.String())
}

func zipBombMail(t *testing.T) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("briefing.pdf")
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range 256 {
		w.Write(zeros)
	}
	zw.Close()
	return mixedMail(1, "简报（压缩包）", "Content-Type: application/zip; name=\"briefing.zip\"\r\nContent-Disposition: attachment; filename=\"briefing.zip\"\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n"+b64(buf.Bytes()))
}

func manyPartsMail(t *testing.T) []byte {
	parts := make([]string, 10000)
	for i := range parts {
		parts[i] = fmt.Sprintf("Content-Type: text/plain\r\nContent-Disposition: attachment; filename=\"p%d.txt\"\r\n\r\npart %d\r\n", i, i)
	}
	return mixedMail(2, "一万个部分", parts...)
}

func hugeHeaderMail(t *testing.T) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, hostileHeader, "巨大的信头", 3)
	b.WriteString("X-Filler: start")
	line := "\r\n\t" + strings.Repeat("x", 74)
	for b.Len() < 10<<20 {
		b.WriteString(line)
	}
	b.WriteString("\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n正文\r\n")
	return []byte(b.String())
}

func deepForwardMail(t *testing.T) []byte {
	inner := string(mixedMail(4, "最里面", "Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"deep.pdf\"\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n"+b64(mailtest.PDF(1, "deep"))))
	for i := range 100 {
		inner = fmt.Sprintf(hostileHeader, fmt.Sprintf("转发 %d", i), 1000+i) +
			"Content-Type: message/rfc822\r\n\r\n" + inner
	}
	return []byte(inner)
}

// loopingXrefPDF is a one-page PDF whose xref section names itself as the previous one (/Prev).
func loopingXrefPDF() []byte {
	good := mailtest.PDF(1, "loop")
	i := bytes.LastIndex(good, []byte("startxref\n"))
	var xref int
	fmt.Sscanf(string(good[i+len("startxref\n"):]), "%d", &xref)
	return bytes.Replace(good, []byte("/Root 1 0 R >>"), []byte(fmt.Sprintf("/Root 1 0 R /Prev %d >>", xref)), 1)
}

func loopingXrefMail(t *testing.T) []byte {
	return mixedMail(5, "xref 循环", "Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"loop.pdf\"\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n"+b64(loopingXrefPDF()))
}

func nastyNamesMail(t *testing.T) []byte {
	pdf := b64(mailtest.PDF(1, "names"))
	part := func(disp string) string {
		return "Content-Type: application/pdf\r\nContent-Disposition: " + disp + "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + pdf
	}
	long := strings.Repeat("简报", 499) + ".pdf" // 1,000 characters
	return mixedMail(6, "忻府区简报", part(`attachment; filename="../../../../etc/passwd.pdf"`),
		part(`attachment; filename*=UTF-8''evil%00name.pdf`),
		part("attachment; filename*=UTF-8''"+urlEscape("\u202Efdp.exe")),
		part(`attachment; filename="`+mimeWord(long)+`"`))
}

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func mimeWord(s string) string {
	return "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
}
