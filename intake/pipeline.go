package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode"

	"briefd/pdfcheck"
	"briefd/roster"
	"briefd/store"

	"github.com/emersion/go-message/charset"
)

// PipelineOptions configure a Pipeline.
type PipelineOptions struct {
	// Ours are the office's own addresses: mail from them is never answered.
	Ours []string
	// Marker is the word our Message-IDs carry, to recognise our own replies when they come back.
	Marker string
	// Replies queues a receipt reply for every mail that deserves one.
	Replies bool
	// MaxAttachment: larger attachments are rejected as too large without being checked.
	MaxAttachment int64
	// SpoolDir holds attachments while a message is processed.
	SpoolDir string
	// Location is the office time zone.
	Location *time.Location
	// Workers is how many attachments of one mail are checked at once. Default 2.
	Workers int
	// OfficeTo are told when a mail could not be handled (store.KindFailure in the outbox).
	OfficeTo []string
	// AuthServIDs are the receiving provider's authserv-ids (ParseOptions.AuthServIDs).
	AuthServIDs []string
}

// Pipeline processes fetched messages into receipts. Handle is its watcher Handler.
type Pipeline struct {
	opts    PipelineOptions
	st      *store.Store
	roster  func() *roster.Roster
	checker *pdfcheck.Checker
	archive store.Archive
	log     *slog.Logger

	// Recorded, when set, is called after each message is recorded (for progress output).
	Recorded func(f *Fetched, r *store.Receipt, dup bool)

	mu     sync.Mutex
	counts map[string]int
	tries  attempts
}

// NewPipeline wires a pipeline. ros is called for every message, so a roster reloaded after
// `assign -learn` takes effect at once.
func NewPipeline(opts PipelineOptions, st *store.Store, ros func() *roster.Roster, chk *pdfcheck.Checker,
	arch store.Archive, log *slog.Logger) *Pipeline {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.SpoolDir == "" {
		opts.SpoolDir = os.TempDir()
	}
	return &Pipeline{opts: opts, st: st, roster: ros, checker: chk, archive: arch, log: log, counts: map[string]int{}}
}

// Counts returns how many messages got each verdict since the pipeline started.
func (p *Pipeline) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// Handle records one fetched message. It is the commit point of the flow: the receipt, the mailbox
// cursor and the queued reply are written in one transaction; archive files are staged before it and
// moved into place after it (RecoverStaged finishes that after a crash). A message already recorded
// (same mailbox key, or the same mail after a UIDVALIDITY change) is not recorded again.
//
// An error is either a Fault of this machine (IsFault: nothing is recorded, the message is tried again
// once the fault is gone) or one of the message: at the MaxAttempts-th of those, the message is
// recorded as failed, with its raw copy, the office is told, and Handle returns nil.
func (p *Pipeline) Handle(ctx context.Context, f *Fetched) (err error) {
	if n, ok, err := p.st.LookupMessage(f.Key); err != nil {
		return fault(err)
	} else if ok {
		p.log.Debug("message already recorded", "uid", f.Key.UID, "receipt", n)
		return fault(p.st.SetCursor(f.Cursor()))
	}
	if f.Fingerprint == "" && f.Path != "" { // a caller other than the watcher
		fp, err := fingerprintFile(f.Path)
		if err != nil {
			return fault(err)
		}
		f.Fingerprint = fp
	}
	err = p.handleSafely(ctx, f)
	if err != nil && !IsFault(err) {
		n := p.tries.failed(f.Key)
		p.log.Warn("message could not be handled", "uid", f.Key.UID, "attempt", n, "of", MaxAttempts, "err", err)
		if n < MaxAttempts {
			return err
		}
		err = p.recordFailed(f, fmt.Sprintf("failed %d times: %v", MaxAttempts, err))
	}
	if err == nil || IsFault(err) {
		p.tries.end(f.Key)
	}
	return err
}

// handleSafely is handle with a panic turned into an error of the message.
func (p *Pipeline) handleSafely(ctx context.Context, f *Fetched) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("intake: panic while handling uid %d: %v", f.Key.UID, r)
			p.log.Error("panic while handling a message", "uid", f.Key.UID, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	return p.handle(ctx, f)
}

// handle records a message not recorded yet.
func (p *Pipeline) handle(ctx context.Context, f *Fetched) error {
	rec := p.newReceipt(f)
	stage := filepath.Join(p.archive.Root, ".staging", store.SafeName(stageName(f.Key)))
	defer os.RemoveAll(stage)
	var msg *Message
	switch {
	case f.TooLarge:
		rec.Verdict = store.VerdictTooLarge
		rec.Note = fmt.Sprintf("message of %d bytes is over the size limit; not downloaded", f.Size)
		if f.Path != "" { // the watcher may hand over the header alone
			if h, err := readHeaderOnly(f.Path); err == nil {
				fillFromHeader(rec, h)
			}
		}
	default:
		m, dir, err := p.parse(f.Path)
		defer os.RemoveAll(dir)
		if err != nil && !errors.Is(err, ErrMalformed) {
			return fault(err) // reading the spool, or writing the attachments to it
		}
		if err != nil {
			rec.Verdict, rec.Note = store.VerdictMalformed, "cannot parse: "+err.Error()
			if h, herr := readHeaderOnly(f.Path); herr == nil {
				fillFromHeader(rec, h)
			}
		} else {
			msg = m
		}
	}
	// While the attachments are checked, the raw copy and every attachment are staged (their data
	// written to disk); the attachments that turn out not to be usable PDFs are dropped after.
	staged := make(chan error, 1)
	go func() { staged <- stageAll(stage, f.Path, msg) }()
	var checkErr error
	if msg != nil {
		checkErr = p.describe(ctx, rec, msg)
	}
	if err := <-staged; err != nil {
		return fault(err)
	}
	if checkErr != nil {
		return fault(checkErr)
	}
	var reply *store.OutboxItem
	ros := p.roster()
	reason := ""
	if msg != nil {
		reason = Classify(msg, p.opts.Ours, p.opts.Marker)
	} else if rec.From == "" {
		reason = "sender unknown"
	} else if p.ours(rec.From) {
		reason = "our own address"
	}
	if reason != "" && msg != nil {
		rec.Verdict, rec.Note = store.VerdictIgnored, reason
	} else {
		p.place(ros, rec) // also marks files received before (DuplicateOf)
	}
	if msg != nil {
		if err := p.dropUnusable(stage, rec); err != nil {
			return fault(err)
		}
	}
	if err := syncStage(stage); err != nil {
		return fault(fmt.Errorf("intake: stage: %w", err))
	}
	switch {
	case reason != "":
		rec.Reply, rec.ReplyNote = store.ReplySuppressed, reason
	case !p.opts.Replies:
		rec.Reply, rec.ReplyNote = store.ReplySuppressed, "replies are switched off"
	default:
		reply = &store.OutboxItem{Kind: store.KindReply, To: rec.From, Created: time.Now(), NextTry: time.Now()}
	}
	var out []*store.OutboxItem
	if reply != nil {
		out = append(out, reply)
	}
	key, cur := f.Key, f.Cursor()
	year := rec.Received.Year()
	number, dup, err := p.st.RecordWith(rec, &key, &cur, out, func(r *store.Receipt) {
		if fileExists(filepath.Join(stage, "raw.eml")) {
			r.Raw = p.archive.RawPath(year, r.Number)
		}
		for i := range r.Attachments {
			if fileExists(filepath.Join(stage, fmt.Sprintf("%d.pdf", i))) {
				r.Attachments[i].Archived = p.archive.PDFPath(r.Campaign, r.Period, ros.UnitName(r.Unit), r.Number, i+1)
			}
		}
	})
	if err != nil {
		return fault(err)
	}
	if !dup {
		if err := p.unstage(stage, rec); err != nil {
			// The receipt is recorded; RecoverStaged retries the move at the next start.
			p.log.Error("moving archive files into place", "receipt", number, "err", err)
		}
	} else {
		rec.Number = number
	}
	p.mu.Lock()
	if dup {
		p.counts["duplicate"]++
	} else {
		p.counts[rec.Verdict]++
	}
	p.mu.Unlock()
	p.log.Info("recorded", "receipt", number, "uid", f.Key.UID, "verdict", rec.Verdict, "unit", rec.Unit,
		"campaign", rec.Campaign, "period", rec.Period, "dup", dup)
	if p.Recorded != nil {
		p.Recorded(f, rec, dup)
	}
	return nil
}

// newReceipt starts the receipt of f.
func (p *Pipeline) newReceipt(f *Fetched) *store.Receipt {
	rec := &store.Receipt{
		Fingerprint: f.Fingerprint,
		Received:    f.InternalDate.In(p.opts.Location),
		Size:        f.Size,
		Mailbox:     f.Key.Mailbox,
		UIDValidity: f.Key.UIDValidity,
		UID:         f.Key.UID,
		Match:       roster.MatchNone,
		Attachments: []store.Attachment{},
		Links:       []string{},
	}
	if rec.Received.IsZero() || rec.Received.Year() < 2000 {
		rec.Received = time.Now().In(p.opts.Location)
	}
	return rec
}

// recordFailed records a message that could not be handled: verdict failed with why, what its header
// says as far as it can be read, its raw copy archived. The sender gets no reply (its mail may be fine:
// the fault may be briefd's); the office is told, and `briefd recheck` tries it again later.
func (p *Pipeline) recordFailed(f *Fetched, why string) error {
	rec := p.newReceipt(f)
	rec.Verdict, rec.Note = store.VerdictFailed, why
	rec.Reply, rec.ReplyNote = store.ReplySuppressed, "handling failed: the office checks it"
	if f.Path != "" {
		if h, err := readHeaderOnly(f.Path); err == nil {
			fillFromHeader(rec, h)
		}
	}
	stage := filepath.Join(p.archive.Root, ".staging", store.SafeName(stageName(f.Key)))
	defer os.RemoveAll(stage)
	if f.Path != "" && !f.TooLarge {
		if err := stageFile(stage, "raw.eml", f.Path); err != nil {
			return fault(fmt.Errorf("intake: stage raw message: %w", err))
		}
		if err := syncStage(stage); err != nil {
			return fault(fmt.Errorf("intake: stage: %w", err))
		}
	}
	var out []*store.OutboxItem
	for _, to := range p.opts.OfficeTo {
		out = append(out, &store.OutboxItem{Kind: store.KindFailure, To: to, Created: time.Now(), NextTry: time.Now()})
	}
	key, cur := f.Key, f.Cursor()
	year := rec.Received.Year()
	number, dup, err := p.st.RecordWith(rec, &key, &cur, out, func(r *store.Receipt) {
		if fileExists(filepath.Join(stage, "raw.eml")) {
			r.Raw = p.archive.RawPath(year, r.Number)
		}
	})
	if err != nil {
		return fault(err)
	}
	if !dup {
		if err := p.unstage(stage, rec); err != nil {
			p.log.Error("moving archive files into place", "receipt", number, "err", err)
		}
	}
	p.mu.Lock()
	p.counts[store.VerdictFailed]++
	p.mu.Unlock()
	p.log.Error("message recorded as failed; the office is told", "receipt", number, "uid", f.Key.UID, "why", why)
	if p.Recorded != nil {
		p.Recorded(f, rec, dup)
	}
	return nil
}

// parse parses the raw message at path, spooling its attachments into a new folder that the caller
// removes.
func (p *Pipeline) parse(path string) (*Message, string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer fh.Close()
	if err := os.MkdirAll(p.opts.SpoolDir, 0o700); err != nil {
		return nil, "", err
	}
	dir, err := os.MkdirTemp(p.opts.SpoolDir, "parts-")
	if err != nil {
		return nil, "", err
	}
	m, err := Parse(fh, dir, ParseOptions{MaxAttachment: p.opts.MaxAttachment, AuthServIDs: p.opts.AuthServIDs})
	return m, dir, err
}

// describe fills the receipt from the parsed message and checks each attachment. An error is a fault
// of this machine that left an attachment without a verdict.
func (p *Pipeline) describe(ctx context.Context, rec *store.Receipt, msg *Message) error {
	m := msg
	rec.From, rec.FromName, rec.Subject, rec.MessageID = m.From, m.FromName, m.Subject, m.MessageID
	rec.Date, rec.Auth = m.Date, m.Auth
	rec.Links = append([]string{}, m.Links...)
	if len(m.Problems) > 0 {
		rec.Note = strings.Join(m.Problems, "; ")
	}
	rec.Attachments = make([]store.Attachment, len(m.Attachments))
	var wg sync.WaitGroup
	sem := make(chan struct{}, p.opts.Workers)
	faults := make([]error, len(m.Attachments))
	for i, a := range m.Attachments {
		rec.Attachments[i] = store.Attachment{Filename: shownName(a.Filename), Size: a.Size, SHA256: a.SHA256}
		if a.TooLarge || a.Path == "" {
			rec.Attachments[i].Kind, rec.Attachments[i].Verdict, rec.Attachments[i].Reason = "other", pdfcheck.VerdictReject, pdfcheck.ReasonTooLarge
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, path string) {
			defer func() { <-sem; wg.Done() }()
			v := p.checker.CheckFile(ctx, path)
			if v.Fault != nil {
				faults[i] = fmt.Errorf("intake: checking attachment %d: %w", i+1, v.Fault)
				return
			}
			at := &rec.Attachments[i]
			at.Kind, at.Verdict, at.Pages, at.Encrypted, at.Reason = v.Kind, v.Verdict, v.Pages, v.Encrypted, v.Reason
			if len(v.Warnings) > 0 {
				p.log.Debug("pdf warnings", "file", a.Filename, "warnings", v.Warnings)
			}
		}(i, a.Path)
	}
	wg.Wait()
	if err := errors.Join(faults...); err != nil {
		return err
	}
	usable := 0
	for _, a := range rec.Attachments {
		if a.OK() {
			usable++
		}
	}
	switch {
	case len(rec.Attachments) == 0:
		rec.Verdict = store.VerdictNoAttachment
	case usable == len(rec.Attachments):
		rec.Verdict = store.VerdictAccepted
	case usable > 0:
		rec.Verdict = store.VerdictPartial
	default:
		rec.Verdict = store.VerdictRejected
	}
	return nil
}

// place matches the sender to a unit, the mail to a campaign period, and notices files sent before.
func (p *Pipeline) place(ros *roster.Roster, rec *store.Receipt) {
	if rec.From == "" {
		return
	}
	var names []string
	for _, a := range rec.Attachments {
		names = append(names, a.Filename)
	}
	rec.Unit, rec.Match = ros.Match(rec.From, rec.FromName, rec.Subject, names)
	if rec.Unit == "" {
		return
	}
	if pl, ok := ros.Place(rec.Unit, rec.Received, rec.Subject, names); ok {
		rec.Campaign, rec.Period, rec.Late = pl.Campaign, pl.Period, pl.Late
	}
	if rec.Campaign == "" {
		return
	}
	usable, dups := 0, 0
	for i := range rec.Attachments {
		a := &rec.Attachments[i]
		if !a.OK() || a.SHA256 == "" {
			continue
		}
		usable++
		if n, ok, err := p.st.LookupFile(rec.Unit, rec.Campaign, rec.Period, a.SHA256); err == nil && ok {
			a.DuplicateOf = n
			dups++
		}
	}
	if usable > 0 && dups == usable {
		rec.DuplicateOf = rec.Attachments[firstOK(rec.Attachments)].DuplicateOf
	}
}

// shownName is a filename as it is recorded and shown to people: without control and format characters,
// so that an RTL override cannot make "fdp.exe" read as "exe.pdf" in a list or a reply.
func shownName(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
}

func firstOK(as []store.Attachment) int {
	for i, a := range as {
		if a.OK() {
			return i
		}
	}
	return 0
}

func (p *Pipeline) ours(addr string) bool {
	for _, o := range p.opts.Ours {
		if strings.EqualFold(strings.TrimSpace(o), addr) {
			return true
		}
	}
	return false
}

// stageAll stages the raw message (when rawPath is set) as raw.eml and every kept attachment of msg
// (when not nil) as <index>.pdf.
func stageAll(stage, rawPath string, msg *Message) error {
	if rawPath != "" {
		if err := stageFile(stage, "raw.eml", rawPath); err != nil {
			return fmt.Errorf("intake: stage raw message: %w", err)
		}
	}
	if msg == nil {
		return nil
	}
	for i, a := range msg.Attachments {
		if a.TooLarge || a.Path == "" {
			continue
		}
		if err := stageFile(stage, fmt.Sprintf("%d.pdf", i), a.Path); err != nil {
			return fmt.Errorf("intake: stage attachment: %w", err)
		}
	}
	return nil
}

// dropUnusable removes from the staging folder the attachments that are not usable PDFs: only those
// are archived.
func (p *Pipeline) dropUnusable(stage string, rec *store.Receipt) error {
	for i, a := range rec.Attachments {
		if a.OK() && a.DuplicateOf == "" {
			continue
		}
		if err := os.Remove(filepath.Join(stage, fmt.Sprintf("%d.pdf", i))); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("intake: unstage attachment: %w", err)
		}
	}
	return nil
}

// stageFile puts the file src into the staging folder as name, its data on disk when it returns. src
// is a spool file that is removed after the message is handled, so when the spool is on the archive's
// file system it is hard-linked rather than copied: one write of the data instead of two. Otherwise
// (another file system, no hard links) it is copied. syncStage makes the folder entries durable.
func stageFile(stage, name, src string) error {
	if err := os.MkdirAll(stage, 0o700); err != nil {
		return err
	}
	dst := filepath.Join(stage, name)
	if err := os.Link(src, dst); err == nil {
		if err := syncFile(dst); err != nil {
			os.Remove(dst)
			return err
		}
		return nil
	}
	return store.Archive{Root: stage}.Save(name, src)
}

// syncFile (syncfile_other.go, syncfile_windows.go) makes a file's data, or a folder's entries, durable.

// syncStage makes the staging folder and its entries durable (when it exists), so that RecoverStaged
// finds the files of a message recorded just before a crash.
func syncStage(stage string) error {
	if _, err := os.Stat(stage); err != nil {
		return nil
	}
	for _, d := range []string{stage, filepath.Dir(stage)} {
		if err := syncFile(d); err != nil {
			return err
		}
	}
	return nil
}

// unstage moves staged files to the names the receipt gives them.
func (p *Pipeline) unstage(stage string, rec *store.Receipt) error {
	var errs []error
	move := func(name, rel string) {
		if rel == "" {
			return
		}
		if err := p.archive.Adopt(filepath.Join(stage, name), rel); err != nil {
			errs = append(errs, err)
		}
	}
	move("raw.eml", rec.Raw)
	for i, a := range rec.Attachments {
		move(fmt.Sprintf("%d.pdf", i), a.Archived)
	}
	return errors.Join(errs...)
}

// RecoverStaged finishes what a crash interrupted: staged files of recorded messages are moved into
// place, those of messages never recorded are removed (the message is fetched again).
func (p *Pipeline) RecoverStaged() error {
	root := filepath.Join(p.archive.Root, ".staging")
	entries, err := os.ReadDir(root)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		key, ok := parseStageName(e.Name())
		var number string
		if ok {
			number, ok, _ = p.st.LookupMessage(key)
		}
		if ok {
			if rec, err := p.st.Receipt(number); err == nil {
				if err := p.unstage(dir, rec); err != nil {
					p.log.Warn("recovering staged archive files", "receipt", number, "err", err)
				}
			}
		}
		os.RemoveAll(dir)
	}
	return nil
}

func stageName(k store.MessageKey) string {
	return fmt.Sprintf("%d-%d-%x", k.UIDValidity, k.UID, k.Mailbox)
}

func parseStageName(s string) (store.MessageKey, bool) {
	var k store.MessageKey
	var mb []byte
	if _, err := fmt.Sscanf(s, "%d-%d-%x", &k.UIDValidity, &k.UID, &mb); err != nil {
		return k, false
	}
	k.Mailbox = string(mb)
	return k, true
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// readHeaderOnly reads just the header of a raw message, for mail that cannot be parsed whole.
func readHeaderOnly(path string) (mail.Header, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	m, err := mail.ReadMessage(fh)
	if err != nil {
		return nil, err
	}
	return m.Header, nil
}

// fillFromHeader takes sender, subject and Message-ID from a header parsed with net/mail.
func fillFromHeader(rec *store.Receipt, h mail.Header) {
	if a, err := mail.ParseAddress(h.Get("From")); err == nil {
		rec.From, rec.FromName = strings.ToLower(a.Address), a.Name
	}
	dec := mime.WordDecoder{CharsetReader: charset.Reader}
	if s, err := dec.DecodeHeader(h.Get("Subject")); err == nil {
		rec.Subject = s
	} else {
		rec.Subject = h.Get("Subject")
	}
	if id := strings.TrimSpace(h.Get("Message-Id")); strings.HasPrefix(id, "<") && strings.HasSuffix(id, ">") {
		rec.MessageID = id
	}
}
