package sqlstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/quill-blog/quill/internal/blog"
)

func TestPictures(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		alice := createUser(t, s, "alice")

		if err := s.DeletePicture(ctx, alice.ID); !errors.Is(err, blog.ErrNoPicture) {
			t.Errorf("DeletePicture(no picture) = %v, want ErrNoPicture", err)
		}
		steps := []struct {
			name    string
			file    string
			data    string
			wantOld string
		}{
			{name: "first", file: "one.jpg", data: "jpeg one", wantOld: ""},
			{name: "replaced", file: "two.jpg", data: "jpeg two", wantOld: "one.jpg"},
		}
		for _, st := range steps {
			clock.Advance(time.Minute)
			old, err := s.SavePicture(ctx, alice.ID, st.file, []byte(st.data))
			if err != nil || old != st.wantOld {
				t.Fatalf("%s: SavePicture(%q) = %q, %v, want %q, nil", st.name, st.file, old, err, st.wantOld)
			}
			data, at, err := s.Picture(ctx, st.file)
			if err != nil || string(data) != st.data || !at.Equal(clock.Now()) {
				t.Errorf("%s: Picture(%q) = %q, %v, %v, want %q, %v, nil", st.name, st.file, data, at, err, st.data, clock.Now())
			}
			u, err := s.User(ctx, alice.ID)
			if err != nil || u.ImageFile != st.file {
				t.Errorf("%s: User().ImageFile = %q (%v), want %q", st.name, u.ImageFile, err, st.file)
			}
		}
		if _, _, err := s.Picture(ctx, "one.jpg"); !errors.Is(err, blog.ErrPictureNotFound) {
			t.Errorf("Picture(replaced) = %v, want ErrPictureNotFound", err)
		}

		if err := s.DeletePicture(ctx, alice.ID); err != nil {
			t.Fatalf("DeletePicture() = %v", err)
		}
		if _, _, err := s.Picture(ctx, "two.jpg"); !errors.Is(err, blog.ErrPictureNotFound) {
			t.Errorf("Picture(deleted) = %v, want ErrPictureNotFound", err)
		}
		if u, _ := s.User(ctx, alice.ID); u.ImageFile != "" {
			t.Errorf("ImageFile after DeletePicture = %q, want \"\"", u.ImageFile)
		}
		if _, err := s.SavePicture(ctx, 424242, "x.jpg", []byte("x")); !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("SavePicture(missing user) = %v, want ErrUserNotFound", err)
		}
		if err := s.DeletePicture(ctx, 424242); !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("DeletePicture(missing user) = %v, want ErrUserNotFound", err)
		}
	})
}

// TestSavePictureFailsWhole checks that a SavePicture that fails leaves
// the previous picture in place: the delete, insert and update are one
// transaction.
func TestSavePictureFailsWhole(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		if _, err := s.SavePicture(ctx, alice.ID, "alice.jpg", []byte("alice's")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SavePicture(ctx, bob.ID, "bob.jpg", []byte("bob's")); err != nil {
			t.Fatal(err)
		}

		// The name is taken (by Alice's picture): the insert fails after
		// Bob's old picture was deleted in the same transaction.
		if _, err := s.SavePicture(ctx, bob.ID, "alice.jpg", []byte("new")); err == nil {
			t.Fatal("SavePicture(a taken name) = nil, want an error")
		}
		for _, want := range []struct{ name, data string }{{"alice.jpg", "alice's"}, {"bob.jpg", "bob's"}} {
			if data, _, err := s.Picture(ctx, want.name); err != nil || string(data) != want.data {
				t.Errorf("Picture(%q) after the failed save = %q, %v, want %q", want.name, data, err, want.data)
			}
		}
		if u, err := s.User(ctx, bob.ID); err != nil || u.ImageFile != "bob.jpg" {
			t.Errorf("Bob's ImageFile after the failed save = %q (%v), want bob.jpg", u.ImageFile, err)
		}
	})
}

func TestLoginFailures(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		const key = "alice@example.com"

		n, last, err := s.LoginFailures(ctx, key)
		if err != nil || n != 0 || !last.IsZero() {
			t.Errorf("LoginFailures(none) = %d, %v, %v, want 0, zero time, nil", n, last, err)
		}
		for want := 1; want <= 3; want++ {
			got, err := s.RecordLoginFailure(ctx, key, clock.Advance(time.Second))
			if err != nil || got != want {
				t.Errorf("RecordLoginFailure() = %d, %v, want %d, nil", got, err, want)
			}
		}
		if _, err := s.RecordLoginFailure(ctx, "bob", clock.Advance(time.Hour)); err != nil {
			t.Fatal(err)
		}
		n, last, err = s.LoginFailures(ctx, key)
		if err != nil || n != 3 || !last.Equal(clock.Now().Add(-time.Hour)) {
			t.Errorf("LoginFailures() = %d, %v, %v, want 3, %v, nil", n, last, err, clock.Now().Add(-time.Hour))
		}

		if err := s.ClearLoginFailures(ctx, key); err != nil {
			t.Fatalf("ClearLoginFailures() = %v", err)
		}
		if n, _, _ := s.LoginFailures(ctx, key); n != 0 {
			t.Errorf("LoginFailures() after clearing = %d, want 0", n)
		}
		if got, _ := s.RecordLoginFailure(ctx, key, clock.Advance(time.Hour)); got != 1 {
			t.Errorf("RecordLoginFailure() after clearing = %d, want 1", got)
		}

		// Stale counts go; bob's last failure was an hour before alice's.
		deleted, err := s.DeleteStaleLoginFailures(ctx, clock.Now().Add(-time.Minute))
		if err != nil || deleted != 1 {
			t.Errorf("DeleteStaleLoginFailures() = %d, %v, want 1, nil", deleted, err)
		}
		if n, _, _ := s.LoginFailures(ctx, "bob"); n != 0 {
			t.Errorf("LoginFailures(bob) after pruning = %d, want 0", n)
		}
	})
}

// TestDeleteUserCascades checks that a user's posts, sessions, picture and
// reset tokens go with them, and nobody else's.
func TestDeleteUserCascades(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		for _, u := range []*blog.User{alice, bob} {
			createPost(t, s, u, u.Username+"'s post", time.Time{})
			createSession(t, s, u, u.Username+"'s session", now, time.Hour)
			if _, err := s.SavePicture(ctx, u.ID, u.Username+".jpg", []byte("jpeg")); err != nil {
				t.Fatal(err)
			}
			_, err := s.write.ExecContext(ctx, `INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
				[]byte(u.Username), u.ID, micros(now), micros(now.Add(time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
		}

		if err := s.DeleteUser(ctx, alice.ID); err != nil {
			t.Fatalf("DeleteUser() = %v", err)
		}
		if _, err := s.User(ctx, alice.ID); !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("User(deleted) = %v, want ErrUserNotFound", err)
		}
		rows := map[int64]map[string]int{}
		for _, u := range []*blog.User{alice, bob} {
			rows[u.ID] = map[string]int{}
			for _, table := range []string{"posts", "sessions", "pictures", "password_resets"} {
				var n int
				if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE user_id = $1`, u.ID).Scan(&n); err != nil {
					t.Fatal(err)
				}
				rows[u.ID][table] = n
			}
		}
		want := map[int64]map[string]int{
			alice.ID: {"posts": 0, "sessions": 0, "pictures": 0, "password_resets": 0},
			bob.ID:   {"posts": 1, "sessions": 1, "pictures": 1, "password_resets": 1},
		}
		if diff := cmp.Diff(want, rows); diff != "" {
			t.Errorf("rows per user after deleting alice mismatch (-want +got):\n%s", diff)
		}
	})
}
