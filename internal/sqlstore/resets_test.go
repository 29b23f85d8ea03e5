package sqlstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/quill-blog/quill/internal/blog"
)

// createReset stores a reset token hash for u, issued now and valid for an
// hour.
func createReset(tb testing.TB, s *Store, u *blog.User, hash string, now time.Time) {
	tb.Helper()
	if err := s.CreatePasswordReset(context.Background(), u.ID, []byte(hash), now, now.Add(time.Hour)); err != nil {
		tb.Fatalf("CreatePasswordReset(%q) = %v", hash, err)
	}
}

// passwordHash reads the user's stored hash.
func passwordHash(tb testing.TB, s *Store, id int64) string {
	tb.Helper()
	u, err := s.User(context.Background(), id)
	if err != nil {
		tb.Fatalf("User(%d) = %v", id, err)
	}
	return u.PasswordHash
}

func TestPasswordReset(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		createSession(t, s, alice, "a1", now, time.Hour)
		createSession(t, s, alice, "a2", now, time.Hour)
		createSession(t, s, bob, "b1", now, time.Hour)
		createReset(t, s, alice, "alice's token", now)
		createReset(t, s, bob, "bob's token", now)

		u, err := s.PasswordResetUser(ctx, []byte("alice's token"), now)
		if err != nil {
			t.Fatalf("PasswordResetUser() = %v", err)
		}
		if diff := cmp.Diff(alice, u); diff != "" {
			t.Errorf("PasswordResetUser() user mismatch (-want +got):\n%s", diff)
		}
		id, err := s.ResetPassword(ctx, []byte("alice's token"), "$argon2id$new", now)
		if err != nil || id != alice.ID {
			t.Fatalf("ResetPassword() = %d, %v, want %d, nil", id, err, alice.ID)
		}
		if got := passwordHash(t, s, alice.ID); got != "$argon2id$new" {
			t.Errorf("hash after ResetPassword = %q", got)
		}
		if diff := cmp.Diff([]string{}, sessionIDs(t, s, alice.ID, now)); diff != "" {
			t.Errorf("alice's sessions after the reset (-want +got):\n%s", diff)
		}
		// Single use.
		if _, err := s.ResetPassword(ctx, []byte("alice's token"), "$argon2id$again", now); !errors.Is(err, blog.ErrInvalidReset) {
			t.Errorf("ResetPassword(used token) = %v, want ErrInvalidReset", err)
		}
		if _, err := s.PasswordResetUser(ctx, []byte("alice's token"), now); !errors.Is(err, blog.ErrInvalidReset) {
			t.Errorf("PasswordResetUser(used token) = %v, want ErrInvalidReset", err)
		}
		if got := passwordHash(t, s, alice.ID); got != "$argon2id$new" {
			t.Errorf("hash after a second use of the token = %q, want it unchanged", got)
		}
		// Bob is untouched.
		if diff := cmp.Diff([]string{"b1"}, sessionIDs(t, s, bob.ID, now)); diff != "" {
			t.Errorf("bob's sessions after alice's reset (-want +got):\n%s", diff)
		}
		if _, err := s.PasswordResetUser(ctx, []byte("bob's token"), now); err != nil {
			t.Errorf("bob's token after alice's reset: %v", err)
		}
	})
}

func TestPasswordResetInvalid(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice := createUser(t, s, "alice")
		createReset(t, s, alice, "old", now.Add(-time.Minute))
		createReset(t, s, alice, "new", now)
		createSession(t, s, alice, "kept", now, time.Hour)

		tests := []struct {
			name, hash string
			at         time.Time
		}{
			{"unknown", "nope", now},
			{"empty", "", now},
			{"superseded by a newer one", "old", now},
			{"at its expiry", "new", now.Add(time.Hour)},
			{"after its expiry", "new", now.Add(2 * time.Hour)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := s.PasswordResetUser(ctx, []byte(tt.hash), tt.at); !errors.Is(err, blog.ErrInvalidReset) {
					t.Errorf("PasswordResetUser(%q) = %v, want ErrInvalidReset", tt.hash, err)
				}
				if _, err := s.ResetPassword(ctx, []byte(tt.hash), "$argon2id$x", tt.at); !errors.Is(err, blog.ErrInvalidReset) {
					t.Errorf("ResetPassword(%q) = %v, want ErrInvalidReset", tt.hash, err)
				}
			})
		}
		// Nothing changed.
		if got := passwordHash(t, s, alice.ID); got != alice.PasswordHash {
			t.Errorf("hash after failed resets = %q, want %q", got, alice.PasswordHash)
		}
		if diff := cmp.Diff([]string{"kept"}, sessionIDs(t, s, alice.ID, now)); diff != "" {
			t.Errorf("sessions after failed resets (-want +got):\n%s", diff)
		}
		if _, err := s.PasswordResetUser(ctx, []byte("new"), now.Add(time.Hour-time.Microsecond)); err != nil {
			t.Errorf("the newest token just before expiry: %v", err)
		}
		if err := s.CreatePasswordReset(ctx, 424242, []byte("x"), now, now.Add(time.Hour)); !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("CreatePasswordReset(missing user) = %v, want ErrUserNotFound", err)
		}
	})
}

func TestResetPasswordConcurrent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		s, clock := newTestStore(t, db)
		alice := createUser(t, s, "alice")
		createReset(t, s, alice, "token", clock.Now())
		const n = 8
		var (
			wg           sync.WaitGroup
			mu           sync.Mutex
			won, refused int
		)
		for range n {
			wg.Go(func() {
				_, err := s.ResetPassword(context.Background(), []byte("token"), "$argon2id$x", clock.Now())
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, blog.ErrInvalidReset):
					refused++
				default:
					t.Errorf("ResetPassword() = %v", err)
				}
			})
		}
		wg.Wait()
		if won != 1 || refused != n-1 {
			t.Errorf("%d concurrent uses of one token: %d won, %d refused; want 1, %d", n, won, refused, n-1)
		}
	})
}

func TestSetPassword(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		for _, id := range []string{"a1", "a2", "a3"} {
			createSession(t, s, alice, id, now, time.Hour)
		}
		createSession(t, s, bob, "b1", now, time.Hour)
		createReset(t, s, alice, "alice's token", now)
		createReset(t, s, bob, "bob's token", now)

		old := passwordHash(t, s, alice.ID)
		if err := s.SetPassword(ctx, alice.ID, "$argon2id$not-the-stored-one", "$argon2id$stale", "a2"); !errors.Is(err, blog.ErrInvalidToken) {
			t.Fatalf("SetPassword(stale old hash) = %v, want ErrInvalidToken", err)
		}
		if diff := cmp.Diff([]string{"a1", "a2", "a3"}, sessionIDs(t, s, alice.ID, now), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("alice's sessions after a stale SetPassword (-want +got):\n%s", diff)
		}
		if err := s.SetPassword(ctx, alice.ID, old, "$argon2id$new", "a2"); err != nil {
			t.Fatalf("SetPassword() = %v", err)
		}
		if got := passwordHash(t, s, alice.ID); got != "$argon2id$new" {
			t.Errorf("hash after SetPassword = %q", got)
		}
		if diff := cmp.Diff([]string{"a2"}, sessionIDs(t, s, alice.ID, now)); diff != "" {
			t.Errorf("alice's sessions after SetPassword (-want +got):\n%s", diff)
		}
		if _, err := s.PasswordResetUser(ctx, []byte("alice's token"), now); !errors.Is(err, blog.ErrInvalidReset) {
			t.Errorf("a reset token issued before the password change: %v, want ErrInvalidReset", err)
		}
		if diff := cmp.Diff([]string{"b1"}, sessionIDs(t, s, bob.ID, now)); diff != "" {
			t.Errorf("bob's sessions after alice's SetPassword (-want +got):\n%s", diff)
		}
		if _, err := s.PasswordResetUser(ctx, []byte("bob's token"), now); err != nil {
			t.Errorf("bob's reset token after alice's SetPassword: %v", err)
		}
		if err := s.SetPassword(ctx, alice.ID, "$argon2id$new", "$argon2id$newer", ""); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{}, sessionIDs(t, s, alice.ID, now)); diff != "" {
			t.Errorf("alice's sessions after SetPassword keeping none (-want +got):\n%s", diff)
		}
		if err := s.SetPassword(ctx, 424242, "$argon2id$x", "$argon2id$y", ""); !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("SetPassword(missing user) = %v, want ErrUserNotFound", err)
		}
	})
}

func TestDeleteExpiredPasswordResets(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		createReset(t, s, alice, "expired", now.Add(-2*time.Hour))
		createReset(t, s, bob, "live", now)
		n, err := s.DeleteExpiredPasswordResets(ctx, now)
		if err != nil || n != 1 {
			t.Errorf("DeleteExpiredPasswordResets() = %d, %v, want 1, nil", n, err)
		}
		if _, err := s.PasswordResetUser(ctx, []byte("live"), now); err != nil {
			t.Errorf("the live token after DeleteExpiredPasswordResets: %v", err)
		}
	})
}
