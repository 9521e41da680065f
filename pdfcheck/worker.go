package pdfcheck

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The worker is this same executable, started with workerEnv set to workerMagic. It reads one JSON request
// per line on stdin and writes JSON lines on the result pipe (file descriptor 3 on Unix, an inherited
// handle on Windows; workerPipeEnv names it): a hello, then for every request a "parse" result and, when
// asked, a "validate" result.
//
// How the worker is confined depends on the OS (isolate_linux.go, isolate_windows.go, isolate_other.go);
// everywhere the parent kills it at the timeout, Go's soft memory limit is half of MaxMemory, and the
// worker exits as soon as its input closes, even in the middle of a file: the parent has stopped it or
// has died.
const (
	workerEnv     = "BRIEFD_PDFCHECK_WORKER"
	workerMemEnv  = "BRIEFD_PDFCHECK_MAXMEM"
	workerPipeEnv = "BRIEFD_PDFCHECK_RESULTS"
	workerMagic   = "pdfcheck-worker-v1"
	startTimeout  = 10 * time.Second
	maxStack      = 64 << 20 // a stack overflow in the parser dies early, not after eating 1 GB
	// workerGCPercent is the worker's GOGC unless the environment sets one.
	workerGCPercent = 300
)

type request struct {
	Path     string `json:"path"`
	Validate bool   `json:"validate,omitempty"`
}

type hello struct {
	Hello    string `json:"hello"`
	Pid      int    `json:"pid"`
	Limit    int64  `json:"limit"`               // hard memory bound the worker set on itself, bytes; 0 none
	LimitErr string `json:"limit_err,omitempty"` // why a bound asked for is not in force
}

// MaybeWorker makes this process the isolated PDF checker when it was started as one: it then does the
// work and exits, without returning. Otherwise it returns at once. Call it first thing in main, and in
// TestMain of every test package that checks PDFs.
func MaybeWorker() {
	if os.Getenv(workerEnv) != workerMagic {
		return
	}
	os.Exit(runWorker())
}

func runWorker() int {
	out := resultPipe()
	if out == nil {
		fmt.Fprintln(os.Stderr, "pdfcheck worker: no result pipe ("+workerPipeEnv+" unset)")
		return 2
	}
	debug.SetMaxStack(maxStack)
	// The parser allocates a great deal per file and keeps little between files: collecting less often
	// costs some memory per file and saves a quarter of the worker's time on real-world PDFs. The memory
	// limit below still makes it collect as often as needed near the bound.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(workerGCPercent)
	}
	h := hello{Hello: workerMagic, Pid: os.Getpid()}
	if mem, err := strconv.ParseInt(os.Getenv(workerMemEnv), 10, 64); err == nil && mem > 0 {
		debug.SetMemoryLimit(mem / 2)
		if h.Limit, err = limitMemory(mem); err != nil {
			h.Limit, h.LimitErr = 0, err.Error()
		}
	}
	bw := bufio.NewWriter(out)
	enc := json.NewEncoder(bw)
	send := func(v any) bool {
		return enc.Encode(v) == nil && bw.Flush() == nil
	}
	if !send(h) {
		return 2
	}
	reqs := make(chan []byte)
	go readRequests(os.Stdin, reqs)
	in := newInspector()
	for line := range reqs {
		var req request
		if err := json.Unmarshal(line, &req); err != nil {
			fmt.Fprintln(os.Stderr, "pdfcheck worker: bad request:", err)
			return 2
		}
		ok := true
		in.inspect(context.Background(), req.Path, req.Validate, func(r result) { ok = ok && send(r) })
		if !ok {
			return 2
		}
	}
	return 2 // readRequests exits the process
}

// readRequests passes the request lines of r to reqs. When r ends it ends the process at once, whatever
// the worker is doing: the parent closed the pipe to stop it, or the parent is gone (killed, crashed) and
// nobody will read the answer. This is the worker's own guard against outliving its parent, on every OS.
func readRequests(r io.Reader, reqs chan<- []byte) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		reqs <- bytes.Clone(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "pdfcheck worker: reading requests:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// resultPipe is the worker's end of the result pipe, as the parent named it in workerPipeEnv.
func resultPipe() *os.File {
	n, err := strconv.ParseUint(os.Getenv(workerPipeEnv), 10, 64)
	if err != nil {
		return nil
	}
	return os.NewFile(uintptr(n), "pdfcheck-results")
}

// procStatusBytes reads a "kB" field of /proc/<pid>/status, in bytes; 0 if unknown.
func procStatusBytes(pid, field string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return n << 10
			}
		}
	}
	return 0
}

// worker is the parent's handle on one worker process.
type worker struct {
	cmd     *exec.Cmd
	pid     int
	limit   int64  // the hard memory bound in force, bytes; 0 none
	note    string // why a bound asked for is not in force
	stdin   io.WriteCloser
	results chan result   // closed when the result pipe ends
	exited  chan struct{} // closed when the process has been waited for
	stderr  *tailBuffer
}

// isolation is how one worker process is confined: prepareIsolation (one per OS) sets up the command before
// it starts, started confines the running process, release runs once it has been waited for.
type isolation struct {
	pipe    string                           // the result pipe as the worker finds it (workerPipeEnv)
	limit   int64                            // a hard memory bound the parent put in force, bytes; 0 none
	onStart func(*os.Process) (int64, error) // returns the bound it put in force
	onExit  func()
}

func (i *isolation) started(p *os.Process) error {
	if i.onStart == nil {
		return nil
	}
	limit, err := i.onStart(p)
	i.limit = limit
	return err
}

func (i *isolation) release() {
	if i.onExit != nil {
		i.onExit()
	}
}

func startWorker(ctx context.Context, opts Options) (*worker, error) {
	argv := opts.Command
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("pdfcheck: start worker: %w", err)
		}
		argv = []string{exe}
	}
	exe := argv[0]
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("pdfcheck: start worker: %w", err)
	}
	defer pw.Close()
	cmd := exec.Command(exe, argv[1:]...)
	env := []string{workerEnv + "=" + workerMagic}
	if opts.MaxMemory > 0 {
		env = append(env, workerMemEnv+"="+strconv.FormatInt(opts.MaxMemory, 10))
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, workerEnv+"=") && !strings.HasPrefix(kv, workerMemEnv+"=") &&
			!strings.HasPrefix(kv, workerPipeEnv+"=") && !strings.HasPrefix(kv, "GOMEMLIMIT=") {
			env = append(env, kv)
		}
	}
	// The worker opens absolute paths and writes nothing anywhere: any folder will do, one that nobody
	// deletes (a Windows service's account may have no temp folder: then this process's own).
	if fi, err := os.Stat(os.TempDir()); err == nil && fi.IsDir() {
		cmd.Dir = os.TempDir()
	}
	iso, err := prepareIsolation(cmd, pw, opts)
	if err != nil {
		pr.Close()
		return nil, fmt.Errorf("pdfcheck: start worker: %w", err)
	}
	cmd.Env = append(env, workerPipeEnv+"="+iso.pipe)
	w := &worker{cmd: cmd, results: make(chan result, 4), exited: make(chan struct{}), stderr: &tailBuffer{max: 4096}}
	cmd.Stderr = w.stderr
	if w.stdin, err = cmd.StdinPipe(); err != nil {
		pr.Close()
		return nil, fmt.Errorf("pdfcheck: start worker: %w", err)
	}
	if err := cmd.Start(); err != nil {
		pr.Close()
		return nil, fmt.Errorf("pdfcheck: start worker %s: %w", exe, err)
	}
	w.pid = cmd.Process.Pid
	// The worker cannot have read a file yet: it reads none before its first request.
	if err := iso.started(cmd.Process); err != nil {
		w.note = err.Error()
	}
	helloc := make(chan hello, 1)
	go func() {
		defer pr.Close()
		defer close(w.results)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		first := true
		for sc.Scan() {
			if first {
				first = false
				var h hello
				if json.Unmarshal(sc.Bytes(), &h) != nil || h.Hello != workerMagic {
					return
				}
				helloc <- h
				continue
			}
			var r result
			if json.Unmarshal(sc.Bytes(), &r) != nil {
				return
			}
			w.results <- r
		}
	}()
	go func() {
		_ = cmd.Wait() // its status is reported through stderr and the closed pipe
		iso.release()
		close(w.exited)
	}()
	t := time.NewTimer(startTimeout)
	defer t.Stop()
	select {
	case h := <-helloc:
		if iso.limit > 0 { // set by the parent (a Windows job)
			w.limit = iso.limit
		} else {
			w.limit = h.Limit
			if h.LimitErr != "" {
				w.note = h.LimitErr
			}
		}
		return w, nil
	case <-w.exited:
		return nil, fmt.Errorf("pdfcheck: worker %s exited at start (does main call pdfcheck.MaybeWorker first?): %s",
			exe, w.stderr.summary())
	case <-t.C:
	case <-ctx.Done():
	}
	w.kill()
	return nil, fmt.Errorf("pdfcheck: worker %s did not answer (does main call pdfcheck.MaybeWorker first?)", exe)
}

// check sends one request and waits for its results. On any error the caller must kill the worker; r is
// the parse result if that phase completed (Phase set), so a failure while validating keeps the verdict.
func (w *worker) check(ctx context.Context, path string, validate bool) (r result, warns []string, err error) {
	b, _ := json.Marshal(request{Path: path, Validate: validate})
	if _, err := w.stdin.Write(append(b, '\n')); err != nil {
		return r, nil, fmt.Errorf("send request to worker: %w", err)
	}
	want := "parse"
	for {
		select {
		case got, ok := <-w.results:
			if !ok {
				select { // let Wait finish so stderr is complete
				case <-w.exited:
				case <-time.After(time.Second):
				}
				return r, warns, fmt.Errorf("worker died during %s: %s", want, w.stderr.summary())
			}
			switch {
			case got.Phase == "parse" && want == "parse":
				r = got
				if !validate || r.Reason != "" {
					return r, warns, nil
				}
				want = "validate"
			case got.Phase == "validate" && want == "validate":
				r.Warnings = append(r.Warnings, got.Warnings...)
				return r, warns, nil
			default:
				return r, warns, fmt.Errorf("worker answered %q while %s was expected", got.Phase, want)
			}
		case <-ctx.Done():
			err := context.Cause(ctx)
			if errors.Is(err, context.DeadlineExceeded) {
				return r, warns, fmt.Errorf("timed out during %s", want)
			}
			return r, warns, fmt.Errorf("cancelled during %s: %w", want, err)
		}
	}
}

func (w *worker) dead() bool {
	select {
	case <-w.exited:
		return true
	default:
		return false
	}
}

// kill ends the worker at once and waits for it.
func (w *worker) kill() {
	_ = w.cmd.Process.Kill() // it may have exited already
	<-w.exited
}

// stop asks the worker to exit (end of its input) and kills it if it does not within a second.
func (w *worker) stop() {
	w.stdin.Close()
	select {
	case <-w.exited:
	case <-time.After(time.Second):
		w.kill()
	}
}

// tailBuffer keeps the first and the last max bytes written to it: the worker's stderr, which says why it
// died (a Go crash report starts with the reason and goes on with stack traces).
type tailBuffer struct {
	mu   sync.Mutex
	max  int
	head []byte
	buf  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := t.max - len(t.head); room > 0 {
		t.head = append(t.head, p[:min(room, len(p))]...)
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// summary picks the telling line of a Go crash report ("fatal error: stack overflow", "runtime: out of
// memory", "panic: ..."), else the last line.
func (t *tailBuffer) summary() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(string(bytes.TrimSpace(append(bytes.Clone(t.head), t.buf...))), "\n")
	pick := lines[len(lines)-1]
	for _, l := range lines {
		if strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "panic:") ||
			strings.HasPrefix(l, "runtime: out of memory") || strings.HasPrefix(l, "runtime: goroutine stack exceeds") {
			pick = l
			break
		}
	}
	if pick == "" {
		pick = "no message (killed by a signal?)"
	}
	if len(pick) > 200 {
		pick = pick[:200]
	}
	return pick
}
