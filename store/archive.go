package store

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Archive is the folder of accepted PDFs and raw mails:
// <root>/<campaign>/<period>/<unit name>_<receipt>_<n>.pdf and <root>/raw/<year>/<receipt>.eml.
// Folders are 0700 and files 0600: they hold other people's documents.
type Archive struct{ Root string }

// maxNameBytes caps one path element; most file systems allow 255.
const maxNameBytes = 180

// SafeName turns any string into one harmless path element: no separators, no "..", no control or
// format characters (RTL overrides), no characters Windows refuses, at most maxNameBytes bytes of UTF-8.
// The original name is kept in the receipt; this is only for the file system.
func SafeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			continue
		case strings.ContainsRune(`/\:*?"<>|`, r), unicode.IsSpace(r):
			b.WriteRune('_')
		default:
			b.WriteRune(r)
		}
	}
	out := strings.Trim(b.String(), "._ ")
	for strings.Contains(out, "..") {
		out = strings.ReplaceAll(out, "..", ".")
	}
	if base, _, _ := strings.Cut(out, "."); windowsDevice(base) {
		out = "_" + out // "con.pdf" cannot be created on Windows, nor copied there from a backup
	}
	if len(out) > maxNameBytes {
		cut := maxNameBytes
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = strings.TrimRight(out[:cut], "._ ") // Windows drops a trailing dot or space
	}
	if out == "" {
		out = "_"
	}
	return out
}

// windowsDevice reports whether name is a device name Windows reserves in every folder: CON, PRN, AUX, NUL,
// CONIN$, CONOUT$, COM0-9 and LPT0-9, the digit also as ¹ ² ³ (Windows takes them for digits).
func windowsDevice(name string) bool {
	switch strings.ToUpper(name) {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(name) < 4 || !(strings.EqualFold(name[:3], "COM") || strings.EqualFold(name[:3], "LPT")) {
		return false
	}
	switch name[3:] {
	case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
		return true
	}
	return false
}

// PDFPath is where an accepted PDF is kept, relative to the root.
func (a Archive) PDFPath(campaign, period, unitName, receipt string, n int) string {
	if campaign == "" {
		campaign = "unassigned"
	}
	if period == "" {
		period = "none"
	}
	name := fmt.Sprintf("%s_%s_%d.pdf", SafeName(unitName), SafeName(receipt), n)
	return path.Join(SafeName(campaign), SafeName(period), name) // "/" on every OS: a database moves between them
}

// RawPath is where a raw message is kept, relative to the root.
func (a Archive) RawPath(year int, receipt string) string {
	return path.Join("raw", fmt.Sprint(year), SafeName(receipt)+".eml")
}

// Save copies the file src to rel under the root atomically.
func (a Archive) Save(rel, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer in.Close()
	full, err := a.full(rel)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	return WriteFileAtomic(full, 0o600, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

// Open opens an archived file by its relative path, refusing anything outside the root.
func (a Archive) Open(rel string) (*os.File, error) {
	full, err := a.full(rel)
	if err != nil {
		return nil, err
	}
	return os.Open(full)
}

func (a Archive) full(rel string) (string, error) {
	if rel == "" || filepath.IsAbs(rel) || !filepath.IsLocal(rel) || filepath.Clean(rel) == "." {
		return "", fmt.Errorf("archive: %q is not a path inside the archive", rel)
	}
	return filepath.Join(a.Root, rel), nil
}

// WriteFileAtomic writes path through fill: a temp file in the same folder, fsynced, then renamed over
// path, and the folder fsynced. A crash leaves either the old file or the new one, never half of one.
func WriteFileAtomic(path string, perm os.FileMode, fill func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := fill(f); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Adopt moves the file src (on the same file system, e.g. a staging folder inside the root) to rel.
func (a Archive) Adopt(src, rel string) error {
	full, err := a.full(rel)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	if err := os.Rename(src, full); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	return nil
}
