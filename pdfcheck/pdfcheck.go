// Package pdfcheck gives the verdict on one attachment: is it a PDF that opens?
//
// The question is the office's, not the spec's: a file is ok when a viewer opens it without a password and
// it has at least one page. Problems that viewers repair or ignore are warnings. Anything that is not a PDF
// is rejected with a stable reason code saying what it is (a Word document, an image, an archive...), and
// ReasonText turns the code into a sentence a school clerk can act on.
//
// "A viewer opens it" is poppler's answer (pdfinfo: exit 0 and at least one page), measured on public
// real-world PDFs by TestRealCorpusAgreement. Where pdfcpu and poppler read a file differently, the worker
// follows poppler: the encryption is judged as poppler's standard security handler judges it (a file that
// opens with the empty password, or whose encryption poppler ignores, is not "password protected"); the
// trailer is the one poppler takes; the cross-reference table is rebuilt by scanning where poppler would
// rebuild it (no usable xref, a table that points at the wrong object, no header); the page count is the
// page tree root's /Count, or the linearization dictionary's /N, as poppler reports it.
//
// The kind of a file is sniffed from its bytes in the calling process. PDFs are parsed with pdfcpu in a
// separate worker process (a re-execution of the running binary, see MaybeWorker), bounded in time and
// memory, so that a panic, a stack overflow, an endless loop or a memory bomb in the parser becomes a
// check_failed verdict for that one file and never takes the service down.
package pdfcheck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Options are the Checker's settings. Zero values take the documented defaults.
type Options struct {
	// Timeout bounds the check of one file, from the moment a worker takes it to the verdict: the time
	// a call waits for a free worker (the workers are shared by every caller) is bounded by the
	// caller's context only, so that a slow file of one mail does not run out another mail's clock.
	// Default 30s.
	Timeout time.Duration
	// MaxSize is the largest file checked; larger files get Reason "too_large" without being read.
	// Default 50 MiB.
	MaxSize int64
	// MaxMemory bounds the memory the worker may add to what it has at start-up, and sets its soft Go
	// memory limit to half of it. Default 512 MiB. Negative: no bound. How it is enforced depends on the
	// OS: the address space (RLIMIT_AS) on Linux, the committed memory of a Job Object on Windows
	// (MaxMemory plus 64 MiB for the worker's start), only the soft limit on macOS.
	MaxMemory int64
	// Workers is the number of worker processes, so the number of PDFs checked at once. Default 1.
	Workers int
	// Command starts a worker: a program and its arguments that end up calling MaybeWorker. Default: the
	// running executable. Tests use it to start workers through an emulator or to make them fail to start.
	Command []string
	// Validate runs pdfcpu's relaxed validation after the parse, for warnings only; it never changes the
	// verdict. It is a second phase: a crash or timeout there keeps the parse's verdict.
	Validate bool
}

// Defaults for Options.
const (
	DefaultTimeout   = 30 * time.Second
	DefaultMaxSize   = 50 << 20
	DefaultMaxMemory = 512 << 20
)

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxMemory == 0 {
		o.MaxMemory = DefaultMaxMemory
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	return o
}

// Verdict is the outcome for one file.
type Verdict struct {
	File      string   `json:"file"`
	Kind      string   `json:"kind"`    // pdf|doc|docx|xls|xlsx|ppt|pptx|wps|ofd|image|archive|html|text|empty|other
	Verdict   string   `json:"verdict"` // "ok" | "reject"
	Pages     int      `json:"pages"`
	Encrypted bool     `json:"encrypted"`
	Version   string   `json:"version,omitempty"`
	Reason    string   `json:"reason"`             // a Reason* code, "" when ok
	Warnings  []string `json:"warnings,omitempty"` // English, for logs
	// Fault, when set, says the verdict is no verdict at all: this machine failed (the file could not be
	// read, a worker could not start, the checker was closed or the caller gave up waiting). It is never
	// the sender's fault: callers must not record such a verdict, but retry once the fault is gone.
	Fault error `json:"-"`
}

// Verdict values.
const (
	VerdictOK     = "ok"
	VerdictReject = "reject"
)

// OK reports whether the file is a PDF the office can open.
func (v Verdict) OK() bool { return v.Verdict == VerdictOK }

func (v *Verdict) reject(reason string, warn ...string) Verdict {
	v.Verdict, v.Reason = VerdictReject, reason
	v.Warnings = append(v.Warnings, warn...)
	return *v
}

// fault marks the verdict as no verdict: a fault of this machine, not of the file.
func (v *Verdict) fault(reason string, err error) Verdict {
	v.reject(reason, err.Error())
	v.Fault = err
	return *v
}

// Checker checks files. It is safe for concurrent use; at most Options.Workers PDFs are parsed at once,
// the other calls wait (within their Timeout).
type Checker struct {
	opts  Options
	log   *slog.Logger
	slots chan *worker // one per worker process; nil until started or after it died
	done  chan struct{}
}

// New returns a Checker. Workers start on first use. Call Close to stop them.
func New(opts Options, log *slog.Logger) *Checker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	c := &Checker{opts: opts, log: log, slots: make(chan *worker, opts.Workers), done: make(chan struct{})}
	for range opts.Workers {
		c.slots <- nil
	}
	return c
}

// Close stops the worker processes, waiting for checks in progress (each bounded by Timeout).
// Checks started after Close return check_failed.
func (c *Checker) Close() error {
	select {
	case <-c.done:
		return nil
	default:
	}
	close(c.done)
	for range c.opts.Workers {
		if w := <-c.slots; w != nil {
			w.stop()
		}
	}
	return nil
}

// CheckFile gives the verdict on the file at path. It never panics and returns within Options.Timeout
// (plus the moment it takes to kill a worker) of a worker taking the file.
func (c *Checker) CheckFile(ctx context.Context, path string) (v Verdict) {
	start := time.Now()
	v = Verdict{File: path, Kind: KindOther}
	defer func() {
		if r := recover(); r != nil {
			v.reject(ReasonCheckFailed, fmt.Sprintf("pdfcheck panicked: %v", r))
		}
		c.log.Debug("pdfcheck", "file", path, "kind", v.Kind, "verdict", v.Verdict, "reason", v.Reason,
			"pages", v.Pages, "warnings", len(v.Warnings), "took", time.Since(start))
	}()
	caller := ctx

	// O_NONBLOCK: a FIFO or device in place of a file must not block us; regular files ignore it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return v.fault(ReasonUnreadable, fmt.Errorf("pdfcheck: %w", err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return v.fault(ReasonUnreadable, fmt.Errorf("pdfcheck: %w", err))
	}
	if !fi.Mode().IsRegular() {
		return v.reject(ReasonUnreadable, "not a regular file")
	}
	if fi.Size() == 0 {
		v.Kind = KindEmpty
		return v.reject(ReasonEmpty)
	}
	if fi.Size() > c.opts.MaxSize {
		v.Kind = Sniff(f, fi.Size())
		return v.reject(ReasonTooLarge, fmt.Sprintf("%d bytes, limit %d", fi.Size(), c.opts.MaxSize))
	}
	v.Kind = Sniff(f, fi.Size())
	if v.Kind != KindPDF {
		return v.reject(reasonForKind(v.Kind))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return v.fault(ReasonUnreadable, fmt.Errorf("pdfcheck: %w", err))
	}
	r, warns, err := c.parse(ctx, abs)
	if err == nil && caller.Err() != nil {
		// The caller gave up (a shutdown), not the file: whatever the worker said is no verdict.
		err = fmt.Errorf("pdfcheck: check of %s abandoned: %w", path, context.Cause(caller))
	}
	if err != nil {
		return v.fault(ReasonCheckFailed, err)
	}
	v.Pages, v.Encrypted, v.Version = r.Pages, r.Encrypted, r.Version
	v.Warnings = append(r.Warnings, warns...)
	if r.Reason != "" {
		return v.reject(r.Reason)
	}
	v.Verdict = VerdictOK
	return v
}

// CheckFiles checks the files at paths, as many at once as there are workers, and returns their verdicts
// in the order of paths. progress, when set, is told how many are done after each one.
func (c *Checker) CheckFiles(ctx context.Context, paths []string, progress func(done int)) []Verdict {
	out := make([]Verdict, len(paths))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
		next = make(chan int)
	)
	for range min(c.opts.Workers, len(paths)) {
		wg.Go(func() {
			for i := range next {
				out[i] = c.CheckFile(ctx, paths[i])
				mu.Lock()
				done++
				if progress != nil {
					progress(done)
				}
				mu.Unlock()
			}
		})
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// errClosed is returned by parse's workers after Close.
var errClosed = errors.New("pdfcheck: checker closed")

// parse runs the pdfcpu parse of one file in a worker and turns every failure of the worker on the file
// into check_failed. warns are the parent's own notes (a crash in the validation phase, say). err is a
// fault of this machine, not of the file: no worker could be had.
func (c *Checker) parse(ctx context.Context, path string) (result, []string, error) {
	failed := func(format string, a ...any) (result, []string, error) {
		return result{Reason: ReasonCheckFailed}, []string{fmt.Sprintf(format, a...)}, nil
	}
	var w *worker
	select {
	case w = <-c.slots:
	case <-c.done:
		return result{}, nil, errClosed
	case <-ctx.Done():
		return result{}, nil, fmt.Errorf("pdfcheck: waiting for a free worker: %w", context.Cause(ctx))
	}
	defer func() { c.slots <- w }()
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout) // the file's own time starts now
	defer cancel()
	select {
	case <-c.done:
		return result{}, nil, errClosed
	default:
	}
	if w != nil && w.dead() {
		c.log.Warn("pdfcheck: worker had exited, restarting", "pid", w.pid, "stderr", w.stderr.summary())
		w = nil
	}
	if w == nil {
		var err error
		if w, err = startWorker(ctx, c.opts); err != nil {
			c.log.Error("pdfcheck: cannot start worker", "err", err)
			return result{}, nil, err
		}
		if w.note != "" {
			c.log.Warn("pdfcheck: worker runs without its hard memory bound", "pid", w.pid, "why", w.note)
		}
	}
	r, warns, err := w.check(ctx, path, c.opts.Validate)
	if err != nil {
		c.log.Warn("pdfcheck: worker failed on a file, killed it", "file", path, "pid", w.pid, "err", err)
		w.kill()
		w = nil
		if r.Phase == "" { // no verdict came back
			return failed("%v", err)
		}
		warns = append(warns, err.Error())
	}
	return r, warns, nil
}
