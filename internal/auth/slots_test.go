package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
