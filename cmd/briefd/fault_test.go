package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"briefd/internal/mailtest"
	"briefd/store"
)

// TestPollDiskFull is a full disk as an office meets it: spool and archive on a small disk, a mail whose
// raw copy fits and whose decoded PDF does not. `briefd poll` fails and says why; nothing is recorded,
// nothing is sent to the school. Once the disk has room, the next poll records the mail once, accepted,
// with one reply.
func TestPollDiskFull(t *testing.T) {
	d := mailtest.NewDovecot(t)
	sink := mailtest.NewSink(t, mailtest.SinkOptions{})
	dir := t.TempDir()
	cfgPath := writeRelConfig(t, dir, &relConfig{IMAP: d.Addr, SMTP: sink.Addr(), User: d.User, Pass: d.Pass})
	data := filepath.Join(dir, "data")
	for _, sub := range []string{"archive", "spool"} {
		if err := os.MkdirAll(filepath.Join(data, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// The database stays on the big disk; spool and archive share a 5 MB one.
	disk := filepath.Join(dir, "disk")
	os.MkdirAll(disk, 0o700)
	remount := mailtest.MountTmpfs(t, disk, "5m", false)
	for _, sub := range []string{"archive", "spool"} {
		os.RemoveAll(filepath.Join(data, sub))
		os.MkdirAll(filepath.Join(disk, sub), 0o700)
		if err := os.Symlink(filepath.Join(disk, sub), filepath.Join(data, sub)); err != nil {
			t.Fatal(err)
		}
	}
	pdf := mailtest.PDF(3, strings.Repeat("忻府区学习贯彻全省职教大会精神情况 briefing text ", 13_000)) // ~2.4 MB
	raw := mailtest.MailWithPDF("忻府区教育科技局", "xinfu-jky@example.cn", "忻府区学习贯彻全省职教大会精神情况简报",
		time.Now().Add(-time.Hour), "diskfull-1", "xinfu.pdf", pdf)
	if len(raw) > 4<<20 || len(raw)+len(pdf) < 5<<20 {
		t.Fatalf("the mail (%d bytes) must fit the disk and the mail with its PDF (%d) must not", len(raw), len(raw)+len(pdf))
	}
	if _, err := d.Append("INBOX", raw, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	poll := func() (int, string) {
		var out, errb bytes.Buffer
		code := runMain(context.Background(), &env{stdout: &out, stderr: &errb, getenv: noEnv}, []string{"poll", "-config", cfgPath})
		return code, out.String() + errb.String()
	}
	code, out := poll()
	if code != 1 || !strings.Contains(out, "no space left on device") {
		t.Fatalf("poll on a full disk: exit %d, want 1 and the reason:\n%s", code, out)
	}
	t.Logf("poll on a full disk says:\n%s", out)
	if rs := readStore(t, cfgPath); len(rs) != 0 {
		t.Fatalf("a full disk recorded %d receipts (%s)", len(rs), rs[0].Verdict)
	}
	if n := len(autoReplies(sink.Messages())); n != 0 {
		t.Fatalf("a full disk sent %d replies", n)
	}
	if err := remount("64m", false); err != nil {
		t.Fatal(err)
	}
	if code, out := poll(); code != 0 {
		t.Fatalf("poll after the disk got room: exit %d\n%s", code, out)
	}
	rs := readStore(t, cfgPath)
	if len(rs) != 1 || rs[0].Verdict != store.VerdictAccepted || rs[0].Attachments[0].Pages != 3 {
		t.Fatalf("after the disk got room: %d receipts %+v; want 1 accepted", len(rs), rs)
	}
	if msgs := autoReplies(sink.Messages()); len(msgs) != 1 {
		t.Fatalf("%d replies, want 1", len(msgs))
	}
	if code, _ := poll(); code != 0 || len(readStore(t, cfgPath)) != 1 || len(autoReplies(sink.Messages())) != 1 {
		t.Errorf("a third poll changed something")
	}
}
