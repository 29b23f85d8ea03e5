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

// createPasskey stores a passkey named name with the credential id cred
// for u.
func createPasskey(tb testing.TB, s *Store, u *blog.User, name, cred string) *blog.Passkey {
	tb.Helper()
	p := &blog.Passkey{UserID: u.ID, Name: name, CredentialID: []byte(cred), PublicKey: []byte("key of " + cred),
		AAGUID: make([]byte, 16), SignCount: 7, Flags: 0x1d, Transports: []string{"internal", "hybrid"}, AttestationFormat: "none"}
	if err := s.Write(context.Background(), func(tx *Tx) error { return tx.CreatePasskey(context.Background(), p) }); err != nil {
		tb.Fatalf("CreatePasskey(%q) = %v", name, err)
	}
	return p
}

func TestPasskeys(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		phone := createPasskey(t, s, alice, "Phone", "cred-1")
		createPasskey(t, s, bob, "Bob's", "cred-2")
		laptop := createPasskey(t, s, alice, "Laptop", "cred-3")
		if phone.CreatedAt != clock.Now().UTC().Truncate(time.Microsecond) || !phone.LastUsedAt.IsZero() {
			t.Errorf("CreatePasskey() set CreatedAt %v and LastUsedAt %v, want now and never", phone.CreatedAt, phone.LastUsedAt)
		}
		got, err := s.Passkeys(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]blog.Passkey{*phone, *laptop}, got); diff != "" {
			t.Errorf("Passkeys(alice) (-want +got):\n%s", diff)
		}

		// A credential id is one passkey's, whoever adds it again.
		dup := &blog.Passkey{UserID: bob.ID, Name: "again", CredentialID: []byte("cred-1"), PublicKey: []byte("k")}
		err = s.Write(ctx, func(tx *Tx) error { return tx.CreatePasskey(ctx, dup) })
		if !errors.Is(err, blog.ErrPasskeyTaken) {
			t.Errorf("CreatePasskey(a credential id stored already) = %v, want ErrPasskeyTaken", err)
		}

		err = s.Write(ctx, func(tx *Tx) error {
			p, err := tx.RenamePasskey(ctx, alice.ID, phone.ID, "My phone")
			if err == nil && p.Name != "My phone" {
				t.Errorf("RenamePasskey() = %+v", p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Write(ctx, func(tx *Tx) error {
			_, err := tx.RenamePasskey(ctx, bob.ID, phone.ID, "Mine now")
			return err
		})
		if !errors.Is(err, blog.ErrPasskeyNotFound) {
			t.Errorf("RenamePasskey(someone else's) = %v, want ErrPasskeyNotFound", err)
		}
		err = s.Write(ctx, func(tx *Tx) error {
			_, err := tx.DeletePasskey(ctx, bob.ID, laptop.ID)
			return err
		})
		if !errors.Is(err, blog.ErrPasskeyNotFound) {
			t.Errorf("DeletePasskey(someone else's) = %v, want ErrPasskeyNotFound", err)
		}
		err = s.Write(ctx, func(tx *Tx) error {
			p, err := tx.DeletePasskey(ctx, alice.ID, laptop.ID)
			if err == nil && p.Name != "Laptop" {
				t.Errorf("DeletePasskey() = %+v, want the laptop", p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Passkeys(ctx, alice.ID); len(got) != 1 || got[0].Name != "My phone" {
			t.Errorf("Passkeys(alice) after a rename and a removal = %+v", got)
		}

		// The handle is given once; UserByPasskeyHandle finds the account.
		var handle []byte
		for _, h := range []string{"first handle", "second handle"} {
			err = s.Write(ctx, func(tx *Tx) error {
				handle, err = tx.PasskeyHandle(ctx, alice.ID, []byte(h))
				return err
			})
			if err != nil || string(handle) != "first handle" {
				t.Errorf("PasskeyHandle(%q) = %q, %v, want the first", h, handle, err)
			}
		}
		u, keys, err := s.UserByPasskeyHandle(ctx, handle)
		if err != nil || u.ID != alice.ID || len(keys) != 1 {
			t.Errorf("UserByPasskeyHandle() = %v, %d passkeys, %v, want alice's one", u, len(keys), err)
		}
		if _, _, err := s.UserByPasskeyHandle(ctx, []byte("nobody's")); !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("UserByPasskeyHandle(unknown) = %v, want ErrUserNotFound", err)
		}
		if h, err := s.StoredPasskeyHandle(ctx, bob.ID); h != nil || err != nil {
			t.Errorf("StoredPasskeyHandle(bob, who has none) = %q, %v", h, err)
		}

		// Deleting the account deletes its passkeys and handle.
		if err := s.Write(ctx, func(tx *Tx) error { _, err := tx.DeleteUser(ctx, alice.ID); return err }); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Passkeys(ctx, alice.ID); len(got) != 0 {
			t.Errorf("Passkeys of a deleted account = %+v", got)
		}
		if _, _, err := s.UserByPasskeyHandle(ctx, handle); !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("UserByPasskeyHandle(a deleted account's) = %v, want ErrUserNotFound", err)
		}
	})
}

// TestUsePasskey checks that of two logins presenting the same stored
// count, one wins.
func TestUsePasskey(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		alice := createUser(t, s, "alice")
		p := createPasskey(t, s, alice, "Phone", "cred-1")
		var wins sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range 4 {
			wins.Go(func() {
				err := s.Write(ctx, func(tx *Tx) error { return tx.UsePasskey(ctx, p.ID, 7, 8, 0x05, clock.Now()) })
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case !errors.Is(err, blog.ErrPasskeyRefused):
					t.Errorf("UsePasskey() = %v, want nil or ErrPasskeyRefused", err)
				}
			})
		}
		wins.Wait()
		if won != 1 {
			t.Errorf("%d of 4 racing uses of one count won, want 1", won)
		}
		got, _ := s.Passkeys(ctx, alice.ID)
		if got[0].SignCount != 8 || got[0].Flags != 0x05 || !got[0].LastUsedAt.Equal(clock.Now().UTC().Truncate(time.Microsecond)) {
			t.Errorf("after a use the passkey is %+v, want count 8, flags 5, used now", got[0])
		}
	})
}

func TestPasskeyCeremonies(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice := createUser(t, s, "alice")
		sess := createSession(t, s, alice, "s1", now, time.Hour)
		put := func(c blog.PasskeyCeremony) {
			t.Helper()
			if err := s.Write(ctx, func(tx *Tx) error { return tx.CreatePasskeyCeremony(ctx, &c) }); err != nil {
				t.Fatalf("CreatePasskeyCeremony(%s) = %v", c.ID, err)
			}
		}
		take := func(id, purpose string, at time.Time) (*blog.PasskeyCeremony, error) {
			var c *blog.PasskeyCeremony
			err := s.Write(ctx, func(tx *Tx) error {
				var err error
				c, err = tx.TakePasskeyCeremony(ctx, id, purpose, at)
				return err
			})
			return c, err
		}
		expires := now.Add(5 * time.Minute).UTC().Truncate(time.Microsecond)
		reg := blog.PasskeyCeremony{ID: "reg", Purpose: blog.PurposeRegister, UserID: alice.ID, SessionID: sess.ID, Data: []byte(`{"challenge":"x"}`), ExpiresAt: expires}
		put(reg)
		put(blog.PasskeyCeremony{ID: "login", Purpose: blog.PurposeLogin, Data: []byte("{}"), ExpiresAt: expires})
		put(blog.PasskeyCeremony{ID: "old", Purpose: blog.PurposeLogin, Data: []byte("{}"), ExpiresAt: now.Add(time.Minute)})
		put(blog.PasskeyCeremony{ID: "ended", Purpose: blog.PurposeRegister, UserID: alice.ID, SessionID: sess.ID, Data: []byte("{}"), ExpiresAt: expires})

		if _, err := take("reg", blog.PurposeLogin, now); !errors.Is(err, blog.ErrPasskeyCeremony) {
			t.Errorf("TakePasskeyCeremony(for another purpose) = %v, want ErrPasskeyCeremony", err)
		}
		got, err := take("reg", blog.PurposeRegister, now)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&reg, got); diff != "" {
			t.Errorf("TakePasskeyCeremony() (-want +got):\n%s", diff)
		}
		if _, err := take("reg", blog.PurposeRegister, now); !errors.Is(err, blog.ErrPasskeyCeremony) {
			t.Errorf("TakePasskeyCeremony(used) = %v, want ErrPasskeyCeremony", err)
		}
		if c, err := take("login", blog.PurposeLogin, now); err != nil || c.UserID != 0 || c.SessionID != "" {
			t.Errorf("TakePasskeyCeremony(a discoverable login) = %+v, %v", c, err)
		}
		if _, err := take("old", blog.PurposeLogin, now.Add(time.Minute)); !errors.Is(err, blog.ErrPasskeyCeremony) {
			t.Errorf("TakePasskeyCeremony(expired) = %v, want ErrPasskeyCeremony", err)
		}
		// A session's end ends the ceremonies it began.
		if err := s.Write(ctx, func(tx *Tx) error { return tx.DeleteSession(ctx, alice.ID, sess.ID) }); err != nil {
			t.Fatal(err)
		}
		if _, err := take("ended", blog.PurposeRegister, now); !errors.Is(err, blog.ErrPasskeyCeremony) {
			t.Errorf("TakePasskeyCeremony(begun by a session since ended) = %v, want ErrPasskeyCeremony", err)
		}
		err = s.Write(ctx, func(tx *Tx) error {
			return tx.CreatePasskeyCeremony(ctx, &blog.PasskeyCeremony{ID: "gone", Purpose: blog.PurposeRegister, UserID: alice.ID,
				SessionID: sess.ID, Data: []byte("{}"), ExpiresAt: expires})
		})
		if !errors.Is(err, blog.ErrInvalidToken) {
			t.Errorf("CreatePasskeyCeremony(for an ended session) = %v, want ErrInvalidToken", err)
		}
		if n, err := s.DeleteExpiredPasskeyCeremonies(ctx, now.Add(time.Minute)); n != 1 || err != nil {
			t.Errorf("DeleteExpiredPasskeyCeremonies() = %d, %v, want the old one", n, err)
		}
	})
}
