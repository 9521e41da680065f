package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"briefd/config"
	"briefd/internal/mailtest"
	"briefd/mailmsg"
	"briefd/pdfcheck"
	"briefd/store"
)

// TestRecheckCommand: mail judged too harshly by an older briefd (a usable PDF recorded as damaged) is
// checked again: -dry-run says what would change and writes nothing; -reply corrects the receipt, the
// status counts it, and the next poll sends one 更正回执 — only to that sender.
func TestRecheckCommand(t *testing.T) {
	d := mailtest.NewDovecot(t)
	sink := mailtest.NewSink(t, mailtest.SinkOptions{})
	dir := t.TempDir()
	cfgPath := writeRelConfig(t, dir, &relConfig{IMAP: d.Addr, SMTP: sink.Addr(), User: d.User, Pass: d.Pass})
	at := time.Now().Add(-time.Hour)
	for i, from := range []string{"xinfu-jky@example.cn", "yuanping-jky@example.cn"} {
		if _, err := d.Append("INBOX", mailtest.MailWithPDF("单位", from, "学习贯彻全省职教大会精神情况简报", at, "rc-"+string(rune('a'+i)),
			"简报.pdf", mailtest.PDF(2, "briefing")), at); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runMain(context.Background(), &env{stdout: &out, stderr: &errb, getenv: noEnv}, append(args, "-config", cfgPath))
		return code, out.String(), errb.String()
	}
	if code, _, errs := run("poll"); code != 0 {
		t.Fatalf("poll: %s", errs)
	}
	sink.Reset()
	// As an older, stricter briefd left the first receipt.
	cfg, err := config.Load(cfgPath, noEnv, false)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.Store.Path, store.Options{Location: cfg.Location()})
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := st.Receipts(nil)
	n := rs[0].Number
	if _, _, err := st.Replace(n, func(r *store.Receipt) error {
		r.Verdict = store.VerdictRejected
		r.Attachments[0].Verdict, r.Attachments[0].Reason, r.Attachments[0].Pages = pdfcheck.VerdictReject, pdfcheck.ReasonDamaged, 0
		r.Reply = store.ReplySent
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	code, out, errs := run("recheck", "-dry-run")
	if code != 0 || !strings.Contains(out, n+"  未通过 → 已受理") || !strings.Contains(out, "reject: pdf_damaged → ok") ||
		!strings.Contains(errs, "1 would change") {
		t.Fatalf("recheck -dry-run: exit %d\n%s%s", code, out, errs)
	}
	if r := readStore(t, cfgPath)[0]; r.Verdict != store.VerdictRejected {
		t.Fatal("the dry run changed the receipt")
	}
	code, out, errs = run("recheck", "-reply")
	if code != 0 || !strings.Contains(out, n+"  未通过 → 已受理") || strings.Count(out, "JB") != 1 {
		t.Fatalf("recheck -reply: exit %d\n%s%s", code, out, errs)
	}
	t.Logf("briefd recheck -reply:\n%s%s", out, errs)
	r := readStore(t, cfgPath)[0]
	if r.Verdict != store.VerdictAccepted || r.Attachments[0].Pages != 2 || len(r.Corrections) != 1 {
		t.Errorf("receipt after the recheck: %+v", r)
	}
	if code, out, _ := run("status", "-json"); code != 0 || !strings.Contains(out, `"receipt": "`+n+`"`) {
		t.Errorf("status does not count %s:\n%s", n, out)
	}
	if code, _, errs := run("poll"); code != 0 {
		t.Fatalf("poll: %s", errs)
	}
	msgs := autoReplies(sink.Messages())
	if len(msgs) != 1 || msgs[0].To[0] != "xinfu-jky@example.cn" || !strings.Contains(mailmsg.Readable(msgs[0].Data), "更正回执") ||
		!strings.Contains(mailmsg.Readable(msgs[0].Data), "结果：已接收") {
		t.Errorf("%d replies after the recheck: %v", len(msgs), msgs)
	}
	if code, out, _ := run("recheck", "-reply"); code != 0 || strings.Contains(out, "JB") {
		t.Errorf("a second recheck changed something:\n%s", out)
	}
}
