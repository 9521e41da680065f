package intake

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"briefd/mailmsg"
	"briefd/roster"
	"briefd/store"
)

// Processor is what the watcher hands messages to. Prepare may run for several messages at once (the
// watcher overlaps the download, the parse and the check of the next messages); Commit is called with
// prepared messages in mailbox order, one batch at a time, and records them: it is the commit point.
// A Handler is a Processor that does all its work in Commit, one message after the other; a *Pipeline is
// the one that overlaps.
type Processor interface {
	// Prepare works on f without recording it. An error is a Fault of this machine: the pass stops
	// before f (what came before it is still committed). An error of the message itself is the
	// Processor's to handle (the Pipeline tries it MaxAttempts times, then prepares it as failed).
	Prepare(ctx context.Context, f *Fetched) (Prepared, error)
	// Commit records the batch in order and returns how many of it were recorded (all, on success).
	// Only then may the watcher apply the after-action and move on; on an error the pass stops.
	Commit(ctx context.Context, batch []Prepared) (int, error)
}

// Prepared is a message Prepare is done with, waiting for its Commit.
type Prepared interface {
	// Discard removes what Prepare left (staged files) of a message that will not be committed: the
	// pass stopped before it. The message is fetched again.
	Discard()
}

// Prepare implements Processor: it checks whether f was recorded before, then evaluates and stages it
// (parse, archives, PDF checks, unit and campaign, files linked into the staging folder and synced).
// An error of the message is tried again at once, up to MaxAttempts times; then the message is prepared
// as failed (its raw copy staged, the office to be told). Only a Fault is returned.
func (p *Pipeline) Prepare(ctx context.Context, f *Fetched) (Prepared, error) {
	return p.prepare(ctx, f, true)
}

// prepare is Prepare; with retry false it makes one attempt and returns the message's error when that
// attempt is not the MaxAttempts-th (Handle: its caller tries again).
func (p *Pipeline) prepare(ctx context.Context, f *Fetched, retry bool) (Prepared, error) {
	if n, ok, err := p.st.LookupMessage(f.Key); err != nil {
		return nil, fault(err)
	} else if ok {
		p.log.Debug("message already recorded", "uid", f.Key.UID, "receipt", n)
		return &prepared{f: f, done: true}, nil
	}
	if f.Fingerprint == "" && f.Path != "" { // a caller other than the watcher
		fp, err := mailmsg.FingerprintFile(f.Path)
		if err != nil {
			return nil, fault(err)
		}
		f.Fingerprint = fp
	}
	for {
		pr, err := p.attempt(ctx, f)
		if err == nil {
			p.tries.end(f.Key)
			return pr, nil
		}
		if IsFault(err) {
			p.tries.end(f.Key)
			return nil, err // not a typed nil: the watcher tells no Prepared by comparing with nil
		}
		n := p.tries.failed(f.Key)
		p.log.Warn("message could not be handled", "uid", f.Key.UID, "attempt", n, "of", MaxAttempts, "err", err)
		if n >= MaxAttempts {
			pr, err := p.prepareFailed(f, fmt.Sprintf("failed %d times: %v", MaxAttempts, err))
			p.tries.end(f.Key)
			if err != nil {
				return nil, err
			}
			return pr, nil
		}
		if !retry {
			return nil, err
		}
	}
}

// prepared is the Pipeline's Prepared.
type prepared struct {
	f         *Fetched
	done      bool // recorded before: only the cursor moves
	leftAlone bool // spam-folder mail that is no submission: only the cursor moves
	failed    bool // recorded as failed (the office is told)

	rec     *store.Receipt
	ros     *roster.Roster
	out     []*store.OutboxItem
	stage   string
	cleanup func()
}

// Discard implements Prepared.
func (pr *prepared) Discard() {
	if pr == nil {
		return
	}
	if pr.cleanup != nil {
		pr.cleanup()
		pr.cleanup = nil
	}
	if pr.stage != "" {
		os.RemoveAll(pr.stage)
	}
}

// attempt evaluates f into its staging folder; a panic is an error of the message.
func (p *Pipeline) attempt(ctx context.Context, f *Fetched) (pr *prepared, err error) {
	stage := p.stageOf(f.Key)
	var ev evaluation
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("intake: panic while handling uid %d: %v", f.Key.UID, r)
			p.log.Error("panic while handling a message", "uid", f.Key.UID, "panic", r, "stack", string(debug.Stack()))
		}
		if err != nil {
			if ev.cleanup != nil {
				ev.cleanup()
			}
			os.RemoveAll(stage)
		}
	}()
	ev, err = p.evaluate(ctx, f, stage, "")
	if err != nil {
		return nil, err
	}
	pr = &prepared{f: f, rec: ev.rec, ros: ev.ros, stage: stage, cleanup: ev.cleanup}
	if ev.leftAlone {
		pr.leftAlone, f.LeftAlone = true, true
		p.log.Debug("spam folder: not a submission, left alone", "uid", f.Key.UID, "from", ev.rec.From)
		return pr, nil
	}
	if ev.reply {
		pr.out = append(pr.out, &store.OutboxItem{Kind: store.KindReply, To: ev.rec.From, Created: time.Now(), NextTry: time.Now()})
	}
	if p.opts.Notices != nil {
		pr.out = append(pr.out, p.opts.Notices(ev.rec)...)
	}
	return pr, nil
}

// prepareFailed prepares the receipt of a message that could not be handled: verdict failed with why,
// what its header says as far as it can be read, its raw copy staged. The sender gets no reply (its
// mail may be fine: the fault may be briefd's); the office is told, and `briefd recheck` tries it again
// later.
func (p *Pipeline) prepareFailed(f *Fetched, why string) (*prepared, error) {
	rec := p.newReceipt(f)
	rec.Verdict, rec.Note = store.VerdictFailed, why
	rec.Reply, rec.ReplyNote = store.ReplySuppressed, "handling failed: the office checks it"
	if f.Path != "" {
		if hm, err := readHeaderOnly(f.Path); err == nil {
			fillFromHeader(rec, hm)
		}
	}
	stage := p.stageOf(f.Key)
	pr := &prepared{f: f, failed: true, rec: rec, stage: stage}
	if f.Path != "" && !f.TooLarge {
		if err := stageFile(stage, "raw.eml", f.Path); err != nil {
			pr.Discard()
			return nil, fault(fmt.Errorf("intake: stage raw message: %w", err))
		}
		if err := syncStage(stage); err != nil {
			pr.Discard()
			return nil, fault(fmt.Errorf("intake: stage: %w", err))
		}
	}
	for _, to := range p.opts.OfficeTo {
		pr.out = append(pr.out, &store.OutboxItem{Kind: store.KindFailure, To: to, Created: time.Now(), NextTry: time.Now()})
	}
	if p.opts.Notices != nil {
		pr.out = append(pr.out, p.opts.Notices(rec)...)
	}
	return pr, nil
}

// Commit implements Processor: it records the batch in one store transaction (store.RecordBatch) —
// each receipt with its index entries and queued reply, and the mailbox cursor — after the staging
// folder is synced; then it moves the staged files into the archive. Files that an earlier message of
// the pass brought (the same file from the same unit for the same period) are marked duplicates here,
// in mailbox order, as they would be were the messages handled one after the other. All of the batch
// is recorded, or (on an error, a Fault) none of it; Commit discards the batch's staged files then.
func (p *Pipeline) Commit(ctx context.Context, batch []Prepared) (int, error) {
	prs := make([]*prepared, len(batch))
	for i, b := range batch {
		pr, ok := b.(*prepared)
		if !ok {
			return 0, fmt.Errorf("intake: commit of a %T, not prepared by this pipeline", b)
		}
		prs[i] = pr
	}
	defer func() {
		for _, pr := range prs {
			pr.Discard()
		}
	}()
	staged := false
	first := map[string]*store.Recording{} // file key → the earlier recording of this batch with it
	rs := make([]*store.Recording, len(prs))
	for i, pr := range prs {
		key, cur := pr.f.Key, pr.f.Cursor()
		r := &store.Recording{Key: &key, Cursor: &cur}
		rs[i] = r
		if pr.done || pr.leftAlone {
			continue // only the cursor moves
		}
		r.Receipt, r.Out = pr.rec, pr.out
		if fileExists(pr.stage) {
			staged = true
		}
		later, err := p.laterDuplicates(pr, first, r)
		if err != nil {
			return 0, err
		}
		stage, rec, ros, year := pr.stage, pr.rec, pr.ros, pr.rec.Received.Year()
		r.Prepare = func(rr *store.Receipt) {
			if fileExists(filepath.Join(stage, "raw.eml")) {
				rr.Raw = p.archive.RawPath(year, rr.Number)
			}
			for i, earlier := range later {
				rr.Attachments[i].DuplicateOf = earlier.Number // numbered by now: it comes first
			}
			markDuplicateMail(rr)
			for i := range rr.Attachments {
				if rr.Attachments[i].DuplicateOf == "" && fileExists(filepath.Join(stage, fmt.Sprintf("%d.pdf", i))) {
					rr.Attachments[i].Archived = p.archive.PDFPath(rec.Campaign, rec.Period, ros.UnitName(rec.Unit), rr.Number, i+1)
				}
			}
		}
	}
	if staged {
		if err := syncStage(p.stagingRoot()); err != nil {
			return 0, fault(fmt.Errorf("intake: stage: %w", err))
		}
	}
	if err := p.st.RecordBatch(rs); err != nil {
		return 0, fault(err)
	}
	for i, pr := range prs {
		if pr.done || pr.leftAlone {
			continue
		}
		p.recorded(pr, rs[i])
	}
	return len(batch), nil
}

// laterDuplicates marks the usable files of pr that were recorded since pr was evaluated (by the
// messages committed before it in this pass), and finds those that an earlier message of the same
// batch brings: their receipt numbers are known only inside the transaction, so they are returned by
// attachment index. Their staged copies are removed: only the first copy of a file is archived.
func (p *Pipeline) laterDuplicates(pr *prepared, first map[string]*store.Recording, r *store.Recording) (map[int]*store.Recording, error) {
	rec := pr.rec
	if rec.Unit == "" || rec.Campaign == "" {
		return nil, nil
	}
	later := map[int]*store.Recording{}
	for i := range rec.Attachments {
		a := &rec.Attachments[i]
		if !a.OK() || a.SHA256 == "" || a.DuplicateOf != "" {
			continue
		}
		k := rec.Unit + "\x00" + rec.Campaign + "\x00" + rec.Period + "\x00" + a.SHA256
		if n, ok, err := p.st.LookupFile(rec.Unit, rec.Campaign, rec.Period, a.SHA256); err != nil {
			return nil, fault(err)
		} else if ok {
			a.DuplicateOf = n
		} else if earlier := first[k]; earlier != nil && earlier != r {
			later[i] = earlier
		} else {
			first[k] = r // copies of a file within one mail are all kept, as they always were
			continue
		}
		if err := os.Remove(filepath.Join(pr.stage, fmt.Sprintf("%d.pdf", i))); err != nil && !os.IsNotExist(err) {
			return nil, fault(fmt.Errorf("intake: unstage attachment: %w", err))
		}
	}
	return later, nil
}

// markDuplicateMail marks a receipt whose usable files were all received before as a duplicate of
// the first one's receipt.
func markDuplicateMail(rec *store.Receipt) {
	usable, dups := 0, 0
	for _, a := range rec.Attachments {
		if !a.OK() || a.SHA256 == "" {
			continue
		}
		usable++
		if a.DuplicateOf != "" {
			dups++
		}
	}
	if usable > 0 && dups == usable {
		rec.DuplicateOf = rec.Attachments[firstOK(rec.Attachments)].DuplicateOf
	}
}

// recorded finishes a committed message: its staged files into the archive, the counts, the log.
func (p *Pipeline) recorded(pr *prepared, r *store.Recording) {
	rec := pr.rec
	if !r.Dup {
		if err := p.unstage(pr.stage, rec); err != nil {
			// The receipt is recorded: its staging folder stays (Discard leaves it) and RecoverStaged
			// retries the move at the next start.
			p.log.Error("moving archive files into place", "receipt", r.Number, "err", err)
			pr.stage = ""
		}
	} else {
		rec.Number = r.Number
	}
	p.mu.Lock()
	switch {
	case pr.failed:
		p.counts[store.VerdictFailed]++
	case r.Dup:
		p.counts["duplicate"]++
	default:
		p.counts[rec.Verdict]++
		if rec.History {
			p.counts[CountHistory]++
		}
	}
	p.mu.Unlock()
	if pr.failed {
		p.log.Error("message recorded as failed; the office is told", "receipt", r.Number, "uid", pr.f.Key.UID, "why", rec.Note)
	} else {
		p.log.Info("recorded", "receipt", r.Number, "uid", pr.f.Key.UID, "verdict", rec.Verdict, "unit", rec.Unit,
			"campaign", rec.Campaign, "period", rec.Period, "dup", r.Dup)
	}
	if p.Recorded != nil {
		p.Recorded(pr.f, rec, r.Dup)
	}
}
