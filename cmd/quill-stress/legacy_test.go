package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/auth"
)

// TestLegacyHash checks that the hash is in pwdlib's format and that quill
// verifies it as a legacy hash: it matches, and wants rehashing.
func TestLegacyHash(t *testing.T) {
	hash, err := legacyHash(legacyPassword, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// 16 bytes are 22 base64 characters without padding, 32 bytes 43.
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=3,p=4\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(hash) {
		t.Errorf("legacyHash = %q, want pwdlib's $argon2id$v=19$m=65536,t=3,p=4$SALT$TAG", hash)
	}
	h := auth.NewHasher(auth.DefaultParams, 1, time.Minute, nil)
	if !h.Recognizes(hash) {
		t.Fatalf("quill does not recognize %q", hash)
	}
	if ok, rehash, err := h.Verify(context.Background(), legacyPassword, hash); !ok || !rehash || err != nil {
		t.Errorf("Verify(the password) = %v, %v, %v, want true, true, nil", ok, rehash, err)
	}
	if ok, _, err := h.Verify(context.Background(), "not-the-password", hash); ok || err != nil {
		t.Errorf("Verify(another password) = %v, %v, want false, nil", ok, err)
	}
}

func TestWriteTutorialDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fastapi.db")
	if err := writeTutorialDB(context.Background(), path, "$argon2id$the-hash"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var id int
	var name, email, hash string
	var image sql.NullString
	var posts int
	err = db.QueryRow(`SELECT id, username, email, image_file, password_hash, (SELECT count(*) FROM posts) FROM users`).Scan(&id, &name, &email, &image, &hash, &posts)
	if err != nil || id != 1 || name != legacyUsername || email != "legacy@example.com" || image.Valid || hash != "$argon2id$the-hash" || posts != 0 {
		t.Errorf("the tutorial database holds %d %q %q %v %q and %d posts (%v), want the one legacy user and no posts", id, name, email, image, hash, posts, err)
	}
}
