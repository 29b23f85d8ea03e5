//go:build unix

package sqlstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// flock takes an advisory lock (flock(2)) on f without waiting: shared or
// exclusive. It returns errLocked when another open file holds a lock that
// conflicts. The kernel drops the lock when f is closed or its process
// ends, however it ends, so a crashed process never leaves one behind.
func flock(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return errLocked
		default:
			return fmt.Errorf("lock %s: %w", f.Name(), err)
		}
	}
}

// copyOwner gives the file path the owner and group of like, when this
// process runs as root; otherwise it can only be its own, and nothing is
// done.
func copyOwner(path string, like fs.FileInfo) error {
	st, ok := like.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		return nil
	}
	return os.Chown(path, int(st.Uid), int(st.Gid))
}
