package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/quill-blog/quill/internal/blog"
)

// createReset stores a reset token hash for u, issued now and valid for an
// hour.
func createReset(tb testing.TB, s *Store, u *blog.User, hash string, now time.Time) {
	tb.Helper()
	err := s.Write(context.Background(), func(tx *Tx) error {
		return tx.CreatePasswordReset(context.Background(), u.ID, []byte(hash), now, now.Add(time.Hour))
	})
	if err != nil {
		tb.Fatalf("CreatePasswordReset(%q) = %v", hash, err)
	}
}

// takeReset runs TakePasswordReset in a Write of its own.
func takeReset(s *Store, hash string, now time.Time) (userID int64, err error) {
	err = s.Write(context.Background(), func(tx *Tx) error {
		userID, err = tx.TakePasswordReset(context.Background(), []byte(hash), now)
		return err
	})
	return userID, err
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

// TestTakePasswordReset checks that a token is taken once, by its user,
// and that taking it changes nothing else: the password and the sessions
// are the caller's to change in the same transaction.
func TestTakePasswordReset(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		createSession(t, s, alice, "a1", now, time.Hour)
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

		// A transaction that takes the token and then fails leaves it
		// usable.
		errFail := errors.New("fail")
		err = s.Write(ctx, func(tx *Tx) error {
			if _, err := tx.TakePasswordReset(ctx, []byte("alice's token"), now); err != nil {
				return err
			}
			return errFail
		})
		if !errors.Is(err, errFail) {
			t.Fatalf("Write(take, then fail) = %v, want %v", err, errFail)
		}
		if _, err := s.PasswordResetUser(ctx, []byte("alice's token"), now); err != nil {
			t.Errorf("PasswordResetUser() after a rolled-back take = %v, want the token still usable", err)
		}

		id, err := takeReset(s, "alice's token", now)
		if err != nil || id != alice.ID {
			t.Fatalf("TakePasswordReset() = %d, %v, want %d, nil", id, err, alice.ID)
		}
		if got := passwordHash(t, s, alice.ID); got != alice.PasswordHash {
			t.Errorf("hash after TakePasswordReset = %q, want it unchanged", got)
		}
		if diff := cmp.Diff([]string{"a1"}, sessionIDs(t, s, alice.ID, now)); diff != "" {
			t.Errorf("alice's sessions after TakePasswordReset (-want +got):\n%s", diff)
		}
		// Single use.
		if id, err := takeReset(s, "alice's token", now); !errors.Is(err, blog.ErrInvalidReset) || id != 0 {
			t.Errorf("TakePasswordReset(used token) = %d, %v, want 0, ErrInvalidReset", id, err)
		}
		if _, err := s.PasswordResetUser(ctx, []byte("alice's token"), now); !errors.Is(err, blog.ErrInvalidReset) {
			t.Errorf("PasswordResetUser(used token) = %v, want ErrInvalidReset", err)
		}
		// Bob's token is untouched.
		if _, err := s.PasswordResetUser(ctx, []byte("bob's token"), now); err != nil {
			t.Errorf("bob's token after alice's was taken: %v", err)
		}
	})
}

func TestPasswordResetInvalid(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice := createUser(t, s, "alice")
		createReset(t, s, alice, "token", now)
		createSession(t, s, alice, "kept", now, time.Hour)

		tests := []struct {
			name, hash string
			at         time.Time
		}{
			{"unknown", "nope", now},
			{"empty", "", now},
			{"at its expiry", "token", now.Add(time.Hour)},
			{"after its expiry", "token", now.Add(2 * time.Hour)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := s.PasswordResetUser(ctx, []byte(tt.hash), tt.at); !errors.Is(err, blog.ErrInvalidReset) {
					t.Errorf("PasswordResetUser(%q) = %v, want ErrInvalidReset", tt.hash, err)
				}
				if _, err := takeReset(s, tt.hash, tt.at); !errors.Is(err, blog.ErrInvalidReset) {
					t.Errorf("TakePasswordReset(%q) = %v, want ErrInvalidReset", tt.hash, err)
				}
			})
		}
		// Nothing changed: an expired token is not taken either.
		if got := passwordHash(t, s, alice.ID); got != alice.PasswordHash {
			t.Errorf("hash after failed takes = %q, want %q", got, alice.PasswordHash)
		}
		if diff := cmp.Diff([]string{"kept"}, sessionIDs(t, s, alice.ID, now)); diff != "" {
			t.Errorf("sessions after failed takes (-want +got):\n%s", diff)
		}
		if id, err := takeReset(s, "token", now.Add(time.Hour-time.Microsecond)); err != nil || id != alice.ID {
			t.Errorf("TakePasswordReset() just before expiry = %d, %v, want %d, nil", id, err, alice.ID)
		}
	})
}

// TestCreatePasswordReset checks that a new token leaves the user's older
// ones alone (voiding them is DeletePasswordResets', in the same
// transaction), and that DeletePasswordResets voids only the user's.
func TestCreatePasswordReset(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		createReset(t, s, alice, "old", now.Add(-time.Minute))
		createReset(t, s, alice, "new", now)
		createReset(t, s, bob, "bob's", now)
		for _, hash := range []string{"old", "new", "bob's"} {
			if _, err := s.PasswordResetUser(ctx, []byte(hash), now); err != nil {
				t.Errorf("PasswordResetUser(%q) = %v, want the token usable", hash, err)
			}
		}

		write(t, s, func(tx *Tx) error { return tx.DeletePasswordResets(ctx, alice.ID) })
		for _, hash := range []string{"old", "new"} {
			if _, err := s.PasswordResetUser(ctx, []byte(hash), now); !errors.Is(err, blog.ErrInvalidReset) {
				t.Errorf("PasswordResetUser(%q) after DeletePasswordResets = %v, want ErrInvalidReset", hash, err)
			}
		}
		if _, err := s.PasswordResetUser(ctx, []byte("bob's"), now); err != nil {
			t.Errorf("bob's token after DeletePasswordResets(alice) = %v", err)
		}
		write(t, s, func(tx *Tx) error { return tx.DeletePasswordResets(ctx, alice.ID) }) // none left: no error

		err := s.Write(ctx, func(tx *Tx) error {
			return tx.CreatePasswordReset(ctx, 424242, []byte("x"), now, now.Add(time.Hour))
		})
		if !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("CreatePasswordReset(missing user) = %v, want ErrUserNotFound", err)
		}
	})
}

// TestTakePasswordResetConcurrent checks that of transactions taking one
// token at once exactly one gets it, and only its later steps are kept.
func TestTakePasswordResetConcurrent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		s, clock := newTestStore(t, db)
		alice := createUser(t, s, "alice")
		createReset(t, s, alice, "token", clock.Now())
		openWriters(t, s)
		const n = 8
		var (
			mu      sync.Mutex
			winners []string // the hashes set by the transactions that took it
			refused int
		)
		together(n, func(i int) {
			hash := fmt.Sprint("$argon2id$", i)
			ctx := context.Background()
			err := s.Write(ctx, func(tx *Tx) error {
				userID, err := tx.TakePasswordReset(ctx, []byte("token"), clock.Now())
				if err != nil {
					return err
				}
				return tx.ReplacePasswordHash(ctx, userID, hash)
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, hash)
			case errors.Is(err, blog.ErrInvalidReset):
				refused++
			default:
				t.Errorf("Write(take the token) = %v", err)
			}
		})
		if len(winners) != 1 || refused != n-1 {
			t.Fatalf("%d concurrent takes of one token: %d won, %d refused; want 1, %d", n, len(winners), refused, n-1)
		}
		if got := passwordHash(t, s, alice.ID); got != winners[0] {
			t.Errorf("hash after the concurrent takes = %q, want the winner's %q", got, winners[0])
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
