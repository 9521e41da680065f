package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"briefd/internal/mailtest"
)

// The outage tests run `briefd run` (this test binary acting as briefd) against a real Dovecot and an
// SMTP sink and take them away for a while. The outages last 15 s, not the minutes of real life, to keep
// CI short; the watcher's backoff (1 s doubling to 5 min, ±25 % jitter) means the first retry after a
// 15 s outage comes up to about 16 s after the server is back. Each test prints its recovery times.

// outageDowntime is how long each outage lasts.
const outageDowntime = 15 * time.Second

// Dovecot stops in the middle of a backlog and again while briefd idles. briefd reconnects, logs the loss
// and the reconnection once per outage, loses no mail and records none twice, and the dashboard's metrics
// count the reconnections.
func TestOutageIMAPStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("outage tests take a minute")
	}
	t.Parallel()
	dc := mailtest.NewDovecot(t)
	// A few milliseconds per packet, as over a real network, so that the backlog takes a few seconds.
	slow := mailtest.NewSlowProxy(t, dc.Addr, mailtest.SlowOptions{Latency: 3 * time.Millisecond})
	sink := mailtest.NewSink(t, mailtest.SinkOptions{})
	samples, err := mailtest.Backlog(151, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	backlog, late := samples[:150], samples[150]
	ids := appendBacklog(t, dc, backlog)
	dir := t.TempDir()
	rc := &relConfig{IMAP: slow.Addr, SMTP: sink.Addr(), User: dc.User, Pass: dc.Pass}
	d := newDaemon(t, "", writeRelConfig(t, dir, rc), dir)
	d.start()

	// outage stops Dovecot for outageDowntime and returns how long briefd took to notice, and when
	// Dovecot was back.
	outage := func(n int) (detect time.Duration, upAt time.Time) {
		downAt := time.Now()
		if err := dc.Halt(); err != nil {
			t.Fatal(err)
		}
		lostAt, err := d.waitLog("imap: connection lost", n, outageDowntime)
		if err != nil {
			t.Fatalf("outage %d: %v\n%s", n, err, tail(d.log(), 3000))
		}
		if v := metric(t, rc.WebListen, "briefd_mailbox_errors_total"); v < 1 {
			t.Errorf("outage %d: briefd_mailbox_errors_total = %v while Dovecot is down, want > 0", n, v)
		}
		time.Sleep(time.Until(downAt.Add(outageDowntime)))
		if err := dc.Resume(); err != nil {
			t.Fatal(err)
		}
		return lostAt.Sub(downAt), time.Now()
	}

	// 1. In the middle of the backlog.
	if _, err := d.waitLog("recorded", 20, time.Minute); err != nil {
		t.Fatal(err)
	}
	detect1, upAt := outage(1)
	before := len(d.logLines("recorded"))
	recAt, err := d.waitLog("imap: reconnected", 1, 2*time.Minute)
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(d.log(), 3000))
	}
	backlogRecovery := recAt.Sub(upAt)
	if _, err := d.waitReceipts(2*time.Minute, settled(len(ids))); err != nil {
		t.Fatal(err)
	}
	backlogDone := time.Since(upAt)
	if before >= len(ids) {
		t.Errorf("the backlog was done (%d) before the outage: the test did not test an outage mid-backlog", before)
	}

	// 2. While idling; the next mail arrives while Dovecot is down.
	time.Sleep(time.Second)
	detect2, upAt2 := outage(2)
	ids = append(ids, appendBacklog(t, dc, []mailtest.Sample{late})...)
	recAt2, err := d.waitLog("imap: reconnected", 2, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.waitReceipts(time.Minute, settled(len(ids))); err != nil {
		t.Fatal(err)
	}
	idleMail := time.Since(upAt2)
	reconnects := metric(t, rc.WebListen, "briefd_mailbox_reconnects_total")

	if err := d.stop(30 * time.Second); err != nil {
		t.Error(err)
	}
	rep := checkDatabase(t, dir, ids)
	replies := repliesByOriginal(sink.Messages())
	for id, n := range replies {
		if n > 1 {
			t.Errorf("%s: %d replies", id, n)
		}
	}
	lost, back := len(d.logLines("imap: connection lost")), len(d.logLines("imap: reconnected"))
	if lost != 2 || back != 2 {
		t.Errorf("logged %d losses and %d reconnections for 2 outages, want 2 and 2 (once per state change)", lost, back)
	}
	if reconnects < 2 {
		t.Errorf("briefd_mailbox_reconnects_total = %v after two outages, want 2", reconnects)
	}
	fig := fmt.Sprintf("OUTAGE imap stopped %s: mid-backlog (%d of %d recorded): noticed after %s, reconnected %s after Dovecot was back, "+
		"backlog done %s after; while idle: noticed after %s, reconnected %s after, new mail recorded and answered %s after; "+
		"receipts %d for %d mails, replies %d, logged losses %d, reconnections %d",
		outageDowntime, before, len(ids)-1, detect1.Round(10*time.Millisecond), backlogRecovery.Round(10*time.Millisecond),
		backlogDone.Round(10*time.Millisecond), detect2.Round(10*time.Millisecond), recAt2.Sub(upAt2).Round(10*time.Millisecond),
		idleMail.Round(10*time.Millisecond), len(rep.Receipts), len(ids), len(sink.Messages()), lost, back)
	t.Log(fig)
	fmt.Println(fig)
}

// Dovecot comes back with a new UIDVALIDITY (a migration, a restored mailbox): briefd rescans, every
// message is found recorded by its Message-ID, and nobody gets a second receipt or reply.
func TestOutageUIDValidityChanged(t *testing.T) {
	if testing.Short() {
		t.Skip("outage tests take a minute")
	}
	t.Parallel()
	dc := mailtest.NewDovecot(t)
	sink := mailtest.NewSink(t, mailtest.SinkOptions{})
	samples, err := mailtest.Backlog(40, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ids := appendBacklog(t, dc, samples)
	dir := t.TempDir()
	d := newDaemon(t, "", writeRelConfig(t, dir, &relConfig{IMAP: dc.Addr, SMTP: sink.Addr(), User: dc.User, Pass: dc.Pass}), dir)
	d.start()
	if _, err := d.waitReceipts(time.Minute, settled(len(ids))); err != nil {
		t.Fatal(err)
	}
	before := len(sink.Messages())
	start := time.Now()
	if err := dc.RecreateMailbox("INBOX"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.waitLog("UIDVALIDITY changed", 1, time.Minute); err != nil {
		t.Fatalf("%v\n%s", err, tail(d.log(), 3000))
	}
	// Every message comes again under a new UID and is recognised by its Message-ID.
	deadline := time.Now().Add(time.Minute)
	for dups := 0; dups < len(ids); {
		dups = 0
		for _, r := range d.logLines("recorded") {
			if r["dup"] == true {
				dups++
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages recognised after the rescan", dups, len(ids))
		}
		time.Sleep(100 * time.Millisecond)
	}
	rescan := time.Since(start)
	time.Sleep(time.Second) // a reply wrongly queued would go out now
	if err := d.stop(30 * time.Second); err != nil {
		t.Error(err)
	}
	rep := checkDatabase(t, dir, ids)
	if n := len(sink.Messages()); n != before {
		t.Errorf("%d replies after the rescan, want %d", n, before)
	}
	fig := fmt.Sprintf("OUTAGE uidvalidity changed: %d mails rescanned and recognised in %s, receipts %d, extra replies %d",
		len(ids), rescan.Round(10*time.Millisecond), len(rep.Receipts), len(sink.Messages())-before)
	t.Log(fig)
	fmt.Println(fig)
}

// The SMTP server is down while mail comes in and back after a while: every queued reply goes out once.
// While no server answers, the outbox keeps its mail due and looks again every 10 s, so the replies go out
// within seconds of the server's return.
func TestOutageSMTPDown(t *testing.T) {
	if testing.Short() {
		t.Skip("outage tests take a minute")
	}
	t.Parallel()
	dc := mailtest.NewDovecot(t)
	sink := mailtest.NewSink(t, mailtest.SinkOptions{})
	samples, err := mailtest.Backlog(40, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ids := appendBacklog(t, dc, samples)
	if err := sink.Stop(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rc := &relConfig{IMAP: dc.Addr, SMTP: sink.Addr(), User: dc.User, Pass: dc.Pass}
	d := newDaemon(t, "", writeRelConfig(t, dir, rc), dir)
	d.start()
	downAt := time.Now()
	if _, err := d.waitLog("recorded", len(ids), time.Minute); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(downAt.Add(outageDowntime)))
	depth := metric(t, rc.WebListen, "briefd_outbox_depth")
	if err := sink.Start(); err != nil {
		t.Fatal(err)
	}
	upAt := time.Now()
	if _, err := d.waitReceipts(3*time.Minute, settled(len(ids))); err != nil {
		t.Fatalf("%v\n%s", err, tail(d.log(), 3000))
	}
	recovery := time.Since(upAt)
	if err := d.stop(30 * time.Second); err != nil {
		t.Error(err)
	}
	rep := checkDatabase(t, dir, ids)
	replies := repliesByOriginal(sink.Messages())
	dups := 0
	for i, s := range samples {
		n := replies[ids[i]]
		if s.Reply && n == 0 {
			t.Errorf("%s: no reply after the SMTP server came back", ids[i])
		}
		if n > 1 {
			dups += n - 1
		}
	}
	if dups > 0 {
		t.Errorf("%d duplicate replies", dups)
	}
	if int(depth) < wantReplies(samples) { // the daemon may queue an alert or summary of its own too
		t.Errorf("briefd_outbox_depth %v while SMTP was down, want at least %d", depth, wantReplies(samples))
	}
	fig := fmt.Sprintf("OUTAGE smtp down %s: %d replies queued, all delivered %s after the server was back, duplicates %d, receipts %d",
		outageDowntime, int(depth), recovery.Round(10*time.Millisecond), dups, len(rep.Receipts))
	t.Log(fig)
	fmt.Println(fig)
}

// metric reads one value from the dashboard's /metrics.
func metric(t testing.TB, listen, name string) float64 {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + listen + "/metrics")
	if err != nil {
		t.Errorf("metrics: %v", err)
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Errorf("metrics: no %s in\n%s", name, body)
		return -1
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Errorf("metrics: %s: %v", name, err)
	}
	return v
}
