package main

import (
	"context"
	"fmt"

	"briefd/control"
)

// cmdBackup implements `briefd backup FILE`: a consistent copy of the database, written atomically. While
// the daemon runs, the command is forwarded to it and the copy streamed back (see control.go).
func cmdBackup(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "backup", "backup [-config PATH] FILE")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usagef("need the file to write the copy to")
	}
	a, err := openApp(e, *cfgFlag, false)
	if err != nil {
		return err
	}
	defer a.close()
	w, err := e.createFile(fs.Arg(0))
	if err != nil {
		return err
	}
	n, err := a.st.Backup(w)
	if err != nil {
		control.Abort(w)
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s (%d bytes)\n", fs.Arg(0), n)
	return nil
}
