package main

import (
	"context"
	"fmt"
	"mime"
	"net/textproto"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// latencyPhase empties INBOX, starts `briefd run` (IDLE) on it with a fresh store, appends mails one by
// one about a second apart, and times each from the end of its APPEND to its reply at the SMTP sink.
func (b *bench) latencyPhase(ctx context.Context) error {
	if b.gen == nil {
		b.gen = newGenerator(b.c.seed)
	}
	if _, err := b.d.Doveadm("expunge", "-u", b.d.User, "mailbox", "INBOX", "all"); err != nil {
		return err
	}
	dir := filepath.Join(b.tmp, "latency")
	cfg, err := b.writeConfig(dir, "INBOX", b.sink.Addr())
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b.sink.Reset()
	d, err := startDaemon(b.c.briefd, cfg)
	if err != nil {
		return err
	}
	defer d.stop()
	// Give it time to connect, make its first pass and enter IDLE.
	select {
	case <-d.done:
		return fmt.Errorf("briefd run exited at once: %v\n%s", d.err, d.output())
	case <-time.After(2 * time.Second):
	}
	sent := map[string]time.Time{}
	for i := range b.c.latency {
		if err := ctx.Err(); err != nil {
			return err
		}
		m := b.gen.next(time.Now().Truncate(time.Second))
		if _, err := b.d.Append("INBOX", m.Raw, m.Date); err != nil {
			return err
		}
		sent[m.MessageID] = time.Now()
		if i < b.c.latency-1 {
			time.Sleep(time.Second)
		}
	}
	// The sink may also get the weekly summary: only replies to the appended mails count.
	var lats []time.Duration
	seen := 0
	for deadline := time.Now().Add(30 * time.Second); len(sent) > 0 && time.Now().Before(deadline); {
		msgs := b.sink.Messages()
		for _, msg := range msgs[seen:] {
			id := inReplyTo(msg.Data)
			if t, ok := sent[id]; ok {
				lats = append(lats, msg.At.Sub(t))
				delete(sent, id)
			}
		}
		seen = len(msgs)
		time.Sleep(50 * time.Millisecond)
	}
	b.res.latN, b.res.latGot = b.c.latency, len(lats)
	if len(lats) == 0 {
		return fmt.Errorf("no reply reached the sink\n%s", d.output())
	}
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	b.res.lat50 = percentile(lats, 50)
	b.res.lat99 = percentile(lats, 99)
	b.res.latMax = lats[len(lats)-1]
	logf("IDLE latency over %d mails (%d replies): p50 %s p99 %s max %s", b.c.latency, len(lats),
		secs(b.res.lat50), secs(b.res.lat99), secs(b.res.latMax))
	return nil
}

// percentile by the nearest-rank method.
func percentile(sorted []time.Duration, p int) time.Duration {
	k := (p*len(sorted) + 99) / 100
	return sorted[min(max(k, 1), len(sorted))-1]
}

func inReplyTo(data []byte) string {
	r := textproto.NewReader(bufioReader(data))
	h, _ := r.ReadMIMEHeader()
	return strings.TrimSpace(h.Get("In-Reply-To"))
}

func subjectOf(data []byte) string {
	r := textproto.NewReader(bufioReader(data))
	h, _ := r.ReadMIMEHeader()
	if s, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); err == nil {
		return s
	}
	return h.Get("Subject")
}
