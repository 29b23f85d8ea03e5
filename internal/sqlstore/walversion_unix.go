//go:build unix

package sqlstore

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// walVersion reads which commit a SQLite database in WAL mode is at, from
// the wal-index header at the start of its -shm file (SQLite's file format
// documentation, "The WAL-Index Format"), mapped read-only. Every commit,
// by any connection of any process, rewrites the header; so while it reads
// the same, nothing has committed. Reading it takes no lock and no call into
// SQLite, which is what makes it cheap enough to check on every request.
//
// SQLite writes the header's two copies one after the other; a reader that
// finds them different has caught a commit halfway and must treat the
// database as changed, as SQLite's own readers do.
type walVersion struct {
	mu  sync.RWMutex // read holds it to read mem, close to unmap it
	f   *os.File     // kept open while mapped: closing any descriptor of the file would drop SQLite's POSIX locks on it
	mem []byte       // nil once closed
}

// walHeaderWords is the size of one copy of the header, in 32-bit words.
const walHeaderWords = 12

// version is a copy of the wal-index header: equal versions mean no commit
// between them.
type version [walHeaderWords]uint32

// openWALVersion maps the -shm file of the SQLite database at path. The
// database must be open in WAL mode, so that the file exists and is
// initialised.
func openWALVersion(path string) (*walVersion, error) {
	f, err := os.Open(path + "-shm")
	if err != nil {
		return nil, err
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, 2*walHeaderWords*4, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("map %s-shm: %w", path, err)
	}
	return &walVersion{f: f, mem: mem}, nil
}

// read returns the current version. ok is false while the header is being
// written or is not initialised: then nothing read before can be trusted.
func (w *walVersion) read() (v version, ok bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.mem == nil {
		return v, false
	}
	words := (*[2 * walHeaderWords]uint32)(unsafe.Pointer(&w.mem[0]))
	var second version
	for i := range walHeaderWords {
		v[i] = atomic.LoadUint32(&words[i])
	}
	for i := range walHeaderWords {
		second[i] = atomic.LoadUint32(&words[walHeaderWords+i])
	}
	// The header's isInit byte is the low byte of its fourth word on a
	// little-endian machine, the high byte on a big-endian one: either way,
	// 0 means the header was never written.
	return v, v == second && v[3] != 0
}

// close unmaps the file. Call it only after every connection to the
// database is closed.
func (w *walVersion) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mem == nil {
		return nil
	}
	err := syscall.Munmap(w.mem)
	w.mem = nil
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}
