//go:build unix && !race

package argon2

import (
	"bytes"
	"runtime"
	"testing"
	"time"
)

// The package's tests free every Memory they make, so that the count of
// mapped blocks changes only with what each test does.

// TestMemoryIsMapped checks that Memory lies outside the Go heap and is
// unmapped once it is garbage.
func TestMemoryIsMapped(t *testing.T) {
	const kib = 64 * 1024
	before := mapped.Load()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	heap := stats.HeapAlloc

	m := NewMemory(kib)
	m.IDKey([]byte("password"), []byte("somesalt"), 1, kib, 1, 32)
	if got := mapped.Load() - before; got != kib {
		t.Fatalf("%d more blocks mapped after a Memory of %d KiB was made, want %d", got, kib, kib)
	}
	runtime.ReadMemStats(&stats)
	if grown := int64(stats.HeapAlloc) - int64(heap); grown > kib*1024/8 {
		t.Errorf("the Go heap grew by %d bytes for a Memory of %d KiB mapped outside it", grown, kib)
	}
	runtime.KeepAlive(m)

	// Cleanups run on their own goroutine after a collection.
	m = nil
	deadline := time.Now().Add(10 * time.Second)
	for mapped.Load() != before {
		if time.Now().After(deadline) {
			t.Fatalf("%d blocks still mapped after the Memory became garbage", mapped.Load()-before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFree checks that Free unmaps at once and leaves a Memory that still
// derives the right keys, in memory of their own that is unmapped when
// they are done.
func TestFree(t *testing.T) {
	m := NewMemory(1024)
	before := mapped.Load()
	m.Free()
	if got := before - mapped.Load(); got != 1024 {
		t.Fatalf("%d blocks unmapped by Free of 1024 KiB, want 1024", got)
	}
	if m.KiB() != 0 {
		t.Errorf("KiB() after Free = %d, want 0", m.KiB())
	}
	s := shape{password: []byte("password"), salt: []byte("somesalt"), time: 1, memory: 1024, threads: 1, keyLen: 32}
	if got, want := s.got(m, true), s.want(true); !bytes.Equal(got, want) {
		t.Errorf("key after Free %x, x/crypto %x", got, want)
	}
	if got := before - mapped.Load(); got != 1024 {
		t.Errorf("%d blocks still mapped after a computation in memory of its own", 1024-got)
	}
	m.Free() // twice is harmless
}

// TestTooLittleMemory checks that a computation Memory is too small for
// runs outside the Go heap too, and gives its memory back when done.
func TestTooLittleMemory(t *testing.T) {
	const kib = 32 * 1024
	small := NewMemory(8)
	defer small.Free()
	before := mapped.Load()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	allocated := stats.TotalAlloc
	small.IDKey([]byte("password"), []byte("somesalt"), 1, kib, 1, 32)
	runtime.ReadMemStats(&stats)
	if grown := stats.TotalAlloc - allocated; grown > kib*1024/8 {
		t.Errorf("the Go heap was given %d bytes for a computation of %d KiB", grown, kib)
	}
	if got := mapped.Load() - before; got != 0 {
		t.Errorf("%d blocks left mapped by a computation in memory of its own", got)
	}
}
