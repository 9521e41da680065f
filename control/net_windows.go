package control

import (
	"errors"

	"golang.org/x/sys/windows"
)

// noUnixSockets reports whether err says the system has no Unix sockets: Windows before 10 1803 (Server
// 2016 among them) answers WSAEAFNOSUPPORT, some builds WSAEINVAL.
func noUnixSockets(err error) bool {
	return errors.Is(err, windows.WSAEAFNOSUPPORT) || errors.Is(err, windows.WSAEINVAL)
}
