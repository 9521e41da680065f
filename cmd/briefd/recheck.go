package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"briefd/intake"
	"briefd/office"
	"briefd/report"
	"briefd/roster"
)

// cmdRecheck implements `briefd recheck [RECEIPT...]`: today's checks run again over stored mail.
func cmdRecheck(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "recheck", "recheck [RECEIPT...] [-since YYYY-MM-DD] [-campaign ID] [-dry-run] [-reply]")
	since := fs.String("since", "", "only mail received on or after this date (office time zone)")
	campaign := fs.String("campaign", "", "only this campaign's mail")
	dryRun := fs.Bool("dry-run", false, "say what would change, change nothing")
	reply := fs.Bool("reply", false, "send a corrected receipt (更正回执) where the verdict changed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openApp(e, *cfgFlag, true)
	if err != nil {
		return err
	}
	defer a.close()
	opts := office.RecheckOptions{Numbers: fs.Args(), Campaign: *campaign, DryRun: *dryRun, Reply: *reply, By: e.source()}
	if *since != "" {
		d, err := roster.ParseDate(*since)
		if err != nil {
			return usagef("-since: %v", err)
		}
		opts.Since = d.Start(a.cfg.Location())
	}
	done, err := a.withParts()
	if err != nil {
		return err
	}
	defer done()
	start := time.Now()
	changed, replied := 0, 0
	changes, err := a.off.Recheck(ctx, opts, func(i, n int, c *intake.Change, err error) {
		switch {
		case err != nil:
			fmt.Fprintf(e.stderr, "[%d/%d] %v\n", i, n, err)
		case c.Changed:
			changed++
			if c.Replied {
				replied++
			}
			fmt.Fprintf(e.stdout, "%s  %s → %s%s\n", c.Number, report.VerdictZH(c.Before), report.VerdictZH(c.After), replyMark(c))
			for _, f := range c.Files {
				if f.Before != f.After {
					fmt.Fprintf(e.stdout, "    %s: %s → %s\n", f.Name, dash(f.Before), dash(f.After))
				}
			}
		}
	})
	verb := "changed"
	if *dryRun {
		verb = "would change (dry run: nothing written)"
	}
	fmt.Fprintf(e.stderr, "%d receipts checked again in %s: %d %s, %d corrected replies queued\n",
		len(changes), time.Since(start).Round(time.Millisecond), changed, verb, replied)
	if replied > 0 && a.shared == nil {
		fmt.Fprintln(e.stderr, "the daemon or `briefd poll` sends them")
	}
	return err
}

func replyMark(c *intake.Change) string {
	if c.Replied {
		return "  （已排队发送更正回执）"
	}
	return ""
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}
