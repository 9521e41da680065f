package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"briefd/config"
	"briefd/winsvc"
)

// `briefd service install|uninstall|start|stop` runs briefd as a Windows service; package winsvc sets it
// up and answers the service manager. `briefd service run` is what the service manager starts.

const serviceUsage = "service install|uninstall|start|stop [-name NAME] [-config PATH]"

// cmdService implements `briefd service ...`.
func cmdService(_ context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "usage: briefd "+serviceUsage)
		if len(args) == 0 {
			return usagef("name what to do: install, uninstall, start or stop")
		}
		return errHelp
	}
	verb := args[0]
	fs, cfgFlag := newFlags(e, "service "+verb, serviceUsage)
	name := fs.String("name", "briefd", "the service's name (another for a second office on the machine)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected %q", fs.Arg(0))
	}
	cfgPath := config.Path(*cfgFlag, e.getenv)
	load := func(path string) (winsvc.Settings, error) { return serviceSettings(path, e.getenv) }
	var err error
	switch verb {
	case "install":
		err = winsvc.Install(*name, cfgPath, load, e.stdout, e.stderr)
	case "uninstall":
		err = winsvc.Uninstall(*name, e.stdout)
	case "start":
		err = winsvc.Start(*name, e.stdout)
	case "stop":
		err = winsvc.Stop(*name, e.stdout)
	case "run":
		err = winsvc.Run(*name, cfgPath, load, func(ctx context.Context, log io.Writer) int {
			return runMain(ctx, &env{stdout: log, stderr: log, getenv: e.getenv}, []string{"run", "-config", cfgPath})
		})
	default:
		return usagef("unknown service command %q: install, uninstall, start or stop", verb)
	}
	switch {
	case errors.Is(err, winsvc.ErrNotWindows):
		return usagef("briefd service is for Windows; on Linux run `briefd run` under systemd (deploy/briefd.service, see README)")
	case errors.Is(err, winsvc.ErrNotService):
		return usagef("%v", err)
	}
	return err
}

// serviceSettings reads the config at path and gives winsvc what the service needs of it.
func serviceSettings(path string, getenv func(string) string) (winsvc.Settings, error) {
	cfg, err := config.Load(path, getenv, false)
	if err != nil {
		return winsvc.Settings{}, err
	}
	s := winsvc.Settings{DBPath: cfg.Store.Path, Archive: cfg.Store.Archive, Spool: cfg.Store.Spool}
	for _, p := range []struct {
		key string
		sec config.Secret
	}{{"imap", cfg.IMAP.Secret}, {"smtp", cfg.SMTP.Secret}} {
		if p.sec.PasswordFile == "" && p.sec.PasswordEnv != "" {
			s.EnvSecrets = append(s.EnvSecrets, winsvc.EnvSecret{Key: p.key, Env: p.sec.PasswordEnv})
		}
	}
	return s, nil
}
