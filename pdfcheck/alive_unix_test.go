//go:build unix && !linux

package pdfcheck

import "syscall"

// processAlive reports whether pid runs (a zombie counts as running here).
func processAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }
