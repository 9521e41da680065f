package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"briefd/mailmsg"
	"briefd/pdfcheck"
	"briefd/roster"
	"briefd/store"
)

// Checker gives the verdict on one attachment: *pdfcheck.Checker.
type Checker interface {
	CheckFile(ctx context.Context, path string) pdfcheck.Verdict
}

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
	// SpoolDir is the folder for work files. The attachments themselves are decoded straight into the
	// archive's staging folder (one write of their data, and no folder of their own). Default
	// os.TempDir().
	SpoolDir string
	// Location is the office time zone.
	Location *time.Location
	// Workers is how many attachments of one mail are checked at once. Default 2.
	Workers int
	// OfficeTo are told when a mail could not be handled (store.KindFailure in the outbox).
	OfficeTo []string
	// MaxAge: mail received longer ago than this is recorded but not answered (history). 0: no limit.
	// Mail received before the earliest campaign opened is never answered either.
	MaxAge time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// AuthServIDs are the receiving provider's authserv-ids (mailmsg.ParseOptions.AuthServIDs).
	AuthServIDs []string
	// Notices, when set, returns further outbox items about a new receipt, recorded in its transaction:
	// the group robots' posts about a receipt that needs a person (notify.Notifier.ProblemItems).
	Notices func(*store.Receipt) []*store.OutboxItem
}

// Pipeline processes fetched messages into receipts. Handle is its watcher Handler.
type Pipeline struct {
	opts    PipelineOptions
	st      *store.Store
	roster  func() *roster.Roster
	checker Checker
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
func NewPipeline(opts PipelineOptions, st *store.Store, ros func() *roster.Roster, chk Checker,
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

// CountHistory counts, in Counts, the mails recorded without a reply because they are old.
const CountHistory = "history (not answered)"

func (p *Pipeline) now() time.Time {
	if p.opts.Now != nil {
		return p.opts.Now()
	}
	return time.Now()
}

// Counts returns how many messages got each verdict since the pipeline started, and CountHistory.
func (p *Pipeline) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// Handle records one fetched message: Prepare (one attempt) and Commit. It is the commit point of the
// flow for one message: the receipt, the mailbox cursor and the queued reply are written in one
// transaction; archive files are staged before it and moved into place after it (RecoverStaged finishes
// that after a crash). A message already recorded (same mailbox key, or the same mail after a
// UIDVALIDITY change) is not recorded again.
//
// An error is either a Fault of this machine (IsFault: nothing is recorded, the message is tried again
// once the fault is gone) or one of the message: at the MaxAttempts-th of those, the message is
// recorded as failed, with its raw copy, the office is told, and Handle returns nil.
func (p *Pipeline) Handle(ctx context.Context, f *Fetched) error {
	pr, err := p.prepare(ctx, f, false)
	if err != nil {
		return err
	}
	_, err = p.Commit(ctx, []Prepared{pr})
	return err
}

// evaluation is what evaluate found out about one message.
type evaluation struct {
	rec       *store.Receipt
	ros       *roster.Roster
	reply     bool // it deserves a receipt reply
	leftAlone bool // spam-folder mail that is no submission: not to be recorded
	cleanup   func()
}

// evaluate works out the receipt of the raw message f.Path: parse, open archives, check every
// attachment, match the unit and the campaign period, decide whether it is a submission and whether it
// gets a reply. The raw copy and the usable PDFs are left in stage (<n>.pdf by attachment position).
// self is the receipt the message already has (a recheck): its own files are no duplicates of
// themselves. An error is a fault of this machine; the caller runs ev.cleanup in any case.
func (p *Pipeline) evaluate(ctx context.Context, f *Fetched, stage, self string) (ev evaluation, err error) {
	ev.cleanup = func() {}
	rec := p.newReceipt(f)
	ev.rec = rec
	var msg *mailmsg.Message
	switch {
	case f.TooLarge:
		rec.Verdict = store.VerdictTooLarge
		rec.Note = fmt.Sprintf("message of %d bytes is over the size limit; not downloaded", f.Size)
		if f.Path != "" { // the watcher may hand over the header alone
			if hm, err := readHeaderOnly(f.Path); err == nil {
				fillFromHeader(rec, hm)
			}
		}
	default:
		m, err := p.parse(f.Path, stage)
		if err != nil && !errors.Is(err, mailmsg.ErrMalformed) {
			return ev, fault(err) // reading the spool, or writing the attachments to it
		}
		if err != nil {
			rec.Verdict, rec.Note = store.VerdictMalformed, "cannot parse: "+err.Error()
			if hm, herr := readHeaderOnly(f.Path); herr == nil {
				fillFromHeader(rec, hm)
			}
		} else {
			msg = m
			if err := p.openArchives(msg); err != nil {
				return ev, fault(err)
			}
		}
	}
	// The attachments were decoded into the staging folder: they get their staged names before they are
	// checked, and while they are checked the raw copy is staged and their data written to disk; the
	// attachments that turn out not to be usable PDFs are dropped after.
	if msg != nil {
		if err := nameStaged(stage, msg); err != nil {
			return ev, fault(fmt.Errorf("intake: stage attachment: %w", err))
		}
	}
	staged := make(chan error, 1)
	go func() { staged <- stageAll(stage, f.Path, msg) }()
	var checkErr error
	if msg != nil {
		checkErr = p.describe(ctx, rec, msg)
	}
	if err := <-staged; err != nil {
		return ev, fault(err)
	}
	if checkErr != nil {
		return ev, fault(checkErr)
	}
	ros := p.roster()
	ev.ros = ros
	reason := ""
	if msg != nil {
		reason = mailmsg.Classify(msg, p.opts.Ours, p.opts.Marker)
	} else if rec.From == "" {
		reason = "sender unknown"
	} else if p.ours(rec.From) {
		reason = "our own address"
	}
	if reason != "" && msg != nil {
		rec.Verdict, rec.Note, rec.Category = store.VerdictIgnored, reason, categoryOf(reason)
	} else {
		p.place(ros, rec, self) // also marks files received before (DuplicateOf)
		if msg != nil && len(msg.Attachments) == 0 && len(msg.Links) == 0 {
			// No file and no link: a submission only when a unit speaks of submitting.
			if cat := classifyIntent(rec.Unit, rec.Subject, msg.Text, ros); cat != "" {
				reason = "not a submission: " + cat
				rec.Verdict, rec.Category = store.VerdictIgnored, cat
				rec.Note = strings.Join(slices.DeleteFunc([]string{reason, rec.Note}, func(s string) bool { return s == "" }), "; ")
				if cat == store.CategoryQuestion {
					rec.Text = firstRunes(msg.Text, 2000)
				}
			}
		}
	}
	if f.Junk {
		// The spam folder holds what the provider took for spam: only a unit's mail and mail that
		// carries a PDF are taken from there; the rest is left alone, unrecorded.
		if rec.Unit == "" && !slices.ContainsFunc(rec.Attachments, func(a store.Attachment) bool { return a.Kind == pdfcheck.KindPDF }) {
			ev.leftAlone = true
			return ev, nil
		}
		rec.Junk = true
	}
	if msg != nil {
		if err := p.dropUnusable(stage, rec); err != nil {
			return ev, fault(err)
		}
	}
	if err := syncStage(stage); err != nil {
		return ev, fault(fmt.Errorf("intake: stage: %w", err))
	}
	// Who gets a reply: no backscatter to forged senders and spam, no answer to history.
	hist := historic(rec.Received, p.now(), p.opts.MaxAge, ros)
	spam := ""
	if msg != nil {
		spam = spamFlag(msg)
	}
	switch {
	case reason != "":
		rec.Reply, rec.ReplyNote = store.ReplySuppressed, reason
	case rec.Auth == "fail":
		rec.Reply, rec.ReplyNote = store.ReplySuppressed, noteSpoofed
	case spam != "":
		rec.Reply, rec.ReplyNote = store.ReplySuppressed, noteSpam+spam
	case !p.opts.Replies:
		rec.Reply, rec.ReplyNote = store.ReplySuppressed, noteNoReplies
	case hist != "":
		rec.Reply, rec.ReplyNote, rec.History = store.ReplySuppressed, hist, true
	default:
		ev.reply = true
	}
	return ev, nil
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

// parse parses the raw message at path, decoding its attachments into the folder dir (the message's
// staging folder, made here), which the caller removes.
func (p *Pipeline) parse(path, dir string) (*mailmsg.Message, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return mailmsg.Parse(fh, dir, mailmsg.ParseOptions{MaxAttachment: p.opts.MaxAttachment, AuthServIDs: p.opts.AuthServIDs})
}

// describe fills the receipt from the parsed message and checks each attachment. An error is a fault
// of this machine that left an attachment without a verdict.
func (p *Pipeline) describe(ctx context.Context, rec *store.Receipt, msg *mailmsg.Message) error {
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
		if a.Reason != "" {
			rec.Attachments[i].Kind, rec.Attachments[i].Verdict, rec.Attachments[i].Reason = pdfcheck.KindArchive, pdfcheck.VerdictReject, a.Reason
			continue
		}
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

// openArchives replaces each zip attachment of msg by the files in it, named "材料.zip/报告/一中.pdf",
// each then checked and archived as if attached directly; a zip refused as a whole (encrypted, no PDF
// inside, a bomb ...) stays one attachment with its reason. RAR, 7z and the like get a reason too: they
// cannot be opened here. An error is a fault of this machine.
func (p *Pipeline) openArchives(msg *mailmsg.Message) error {
	var out []mailmsg.Attachment
	for _, a := range msg.Attachments {
		if a.TooLarge || a.Path == "" {
			out = append(out, a)
			continue
		}
		fi, err := os.Stat(a.Path)
		if err != nil {
			return err
		}
		kind, err := sniffFile(a.Path, fi.Size())
		if err != nil {
			return err
		}
		if kind != pdfcheck.KindArchive {
			out = append(out, a)
			continue
		}
		res, err := Unzip(a.Path, filepath.Dir(a.Path), ZipOptions{MaxTotal: p.opts.MaxAttachment})
		if err != nil {
			return err
		}
		msg.Problems = append(msg.Problems, res.Problems...)
		if res.Reason != "" {
			a.Reason = res.Reason
			if list := res.Contents(5); list != "" {
				a.Filename += "（内含：" + list + "）"
			}
			out = append(out, a)
			continue
		}
		for _, e := range res.Entries {
			f := e.Attachment
			f.Filename = a.Filename + "/" + e.Name
			f.Reason = e.Reason
			out = append(out, f)
		}
	}
	msg.Attachments = out
	return nil
}

// place matches the sender to a unit, the mail to a campaign period, and notices files sent before.
func (p *Pipeline) place(ros *roster.Roster, rec *store.Receipt, self string) {
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
	for i := range rec.Attachments {
		a := &rec.Attachments[i]
		if !a.OK() || a.SHA256 == "" {
			continue
		}
		if n, ok, err := p.st.LookupFile(rec.Unit, rec.Campaign, rec.Period, a.SHA256); err == nil && ok && n != self {
			a.DuplicateOf = n
		}
	}
	markDuplicateMail(rec)
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

// nameStaged renames every kept attachment of msg, decoded into the staging folder, to <index>.pdf
// there (the name unstage and RecoverStaged know it by), and points the attachment at it.
func nameStaged(stage string, msg *mailmsg.Message) error {
	for i, a := range msg.Attachments {
		if a.TooLarge || a.Path == "" {
			continue
		}
		dst := filepath.Join(stage, fmt.Sprintf("%d.pdf", i))
		if filepath.Dir(a.Path) != filepath.Clean(stage) {
			// not decoded here (a caller's own message): link or copy it in
			if err := stageFile(stage, filepath.Base(dst), a.Path); err != nil {
				return err
			}
		} else if err := os.Rename(a.Path, dst); err != nil {
			return err
		}
		msg.Attachments[i].Path = dst
	}
	return nil
}

// stageAll stages the raw message (when rawPath is set) as raw.eml and makes the data of every kept
// attachment of msg (when not nil), already in the staging folder, durable.
func stageAll(stage, rawPath string, msg *mailmsg.Message) error {
	if rawPath != "" {
		if err := stageFile(stage, "raw.eml", rawPath); err != nil {
			return fmt.Errorf("intake: stage raw message: %w", err)
		}
	}
	if msg == nil {
		return nil
	}
	for _, a := range msg.Attachments {
		if a.TooLarge || a.Path == "" {
			continue
		}
		if err := syncFile(a.Path); err != nil {
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

// syncStage makes the staging folder's entries durable (when it exists). The folder's own entry in
// .staging is made durable by syncDir on .staging, once for all the messages of a commit (Commit), so
// that RecoverStaged finds the files of a message recorded just before a crash.
func syncStage(stage string) error {
	if _, err := os.Stat(stage); err != nil {
		return nil
	}
	return syncFile(stage)
}

// unstage moves staged files to the names the receipt gives them.
func (p *Pipeline) unstage(stage string, rec *store.Receipt) error {
	var errs []error
	move := func(name, rel string) {
		if rel == "" || !fileExists(filepath.Join(stage, name)) && archived(p.archive, rel) {
			return // nothing to move, or moved by an earlier try
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
	root := p.stagingRoot()
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
					// Left for the next start: removing it would lose the receipt's only copy.
					p.log.Warn("recovering staged archive files", "receipt", number, "err", err)
					continue
				}
			}
		}
		os.RemoveAll(dir)
	}
	return nil
}

// stagingRoot is the archive's staging folder: files between evaluation and commit.
func (p *Pipeline) stagingRoot() string { return filepath.Join(p.archive.Root, ".staging") }

// stageOf is the staging folder of the message with key k (RecoverStaged reads the key back from its name).
func (p *Pipeline) stageOf(k store.MessageKey) string {
	return filepath.Join(p.stagingRoot(), store.SafeName(stageName(k)))
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

// archived reports whether the archive holds rel.
func archived(a store.Archive, rel string) bool {
	f, err := a.Open(rel)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// readHeaderOnly reads just the header of a raw message, for mail that is not parsed whole (too large,
// or its handling failed).
func readHeaderOnly(path string) (*mailmsg.Message, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return mailmsg.ParseHeader(fh, mailmsg.ParseOptions{})
}

// fillFromHeader takes sender, subject and Message-ID from a message read by readHeaderOnly.
func fillFromHeader(rec *store.Receipt, m *mailmsg.Message) {
	rec.From, rec.FromName, rec.Subject, rec.MessageID = m.From, m.FromName, m.Subject, m.MessageID
}
