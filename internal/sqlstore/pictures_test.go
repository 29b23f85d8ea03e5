package sqlstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// savePicture runs tx.SavePicture in a Write of its own.
func savePicture(s *Store, userID int64, name string, data []byte) (old string, err error) {
	err = s.Write(context.Background(), func(tx *Tx) error {
		old, err = tx.SavePicture(context.Background(), userID, name, data)
		return err
	})
	return old, err
}

// deletePicture runs tx.DeletePicture in a Write of its own.
func deletePicture(s *Store, userID int64) error {
	return s.Write(context.Background(), func(tx *Tx) error { return tx.DeletePicture(context.Background(), userID) })
}

func TestPictures(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		alice := createUser(t, s, "alice")

		if err := deletePicture(s, alice.ID); !errors.Is(err, blog.ErrNoPicture) {
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
			old, err := savePicture(s, alice.ID, st.file, []byte(st.data))
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

		if err := deletePicture(s, alice.ID); err != nil {
			t.Fatalf("DeletePicture() = %v", err)
		}
		if _, _, err := s.Picture(ctx, "two.jpg"); !errors.Is(err, blog.ErrPictureNotFound) {
			t.Errorf("Picture(deleted) = %v, want ErrPictureNotFound", err)
		}
		if u, _ := s.User(ctx, alice.ID); u.ImageFile != "" {
			t.Errorf("ImageFile after DeletePicture = %q, want \"\"", u.ImageFile)
		}
		if _, err := savePicture(s, 424242, "x.jpg", []byte("x")); !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("SavePicture(missing user) = %v, want ErrUserNotFound", err)
		}
		if err := deletePicture(s, 424242); !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("DeletePicture(missing user) = %v, want ErrUserNotFound", err)
		}
	})
}

// TestSavePictureFailsWhole checks that a SavePicture that fails leaves
// the previous picture in place once its Write rolls back: the delete,
// insert and update are steps of that one transaction.
func TestSavePictureFailsWhole(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		if _, err := savePicture(s, alice.ID, "alice.jpg", []byte("alice's")); err != nil {
			t.Fatal(err)
		}
		if _, err := savePicture(s, bob.ID, "bob.jpg", []byte("bob's")); err != nil {
			t.Fatal(err)
		}

		// The name is taken (by Alice's picture): the insert fails after
		// Bob's old picture was deleted in the same transaction.
		if _, err := savePicture(s, bob.ID, "alice.jpg", []byte("new")); err == nil {
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
