package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"briefd/control"
	"briefd/office"
)

// cmdCompile implements `briefd compile`: a campaign period's briefings as one booklet PDF and one zip.
func cmdCompile(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "compile", "compile -campaign ID [-period P] -o FILE [-page-numbers]")
	campaign := fs.String("campaign", "", "the campaign (required)")
	period := fs.String("period", "", "the period, e.g. 2026-03 (default: the latest whose due date has passed)")
	out := fs.String("o", "", "write FILE.pdf (the booklet) and FILE.zip (every file, and 清单.csv)")
	numbers := fs.Bool("page-numbers", false, "print 第 N 页 / 共 M 页 at the foot of every page")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *campaign == "" || *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return usagef("need -campaign and -o")
	}
	a, err := openApp(e, *cfgFlag, false)
	if err != nil {
		return err
	}
	defer a.close()
	b, err := a.off.Booklet(*campaign, *period)
	if errors.Is(err, office.ErrNoPeriod) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(strings.TrimSuffix(*out, ".pdf"), ".zip")
	pdf, err := e.createFile(base + ".pdf")
	if err != nil {
		return err
	}
	res, err := b.WritePDF(ctx, pdf, *numbers)
	if err == nil {
		err = pdf.Close()
	} else {
		control.Abort(pdf)
	}
	if err != nil {
		return fmt.Errorf("write %s.pdf: %w", base, err)
	}
	zip, err := e.createFile(base + ".zip")
	if err != nil {
		return err
	}
	problems, err := b.WriteZip(ctx, zip)
	if err == nil {
		err = zip.Close()
	} else {
		control.Abort(zip)
	}
	if err != nil {
		return fmt.Errorf("write %s.zip: %w", base, err)
	}
	for _, p := range res.Placeholders {
		fmt.Fprintf(e.stderr, "not merged, a placeholder page instead (see the receipt): %v\n", p)
	}
	for _, p := range problems {
		fmt.Fprintf(e.stderr, "not in the zip: %v\n", p)
	}
	if b.Usable == 0 {
		fmt.Fprintf(e.stderr, "warning: no unit has a usable file for %s %s: the booklet has the cover and contents only\n", b.Campaign, b.Period)
	}
	fmt.Fprintf(e.stdout, "wrote %s.pdf (%d pages: %d units' files, %d placeholders) and %s.zip for %s %s\n",
		base, res.Pages, res.Merged, len(res.Placeholders), base, b.Campaign, b.Period)
	return nil
}
