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

// CreateUser adds u and sets its ID and CreatedAt; u.Email is stored (and
// left) lower-cased. A username equal to another one under
// blog.UsernameKey is blog.ErrUsernameTaken, an email already used is
// blog.ErrEmailTaken, also when a concurrent registration wins the race.
func (s *Store) CreateUser(ctx context.Context, u *blog.User) error {
	key, email, err := keys(u)
	if err != nil {
		return err
	}
	created := s.timestamp()
	err = s.queryRow(ctx, s.write, `
		INSERT INTO users (username, username_key, email, password_hash, image_file, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING id`,
		u.Username, key, email, u.PasswordHash, nullString(u.ImageFile), micros(created),
	).Scan(&u.ID)
	if err != nil {
		if taken := s.taken(err); taken != nil {
			return taken
		}
		return fmt.Errorf("insert user: %w", err)
	}
	u.Email, u.CreatedAt = email, created
	return nil
}

// User returns the user with the given id, or blog.ErrUserNotFound.
func (s *Store) User(ctx context.Context, id int64) (*blog.User, error) {
	var u blog.User
	err := scanUser(s.queryRow(ctx, s.read, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id), &u)
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

// UpdateUser changes the user's username and email. It applies only while
// the stored password hash is still u.PasswordHash, the one the caller read
// when it authenticated: a request that was authenticated before a password
// change or reset (whose session that change ended) must not write
// afterwards. Then the error is blog.ErrInvalidToken. The password hash and
// picture are never written here: SetPassword and SavePicture own them.
func (s *Store) UpdateUser(ctx context.Context, u *blog.User) error {
	key, email, err := keys(u)
	if err != nil {
		return err
	}
	res, err := s.write.ExecContext(ctx, `
		UPDATE users
		SET username = $1, username_key = $2, email = $3
		WHERE id = $4 AND password_hash = $5`,
		u.Username, key, email, u.ID, u.PasswordHash)
	if err != nil {
		if taken := s.taken(err); taken != nil {
			return taken
		}
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	} else if n == 0 {
		return s.staleUser(ctx, u.ID)
	}
	u.Email = email
	return nil
}

// staleUser explains why a conditional update of user id changed no row:
// the user is gone, or its password changed since the caller read it.
func (s *Store) staleUser(ctx context.Context, id int64) error {
	if _, err := s.User(ctx, id); err != nil {
		return err
	}
	return blog.ErrInvalidToken
}

// SetPasswordHash replaces the user's password hash with newHash if it is
// still oldHash, and reports whether it did. Upgrading a legacy hash after a
// login uses it, so a password changed meanwhile is not overwritten.
func (s *Store) SetPasswordHash(ctx context.Context, userID int64, oldHash, newHash string) (bool, error) {
	res, err := s.write.ExecContext(ctx,
		`UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3`,
		newHash, userID, oldHash)
	if err != nil {
		return false, fmt.Errorf("set password hash of user %d: %w", userID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("set password hash of user %d: %w", userID, err)
	}
	return n == 1, nil
}

// DeleteUser deletes the user and, by ON DELETE CASCADE, their posts,
// sessions, picture and password reset tokens. A missing user is
// blog.ErrUserNotFound.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	} else if n == 0 {
		return blog.ErrUserNotFound
	}
	return nil
}
