package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// A SQLite database file has a lock file beside it, <file>.lock. Every
// store Open makes on the file holds a shared lock on it (flock) until
// Close, so any number of quill processes (a server, quill backup, quill
// user …) use the database at once, while Restore, which takes the lock
// exclusively, can tell that none does. The kernel releases the lock of a
// process that ends, even by a crash, so a lock is never stale; the file
// itself stays, empty, and is never deleted (deleting it while a process
// holds its lock would let a restore through).

// errLocked means a lock is held by another open file.
var errLocked = errors.New("locked by another process")

// lockWait bounds how long Open waits for a restore to release the lock.
const lockWait = busyTimeout

// lockPath is the lock file of the database file path.
func lockPath(path string) string { return path + ".lock" }

// openLock opens the lock file at path, creating it if need be, and locks
// it without waiting: shared or exclusive. The file is empty, so it may be
// readable by all; opened for reading only, one that root created (a
// command run as root) does not keep quill's own user from locking it.
func openLock(path string, exclusive bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := flock(f, exclusive); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// shareDatabase takes the shared lock of the database file path. While a
// restore holds the lock exclusively it waits, for lockWait at the most.
func shareDatabase(ctx context.Context, path string) (*os.File, error) {
	deadline := time.Now().Add(lockWait)
	for {
		f, err := openLock(lockPath(path), false)
		if !errors.Is(err, errLocked) {
			return f, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s is being replaced by quill restore (it holds %s): start again when the restore is over", path, lockPath(path))
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
