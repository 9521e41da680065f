package main

import (
	"context"
	"fmt"
)

// cmdBackup implements `briefd backup FILE`: a consistent copy while the daemon runs. It does not open the
// store itself when the daemon holds it: bbolt allows one process, so the copy is taken through a read
// transaction of this process when it can open the file, and otherwise the user is told to use the
// dashboard's backup or stop the daemon.
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
	n, err := a.st.BackupFile(fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s (%d bytes)\n", fs.Arg(0), n)
	return nil
}
