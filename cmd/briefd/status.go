package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

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
	if a.statusText == nil { // an app not made by openApp
		a.statusText = &statusText{}
	}
	a.statusText.write(e.stdout, st, a.R())
	if waiting > 0 {
		fmt.Fprintf(e.stdout, "%d mails from unregistered senders wait for `briefd assign` (briefd receipts -unit none)\n", waiting)
	}
	return nil
}

// statusText keeps the text `briefd status` printed for each campaign period the last time: the daemon
// answers it from the same status many times, and over 223 periods of 60 units the text is 1 MB, which
// takes longer to print than to work out. A new receipt changes one period: report.StatusCache then
// keeps the others, with their units' slices, which nothing changes once made. A period is known by its
// units' slice and its names; the text of periods not in the last status is dropped.
type statusText struct {
	mu   sync.Mutex
	text map[periodKey][]byte // of the last status written; never changed once stored
}

type periodKey struct {
	units                              *roster.UnitState // the first of the period's units; it keeps them from being reused
	campaign, title, period, name, due string
}

// write writes the text of every period of st, printing only the periods that were not in the last
// status written.
func (c *statusText) write(w io.Writer, st []roster.PeriodStatus, ros *roster.Roster) {
	c.mu.Lock()
	last := c.text
	c.mu.Unlock()
	next := make(map[periodKey][]byte, len(st))
	for i := range st {
		ps := &st[i]
		name := ros.PeriodName(ps.Campaign, ps.Period)
		if len(ps.Units) == 0 {
			w.Write(periodText(ps, name))
			continue
		}
		k := periodKey{&ps.Units[0], ps.Campaign, ps.Title, ps.Period, name, ps.Due}
		b, ok := last[k]
		if !ok {
			b = periodText(ps, name)
		}
		next[k] = b
		w.Write(b)
	}
	c.mu.Lock()
	c.text = next
	c.mu.Unlock()
}

// periodText is one campaign period as `briefd status` prints it; name is the period's (roster.PeriodName).
func periodText(ps *roster.PeriodStatus, name string) []byte {
	var b bytes.Buffer
	c := ps.Counts
	head := ps.Campaign + "  " + ps.Title
	if name != "" {
		head += "  " + name
	}
	fmt.Fprintf(&b, "%s  截止 %s   已报 %d  逾期 %d  未通过 %d  未报 %d\n", head,
		ps.Due, c[roster.StateReported], c[roster.StateLate], c[roster.StateRejected], c[roster.StateMissing])
	t := &report.Text{Header: []string{"单位", "状态", "回执编号", "时间"}, Indent: "  "}
	for _, u := range ps.Units {
		at := ""
		if !u.At.IsZero() {
			at = u.At.Format("2006-01-02 15:04")
		}
		t.Add(u.Name, report.StateZH(u.State), u.Receipt, at)
	}
	t.Write(&b)
	b.WriteByte('\n')
	return b.Bytes()
}
