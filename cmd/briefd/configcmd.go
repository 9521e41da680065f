package main

import (
	"context"
	"fmt"

	"briefd/config"
)

// cmdConfig implements `briefd config check`.
func cmdConfig(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintln(e.stderr, "usage: briefd config check [-config PATH]")
		return errHelp
	}
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(e.stderr, "usage: briefd config check [-config PATH]")
		return usagef("the only config subcommand is check")
	}
	fs, cfgFlag := newFlags(e, "config check", "config check [-config PATH]")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := config.Load(config.Path(*cfgFlag, e.getenv), e.getenv, true)
	if err != nil {
		return err
	}
	fmt.Fprint(e.stdout, cfg.Dump())
	fmt.Fprintf(e.stdout, "# ok: %d units, %d campaigns\n", len(cfg.Roster().Units()), len(cfg.Roster().Campaigns()))
	return nil
}
