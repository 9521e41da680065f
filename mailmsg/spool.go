package mailmsg

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
)

// This file writes each attachment to its own file in the spool folder while it is decoded, hashing and
// counting it on the way; one over ParseOptions.MaxAttachment is counted and hashed but not kept.

// spool copies a decoded attachment to a new file under spoolDir, hashing and counting as it goes.
func (p *parser) spool(r io.Reader, a Attachment, where string) error {
	f, err := os.CreateTemp(p.spoolDir, "att-*")
	if err != nil {
		return fmt.Errorf("mailmsg: spooling %s: %w", where, err)
	}
	a.Path = f.Name()
	if p.copyBuf == nil {
		p.copyBuf = make([]byte, 64<<10)
		p.spoolBuf = bufio.NewWriterSize(nil, 256<<10)
	}
	p.spoolBuf.Reset(f)
	w := &spoolWriter{f: f, bw: p.spoolBuf, h: sha256.New(), max: p.opts.MaxAttachment}
	_, cerr := io.CopyBuffer(w, r, p.copyBuf)
	ferr := w.close()
	var se *sourceError
	if cerr != nil && !errors.As(cerr, &se) && w.err == nil {
		p.problem("%s: reading attachment: %v", where, cerr)
		cerr = nil
	}
	if cerr == nil {
		cerr = w.err
	}
	if cerr == nil {
		cerr = ferr
	}
	if cerr != nil {
		os.Remove(a.Path)
		if errors.As(cerr, &se) {
			return fmt.Errorf("mailmsg: reading message: %w", se.err)
		}
		return fmt.Errorf("mailmsg: spooling %s: %w", where, cerr)
	}
	a.Size = w.n
	a.SHA256 = hex.EncodeToString(w.h.Sum(nil))
	if w.tooLarge {
		a.TooLarge = true
		a.Path = ""
	}
	p.msg.Attachments = append(p.msg.Attachments, a)
	return nil
}

// spoolWriter writes to the spool file until max is exceeded, then drops the file but keeps counting
// and hashing.
type spoolWriter struct {
	f        *os.File
	bw       *bufio.Writer // in front of f: decoded pieces are small, system calls are not cheap
	h        hash.Hash
	n        int64
	max      int64
	tooLarge bool
	err      error
}

func (w *spoolWriter) Write(b []byte) (int, error) {
	w.h.Write(b)
	w.n += int64(len(b))
	if w.tooLarge {
		return len(b), nil
	}
	if w.max > 0 && w.n > w.max {
		w.tooLarge = true
		name := w.f.Name()
		w.f.Close()
		w.f = nil
		os.Remove(name)
		return len(b), nil
	}
	if _, err := w.bw.Write(b); err != nil {
		w.err = err
		return 0, err
	}
	return len(b), nil
}

func (w *spoolWriter) close() error {
	if w.f == nil {
		return nil
	}
	if err := w.bw.Flush(); err != nil {
		w.f.Close()
		if w.err == nil {
			w.err = err
		}
		return err
	}
	if err := w.f.Close(); err != nil {
		return err
	}
	return nil
}
