package sqlstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// putVerification stores a link for u, sent to email at now, valid a day,
// replacing whatever u had.
func putVerification(tb testing.TB, s *Store, u *blog.User, hash, email string, now time.Time) {
	tb.Helper()
	err := s.Write(context.Background(), func(tx *Tx) error {
		_, _, err := tx.PutEmailVerification(context.Background(), &EmailVerification{
			UserID: u.ID, TokenHash: []byte(hash), Email: email, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour),
		}, time.Time{})
		return err
	})
	if err != nil {
		tb.Fatalf("PutEmailVerification(%q) = %v", hash, err)
	}
}

// takeVerification runs TakeEmailVerification in a Write of its own.
func takeVerification(s *Store, hash string, now time.Time) (userID int64, email string, err error) {
	err = s.Write(context.Background(), func(tx *Tx) error {
		userID, email, err = tx.TakeEmailVerification(context.Background(), []byte(hash), now)
		return err
	})
	return userID, email, err
}

func TestEmailVerificationLinks(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		if alice.EmailVerified() || alice.PendingEmail != "" {
			t.Fatalf("a new account: verified %t, pending %q; want unverified, none", alice.EmailVerified(), alice.PendingEmail)
		}
		putVerification(t, s, alice, "alice 1", "Alice@Example.com", now)
		putVerification(t, s, bob, "bob 1", "bob@example.com", now)

		// Looking a link up changes nothing and names the address it was
		// sent to, lower-cased.
		u, email, err := s.EmailVerificationUser(ctx, []byte("alice 1"), now)
		if err != nil || u.ID != alice.ID || email != "alice@example.com" {
			t.Fatalf("EmailVerificationUser() = %v, %q, %v; want Alice, alice@example.com", u, email, err)
		}
		// A new link replaces the account's older one.
		putVerification(t, s, alice, "alice 2", "alice@example.com", now)
		if _, _, err := s.EmailVerificationUser(ctx, []byte("alice 1"), now); !errors.Is(err, blog.ErrInvalidVerification) {
			t.Errorf("EmailVerificationUser(replaced link) = %v, want ErrInvalidVerification", err)
		}
		// Taken once.
		if id, email, err := takeVerification(s, "alice 2", now); err != nil || id != alice.ID || email != "alice@example.com" {
			t.Errorf("TakeEmailVerification() = %d, %q, %v; want Alice's", id, email, err)
		}
		if _, _, err := takeVerification(s, "alice 2", now); !errors.Is(err, blog.ErrInvalidVerification) {
			t.Errorf("TakeEmailVerification(again) = %v, want ErrInvalidVerification", err)
		}
		// Expired: refused, then pruned.
		later := now.Add(24 * time.Hour)
		if _, _, err := takeVerification(s, "bob 1", later); !errors.Is(err, blog.ErrInvalidVerification) {
			t.Errorf("TakeEmailVerification(expired) = %v, want ErrInvalidVerification", err)
		}
		if n, err := s.DeleteExpiredEmailVerifications(ctx, later); err != nil || n != 1 {
			t.Errorf("DeleteExpiredEmailVerifications() = %d, %v; want 1", n, err)
		}
		// A missing user.
		err = s.Write(ctx, func(tx *Tx) error {
			_, _, err := tx.PutEmailVerification(ctx, &EmailVerification{UserID: 999, TokenHash: []byte("x"), Email: "x@example.com",
				CreatedAt: now, ExpiresAt: later}, time.Time{})
			return err
		})
		if !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("PutEmailVerification(no such user) = %v, want ErrUserNotFound", err)
		}
		// Deleting the account deletes its link.
		putVerification(t, s, bob, "bob 2", "bob@example.com", now)
		if err := s.Write(ctx, func(tx *Tx) error { _, err := tx.DeleteUser(ctx, bob.ID); return err }); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.EmailVerificationUser(ctx, []byte("bob 2"), now); !errors.Is(err, blog.ErrInvalidVerification) {
			t.Errorf("EmailVerificationUser(a deleted account's link) = %v, want ErrInvalidVerification", err)
		}
	})
}

// TestPutEmailVerificationNotAfter checks the once-a-minute rule: a link
// made after notAfter stays, and of many racing requests one wins.
func TestPutEmailVerificationNotAfter(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice := createUser(t, s, "alice")
		put := func(hash string, at, notAfter time.Time) (bool, time.Time) {
			t.Helper()
			var (
				ok   bool
				last time.Time
			)
			err := s.Write(ctx, func(tx *Tx) error {
				var err error
				ok, last, err = tx.PutEmailVerification(ctx, &EmailVerification{UserID: alice.ID, TokenHash: []byte(hash),
					Email: alice.Email, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}, notAfter)
				return err
			})
			if err != nil {
				t.Fatalf("PutEmailVerification(%q) = %v", hash, err)
			}
			return ok, last
		}
		if ok, _ := put("first", now, now.Add(-time.Minute)); !ok {
			t.Fatal("PutEmailVerification() with no older link = false, want true")
		}
		soon := now.Add(30 * time.Second)
		if ok, last := put("too soon", soon, soon.Add(-time.Minute)); ok || !last.Equal(now) {
			t.Errorf("PutEmailVerification(30 s later) = %t, %v; want false, %v", ok, last, now)
		}
		if _, _, err := s.EmailVerificationUser(ctx, []byte("first"), soon); err != nil {
			t.Errorf("the first link after a refused one: %v, want it kept", err)
		}
		later := now.Add(time.Minute)
		if ok, _ := put("a minute later", later, later.Add(-time.Minute)); !ok {
			t.Error("PutEmailVerification(a minute later) = false, want true")
		}

		// Racing: one wins.
		at := later.Add(time.Hour)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins int
		)
		for i := range 8 {
			wg.Go(func() {
				var ok bool
				err := s.Write(ctx, func(tx *Tx) error {
					var err error
					ok, _, err = tx.PutEmailVerification(ctx, &EmailVerification{UserID: alice.ID, TokenHash: []byte{byte(i)},
						Email: alice.Email, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}, at.Add(-time.Minute))
					return err
				})
				if err != nil {
					t.Errorf("PutEmailVerification racing = %v", err)
				}
				mu.Lock()
				defer mu.Unlock()
				if ok {
					wins++
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Errorf("%d of 8 racing requests stored a link, want 1", wins)
		}
	})
}

func TestVerifiedAndPendingEmail(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		write := func(fn func(tx *Tx) error) {
			t.Helper()
			if err := s.Write(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		read := func() *blog.User {
			t.Helper()
			u, err := s.User(ctx, alice.ID)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}

		// Marking another address verified changes nothing.
		write(func(tx *Tx) error {
			if ok, err := tx.MarkEmailVerified(ctx, alice.ID, "other@example.com", now); ok || err != nil {
				t.Errorf("MarkEmailVerified(another address) = %t, %v; want false", ok, err)
			}
			return nil
		})
		if read().EmailVerified() {
			t.Fatal("verified after marking another address")
		}
		write(func(tx *Tx) error {
			ok, err := tx.MarkEmailVerified(ctx, alice.ID, "ALICE@example.com", now)
			if !ok {
				t.Error("MarkEmailVerified(the address) = false")
			}
			return err
		})
		if got := read().EmailVerifiedAt; !got.Equal(now) {
			t.Fatalf("EmailVerifiedAt = %v, want %v", got, now)
		}
		// Again, later: the first time stays.
		write(func(tx *Tx) error {
			_, err := tx.MarkEmailVerified(ctx, alice.ID, alice.Email, now.Add(time.Hour))
			return err
		})
		if got := read().EmailVerifiedAt; !got.Equal(now) {
			t.Errorf("EmailVerifiedAt after a second confirmation = %v, want the first, %v", got, now)
		}

		// A pending address, confirmed.
		write(func(tx *Tx) error { return tx.SetPendingEmail(ctx, alice.ID, "Alice@New.example") })
		if u := read(); u.PendingEmail != "alice@new.example" || u.Email != "alice@example.com" || !u.EmailVerified() {
			t.Fatalf("after SetPendingEmail: %+v, want the old address, verified, and the new pending", u)
		}
		write(func(tx *Tx) error {
			if ok, err := tx.ConfirmPendingEmail(ctx, alice.ID, "someone@else.example", now); ok || err != nil {
				t.Errorf("ConfirmPendingEmail(not the pending address) = %t, %v; want false", ok, err)
			}
			return nil
		})
		confirmed := now.Add(time.Minute)
		write(func(tx *Tx) error {
			ok, err := tx.ConfirmPendingEmail(ctx, alice.ID, "alice@new.example", confirmed)
			if !ok {
				t.Error("ConfirmPendingEmail(the pending address) = false")
			}
			return err
		})
		if u := read(); u.Email != "alice@new.example" || u.PendingEmail != "" || !u.EmailVerifiedAt.Equal(confirmed) {
			t.Errorf("after ConfirmPendingEmail: %+v, want the new address, verified, none pending", u)
		}
		// A pending address another account took meanwhile.
		write(func(tx *Tx) error { return tx.SetPendingEmail(ctx, alice.ID, bob.Email) })
		err := s.Write(ctx, func(tx *Tx) error { _, err := tx.ConfirmPendingEmail(ctx, alice.ID, bob.Email, now); return err })
		if !errors.Is(err, blog.ErrEmailTaken) {
			t.Errorf("ConfirmPendingEmail(a taken address) = %v, want ErrEmailTaken", err)
		}
		write(func(tx *Tx) error {
			if taken, err := tx.EmailTaken(ctx, "BOB@example.com", alice.ID); !taken || err != nil {
				t.Errorf("EmailTaken(Bob's) = %t, %v; want true", taken, err)
			}
			if taken, err := tx.EmailTaken(ctx, bob.Email, bob.ID); taken || err != nil {
				t.Errorf("EmailTaken(Bob's, for Bob) = %t, %v; want false", taken, err)
			}
			return tx.SetPendingEmail(ctx, alice.ID, "")
		})

		// A profile change with a new address makes it unverified and
		// drops the pending one; one keeping it changes neither.
		write(func(tx *Tx) error { return tx.SetPendingEmail(ctx, alice.ID, "pending@example.com") })
		u := read()
		u.Username = "Alice2"
		write(func(tx *Tx) error { return tx.UpdateProfile(ctx, u) })
		if u := read(); !u.EmailVerified() || u.PendingEmail != "pending@example.com" {
			t.Errorf("after a rename: verified %t, pending %q; want both kept", u.EmailVerified(), u.PendingEmail)
		}
		u.Email = "alice3@example.com"
		u.Username = "Alice3" // a rename too: the other statement
		write(func(tx *Tx) error { return tx.UpdateProfile(ctx, u) })
		if u := read(); u.EmailVerified() || u.PendingEmail != "" || u.Email != "alice3@example.com" {
			t.Errorf("after a new address: %+v, want it unverified and none pending", u)
		}
		// The session lookup reads the same state.
		createSession(t, s, read(), "a1", now, time.Hour)
		write(func(tx *Tx) error { return tx.SetPendingEmail(ctx, alice.ID, "p@example.com") })
		_, su, err := s.SessionUser(ctx, "a1", now)
		if err != nil || su.PendingEmail != "p@example.com" || su.EmailVerified() {
			t.Errorf("Session() user = %+v, %v; want p@example.com pending, unverified", su, err)
		}
	})
}
