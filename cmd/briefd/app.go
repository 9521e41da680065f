package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"briefd/roster"
	"briefd/store"
)

// app is what most commands need: the config, the open store and the roster with learned addresses.
type app struct {
	cfg      *Config
	st       *store.Store
	ros      atomic.Pointer[roster.Roster]
	archive  store.Archive
	log      *slog.Logger
	now      func() time.Time
	borrowed bool // the daemon's app, lent to a forwarded command: close leaves it open
	parent   *app // the daemon's app this one was lent from
}

// R returns the current roster; `assign -learn` replaces it while the daemon runs.
func (a *app) R() *roster.Roster { return a.ros.Load() }

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

// openApp loads the config and opens the store. In a command forwarded to the daemon it returns the
// daemon's app. When the daemon holds the store, it returns a *daemonRunning error: runMain then
// forwards the command to the daemon.
func openApp(e *env, configFlag string, needSecrets bool) (*app, error) {
	if e.shared != nil {
		b := *e.shared.cfg
		shared := &app{cfg: &b, st: e.shared.st, archive: e.shared.archive, log: e.shared.log, now: e.shared.now, borrowed: true}
		shared.ros.Store(e.shared.R())
		shared.parent = e.shared
		return shared, nil
	}
	cfg, err := loadConfig(configPath(configFlag, e.getenv), e.getenv, needSecrets)
	if err != nil {
		return nil, err
	}
	log := newLogger(e.stderr, cfg.Log)
	// A daemon that answers on its control socket holds the database: forward at once rather than wait
	// out the lock timeout.
	if sock := controlSocket(cfg.Store.Path); daemonAnswers(sock) {
		return nil, &daemonRunning{socket: sock, err: store.ErrInUse}
	}
	st, err := store.Open(cfg.Store.Path, store.Options{Prefix: cfg.Replies.ReceiptPrefix, Location: cfg.location})
	if errors.Is(err, store.ErrInUse) {
		return nil, &daemonRunning{socket: controlSocket(cfg.Store.Path), err: err}
	}
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
	a.ros.Store(r)
	if a.parent != nil {
		a.parent.ros.Store(r)
	}
	return nil
}

func (a *app) close() {
	if a.borrowed {
		return
	}
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
