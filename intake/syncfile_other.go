//go:build !windows

package intake

import "os"

// syncFile makes the file's data, or the folder's entries, durable: fsync on a descriptor opened for
// reading, which Unix allows for both.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
