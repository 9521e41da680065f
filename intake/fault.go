package intake

import (
	"errors"
	"sync"
	"syscall"

	"briefd/store"
)

// Fault is an error of this machine, not of the message: a full disk, a spool or archive folder that is
// missing or read-only, a PDF worker that cannot start, a store that fails. A message that meets one is
// not recorded and the cursor stays where it is: it is handled again, unchanged, once the fault is gone.
// The sender is never told that its mail is broken because this machine is.
type Fault struct{ Err error }

// Error says what failed on this machine.
func (f *Fault) Error() string { return f.Err.Error() }

// Unwrap returns the error of the machine (errors.Is finds syscall.ENOSPC and the like through it).
func (f *Fault) Unwrap() error { return f.Err }

// fault marks err (when not nil) as a Fault.
func fault(err error) error {
	if err == nil || IsFault(err) {
		return err
	}
	return &Fault{err}
}

// IsFault reports whether err is a fault of this machine rather than of the message: a Fault, or an
// operating system error that only the machine can cause (no space, read-only, no permission, I/O).
func IsFault(err error) bool {
	var f *Fault
	if errors.As(err, &f) {
		return true
	}
	for _, e := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EACCES, syscall.EPERM,
		syscall.EIO, syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// MaxAttempts is how often a message is tried before it is recorded as failed (store.VerdictFailed):
// one bad mail must not hold the mailbox. Faults of the machine do not count.
const MaxAttempts = 3

// attempts counts the failed attempts on each message until it is recorded. A process that dies while
// handling a message starts the count again: the parser is fuzzed and PDFs are checked in worker
// processes, so mail that kills briefd itself is not known; if it came, the health alert would tell.
type attempts struct {
	mu sync.Mutex
	n  map[store.MessageKey]int
}

// failed counts a failure on k and returns the number of failures so far.
func (a *attempts) failed(k store.MessageKey) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == nil {
		a.n = map[store.MessageKey]int{}
	}
	a.n[k]++
	return a.n[k]
}

// end forgets k: it was recorded, or met a fault of the machine (which does not count).
func (a *attempts) end(k store.MessageKey) {
	a.mu.Lock()
	delete(a.n, k)
	a.mu.Unlock()
}
