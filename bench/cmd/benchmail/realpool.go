package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// realPool is the real-world PDFs the second backlog draws from: the files of a corpus folder that
// poppler opens (its poppler.tsv says so) and that are at least minSize bytes: what Word, WPS and
// scanners write (object streams, thousands of objects, embedded fonts), unlike the generator's files.
type realPool struct {
	dir   string
	files [][]byte
	names []string
	bytes int64
}

// loadRealPool reads the pool from dir. poppler.tsv lines are "file<TAB>opens(1/0)<TAB>pages"; "#"
// starts a comment. A missing folder or list is an error that says how to point the bench at it.
func loadRealPool(dir string, minSize int64) (*realPool, error) {
	list := filepath.Join(dir, "poppler.tsv")
	fh, err := os.Open(list)
	if err != nil {
		return nil, fmt.Errorf("real-world pool: %w (give the corpus folder with -corpus, or -corpus '' to skip the real-world backlog)", err)
	}
	defer fh.Close()
	p := &realPool{dir: dir}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 || f[1] != "1" {
			continue
		}
		path := filepath.Join(dir, f[0])
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("real-world pool: %s lists %s: %w", list, f[0], err)
		}
		if fi.Size() < minSize {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("real-world pool: %w", err)
		}
		p.files = append(p.files, data)
		p.names = append(p.names, f[0])
		p.bytes += fi.Size()
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("real-world pool: read %s: %w", list, err)
	}
	if len(p.files) == 0 {
		return nil, errors.New("real-world pool: no file of " + list + " that poppler opens is large enough")
	}
	return p, nil
}
