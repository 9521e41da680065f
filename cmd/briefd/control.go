package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// bbolt lets one process open the database. While the daemon runs, the other commands (status, receipts,
// assign, resend, backup …) are forwarded to it over a Unix socket beside the database, mode 0600 in a
// 0700 folder, so only the account that runs briefd can use it. The daemon runs the command with its own
// config and store and streams the output back; files a command writes (backup, export) are streamed
// too and written by the calling process, where the user asked for them.

// controlSocket is the daemon's socket for a database path.
func controlSocket(dbPath string) string { return dbPath + ".sock" }

// daemonRunning is returned by openApp when the daemon holds the database.
type daemonRunning struct {
	socket string
	err    error
}

func (d *daemonRunning) Error() string { return d.err.Error() }
func (d *daemonRunning) Unwrap() error { return d.err }

// notForwarded are commands that make no sense inside a running daemon.
var notForwarded = []string{"run", "poll", "demo"}

// The control protocol. The client sends one JSON line, controlRequest; the daemon answers with frames
// (a byte, a 4-byte big-endian length, the payload), the first of them frameHello. A client and a daemon
// of different protocol versions say so in one line and do nothing else. controlProto changes whenever
// the request, the frames or the meaning of a forwarded command's output change.
const controlProto = 2 // 1: before versions (no hello)

type controlRequest struct {
	Proto   int      `json:"proto"`
	Version string   `json:"version"` // briefd's version, for the message when they differ
	Args    []string `json:"args"`
}

type controlHello struct {
	Proto   int    `json:"proto"`
	Version string `json:"version"`
}

// Frame kinds.
const (
	frameHello    = 'v' // payload: controlHello, JSON
	frameStdout   = 'o'
	frameStderr   = 'e'
	frameFileOpen = 'f' // payload: the path the client writes
	frameFileData = 'd'
	frameFileDone = 'c'
	frameExit     = 'x' // payload: the exit status as one byte
)

type frameConn struct {
	mu sync.Mutex
	w  io.Writer
}

func (f *frameConn) send(kind byte, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	hdr := [5]byte{kind}
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(p)))
	if _, err := f.w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := f.w.Write(p)
	return err
}

type frameWriter struct {
	fc   *frameConn
	kind byte
}

func (w frameWriter) Write(p []byte) (int, error) {
	for off := 0; off < len(p); off += 1 << 16 {
		if err := w.fc.send(w.kind, p[off:min(len(p), off+1<<16)]); err != nil {
			return off, err
		}
	}
	return len(p), nil
}

type remoteFile struct{ frameWriter }

func (r remoteFile) Close() error { return r.fc.send(frameFileDone, nil) }

// listenControl binds the daemon's control socket beside the database, mode 0600.
func listenControl(dbPath string) (net.Listener, error) {
	path := controlSocket(dbPath)
	if daemonAnswers(path) {
		return nil, fmt.Errorf("%s: another briefd answers there", path)
	}
	os.Remove(path) // left by a daemon that died
	return controlListen(path)
}

// serveControl runs forwarded commands that arrive on ln until ctx is done; it closes ln and removes
// the socket file.
func serveControl(ctx context.Context, a *app, ln net.Listener) error {
	defer os.Remove(ln.Addr().String())
	defer ln.Close()
	if ctx.Err() != nil {
		return nil
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("control socket: %w", err)
		}
		go serveControlConn(ctx, a, c)
	}
}

func serveControlConn(ctx context.Context, a *app, c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Minute))
	var req controlRequest
	line, err := bufio.NewReader(io.LimitReader(c, 1<<20)).ReadBytes('\n')
	if err != nil || json.Unmarshal(line, &req) != nil || len(req.Args) == 0 {
		return
	}
	fc := &frameConn{w: c}
	hello, _ := json.Marshal(controlHello{Proto: controlProto, Version: version()})
	if fc.send(frameHello, hello) != nil {
		return
	}
	if req.Proto != controlProto {
		a.log.Warn("forwarded command refused: another control protocol", "command", req.Args[0], "proto", req.Proto, "version", req.Version)
		frameWriter{fc, frameStderr}.Write([]byte(protoMismatch(req.Args[0], "the running daemon", req.Proto, req.Version) + "\n"))
		fc.send(frameExit, []byte{1})
		return
	}
	e := &env{stdout: frameWriter{fc, frameStdout}, stderr: frameWriter{fc, frameStderr}, getenv: os.Getenv, shared: a,
		create: func(path string) (io.WriteCloser, error) {
			if err := fc.send(frameFileOpen, []byte(path)); err != nil {
				return nil, err
			}
			return remoteFile{frameWriter{fc, frameFileData}}, nil
		}}
	code := 2
	if slices.Contains(notForwarded, req.Args[0]) {
		fmt.Fprintf(e.stderr, "briefd %s: the daemon is running and holds the database; stop it first\n", req.Args[0])
	} else {
		a.log.Info("forwarded command", "command", req.Args[0])
		code = runMain(ctx, e, req.Args)
	}
	fc.send(frameExit, []byte{byte(code)})
}

// daemonAnswers reports whether a daemon accepts connections on the socket (a socket file left by a
// daemon that died does not).
func daemonAnswers(socket string) bool {
	c, err := controlDial(socket, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// forward runs the command in the daemon and returns its exit status.
func forward(ctx context.Context, e *env, socket string, args []string) int {
	c, err := controlDial(socket, 5*time.Second)
	if err != nil {
		fmt.Fprintf(e.stderr, "briefd %s: the database is in use by another process and its control socket does not answer (%v)\n", args[0], err)
		return 1
	}
	defer c.Close()
	go func() {
		<-ctx.Done()
		c.Close()
	}()
	req, _ := json.Marshal(controlRequest{Proto: controlProto, Version: version(), Args: args})
	if _, err := c.Write(append(req, '\n')); err != nil {
		fmt.Fprintf(e.stderr, "briefd %s: %v\n", args[0], err)
		return 1
	}
	r := bufio.NewReader(c)
	var file io.WriteCloser
	defer func() { abort(file) }() // a file the daemon did not finish is not left behind
	for first := true; ; first = false {
		var hdr [5]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			fmt.Fprintf(e.stderr, "briefd %s: the daemon closed the connection: %v\n", args[0], err)
			return 1
		}
		payload := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
		if _, err := io.ReadFull(r, payload); err != nil {
			fmt.Fprintf(e.stderr, "briefd %s: %v\n", args[0], err)
			return 1
		}
		if first {
			var h controlHello
			if hdr[0] != frameHello || json.Unmarshal(payload, &h) != nil {
				h = controlHello{Proto: 1, Version: "from before control protocol 2"}
			}
			if h.Proto != controlProto {
				fmt.Fprintln(e.stderr, protoMismatch(args[0], "this command", h.Proto, h.Version))
				return 1
			}
			continue
		}
		switch hdr[0] {
		case frameStdout:
			e.stdout.Write(payload)
		case frameStderr:
			e.stderr.Write(payload)
		case frameFileOpen:
			if file, err = e.createFile(string(payload)); err != nil {
				fmt.Fprintf(e.stderr, "briefd %s: %v\n", args[0], err)
				return 1
			}
		case frameFileData:
			if file == nil {
				return 1
			}
			if _, err := file.Write(payload); err != nil {
				fmt.Fprintf(e.stderr, "briefd %s: %v\n", args[0], err)
				return 1
			}
		case frameFileDone:
			if file != nil {
				err := file.Close()
				file = nil
				if err != nil {
					fmt.Fprintf(e.stderr, "briefd %s: %v\n", args[0], err)
					return 1
				}
			}
		case frameExit:
			if len(payload) == 1 {
				return int(payload[0])
			}
			return 1
		}
	}
}

// protoMismatch is the one line said when a command and the daemon speak different control protocols:
// the speaker speaks controlProto, the other side proto (of briefd otherVersion).
func protoMismatch(command, speaker string, proto int, otherVersion string) string {
	if otherVersion == "" {
		otherVersion = "of an unknown version"
	}
	return fmt.Sprintf("briefd %s: %s speaks control protocol %d (briefd %s), the other side %d (briefd %s): "+
		"the command and the running daemon must be the same briefd; restart the daemon with this briefd, or run the command with the daemon's",
		command, speaker, controlProto, version(), proto, otherVersion)
}

// createFile opens a file for a command's output: in the daemon, a stream back to the caller; otherwise
// a temp file beside path, renamed over it by Close after an fsync.
func (e *env) createFile(path string) (io.WriteCloser, error) {
	if e.create != nil {
		return e.create(path)
	}
	if path == "-" {
		return nopCloser{e.stdout}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &atomicFile{File: f, path: path}, nil
}

// abort discards an output file that was not completed.
func abort(w io.WriteCloser) {
	if a, ok := w.(*atomicFile); ok {
		a.File.Close()
		os.Remove(a.File.Name())
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// atomicFile becomes visible at its path only when Close succeeds.
type atomicFile struct {
	*os.File
	path string
	err  error
}

func (a *atomicFile) Write(p []byte) (int, error) {
	n, err := a.File.Write(p)
	if err != nil && a.err == nil {
		a.err = err
	}
	return n, err
}

func (a *atomicFile) Close() error {
	tmp := a.File.Name()
	err := errors.Join(a.err, a.File.Sync(), a.File.Close())
	if err == nil {
		err = os.Rename(tmp, a.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", a.path, err)
	}
	return nil
}
