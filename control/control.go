// Package control is the daemon's control socket. bbolt lets one process open the database; while
// `briefd run` holds it, the other commands (status, receipts, assign, resend, backup …) are forwarded
// to the daemon over a Unix socket beside the database, mode 0600 in a 0700 folder, so that only the
// account that runs briefd can use it (where the system has no Unix sockets, a loopback port and a secret
// in a file at the socket's path stand in: net.go). The daemon runs the command with its own config and store and
// streams its output back; files the command writes (backup, export) are streamed too and written by
// the calling process, where the user asked for them.
//
// The protocol is versioned: the client sends one JSON line, a Request; the daemon answers with frames
// (a kind byte, a 4-byte big-endian length, the payload), the first of them a Hello. A client and a
// daemon of different protocol versions say so in one line and do nothing else. Proto changes whenever
// the request, the frames or the meaning of a forwarded command's output change.
package control

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
	"sync"
	"time"
)

// Proto is the protocol version this briefd speaks. 1: before versions (no hello).
const Proto = 2

// Request is what a client asks: a command line.
type Request struct {
	Proto   int      `json:"proto"`
	Version string   `json:"version"` // briefd's version, for the message when they differ
	Args    []string `json:"args"`
}

// Hello is the daemon's first frame.
type Hello struct {
	Proto   int    `json:"proto"`
	Version string `json:"version"`
}

// Frame kinds.
const (
	frameHello    = 'v' // payload: Hello, JSON
	frameStdout   = 'o'
	frameStderr   = 'e'
	frameFileOpen = 'f' // payload: the path the client writes
	frameFileData = 'd'
	frameFileDone = 'c'
	frameExit     = 'x' // payload: the exit status as one byte
)

// Socket is the daemon's socket for a database path.
func Socket(dbPath string) string { return dbPath + ".sock" }

// Answers reports whether a daemon accepts connections on the socket (a socket file left by a daemon
// that died does not).
func Answers(socket string) bool {
	c, err := dial(socket, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Listen binds the socket, mode 0600 (or its loopback stand-in where the system has no Unix sockets,
// net.go); a socket file left by a daemon that died is replaced.
func Listen(socket string) (net.Listener, error) {
	if Answers(socket) {
		return nil, fmt.Errorf("%s: another briefd answers there", socket)
	}
	os.Remove(socket)
	return listen(socket)
}

// Output is where a forwarded command writes: its standard output and error, and the files it creates
// (streamed to the client, which writes them where the user asked).
type Output struct {
	Stdout, Stderr io.Writer
	Create         func(path string) (io.WriteCloser, error)
}

// Runner runs one forwarded command line and returns its exit status.
type Runner func(ctx context.Context, args []string, out Output) int

// Mismatch is the one line said when the two sides speak different protocols: the speaker speaks
// Proto as briefd version, the other side proto as briefd otherVersion.
func Mismatch(command, speaker, version string, proto int, otherVersion string) string {
	if otherVersion == "" {
		otherVersion = "of an unknown version"
	}
	return fmt.Sprintf("briefd %s: %s speaks control protocol %d (briefd %s), the other side %d (briefd %s): "+
		"the command and the running daemon must be the same briefd; restart the daemon with this briefd, or run the command with the daemon's",
		command, speaker, Proto, version, proto, otherVersion)
}

// Serve runs the commands that arrive on ln with run, until ctx is done; it closes ln and removes the
// socket file. version is this briefd's, for the hello. refuse, when it returns a message, refuses a
// command line (commands that make no sense inside the daemon).
func Serve(ctx context.Context, ln net.Listener, version string, refuse func(args []string) string, run Runner) error {
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
		go serveConn(ctx, c, version, refuse, run)
	}
}

func serveConn(ctx context.Context, c net.Conn, version string, refuse func([]string) string, run Runner) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Minute))
	var req Request
	line, err := bufio.NewReader(io.LimitReader(c, 1<<20)).ReadBytes('\n')
	if err != nil || json.Unmarshal(line, &req) != nil || len(req.Args) == 0 {
		return
	}
	fc := &frameConn{w: c}
	hello, _ := json.Marshal(Hello{Proto: Proto, Version: version})
	if fc.send(frameHello, hello) != nil {
		return
	}
	stderr := frameWriter{fc, frameStderr}
	if req.Proto != Proto {
		stderr.Write([]byte(Mismatch(req.Args[0], "the running daemon", version, req.Proto, req.Version) + "\n"))
		fc.send(frameExit, []byte{1})
		return
	}
	if msg := refuse(req.Args); msg != "" {
		stderr.Write([]byte(msg + "\n"))
		fc.send(frameExit, []byte{2})
		return
	}
	out := Output{Stdout: frameWriter{fc, frameStdout}, Stderr: stderr, Create: func(path string) (io.WriteCloser, error) {
		if err := fc.send(frameFileOpen, []byte(path)); err != nil {
			return nil, err
		}
		return remoteFile{frameWriter{fc, frameFileData}}, nil
	}}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(flushEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fc.flush()
			}
		}
	}()
	code := run(ctx, req.Args, out)
	close(done)
	fc.send(frameExit, []byte{byte(code)})
}

// Forward runs the command line args in the daemon at socket and returns its exit status; its output
// goes to stdout and stderr, the files it writes are created with CreateFile. version is this briefd's.
func Forward(ctx context.Context, socket, version string, args []string, stdout, stderr io.Writer) int {
	c, err := dial(socket, 5*time.Second)
	if err != nil {
		fmt.Fprintf(stderr, "briefd %s: the database is in use by another process and its control socket does not answer (%v)\n", args[0], err)
		return 1
	}
	defer c.Close()
	go func() {
		<-ctx.Done()
		c.Close()
	}()
	req, _ := json.Marshal(Request{Proto: Proto, Version: version, Args: args})
	if _, err := c.Write(append(req, '\n')); err != nil {
		fmt.Fprintf(stderr, "briefd %s: %v\n", args[0], err)
		return 1
	}
	r := bufio.NewReader(c)
	var file io.WriteCloser
	defer func() { Abort(file) }() // a file the daemon did not finish is not left behind
	var buf []byte                 // each frame's payload, used once
	for first := true; ; first = false {
		var hdr [5]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			fmt.Fprintf(stderr, "briefd %s: the daemon closed the connection: %v\n", args[0], err)
			return 1
		}
		n := int(binary.BigEndian.Uint32(hdr[1:]))
		if n > cap(buf) {
			buf = make([]byte, n)
		}
		payload := buf[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			fmt.Fprintf(stderr, "briefd %s: %v\n", args[0], err)
			return 1
		}
		if first {
			var h Hello
			if hdr[0] != frameHello || json.Unmarshal(payload, &h) != nil {
				h = Hello{Proto: 1, Version: "from before control protocol 2"}
			}
			if h.Proto != Proto {
				fmt.Fprintln(stderr, Mismatch(args[0], "this command", version, h.Proto, h.Version))
				return 1
			}
			continue
		}
		switch hdr[0] {
		case frameStdout:
			stdout.Write(payload)
		case frameStderr:
			stderr.Write(payload)
		case frameFileOpen:
			if file, err = CreateFile(string(payload), stdout); err != nil {
				fmt.Fprintf(stderr, "briefd %s: %v\n", args[0], err)
				return 1
			}
		case frameFileData:
			if file == nil {
				return 1
			}
			if _, err := file.Write(payload); err != nil {
				fmt.Fprintf(stderr, "briefd %s: %v\n", args[0], err)
				return 1
			}
		case frameFileDone:
			if file != nil {
				err := file.Close()
				file = nil
				if err != nil {
					fmt.Fprintf(stderr, "briefd %s: %v\n", args[0], err)
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

// frameConn writes frames to the caller. Output is coalesced: the bytes of consecutive writes of one
// kind go out as one frame when maxFrame is reached, when another kind of frame is sent (so stdout,
// stderr and files keep their order), every flushEvery while the command runs, and at the end. A command
// that prints a line at a time (status over 100,000 receipts prints 13,000) then costs a few frames, not
// a frame and a write on both sides per line, while progress still reaches the caller within flushEvery.
type frameConn struct {
	mu      sync.Mutex
	w       io.Writer
	kind    byte   // of pending
	pending []byte // output not sent yet
	out     []byte // the frame being written, kept for the next
	err     error  // the first write error: everything after it fails
}

const (
	maxFrame   = 1 << 16
	flushEvery = 50 * time.Millisecond
)

// send sends the frame kind with p, after the pending output.
func (f *frameConn) send(kind byte, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.flushLocked(); err != nil {
		return err
	}
	return f.frameLocked(kind, p)
}

// write queues p as output of kind, sending what is pending when it is of another kind or full.
func (f *frameConn) write(kind byte, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if kind != f.kind {
		if err := f.flushLocked(); err != nil {
			return err
		}
		f.kind = kind
	}
	for len(p) > 0 {
		n := min(len(p), maxFrame-len(f.pending))
		f.pending = append(f.pending, p[:n]...)
		p = p[n:]
		if len(f.pending) == maxFrame {
			if err := f.flushLocked(); err != nil {
				return err
			}
		}
	}
	return f.err
}

// flush sends the pending output.
func (f *frameConn) flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flushLocked()
}

func (f *frameConn) flushLocked() error {
	if len(f.pending) == 0 {
		return f.err
	}
	err := f.frameLocked(f.kind, f.pending)
	f.pending = f.pending[:0]
	return err
}

func (f *frameConn) frameLocked(kind byte, p []byte) error {
	if f.err != nil {
		return f.err
	}
	f.out = append(f.out[:0], kind, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(f.out[1:], uint32(len(p)))
	f.out = append(f.out, p...)
	_, f.err = f.w.Write(f.out)
	return f.err
}

type frameWriter struct {
	fc   *frameConn
	kind byte
}

func (w frameWriter) Write(p []byte) (int, error) {
	if err := w.fc.write(w.kind, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

type remoteFile struct{ frameWriter }

func (r remoteFile) Close() error { return r.fc.send(frameFileDone, nil) }

// CreateFile opens a file for a command's output: a temp file beside path, renamed over it by Close
// after an fsync ("-": stdout).
func CreateFile(path string, stdout io.Writer) (io.WriteCloser, error) {
	if path == "-" {
		return nopCloser{stdout}, nil
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

// Abort discards an output file that was not completed.
func Abort(w io.WriteCloser) {
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
