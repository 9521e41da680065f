//go:build !windows

package main

import "context"

// serviceCommand: services are Windows's; elsewhere the system's service manager runs `briefd run`.
func serviceCommand(context.Context, *env, string, string, string) error {
	return usagef("briefd service is for Windows; on Linux run `briefd run` under systemd (deploy/briefd.service, see README)")
}
