package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"

	"briefd/control"
)

// While `briefd run` holds the database, the other commands are forwarded to it over its control socket
// (package control): the daemon runs them with its own app and streams their output back.

// daemonRunning is returned by openApp when the daemon holds the database.
type daemonRunning struct {
	socket string
	err    error
	args   []string // the command line to forward, when not the one typed (files made absolute)
}

func (d *daemonRunning) Error() string { return d.err.Error() }
func (d *daemonRunning) Unwrap() error { return d.err }

// notForwarded are commands that make no sense inside a running daemon.
var notForwarded = []string{"run", "poll", "demo"}

// serveControl runs the commands forwarded on ln in the daemon's app until ctx is done.
func serveControl(ctx context.Context, a *app, ln net.Listener) error {
	refuse := func(args []string) string {
		if slices.Contains(notForwarded, args[0]) {
			return fmt.Sprintf("briefd %s: the daemon is running and holds the database; stop it first", args[0])
		}
		return ""
	}
	return control.Serve(ctx, ln, version(), refuse, func(ctx context.Context, args []string, out control.Output) int {
		a.log.Info("forwarded command", "command", args[0])
		return runMain(ctx, &env{stdout: out.Stdout, stderr: out.Stderr, getenv: os.Getenv, shared: a, create: out.Create}, args)
	})
}

// createFile opens a file for a command's output: in the daemon, a stream back to the caller; otherwise
// a temp file beside path, renamed over it when closed ("-": stdout).
func (e *env) createFile(path string) (io.WriteCloser, error) {
	if e.create != nil {
		return e.create(path)
	}
	return control.CreateFile(path, e.stdout)
}
