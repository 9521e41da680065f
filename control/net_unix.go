//go:build !windows

package control

import (
	"errors"
	"syscall"
)

// noUnixSockets reports whether err says the system has no Unix sockets.
func noUnixSockets(err error) bool { return errors.Is(err, syscall.EAFNOSUPPORT) }
