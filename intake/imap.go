package intake

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"briefd/internal/mailnet"
	"briefd/mailmsg"
	"briefd/store"
)

// IMAP after-actions (IMAPOptions.After).
const (
	AfterNone = "none"
	AfterSeen = "seen"
	AfterFlag = "flag"
	AfterMove = "move"
)

// IMAP connection security (IMAPOptions.Security).
const (
	SecurityTLS      = "tls"
	SecurityStartTLS = "starttls"
	SecurityPlain    = "plain"
)

// MarkIMAPLastOK is the store mark set after every successful pass over the mailbox.
const MarkIMAPLastOK = "imap:last_ok"

// Defaults of IMAPOptions.
const (
	DefaultPollInterval = 2 * time.Minute
	DefaultCycleTimeout = 2 * time.Minute
	DefaultIdleTimeout  = 10 * time.Minute
	minBackoff          = time.Second
	maxBackoff          = 5 * time.Minute
)

// IMAPOptions configure a Watcher.
type IMAPOptions struct {
	Server   string // host:port
	Security string // tls | starttls | plain (plain refused unless the server is on loopback). Default tls.
	Username string
	Password string
	Mailbox  string // default INBOX
	// IDLE waits for new mail with IDLE when the server has it; otherwise the mailbox is polled.
	IDLE bool
	// PollInterval is the time between passes when not idling, and the retry time after a failed pass.
	// Default 2m.
	PollInterval time.Duration
	After        string // none | seen | flag | move. Default none.
	MoveTo       string // destination of After=move
	// MaxMessage: messages whose RFC822.SIZE is above it are not downloaded but handed over with
	// TooLarge. 0: no limit.
	MaxMessage int64
	// SpoolDir receives the raw messages while they are handled. Default os.TempDir().
	SpoolDir string
	// RootCAs verifies the server's certificate; nil: the system roots. For pinning a self-signed CA.
	RootCAs *x509.CertPool
	// CycleTimeout is the watchdog: when a step (connect and login, a search, a fetch, leaving IDLE)
	// makes no progress for this long, the connection is closed and the watcher reconnects. A body
	// download counts as progress while bytes arrive. Default 2m.
	CycleTimeout time.Duration
	// IdleTimeout is how long one IDLE lasts before it is left, the mailbox checked and IDLE re-issued;
	// a connection that went silent during IDLE is found by then at the latest. Default 10m. The mailbox
	// is checked at least every PollInterval even while idling: some servers (163 has been reported)
	// accept IDLE and never announce new mail.
	IdleTimeout time.Duration
	// Since, when not zero, leaves older mail (by INTERNALDATE, day precision) alone: not downloaded,
	// not recorded. For mailboxes with years of history.
	Since time.Time
	// Junk is the provider's spam folder, also read at every pass: "" finds it by the SPECIAL-USE
	// \Junk attribute when the server offers it; "-" reads none. Its mail is handed over with Junk set.
	Junk string
	// Debug receives the protocol transcript. It contains the password: only behind a debug switch.
	Debug io.Writer
	// Window is how many messages are in hand at once: downloaded and being prepared (parsed, checked,
	// staged) while the ones before them are committed, in mailbox order. It bounds the spool files and
	// the work in flight. Default 4.
	Window int
}

// DefaultWindow is IMAPOptions.Window's default.
const DefaultWindow = 4

// Fetched is one message handed to the Handler.
type Fetched struct {
	Key          store.MessageKey
	Size         int64 // RFC822.SIZE
	InternalDate time.Time
	Flags        []string
	// Path is the spooled raw message (only its header when TooLarge; "" when even that failed). The
	// handler may read it; the watcher removes
	// it after the handler returns.
	Path     string
	TooLarge bool
	// Junk: the message is in the provider's spam folder.
	Junk bool
	// LeftAlone is set by the Handler for a message it neither recorded nor wants touched (junk that is
	// no submission): no after-action is applied to it.
	LeftAlone bool
	// Fingerprint tells this mail from another with the same Message-ID: the SHA-256 of what its
	// sender wrote (without the servers' trace fields). Of the header alone when TooLarge.
	Fingerprint string
	Index       int // 1-based position in this pass
	Total       int // messages in this pass
}

// Cursor is the mailbox cursor that records this message as read; pass it to store.Record.
func (f *Fetched) Cursor() store.Cursor {
	return store.Cursor{Mailbox: f.Key.Mailbox, UIDValidity: f.Key.UIDValidity, LastUID: f.Key.UID}
}

// Handler records one message (store.Record with f.Cursor()) and returns nil. An error that is a Fault
// of this machine stops the pass without advancing: the message is handed over again in the next pass.
// Another error is the message's: it is handed over again at once, up to MaxAttempts times, then the
// pass stops. The context is not cancelled by a shutdown of the watcher, so the message in hand can be
// finished. A Handler is a Processor that does its work in Commit, one message after the other: the
// watcher still downloads the next messages while it works.
type Handler func(ctx context.Context, m *Fetched) error

// Prepare implements Processor: nothing is done before Commit.
func (h Handler) Prepare(_ context.Context, f *Fetched) (Prepared, error) {
	return handlerMessage{f}, nil
}

// Commit implements Processor: h is called on each message in turn, a message's own error tried again
// up to MaxAttempts times.
func (h Handler) Commit(ctx context.Context, batch []Prepared) (int, error) {
	for i, b := range batch {
		m, ok := b.(handlerMessage)
		if !ok {
			return i, fmt.Errorf("intake: commit of a %T, not prepared by a Handler", b)
		}
		err := h(ctx, m.f)
		for try := 1; err != nil && !IsFault(err) && try < MaxAttempts; try++ {
			err = h(ctx, m.f)
		}
		if err != nil {
			return i, err
		}
	}
	return len(batch), nil
}

// handlerMessage is a Handler's Prepared: the message as fetched.
type handlerMessage struct{ f *Fetched }

func (handlerMessage) Discard() {}

// WatchStats describe the watcher's health.
type WatchStats struct {
	Connected   bool
	Idling      bool
	LastOK      time.Time // end of the last successful pass
	LastError   string
	LastErrorAt time.Time
	LastFault   bool  // the last error was a fault of this machine, not of the server or the network
	Errors      int64 // failed passes and connections
	Reconnects  int64 // connections made after a failure
	Watchdog    int64 // connections closed by the watchdog
	Passes      int64 // successful passes
	Handled     int64 // messages the handler accepted
}

// Watcher reads new mail from one IMAP mailbox.
type Watcher struct {
	opts IMAPOptions
	st   *store.Store
	log  *slog.Logger

	backoff mailnet.Backoff // between reconnects (tests shorten it)

	mu      sync.Mutex
	stats   WatchStats
	warnMsg map[string]bool // warnings already logged once
}

// NewWatcher returns a watcher of opts.Mailbox that keeps its cursor in st.
func NewWatcher(opts IMAPOptions, st *store.Store, log *slog.Logger) *Watcher {
	if opts.Security == "" {
		opts.Security = SecurityTLS
	}
	if opts.Mailbox == "" {
		opts.Mailbox = "INBOX"
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.After == "" {
		opts.After = AfterNone
	}
	if opts.SpoolDir == "" {
		opts.SpoolDir = os.TempDir()
	}
	if opts.CycleTimeout <= 0 {
		opts.CycleTimeout = DefaultCycleTimeout
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Watcher{
		opts:    opts,
		st:      st,
		log:     log.With("mailbox", opts.Mailbox, "server", opts.Server),
		backoff: mailnet.Backoff{Min: minBackoff, Max: maxBackoff},
		warnMsg: map[string]bool{},
	}
}

// CheckIMAPOptions reports what is wrong with the options, nil when they can be used.
func CheckIMAPOptions(o IMAPOptions) error {
	var errs []error
	host, _, err := net.SplitHostPort(o.Server)
	if err != nil {
		errs = append(errs, fmt.Errorf("server %q: want host:port", o.Server))
	}
	switch o.Security {
	case "", SecurityTLS, SecurityStartTLS:
	case SecurityPlain:
		if err == nil && !mailnet.IsLoopback(host) {
			errs = append(errs, fmt.Errorf("security plain is only allowed to a loopback server, not %s", host))
		}
	default:
		errs = append(errs, fmt.Errorf("security %q: want tls, starttls or plain", o.Security))
	}
	if o.Username == "" {
		errs = append(errs, errors.New("username is empty"))
	}
	switch o.After {
	case "", AfterNone, AfterSeen, AfterFlag:
	case AfterMove:
		if o.MoveTo == "" {
			errs = append(errs, errors.New("after move needs move_to"))
		}
	default:
		errs = append(errs, fmt.Errorf("after %q: want none, seen, flag or move", o.After))
	}
	return errors.Join(errs...)
}

// Stats returns a snapshot of the watcher's health.
func (w *Watcher) Stats() WatchStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

func (w *Watcher) update(fn func(*WatchStats)) {
	w.mu.Lock()
	fn(&w.stats)
	w.mu.Unlock()
}

func (w *Watcher) noteError(err error) {
	w.update(func(s *WatchStats) {
		s.Errors++
		s.LastError = err.Error()
		s.LastErrorAt = time.Now()
		s.LastFault = IsFault(err)
	})
}

// warnOnce logs a warning the first time key is seen.
func (w *Watcher) warnOnce(key, msg string, args ...any) {
	w.mu.Lock()
	seen := w.warnMsg[key]
	w.warnMsg[key] = true
	w.mu.Unlock()
	if !seen {
		w.log.Warn(msg, args...)
	}
}

// errWatchdog is returned when the watchdog closed a connection that stopped making progress.
var errWatchdog = errors.New("imap: no progress, connection closed by the watchdog")

// watchdog closes the client when it is not kicked in time.
type watchdog struct {
	c     *imapclient.Client
	t     *time.Timer
	fired atomic.Bool
}

func newWatchdog(c *imapclient.Client, d time.Duration) *watchdog {
	wd := &watchdog{c: c}
	wd.t = time.AfterFunc(d, func() {
		wd.fired.Store(true)
		c.Close()
	})
	return wd
}

// reset allows d more for the current step.
func (wd *watchdog) reset(d time.Duration) { wd.t.Reset(d) }

// pause stops the watchdog while nothing is expected from the connection (between polls).
func (wd *watchdog) pause() { wd.t.Stop() }

// wrap turns the errors of a closed connection into errWatchdog when the watchdog closed it.
func (wd *watchdog) wrap(err error) error {
	if err != nil && wd.fired.Load() {
		return fmt.Errorf("%w (%v)", errWatchdog, err)
	}
	return err
}

// progressReader kicks the watchdog on every read.
type progressReader struct {
	r  io.Reader
	wd *watchdog
	d  time.Duration
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.wd.reset(p.d)
	}
	return n, err
}

// session is one logged-in connection with the mailbox selected.
type session struct {
	c           *imapclient.Client
	wd          *watchdog
	caps        imap.CapSet
	mailbox     string        // selected
	uidValidity uint32        // of the selected mailbox
	junk        string        // the spam folder to read too; "" none
	newMail     chan struct{} // signalled by EXISTS
	spoolBuf    *bufio.Writer // in front of the spool file of the message being downloaded
}

func (w *Watcher) dial(ctx context.Context) (*session, error) {
	o := w.opts
	if err := CheckIMAPOptions(o); err != nil {
		return nil, fmt.Errorf("imap: options: %w", err)
	}
	host, _, _ := net.SplitHostPort(o.Server)
	dialer := &net.Dialer{
		Timeout:         o.CycleTimeout,
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3},
	}
	conn, err := dialer.DialContext(ctx, "tcp", o.Server)
	if err != nil {
		return nil, fmt.Errorf("imap: connect %s: %w", o.Server, err)
	}
	tlsConf := mailnet.TLSConfig(host, o.RootCAs)
	s := &session{newMail: make(chan struct{}, 1)}
	copts := &imapclient.Options{
		TLSConfig:   tlsConf,
		DebugWriter: o.Debug,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case s.newMail <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	// The watchdog covers the TLS handshake, the greeting, LOGIN and SELECT.
	closer := time.AfterFunc(o.CycleTimeout, func() { conn.Close() })
	switch o.Security {
	case SecurityTLS:
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			closer.Stop()
			conn.Close()
			return nil, fmt.Errorf("imap: tls with %s: %w", o.Server, err)
		}
		s.c = imapclient.New(tc, copts)
	case SecurityStartTLS:
		s.c, err = imapclient.NewStartTLS(conn, copts)
		if err != nil {
			closer.Stop()
			conn.Close()
			return nil, fmt.Errorf("imap: starttls with %s: %w", o.Server, err)
		}
	default:
		s.c = imapclient.New(conn, copts)
	}
	closer.Stop()
	s.wd = newWatchdog(s.c, o.CycleTimeout)
	fail := func(what string, err error) (*session, error) {
		err = s.wd.wrap(err)
		s.wd.pause()
		s.c.Close()
		return nil, fmt.Errorf("imap: %s on %s: %w", what, o.Server, err)
	}
	if err := s.c.WaitGreeting(); err != nil {
		return fail("greeting", err)
	}
	if err := s.c.Login(o.Username, o.Password).Wait(); err != nil {
		return fail("login as "+o.Username, err)
	}
	s.caps = s.c.Caps()
	if s.caps.Has(imap.CapID) {
		// NetEase (163/126) refuses SELECT with "Unsafe Login" unless the client says who it is.
		if _, err := s.c.ID(clientID()).Wait(); err != nil {
			if s.wd.fired.Load() {
				return fail("ID", err)
			}
			w.log.Debug("imap: ID refused", "err", err)
		}
	}
	s.caps = s.c.Caps()
	if o.Junk != "-" {
		if s.junk, err = w.findJunk(s); err != nil {
			return fail("list mailboxes", err)
		}
	}
	if err := w.selectMailbox(s, o.Mailbox); err != nil {
		return fail("select "+o.Mailbox, err)
	}
	w.update(func(st *WatchStats) { st.Connected = true })
	return s, nil
}

// selectMailbox selects name, unless it is selected already.
func (w *Watcher) selectMailbox(s *session, name string) error {
	if s.mailbox == name {
		return nil
	}
	s.wd.reset(w.opts.CycleTimeout)
	sel, err := s.c.Select(name, nil).Wait()
	if err != nil {
		return s.wd.wrap(err)
	}
	if sel.UIDValidity == 0 {
		return errors.New("server sent no UIDVALIDITY")
	}
	s.mailbox, s.uidValidity = name, sel.UIDValidity
	return nil
}

// findJunk returns the spam folder to read: IMAPOptions.Junk, else the mailbox with the SPECIAL-USE
// \Junk attribute (163 names it 垃圾邮件, QQ Junk), else "" (none).
func (w *Watcher) findJunk(s *session) (string, error) {
	if w.opts.Junk != "" {
		return w.opts.Junk, nil
	}
	if !s.caps.Has(imap.CapSpecialUse) && !s.caps.Has(imap.CapIMAP4rev2) {
		return "", nil
	}
	s.wd.reset(w.opts.CycleTimeout)
	boxes, err := s.c.List("", "*", &imap.ListOptions{ReturnSpecialUse: true}).Collect()
	if err != nil {
		return "", s.wd.wrap(err)
	}
	for _, b := range boxes {
		if slices.Contains(b.Attrs, imap.MailboxAttrJunk) && !strings.EqualFold(b.Mailbox, w.opts.Mailbox) {
			return b.Mailbox, nil
		}
	}
	return "", nil
}

func clientID() *imap.IDData {
	version := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
	return &imap.IDData{Name: "briefd", Version: version, Vendor: "briefd"}
}

// close logs out (bounded by the watchdog) and closes the connection.
func (w *Watcher) close(s *session) {
	s.wd.reset(5 * time.Second)
	if err := s.c.Logout().Wait(); err != nil {
		w.log.Debug("imap: logout", "err", err)
	}
	s.wd.pause()
	s.c.Close()
	w.update(func(st *WatchStats) { st.Connected, st.Idling = false, false })
}

// handlerError marks an error returned by the Handler: the connection is still good.
type handlerError struct{ err error }

func (e *handlerError) Error() string { return e.err.Error() }
func (e *handlerError) Unwrap() error { return e.err }

// Poll connects, hands every new message to h in UID order, and logs out. It returns how many messages
// h accepted.
func (w *Watcher) Poll(ctx context.Context, h Handler) (int, error) { return w.PollWith(ctx, h) }

// PollWith is Poll with any Processor: a *Pipeline prepares the next messages while it commits.
func (w *Watcher) PollWith(ctx context.Context, h Processor) (int, error) {
	s, err := w.dial(ctx)
	if err != nil {
		w.noteError(err)
		return 0, err
	}
	defer w.close(s)
	n, err := w.pass(ctx, s, h)
	if err != nil {
		w.noteError(err)
	}
	return n, err
}

// pass hands every new message of the mailbox, then of the spam folder, to h, and leaves the mailbox
// selected.
func (w *Watcher) pass(ctx context.Context, s *session, h Processor) (int, error) {
	select { // EXISTS seen from here on means another pass is due
	case <-s.newMail:
	default:
	}
	if err := w.selectMailbox(s, w.opts.Mailbox); err != nil {
		return 0, fmt.Errorf("imap: select %s: %w", w.opts.Mailbox, err)
	}
	n, err := w.passMailbox(ctx, s, h)
	if err != nil || s.junk == "" {
		return n, err
	}
	if err := w.selectMailbox(s, s.junk); err != nil {
		w.warnOnce("junk", "imap: the spam folder cannot be read; only the mailbox is", "junk", s.junk, "err", err)
		s.junk = ""
	} else {
		m, err := w.passMailbox(ctx, s, h)
		n += m
		if err != nil {
			return n, err
		}
	}
	if err := w.selectMailbox(s, w.opts.Mailbox); err != nil {
		return n, fmt.Errorf("imap: select %s: %w", w.opts.Mailbox, err)
	}
	select { // the EXISTS of selecting the mailbox again is no new mail
	case <-s.newMail:
	default:
	}
	return n, nil
}

// passMailbox hands every message of the selected mailbox above its cursor to h, as a pipeline: this
// goroutine owns the connection and downloads the messages one after the other into spool files; up to
// Window of them are prepared at once (h.Prepare: parse, check, stage); one committer takes the
// prepared messages in UID order and commits every run of them that is ready as one batch (h.Commit),
// after which this goroutine applies their after-actions. The cursor therefore never passes a message
// that is not committed, and a message's after-action follows its commit. When a message cannot be
// prepared or committed, the messages before it are still committed, the ones after it are discarded
// (fetched again in the next pass), and the pass ends with the error.
func (w *Watcher) passMailbox(ctx context.Context, s *session, h Processor) (int, error) {
	o := w.opts
	mailbox := s.mailbox
	cur, err := w.st.Cursor(mailbox)
	if err != nil {
		return 0, fmt.Errorf("imap: read cursor: %w", err)
	}
	last := cur.LastUID
	if cur.UIDValidity != s.uidValidity {
		if cur.UIDValidity != 0 {
			w.log.Warn("imap: UIDVALIDITY changed, rescanning the mailbox (Message-ID prevents double receipts)",
				"old", cur.UIDValidity, "new", s.uidValidity, "old_last_uid", cur.LastUID)
		}
		last = 0
		if err := w.st.SetCursor(store.Cursor{Mailbox: mailbox, UIDValidity: s.uidValidity}); err != nil {
			return 0, fmt.Errorf("imap: reset cursor: %w", err)
		}
	}

	s.wd.reset(o.CycleTimeout)
	// NOOP lets servers that report new mail only on a command announce it before the search.
	if err := s.c.Noop().Wait(); err != nil {
		return 0, fmt.Errorf("imap: noop: %w", s.wd.wrap(err))
	}
	uids, err := w.searchAfter(s, last)
	if err != nil {
		return 0, err
	}
	if len(uids) == 0 {
		return 0, w.passDone()
	}

	window := o.Window
	var (
		slots     = make(chan struct{}, window)  // one per message in hand, from its download to its after-action
		ordered   = make(chan *passItem, window) // to the committer, in UID order
		work      = make(chan *passItem, window) // to the preparers
		afters    = make(chan *passItem, window) // committed (or known) messages, for their after-action
		stop      = make(chan struct{})          // closed by the committer when the pass cannot go on
		committed = make(chan struct{})          // closed when the committer is done
		n         int                            // messages committed (the committer's until committed is closed)
		commitErr error
	)
	// The handler's work is finished on shutdown: it does not see the pass's cancellation.
	hctx := context.WithoutCancel(ctx)
	var preparers sync.WaitGroup
	for range window {
		preparers.Go(func() {
			for it := range work {
				it.prep, it.err = h.Prepare(hctx, it.f)
				close(it.ready)
			}
		})
	}
	go func() {
		defer close(committed)
		n, commitErr = w.commitInOrder(ctx, h, ordered, afters, slots, stop)
	}()

	var afterErr error
	// applyAfter does the after-action of a committed message and frees its slot.
	applyAfter := func(it *passItem) {
		if afterErr == nil && !it.f.LeftAlone {
			afterErr = w.after(s, it.uid)
			s.wd.pause()
		}
		<-slots
	}
	metas := map[uint32]*Fetched{} // by UID; nil: asked for, gone
	ensureMeta := func(i int) error {
		if _, ok := metas[uint32(uids[i])]; ok {
			return nil
		}
		// Sizes and dates for the next batch in one command: one round trip less per message.
		end := min(i+metaBatch, len(uids))
		got, err := w.fetchMeta(s, s.uidValidity, uids[i:end])
		if err != nil {
			return err
		}
		for _, u := range uids[i:end] {
			metas[uint32(u)] = got[uint32(u)]
		}
		return nil
	}
	var fetchErr error
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return afterErr != nil
		}
	}
produce:
	for i, uid := range uids {
		if fetchErr = ctx.Err(); fetchErr != nil || stopped() {
			break
		}
		// A slot first; the after-actions of committed messages meanwhile. No command is in flight while
		// it waits (the checks of the messages in hand may take minutes): the watchdog must not fire.
		s.wd.pause()
	acquire:
		for {
			select {
			case <-stop:
				break produce
			case it := <-afters:
				applyAfter(it)
				if afterErr != nil {
					break produce
				}
			case slots <- struct{}{}:
				break acquire
			}
		}
		key := store.MessageKey{Mailbox: mailbox, UIDValidity: s.uidValidity, UID: uint32(uid)}
		number, known, err := w.st.LookupMessage(key)
		if err != nil {
			<-slots
			fetchErr = fmt.Errorf("imap: look up uid %d: %w", uid, err)
			break
		}
		if known {
			// Recorded before, perhaps just before a crash: the committer catches up the cursor in
			// order, then the after-action is applied.
			w.log.Debug("imap: already recorded", "uid", uid, "receipt", number)
			it := &passItem{uid: uid, f: &Fetched{Key: key}, known: true, ready: make(chan struct{})}
			close(it.ready)
			ordered <- it
			continue
		}
		if fetchErr = ensureMeta(i); fetchErr != nil {
			<-slots
			break
		}
		f := metas[key.UID]
		delete(metas, key.UID)
		if f == nil { // expunged meanwhile
			<-slots
			w.log.Info("imap: message vanished before it was read", "uid", uid)
			continue
		}
		f.Index, f.Total = i+1, len(uids)
		err = w.download(s, f)
		s.wd.pause() // the handler's time is its own
		if errors.Is(err, errVanished) {
			<-slots
			w.log.Info("imap: message vanished before it was read", "uid", uid)
			continue
		} else if err != nil {
			<-slots
			fetchErr = err
			break
		}
		it := &passItem{uid: uid, f: f, ready: make(chan struct{})}
		work <- it
		ordered <- it
	}
	close(work)
	close(ordered)
	// The committer finishes the messages in hand; their after-actions are done here.
	for done := false; !done; {
		select {
		case it := <-afters:
			applyAfter(it)
		case <-committed:
			done = true
		}
	}
	for len(afters) > 0 {
		applyAfter(<-afters)
	}
	preparers.Wait()
	switch {
	case commitErr != nil:
		return n, commitErr
	case fetchErr != nil:
		return n, fetchErr
	case afterErr != nil:
		return n, afterErr
	case ctx.Err() != nil: // shut down: what was in hand was discarded, the pass is not done
		return n, ctx.Err()
	}
	return n, w.passDone()
}

// passDone notes a pass that handed over every message.
func (w *Watcher) passDone() error {
	now := time.Now()
	if err := w.st.SetMark(MarkIMAPLastOK, now); err != nil {
		return fmt.Errorf("imap: set mark: %w", err)
	}
	w.update(func(st *WatchStats) { st.LastOK = now; st.Passes++ })
	return nil
}

// passItem is one message in hand during a pass.
type passItem struct {
	uid   imap.UID
	f     *Fetched
	known bool          // recorded before: only the cursor and the after-action
	prep  Prepared      // set with err when ready is closed
	err   error         // of Prepare
	ready chan struct{} // closed when Prepare is done
}

// release removes the message's spool file.
func (it *passItem) release() {
	if it.f.Path != "" {
		os.Remove(it.f.Path)
		it.f.Path = ""
	}
}

// commitInOrder is the pass's committer: it takes the messages in UID order and commits each run of
// prepared ones as a batch (a Handler's one by one), then hands them to afters. On the first error it
// closes stop, discards every message after (freeing its slot), and returns how many it committed and
// the error. When ctx is done (a shutdown), the batch being committed is finished, not cancelled, and
// the messages after it are discarded: they are fetched again at the next start.
func (w *Watcher) commitInOrder(ctx context.Context, h Processor, ordered <-chan *passItem, afters chan<- *passItem,
	slots <-chan struct{}, stop chan<- struct{}) (int, error) {
	n := 0
	var failure error
	discarding := false // failure != nil, or a shutdown
	maxBatch := cap(slots)
	if _, ok := h.(Handler); ok {
		maxBatch = 1
	}
	hctx := context.WithoutCancel(ctx)
	var queue []*passItem
	open := true
	for open || len(queue) > 0 {
		if len(queue) == 0 {
			it, ok := <-ordered
			if !ok {
				break
			}
			queue = append(queue, it)
		}
		<-queue[0].ready
		for open { // whatever else is in hand, without waiting
			select {
			case it, ok := <-ordered:
				if !ok {
					open = false
					continue
				}
				queue = append(queue, it)
				continue
			default:
			}
			break
		}
		if !discarding && ctx.Err() != nil {
			discarding = true
			close(stop)
		}
		if discarding {
			it := queue[0]
			queue = queue[1:]
			if it.prep != nil {
				it.prep.Discard()
			}
			it.release()
			<-slots
			continue
		}
		head := queue[0]
		if head.known {
			queue = queue[1:]
			if err := w.advance(head.f.Key); err != nil {
				failure, discarding = err, true
				close(stop)
				<-slots
				continue
			}
			afters <- head
			continue
		}
		if head.err != nil {
			failure, discarding = &handlerError{fmt.Errorf("imap: handle uid %d: %w", head.uid, head.err)}, true
			close(stop)
			continue // discarded above, with the rest
		}
		k := 1
		for k < len(queue) && k < maxBatch && !queue[k].known && isClosed(queue[k].ready) && queue[k].err == nil {
			k++
		}
		batch := make([]Prepared, k)
		for i, it := range queue[:k] {
			batch[i] = it.prep
		}
		got, err := h.Commit(hctx, batch)
		for _, it := range queue[:got] {
			it.release()
			n++
			w.update(func(st *WatchStats) { st.Handled++ })
			afters <- it
		}
		queue = queue[got:]
		if err != nil {
			what := "imap: handle"
			if len(queue) > 0 { // the batch is all or none: name where the uncommitted part begins
				what = fmt.Sprintf("imap: handle the batch from uid %d", queue[0].uid)
			}
			failure, discarding = &handlerError{fmt.Errorf("%s: %w", what, err)}, true
			close(stop)
		}
	}
	return n, failure
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// advance moves the cursor to key when it is ahead of it.
func (w *Watcher) advance(key store.MessageKey) error {
	cur, err := w.st.Cursor(key.Mailbox)
	if err != nil {
		return fmt.Errorf("imap: read cursor: %w", err)
	}
	if cur.UIDValidity == key.UIDValidity && cur.LastUID >= key.UID {
		return nil
	}
	if err := w.st.SetCursor(store.Cursor{Mailbox: key.Mailbox, UIDValidity: key.UIDValidity, LastUID: key.UID}); err != nil {
		return fmt.Errorf("imap: move cursor: %w", err)
	}
	return nil
}

// searchAfter returns the UIDs above last, ascending.
func (w *Watcher) searchAfter(s *session, last uint32) ([]imap.UID, error) {
	s.wd.reset(w.opts.CycleTimeout)
	var set imap.UIDSet
	set.AddRange(imap.UID(last+1), 0) // last+1:*
	crit := &imap.SearchCriteria{UID: []imap.UIDSet{set}}
	if !w.opts.Since.IsZero() {
		crit.Since = w.opts.Since
	}
	data, err := s.c.UIDSearch(crit, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("imap: search uid %d:*: %w", last+1, s.wd.wrap(err))
	}
	var uids []imap.UID
	if all, ok := data.All.(imap.UIDSet); ok && all != nil {
		nums, ok := all.Nums()
		if !ok { // AllUIDs would panic here
			return nil, fmt.Errorf("imap: search uid %d:*: server answered with a dynamic set %v", last+1, all)
		}
		uids = nums
	}
	// "n:*" always matches the highest UID, even when it is below n.
	uids = slices.DeleteFunc(uids, func(u imap.UID) bool { return uint32(u) <= last })
	slices.Sort(uids)
	return slices.Compact(uids), nil
}

// metaBatch is how many messages' sizes and dates are fetched in one command.
const metaBatch = 100

// fetchMeta fetches UID, RFC822.SIZE, FLAGS and INTERNALDATE of uids: nothing a quirky server can
// garble. Messages that are gone are missing from the result.
func (w *Watcher) fetchMeta(s *session, uidValidity uint32, uids []imap.UID) (map[uint32]*Fetched, error) {
	s.wd.reset(w.opts.CycleTimeout)
	out := map[uint32]*Fetched{}
	cmd := s.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
		UID: true, RFC822Size: true, Flags: true, InternalDate: true,
	})
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		s.wd.reset(w.opts.CycleTimeout)
		g := &Fetched{}
		var uid imap.UID
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = it.UID
			case imapclient.FetchItemDataRFC822Size:
				g.Size = it.Size
			case imapclient.FetchItemDataInternalDate:
				g.InternalDate = it.Time
			case imapclient.FetchItemDataFlags:
				for _, fl := range it.Flags {
					g.Flags = append(g.Flags, string(fl))
				}
			}
		}
		if uid != 0 {
			g.Key = store.MessageKey{Mailbox: s.mailbox, UIDValidity: uidValidity, UID: uint32(uid)}
			g.Junk = s.junk != "" && s.mailbox == s.junk
			out[uint32(uid)] = g
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("imap: fetch sizes of uid %v: %w", imap.UIDSetNum(uids...), s.wd.wrap(err))
	}
	return out, nil
}

// download spools f: the whole message, or only its header when it is over MaxMessage (f.TooLarge;
// then a failure to read the header is logged and leaves f.Path empty). errVanished: the message is gone.
func (w *Watcher) download(s *session, f *Fetched) error {
	if o := w.opts; o.MaxMessage > 0 && f.Size > o.MaxMessage {
		// Only the header is read, so the sender can be told why the mail was not taken.
		f.TooLarge = true
		if err := w.spool(s, f, true); err != nil && !errors.Is(err, errVanished) {
			w.log.Warn("imap: reading the header of a too large message", "uid", f.Key.UID, "err", err)
		}
		return nil
	}
	return w.spool(s, f, false)
}

// faultWriter marks the errors of writing the spool file as faults of this machine.
type faultWriter struct{ w io.Writer }

func (f faultWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	return n, fault(err)
}

// errVanished: the server sent nothing for a UID, because someone expunged it meanwhile.
var errVanished = errors.New("imap: message vanished")

// spool streams BODY.PEEK[] of the message to a file in SpoolDir and sets f.Path.
func (w *Watcher) spool(s *session, f *Fetched, headerOnly bool) (err error) {
	o := w.opts
	file, err := os.CreateTemp(o.SpoolDir, fmt.Sprintf("imap-%d-%d-*.eml", f.Key.UIDValidity, f.Key.UID))
	if err != nil {
		return fault(fmt.Errorf("imap: spool uid %d: %w", f.Key.UID, err))
	}
	defer func() {
		if cerr := file.Close(); err == nil && cerr != nil {
			err = fault(fmt.Errorf("imap: spool uid %d: %w", f.Key.UID, cerr))
		}
		if err != nil {
			os.Remove(file.Name())
		} else {
			f.Path = file.Name()
		}
	}()

	s.wd.reset(o.CycleTimeout)
	section := &imap.FetchItemBodySection{Peek: true}
	if headerOnly {
		section.Specifier = imap.PartSpecifierHeader
	}
	cmd := s.c.Fetch(imap.UIDSetNum(imap.UID(f.Key.UID)), &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{section},
	})
	got := false
	var copyErr error
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var uid imap.UID
		wrote := false
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = it.UID
			case imapclient.FetchItemDataBodySection:
				if got || it.Literal == nil || copyErr != nil {
					continue
				}
				want := it.Literal.Size()
				fp := mailmsg.NewFingerprinter()
				// The literal arrives in pieces of a few KB; written as they come, the system calls cost
				// more than the copying (a quarter of the process's time on a backlog).
				if s.spoolBuf == nil {
					s.spoolBuf = bufio.NewWriterSize(nil, 256<<10)
				}
				bw := s.spoolBuf
				bw.Reset(faultWriter{file})
				n, err := io.Copy(io.MultiWriter(bw, fp), &progressReader{r: it.Literal, wd: s.wd, d: o.CycleTimeout})
				if ferr := bw.Flush(); err == nil {
					err = ferr
				}
				f.Fingerprint = fp.Sum()
				switch {
				case err != nil:
					copyErr = err
				case n != want:
					copyErr = fmt.Errorf("got %d of %d bytes", n, want)
				}
				wrote = true
			}
		}
		if wrote {
			if uid != 0 && uint32(uid) != f.Key.UID {
				copyErr = fmt.Errorf("server sent the body of uid %d", uid)
			}
			got = true
		}
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("imap: fetch uid %d: %w", f.Key.UID, s.wd.wrap(err))
	}
	if copyErr != nil && IsFault(copyErr) {
		return fmt.Errorf("imap: spool uid %d: %w", f.Key.UID, copyErr)
	}
	if copyErr != nil {
		return fmt.Errorf("imap: fetch uid %d: %w", f.Key.UID, s.wd.wrap(copyErr))
	}
	if !got {
		return errVanished
	}
	return nil
}

// after applies the after-action to a handled message. Failures are logged, not returned: the message
// is recorded, and the after-action is a convenience for the people reading the mailbox. Only a
// connection that died is an error.
func (w *Watcher) after(s *session, uid imap.UID) error {
	o := w.opts
	set := imap.UIDSetNum(uid)
	var err error
	s.wd.reset(o.CycleTimeout)
	switch o.After {
	case AfterSeen, AfterFlag:
		flag := imap.FlagSeen
		if o.After == AfterFlag {
			flag = imap.FlagFlagged
		}
		err = s.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{flag}}, nil).Close()
	case AfterMove:
		err = w.move(s, set)
	default:
		return nil
	}
	if err == nil {
		return nil
	}
	if s.wd.fired.Load() {
		return fmt.Errorf("imap: after-action %s on uid %d: %w", o.After, uid, s.wd.wrap(err))
	}
	select {
	case <-s.c.Closed():
		return fmt.Errorf("imap: after-action %s on uid %d: %w", o.After, uid, err)
	default:
	}
	w.log.Warn("imap: after-action failed", "after", o.After, "uid", uid, "err", err)
	return nil
}

var errNoSafeMove = errors.New("server has neither MOVE nor UIDPLUS")

func (w *Watcher) move(s *session, set imap.UIDSet) error {
	dest := w.opts.MoveTo
	try := func() error {
		switch {
		case s.caps.Has(imap.CapMove):
			_, err := s.c.Move(set, dest).Wait()
			return err
		case s.caps.Has(imap.CapUIDPlus):
			if _, err := s.c.Copy(set, dest).Wait(); err != nil {
				return err
			}
			flags := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
			if err := s.c.Store(set, flags, nil).Close(); err != nil {
				return err
			}
			return s.c.UIDExpunge(set).Close()
		default:
			// A bare EXPUNGE would remove every \Deleted message in the mailbox, not just ours.
			return errNoSafeMove
		}
	}
	err := try()
	if errors.Is(err, errNoSafeMove) {
		w.warnOnce("nomove", "imap: after move: the server has neither MOVE nor UIDPLUS; messages stay where they are", "move_to", dest)
		return nil
	}
	var ierr *imap.Error
	if errors.As(err, &ierr) && ierr.Code == imap.ResponseCodeTryCreate {
		if cerr := s.c.Create(dest, nil).Wait(); cerr != nil {
			return fmt.Errorf("create %s: %w", dest, cerr)
		}
		w.log.Info("imap: created mailbox for after-action move", "move_to", dest)
		err = try()
	}
	return err
}

// Run watches the mailbox until ctx is done: a pass at once, then IDLE when the server has it and
// opts.IDLE is set, else a pass every PollInterval. A connection that fails or stops making progress is
// closed and made again with exponential backoff and jitter (1s to 5min). On shutdown the message in
// hand is finished. Run returns nil when ctx is done, or an error that retrying cannot fix (bad options).
func (w *Watcher) Run(ctx context.Context, h Handler) error { return w.RunWith(ctx, h) }

// RunWith is Run with any Processor: a *Pipeline prepares the next messages while it commits.
func (w *Watcher) RunWith(ctx context.Context, h Processor) error {
	if err := CheckIMAPOptions(w.opts); err != nil {
		return fmt.Errorf("imap: options: %w", err)
	}
	backoff := time.Duration(0)
	failing := false
	var downSince time.Time
	attempts := 0
	for ctx.Err() == nil {
		s, err := w.dial(ctx)
		if err == nil {
			if failing {
				w.log.Info("imap: reconnected", "attempts", attempts, "down_for", time.Since(downSince).Round(time.Second))
				w.update(func(st *WatchStats) { st.Reconnects++ })
			}
			err = w.serve(ctx, s, h, func() {
				failing, attempts, backoff = false, 0, 0
			})
			w.close(s)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			continue
		}
		w.noteError(err)
		if errors.Is(err, errWatchdog) {
			w.update(func(st *WatchStats) { st.Watchdog++ })
		}
		attempts++
		backoff = w.backoff.Jittered(attempts)
		if !failing {
			failing, downSince = true, time.Now()
			w.log.Warn("imap: connection lost; reconnecting with backoff", "err", err, "retry_in", backoff.Round(time.Millisecond))
		} else {
			w.log.Debug("imap: reconnect failed", "err", err, "attempt", attempts, "retry_in", backoff.Round(time.Millisecond))
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
	return nil
}

// serve runs passes on one connection until ctx is done or the connection fails. healthy is called
// after the first successful pass.
func (w *Watcher) serve(ctx context.Context, s *session, h Processor, healthy func()) error {
	o := w.opts
	useIdle := o.IDLE && s.caps.Has(imap.CapIdle)
	if o.IDLE && !useIdle {
		w.warnOnce("noidle", "imap: server has no IDLE; polling instead", "interval", o.PollInterval)
	}
	first := true
	for {
		_, err := w.pass(ctx, s, h)
		var herr *handlerError
		retry := false
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.As(err, &herr) && IsFault(err):
			w.noteError(err)
			w.log.Error("imap: this machine failed, so the message was not recorded; it is tried again in the next pass",
				"err", err, "retry_in", o.PollInterval)
			retry = true
		case errors.As(err, &herr):
			w.noteError(err)
			w.log.Error("imap: message not recorded; it is retried in the next pass", "err", err, "retry_in", o.PollInterval)
			retry = true
		case err != nil:
			return err
		}
		if first && err == nil {
			first = false
			healthy()
		}
		if !useIdle || retry {
			s.wd.pause()
			t := time.NewTimer(o.PollInterval)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-s.c.Closed():
				t.Stop()
				return errors.New("imap: server closed the connection")
			case <-t.C:
			}
			continue
		}
		if err := w.idle(ctx, s); err != nil || ctx.Err() != nil {
			return err
		}
	}
}

// idle waits in IDLE until new mail, IdleTimeout, or ctx is done.
func (w *Watcher) idle(ctx context.Context, s *session) error {
	o := w.opts
	s.wd.reset(o.CycleTimeout)
	cmd, err := s.c.Idle()
	if err != nil {
		return fmt.Errorf("imap: idle: %w", s.wd.wrap(err))
	}
	w.update(func(st *WatchStats) { st.Idling = true })
	// A silent connection is found when IDLE is left at the latest. IDLE is left at least every
	// PollInterval too, for servers that never announce new mail, and to read the spam folder.
	wait := min(o.IdleTimeout, o.PollInterval)
	s.wd.reset(wait + o.CycleTimeout)
	t := time.NewTimer(wait)
	closed := false
	select {
	case <-ctx.Done():
	case <-s.newMail:
	case <-t.C:
	case <-s.c.Closed():
		closed = true
	}
	t.Stop()
	w.update(func(st *WatchStats) { st.Idling = false })
	s.wd.reset(o.CycleTimeout)
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("imap: leave idle: %w", s.wd.wrap(err))
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("imap: idle: %w", s.wd.wrap(err))
	}
	if closed {
		return errors.New("imap: server closed the connection during IDLE")
	}
	return nil
}

// SaveCopy appends msg to mailbox (creating it when the server asks for that), marked \Seen, over its own
// short connection: 163 keeps no copy of mail sent through SMTP, so the office's replies are saved this way.
func SaveCopy(ctx context.Context, opts IMAPOptions, log *slog.Logger, mailbox string, msg []byte) error {
	w := NewWatcher(opts, nil, log)
	s, err := w.dial(ctx)
	if err != nil {
		return err
	}
	defer w.close(s)
	s.wd.reset(w.opts.CycleTimeout)
	defer s.wd.pause()
	put := func() error {
		cmd := s.c.Append(mailbox, int64(len(msg)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}, Time: time.Now()})
		if _, err := cmd.Write(msg); err != nil {
			cmd.Close()
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		_, err := cmd.Wait()
		return err
	}
	err = put()
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Code == imap.ResponseCodeTryCreate {
		if cerr := s.c.Create(mailbox, nil).Wait(); cerr != nil {
			return fmt.Errorf("imap: create %s: %w", mailbox, cerr)
		}
		err = put()
	}
	if err != nil {
		return fmt.Errorf("imap: save a copy in %s: %w", mailbox, s.wd.wrap(err))
	}
	return nil
}
