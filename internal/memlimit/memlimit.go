// Package memlimit keeps the Go runtime's soft memory limit at what quill
// needs now: a base for everything else, plus the memory of each password
// hash and picture decode while it runs. Argon2 allocates its memory afresh
// for every hash, and without a limit the collector lets the heap grow to
// twice what is live, so a flood of logins would take about twice the
// memory the hashes in flight need. With the limit the collector runs
// before that, and since the hashes' memory holds no pointers, collecting
// it costs little.
package memlimit

import (
	"math"
	"sync"
)

// Limit is a soft memory limit made of a base and reservations. It is safe
// for concurrent use.
type Limit struct {
	mu       sync.Mutex
	base     int64
	reserved int64
	set      func(int64) int64 // debug.SetMemoryLimit, or a test's
	previous int64
	closed   bool
}

// New returns a Limit of base bytes with nothing reserved, applied with
// set (runtime/debug.SetMemoryLimit) at once and after every change until
// Close, which puts back the limit there was.
func New(base int64, set func(int64) int64) *Limit {
	l := &Limit{base: base, set: set}
	l.previous = l.set(base)
	return l
}

// Close stops l changing the limit and puts back the one before New.
func (l *Limit) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		l.set(l.previous)
	}
}

// Reserve adds n bytes to the limit until release is called (once).
func (l *Limit) Reserve(n int64) (release func()) {
	l.mu.Lock()
	l.reserved += n
	l.apply()
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			l.reserved -= n
			l.apply()
			l.mu.Unlock()
		})
	}
}

func (l *Limit) apply() {
	if l.closed {
		return
	}
	total := l.base + l.reserved
	if total < l.base { // overflow
		total = math.MaxInt64
	}
	l.set(total)
}

// Current is the limit now, in bytes.
func (l *Limit) Current() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.base + l.reserved
}
