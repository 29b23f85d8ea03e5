//go:build unix && !race

package argon2

import (
	"sync/atomic"
	"syscall"
	"unsafe"
)

// mapped counts the blocks mapped and not yet unmapped, for the tests.
var mapped atomic.Int64

// mapBlocks maps n blocks of anonymous memory outside the Go heap, so that
// the collector neither scans them (they hold no pointers) nor counts them
// towards the heap it lets grow before collecting: a heap holding two
// 64 MiB hashes would otherwise be allowed to reach twice that in
// garbage. It reports false when the system refuses the mapping.
func mapBlocks(n int) ([]block, func(), bool) {
	raw, err := syscall.Mmap(-1, 0, n*blockLength*8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, nil, false
	}
	mapped.Add(int64(n))
	unmap := func() {
		if syscall.Munmap(raw) == nil {
			mapped.Add(-int64(n))
		}
	}
	return unsafe.Slice((*block)(unsafe.Pointer(&raw[0])), n), unmap, true
}
