//go:build !linux && !windows

package pdfcheck

import (
	"os"
	"os/exec"
)

// On other systems (macOS, for developers) the worker has no hard memory bound: macOS accepts RLIMIT_AS
// and does not enforce it. It keeps Go's soft memory limit, the timeout, and its exit when its input
// closes (the parent stopped or died). The result pipe is file descriptor 3.
func prepareIsolation(cmd *exec.Cmd, pw *os.File, _ Options) (*isolation, error) {
	cmd.ExtraFiles = []*os.File{pw}
	return &isolation{pipe: "3"}, nil
}

// limitMemory sets no bound here: see prepareIsolation.
func limitMemory(int64) (int64, error) { return 0, nil }
