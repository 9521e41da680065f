package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"text/tabwriter"

	"briefd/pdfcheck"
)

// checkResult is one line of `briefd check -json`; the field set is a contract: scripts read it.
type checkResult struct {
	File      string `json:"file"`
	Kind      string `json:"kind"`
	Verdict   string `json:"verdict"`
	Pages     int    `json:"pages"`
	Encrypted bool   `json:"encrypted"`
	Reason    string `json:"reason"`
}

// cmdCheck gives the verdict on local files, as the mailbox check would.
// Exit status, like a linter: 0 when every file is ok, 1 when any is rejected, 2 on bad usage.
func cmdCheck(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	asJSON := fs.Bool("json", false, "print a JSON array of {file, kind, verdict, pages, encrypted, reason}")
	verbose := fs.Bool("v", false, "also print the warnings (English) under each file")
	timeout := fs.Duration("timeout", pdfcheck.DefaultTimeout, "time limit per file")
	maxSize := fs.Int64("max-size", pdfcheck.DefaultMaxSize, "largest file checked, in bytes")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: briefd check [-json] [-v] [-timeout D] [-max-size BYTES] FILE...")
		fmt.Fprintln(e.stderr, "Says whether each file is a PDF the office can open, and if not why.")
		fmt.Fprintln(e.stderr, "Exit status: 0 all ok, 1 some rejected, 2 bad usage.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		return usagef("no files given; usage: briefd check [-json] FILE...")
	}
	if *timeout <= 0 || *maxSize <= 0 {
		return usagef("-timeout and -max-size must be positive")
	}

	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	workers := min(runtime.NumCPU(), 4, len(files))
	c := pdfcheck.New(pdfcheck.Options{Timeout: *timeout, MaxSize: *maxSize, Workers: workers, Validate: *verbose}, log)
	defer c.Close()

	verdicts := c.CheckFiles(ctx, files, func(done int) {
		if len(files) >= 20 && (done%10 == 0 || done == len(files)) {
			fmt.Fprintf(e.stderr, "checked %d of %d\n", done, len(files))
		}
	})
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}

	rejected := 0
	for _, v := range verdicts {
		if !v.OK() {
			rejected++
		}
	}
	if *asJSON {
		out := make([]checkResult, len(verdicts))
		for i, v := range verdicts {
			out[i] = checkResult{v.File, v.Kind, v.Verdict, v.Pages, v.Encrypted, v.Reason}
		}
		if err := writeJSON(e.stdout, out); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	} else if err := printCheckTable(e.stdout, verdicts, *verbose); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if rejected > 0 {
		return fmt.Errorf("%d of %d files rejected", rejected, len(files))
	}
	return nil
}

func printCheckTable(w io.Writer, verdicts []pdfcheck.Verdict, verbose bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tKIND\tVERDICT\tPAGES\tREASON")
	for _, v := range verdicts {
		verdict := v.Verdict
		if v.Encrypted && v.OK() {
			verdict += " (encrypted)"
		}
		reason := "-"
		if v.Reason != "" {
			zh, _ := pdfcheck.ReasonText(v.Reason)
			reason = v.Reason + ": " + zh
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", v.File, v.Kind, verdict, v.Pages, reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if verbose {
		for _, v := range verdicts {
			for _, warn := range v.Warnings {
				if _, err := fmt.Fprintf(w, "%s: warning: %s\n", v.File, warn); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
