package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/quill-blog/quill/internal/blog"
)

// userColumns are the columns scanUser reads, from users aliased as u.
const userColumns = `u.id, u.username, u.email, u.image_file, u.password_hash, u.created_at`

// scanUser reads userColumns.
func scanUser(row interface{ Scan(...any) error }, u *blog.User) error {
	var (
		image   sql.Null[string]
		created int64
	)
	if err := row.Scan(&u.ID, &u.Username, &u.Email, &image, &u.PasswordHash, &created); err != nil {
		return err
	}
	u.ImageFile, u.CreatedAt = image.V, fromMicros(created)
	return nil
}

// keys returns what the unique indexes compare: u's username key and its
// lower-cased email.
func keys(u *blog.User) (usernameKey, email string, err error) {
	usernameKey, err = blog.UsernameKey(u.Username)
	if err != nil {
		// The validator refuses such names before they get here.
		return "", "", fmt.Errorf("username key: %w", err)
	}
	return usernameKey, strings.ToLower(u.Email), nil
}

// User returns the user with the given id, or blog.ErrUserNotFound.
func (s *Store) User(ctx context.Context, id int64) (*blog.User, error) {
	return userByID(s.queryRow(ctx, s.read, userByIDQuery, id), id)
}

// User returns the user with the given id as this transaction sees it, or
// blog.ErrUserNotFound.
func (tx *Tx) User(ctx context.Context, id int64) (*blog.User, error) {
	return userByID(tx.tx.QueryRowContext(ctx, userByIDQuery, id), id)
}

const userByIDQuery = `SELECT ` + userColumns + ` FROM users u WHERE u.id = $1`

func userByID(row *sql.Row, id int64) (*blog.User, error) {
	var u blog.User
	err := scanUser(row, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, blog.ErrUserNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("select user %d: %w", id, err)
	}
	return &u, nil
}

// UserByLogin returns the user a login form names, or blog.ErrUserNotFound.
// key comes from blog.LoginKey: an email if it has an "@" (usernames
// cannot), otherwise a username key.
func (s *Store) UserByLogin(ctx context.Context, key string) (*blog.User, error) {
	query := `SELECT ` + userColumns + ` FROM users u WHERE u.username_key = $1`
	if strings.Contains(key, "@") {
		query = `SELECT ` + userColumns + ` FROM users u WHERE u.email = $1`
	}
	var u blog.User
	err := scanUser(s.queryRow(ctx, s.read, query, key), &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, blog.ErrUserNotFound
	}
	if err != nil {
		// Not the key: it may be an email address, and logs are not the place.
		return nil, fmt.Errorf("select user by login: %w", err)
	}
	return &u, nil
}

// CreateUser adds u and sets its ID and CreatedAt; u.Email is stored (and
// left) lower-cased. A username equal to another one under
// blog.UsernameKey is blog.ErrUsernameTaken, an email already used is
// blog.ErrEmailTaken; when both are taken, the username is reported.
func (tx *Tx) CreateUser(ctx context.Context, u *blog.User) error {
	key, email, err := keys(u)
	if err != nil {
		return err
	}
	if err := tx.nameFree(ctx, 0, key); err != nil {
		return err
	}
	created := tx.store.timestamp()
	err = tx.tx.QueryRowContext(ctx, `
		INSERT INTO users (username, username_key, email, password_hash, image_file, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING id`,
		u.Username, key, email, u.PasswordHash, nullString(u.ImageFile), micros(created),
	).Scan(&u.ID)
	if err != nil {
		if taken := tx.store.taken(err); taken != nil {
			return taken
		}
		return fmt.Errorf("insert user: %w", err)
	}
	u.Email, u.CreatedAt = email, created
	return nil
}

// nameFree reports blog.ErrUsernameTaken when a user other than self has
// the username key. The unique index decides races; asking first makes a
// registration whose username and email are both taken name the username.
func (tx *Tx) nameFree(ctx context.Context, self int64, key string) error {
	var taken bool
	err := tx.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE username_key = $1 AND id <> $2)`,
		key, self).Scan(&taken)
	if err != nil {
		return fmt.Errorf("look up username: %w", err)
	}
	if taken {
		return blog.ErrUsernameTaken
	}
	return nil
}

// UpdateProfile changes the user's username and email. It applies only
// while the stored password hash is still u.PasswordHash, the one the
// caller read when it authenticated: a request that was authenticated
// before a password change or reset (whose session that change ended) must
// not write afterwards. Then the error is blog.ErrInvalidToken; a missing
// user is blog.ErrUserNotFound. The password hash and picture are never
// written here.
func (tx *Tx) UpdateProfile(ctx context.Context, u *blog.User) error {
	key, email, err := keys(u)
	if err != nil {
		return err
	}
	if err := tx.nameFree(ctx, u.ID, key); err != nil {
		return err
	}
	res, err := tx.tx.ExecContext(ctx, `
		UPDATE users
		SET username = $1, username_key = $2, email = $3
		WHERE id = $4 AND password_hash = $5`,
		u.Username, key, email, u.ID, u.PasswordHash)
	if taken := tx.store.taken(err); taken != nil {
		return taken
	}
	ok, err := changed(res, err)
	if err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	if !ok {
		return tx.stale(ctx, u.ID)
	}
	u.Email = email
	return nil
}

// SetPasswordHash replaces the user's password hash oldHash, the one the
// caller read, with newHash. When the stored hash is no longer oldHash the
// password changed meanwhile (and ended the caller's session): the error
// is blog.ErrInvalidToken. A missing user is blog.ErrUserNotFound.
func (tx *Tx) SetPasswordHash(ctx context.Context, userID int64, oldHash, newHash string) error {
	ok, err := changed(tx.tx.ExecContext(ctx,
		`UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3`, newHash, userID, oldHash))
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", userID, err)
	}
	if !ok {
		return tx.stale(ctx, userID)
	}
	return nil
}

// ReplacePasswordHash sets the user's password hash whatever it was: for
// a password reset, whose token proves the right to, and for an
// administrator. A missing user is blog.ErrUserNotFound.
func (tx *Tx) ReplacePasswordHash(ctx context.Context, userID int64, hash string) error {
	ok, err := changed(tx.tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, userID))
	switch {
	case err != nil:
		return fmt.Errorf("set password of user %d: %w", userID, err)
	case !ok:
		return blog.ErrUserNotFound
	}
	return nil
}

// stale explains why a conditional update of user id changed no row: the
// user is gone, or its password changed since the caller read it.
func (tx *Tx) stale(ctx context.Context, id int64) error {
	if _, err := tx.User(ctx, id); err != nil {
		return err
	}
	return blog.ErrInvalidToken
}

// DeleteUser deletes the user and, by ON DELETE CASCADE, their posts,
// sessions, picture and password reset tokens, and returns how many posts
// went with them. A missing user is blog.ErrUserNotFound.
func (tx *Tx) DeleteUser(ctx context.Context, id int64) (posts int64, err error) {
	err = tx.tx.QueryRowContext(ctx, `DELETE FROM users WHERE id = $1 RETURNING post_count`, id).Scan(&posts)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, blog.ErrUserNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("delete user %d: %w", id, err)
	}
	return posts, nil
}

// OtherPasswordHashes calls fn with each stored password hash that does
// not start with prefix, the current parameters' (password hashes are
// upgraded on login, so these are few but for accounts imported and not
// yet logged in). It reads as it goes: fn must not use the store.
func (s *Store) OtherPasswordHashes(ctx context.Context, prefix string, fn func(hash string)) error {
	rows, err := s.read.QueryContext(ctx,
		`SELECT password_hash FROM users WHERE substr(password_hash, 1, $1) <> $2`, len(prefix), prefix)
	if err != nil {
		return fmt.Errorf("select password hashes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return fmt.Errorf("select password hashes: %w", err)
		}
		fn(h)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("select password hashes: %w", err)
	}
	return nil
}
