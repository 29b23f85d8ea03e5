package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/testclock"
)

// testDelay makes the third and later failures wait n seconds.
func testDelay(n int) time.Duration {
	if n < 3 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// noDelay never makes an attempt wait.
func noDelay(int) time.Duration { return 0 }

// loginFailures reads the failures counted for key and when the last one
// was: 0 and the zero Time if there are none.
func loginFailures(tb testing.TB, s *Store, key string) (failures int, last time.Time) {
	tb.Helper()
	var at int64
	err := s.read.QueryRowContext(context.Background(),
		`SELECT failures, last_failure_at FROM login_failures WHERE key = $1`, key).Scan(&failures, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}
	}
	if err != nil {
		tb.Fatalf("select login failures: %v", err)
	}
	return failures, fromMicros(at)
}

func TestClaimLoginAttempt(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		const key = "alice"
		claim := func(want time.Duration) {
			t.Helper()
			got, err := s.ClaimLoginAttempt(ctx, clock.Now(), testDelay, key)
			if err != nil || got != want {
				t.Fatalf("ClaimLoginAttempt() at +%v = %v, %v, want %v, nil", clock.Now().Sub(testclock.Epoch), got, err, want)
			}
		}
		failures := func(want int) {
			t.Helper()
			if n, _ := loginFailures(t, s, key); n != want {
				t.Fatalf("failures counted = %d, want %d", n, want)
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

		if _, err := s.ClaimLoginAttempt(ctx, clock.Now(), testDelay, "bob"); err != nil {
			t.Fatal(err)
		}
		write(t, s, func(tx *Tx) error { return tx.ClearLoginFailures(ctx, key, "alice@example.com") })
		failures(0)
		claim(0)
		failures(1)
		if n, _ := loginFailures(t, s, "bob"); n != 1 {
			t.Errorf("bob's failures after clearing alice's = %d, want 1", n)
		}
		write(t, s, func(tx *Tx) error { return tx.ClearLoginFailures(ctx) }) // no keys: nothing to do
	})
}

// TestClaimLoginAttemptKeys checks an attempt that names an account two
// ways: it waits while either key must, for the longer wait, and then
// counts on neither; otherwise it counts on both.
func TestClaimLoginAttemptKeys(t *testing.T) {
	const email, name = "alice@example.com", "alice"
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		steps := []struct {
			name      string
			advance   time.Duration // before the claim
			keys      []string
			wantWait  time.Duration
			wantEmail int // failures counted on each key afterwards
			wantName  int
		}{
			{name: "email", keys: []string{email}, wantEmail: 1},
			{name: "email again", keys: []string{email}, wantEmail: 2},
			{name: "email's third: it waits 3 s", keys: []string{email}, wantEmail: 3},
			{name: "both while email waits: nothing counted", keys: []string{email, name}, wantWait: 3 * time.Second, wantEmail: 3},
			{name: "name", advance: time.Second, keys: []string{name}, wantEmail: 3, wantName: 1},
			{name: "name again", keys: []string{name}, wantEmail: 3, wantName: 2},
			{name: "name's third: it waits 3 s", keys: []string{name}, wantEmail: 3, wantName: 3},
			{name: "both waiting: the longer wait", keys: []string{email, name}, wantWait: 3 * time.Second, wantEmail: 3, wantName: 3},
			{name: "both waiting, the other way round", keys: []string{name, email}, wantWait: 3 * time.Second, wantEmail: 3, wantName: 3},
			{name: "email free, name waiting", advance: 2 * time.Second, keys: []string{email, name}, wantWait: time.Second, wantEmail: 3, wantName: 3},
			{name: "both free: both counted", advance: time.Second, keys: []string{email, name}, wantEmail: 4, wantName: 4},
			{name: "both waiting 4 s", keys: []string{email, name}, wantWait: 4 * time.Second, wantEmail: 4, wantName: 4},
		}
		for _, st := range steps {
			now := clock.Advance(st.advance)
			wait, err := s.ClaimLoginAttempt(ctx, now, testDelay, st.keys...)
			if err != nil || wait != st.wantWait {
				t.Fatalf("%s: ClaimLoginAttempt(%q) = %v, %v, want %v, nil", st.name, st.keys, wait, err, st.wantWait)
			}
			gotEmail, _ := loginFailures(t, s, email)
			gotName, _ := loginFailures(t, s, name)
			if gotEmail != st.wantEmail || gotName != st.wantName {
				t.Fatalf("%s: failures counted = %d on email, %d on name; want %d, %d",
					st.name, gotEmail, gotName, st.wantEmail, st.wantName)
			}
		}
	})
}

// TestClaimLoginAttemptConcurrent checks that attempts arriving together
// cannot all pass: exactly as many are let through as the delay allows,
// and each key counts exactly the attempts that passed naming it.
func TestClaimLoginAttemptConcurrent(t *testing.T) {
	const email, name = "alice@example.com", "alice"
	tests := []struct {
		name string
		keys func(i int) []string // attempt i's
	}{
		{name: "one key", keys: func(int) []string { return []string{email} }},
		{name: "two keys, or one", keys: func(i int) []string {
			if i%2 == 0 {
				return []string{email, name}
			}
			return []string{email}
		}},
	}
	forEachDB(t, func(t *testing.T, db testDB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				s, clock := newTestStore(t, db)
				openWriters(t, s)
				now := clock.Now()
				const n = 20
				var (
					mu         sync.Mutex
					passed     int
					passedName int // the passed attempts that named name
				)
				together(n, func(i int) {
					keys := tt.keys(i)
					wait, err := s.ClaimLoginAttempt(ctx, now, testDelay, keys...)
					if err != nil {
						t.Errorf("ClaimLoginAttempt(%q) = %v", keys, err)
						return
					}
					if wait > 0 {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					passed++
					if len(keys) == 2 {
						passedName++
					}
				})
				if passed != 3 {
					t.Errorf("%d of %d simultaneous attempts passed, want 3", passed, n)
				}
				gotEmail, _ := loginFailures(t, s, email)
				gotName, _ := loginFailures(t, s, name)
				if gotEmail != passed || gotName != passedName {
					t.Errorf("failures counted = %d on email, %d on name; want %d, %d (the attempts that passed)",
						gotEmail, gotName, passed, passedName)
				}
			})
		}
	})
}

// TestDeleteStaleLoginFailures checks what ClaimLoginAttempt records of
// each failure, that ClearLoginFailures forgets it, and that stale counts
// are deleted.
func TestDeleteStaleLoginFailures(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		const key = "alice@example.com"
		claim := func(key string, at time.Time) {
			t.Helper()
			if _, err := s.ClaimLoginAttempt(ctx, at, noDelay, key); err != nil {
				t.Fatalf("ClaimLoginAttempt(%q) = %v", key, err)
			}
		}

		if n, last := loginFailures(t, s, key); n != 0 || !last.IsZero() {
			t.Errorf("failures before any = %d, last %v; want 0, zero time", n, last)
		}
		for range 3 {
			claim(key, clock.Advance(time.Second))
		}
		aliceLast := clock.Now()
		claim("bob", clock.Advance(time.Hour))
		if n, last := loginFailures(t, s, key); n != 3 || !last.Equal(aliceLast) {
			t.Errorf("failures = %d, last %v; want 3, %v", n, last, aliceLast)
		}

		write(t, s, func(tx *Tx) error { return tx.ClearLoginFailures(ctx, key) })
		if n, _ := loginFailures(t, s, key); n != 0 {
			t.Errorf("failures after clearing = %d, want 0", n)
		}
		claim(key, clock.Advance(time.Hour))
		if n, _ := loginFailures(t, s, key); n != 1 {
			t.Errorf("failures after clearing and one more = %d, want 1", n)
		}

		// Stale counts go; bob's last failure was an hour before alice's.
		deleted, err := s.DeleteStaleLoginFailures(ctx, clock.Now().Add(-time.Minute))
		if err != nil || deleted != 1 {
			t.Errorf("DeleteStaleLoginFailures() = %d, %v, want 1, nil", deleted, err)
		}
		if n, _ := loginFailures(t, s, "bob"); n != 0 {
			t.Errorf("bob's failures after pruning = %d, want 0", n)
		}
		if n, _ := loginFailures(t, s, key); n != 1 {
			t.Errorf("alice's failures after pruning = %d, want 1", n)
		}
	})
}
