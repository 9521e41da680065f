package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"briefd/office"
	"briefd/report"
	"briefd/roster"
	"briefd/store"
)

// cmdReceipts implements `briefd receipts`.
func cmdReceipts(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "receipts", "receipts [-json] [-campaign ID] [-unit ID] [-since YYYY-MM-DD] [-verdict V]")
	asJSON := fs.Bool("json", false, "print a JSON array of receipts as stored (field names are stable)")
	campaign := fs.String("campaign", "", "only this campaign")
	unit := fs.String("unit", "", "only this unit (use none for unmatched senders)")
	since := fs.String("since", "", "only receipts received on or after this date (office time zone)")
	verdict := fs.String("verdict", "", "only this verdict")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openApp(e, *cfgFlag, false)
	if err != nil {
		return err
	}
	defer a.close()
	f := office.Filter{Campaign: *campaign, Unit: *unit, Verdict: *verdict}
	if *since != "" {
		d, err := roster.ParseDate(*since)
		if err != nil {
			return usagef("-since: %v", err)
		}
		f.Since = d.Start(a.cfg.Location())
	}
	rs, err := a.off.Receipts(f)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, rs)
	}
	printReceipts(e.stdout, a, rs)
	return nil
}

// printReceipts prints receipts as a table for office staff.
func printReceipts(w io.Writer, a *app, rs []*store.Receipt) {
	t := &report.Text{Header: []string{"回执编号", "收到时间", "单位", "任务/期", "结果", "附件", "回复"}}
	for _, r := range rs {
		unit := a.R().UnitName(r.Unit)
		if r.Unit == "" {
			unit = "(未匹配) " + r.From
		}
		if r.Auth == "fail" { // a From that claims a unit's address is not trusted silently
			unit += " (发件人未通过验证)"
		}
		cp := ""
		if r.Campaign != "" {
			cp = r.Campaign
			if name := a.R().PeriodName(r.Campaign, r.Period); name != "" {
				cp += " " + name
			}
			if r.Late {
				cp += " 逾期"
			}
		}
		t.Add(r.Number, r.Received.In(a.cfg.Location()).Format("2006-01-02 15:04"), unit, cp, report.VerdictZH(r.Verdict),
			attachmentSummary(r), r.Reply)
	}
	t.Write(w)
	fmt.Fprintf(w, "%d receipts\n", len(rs))
}

func attachmentSummary(r *store.Receipt) string {
	var parts []string
	for _, at := range r.Attachments {
		s := at.Kind
		if at.OK() {
			s = fmt.Sprintf("PDF %d页", at.Pages)
		} else if at.Reason != "" {
			s = at.Reason
		}
		parts = append(parts, s)
	}
	if len(r.Links) > 0 {
		parts = append(parts, "超大附件链接")
	}
	return strings.Join(parts, ", ")
}

// cmdAssign implements `briefd assign RECEIPT UNIT`.
func cmdAssign(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "assign", "assign [-learn] RECEIPT UNIT")
	learn := fs.Bool("learn", false, "also register the sender's address for the unit")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return usagef("need a receipt number and a unit id")
	}
	a, err := openApp(e, *cfgFlag, false)
	if err != nil {
		return err
	}
	defer a.close()
	r, err := a.off.Assign(e.source(), fs.Arg(0), fs.Arg(1), *learn)
	if errors.Is(err, office.ErrUnknownUnit) {
		return usagef("no unit has the id %q", fs.Arg(1))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s → %s (%s), %s %s\n", r.Number, r.Unit, a.R().UnitName(r.Unit), r.Campaign, r.Period)
	if *learn {
		fmt.Fprintf(e.stdout, "%s is now registered for %s\n", r.From, r.Unit)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// cmdResend implements `briefd resend RECEIPT`: the reply is queued again and sent by the daemon (or by
// the next `briefd poll`).
func cmdResend(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "resend", "resend [-config PATH] RECEIPT")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usagef("need a receipt number")
	}
	a, err := openApp(e, *cfgFlag, false)
	if err != nil {
		return err
	}
	defer a.close()
	it, err := a.off.Resend(e.source(), fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "the reply to %s for %s is queued (outbox item %d); the daemon or `briefd poll` sends it\n", it.To, it.Receipt, it.ID)
	return nil
}
