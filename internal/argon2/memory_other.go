//go:build !unix

package argon2

// mapBlocks reports false: without mmap, Memory lives in the Go heap.
func mapBlocks(n int) ([]block, func(), bool) { return nil, nil, false }
