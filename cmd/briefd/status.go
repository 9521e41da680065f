package main

import (
	"context"
	"fmt"

	"briefd/report"
	"briefd/roster"
)

// cmdStatus implements `briefd status`.
func cmdStatus(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "status", "status [-json] [-campaign ID]")
	asJSON := fs.Bool("json", false, "print JSON for scripts (field names are stable)")
	campaign := fs.String("campaign", "", "only this campaign")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openApp(e, *cfgFlag, false)
	if err != nil {
		return err
	}
	defer a.close()
	if _, ok := a.R().Campaign(*campaign); *campaign != "" && !ok {
		return usagef("no campaign has the id %q", *campaign)
	}
	st, waiting, err := a.off.Status(*campaign)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, st)
	}
	for _, ps := range st {
		c := ps.Counts
		fmt.Fprintf(e.stdout, "%s  %s  第%s期  截止 %s   已报 %d  逾期 %d  未通过 %d  未报 %d\n", ps.Campaign, ps.Title, ps.Period,
			ps.Due, c[roster.StateReported], c[roster.StateLate], c[roster.StateRejected], c[roster.StateMissing])
		t := &report.Text{Header: []string{"单位", "状态", "回执编号", "时间"}, Indent: "  "}
		for _, u := range ps.Units {
			at := ""
			if !u.At.IsZero() {
				at = u.At.Format("2006-01-02 15:04")
			}
			t.Add(u.Name, report.StateZH(u.State), u.Receipt, at)
		}
		t.Write(e.stdout)
		fmt.Fprintln(e.stdout)
	}
	if waiting > 0 {
		fmt.Fprintf(e.stdout, "%d mails from unregistered senders wait for `briefd assign` (briefd receipts -unit none)\n", waiting)
	}
	return nil
}
