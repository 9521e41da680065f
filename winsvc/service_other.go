//go:build !windows

package winsvc

import (
	"context"
	"io"
)

// Install returns ErrNotWindows: services are Windows's; elsewhere the system's service manager (systemd)
// runs `briefd run`.
func Install(name, cfgPath string, load Loader, out, errOut io.Writer) error { return ErrNotWindows }

// Uninstall returns ErrNotWindows.
func Uninstall(name string, out io.Writer) error { return ErrNotWindows }

// Start returns ErrNotWindows.
func Start(name string, out io.Writer) error { return ErrNotWindows }

// Stop returns ErrNotWindows.
func Stop(name string, out io.Writer) error { return ErrNotWindows }

// Run returns ErrNotWindows.
func Run(name, cfgPath string, load Loader, daemon func(ctx context.Context, log io.Writer) int) error {
	return ErrNotWindows
}
