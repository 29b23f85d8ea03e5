package auth

import (
	"context"
	"sync"
	"time"

	"github.com/quill-blog/quill/internal/argon2"
)

// ObserveSlots makes h call f after each wait for a hashing slot, with how
// long it waited (0 when a slot was free) and whether it was turned away
// with ErrBusy because none freed up in time. A wait that ends because its
// context did (the client went away) is not reported. f runs on the
// waiting goroutine, so it must be quick and safe for concurrent use.
//
// Call ObserveSlots before h is used; it is not safe to call concurrently
// with hashing.
func (h *Hasher) ObserveSlots(f func(waited time.Duration, busy bool)) {
	h.slotObserver = f
}

func (h *Hasher) observed(waited time.Duration, busy bool) {
	if h.slotObserver != nil {
		h.slotObserver(waited, busy)
	}
}

// acquireMemory takes a hashing slot, as acquire does, and the working
// memory of an Argon2 computation in it; releaseMemory gives both back.
func (h *Hasher) acquireMemory(ctx context.Context) (*argon2.Memory, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	return h.memory.get(), nil
}

func (h *Hasher) releaseMemory(m *argon2.Memory) {
	h.memory.put(m)
	h.release()
}

// memoryPool is the working memory of the hashing slots. A hash at the
// Hasher's parameters, or at smaller ones, runs in memory the previous one
// left, instead of memory allocated, zeroed and paged in afresh; a hash
// that needs more (an imported hash, or the dummy of a costlier profile)
// gets memory of its own, given back as soon as it is done. Memory is
// only taken with a slot (acquireMemory), so the pool never holds more
// than one per slot; once no hash has run for memoryIdle, it gives them
// back to the system.
type memoryPool struct {
	kib  uint32
	idle time.Duration

	mu       sync.Mutex
	kept     []*argon2.Memory
	lastPut  time.Time
	trimming bool // a trim is scheduled
}

// memoryIdle is how long the hashing slots keep their memory after the
// last hash.
const memoryIdle = time.Minute

// get returns memory of p.kib KiB for one hash; the caller holds a hashing
// slot and gives the memory back with put (see acquireMemory).
func (p *memoryPool) get() *argon2.Memory {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.kept); n > 0 {
		m := p.kept[n-1]
		p.kept = p.kept[:n-1]
		return m
	}
	return argon2.NewMemory(p.kib)
}

// put gives back memory get returned.
func (p *memoryPool) put(m *argon2.Memory) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.kept = append(p.kept, m)
	p.lastPut = time.Now()
	if !p.trimming {
		p.trimming = true
		time.AfterFunc(p.idle, p.trim)
	}
}

// trim frees the memory kept once none has been given back for p.idle,
// and otherwise looks again when that will be so.
func (p *memoryPool) trim() {
	p.mu.Lock()
	if wait := p.idle - time.Since(p.lastPut); wait > 0 {
		time.AfterFunc(wait, p.trim)
		p.mu.Unlock()
		return
	}
	idle := p.kept
	p.kept = nil
	p.trimming = false
	p.mu.Unlock()
	// Unmapped outside the lock: a hash starting meanwhile need not wait.
	for _, m := range idle {
		m.Free()
	}
}
