package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// userColumns are the columns scanUser reads, from users aliased as u.
const userColumns = `u.id, u.username, u.email, u.image_file, u.password_hash, u.created_at, u.email_verified_at, u.pending_email`

// scanUser reads userColumns.
func scanUser(row interface{ Scan(...any) error }, u *blog.User) error {
	var (
		image   sql.Null[string]
		created int64
		email   emailState
	)
	if err := row.Scan(&u.ID, &u.Username, &u.Email, &image, &u.PasswordHash, &created, &email.verifiedAt, &email.pending); err != nil {
		return err
	}
	u.ImageFile, u.CreatedAt = image.V, fromMicros(created)
	email.set(u)
	return nil
}

// emailState holds the columns of an account's verification as scanned:
// users.email_verified_at and users.pending_email.
type emailState struct {
	verifiedAt sql.Null[int64]
	pending    sql.Null[string]
}

// set copies the state into u.
func (e emailState) set(u *blog.User) {
	u.EmailVerifiedAt, u.PendingEmail = time.Time{}, e.pending.V
	if e.verifiedAt.Valid {
		u.EmailVerifiedAt = fromMicros(e.verifiedAt.V)
	}
}

// userKeys are what the unique indexes on users compare.
type userKeys struct {
	username string // blog.UsernameKey
	skeleton string // blog.UsernameSkeleton
	email    string // lower-cased
}

// keys returns u's userKeys.
func keys(u *blog.User) (userKeys, error) {
	key, err := blog.UsernameKey(u.Username)
	if err != nil {
		// The validator refuses such names before they get here.
		return userKeys{}, fmt.Errorf("username key: %w", err)
	}
	return userKeys{username: key, skeleton: blog.UsernameSkeleton(u.Username), email: strings.ToLower(u.Email)}, nil
}

// UsernameTaken reports whether an account has the username, ignoring
// case and width, or one that looks the same (blog.UsernameSkeleton).
func (s *Store) UsernameTaken(ctx context.Context, username string) (bool, error) {
	k, err := keys(&blog.User{Username: username})
	if err != nil {
		return false, err
	}
	var taken bool
	err = s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE username_key = $1 OR username_skeleton = $2)`,
		k.username, k.skeleton).Scan(&taken)
	if err != nil {
		return false, fmt.Errorf("look up username: %w", err)
	}
	return taken, nil
}

// NamesTaken reports whether an account other than self (0: any) has
// the username, ignoring case and width, or one that looks the same, and
// whether one has the email, ignoring case. An empty name, or a username
// that cannot be compared (blog.UsernameKey), is not looked up and is
// reported free.
func (s *Store) NamesTaken(ctx context.Context, username, email string, self int64) (usernameTaken, emailTaken bool, err error) {
	var key, skeleton, mail sql.Null[string]
	if username != "" {
		if k, err := keys(&blog.User{Username: username}); err == nil {
			key, skeleton = nullString(k.username), nullString(k.skeleton)
		}
	}
	if email != "" {
		mail = nullString(strings.ToLower(email))
	}
	err = s.read.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM users WHERE (username_key = $1 OR username_skeleton = $2) AND id <> $4),
		EXISTS (SELECT 1 FROM users WHERE email = $3 AND id <> $4)`,
		key, skeleton, mail, self).Scan(&usernameTaken, &emailTaken)
	if err != nil {
		return false, false, fmt.Errorf("look up names: %w", err)
	}
	return usernameTaken, emailTaken, nil
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
// blog.UsernameKey, or that looks like one (blog.UsernameSkeleton), is
// blog.ErrUsernameTaken, an email already used is blog.ErrEmailTaken;
// when both are taken, the username is reported.
func (tx *Tx) CreateUser(ctx context.Context, u *blog.User) error {
	k, err := keys(u)
	if err != nil {
		return err
	}
	if err := tx.nameFree(ctx, 0, k); err != nil {
		return err
	}
	created := tx.store.timestamp()
	err = tx.tx.QueryRowContext(ctx, `
		INSERT INTO users (username, username_key, username_skeleton, email, password_hash, image_file, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING id`,
		u.Username, k.username, k.skeleton, k.email, u.PasswordHash, nullString(u.ImageFile), micros(created),
	).Scan(&u.ID)
	if err != nil {
		if taken := tx.store.taken(err); taken != nil {
			return taken
		}
		return fmt.Errorf("insert user: %w", err)
	}
	u.Email, u.CreatedAt = k.email, created
	return nil
}

// nameFree reports blog.ErrUsernameTaken when a user other than self has
// the username key or skeleton of k. The unique indexes decide races;
// asking first makes a registration whose username and email are both
// taken name the username.
func (tx *Tx) nameFree(ctx context.Context, self int64, k userKeys) error {
	var taken bool
	err := tx.tx.QueryRowContext(ctx, `
		SELECT EXISTS (SELECT 1 FROM users WHERE (username_key = $1 OR username_skeleton = $2) AND id <> $3)`,
		k.username, k.skeleton, self).Scan(&taken)
	if err != nil {
		return fmt.Errorf("look up username: %w", err)
	}
	if taken {
		return blog.ErrUsernameTaken
	}
	return nil
}

// UpdateProfile changes the user's username and email; a new email is
// unverified and drops the pending one. It applies only
// while the stored password hash is still u.PasswordHash, the one the
// caller read when it authenticated: a request that was authenticated
// before a password change or reset (whose session that change ended) must
// not write afterwards. Then the error is blog.ErrInvalidToken; a missing
// user is blog.ErrUserNotFound. The password hash and picture are never
// written here.
//
// A new username is checked as a new account's is. A name kept, in any
// case, is not checked again: an account whose name looks like an older
// account's, made before that was refused, keeps it.
func (tx *Tx) UpdateProfile(ctx context.Context, u *blog.User) error {
	k, err := keys(u)
	if err != nil {
		return err
	}
	var oldKey string
	err = tx.tx.QueryRowContext(ctx, `SELECT username_key FROM users WHERE id = $1`, u.ID).Scan(&oldKey)
	if errors.Is(err, sql.ErrNoRows) {
		return blog.ErrUserNotFound
	}
	if err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	// A new address is unverified, and replaces any address waiting to
	// be confirmed. (SET reads the row as it was.)
	const setEmail = `email = $3,
		email_verified_at = CASE WHEN email = $3 THEN email_verified_at END,
		pending_email = CASE WHEN email = $3 THEN pending_email END`
	query := `UPDATE users SET username = $1, username_key = $2, ` + setEmail + ` WHERE id = $4 AND password_hash = $5`
	args := []any{u.Username, k.username, k.email, u.ID, u.PasswordHash}
	if k.username != oldKey {
		if err := tx.nameFree(ctx, u.ID, k); err != nil {
			return err
		}
		query = `UPDATE users SET username = $1, username_key = $2, username_skeleton = $6, ` + setEmail + `
			WHERE id = $4 AND password_hash = $5`
		args = append(args, k.skeleton)
	}
	res, err := tx.tx.ExecContext(ctx, query, args...)
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
	u.Email = k.email
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
