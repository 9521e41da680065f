package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"briefd/internal/mailtest"
	"briefd/store"
)

// TestPollDovecot is the flow a user runs: `briefd poll` against a real Dovecot holding the sample mails,
// replies delivered to an SMTP sink over TCP. Every mail gets one receipt; each that deserves a reply gets
// exactly one, the others none; a second poll does nothing.
func TestPollDovecot(t *testing.T) {
	d := mailtest.NewDovecot(t)
	sink, err := mailtest.NewSMTPSink(mailtest.SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	now := time.Now()
	samples, err := mailtest.Samples(now)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		if _, err := d.Append("INBOX", s.Raw, s.Date); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	cfgPath, err := writeDemoConfig(dir, d.Addr, sink.Addr(), now)
	if err != nil {
		t.Fatal(err)
	}
	// The demo config logs in as "office" with the demo password; point it at Dovecot's user instead.
	cfg, _ := os.ReadFile(cfgPath)
	cfg = bytes.Replace(cfg, []byte("username: office"), []byte("username: "+d.User), 1)
	cfg = bytes.Replace(cfg, []byte(`save_sent: ""`), []byte(`save_sent: 已发送`), 1)
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "imap.pass"), []byte(d.Pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	poll := func() (int, string) {
		var out, errb bytes.Buffer
		code := runMain(context.Background(), &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }},
			[]string{"poll", "-config", cfgPath})
		return code, out.String() + errb.String()
	}
	start := time.Now()
	code, out := poll()
	t.Logf("briefd poll of %d mails on Dovecot: %s", len(samples), time.Since(start).Round(time.Millisecond))
	if code != 0 {
		t.Fatalf("poll exit %d\n%s", code, out)
	}
	if !strings.Contains(out, fmt.Sprintf("[%d/%d]", len(samples), len(samples))) {
		t.Errorf("no progress lines on stderr:\n%s", out)
	}
	var wantReplies []string
	for _, s := range samples {
		if s.Reply {
			wantReplies = append(wantReplies, s.Name)
		}
	}
	msgs := autoReplies(sink.Messages())
	if len(msgs) != len(wantReplies) {
		t.Errorf("%d replies delivered, want %d (%v)", len(msgs), len(wantReplies), wantReplies)
	}
	seen := map[string]int{}
	for _, m := range msgs {
		if len(m.To) != 1 {
			t.Errorf("reply to %v: want exactly one recipient", m.To)
		}
		seen[m.To[0]]++
		if !bytes.Contains(m.Data, []byte("Auto-Submitted: auto-replied")) {
			t.Errorf("reply to %v lacks Auto-Submitted", m.To)
		}
	}
	for addr, n := range seen {
		if n > 1 && addr != "xinfu-jky@example.cn" { // xinfu sent two samples
			t.Errorf("%s got %d replies", addr, n)
		}
	}
	for _, never := range []string{"jingle-jky@example.cn", "mailer-daemon@example.net", "MAILER-DAEMON@example.net"} {
		if seen[never] > 0 {
			t.Errorf("replied to %s", never)
		}
	}
	if saved, err := d.Messages("已发送"); err != nil || len(saved) != len(sink.Messages()) {
		t.Errorf("已发送 holds %d copies of %d sent mails (%v)", len(saved), len(sink.Messages()), err)
	}
	// Open the store (poll has closed it) and compare each receipt with its sample.
	st, err := store.Open(filepath.Join(dir, "briefd.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := st.Receipts(nil)
	st.Close()
	if len(rs) != len(samples) {
		t.Fatalf("%d receipts for %d mails", len(rs), len(samples))
	}
	for i, s := range samples {
		r := rs[i]
		if r.Verdict != s.Verdict {
			t.Errorf("%s: verdict %s, want %s", s.Name, r.Verdict, s.Verdict)
		}
		wantReply := store.ReplySuppressed
		if s.Reply {
			wantReply = store.ReplySent
		}
		if r.Reply != wantReply {
			t.Errorf("%s: reply %s (%s), want %s", s.Name, r.Reply, r.ReplyNote, wantReply)
		}
	}
	// A second poll finds nothing new and sends nothing.
	if code, out := poll(); code != 0 {
		t.Fatalf("second poll exit %d\n%s", code, out)
	}
	if n := len(autoReplies(sink.Messages())); n != len(msgs) {
		t.Errorf("second poll sent %d more mails", n-len(msgs))
	}
	if slices.ContainsFunc(rs, func(r *store.Receipt) bool { return r.Raw == "" }) {
		t.Errorf("a receipt without its raw copy")
	}
	// `briefd resend` queues the reply again; the next poll sends it once more, to the same sender only.
	var rout bytes.Buffer
	if code := runMain(context.Background(), &env{stdout: &rout, stderr: &rout, getenv: func(string) string { return "" }},
		[]string{"resend", "-config", cfgPath, rs[1].Number}); code != 0 {
		t.Fatalf("resend exit %d: %s", code, rout.String())
	}
	if code, out := poll(); code != 0 {
		t.Fatalf("poll after resend exit %d\n%s", code, out)
	}
	all := autoReplies(sink.Messages())
	if len(all) != len(msgs)+1 || all[len(all)-1].To[0] != rs[1].From {
		t.Errorf("after resend: %d messages, last to %v; want one more to %s", len(all), all[len(all)-1].To, rs[1].From)
	}
}

// autoReplies keeps the receipt replies: the sink also gets the weekly summary when poll runs after its time.
func autoReplies(ms []mailtest.SinkMessage) []mailtest.SinkMessage {
	var out []mailtest.SinkMessage
	for _, m := range ms {
		if bytes.Contains(m.Data, []byte("\r\nAuto-Submitted: auto-replied")) {
			out = append(out, m)
		}
	}
	return out
}
