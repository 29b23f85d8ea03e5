package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/picture"
)

// TestMemoryBudget checks the picture budget shares its bytes, turns a
// request away when they do not free up in time or its context ends, and
// refuses outright a share larger than the whole. The waits that must
// fail are a millisecond long, against a budget nobody releases; the one
// that must succeed is released before anyone waits.
func TestMemoryBudget(t *testing.T) {
	ctx := context.Background()
	b := newMemoryBudget(100, time.Millisecond)

	if err := b.acquire(ctx, 60); err != nil {
		t.Fatalf("acquire(60) of 100 = %v", err)
	}
	if err := b.acquire(ctx, 40); err != nil {
		t.Fatalf("acquire(40) with 40 left = %v", err)
	}
	if err := b.acquire(ctx, 1); !errors.Is(err, ErrPicturesBusy) {
		t.Fatalf("acquire(1) with none left = %v, want ErrPicturesBusy", err)
	}
	b.release(40)
	if err := b.acquire(ctx, 50); !errors.Is(err, ErrPicturesBusy) {
		t.Fatalf("acquire(50) with 40 left = %v, want ErrPicturesBusy", err)
	}
	if err := b.acquire(ctx, 40); err != nil {
		t.Fatalf("acquire(40) after release(40) = %v", err)
	}
	b.release(40)
	b.release(60)

	if err := b.acquire(ctx, 101); !errors.Is(err, picture.ErrTooCostly) {
		t.Errorf("acquire(101) of 100 = %v, want picture.ErrTooCostly", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.acquire(cancelled, 1); !errors.Is(err, ErrPicturesBusy) {
		t.Errorf("acquire with a cancelled context = %v, want ErrPicturesBusy", err)
	}
	if err := b.acquire(ctx, 100); err != nil {
		t.Errorf("acquire(100) of an unused budget = %v", err)
	}
}

// TestMemoryBudgetWaits checks a request waiting for its share gets it
// when another releases, within a wait far longer than needed.
func TestMemoryBudgetWaits(t *testing.T) {
	ctx := context.Background()
	b := newMemoryBudget(100, time.Minute)
	if err := b.acquire(ctx, 100); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() { got <- b.acquire(ctx, 30) }()
	b.release(100)
	if err := <-got; err != nil {
		t.Fatalf("acquire(30) waiting for a release = %v", err)
	}
	// A cancelled context ends a wait at once, however long it may be.
	waiting, cancel := context.WithCancel(ctx)
	go func() { got <- b.acquire(waiting, 80) }()
	cancel()
	if err := <-got; !errors.Is(err, ErrPicturesBusy) {
		t.Fatalf("acquire(80) with 70 left, cancelled = %v, want ErrPicturesBusy", err)
	}
}
