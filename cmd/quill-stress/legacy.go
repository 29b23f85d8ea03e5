package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/argon2"
	_ "modernc.org/sqlite" // the driver that writes the tutorial's database

	"github.com/quill-blog/quill/internal/quillproc"
)

// The account on a legacy hash: a user of the FastAPI blog tutorial's app
// whom quill import-fastapi brought over and who has not logged in since,
// so their hash is still the tutorial's.
const (
	legacyUsername = "legacy"
	legacyPassword = "tutorial-era-passphrase-7"
)

// The tutorial's hasher, pwdlib's default Argon2Hasher (argon2-cffi's
// PasswordHasher defaults): Argon2id, 64 MiB, 3 passes, 4 lanes, a 16-byte
// salt and a 32-byte tag.
const (
	legacyMemoryKiB = 64 * 1024
	legacyPasses    = 3
	legacyLanes     = 4
	legacySaltLen   = 16
	legacyTagLen    = 32
)

// legacyHash hashes password the way the tutorial's hasher does, in its PHC
// format: $argon2id$v=19$m=65536,t=3,p=4$SALT$TAG, both in base64 without
// padding. The salt is read from random.
func legacyHash(password string, random io.Reader) (string, error) {
	salt := make([]byte, legacySaltLen)
	if _, err := io.ReadFull(random, salt); err != nil {
		return "", err
	}
	tag := argon2.IDKey([]byte(password), salt, legacyPasses, legacyMemoryKiB, legacyLanes, legacyTagLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, legacyMemoryKiB, legacyPasses, legacyLanes,
		b64.EncodeToString(salt), b64.EncodeToString(tag)), nil
}

// tutorialSchema is the FastAPI blog tutorial's database as SQLAlchemy
// creates it on SQLite, the tables quill import-fastapi reads (see
// cmd/quill/testdata/make_fastapi_db.py).
const tutorialSchema = `
CREATE TABLE users (
	id INTEGER NOT NULL,
	username VARCHAR(50) NOT NULL,
	email VARCHAR(120) NOT NULL,
	image_file VARCHAR(200),
	password_hash VARCHAR(200) NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (username),
	UNIQUE (email)
);
CREATE INDEX ix_users_id ON users (id);
CREATE TABLE posts (
	id INTEGER NOT NULL,
	title VARCHAR(100) NOT NULL,
	content TEXT NOT NULL,
	user_id INTEGER NOT NULL,
	date_posted DATETIME NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE INDEX ix_posts_id ON posts (id);
CREATE INDEX ix_posts_user_id ON posts (user_id);
`

// writeTutorialDB writes a new tutorial database at path whose one user,
// legacyUsername, has the password hash hash, and which has no posts.
func writeTutorialDB(ctx context.Context, path, hash string) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, tutorialSchema); err != nil {
		return fmt.Errorf("create the tutorial's tables: %w", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO users (id, username, email, image_file, password_hash) VALUES (1, ?, ?, NULL, ?)`,
		legacyUsername, legacyUsername+"@example.com", hash); err != nil {
		return fmt.Errorf("insert the tutorial's user: %w", err)
	}
	return db.Close()
}

// importLegacy gives the server's database the account on a legacy hash
// the way an operator would: it writes a tutorial database holding that
// account into dir and runs bin import-fastapi on it, with the server's
// environment env, before the server starts.
func importLegacy(ctx context.Context, bin, dir string, env []string) error {
	hash, err := legacyHash(legacyPassword, rand.Reader)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "fastapi.db")
	if err := writeTutorialDB(ctx, path, hash); err != nil {
		return err
	}
	out, err := quillproc.Command(ctx, bin, dir, env, "import-fastapi", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("quill import-fastapi %s: %v\n%s", path, err, out)
	}
	// A hash quill did not take as it is would log in fast, or not at all:
	// the figure would not be the legacy hash's.
	if !strings.Contains(string(out), "users: 1 imported") || strings.Contains(string(out), "warning") {
		return fmt.Errorf("quill import-fastapi did not import the account on a legacy hash as it is:\n%s", out)
	}
	return nil
}
