package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// bbolt lets one process open the file, so a backup taken while the daemon runs goes through the daemon:
// it serves consistent copies on a Unix socket beside the database, readable only by its owner.

// BackupSocket is the socket the daemon serves backups on.
func BackupSocket(dbPath string) string { return dbPath + ".sock" }

// ServeBackups serves a consistent copy of the database to every connection on the socket until ctx
// is done.
func (s *Store) ServeBackups(ctx context.Context) error {
	path := BackupSocket(s.Path())
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("store: backup socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("store: backup socket: %w", err)
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	defer os.Remove(path)
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("store: backup socket: %w", err)
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Minute))
			s.Backup(c)
		}()
	}
}

// BackupFromDaemon writes a copy of the database served by the running daemon to path atomically.
func BackupFromDaemon(dbPath, path string) (int64, error) {
	c, err := net.DialTimeout("unix", BackupSocket(dbPath), 5*time.Second)
	if err != nil {
		return 0, fmt.Errorf("the database is in use and the daemon's backup socket does not answer: %w", err)
	}
	defer c.Close()
	var n int64
	err = WriteFileAtomic(path, 0o600, func(w io.Writer) error {
		var err error
		n, err = io.Copy(w, c)
		if err == nil && n == 0 {
			err = errors.New("the daemon sent nothing")
		}
		return err
	})
	return n, err
}
