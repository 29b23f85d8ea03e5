package app

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSearchSlots checks that searches beyond the slots are turned away
// when none frees up in time or their context ends, and get a slot that
// another releases while they wait.
func TestSearchSlots(t *testing.T) {
	ctx := context.Background()
	s := newSearchSlots(2, time.Millisecond)
	for i := range 2 {
		if err := s.acquire(ctx); err != nil {
			t.Fatalf("acquire() %d of 2 = %v", i+1, err)
		}
	}
	if err := s.acquire(ctx); !errors.Is(err, ErrSearchBusy) {
		t.Fatalf("acquire() with every slot taken = %v, want ErrSearchBusy", err)
	}
	s.release()
	if err := s.acquire(ctx); err != nil {
		t.Fatalf("acquire() after a release = %v", err)
	}
	s.release()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.acquire(cancelled); !errors.Is(err, ErrSearchBusy) {
		t.Errorf("acquire() with a cancelled context = %v, want ErrSearchBusy", err)
	}

	waiting := newSearchSlots(1, time.Minute)
	if err := waiting.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan error)
	go func() { got <- waiting.acquire(ctx) }()
	waiting.release()
	if err := <-got; err != nil {
		t.Errorf("acquire() waiting for a slot that is released = %v", err)
	}
	if n := defaultSearchSlots(); n < 2 {
		t.Errorf("defaultSearchSlots() = %d, want at least 2", n)
	}
}
