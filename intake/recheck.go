package intake

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"briefd/pdfcheck"
	"briefd/store"
)

// Change is what a recheck found for one receipt.
type Change struct {
	Number string
	Before string // the receipt's verdict before
	After  string // and after
	Files  []FileChange
	// Changed: the verdict, or the verdict of a file, is not what it was.
	Changed bool
	// Replied: a corrected receipt reply (or, for a receipt that had failed, its first reply) is queued.
	Replied bool
}

// FileChange is one attachment's verdict before and after ("ok", "reject: pdf_damaged").
type FileChange struct {
	Name, Before, After string
}

func fileVerdict(a store.Attachment) string {
	if a.Verdict == pdfcheck.VerdictOK {
		return "ok"
	}
	if a.Reason != "" {
		return "reject: " + a.Reason
	}
	return a.Verdict
}

// Recheck runs today's checks again over the raw copy of receipt number, as it was received. A receipt
// whose verdict changes is updated in one transaction (its attachments and verdict, the archive of its
// usable PDFs, the duplicate index and so the status), and its history keeps the correction. Where the
// receipt was placed (its unit, campaign and period), its category and its reply state stay, except for a
// receipt that had failed: it is recorded as the mail it is. With reply, a receipt whose verdict changed
// gets a corrected reply (更正回执), and a failed one that now deserves one its first reply. With dryRun
// nothing is written. An error is a fault of this machine or a receipt without raw copy.
func (p *Pipeline) Recheck(ctx context.Context, number string, dryRun, reply bool) (*Change, error) {
	old, err := p.st.Receipt(number)
	if err != nil {
		return nil, err
	}
	if old.Raw == "" {
		return nil, fmt.Errorf("intake: recheck %s: no raw copy of the mail was kept", number)
	}
	raw := filepath.Join(p.archive.Root, old.Raw)
	if _, err := os.Stat(raw); err != nil {
		return nil, fmt.Errorf("intake: recheck %s: %w", number, err)
	}
	f := &Fetched{Key: store.MessageKey{Mailbox: old.Mailbox, UIDValidity: old.UIDValidity, UID: old.UID}, Size: old.Size,
		InternalDate: old.Received, Path: raw, Fingerprint: old.Fingerprint, Junk: old.Junk}
	stage := filepath.Join(p.stagingRoot(), "recheck-"+store.SafeName(number))
	defer os.RemoveAll(stage)
	ev, err := p.evaluate(ctx, f, stage, number)
	defer ev.cleanup()
	if err != nil {
		return nil, err
	}
	if err := syncStage(filepath.Dir(stage)); err != nil {
		return nil, fault(fmt.Errorf("intake: stage: %w", err))
	}
	fresh := ev.rec
	failed := old.Verdict == store.VerdictFailed
	ch := &Change{Number: number, Before: old.Verdict}
	n := max(len(old.Attachments), len(fresh.Attachments))
	for i := range n {
		var fc FileChange
		if i < len(old.Attachments) {
			fc.Name, fc.Before = old.Attachments[i].Filename, fileVerdict(old.Attachments[i])
		}
		if i < len(fresh.Attachments) {
			fc.Name, fc.After = fresh.Attachments[i].Filename, fileVerdict(fresh.Attachments[i])
		}
		if fc.Before != fc.After {
			ch.Changed = true
		}
		ch.Files = append(ch.Files, fc)
	}
	after := fresh.Verdict
	if !failed && !checkedVerdict(after) {
		after = old.Verdict // a recheck judges files, not whether the mail is a submission
	}
	ch.After = after
	ch.Changed = ch.Changed || after != old.Verdict
	if !ch.Changed || dryRun || ev.leftAlone {
		return ch, nil
	}

	// The usable PDFs' archive names, given where the receipt stays placed: linked in before the commit,
	// the names no longer used removed after it.
	campaign, period, unit := old.Campaign, old.Period, old.Unit
	if failed {
		campaign, period, unit = fresh.Campaign, fresh.Period, fresh.Unit
	}
	unitName := ev.ros.UnitName(unit)
	archived := make([]string, len(fresh.Attachments))
	for i := range fresh.Attachments {
		src := filepath.Join(stage, fmt.Sprintf("%d.pdf", i))
		if !fileExists(src) {
			continue
		}
		rel := p.archive.PDFPath(campaign, period, unitName, number, i+1)
		if err := p.archive.Adopt(src, rel); err != nil {
			return nil, fault(fmt.Errorf("intake: recheck %s: %w", number, err))
		}
		archived[i] = rel
	}
	now := p.now()
	var out []*store.OutboxItem
	if reply && (!failed || ev.reply) && old.From != "" {
		out = append(out, &store.OutboxItem{Kind: store.KindReply, To: old.From, Correction: !failed, Created: now, NextTry: now})
	}
	before, updated, err := p.st.Replace(number, func(r *store.Receipt) error {
		if failed {
			keep := *r
			*r = *fresh
			r.Number, r.Raw, r.Reply, r.ReplyNote = keep.Number, keep.Raw, keep.Reply, keep.ReplyNote
			r.Corrections = keep.Corrections
		}
		r.Attachments = fresh.Attachments
		for i := range r.Attachments {
			r.Attachments[i].Archived = archived[i]
		}
		r.Verdict = after
		if failed {
			r.Note = fresh.Note
		}
		r.Corrections = append(r.Corrections, store.Correction{At: now, Before: ch.Before, After: after, Files: changedFiles(ch.Files)})
		return nil
	}, out...)
	if err != nil {
		return nil, fault(err)
	}
	for _, a := range before.Attachments {
		if a.Archived != "" && !slices.Contains(archived, a.Archived) {
			if err := os.Remove(filepath.Join(p.archive.Root, a.Archived)); err != nil && !errors.Is(err, os.ErrNotExist) {
				p.log.Warn("recheck: old archive file not removed", "receipt", number, "path", a.Archived, "err", err)
			}
		}
	}
	ch.Replied = len(out) > 0
	p.log.Info("rechecked", "receipt", number, "before", ch.Before, "after", updated.Verdict, "reply", ch.Replied)
	return ch, nil
}

// checkedVerdict reports whether v is a verdict on a mail's files (which a recheck may change).
func checkedVerdict(v string) bool {
	switch v {
	case store.VerdictAccepted, store.VerdictPartial, store.VerdictRejected, store.VerdictNoAttachment,
		store.VerdictMalformed, store.VerdictTooLarge:
		return true
	}
	return false
}

// changedFiles describes the files whose verdict changed, for the receipt's history.
func changedFiles(fs []FileChange) string {
	var parts []string
	for _, f := range fs {
		if f.Before != f.After {
			parts = append(parts, fmt.Sprintf("%s: %s → %s", f.Name, orDash(f.Before), orDash(f.After)))
		}
	}
	return strings.Join(parts, "; ")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
