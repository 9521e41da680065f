package intake

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// CleanSpool removes what a crash left in the spool folder: raw messages the watcher was fetching
// (imap-*.eml) and the part folders of messages being parsed (parts-*). Those messages were not recorded
// and are fetched again. Call it only while no watcher or pipeline uses the folder (at start, holding the
// store), and only on a folder of briefd's own: it reports how many entries it removed.
func CleanSpool(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !(strings.HasPrefix(name, "imap-") && strings.HasSuffix(name, ".eml")) && !strings.HasPrefix(name, "parts-") {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
