package intake

import "os"

// syncFile makes the file's data durable. Windows flushes only a handle opened for writing
// (FlushFileBuffers needs GENERIC_WRITE), and has nothing to flush for a folder: NTFS journals the
// folder's entries itself, and a folder cannot be opened for writing. So a folder is left alone.
func syncFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
