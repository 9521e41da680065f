//go:build !unix

package pdfcheck

import (
	"errors"
	"runtime"
)

func mkfifo(string) error { return errors.New("no named pipes in the file system on " + runtime.GOOS) }
