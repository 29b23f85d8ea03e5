package sqlstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/blog"
)

// inWrite runs fn in a Write of its own and returns its error.
func inWrite(s *Store, fn func(ctx context.Context, tx *Tx) error) error {
	ctx := context.Background()
	return s.Write(ctx, func(tx *Tx) error { return fn(ctx, tx) })
}

func TestTOTPLifecycle(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now().UTC().Truncate(time.Microsecond)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")

		if got, err := s.TOTP(ctx, alice.ID); got != nil || err != nil {
			t.Fatalf("TOTP() before any = %+v, %v, want nil, nil", got, err)
		}
		start := func(u *blog.User, sealed string) error {
			return inWrite(s, func(ctx context.Context, tx *Tx) error { return tx.StartTOTP(ctx, u.ID, []byte(sealed), now) })
		}
		confirm := func(u *blog.User, sealed string, step int64) error {
			return inWrite(s, func(ctx context.Context, tx *Tx) error { return tx.ConfirmTOTP(ctx, u.ID, []byte(sealed), step, now) })
		}
		if err := confirm(alice, "one", 5); !errors.Is(err, blog.ErrTOTPNotStarted) {
			t.Errorf("ConfirmTOTP() with nothing started = %v, want %v", err, blog.ErrTOTPNotStarted)
		}
		if err := start(alice, "one"); err != nil {
			t.Fatalf("StartTOTP() = %v", err)
		}
		// Starting again replaces a pending factor.
		if err := start(alice, "two"); err != nil {
			t.Fatalf("StartTOTP() again = %v", err)
		}
		got, err := s.TOTP(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := &blog.TOTP{UserID: alice.ID, Sealed: []byte("two"), CreatedAt: now}
		if diff := cmp.Diff(want, got); diff != "" || got.Enabled() {
			t.Errorf("TOTP() pending mismatch (-want +got):\n%s", diff)
		}
		// A code checked against a replaced secret confirms nothing.
		if err := confirm(alice, "one", 5); !errors.Is(err, blog.ErrTOTPNotStarted) {
			t.Errorf("ConfirmTOTP(the replaced secret) = %v, want %v", err, blog.ErrTOTPNotStarted)
		}
		if err := confirm(alice, "two", 5); err != nil {
			t.Fatalf("ConfirmTOTP() = %v", err)
		}
		if err := confirm(alice, "two", 6); !errors.Is(err, blog.ErrTOTPEnabled) {
			t.Errorf("ConfirmTOTP() twice = %v, want %v", err, blog.ErrTOTPEnabled)
		}
		if err := start(alice, "three"); !errors.Is(err, blog.ErrTOTPEnabled) {
			t.Errorf("StartTOTP() when confirmed = %v, want %v", err, blog.ErrTOTPEnabled)
		}
		got, _ = s.TOTP(ctx, alice.ID)
		if !got.Enabled() || got.LastStep != 5 || string(got.Sealed) != "two" || !got.ConfirmedAt.Equal(now) {
			t.Errorf("TOTP() confirmed = %+v, want enabled at step 5 with secret two", got)
		}

		// Steps move forward only.
		use := func(u *blog.User, step int64) bool {
			var ok bool
			if err := inWrite(s, func(ctx context.Context, tx *Tx) (err error) {
				ok, err = tx.UseTOTPStep(ctx, u.ID, step)
				return err
			}); err != nil {
				t.Fatalf("UseTOTPStep() = %v", err)
			}
			return ok
		}
		for _, tc := range []struct {
			step int64
			want bool
		}{{5, false}, {4, false}, {6, true}, {6, false}, {8, true}, {7, false}} {
			if got := use(alice, tc.step); got != tc.want {
				t.Errorf("UseTOTPStep(%d) = %v, want %v", tc.step, got, tc.want)
			}
		}
		if use(bob, 100) {
			t.Errorf("UseTOTPStep() for a user without TOTP = true")
		}
		if err := start(bob, "bob"); err != nil {
			t.Fatal(err)
		}
		if use(bob, 100) {
			t.Errorf("UseTOTPStep() for a pending factor = true")
		}

		// Recovery codes: used once each.
		if err := inWrite(s, func(ctx context.Context, tx *Tx) error {
			return tx.ReplaceRecoveryCodes(ctx, alice.ID, [][]byte{[]byte("h1"), []byte("h2"), []byte("h3")}, now)
		}); err != nil {
			t.Fatalf("ReplaceRecoveryCodes() = %v", err)
		}
		useCode := func(u *blog.User, h string) bool {
			var ok bool
			if err := inWrite(s, func(ctx context.Context, tx *Tx) (err error) {
				ok, err = tx.UseRecoveryCode(ctx, u.ID, []byte(h))
				return err
			}); err != nil {
				t.Fatalf("UseRecoveryCode() = %v", err)
			}
			return ok
		}
		if useCode(bob, "h1") {
			t.Errorf("UseRecoveryCode(alice's code, as bob) = true")
		}
		if !useCode(alice, "h1") || useCode(alice, "h1") {
			t.Errorf("UseRecoveryCode(h1) twice: want true, then false")
		}
		if n, err := s.RecoveryCodesLeft(ctx, alice.ID); n != 2 || err != nil {
			t.Errorf("RecoveryCodesLeft() = %d, %v, want 2", n, err)
		}

		var hadTOTP bool
		var codes int64
		if err := inWrite(s, func(ctx context.Context, tx *Tx) (err error) {
			hadTOTP, codes, err = tx.DeleteTOTP(ctx, alice.ID)
			return err
		}); err != nil || !hadTOTP || codes != 2 {
			t.Fatalf("DeleteTOTP() = %v, %d, %v, want true, 2, nil", hadTOTP, codes, err)
		}
		if got, _ := s.TOTP(ctx, alice.ID); got != nil {
			t.Errorf("TOTP() after DeleteTOTP = %+v, want nil", got)
		}
		if got, _ := s.TOTP(ctx, bob.ID); got == nil {
			t.Errorf("DeleteTOTP(alice) removed bob's factor")
		}

		// An account's deletion takes its factor and codes along.
		if err := inWrite(s, func(ctx context.Context, tx *Tx) error {
			return tx.ReplaceRecoveryCodes(ctx, bob.ID, [][]byte{[]byte("b1")}, now)
		}); err != nil {
			t.Fatal(err)
		}
		if err := inWrite(s, func(ctx context.Context, tx *Tx) error { _, err := tx.DeleteUser(ctx, bob.ID); return err }); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.TOTP(ctx, bob.ID); got != nil {
			t.Errorf("TOTP() of a deleted user = %+v, want nil", got)
		}
		if n, _ := s.RecoveryCodesLeft(ctx, bob.ID); n != 0 {
			t.Errorf("RecoveryCodesLeft() of a deleted user = %d", n)
		}
		if err := start(bob, "x"); !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("StartTOTP() for a deleted user = %v, want %v", err, blog.ErrUserNotFound)
		}
	})
}

// TestUseTOTPStepRace checks that of logins presenting one code at once,
// exactly one gets it accepted.
func TestUseTOTPStepRace(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		s, clock := newTestStore(t, db)
		alice := createUser(t, s, "alice")
		if err := inWrite(s, func(ctx context.Context, tx *Tx) error {
			if err := tx.StartTOTP(ctx, alice.ID, []byte("s"), clock.Now()); err != nil {
				return err
			}
			return tx.ConfirmTOTP(ctx, alice.ID, []byte("s"), 1, clock.Now())
		}); err != nil {
			t.Fatal(err)
		}
		const n = 8
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			won int
		)
		for range n {
			wg.Go(func() {
				var ok bool
				err := inWrite(s, func(ctx context.Context, tx *Tx) (err error) {
					ok, err = tx.UseTOTPStep(ctx, alice.ID, 2)
					return err
				})
				if err != nil {
					t.Errorf("UseTOTPStep() = %v", err)
				}
				mu.Lock()
				defer mu.Unlock()
				if ok {
					won++
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("%d of %d concurrent UseTOTPStep(2) succeeded, want 1", won, n)
		}
	})
}

func TestLoginChallengesUsed(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		use := func(id string, expires time.Time) bool {
			var ok bool
			if err := inWrite(s, func(ctx context.Context, tx *Tx) (err error) {
				ok, err = tx.UseLoginChallenge(ctx, []byte(id), expires)
				return err
			}); err != nil {
				t.Fatalf("UseLoginChallenge() = %v", err)
			}
			return ok
		}
		if !use("one", now.Add(time.Minute)) || use("one", now.Add(time.Minute)) {
			t.Errorf("UseLoginChallenge(one) twice: want true, then false")
		}
		if !use("two", now.Add(time.Hour)) {
			t.Errorf("UseLoginChallenge(two) = false")
		}
		n, err := s.DeleteExpiredLoginChallenges(ctx, now.Add(2*time.Minute))
		if err != nil || n != 1 {
			t.Errorf("DeleteExpiredLoginChallenges() = %d, %v, want 1", n, err)
		}
		if use("two", now.Add(time.Hour)) {
			t.Errorf("UseLoginChallenge(two) after pruning the expired = true: an unexpired one was forgotten")
		}
	})
}

// TestReadCacheTOTP checks that a cached TOTP factor is the one the
// database holds after every change another store makes, and that a
// caller changing its copy changes nothing for the next.
func TestReadCacheTOTP(t *testing.T) {
	ctx := context.Background()
	s, other, clock, _ := openCachedPair(t)
	alice := createUser(t, other, "alice")
	check := func(step string) {
		t.Helper()
		want, err := other.TOTP(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second read comes from the cache
			got, err := s.TOTP(ctx, alice.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s: TOTP() cached (-direct +cached):\n%s", step, diff)
			}
			if got != nil {
				got.Sealed[0] ^= 0xff
				got.LastStep = -1
			}
		}
	}
	check("none")
	write(t, other, func(tx *Tx) error { return tx.StartTOTP(ctx, alice.ID, []byte("sealed"), clock.Now()) })
	check("pending")
	write(t, other, func(tx *Tx) error { return tx.ConfirmTOTP(ctx, alice.ID, []byte("sealed"), 7, clock.Now()) })
	check("confirmed")
	write(t, other, func(tx *Tx) error { _, err := tx.UseTOTPStep(ctx, alice.ID, 9); return err })
	check("a step used")
	write(t, other, func(tx *Tx) error { _, _, err := tx.DeleteTOTP(ctx, alice.ID); return err })
	check("deleted")
}
