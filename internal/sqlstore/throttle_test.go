package sqlstore

import (
	"context"
	"sync"
	"testing"
	"time"
)

// testDelay makes the third and later failures wait n seconds.
func testDelay(n int) time.Duration {
	if n < 3 {
		return 0
	}
	return time.Duration(n) * time.Second
}

func TestClaimLoginAttempt(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		const key = "alice"
		claim := func(want time.Duration) {
			t.Helper()
			got, err := s.ClaimLoginAttempt(ctx, key, clock.Now(), testDelay)
			if err != nil || got != want {
				t.Fatalf("ClaimLoginAttempt() at +%v = %v, %v, want %v, nil", clock.Now().Sub(newTestClock().Now()), got, err, want)
			}
		}
		failures := func(want int) {
			t.Helper()
			if n, _, err := s.LoginFailures(ctx, key); err != nil || n != want {
				t.Fatalf("LoginFailures() = %d, %v, want %d", n, err, want)
			}
		}

		claim(0)
		claim(0)
		claim(0) // the third: the next must wait 3 s
		failures(3)
		claim(3 * time.Second)
		clock.Advance(time.Second)
		claim(2 * time.Second)
		failures(3) // turned-away attempts are not counted
		clock.Advance(2 * time.Second)
		claim(0) // the fourth: wait 4 s
		claim(4 * time.Second)
		failures(4)

		if _, err := s.ClaimLoginAttempt(ctx, "bob", clock.Now(), testDelay); err != nil {
			t.Fatal(err)
		}
		if err := s.ClearLoginFailures(ctx, key, "alice@example.com"); err != nil {
			t.Fatalf("ClearLoginFailures() = %v", err)
		}
		failures(0)
		claim(0)
		failures(1)
		if n, _, _ := s.LoginFailures(ctx, "bob"); n != 1 {
			t.Errorf("LoginFailures(bob) after clearing alice = %d, want 1", n)
		}
		if err := s.ClearLoginFailures(ctx); err != nil {
			t.Errorf("ClearLoginFailures() of no keys = %v", err)
		}
	})
}

// TestClaimLoginAttemptConcurrent checks that attempts arriving together
// cannot all pass: exactly as many are let through as the delay allows.
func TestClaimLoginAttemptConcurrent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		passed := 0
		for range 20 {
			wg.Go(func() {
				wait, err := s.ClaimLoginAttempt(ctx, "alice", now, testDelay)
				if err != nil {
					t.Errorf("ClaimLoginAttempt() = %v", err)
					return
				}
				if wait == 0 {
					mu.Lock()
					passed++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if passed != 3 {
			t.Errorf("%d of 20 simultaneous attempts passed, want 3", passed)
		}
	})
}
