//go:build crash

package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"briefd/internal/mailtest"
	"briefd/store"
)

// TestCrash is the crash test CI runs (go test -tags crash -run TestCrash ./...): a backlog of 300 mails
// in Dovecot, the briefd binary started with `briefd run` and killed with SIGKILL at 20 random moments
// (50–800 ms after each start, so kills land while it fetches, checks, commits and sends), restarted each
// time, then left to finish. Afterwards: exactly one receipt per mail, none missing, unique receipt
// numbers, a database that passes bbolt's check, no staged or spooled leftovers, and at most one reply per
// mail (the known window between the SMTP server's 250 and the store update may give a duplicate; the
// test reports how many). BRIEFD_CRASH_SEED repeats a run's kill times; BRIEFD_CRASH_MAILS and
// BRIEFD_CRASH_KILLS change the sizes.
func TestCrash(t *testing.T) {
	began := time.Now()
	mails, kills := envInt("BRIEFD_CRASH_MAILS", 300), envInt("BRIEFD_CRASH_KILLS", 20)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BRIEFD_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	rng := rand.New(rand.NewPCG(seed, 0x62726965666420))
	t.Logf("seed %d (BRIEFD_CRASH_SEED=%d repeats the kill times)", seed, seed)

	dir := t.TempDir()
	exe := filepath.Join(dir, "briefd")
	build := exec.Command("go", "build", "-o", exe, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	dc := mailtest.NewDovecot(t)
	sink := mailtest.NewSink(t, mailtest.SinkOptions{})
	// A little slower than loopback, so that kills also land in the middle of SMTP conversations.
	slow := mailtest.NewSlowProxy(t, sink.Addr(), mailtest.SlowOptions{Latency: 3 * time.Millisecond})
	samples, err := mailtest.Backlog(mails, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ids := appendBacklog(t, dc, samples)
	t.Logf("%d mails appended to Dovecot in %s", len(ids), time.Since(began).Round(time.Millisecond))

	cfg := writeRelConfig(t, dir, &relConfig{IMAP: dc.Addr, SMTP: slow.Addr, User: dc.User, Pass: dc.Pass})
	d := newDaemon(t, exe, cfg, dir)
	phases := map[string]int{}
	runStart := time.Now()
	for i := range kills {
		d.start()
		delay := time.Duration(50+rng.IntN(751)) * time.Millisecond
		time.Sleep(delay)
		if !d.alive() {
			t.Fatalf("briefd exited on its own before kill %d:\n%s", i+1, tail(d.log(), 3000))
		}
		d.kill()
		phases[lastActivity(d.logs[len(d.logs)-1])]++
	}
	d.start()
	rs, err := d.waitReceipts(3*time.Minute, settled(len(ids)))
	if err != nil {
		t.Fatalf("backlog not done after the last restart: %v\n%s", err, tail(d.log(), 3000))
	}
	if err := d.stop(30 * time.Second); err != nil {
		t.Errorf("stopping briefd: %v", err)
	}
	elapsed := time.Since(runStart)

	rep := checkDatabase(t, dir, ids)
	replies := repliesByOriginal(sink.Messages())
	deserve, delivered, dups, extra := 0, 0, 0, 0
	for i, s := range samples {
		n := replies[ids[i]]
		switch {
		case s.Reply:
			deserve++
			if n == 0 {
				t.Errorf("%s (%s): no reply delivered", ids[i], s.About)
			}
		case n > 0:
			t.Errorf("%s (%s): %d replies to a mail that deserves none", ids[i], s.About, n)
		}
		if n > 0 {
			delivered++
		}
		if n > 1 {
			dups += n - 1
		}
	}
	for id, n := range replies {
		if id == "" {
			extra += n
		}
	}
	sent := 0
	for _, r := range rs {
		if r.Reply == store.ReplySent {
			sent++
		}
	}
	var ph []string
	for k, v := range phases {
		ph = append(ph, fmt.Sprintf("%s: %d", k, v))
	}
	sort.Strings(ph)
	fig := fmt.Sprintf("CRASH TEST: kills %d (survived %d), mails %d, receipts %d, missing %d, duplicate receipts %d, "+
		"duplicate receipt numbers %d, replies deserved %d, delivered %d, duplicate replies %d, other mail %d, "+
		"queued after %d, restarts %d, time %s (test %s); killed while last doing: %s",
		kills, kills, len(ids), len(rep.Receipts), missingCount(rep, ids), dupReceipts(rep), rep.DupNumbers,
		deserve, delivered, dups, extra, rep.Queued, d.starts, elapsed.Round(time.Millisecond),
		time.Since(began).Round(time.Millisecond), strings.Join(ph, ", "))
	t.Log(fig)
	fmt.Println(fig)
	if dups > 0 {
		t.Logf("%d duplicate replies: each one is the documented window between the SMTP 250 and the store update (outbox.deliver)", dups)
	}
	if dups > kills { // one send at a time: a kill can repeat at most the one in flight
		t.Errorf("%d duplicate replies after %d kills: more than the send-to-record window explains", dups, kills)
	}
	if sent != deserve {
		t.Errorf("%d receipts say the reply was sent, want %d", sent, deserve)
	}
	if rep.Queued != 0 {
		t.Errorf("%d outbox items still queued", rep.Queued)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func missingCount(rep dbReport, ids []string) int {
	n := 0
	for _, id := range ids {
		if len(rep.ByID[id]) == 0 {
			n++
		}
	}
	return n
}

func dupReceipts(rep dbReport) int {
	n := 0
	for _, nums := range rep.ByID {
		if len(nums) > 1 {
			n += len(nums) - 1
		}
	}
	return n
}

// lastActivity names what a killed run was doing last, from its log.
func lastActivity(logPath string) string {
	data, _ := os.ReadFile(logPath)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		switch {
		case strings.Contains(l, `"msg":"recorded"`):
			return "after a commit (fetch/check of the next)"
		case strings.Contains(l, `"msg":"outbox: sent"`):
			return "after a send"
		case strings.Contains(l, `"msg":"briefd started"`):
			return "starting (recovery, connect, first fetch)"
		}
	}
	return "before logging"
}

// kill sends SIGKILL and waits for the process to be gone.
func (d *daemonProc) kill() {
	d.t.Helper()
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.exited
	d.cmd = nil
}
