package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"briefd/config"
	"briefd/control"
	"briefd/daemon"
	"briefd/office"
	"briefd/roster"
	"briefd/store"
)

// app is what most commands need: the config, the open store and the office's operations on it (which
// keep the roster with learned addresses).
type app struct {
	cfg      *config.Config
	st       *store.Store
	off      *office.Office
	log      *slog.Logger
	now      func() time.Time
	borrowed bool           // the daemon's app, lent to a forwarded command: close leaves it open
	shared   *daemon.Daemon // the daemon's parts, for a forwarded command that needs its pipeline
	// statusText is what `briefd status` printed last, kept by the daemon's app for the next one.
	statusText *statusText
}

// createsDatabase are the commands that create the database when there is none: those that fetch mail,
// and those that set up what the daemon will read (campaigns, units, receipts registered by hand) before
// its first start.
var createsDatabase = []string{"run", "poll", "demo", "campaign", "unit", "receipt"}

// R returns the current roster; `assign -learn` replaces it while the daemon runs.
func (a *app) R() *roster.Roster { return a.off.Roster() }

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

// parseFlags parses args, flags before or after the arguments (`briefd assign JB2026-0011 xinfu -learn`,
// as people type it; Go's flag package stops at the first argument); after "--" everything is an
// argument. -h is not an error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	parse := func(args []string) error {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return errHelp
			}
			return &usageError{err.Error()}
		}
		return nil
	}
	var pos []string
	for len(args) > 0 {
		if err := parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	return parse(append([]string{"--"}, pos...))
}

// errHelp ends a command successfully after it printed its usage.
var errHelp = errors.New("help shown")

// openApp loads the config and opens the store. In a command forwarded to the daemon it returns the
// daemon's app. When the daemon holds the store, it returns a *daemonRunning error: runMain then
// forwards the command to the daemon.
func openApp(e *env, configFlag string, needSecrets bool) (*app, error) {
	if e.shared != nil {
		shared := *e.shared
		shared.borrowed = true
		return &shared, nil
	}
	path := config.Path(configFlag, e.getenv)
	// A daemon that answers on its control socket holds the database: forward at once rather than wait
	// out the lock timeout. The daemon runs the command with the config it loaded, so only the database's
	// path is read here, not the whole config checked (which costs more than the forwarded status).
	tried := ""
	if db, ok := config.StorePath(path); ok {
		if sock := control.Socket(db); control.Answers(sock) {
			return nil, &daemonRunning{socket: sock, err: store.ErrInUse}
		}
		tried = db
	}
	cfg, err := config.Load(path, e.getenv, needSecrets)
	if err != nil {
		return nil, err
	}
	log := newLogger(e.stderr, cfg.Log)
	if sock := control.Socket(cfg.Store.Path); cfg.Store.Path != tried && control.Answers(sock) {
		return nil, &daemonRunning{socket: sock, err: store.ErrInUse}
	}
	if _, err := os.Stat(cfg.Store.Path); errors.Is(err, fs.ErrNotExist) && !slices.Contains(createsDatabase, e.command) {
		// Most likely run from another folder than the daemon: relative paths in the config start from
		// the working directory. A new empty database here would answer "nobody has reported".
		abs, _ := filepath.Abs(cfg.Store.Path)
		if filepath.IsAbs(cfg.Store.Path) {
			return nil, fmt.Errorf("there is no database at %s: briefd run or poll creates it (is store.path right?)", abs)
		}
		return nil, fmt.Errorf("there is no database at %s (store.path %q): relative paths in the config are relative to the "+
			"working directory, so run briefd %s in the folder the daemon runs in (the systemd unit: /var/lib/briefd), or give store.path "+
			"as an absolute path; briefd run or poll creates the database", abs, cfg.Store.Path, e.command)
	}
	st, err := store.Open(cfg.Store.Path, store.Options{Prefix: cfg.Replies.ReceiptPrefix, Location: cfg.Location()})
	if errors.Is(err, store.ErrInUse) {
		return nil, &daemonRunning{socket: control.Socket(cfg.Store.Path), err: err}
	}
	if err != nil {
		return nil, err
	}
	arch := store.Archive{Root: cfg.Store.Archive}
	off, err := office.New(office.Options{Roster: cfg.Roster(), Archive: arch, Location: cfg.Location(), OfficeName: cfg.Office.Name}, st, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &app{cfg: cfg, st: st, off: off, log: log, now: time.Now, statusText: &statusText{}}, nil
}

// source is who runs the command, for the audit log: this process's user, through the control socket
// when the command was forwarded to the daemon.
func (e *env) source() office.Source { return office.FromCommand(e.shared != nil) }

func (a *app) close() {
	if a.borrowed {
		return
	}
	if err := a.st.Close(); err != nil {
		a.log.Error("closing the store", "err", err)
	}
}

// parts are the options the daemon's parts are built from.
func (a *app) parts(progress io.Writer) daemon.Options {
	return daemon.Options{Config: a.cfg, Store: a.st, Office: a.off, Log: a.log, Now: a.now, Progress: progress}
}

// daemon builds the daemon's parts on the app; close them with Close.
func (a *app) daemon(progress io.Writer) (*daemon.Daemon, error) {
	return daemon.New(a.parts(progress))
}

// withParts makes the office's operations reach a pipeline and an outbox: the running daemon's for a
// forwarded command, else parts built for this command (after finishing what a crash left staged).
// done releases what it built.
func (a *app) withParts() (done func(), err error) {
	if a.shared != nil {
		return func() {}, nil
	}
	d, err := a.daemon(nil)
	if err != nil {
		return nil, err
	}
	d.Recover()
	return d.Close, nil
}

// newLogger sets up slog once for the process.
func newLogger(w io.Writer, lc config.LogConfig) *slog.Logger {
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
