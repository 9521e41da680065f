// Package web is the office's dashboard: a small server-rendered site in Chinese that shows who has
// reported (总览), the received mail (收件记录, 回执详情), the mail waiting for a person to say which unit
// sent it (待确认), the units (单位), the campaigns (报送任务) and the log of changes (操作记录), and lets
// the office assign, resend and export, add and change campaigns and units (also from a spreadsheet),
// register a briefing that came on paper (人工登记) and remind the units now (催报). It also serves
// /healthz, /readyz and /metrics for monitoring.
//
// It reads the store directly; every change goes through Options.Office (package office in briefd), the
// same code the command line and the control socket use.
package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"briefd/internal/mailnet"
	"briefd/notify"
	"briefd/office"
	"briefd/report"
	"briefd/roster"
	"briefd/store"
)

// Options configure the dashboard.
type Options struct {
	// Listen is host:port. Default 127.0.0.1:8080. New refuses an address other machines can reach unless
	// Password is set.
	Listen string
	// Password is the office's login password; "" means no login, which is only allowed on loopback.
	Password string
	// TLS marks the session cookie Secure (the dashboard is served behind TLS).
	TLS bool
	// Location is the office time zone. Default: the roster's, else time.Local.
	Location *time.Location
	// OfficeName is shown in the header.
	OfficeName string
	// Office is what the dashboard reads and asks for: the roster, receipts' replies, exports, and the
	// office's actions (*office.Office). Required.
	Office Office
	// ReadOnly hides the forms and buttons that change anything or export (assign, resend, recheck, mark as
	// dealt with, exports and booklets, campaigns, units, 人工登记, 催报).
	ReadOnly bool
	// Health reports the mailbox watcher and outbox for /readyz and /metrics. nil: only the store is checked.
	Health func() Health
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// MailboxMaxAge is how old the last good mailbox check may be before /readyz says 503. Default 15m.
	MailboxMaxAge time.Duration
	// SessionTTL is how long a login lasts without use. Default 12h.
	SessionTTL time.Duration
	// PageSize is the number of receipts per page in 收件记录. Default 50.
	PageSize int
	// MaxUpload bounds one upload (人工登记's PDFs, a units spreadsheet). Default 64 MiB.
	MaxUpload int64
}

// Office is what the dashboard asks the office; *office.Office is it.
type Office interface {
	// Roster is the current roster (it changes when an address is learned).
	Roster() *roster.Roster
	// Export writes receipts and status as format (xlsx or csv) for a campaign ("" for all) and returns
	// the file name to offer.
	Export(w io.Writer, format, campaign string) (filename string, err error)
	// ReplyText is the plain text of the reply r's sender gets (or got).
	ReplyText(r *store.Receipt) (string, error)
	// Assign gives a receipt to a unit and, with learn, registers the sender's address.
	Assign(by office.Source, receipt, unit string, learn bool) (*store.Receipt, error)
	// Resend queues a receipt's reply again.
	Resend(by office.Source, receipt string) (*store.OutboxItem, error)
	// Answer marks a unit's question (a mail that is no submission) as dealt with.
	Answer(by office.Source, receipt string) (*store.Receipt, error)
	// RecheckReceipt checks a receipt's mail again with today's checks, sends a corrected receipt when
	// the verdict changed and says what changed ("" when nothing did).
	RecheckReceipt(ctx context.Context, by office.Source, receipt string) (string, error)
	// Booklet gathers a campaign period's briefings for the 简报汇编 downloads.
	Booklet(campaign, period string) (*office.Booklet, error)

	// Campaigns lists the campaigns, of config.yaml and added at run time; Campaign is one of them.
	Campaigns() []office.CampaignInfo
	Campaign(id string) (office.CampaignInfo, bool)
	// AddCampaign, EditCampaign and CloseCampaign change the campaigns added at run time.
	AddCampaign(by office.Source, in office.CampaignInput) (office.CampaignInfo, error)
	EditCampaign(by office.Source, id string, in office.CampaignInput) (office.CampaignInfo, error)
	CloseCampaign(by office.Source, id string) (office.CampaignInfo, error)
	// Notice is the text of a campaign's notice, for the office to send the units.
	Notice(id string) (string, error)
	// Ignored names the run-time campaigns and units config.yaml contradicts, left out of the roster.
	Ignored() []string
	// Units lists the units with where they are defined; Unit is one of them.
	Units() []office.UnitInfo
	Unit(id string) (office.UnitInfo, bool)
	// AddUnit and EditUnit add and change units.
	AddUnit(by office.Source, in office.UnitInput) (office.UnitInfo, error)
	EditUnit(by office.Source, id string, in office.UnitInput) (office.UnitInfo, error)
	// PreviewUnits reads a units spreadsheet and says what it would change; ApplyUnits applies it.
	PreviewUnits(name string, data []byte) (*office.UnitImport, error)
	ApplyUnits(by office.Source, im *office.UnitImport) (*office.UnitImport, error)
	// AddReceipt registers a briefing that came without mail (人工登记).
	AddReceipt(ctx context.Context, by office.Source, in office.ReceiptInput) (*store.Receipt, error)
	// Remind sends the reminder now to the units that have not reported (催报).
	Remind(by office.Source, campaign, unit string) (notify.RemindResult, error)
	// AuditLog is the log of changes since a time (操作记录).
	AuditLog(since time.Time) ([]store.AuditEntry, error)
}

// Health is what the daemon reports about its mailbox watcher and outbox.
type Health struct {
	LastMailboxOK time.Time      // the last successful mailbox check; zero when none yet
	MailboxErrors int64          // mailbox errors since start
	Reconnects    int64          // mailbox reconnects since start
	OutboxDepth   int            // items waiting to be sent
	OutboxFailed  int            // items that failed for good
	Verdicts      map[string]int // mails by verdict; nil: counted from the store
	Parts         []PartState    // the daemon's parts; /readyz is not ready while one is not running
}

// PartState is what one part of the daemon (mailbox watcher, outbox sender, ...) is doing.
type PartState struct {
	Name      string
	Running   bool
	Failures  int    // since the daemon started
	LastError string // of the last failure
}

// Server is the dashboard.
type Server struct {
	ln   net.Listener // bound by Listen, taken by Serve
	o    Options
	st   *store.Store
	arch store.Archive
	log  *slog.Logger
	key  []byte // HMAC key for CSRF tokens
	tpl  *templates
	h    http.Handler

	mu       sync.Mutex
	sessions map[string]time.Time // session token -> expiry
	fails    map[string]*failWindow
	imports  map[string]pendingImport // token -> a units spreadsheet previewed, not applied yet

	statusCache report.StatusCache // the overview's and 单位's status between two new receipts
}

type failWindow struct {
	start time.Time
	n     int
}

const (
	sessionCookie = "briefd_session"
	preCookie     = "briefd_pre" // a random value tying CSRF tokens to a browser before login
	maxSessions   = 1000
	loginFailures = 5               // failed logins per client address per window
	loginWindow   = 5 * time.Minute // after which the count starts again
	maxFormBytes  = 64 << 10
)

// New checks the options and builds the dashboard.
func New(o Options, st *store.Store, arch store.Archive, log *slog.Logger) (*Server, error) {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8080"
	}
	host, _, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("web: listen %q: must be host:port, e.g. 127.0.0.1:8080", o.Listen)
	}
	if o.Password == "" && !mailnet.IsLoopback(host) {
		return nil, fmt.Errorf("web: listen %s is reachable from other machines: a password is required", o.Listen)
	}
	if st == nil {
		return nil, errors.New("web: no store")
	}
	if o.Office == nil {
		return nil, errors.New("web: no office")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		if r := o.Office.Roster(); r != nil {
			o.Location = r.Location()
		} else {
			o.Location = time.Local
		}
	}
	if o.MailboxMaxAge <= 0 {
		o.MailboxMaxAge = 15 * time.Minute
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.PageSize <= 0 {
		o.PageSize = 50
	}
	if o.MaxUpload <= 0 {
		o.MaxUpload = 64 << 20
	}
	if o.OfficeName == "" {
		o.OfficeName = "简报收取"
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, st: st, arch: arch, log: log, key: randomBytes(32), tpl: tpl,
		sessions: map[string]time.Time{}, fails: map[string]*failWindow{}, imports: map[string]pendingImport{}}
	s.h = s.routes()
	return s, nil
}

// Handler returns the dashboard's handler, with security headers, login and CSRF checks.
func (s *Server) Handler() http.Handler { return s.h }

// ListenAndServe is Listen then Serve.
func (s *Server) ListenAndServe(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	return s.Serve(ctx)
}

// Listen binds Options.Listen, for Serve. An address in use is an error here, before anything runs.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.o.Listen)
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	s.ln = ln
	return nil
}

// Serve serves on the address Listen bound until ctx is done, then shuts down, letting requests in
// flight finish for at most ten seconds. It closes the listener in any case.
func (s *Server) Serve(ctx context.Context) error {
	ln := s.ln
	if ln == nil {
		return errors.New("web: Serve before Listen")
	}
	s.ln = nil
	srv := &http.Server{
		Handler:           s.h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // downloads of large PDFs and exports
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if ctx.Err() != nil {
		return ln.Close()
	}
	s.log.Info("web dashboard listening", "addr", "http://"+ln.Addr().String(), "login", s.o.Password != "")
	go func() {
		if err := s.Warm(); err != nil {
			s.log.Warn("web: reading receipts", "err", err)
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("web: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("web: shutdown: %w", err)
	}
	return nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // crypto/rand.Read never fails (it panics if the kernel cannot give randomness)
	return b
}

func randomToken() string { return base64.RawURLEncoding.EncodeToString(randomBytes(32)) }

// ---- sessions and login ----

// session returns the request's valid session token, or "".
func (s *Server) session(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.sessions[c.Value]
	if !ok {
		return ""
	}
	if now.After(exp) {
		delete(s.sessions, c.Value)
		return ""
	}
	s.sessions[c.Value] = now.Add(s.o.SessionTTL) // sliding expiry
	return c.Value
}

func (s *Server) newSession() string {
	tok := randomToken()
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, exp := range s.sessions {
		if now.After(exp) {
			delete(s.sessions, k)
		}
	}
	if len(s.sessions) >= maxSessions { // drop the one closest to expiry
		var oldest string
		var at time.Time
		for k, exp := range s.sessions {
			if oldest == "" || exp.Before(at) {
				oldest, at = k, exp
			}
		}
		delete(s.sessions, oldest)
	}
	s.sessions[tok] = now.Add(s.o.SessionTTL)
	return tok
}

func (s *Server) endSession(tok string) {
	s.mu.Lock()
	delete(s.sessions, tok)
	s.mu.Unlock()
}

func (s *Server) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.o.TLS, SameSite: http.SameSiteStrictMode}
}

// checkPassword compares in constant time (over hashes, so the length does not leak either).
func (s *Server) checkPassword(p string) bool {
	a := sha256.Sum256([]byte(p))
	b := sha256.Sum256([]byte(s.o.Password))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginAllowed reports whether the client may try a password now.
func (s *Server) loginAllowed(ip string) bool {
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fails[ip]
	if f == nil || now.Sub(f.start) > loginWindow {
		return true
	}
	return f.n < loginFailures
}

func (s *Server) loginFailed(ip string) {
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.fails) > 10000 {
		clear(s.fails)
	}
	f := s.fails[ip]
	if f == nil || now.Sub(f.start) > loginWindow {
		f = &failWindow{start: now}
		s.fails[ip] = f
	}
	f.n++
}

// ---- CSRF ----

// csrfBase is the secret the request's CSRF token is derived from: its session, or before login (and
// when there is no login) the random pre-session cookie, set here when missing.
func (s *Server) csrfBase(w http.ResponseWriter, r *http.Request) string {
	if tok := s.session(r); tok != "" {
		return "s:" + tok
	}
	if c, err := r.Cookie(preCookie); err == nil && len(c.Value) >= 32 {
		return "p:" + c.Value
	}
	if w == nil {
		return ""
	}
	v := randomToken()
	http.SetCookie(w, s.cookie(preCookie, v, 0))
	r.AddCookie(&http.Cookie{Name: preCookie, Value: v}) // later reads in this request see it
	return "p:" + v
}

func (s *Server) csrfToken(base string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(base))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfOK checks the form's token against the request's cookies.
func (s *Server) csrfOK(r *http.Request) bool {
	base := s.csrfBase(nil, r)
	got := r.PostFormValue("csrf")
	if base == "" || got == "" {
		return false
	}
	return hmac.Equal([]byte(got), []byte(s.csrfToken(base)))
}
