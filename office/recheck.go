package office

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"briefd/intake"
	"briefd/report"
	"briefd/store"
)

// Rechecker checks a recorded mail again (*intake.Pipeline).
type Rechecker interface {
	Recheck(ctx context.Context, number string, dryRun, reply bool) (*intake.Change, error)
}

// RecheckOptions select the receipts Recheck looks at again: the numbers given, else every receipt
// received since Since (all when zero) in Campaign ("" for all). Receipts with verdict failed are
// always among them unless numbers are given.
type RecheckOptions struct {
	Numbers  []string
	Since    time.Time
	Campaign string
	DryRun   bool // say what would change, change nothing
	Reply    bool // send a corrected receipt where the verdict changed
	By       Source
}

// Recheck runs today's checks again over stored mail (after an upgrade of the checks, or to retry
// mail that failed) through r, and returns what changed, receipt by receipt. progress, when set, is
// told of each receipt as it is done. Unless DryRun, one audit entry says what was checked and what
// changed; it is written after the checks (each receipt keeps its corrections in its own history).
func (o *Office) Recheck(ctx context.Context, opts RecheckOptions, progress func(i, n int, c *intake.Change, err error)) ([]*intake.Change, error) {
	r := o.rechecker
	if r == nil {
		return nil, errors.New("office: recheck: no pipeline to check with")
	}
	numbers := opts.Numbers
	if len(numbers) == 0 {
		es, err := o.st.Entries(func(e *store.Entry) bool {
			if e.Verdict == store.VerdictFailed {
				return true
			}
			return !e.Received.Before(opts.Since) && (opts.Campaign == "" || e.Campaign == opts.Campaign) &&
				e.Verdict != store.VerdictIgnored
		})
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			numbers = append(numbers, e.Number)
		}
	}
	var out []*intake.Change
	var errs []error
	if !opts.DryRun && len(numbers) > 0 {
		defer func() { o.auditRecheck(opts.By, numbers, out) }()
	}
	for i, n := range numbers {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		c, err := r.Recheck(ctx, n, opts.DryRun, opts.Reply)
		if progress != nil {
			progress(i+1, len(numbers), c, err)
		}
		if err != nil {
			if intake.IsFault(err) {
				return out, err
			}
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
			continue
		}
		out = append(out, c)
		if c.Replied {
			o.queued()
		}
	}
	return out, errors.Join(errs...)
}

// SetRechecker gives the office the pipeline it checks mail again with.
func (o *Office) SetRechecker(r Rechecker) { o.rechecker = r }

// RecheckReceipt checks one receipt again and, when its verdict changes, sends the corrected receipt
// (the dashboard's 重新检查). It says what changed, in Chinese, "" when nothing did.
func (o *Office) RecheckReceipt(ctx context.Context, by Source, number string) (string, error) {
	cs, err := o.Recheck(ctx, RecheckOptions{Numbers: []string{number}, Reply: true, By: by}, nil)
	if err != nil {
		return "", err
	}
	if len(cs) == 0 || !cs[0].Changed {
		return "", nil
	}
	c := cs[0]
	msg := fmt.Sprintf("检查结果已更正：%s → %s", report.VerdictZH(c.Before), report.VerdictZH(c.After))
	if c.Replied {
		msg += "，已排队发送更正回执"
	}
	return msg + "。", nil
}

// auditRecheck writes the audit entry of a recheck of numbers that found out.
func (o *Office) auditRecheck(by Source, numbers []string, out []*intake.Change) {
	target := numbers[0]
	if len(numbers) > 1 {
		target = fmt.Sprintf("%d 封", len(numbers))
	}
	var changed []string
	for _, c := range out {
		if c.Changed {
			s := fmt.Sprintf("%s %s → %s", c.Number, report.VerdictZH(c.Before), report.VerdictZH(c.After))
			if c.Replied {
				s += "（已发更正回执）"
			}
			changed = append(changed, s)
		}
	}
	detail := fmt.Sprintf("检查 %d 封，结果没有变化", len(out))
	if len(changed) > 0 {
		detail = fmt.Sprintf("检查 %d 封，%d 封结果更正：%s", len(out), len(changed), strings.Join(changed, "；"))
	}
	if err := o.st.Audit(o.entry(by, ActRecheck, target, detail)); err != nil {
		o.log.Error("office: recheck: audit entry not written", "err", err)
	}
}
