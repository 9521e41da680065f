//go:build linux

package pdfcheck

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// On Linux the worker bounds its own address space (RLIMIT_AS) at what it has at start plus MaxMemory,
// and the kernel kills it when the parent dies (Pdeathsig). The result pipe is file descriptor 3.
func prepareIsolation(cmd *exec.Cmd, pw *os.File, _ Options) (*isolation, error) {
	cmd.ExtraFiles = []*os.File{pw}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return &isolation{pipe: "3"}, nil
}

// limitMemory sets RLIMIT_AS on the worker itself and reads it back: qemu-user, for one, accepts the call
// and ignores it (it would bound the emulator), and a bound that is not in force must not be reported.
func limitMemory(mem int64) (int64, error) {
	limit := vmSize() + mem
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: uint64(limit), Max: uint64(limit)}); err != nil {
		return 0, fmt.Errorf("setrlimit RLIMIT_AS: %w", err)
	}
	var got syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &got); err != nil {
		return 0, fmt.Errorf("getrlimit RLIMIT_AS: %w", err)
	}
	if got.Cur != uint64(limit) {
		return 0, fmt.Errorf("RLIMIT_AS of %d bytes accepted but not in force (it reads %d; an emulator such as qemu-user ignores it)",
			limit, got.Cur)
	}
	return limit, nil
}

// vmSize returns this process's current virtual memory size from /proc, or 0.
func vmSize() int64 { return procStatusBytes("self", "VmSize:") }
