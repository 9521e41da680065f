package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"briefd/report"
	"briefd/roster"
	"briefd/store"

	"golang.org/x/text/width"
)

// cmdStatus implements `briefd status`.
func cmdStatus(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "status", "status [-json] [-campaign ID]")
	asJSON := fs.Bool("json", false, "print JSON (the contract in DESIGN.md)")
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
	if *asJSON {
		st, err := a.status(*campaign)
		if err != nil {
			return err
		}
		if st == nil {
			st = []roster.PeriodStatus{}
		}
		return writeJSON(e.stdout, st)
	}
	return printStatus(e.stdout, a, *campaign)
}

// printStatus prints every open period's state as tables.
func printStatus(w io.Writer, a *app, campaign string) error {
	st, err := a.status(campaign)
	if err != nil {
		return err
	}
	for _, ps := range st {
		c := ps.Counts
		fmt.Fprintf(w, "%s  %s  第%s期  截止 %s   已报 %d  逾期 %d  未通过 %d  未报 %d\n", ps.Campaign, ps.Title, ps.Period,
			ps.Due, c[roster.StateReported], c[roster.StateLate], c[roster.StateRejected], c[roster.StateMissing])
		t := &table{header: []string{"单位", "状态", "回执编号", "时间"}, indent: "  "}
		for _, u := range ps.Units {
			at := ""
			if !u.At.IsZero() {
				at = u.At.Format("2006-01-02 15:04")
			}
			t.add(u.Name, report.StateZH(u.State), u.Receipt, at)
		}
		t.write(w)
		fmt.Fprintln(w)
	}
	waiting, err := a.st.Entries(func(e *store.Entry) bool { return e.Unit == "" && e.Verdict != store.VerdictIgnored })
	if err != nil {
		return err
	}
	if len(waiting) > 0 {
		fmt.Fprintf(w, "%d mails from unregistered senders wait for `briefd assign` (briefd receipts -unit none)\n", len(waiting))
	}
	return nil
}

// status computes the state of every unit in every open period.
func (a *app) status(campaign string) ([]roster.PeriodStatus, error) {
	es, err := a.st.Entries(nil)
	if err != nil {
		return nil, err
	}
	return report.Status(es, a.R(), campaign, a.now()), nil
}

// table prints aligned columns; Chinese characters count as two columns, as a terminal shows them.
type table struct {
	header []string
	rows   [][]string
	indent string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) {
	widths := make([]int, len(t.header))
	for _, row := range append([][]string{t.header}, t.rows...) {
		for i, c := range row {
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	for _, row := range append([][]string{t.header}, t.rows...) {
		var b strings.Builder
		b.WriteString(t.indent)
		for i, c := range row {
			b.WriteString(c)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

// displayWidth is the number of terminal columns s takes.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
