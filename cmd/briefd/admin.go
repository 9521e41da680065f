package main

import (
	"context"
	"errors"
	"fmt"

	"briefd/store"
)

// cmdBackup implements `briefd backup FILE`: a consistent copy of the database. When the daemon holds the
// file (bbolt allows one process), the daemon makes the copy and sends it over its backup socket.
func cmdBackup(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "backup", "backup [-config PATH] FILE")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usagef("need the file to write the copy to")
	}
	var n int64
	a, err := openApp(e, *cfgFlag, false)
	switch {
	case errors.Is(err, store.ErrInUse):
		cfg, cerr := loadConfig(configPath(*cfgFlag, e.getenv), e.getenv, false)
		if cerr != nil {
			return cerr
		}
		if n, err = store.BackupFromDaemon(cfg.Store.Path, fs.Arg(0)); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		defer a.close()
		if n, err = a.st.BackupFile(fs.Arg(0)); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "wrote %s (%d bytes)\n", fs.Arg(0), n)
	return nil
}
