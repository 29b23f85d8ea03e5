package auth

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/argon2"
)

// slotWait is one call of an ObserveSlots function.
type slotWait struct {
	waited time.Duration
	busy   bool
}

// slotWaits records what a Hasher reports to ObserveSlots.
type slotWaits struct {
	mu    sync.Mutex
	waits []slotWait
}

func (s *slotWaits) observe(waited time.Duration, busy bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, slotWait{waited, busy})
}

func (s *slotWaits) get() []slotWait {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]slotWait(nil), s.waits...)
}

func observedHasher(slots int, wait time.Duration) (*Hasher, *slotWaits) {
	h := NewHasher(tiny, slots, wait, nil)
	var w slotWaits
	h.ObserveSlots(w.observe)
	return h, &w
}

func TestObserveSlots(t *testing.T) {
	ctx := t.Context()
	t.Run("a free slot is no wait", func(t *testing.T) {
		h, w := observedHasher(1, time.Hour)
		encoded, err := h.Hash(ctx, "password")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := h.Verify(ctx, "password", encoded); err != nil {
			t.Fatal(err)
		}
		want := []slotWait{{0, false}, {0, false}}
		if diff := cmp.Diff(want, w.get(), cmp.AllowUnexported(slotWait{})); diff != "" {
			t.Errorf("waits (-want +got):\n%s", diff)
		}
	})
	t.Run("busy without waiting", func(t *testing.T) {
		h, w := observedHasher(1, 0)
		holdSlots(t, h)
		if _, err := h.Hash(ctx, "password"); !errors.Is(err, ErrBusy) {
			t.Fatalf("Hash with every slot held = %v, want ErrBusy", err)
		}
		want := []slotWait{{0, true}}
		if diff := cmp.Diff(want, w.get(), cmp.AllowUnexported(slotWait{})); diff != "" {
			t.Errorf("waits (-want +got):\n%s", diff)
		}
	})
	t.Run("busy after the wait", func(t *testing.T) {
		const wait = time.Millisecond
		h, w := observedHasher(1, wait)
		holdSlots(t, h)
		if _, _, err := h.VerifyLogin(ctx, "password", ""); !errors.Is(err, ErrBusy) {
			t.Fatalf("VerifyLogin with every slot held = %v, want ErrBusy", err)
		}
		got := w.get()
		// The timer fires no sooner than wait, so the wait reported is at
		// least that.
		if len(got) != 1 || !got[0].busy || got[0].waited < wait {
			t.Errorf("waits = %+v, want one busy wait of at least %v", got, wait)
		}
	})
	t.Run("a slot freed while waiting", func(t *testing.T) {
		h, w := observedHasher(1, time.Hour)
		h.slots <- struct{}{}
		done := make(chan error)
		go func() {
			_, err := h.Hash(ctx, "password")
			done <- err
		}()
		<-h.slots
		if err := <-done; err != nil {
			t.Fatalf("Hash after a slot was freed = %v", err)
		}
		if got := w.get(); len(got) != 1 || got[0].busy {
			t.Errorf("waits = %+v, want one that got its slot", got)
		}
	})
	t.Run("a cancelled wait is not reported", func(t *testing.T) {
		h, w := observedHasher(1, time.Hour)
		holdSlots(t, h)
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() {
			_, err := h.Hash(cctx, "password")
			done <- err
		}()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Hash cancelled while waiting = %v, want context.Canceled", err)
		}
		if _, err := h.Hash(cctx, "password"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Hash(cancelled ctx) = %v, want context.Canceled", err)
		}
		if got := w.get(); len(got) != 0 {
			t.Errorf("waits = %+v, want none", got)
		}
	})
}

// TestMemoryPool checks that hashes reuse the slots' working memory, that
// the pool keeps no more than the slots use at once, and that it frees the
// memory once no hash has run for a while.
func TestMemoryPool(t *testing.T) {
	ctx := t.Context()
	h := NewHasher(tiny, 2, time.Second, nil)
	// Long enough that no trim comes while the test counts.
	h.memory.idle = time.Hour
	first := h.memory.get()
	if got := first.KiB(); got != tiny.Memory {
		t.Fatalf("memory of %d KiB, want the parameters' %d", got, tiny.Memory)
	}
	h.memory.put(first)
	if again := h.memory.get(); again != first {
		t.Fatal("get after put returned new memory, want the memory put back")
	} else {
		h.memory.put(again)
	}

	// Hashes and verifications, two at a time, leave at most two behind.
	encoded, err := h.Hash(ctx, "password")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if ok, _, err := h.Verify(ctx, "password", encoded); !ok || err != nil {
				t.Errorf("Verify = %t, %v, want true, nil", ok, err)
			}
		})
	}
	wg.Wait()
	kept := func() []*argon2.Memory {
		h.memory.mu.Lock()
		defer h.memory.mu.Unlock()
		return slices.Clone(h.memory.kept)
	}
	idle := kept()
	if n := len(idle); n < 1 || n > 2 {
		t.Fatalf("pool keeps %d memories after hashes two at a time, want 1 or 2", n)
	}

	// A trim before the pool has been idle long enough keeps them.
	h.memory.trim()
	if n := len(kept()); n != len(idle) {
		t.Fatalf("pool keeps %d memories after an early trim, want %d", n, len(idle))
	}

	// Idle long enough, it lets them go, and a later hash gets new memory.
	h.memory.mu.Lock()
	h.memory.lastPut = time.Now().Add(-2 * time.Hour)
	h.memory.mu.Unlock()
	h.memory.trim()
	if n := len(kept()); n != 0 {
		t.Fatalf("pool keeps %d memories after it was idle, want none", n)
	}
	for _, m := range idle {
		if m.KiB() != 0 {
			t.Errorf("memory let go still holds %d KiB", m.KiB())
		}
	}
	if ok, _, err := h.Verify(ctx, "password", encoded); !ok || err != nil {
		t.Errorf("Verify after the pool was emptied = %t, %v, want true, nil", ok, err)
	}
	if n := len(kept()); n != 1 {
		t.Errorf("pool keeps %d memories after one more hash, want 1", n)
	}
}

// TestMemoryPoolTrimsItself checks that the pool's own timer frees the
// memory of an idle pool.
func TestMemoryPoolTrimsItself(t *testing.T) {
	h := NewHasher(tiny, 1, time.Second, nil)
	h.memory.idle = time.Millisecond
	m := h.memory.get()
	h.memory.put(m)
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.memory.mu.Lock()
		n := len(h.memory.kept)
		h.memory.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pool still keeps its memory long after it became idle")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
