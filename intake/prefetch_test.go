package intake

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"briefd/internal/mailtest"
)

func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "imap-*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestIMAPPrefetch: while the handler works on a message, the next one is downloaded into its spool
// file; the handler still sees the messages in UID order with the right content.
func TestIMAPPrefetch(t *testing.T) {
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{})
	var mails [][]byte
	for i := 1; i <= 5; i++ {
		mails = append(mails, testMail(i, 50_000))
	}
	appendAll(t, srv, "INBOX", mails)
	st := openStore(t)
	rec := newRecorder(t, st)
	spool := t.TempDir()
	prefetched := 0
	h := func(ctx context.Context, f *Fetched) error {
		// The next message's spool file appears while this handler runs.
		if f.Index < f.Total {
			next := filepath.Join(spool, "imap-*-"+strconv.Itoa(int(f.Key.UID+1))+"-*.eml")
			for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if m, _ := filepath.Glob(next); len(m) == 1 {
					if fi, err := os.Stat(m[0]); err == nil && fi.Size() == int64(len(mails[f.Index])) {
						prefetched++
						break
					}
				}
			}
		}
		return rec.handle(ctx, f)
	}
	o := baseOptions(srv.Addr, srv.User, srv.Pass, spool)
	o.After = AfterSeen
	got, err := NewWatcher(o, st, testLogger(t)).Poll(context.Background(), h)
	if err != nil || got != 5 {
		t.Fatalf("Poll = %d, %v; want 5", got, err)
	}
	if prefetched != 4 {
		t.Errorf("%d of 4 next messages were downloaded during the handler", prefetched)
	}
	for i, f := range rec.got {
		if f.Key.UID != uint32(i+1) || f.Index != i+1 || f.Total != 5 || rec.sums[i] != sum(mails[i]) {
			t.Errorf("handled #%d: uid %d index %d/%d, content ok %v", i, f.Key.UID, f.Index, f.Total, rec.sums[i] == sum(mails[i]))
		}
	}
	msgs, err := srv.Messages("INBOX")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if !m.HasFlag(`\Seen`) {
			t.Errorf("a message is not \\Seen after the pass")
		}
	}
	if left := spoolFiles(t, spool); len(left) != 0 {
		t.Errorf("spool files left: %v", left)
	}
}

// TestIMAPPrefetchHandlerError: a handler's fault stops the pass with the cursor at the last good
// message, and the prefetched next message's spool file is removed.
func TestIMAPPrefetchHandlerError(t *testing.T) {
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{})
	appendAll(t, srv, "INBOX", [][]byte{testMail(1, 20_000), testMail(2, 20_000), testMail(3, 20_000), testMail(4, 20_000)})
	st := openStore(t)
	rec := newRecorder(t, st)
	rec.failOn[2], rec.faults = 1, true
	spool := t.TempDir()
	w := NewWatcher(baseOptions(srv.Addr, srv.User, srv.Pass, spool), st, testLogger(t))
	got, err := w.Poll(context.Background(), rec.handle)
	var herr *handlerError
	if got != 1 || !errors.As(err, &herr) || !strings.Contains(err.Error(), "pipeline says no") {
		t.Fatalf("Poll = %d, %v; want 1 and the handler's error", got, err)
	}
	cur, err := st.Cursor("INBOX")
	if err != nil || cur.LastUID != 1 {
		t.Fatalf("cursor %+v, %v; want last uid 1", cur, err)
	}
	if left := spoolFiles(t, spool); len(left) != 0 {
		t.Errorf("spool files left: %v", left)
	}
	// The next pass goes on from message 2, in order.
	if got, err := w.Poll(context.Background(), rec.handle); got != 3 || err != nil {
		t.Fatalf("second Poll = %d, %v; want 3", got, err)
	}
	for i, f := range rec.got {
		if f.Key.UID != uint32(i+1) {
			t.Errorf("handled #%d: uid %d", i, f.Key.UID)
		}
	}
	if left := spoolFiles(t, spool); len(left) != 0 {
		t.Errorf("spool files left: %v", left)
	}
}
