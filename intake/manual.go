package intake

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"briefd/roster"
	"briefd/store"
)

// Manual is a submission that did not come by mail (人工登记): a briefing handed in on paper or sent
// through WeChat, registered by a person for a unit, campaign and period the caller has checked.
type Manual struct {
	Unit, Campaign, Period string
	Late                   bool
	At                     time.Time    // when it was registered: the receipt's Received
	Files                  []ManualFile // PDFs, checked as attachments are; may be none (paper only)
	Note                   string       // e.g. 纸质报送
	Via, Client            string       // who registered it (store.ManualEntry)
	Audit                  *store.AuditEntry
}

// ManualFile is one file of a Manual: its name as the person gave it and where it is now.
type ManualFile struct {
	Name, Path string
}

// RejectedFile is returned by RecordManual for a file that is not a PDF that opens; nothing is
// recorded. Reason is the pdfcheck reason code.
type RejectedFile struct {
	Name, Kind, Reason string
}

func (e *RejectedFile) Error() string {
	return fmt.Sprintf("intake: %s is not a PDF that opens (%s)", e.Name, e.Reason)
}

// RecordManual records m as a receipt, numbered like every other, with its files checked as mail
// attachments are and archived where a mail's would be; no reply is queued. Every file must be a
// usable PDF (else *RejectedFile, and nothing is recorded). The receipt, and m.Audit, are written in
// one transaction; the files are staged before it under a key of their own, so that RecoverStaged
// puts them in place after a crash, as for mail.
func (p *Pipeline) RecordManual(ctx context.Context, m Manual) (*store.Receipt, error) {
	rec := &store.Receipt{Received: m.At, Unit: m.Unit, Match: roster.MatchManual, Campaign: m.Campaign, Period: m.Period,
		Late: m.Late, Verdict: store.VerdictAccepted, Subject: "人工登记", Attachments: []store.Attachment{}, Links: []string{},
		ReplyNote: "registered by hand: no reply", Manual: &store.ManualEntry{Note: m.Note, Via: m.Via, Client: m.Client}}
	if m.Note != "" {
		rec.Subject += "：" + m.Note
	}
	for _, f := range m.Files {
		v := p.checker.CheckFile(ctx, f.Path)
		if v.Fault != nil {
			return nil, fault(fmt.Errorf("intake: checking %s: %w", f.Name, v.Fault))
		}
		if !v.OK() {
			return nil, &RejectedFile{Name: f.Name, Kind: v.Kind, Reason: v.Reason}
		}
		sum, size, err := hashFile(f.Path)
		if err != nil {
			return nil, fault(err)
		}
		a := store.Attachment{Filename: shownName(f.Name), Size: size, SHA256: sum, Kind: v.Kind, Verdict: v.Verdict,
			Pages: v.Pages, Encrypted: v.Encrypted}
		if n, ok, err := p.st.LookupFile(m.Unit, m.Campaign, m.Period, sum); err != nil {
			return nil, fault(err)
		} else if ok {
			a.DuplicateOf = n
		}
		rec.Attachments = append(rec.Attachments, a)
	}
	if len(rec.Attachments) > 0 {
		rec.DuplicateOf = rec.Attachments[0].DuplicateOf
		for _, a := range rec.Attachments {
			if a.DuplicateOf == "" {
				rec.DuplicateOf = ""
			}
		}
	}

	token := make([]byte, 12)
	rand.Read(token)
	key := store.MessageKey{Mailbox: "manual:" + hex.EncodeToString(token)}
	stage := p.stageOf(key)
	keep := false // the receipt is recorded but its files could not be moved: RecoverStaged finishes them
	defer func() {
		if !keep {
			os.RemoveAll(stage)
		}
	}()
	for i, f := range m.Files {
		if rec.Attachments[i].DuplicateOf != "" {
			continue // archived with the receipt that brought it first
		}
		if err := stageFile(stage, fmt.Sprintf("%d.pdf", i), f.Path); err != nil {
			return nil, fault(fmt.Errorf("intake: stage %s: %w", f.Name, err))
		}
	}
	if err := syncStage(stage); err != nil {
		return nil, fault(fmt.Errorf("intake: stage: %w", err))
	}
	unitName := p.roster().UnitName(m.Unit)
	number, _, err := p.st.Audited(m.Audit).RecordWith(rec, &key, nil, nil, func(r *store.Receipt) {
		for i := range r.Attachments {
			if fileExists(filepath.Join(stage, fmt.Sprintf("%d.pdf", i))) {
				r.Attachments[i].Archived = p.archive.PDFPath(r.Campaign, r.Period, unitName, r.Number, i+1)
			}
		}
	})
	if err != nil {
		return nil, fault(err)
	}
	if err := p.unstage(stage, rec); err != nil {
		// The receipt is recorded; RecoverStaged retries the move at the next start.
		p.log.Error("moving archive files into place", "receipt", number, "err", err)
		keep = true
	}
	p.log.Info("registered by hand", "receipt", number, "unit", m.Unit, "campaign", m.Campaign, "period", m.Period,
		"files", len(m.Files))
	return rec, nil
}

func hashFile(path string) (sum string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("intake: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("intake: read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
