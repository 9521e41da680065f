package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"briefd/control"
	"briefd/report"
)

// cmdExport implements `briefd export`: receipts and status as .xlsx or .csv.
func cmdExport(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "export", "export -o FILE [-format xlsx|csv] [-campaign ID] [-table status|receipts]")
	format := fs.String("format", "", "xlsx or csv (default: from the -o file name)")
	out := fs.String("o", "", "output file (- for standard output)")
	campaign := fs.String("campaign", "", "only this campaign")
	table := fs.String("table", "status", "for csv: status (a row per unit and period) or receipts")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return usagef("-o FILE is required (e.g. -o 报送情况.xlsx)")
	}
	if *format == "" {
		*format = strings.TrimPrefix(strings.ToLower(filepath.Ext(*out)), ".")
	}
	if *format != "xlsx" && *format != "csv" {
		return usagef("-format %q: use xlsx or csv", *format)
	}
	if *table != "status" && *table != "receipts" {
		return usagef("-table %q: use status or receipts", *table)
	}
	a, err := openApp(e, *cfgFlag, false)
	if err != nil {
		return err
	}
	defer a.close()
	if _, ok := a.R().Campaign(*campaign); *campaign != "" && !ok {
		return usagef("no campaign has the id %q", *campaign)
	}
	f, err := e.createFile(*out)
	if err != nil {
		return err
	}
	if _, err := report.Export(f, a.st, a.R(), a.now(), *format, *campaign, *table); err != nil {
		control.Abort(f)
		if errors.Is(err, report.ErrFormat) {
			return usagef("%v", err)
		}
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if *out != "-" {
		fmt.Fprintf(e.stderr, "wrote %s\n", *out)
	}
	return nil
}
