//go:build !unix

package sqlstore

import (
	"errors"
	"io/fs"
	"os"
)

// flock is a no-op for shared locks where flock(2) does not exist, and
// refuses exclusive ones: without locks, quill restore could not tell
// whether a server has the database open.
func flock(f *os.File, exclusive bool) error {
	if exclusive {
		return errors.ErrUnsupported
	}
	return nil
}

// copyOwner does nothing where files have no Unix owners.
func copyOwner(path string, like fs.FileInfo) error { return nil }
