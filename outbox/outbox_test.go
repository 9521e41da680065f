package outbox

import (
	"bytes"
	"context"
	"errors"
	"net/mail"
	"strings"
	"testing"
	"time"

	"briefd/internal/mailtest"
	"briefd/store"
)

// TestSuppress: each rule on its own; a suppressed reply is recorded with its reason and nothing is sent.
func TestSuppress(t *testing.T) {
	for _, c := range []struct {
		name string
		r    *store.Receipt
		why  string
	}{
		{"empty sender", &store.Receipt{From: "", Verdict: store.VerdictAccepted}, "empty sender"},
		{"null sender", &store.Receipt{From: "<>", Verdict: store.VerdictAccepted}, "empty sender"},
		{"our own address", accepted(officeAddr), "our own address"},
		{"our own address, other case", accepted("XZSZJK@Example.CN"), "our own address"},
		{"mailer-daemon", accepted("MAILER-DAEMON@example.cn"), "automated sender mailer-daemon"},
		{"postmaster", accepted("postmaster@example.cn"), "automated sender postmaster"},
		{"listserv", accepted("LISTSERV@lists.example.cn"), "automated sender listserv"},
		{"majordomo", accepted("majordomo@lists.example.cn"), "automated sender majordomo"},
		{"-request", accepted("jiaoyu-request@lists.example.cn"), "list request address"},
		{"owner-", accepted("owner-jiaoyu@lists.example.cn"), "list owner address"},
		{"noreply", accepted("noreply@example.cn"), "automated sender noreply"},
		{"no-reply with tag", accepted("no-reply+x@example.cn"), "automated sender no-reply"},
		{"ignored receipt", &store.Receipt{From: "a@example.cn", Verdict: store.VerdictIgnored, Note: "Auto-Submitted: auto-replied"}, "ignored"},
		{"newline in address", accepted("a@example.cn\nBcc: b@example.cn"), "not one valid address"},
		{"quote in address", accepted(`a"@example.cn`), "not one valid address"},
		{"two addresses", accepted("a@example.cn,b@example.cn"), "not one valid address"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if why := e.b.Suppress(c.r); !strings.Contains(why, c.why) {
				t.Errorf("Suppress = %q; want it to contain %q", why, c.why)
			}
			num := e.record(t, c.r)
			sent, failed := e.flush(t)
			if sent != 0 || failed != 0 || e.sink.Attempts() != 0 {
				t.Errorf("sent %d failed %d, sink saw %d", sent, failed, e.sink.Attempts())
			}
			r := e.receipt(t, num)
			if r.Reply != store.ReplySuppressed || !strings.Contains(r.ReplyNote, c.why) {
				t.Errorf("receipt reply %q note %q; want suppressed, %q", r.Reply, r.ReplyNote, c.why)
			}
			if it := e.items(t)[0]; it.State != store.OutSuppressed {
				t.Errorf("item state %s", it.State)
			}
		})
	}
	e := newEnv(t, nil)
	if why := e.b.Suppress(accepted("xinfu-jky@example.cn")); why != "" {
		t.Errorf("a normal sender is suppressed: %s", why)
	}
}

// TestHourlyCap: the 4th reply within an hour to one sender (cap 3) is suppressed; another sender is not
// affected; an hour later replies go again.
func TestHourlyCap(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PerSenderPerHour = 3 })
	for i := 0; i < 5; i++ {
		e.record(t, accepted("xinfu-jky@example.cn"))
		e.clk.Add(time.Minute)
	}
	other := e.record(t, accepted("dx@example.cn"))
	sent, _ := e.flush(t)
	if sent != 4 {
		t.Errorf("sent %d; want 3 to the first sender and 1 to the other", sent)
	}
	var supp int
	for _, it := range e.items(t) {
		if it.State == store.OutSuppressed {
			supp++
			if !strings.Contains(it.LastError, "per-sender cap: 3 replies") {
				t.Errorf("reason %q", it.LastError)
			}
		}
	}
	if supp != 2 {
		t.Errorf("%d suppressed; want 2", supp)
	}
	if r := e.receipt(t, other); r.Reply != store.ReplySent {
		t.Errorf("other sender: %s", r.Reply)
	}
	e.clk.Add(61 * time.Minute)
	e.record(t, accepted("xinfu-jky@example.cn"))
	if sent, _ := e.flush(t); sent != 1 {
		t.Errorf("an hour later: sent %d; want 1", sent)
	}

	e2 := newEnv(t, func(o *Options) { o.PerSenderPerHour = -1 })
	for i := 0; i < 15; i++ {
		e2.record(t, accepted("xinfu-jky@example.cn"))
	}
	if sent, _ := e2.flush(t); sent != 15 {
		t.Errorf("no cap: sent %d; want 15", sent)
	}
}

// Test451ThenAccept: the server refuses twice with 451; the reply is retried with backoff and delivered
// once, under one Message-ID.
func Test451ThenAccept(t *testing.T) {
	e := newEnv(t, nil)
	num := e.record(t, accepted("xinfu-jky@example.cn"))
	e.sink.FailNext(2, 451, "4.3.0 try again later")

	if sent, failed := e.flush(t); sent != 0 || failed != 1 {
		t.Fatalf("first pass: sent %d failed %d", sent, failed)
	}
	it := e.items(t)[0]
	if it.State != store.OutQueued || it.Attempts != 1 || !it.NextTry.Equal(e.clk.Now().Add(time.Minute)) || !strings.Contains(it.LastError, "451") {
		t.Fatalf("after 451: %+v", it)
	}
	if r := e.receipt(t, num); r.Reply != store.ReplyQueued || !strings.Contains(r.ReplyNote, "451") {
		t.Errorf("receipt during retry: %q %q", r.Reply, r.ReplyNote)
	}
	if sent, failed := e.flush(t); sent+failed != 0 {
		t.Fatal("retried before its time")
	}
	e.clk.Add(time.Minute)
	e.flush(t)
	if it := e.items(t)[0]; it.Attempts != 2 || !it.NextTry.Equal(e.clk.Now().Add(2*time.Minute)) {
		t.Fatalf("second backoff: %+v", it)
	}
	e.clk.Add(2 * time.Minute)
	if sent, _ := e.flush(t); sent != 1 {
		t.Fatal("not delivered on the third attempt")
	}
	e.clk.Add(time.Hour)
	e.flush(t)
	msgs := e.sink.Messages()
	if len(msgs) != 1 || e.sink.Attempts() != 3 {
		t.Fatalf("sink: %d messages, %d attempts; want 1, 3", len(msgs), e.sink.Attempts())
	}
	if r := e.receipt(t, num); r.Reply != store.ReplySent || r.ReplyNote != "" {
		t.Errorf("receipt: %q %q", r.Reply, r.ReplyNote)
	}
	m, _ := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if id := m.Header.Get("Message-Id"); id != e.n.MessageID(e.receipt(t, num), e.items(t)[0].ID) {
		t.Errorf("Message-ID %s not the item's", id)
	}
}

// Test550: a permanent refusal fails the item at once, with the server's answer in the receipt.
func Test550(t *testing.T) {
	e := newEnv(t, nil)
	num := e.record(t, accepted("xinfu-jky@example.cn"))
	e.sink.RejectAll(550, "5.1.1 mailbox unavailable")
	if sent, failed := e.flush(t); sent != 0 || failed != 1 {
		t.Fatalf("sent %d failed %d", sent, failed)
	}
	r := e.receipt(t, num)
	if r.Reply != store.ReplyFailed || !strings.Contains(r.ReplyNote, "550") || !strings.Contains(r.ReplyNote, "mailbox unavailable") {
		t.Errorf("receipt: %q %q", r.Reply, r.ReplyNote)
	}
	e.sink.RejectAll(0, "")
	e.clk.Add(24 * time.Hour)
	if sent, failed := e.flush(t); sent+failed != 0 || e.sink.Attempts() != 1 {
		t.Error("a failed item was tried again")
	}
	// briefd resend queues it again; now it goes.
	if _, err := e.st.Requeue(num, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if sent, _ := e.flush(t); sent != 1 {
		t.Error("resend not delivered")
	}
	if r := e.receipt(t, num); r.Reply != store.ReplySent {
		t.Errorf("after resend: %s", r.Reply)
	}
}

// TestServerDownThenUp: the sink is stopped while replies are queued; passes while it is down try one
// item each and stop; once it is back every reply is delivered exactly once.
func TestServerDownThenUp(t *testing.T) {
	e := newEnv(t, nil)
	want := map[string]bool{}
	for i := 0; i < 6; i++ {
		want[e.record(t, accepted("xinfu-jky@example.cn"))] = true
	}
	if err := e.sink.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ { // 20 passes, 30 s apart: ten minutes down
		sent, failed := e.flush(t)
		if sent != 0 || failed > 1 {
			t.Fatalf("pass %d while down: sent %d failed %d; want 0 and at most 1", i, sent, failed)
		}
		e.clk.Add(30 * time.Second)
	}
	for _, it := range e.items(t) {
		if it.State != store.OutQueued {
			t.Fatalf("item %d is %s while the server is down", it.ID, it.State)
		}
	}
	if err := e.sink.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30 && len(e.sink.Messages()) < len(want); i++ {
		e.flush(t)
		e.clk.Add(time.Minute)
	}
	for i := 0; i < 10; i++ { // and nothing more afterwards
		e.flush(t)
		e.clk.Add(time.Hour)
	}
	seen := map[string]int{}
	for _, m := range e.sink.Messages() {
		msg, _ := mail.ReadMessage(bytes.NewReader(m.Data))
		seen[msg.Header.Get("Message-Id")]++
	}
	if len(seen) != len(want) || len(e.sink.Messages()) != len(want) {
		t.Errorf("delivered %d messages with %d distinct ids; want %d each", len(e.sink.Messages()), len(seen), len(want))
	}
	for num := range want {
		if r := e.receipt(t, num); r.Reply != store.ReplySent {
			t.Errorf("%s: %s %s", num, r.Reply, r.ReplyNote)
		}
	}
}

// TestGiveUp: temporary failures are retried with growing waits up to 6 hours, for 5 days, then the
// item fails with the last answer.
func TestGiveUp(t *testing.T) {
	e := newEnv(t, nil)
	num := e.record(t, accepted("xinfu-jky@example.cn"))
	e.sink.RejectAll(451, "4.7.1 greylisted")
	var waits []time.Duration
	start := e.clk.Now()
	for e.clk.Now().Sub(start) < 6*24*time.Hour {
		e.flush(t)
		it := e.items(t)[0]
		if it.State != store.OutQueued {
			break
		}
		d := it.NextTry.Sub(e.clk.Now())
		if len(waits) == 0 || waits[len(waits)-1] != d || d != MaxBackoff {
			waits = append(waits, d)
		}
		e.clk.Add(d)
	}
	wantWaits := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute,
		64 * time.Minute, 128 * time.Minute, 256 * time.Minute, 6 * time.Hour}
	if len(waits) != len(wantWaits) {
		t.Fatalf("waits %v; want %v", waits, wantWaits)
	}
	for i := range waits {
		if waits[i] != wantWaits[i] {
			t.Fatalf("waits %v; want %v", waits, wantWaits)
		}
	}
	r := e.receipt(t, num)
	if r.Reply != store.ReplyFailed || !strings.Contains(r.ReplyNote, "gave up") || !strings.Contains(r.ReplyNote, "greylisted") {
		t.Errorf("receipt: %q %q", r.Reply, r.ReplyNote)
	}
	if d := e.clk.Now().Sub(start); d < 5*24*time.Hour || d > 5*24*time.Hour+MaxBackoff {
		t.Errorf("gave up after %s; want about 5 days", d)
	}
}

// TestResendUsesCurrentData: the reply is composed when sent, so an assignment made after the first
// reply shows in the resend, under a new Message-ID.
func TestResendUsesCurrentData(t *testing.T) {
	e := newEnv(t, nil)
	num := e.record(t, &store.Receipt{From: "dxjy@163.com", Match: "none", Verdict: store.VerdictAccepted, Attachments: accepted("").Attachments})
	e.flush(t)
	if err := e.st.UpdateReceipt(num, func(r *store.Receipt) error { r.Unit, r.Match = "dingxiang", "manual"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Requeue(num, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	e.flush(t)
	msgs := e.sink.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	a, b := mailtest.Render(t, msgs[0].Data), mailtest.Render(t, msgs[1].Data)
	if !strings.Contains(a, "尚未登记") || !strings.Contains(b, "定襄县教育局：") || strings.Contains(b, "尚未登记") {
		t.Errorf("resend does not reflect the assignment:\n%s", b)
	}
	ida, _ := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
	idb, _ := mail.ReadMessage(bytes.NewReader(msgs[1].Data))
	if ida.Header.Get("Message-Id") == idb.Header.Get("Message-Id") {
		t.Error("resend reuses the Message-ID")
	}
}

// TestOtherKinds: summaries and reminders are sent as queued, to their recipient, even our own address.
func TestOtherKinds(t *testing.T) {
	e := newEnv(t, nil)
	msg := []byte("From: <xzszjk@example.cn>\r\nTo: <xzszjk@example.cn>\r\nSubject: summary\r\nAuto-Submitted: auto-generated\r\n\r\nhello\r\n")
	for _, it := range []*store.OutboxItem{
		{Kind: store.KindSummary, To: officeAddr, Message: msg, NextTry: e.clk.Now(), Created: e.clk.Now()},
		{Kind: store.KindReminder, To: "dx@example.cn", Message: msg, NextTry: e.clk.Now(), Created: e.clk.Now()},
		{Kind: store.KindReminder, To: "dx@example.cn\r\nBcc: x@y.z", Message: msg, NextTry: e.clk.Now(), Created: e.clk.Now()},
		{Kind: store.KindAlert, To: "head@example.cn", NextTry: e.clk.Now(), Created: e.clk.Now()},
	} {
		if err := e.st.Enqueue(it); err != nil {
			t.Fatal(err)
		}
	}
	sent, failed := e.flush(t)
	if sent != 2 || failed != 1 {
		t.Errorf("sent %d failed %d; want 2, 1", sent, failed)
	}
	msgs := e.sink.Messages()
	if len(msgs) != 2 || !bytes.Equal(msgs[0].Data, msg) || msgs[0].To[0] != officeAddr || msgs[1].To[0] != "dx@example.cn" {
		t.Errorf("sink: %+v", msgs)
	}
	states := []string{}
	for _, it := range e.items(t) {
		states = append(states, it.State)
	}
	if strings.Join(states, ",") != "sent,sent,suppressed,failed" {
		t.Errorf("states %v", states)
	}
}

// TestRun: the loop sends at start, when woken, and stops when ctx is cancelled.
func TestRun(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Now = nil })
	e.record(t, accepted("xinfu-jky@example.cn"))
	ctx, cancel := context.WithCancel(context.Background())
	wake := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() { done <- e.b.Run(ctx, wake) }()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if _, err := e.sink.Wait(wctx, 1); err != nil {
		t.Fatal(err)
	}
	e.record(t, accepted("dx@example.cn"))
	wake <- struct{}{}
	if _, err := e.sink.Wait(wctx, 2); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// fakeSender fails with the given errors in turn, then succeeds.
type fakeSender struct {
	errs []error
	n    int
}

func (f *fakeSender) Send(_ context.Context, _ string, _ []string, _ []byte) error {
	f.n++
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return err
	}
	return nil
}

// TestConnectionErrorStopsPass: after a failure that is about the server, the rest of the pass waits;
// after a refusal of one message, the pass goes on.
func TestConnectionErrorStopsPass(t *testing.T) {
	e := newEnv(t, nil)
	f := &fakeSender{errs: []error{&SendError{Stage: "auth", Code: 535, Err: errors.New("535 auth failed")}}}
	e.b.snd = f
	for i := 0; i < 3; i++ {
		e.record(t, accepted("xinfu-jky@example.cn"))
	}
	if sent, failed := e.flush(t); sent != 0 || failed != 1 || f.n != 1 {
		t.Errorf("auth failure: sent %d failed %d tries %d; want 0 1 1", sent, failed, f.n)
	}
	if it := e.items(t)[0]; it.State != store.OutQueued {
		t.Errorf("a 535 at AUTH must be retried (it is our setup, not the message): %s", it.State)
	}
	f.errs = []error{&SendError{Stage: "rcpt", Code: 550, Err: errors.New("550 no such user")}}
	f.n = 0
	// The second pass: one refused (550 at RCPT), one sent — and since the server answers again, the item
	// that waited out the AUTH failure is tried at once instead of after its backoff.
	if sent, failed := e.flush(t); sent != 2 || failed != 1 || f.n != 3 {
		t.Errorf("550 at RCPT: sent %d failed %d tries %d; want 2 1 3", sent, failed, f.n)
	}
}

// TestUnreachableServerKeepsMailDue: a server that does not answer is not the message's fault, so the
// message keeps no backoff and goes out with the rest at the first pass after the server is back. A server
// that answers and refuses (535) still backs off, so a wrong password is not tried every few seconds.
func TestUnreachableServerKeepsMailDue(t *testing.T) {
	e := newEnv(t, nil)
	down := &SendError{Stage: "connect", Err: errors.New("dial tcp: connection refused")}
	f := &fakeSender{errs: []error{down, down, down}}
	e.b.snd = f
	for range 3 {
		e.record(t, accepted("xinfu-jky@example.cn"))
	}
	for pass := range 3 { // three passes while the server is down: one connection attempt each
		if sent, _ := e.flush(t); sent != 0 || f.n != pass+1 {
			t.Fatalf("pass %d while down: sent %d, tries %d", pass, sent, f.n)
		}
	}
	for _, it := range e.items(t) {
		if it.State != store.OutQueued || it.NextTry.After(e.clk.Now()) {
			t.Errorf("item %d: %s, next try %s; want queued and due", it.ID, it.State, it.NextTry)
		}
	}
	if sent, failed := e.flush(t); sent != 3 || failed != 0 {
		t.Errorf("first pass after the server is back: sent %d failed %d; want 3 0", sent, failed)
	}
	f.errs = []error{&SendError{Stage: "auth", Code: 535, Err: errors.New("535 auth failed")}}
	e.record(t, accepted("xinfu-jky@example.cn"))
	e.flush(t)
	if it := e.items(t)[3]; !it.NextTry.After(e.clk.Now()) {
		t.Errorf("after a 535 the item must back off; next try %s", it.NextTry)
	}
}

// TestFailureNotice: a mail recorded as failed gets no reply; the office gets one notice naming the
// receipt and why, composed when it is sent.
func TestFailureNotice(t *testing.T) {
	e := newEnv(t, nil)
	r := &store.Receipt{Received: e.clk.Now(), From: "xinfu-jky@example.cn", Subject: "忻府区简报", Verdict: store.VerdictFailed,
		Note: "failed 3 times: intake: panic while handling uid 9: boom", Reply: store.ReplySuppressed}
	out := []*store.OutboxItem{{Kind: store.KindFailure, To: "head@example.cn", Created: e.clk.Now(), NextTry: e.clk.Now()}}
	num, _, err := e.st.RecordWith(r, nil, nil, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sent, failed := e.flush(t); sent != 1 || failed != 0 {
		t.Fatalf("sent %d failed %d", sent, failed)
	}
	msgs := e.sink.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "head@example.cn" {
		t.Fatalf("sink: %+v", msgs)
	}
	text := mailtest.Render(t, msgs[0].Data)
	for _, want := range []string{"Subject: briefd：一封来信无法处理（回执 " + num + "）", "Auto-Submitted: auto-generated",
		"panic while handling uid 9", "briefd recheck " + num, "xinfu-jky@example.cn"} {
		if !strings.Contains(text, want) {
			t.Errorf("notice lacks %q:\n%s", want, text)
		}
	}
	if again, _ := e.flush(t); again != 0 {
		t.Errorf("sent again")
	}
}

// TestBadRecipient: an address with a quote, a newline, a space, two addresses: suppressed with a reason,
// nothing sent.
func TestBadRecipient(t *testing.T) {
	for _, addr := range []string{
		`"a\"b"@example.cn`, "a\"b@example.cn", "a@example.cn\r\nBcc: x@evil.example", "a b@example.cn",
		"a@example.cn, b@example.cn", "<a@example.cn>", "a@", "@example.cn", "张三@example.cn", "a@exa mple.cn", "a..b@example.cn",
	} {
		t.Run(strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(addr), func(t *testing.T) {
			e := newEnv(t, nil)
			num := e.record(t, &store.Receipt{From: addr, Match: "none", Verdict: store.VerdictNoAttachment})
			if sent, _ := e.flush(t); sent != 0 {
				t.Fatal("sent")
			}
			r := e.receipt(t, num)
			if r.Reply != store.ReplySuppressed || !strings.Contains(r.ReplyNote, "not one valid address") {
				t.Errorf("reply %q note %q; want suppressed, not one valid address", r.Reply, r.ReplyNote)
			}
			if strings.ContainsAny(r.ReplyNote, "\r\n") {
				t.Errorf("note has a line break: %q", r.ReplyNote)
			}
			if e.sink.Attempts() != 0 {
				t.Error("sink was contacted")
			}
		})
	}
}

// TestReplySent: a reply goes from the office to the sender alone, and what goes out is exactly what
// notify composes for its outbox item (notify's TestReplyGolden checks those bytes); the receipt says
// sent, and SaveSent gets a copy identical to what was sent.
func TestReplySent(t *testing.T) {
	e := newEnv(t, nil)
	rs := []*store.Receipt{
		accepted("xinfu-jky@example.cn"),
		{MessageID: "<n1@example.cn>", From: "dx@example.cn", Subject: "定襄县简报", Unit: "dingxiang", Match: "address",
			Verdict: store.VerdictNoAttachment},
		{MessageID: "no-angle-brackets and spaces", From: "weird@example.cn", FromName: "王\r\nBcc: evil@attacker.example\x00\u202e",
			Subject: strings.Repeat("长\r\nX-Evil: 1 ", 100), Match: "none", Verdict: store.VerdictMalformed},
	}
	for _, r := range rs {
		e.record(t, r)
	}
	if sent, failed := e.flush(t); sent != len(rs) || failed != 0 {
		t.Fatalf("flush: sent %d, failed %d; want %d, 0; items %+v", sent, failed, len(rs), e.items(t))
	}
	msgs := e.sink.Messages()
	items := e.items(t)
	if len(msgs) != len(rs) || len(items) != len(rs) {
		t.Fatalf("sink got %d messages for %d items, want %d", len(msgs), len(items), len(rs))
	}
	for i, it := range items {
		m, r := msgs[i], e.receipt(t, it.Receipt)
		if m.From != officeAddr || len(m.To) != 1 || m.To[0] != r.From {
			t.Errorf("%s: envelope %s -> %v; want %s -> [%s]", r.Number, m.From, m.To, officeAddr, r.From)
		}
		if r.Reply != store.ReplySent || r.ReplyNote != "" {
			t.Errorf("%s: receipt reply %q %q; want sent", r.Number, r.Reply, r.ReplyNote)
		}
		want, err := e.n.Reply(r, it.ID, false)
		if err != nil || !bytes.Equal(m.Data, want) {
			t.Errorf("%s: sent a message other than notify's reply for item %d (%v)", r.Number, it.ID, err)
		}
	}
	if len(e.saved) != len(rs) || !bytes.Equal(e.saved[0], msgs[0].Data) {
		t.Errorf("SaveSent got %d copies, want %d identical to what was sent", len(e.saved), len(rs))
	}
}
