// Package atomicfile writes files so that a crash or a failed write never
// leaves a partial file: model files, training checkpoints and reports all
// go through it.
package atomicfile

import (
	"os"
	"path/filepath"
)

// WriteFile writes data to path with permissions perm: the bytes go to a
// temporary file in the same directory, which is synced, closed and renamed
// over path, and then the directory is synced so the rename is durable.
// Readers see the old content or the new, never a mix, and on any error the
// temporary file is removed and the old file is left as it was.
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	// CreateTemp makes the file 0600 whatever the umask.
	if perm != 0o600 {
		if err = f.Chmod(perm); err != nil {
			return err
		}
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Not every system can sync a directory; the file is in place either way.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
