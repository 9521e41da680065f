package intake

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"briefd/store"
)

// Fault is an error of this machine, not of the message: a full disk, a spool or archive folder that is
// missing or read-only, a PDF worker that cannot start, a store that fails. A message that meets one is
// not recorded and the cursor stays where it is: it is handled again, unchanged, once the fault is gone.
// The sender is never told that its mail is broken because this machine is.
type Fault struct{ Err error }

func (f *Fault) Error() string { return f.Err.Error() }
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

// attempts remembers, across crashes, how often handling a message began without ending: a file per
// message in the spool folder (attempt-*) holding the count and the last error. It is not synced: a
// message that crashes the process leaves it in the page cache, which survives the process.
type attempts struct{ dir string }

func (a attempts) path(k store.MessageKey) string {
	return filepath.Join(a.dir, "attempt-"+stageName(k))
}

// begin returns how many attempts on k began before and did not end, with the last one's error, and
// counts this one.
func (a attempts) begin(k store.MessageKey) (int, string, error) {
	n, last := 0, ""
	if b, err := os.ReadFile(a.path(k)); err == nil {
		count, rest, _ := strings.Cut(string(b), "\n")
		n, _ = strconv.Atoi(count)
		last = rest
	}
	if err := a.write(k, n+1, last); err != nil {
		return 0, "", err
	}
	return n, last, nil
}

// failed records the error of the attempt under way.
func (a attempts) failed(k store.MessageKey, n int, err error) error {
	return a.write(k, n, err.Error())
}

func (a attempts) write(k store.MessageKey, n int, last string) error {
	if err := os.MkdirAll(a.dir, 0o700); err != nil {
		return fault(fmt.Errorf("intake: attempts: %w", err))
	}
	if err := os.WriteFile(a.path(k), []byte(strconv.Itoa(n)+"\n"+last), 0o600); err != nil {
		return fault(fmt.Errorf("intake: attempts: %w", err))
	}
	return nil
}

// end forgets k: it was recorded, or met a fault of the machine (which does not count).
func (a attempts) end(k store.MessageKey) { os.Remove(a.path(k)) }
