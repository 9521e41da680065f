package intake

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"briefd/internal/mailtest"
	"briefd/store"
)

// mailServer is what the watcher tests need from the in-memory server and from Dovecot.
type mailServer interface {
	Append(mailbox string, raw []byte, date time.Time) (uint32, error)
	RecreateMailbox(name string) error
	Messages(mailbox string) ([]mailtest.Message, error)
}

type memServer struct{ *mailtest.IMAPServer }

// testMail returns a CRLF message of about size bytes with a unique Message-ID.
func testMail(n, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: unit%d@example.cn\r\nTo: office@example.cn\r\nSubject: =?UTF-8?B?566A5oql?= %d\r\n", n, n)
	fmt.Fprintf(&b, "Date: Mon, 10 Jan 2022 14:32:05 +0800\r\nMessage-ID: <test-%d-%d@example.cn>\r\n", n, time.Now().UnixNano())
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	line := strings.Repeat(fmt.Sprintf("%d", n%10), 76) + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	return b.Bytes()
}

func messageID(raw []byte) string {
	for _, l := range strings.Split(string(raw), "\r\n") {
		if l == "" {
			break
		}
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Message-ID") {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func sum(b []byte) string { h := sha256.Sum256(b); return fmt.Sprintf("%x", h) }

// recorder is a Handler that records each message in the store the way the pipeline does.
type recorder struct {
	t  testing.TB
	st *store.Store

	mu     sync.Mutex
	got    []*Fetched
	sums   []string
	at     []time.Time
	failOn map[uint32]int // uid -> failures left
	faults bool           // the failures are faults of the machine (else of the message)
	hold   chan struct{}  // when set, the handler waits for it (and then finishes)
	inside chan struct{}  // signalled when the handler starts
	seen   chan uint32    // every handled UID
}

func newRecorder(t testing.TB, st *store.Store) *recorder {
	return &recorder{t: t, st: st, failOn: map[uint32]int{}, seen: make(chan uint32, 1000)}
}

func (r *recorder) handle(ctx context.Context, f *Fetched) error {
	if r.inside != nil {
		select {
		case r.inside <- struct{}{}:
		default:
		}
	}
	if r.hold != nil {
		<-r.hold
	}
	r.mu.Lock()
	if r.failOn[f.Key.UID] > 0 {
		r.failOn[f.Key.UID]--
		r.mu.Unlock()
		if r.faults {
			return &Fault{errors.New("pipeline says no: disk full")}
		}
		return errors.New("pipeline says no")
	}
	r.mu.Unlock()
	var digest, mid string
	if !f.TooLarge {
		raw, err := os.ReadFile(f.Path)
		if err != nil {
			return err
		}
		digest, mid = sum(raw), messageID(raw)
	}
	rec := &store.Receipt{
		Received: f.InternalDate, MessageID: mid, Verdict: store.VerdictNoAttachment,
		Mailbox: f.Key.Mailbox, UIDValidity: f.Key.UIDValidity, UID: f.Key.UID, Size: f.Size,
	}
	if f.TooLarge {
		rec.Verdict = store.VerdictTooLarge
	}
	key, cur := f.Key, f.Cursor()
	if _, _, err := r.st.Record(rec, &key, &cur, nil); err != nil {
		return err
	}
	cp := *f
	r.mu.Lock()
	r.got = append(r.got, &cp)
	r.sums = append(r.sums, digest)
	r.at = append(r.at, time.Now())
	r.mu.Unlock()
	r.seen <- f.Key.UID
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func (r *recorder) wait(t testing.TB, limit time.Duration) (uint32, time.Time) {
	t.Helper()
	select {
	case uid := <-r.seen:
		return uid, time.Now()
	case <-time.After(limit):
		t.Fatalf("no message handled within %v", limit)
		return 0, time.Time{}
	}
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "briefd.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func baseOptions(addr, user, pass, spool string) IMAPOptions {
	return IMAPOptions{
		Server: addr, Security: SecurityPlain, Username: user, Password: pass,
		SpoolDir: spool, PollInterval: 200 * time.Millisecond, CycleTimeout: 5 * time.Second,
	}
}

func appendAll(t testing.TB, srv mailServer, mailbox string, msgs [][]byte) {
	t.Helper()
	for _, m := range msgs {
		if _, err := srv.Append(mailbox, m, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
}

func spoolEmpty(t testing.TB, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) > 0 {
		t.Errorf("spool files left behind: %v", left)
	}
}

// testPollSuite runs the poll behaviour every server must show.
func testPollSuite(t *testing.T, srv mailServer, addr, user, pass string) {
	t.Run("OrderBytesAndSecondPoll", func(t *testing.T) {
		st, spool := openStore(t), t.TempDir()
		const n = 7
		var msgs [][]byte
		for i := range n {
			msgs = append(msgs, testMail(i, 500+i*3000))
		}
		appendAll(t, srv, "INBOX", msgs)
		w := NewWatcher(baseOptions(addr, user, pass, spool), st, testLogger(t))
		rec := newRecorder(t, st)
		got, err := w.Poll(context.Background(), rec.handle)
		if err != nil || got != n {
			t.Fatalf("Poll = %d, %v; want %d", got, err, n)
		}
		var last uint32
		for i, f := range rec.got {
			if f.Key.UID <= last {
				t.Errorf("uid %d after %d: not in UID order", f.Key.UID, last)
			}
			last = f.Key.UID
			if rec.sums[i] != sum(msgs[i]) {
				t.Errorf("message %d: spooled bytes differ from the appended ones", i)
			}
			if f.Index != i+1 || f.Total != n || f.Size != int64(len(msgs[i])) || f.InternalDate.IsZero() {
				t.Errorf("message %d: Index %d Total %d Size %d (want %d) date %v", i, f.Index, f.Total, f.Size, len(msgs[i]), f.InternalDate)
			}
		}
		cur, _ := st.Cursor("INBOX")
		if cur.LastUID != last || cur.UIDValidity == 0 {
			t.Errorf("cursor %+v, want last uid %d", cur, last)
		}
		if _, ok, _ := st.Mark(MarkIMAPLastOK); !ok {
			t.Errorf("mark %s not set", MarkIMAPLastOK)
		}
		spoolEmpty(t, spool)

		got, err = w.Poll(context.Background(), rec.handle)
		if err != nil || got != 0 {
			t.Fatalf("second Poll = %d, %v; want 0", got, err)
		}
		// The messages stay unread: the watcher never sets \Seen by itself (BODY.PEEK).
		all, err := srv.Messages("INBOX")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range all {
			if m.HasFlag(string(imap.FlagSeen)) {
				t.Errorf("uid %d got \\Seen", m.UID)
			}
		}
	})

	t.Run("UIDValidityChangeRescans", func(t *testing.T) {
		st, spool := openStore(t), t.TempDir()
		const box = "Rescan"
		if err := mailtest.CreateMailbox(addr, user, pass, box); err != nil {
			t.Fatal(err)
		}
		msgs := [][]byte{testMail(1, 800), testMail(2, 900), testMail(3, 1000)}
		appendAll(t, srv, box, msgs)
		opts := baseOptions(addr, user, pass, spool)
		opts.Mailbox = box
		w := NewWatcher(opts, st, testLogger(t))
		rec := newRecorder(t, st)
		if got, err := w.Poll(context.Background(), rec.handle); err != nil || got != 3 {
			t.Fatalf("Poll = %d, %v", got, err)
		}
		before, _ := st.Cursor(box)
		if err := srv.RecreateMailbox(box); err != nil {
			t.Fatal(err)
		}
		if got, err := w.Poll(context.Background(), rec.handle); err != nil || got != 3 {
			t.Fatalf("Poll after UIDVALIDITY change = %d, %v; want 3 (rescan)", got, err)
		}
		after, _ := st.Cursor(box)
		if after.UIDValidity == before.UIDValidity {
			t.Errorf("cursor kept UIDVALIDITY %d", before.UIDValidity)
		}
		for i, f := range rec.got[3:] {
			if f.Key.UIDValidity != after.UIDValidity || rec.sums[3+i] != sum(msgs[i]) {
				t.Errorf("rescan %d: key %+v", i, f.Key)
			}
		}
		// Message-ID dedupe (the pipeline's job, done here by store.Record) kept it to 3 receipts.
		rs, _ := st.Receipts(nil)
		if len(rs) != 3 {
			t.Errorf("%d receipts after rescan, want 3", len(rs))
		}
		if got, err := w.Poll(context.Background(), rec.handle); err != nil || got != 0 {
			t.Fatalf("third Poll = %d, %v; want 0", got, err)
		}
	})

	t.Run("MessageErrorRetriedAtOnce", func(t *testing.T) {
		st, spool := openStore(t), t.TempDir()
		const box = "RetryAtOnce"
		if err := mailtest.CreateMailbox(addr, user, pass, box); err != nil {
			t.Fatal(err)
		}
		appendAll(t, srv, box, [][]byte{testMail(1, 500), testMail(2, 500), testMail(3, 500)})
		all, _ := srv.Messages(box)
		opts := baseOptions(addr, user, pass, spool)
		opts.Mailbox = box
		w := NewWatcher(opts, st, testLogger(t))
		rec := newRecorder(t, st)
		rec.failOn[all[1].UID] = MaxAttempts - 1 // fails, fails, then goes through
		if got, err := w.Poll(context.Background(), rec.handle); err != nil || got != 3 {
			t.Fatalf("Poll = %d, %v; want 3", got, err)
		}
		rec.failOn[all[2].UID] = MaxAttempts
		appendAll(t, srv, box, [][]byte{testMail(4, 500)})
		all, _ = srv.Messages(box)
		rec.failOn[all[3].UID] = MaxAttempts // fails every time: the pass stops there
		if got, err := w.Poll(context.Background(), rec.handle); err == nil || got != 0 {
			t.Fatalf("Poll = %d, %v; want 0 and the handler's error after %d tries", got, err, MaxAttempts)
		}
		if left := rec.failOn[all[3].UID]; left != 0 {
			t.Errorf("tried %d times, want %d", MaxAttempts-left, MaxAttempts)
		}
		spoolEmpty(t, spool)
	})

	t.Run("HandlerFaultRetriesNextPass", func(t *testing.T) {
		st, spool := openStore(t), t.TempDir()
		const box = "Retry"
		if err := mailtest.CreateMailbox(addr, user, pass, box); err != nil {
			t.Fatal(err)
		}
		appendAll(t, srv, box, [][]byte{testMail(1, 500), testMail(2, 500), testMail(3, 500)})
		all, _ := srv.Messages(box)
		opts := baseOptions(addr, user, pass, spool)
		opts.Mailbox = box
		w := NewWatcher(opts, st, testLogger(t))
		rec := newRecorder(t, st)
		rec.failOn[all[1].UID], rec.faults = 1, true
		got, err := w.Poll(context.Background(), rec.handle)
		if err == nil || got != 1 {
			t.Fatalf("Poll = %d, %v; want 1 and the handler's error", got, err)
		}
		if cur, _ := st.Cursor(box); cur.LastUID != all[0].UID {
			t.Errorf("cursor at %d, want %d", cur.LastUID, all[0].UID)
		}
		spoolEmpty(t, spool)
		got, err = w.Poll(context.Background(), rec.handle)
		if err != nil || got != 2 {
			t.Fatalf("retry Poll = %d, %v; want 2", got, err)
		}
		if rec.got[1].Key.UID != all[1].UID {
			t.Errorf("retry began with uid %d, want %d", rec.got[1].Key.UID, all[1].UID)
		}
	})
}

func TestIMAPMemPoll(t *testing.T) {
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{})
	testPollSuite(t, memServer{srv}, srv.Addr, srv.User, srv.Pass)
}

func TestIMAPTooLargeNotDownloaded(t *testing.T) {
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{})
	proxy := mailtest.NewProxy(t, srv.Addr, mailtest.ProxyOptions{})
	st, spool := openStore(t), t.TempDir()
	appendAll(t, srv, "INBOX", [][]byte{testMail(1, 1000), testMail(2, 200_000), testMail(3, 1000)})
	opts := baseOptions(proxy.Addr, srv.User, srv.Pass, spool)
	opts.MaxMessage = 100_000
	rec := newRecorder(t, st)
	if got, err := NewWatcher(opts, st, testLogger(t)).Poll(context.Background(), rec.handle); err != nil || got != 3 {
		t.Fatalf("Poll = %d, %v", got, err)
	}
	big := rec.got[1]
	if !big.TooLarge || big.Path == "" || big.Size < 200_000 {
		t.Errorf("big message handed over as %+v; want TooLarge with its header spooled", big)
	}
	if proxy.CountCommands(fmt.Sprintf("UID FETCH %d (UID BODY.PEEK[HEADER])", big.Key.UID)) != 1 {
		t.Errorf("the big message's header was not fetched (to tell its sender); commands: %q", proxy.Commands())
	}
	if rec.got[0].TooLarge || rec.got[2].TooLarge {
		t.Errorf("small messages marked too large")
	}
	bodies := proxy.CountCommands("BODY.PEEK[]")
	if bodies != 2 || proxy.CountCommands(fmt.Sprintf("UID FETCH %d (UID BODY.PEEK[])", big.Key.UID)) != 0 {
		t.Errorf("body fetches: %d, want 2 (not the big one); commands: %q", bodies, proxy.Commands())
	}
	for _, c := range proxy.Commands() {
		if strings.Contains(c, "BODYSTRUCTURE") || strings.Contains(c, "ENVELOPE") {
			t.Errorf("asked for %q: quirky servers garble these", c)
		}
	}
}

func TestIMAPUnsafeLoginNeedsID(t *testing.T) {
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{})
	fake := mailtest.NewUnsafeLogin(t, srv.Addr)
	appendAll(t, srv, "INBOX", [][]byte{testMail(1, 500)})

	// A client that does not send ID is refused, as NetEase does.
	c, err := imapclient.DialInsecure(fake.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(srv.User, srv.Pass).Wait(); err != nil {
		t.Fatal(err)
	}
	if !c.Caps().Has(imap.CapID) {
		t.Errorf("fake does not advertise ID: %v", c.Caps())
	}
	_, err = c.Select("INBOX", nil).Wait()
	if err == nil || !strings.Contains(err.Error(), "Unsafe Login") {
		t.Fatalf("SELECT without ID: %v, want NO Unsafe Login", err)
	}
	c.Logout().Wait()

	st := openStore(t)
	rec := newRecorder(t, st)
	w := NewWatcher(baseOptions(fake.Addr, srv.User, srv.Pass, t.TempDir()), st, testLogger(t))
	if got, err := w.Poll(context.Background(), rec.handle); err != nil || got != 1 {
		t.Fatalf("Poll through the Unsafe-Login fake = %d, %v", got, err)
	}
	if fake.IDSent() != 1 {
		t.Errorf("ID sent on %d connections, want 1", fake.IDSent())
	}
	cmds := fake.Commands()
	for i := len(cmds) - 1; i >= 0; i-- { // the watcher's own connection
		if cmds[i] == "LOGIN ***" {
			cmds = cmds[i:]
			break
		}
	}
	iID, iSel := -1, -1
	for i, c := range cmds {
		if c == "ID" || strings.HasPrefix(c, "ID ") {
			iID = i
		}
		if strings.HasPrefix(c, "SELECT") && iSel < 0 {
			iSel = i
		}
	}
	if iID < 0 || iSel < 0 || iID > iSel {
		t.Errorf("want ID before SELECT: %q", cmds)
	}
}

// A server without ID never gets it; the memserver answers BAD to ID.
func TestIMAPNoIDWithoutCapability(t *testing.T) {
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{})
	proxy := mailtest.NewProxy(t, srv.Addr, mailtest.ProxyOptions{})
	st := openStore(t)
	w := NewWatcher(baseOptions(proxy.Addr, srv.User, srv.Pass, t.TempDir()), st, testLogger(t))
	if _, err := w.Poll(context.Background(), newRecorder(t, st).handle); err != nil {
		t.Fatal(err)
	}
	if proxy.CountCommands("ID (") != 0 {
		t.Errorf("ID sent to a server without the capability: %q", proxy.Commands())
	}
}

func TestIMAPPlainRefusedOffLoopback(t *testing.T) {
	err := CheckIMAPOptions(IMAPOptions{Server: "imap.163.com:143", Security: SecurityPlain, Username: "x"})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("plain to a remote server: %v", err)
	}
	w := NewWatcher(IMAPOptions{Server: "imap.163.com:143", Security: SecurityPlain, Username: "x"}, openStore(t), nil)
	if _, err := w.Poll(context.Background(), func(context.Context, *Fetched) error { return nil }); err == nil {
		t.Errorf("Poll with plain to a remote server succeeded")
	}
}

func TestIMAPAfterActions(t *testing.T) {
	cases := []struct {
		name      string
		caps      imap.CapSet
		after     string
		wantFlag  string
		wantMoved bool
	}{
		{"seen", nil, AfterSeen, `\Seen`, false},
		{"flag", nil, AfterFlag, `\Flagged`, false},
		{"move", nil, AfterMove, "", true},
		{"move-uidplus-only", imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}}, AfterMove, "", true},
		{"move-unsafe-left-alone", imap.CapSet{imap.CapIMAP4rev1: {}}, AfterMove, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{Caps: tc.caps})
			proxy := mailtest.NewProxy(t, srv.Addr, mailtest.ProxyOptions{})
			appendAll(t, srv, "INBOX", [][]byte{testMail(1, 500), testMail(2, 500)})
			// A \Deleted message of someone else's: a bare EXPUNGE would take it away.
			c, _ := imapclient.DialInsecure(srv.Addr, nil)
			c.Login(srv.User, srv.Pass).Wait()
			c.Select("INBOX", nil).Wait()
			c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
			c.Logout().Wait()
			c.Close()

			st := openStore(t)
			opts := baseOptions(proxy.Addr, srv.User, srv.Pass, t.TempDir())
			opts.After, opts.MoveTo = tc.after, "已处理"
			if got, err := NewWatcher(opts, st, testLogger(t)).Poll(context.Background(), newRecorder(t, st).handle); err != nil || got != 2 {
				t.Fatalf("Poll = %d, %v", got, err)
			}
			inbox, _ := srv.Messages("INBOX")
			moved, _ := srv.Messages("已处理")
			if tc.wantMoved {
				if len(inbox) != 0 || len(moved) != 2 {
					t.Errorf("after move: %d in INBOX, %d moved", len(inbox), len(moved))
				}
			} else if len(inbox) != 2 || len(moved) != 0 {
				t.Errorf("%d in INBOX, %d moved; want 2, 0", len(inbox), len(moved))
			}
			if tc.wantFlag != "" {
				for _, m := range inbox {
					if !m.HasFlag(tc.wantFlag) {
						t.Errorf("uid %d flags %v, want %s", m.UID, m.Flags, tc.wantFlag)
					}
				}
			}
			for _, cmd := range proxy.Commands() {
				if cmd == "EXPUNGE" {
					t.Errorf("bare EXPUNGE sent: %q", proxy.Commands())
				}
			}
		})
	}
}

// runWatcher starts Run in the background and stops it when the test ends.
func runWatcher(t *testing.T, w *Watcher, h Handler) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, h) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = errors.New("Run did not return within 10s of cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func waitFor(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testIdleLatency appends while Run idles and measures how long the handler waits.
func testIdleLatency(t *testing.T, srv mailServer, addr, user, pass string) {
	st := openStore(t)
	opts := baseOptions(addr, user, pass, t.TempDir())
	opts.IDLE, opts.PollInterval = true, time.Hour // only IDLE can deliver in time
	w := NewWatcher(opts, st, testLogger(t))
	rec := newRecorder(t, st)
	stop := runWatcher(t, w, rec.handle)
	waitFor(t, "IDLE", 5*time.Second, func() bool { return w.Stats().Idling })
	var worst time.Duration
	var all []time.Duration
	for i := range 5 {
		start := time.Now()
		if _, err := srv.Append("INBOX", testMail(100+i, 2000), time.Now()); err != nil {
			t.Fatal(err)
		}
		_, at := rec.wait(t, 3*time.Second)
		lat := at.Sub(start)
		worst = max(worst, lat)
		all = append(all, lat.Round(100*time.Microsecond))
		if lat > time.Second {
			t.Errorf("append %d reached the handler after %v, want < 1s", i, lat)
		}
		waitFor(t, "IDLE again", 5*time.Second, func() bool { return w.Stats().Idling })
	}
	t.Logf("IDLE: append -> handler: %v (worst %v)", all, worst)
	fmt.Printf("IDLE latency (%s): append -> handler %v, worst %v\n", t.Name(), all, worst)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestWatchIDLEMem(t *testing.T) {
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{})
	testIdleLatency(t, memServer{srv}, srv.Addr, srv.User, srv.Pass)
}

// Without IDLE the watcher polls.
func TestWatchPollingWithoutIDLE(t *testing.T) {
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{Caps: imap.CapSet{imap.CapIMAP4rev1: {}}})
	st := openStore(t)
	opts := baseOptions(srv.Addr, srv.User, srv.Pass, t.TempDir())
	opts.IDLE, opts.PollInterval = true, 100*time.Millisecond
	w := NewWatcher(opts, st, testLogger(t))
	rec := newRecorder(t, st)
	runWatcher(t, w, rec.handle)
	waitFor(t, "first pass", 5*time.Second, func() bool { return w.Stats().Passes > 0 })
	appendAll(t, srv, "INBOX", [][]byte{testMail(1, 500)})
	rec.wait(t, 3*time.Second)
	if w.Stats().Idling {
		t.Errorf("idling on a server without IDLE")
	}
}

// A connection that goes silent is closed by the watchdog and made again.
func TestWatchWatchdogReconnects(t *testing.T) {
	for _, idle := range []bool{true, false} {
		t.Run(fmt.Sprintf("idle=%v", idle), func(t *testing.T) {
			srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{})
			proxy := mailtest.NewProxy(t, srv.Addr, mailtest.ProxyOptions{})
			st := openStore(t)
			opts := baseOptions(proxy.Addr, srv.User, srv.Pass, t.TempDir())
			opts.IDLE, opts.IdleTimeout, opts.CycleTimeout, opts.PollInterval = idle, 300*time.Millisecond, 300*time.Millisecond, 100*time.Millisecond
			w := NewWatcher(opts, st, testLogger(t))
			w.backoff.Min = 50 * time.Millisecond
			rec := newRecorder(t, st)
			runWatcher(t, w, rec.handle)
			waitFor(t, "first pass", 5*time.Second, func() bool { return w.Stats().Passes > 0 })
			if idle {
				waitFor(t, "IDLE", 5*time.Second, func() bool { return w.Stats().Idling })
			}
			start := time.Now()
			proxy.Stall()
			appendAll(t, srv, "INBOX", [][]byte{testMail(1, 500)})
			rec.wait(t, 5*time.Second)
			s := w.Stats()
			t.Logf("silent connection: mail handled %v after the stall; stats %+v", time.Since(start), s)
			if s.Watchdog < 1 || s.Reconnects < 1 || proxy.Connections() < 2 {
				t.Errorf("watchdog %d, reconnects %d, connections %d; want each >= 1, 1, 2", s.Watchdog, s.Reconnects, proxy.Connections())
			}
		})
	}
}

func TestIMAPPollWatchdog(t *testing.T) {
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{})
	proxy := mailtest.NewProxy(t, srv.Addr, mailtest.ProxyOptions{})
	appendAll(t, srv, "INBOX", [][]byte{testMail(1, 500), testMail(2, 500)})
	st := openStore(t)
	opts := baseOptions(proxy.Addr, srv.User, srv.Pass, t.TempDir())
	opts.CycleTimeout = 300 * time.Millisecond
	// One message in hand at a time: the second is downloaded only after the first is handled, so over
	// the stalled connection. With more, it may be downloaded while the first is held, before the stall,
	// and then only the logout (bounded at 5 s) meets the silence.
	opts.Window = 1
	rec := newRecorder(t, st)
	rec.hold = make(chan struct{})
	rec.inside = make(chan struct{}, 1)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := NewWatcher(opts, st, testLogger(t)).Poll(context.Background(), rec.handle)
		done <- err
	}()
	<-rec.inside
	proxy.Stall()
	close(rec.hold)
	select {
	case err := <-done:
		if !errors.Is(err, errWatchdog) {
			t.Errorf("Poll on a silent connection: %v, want the watchdog", err)
		}
		t.Logf("Poll gave up %v after start: %v", time.Since(start), err)
	case <-time.After(5 * time.Second):
		t.Fatal("Poll hangs on a silent connection")
	}
	if rec.count() != 1 {
		t.Errorf("handled %d", rec.count())
	}
}

// On shutdown the message in hand is finished and recorded; the next one is left for later.
func TestWatchShutdownFinishesMessageInHand(t *testing.T) {
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{})
	appendAll(t, srv, "INBOX", [][]byte{testMail(1, 500), testMail(2, 500), testMail(3, 500)})
	st := openStore(t)
	opts := baseOptions(srv.Addr, srv.User, srv.Pass, t.TempDir())
	opts.IDLE = true
	w := NewWatcher(opts, st, testLogger(t))
	rec := newRecorder(t, st)
	rec.hold = make(chan struct{})
	rec.inside = make(chan struct{}, 1)
	var handlerCtxErr error
	h := func(ctx context.Context, f *Fetched) error {
		err := rec.handle(ctx, f)
		handlerCtxErr = ctx.Err()
		return err
	}
	stop := runWatcher(t, w, h)
	<-rec.inside
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(100 * time.Millisecond)
	close(rec.hold)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if rec.count() != 1 || handlerCtxErr != nil {
		t.Errorf("handled %d (want 1), handler context %v", rec.count(), handlerCtxErr)
	}
	if cur, _ := st.Cursor("INBOX"); cur.LastUID != rec.got[0].Key.UID {
		t.Errorf("cursor %+v", cur)
	}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imap test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

func TestIMAPTLSPinnedCA(t *testing.T) {
	conf, pool := selfSigned(t)
	for _, tc := range []struct {
		security string
		implicit bool
	}{{SecurityTLS, true}, {SecurityStartTLS, false}} {
		t.Run(tc.security, func(t *testing.T) {
			srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{TLS: conf, ImplicitTLS: tc.implicit})
			dial := imapclient.DialStartTLS
			if tc.implicit {
				dial = imapclient.DialTLS
			}
			c, err := dial(srv.Addr, &imapclient.Options{TLSConfig: &tls.Config{RootCAs: pool}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := appendTLS(c, srv, testMail(1, 900)); err != nil {
				t.Fatal(err)
			}
			st := openStore(t)
			opts := baseOptions(srv.Addr, srv.User, srv.Pass, t.TempDir())
			opts.Security = tc.security
			// Without the pinned CA the certificate is refused: no silent downgrade, no skipped check.
			if _, err := NewWatcher(opts, st, testLogger(t)).Poll(context.Background(), newRecorder(t, st).handle); err == nil ||
				!strings.Contains(err.Error(), "certificate") {
				t.Errorf("Poll without the CA: %v, want a certificate error", err)
			}
			opts.RootCAs = pool
			if got, err := NewWatcher(opts, st, testLogger(t)).Poll(context.Background(), newRecorder(t, st).handle); err != nil || got != 1 {
				t.Errorf("Poll with the pinned CA = %d, %v", got, err)
			}
		})
	}
}

func appendTLS(c *imapclient.Client, srv *mailtest.IMAPServer, raw []byte) (imap.UID, error) {
	defer c.Close()
	if err := c.Login(srv.User, srv.Pass).Wait(); err != nil {
		return 0, err
	}
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	cmd.Write(raw)
	if err := cmd.Close(); err != nil {
		return 0, err
	}
	d, err := cmd.Wait()
	if err != nil {
		return 0, err
	}
	return d.UID, c.Logout().Wait()
}

// A message expunged (in webmail) between the size fetch and the body fetch is skipped, not an error.
func TestIMAPVanishedMessageSkipped(t *testing.T) {
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{})
	appendAll(t, srv, "INBOX", [][]byte{testMail(1, 500), testMail(2, 500), testMail(3, 500)})
	st := openStore(t)
	rec := newRecorder(t, st)
	// While message 1 is handled, message 2 is already being downloaded (prefetch): message 3, whose
	// size and date were read but not its body, is expunged and must be skipped.
	h := func(ctx context.Context, f *Fetched) error {
		if f.Index == 1 {
			c, err := imapclient.DialInsecure(srv.Addr, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			c.Login(srv.User, srv.Pass).Wait()
			c.Select("INBOX", nil).Wait()
			c.Store(imap.UIDSetNum(imap.UID(f.Key.UID+2)), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
			if err := c.UIDExpunge(imap.UIDSetNum(imap.UID(f.Key.UID + 2))).Close(); err != nil {
				return err
			}
			c.Logout().Wait()
		}
		return rec.handle(ctx, f)
	}
	// Two messages in hand at once: message 3 waits for message 1's commit, so it is not downloaded yet.
	opts := baseOptions(srv.Addr, srv.User, srv.Pass, t.TempDir())
	opts.Window = 2
	got, err := NewWatcher(opts, st, testLogger(t)).Poll(context.Background(), h)
	if err != nil || got != 2 {
		t.Fatalf("Poll = %d, %v; want 2 and no error", got, err)
	}
	if rec.got[1].Key.UID != rec.got[0].Key.UID+1 {
		t.Errorf("handled uids %d, %d", rec.got[0].Key.UID, rec.got[1].Key.UID)
	}
}

func TestSaveCopy(t *testing.T) {
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{})
	opts := baseOptions(srv.Addr, srv.User, srv.Pass, t.TempDir())
	msg := testMail(1, 2000)
	for i := range 2 { // the first creates 已发送 on TRYCREATE, the second finds it
		if err := SaveCopy(context.Background(), opts, testLogger(t), "已发送", msg); err != nil {
			t.Fatalf("SaveCopy %d: %v", i, err)
		}
	}
	got, err := srv.Messages("已发送")
	if err != nil || len(got) != 2 || !bytes.Equal(got[0].Raw, msg) || !got[0].HasFlag(`\Seen`) {
		t.Fatalf("已发送 holds %d messages (err %v)", len(got), err)
	}
}
