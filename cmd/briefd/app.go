package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"briefd/roster"
	"briefd/store"
)

// app is what most commands need: the config, the open store and the roster with learned addresses.
type app struct {
	cfg     *Config
	st      *store.Store
	ros     *roster.Roster
	archive store.Archive
	log     *slog.Logger
	now     func() time.Time
}

// newFlags makes a command's flag set with the common -config flag. Errors go to e.stderr.
func newFlags(e *env, name, usage string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("briefd "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cfg := fs.String("config", "", "config file (default ./config.yaml or $BRIEFD_CONFIG)")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: briefd %s\n", usage)
		fs.PrintDefaults()
	}
	return fs, cfg
}

// parseFlags parses args; -h is not an error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return &usageError{err.Error()}
	}
	return nil
}

// errHelp ends a command successfully after it printed its usage.
var errHelp = errors.New("help shown")

// openApp loads the config and opens the store.
func openApp(e *env, configFlag string, needSecrets bool) (*app, error) {
	cfg, err := loadConfig(configPath(configFlag, e.getenv), e.getenv, needSecrets)
	if err != nil {
		return nil, err
	}
	log := newLogger(e.stderr, cfg.Log)
	st, err := store.Open(cfg.Store.Path, store.Options{Prefix: cfg.Replies.ReceiptPrefix, Location: cfg.location})
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, st: st, archive: store.Archive{Root: cfg.Store.Archive}, log: log, now: time.Now}
	if err := a.reloadRoster(); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// reloadRoster rebuilds the roster from the config plus the addresses learned with `assign -learn`.
func (a *app) reloadRoster() error {
	learned, err := a.st.Learned()
	if err != nil {
		return err
	}
	base := a.cfg.roster
	units := base.Units()
	for addr, id := range learned {
		if _, taken := base.UnitByAddress(addr); taken {
			continue
		}
		for i := range units {
			if units[i].ID == id {
				units[i].Emails = append(units[i].Emails, addr)
			}
		}
	}
	r, err := roster.New(units, base.Campaigns(), a.cfg.location)
	if err != nil {
		return fmt.Errorf("learned addresses: %w", err)
	}
	a.ros = r
	return nil
}

func (a *app) close() {
	if err := a.st.Close(); err != nil {
		a.log.Error("closing the store", "err", err)
	}
}

// newLogger sets up slog once for the process.
func newLogger(w io.Writer, lc LogConfig) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(lc.Level)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if lc.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// submissions turns receipts into what roster.Status needs.
func submissions(rs []*store.Receipt) []roster.Submission {
	out := make([]roster.Submission, 0, len(rs))
	for _, r := range rs {
		if r.Unit == "" || r.Campaign == "" || r.Verdict == store.VerdictIgnored {
			continue
		}
		out = append(out, roster.Submission{Receipt: r.Number, Unit: r.Unit, Campaign: r.Campaign, Period: r.Period,
			At: r.Received, Usable: r.Counts()})
	}
	return out
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
