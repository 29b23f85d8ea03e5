package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// Email verification links. An account has at most one live link; its
// token is stored only as its SHA-256 (auth.HashOpaque), works once, and
// confirms only the address it was sent to.

// EmailVerification is an account's verification link as stored.
type EmailVerification struct {
	UserID    int64
	TokenHash []byte
	Email     string // the address the link was sent to, lower-cased
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PutEmailVerification stores v as its account's one link, replacing the
// older one, unless notAfter is not zero and the older one was made after
// it: then nothing changes, and ok is false with the older link's
// CreatedAt. The check and the write are one statement, so of two
// requests racing, one wins. A missing user is blog.ErrUserNotFound.
func (tx *Tx) PutEmailVerification(ctx context.Context, v *EmailVerification, notAfter time.Time) (ok bool, last time.Time, err error) {
	limit := int64(math.MaxInt64)
	if !notAfter.IsZero() {
		limit = micros(notAfter)
	}
	var id int64
	err = tx.tx.QueryRowContext(ctx, `
		INSERT INTO email_verifications (user_id, token_hash, email, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, email = excluded.email,
			created_at = excluded.created_at, expires_at = excluded.expires_at
		WHERE email_verifications.created_at <= $6
		RETURNING user_id`,
		v.UserID, v.TokenHash, strings.ToLower(v.Email), micros(v.CreatedAt), micros(v.ExpiresAt), limit).Scan(&id)
	switch {
	case tx.store.dialect.foreignKeyViolation(err):
		return false, time.Time{}, blog.ErrUserNotFound
	case errors.Is(err, sql.ErrNoRows):
		var at int64
		err := tx.tx.QueryRowContext(ctx, `SELECT created_at FROM email_verifications WHERE user_id = $1`, v.UserID).Scan(&at)
		if err != nil {
			return false, time.Time{}, fmt.Errorf("read verification link of user %d: %w", v.UserID, err)
		}
		return false, fromMicros(at), nil
	case err != nil:
		return false, time.Time{}, fmt.Errorf("store verification link of user %d: %w", v.UserID, err)
	}
	return true, time.Time{}, nil
}

// EmailVerificationUser returns the account an unexpired link belongs to
// and the address it was sent to; anything else is
// blog.ErrInvalidVerification. It changes nothing.
func (s *Store) EmailVerificationUser(ctx context.Context, tokenHash []byte, now time.Time) (*blog.User, string, error) {
	var (
		u     blog.User
		email string
	)
	row := s.read.QueryRowContext(ctx, `
		SELECT `+userColumns+`, v.email
		FROM email_verifications v JOIN users u ON u.id = v.user_id
		WHERE v.token_hash = $1 AND v.expires_at > $2`,
		tokenHash, micros(now))
	err := scanUser(extraScan{row, &email}, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", blog.ErrInvalidVerification
	}
	if err != nil {
		return nil, "", fmt.Errorf("select verification link: %w", err)
	}
	return &u, email, nil
}

// extraScan scans a row of userColumns followed by more columns.
type extraScan struct {
	row   *sql.Row
	extra any
}

func (e extraScan) Scan(dest ...any) error { return e.row.Scan(append(dest, e.extra)...) }

// TakeEmailVerification uses a link: if it is unexpired, it is deleted
// and its account's id and address returned. Anything else is
// blog.ErrInvalidVerification. Of two transactions taking one link, one
// wins.
func (tx *Tx) TakeEmailVerification(ctx context.Context, tokenHash []byte, now time.Time) (userID int64, email string, err error) {
	err = tx.tx.QueryRowContext(ctx, `
		DELETE FROM email_verifications WHERE token_hash = $1 AND expires_at > $2
		RETURNING user_id, email`,
		tokenHash, micros(now)).Scan(&userID, &email)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", blog.ErrInvalidVerification
	}
	if err != nil {
		return 0, "", fmt.Errorf("use verification link: %w", err)
	}
	return userID, email, nil
}

// DeleteEmailVerification voids the account's link if it was sent to
// email, or whatever its address when email is "".
func (tx *Tx) DeleteEmailVerification(ctx context.Context, userID int64, email string) error {
	_, err := tx.tx.ExecContext(ctx, `DELETE FROM email_verifications WHERE user_id = $1 AND ($2 = '' OR email = $2)`,
		userID, strings.ToLower(email))
	if err != nil {
		return fmt.Errorf("void verification link of user %d: %w", userID, err)
	}
	return nil
}

// MarkEmailVerified records that the account's address, which must still
// be email, was confirmed at now; one confirmed already keeps its time.
// It reports false, changing nothing, when the account's address is not
// email (or the account is gone).
func (tx *Tx) MarkEmailVerified(ctx context.Context, userID int64, email string, now time.Time) (bool, error) {
	ok, err := changed(tx.tx.ExecContext(ctx, `
		UPDATE users SET email_verified_at = COALESCE(email_verified_at, $3) WHERE id = $1 AND email = $2`,
		userID, strings.ToLower(email), micros(now)))
	if err != nil {
		return false, fmt.Errorf("mark email of user %d verified: %w", userID, err)
	}
	return ok, nil
}

// ConfirmPendingEmail makes the account's pending address, which must
// still be email, its address, verified at now. It reports false,
// changing nothing, when email is not the pending address; an address
// another account has taken meanwhile is blog.ErrEmailTaken.
func (tx *Tx) ConfirmPendingEmail(ctx context.Context, userID int64, email string, now time.Time) (bool, error) {
	ok, err := changed(tx.tx.ExecContext(ctx, `
		UPDATE users SET email = $2, email_verified_at = $3, pending_email = NULL WHERE id = $1 AND pending_email = $2`,
		userID, strings.ToLower(email), micros(now)))
	if taken := tx.store.taken(err); taken != nil {
		return false, taken
	}
	if err != nil {
		return false, fmt.Errorf("confirm new email of user %d: %w", userID, err)
	}
	return ok, nil
}

// SetPendingEmail sets the address the account asked to change to, or
// clears it when email is "". A missing user is blog.ErrUserNotFound.
func (tx *Tx) SetPendingEmail(ctx context.Context, userID int64, email string) error {
	ok, err := changed(tx.tx.ExecContext(ctx, `UPDATE users SET pending_email = $2 WHERE id = $1`,
		userID, nullString(strings.ToLower(email))))
	switch {
	case err != nil:
		return fmt.Errorf("set pending email of user %d: %w", userID, err)
	case !ok:
		return blog.ErrUserNotFound
	}
	return nil
}

// EmailTaken reports whether an account other than self has the address.
func (tx *Tx) EmailTaken(ctx context.Context, email string, self int64) (bool, error) {
	var taken bool
	err := tx.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE email = $1 AND id <> $2)`,
		strings.ToLower(email), self).Scan(&taken)
	if err != nil {
		return false, fmt.Errorf("look up email: %w", err)
	}
	return taken, nil
}

// DeleteExpiredEmailVerifications deletes the links that expired at or
// before now and reports how many there were.
func (s *Store) DeleteExpiredEmailVerifications(ctx context.Context, now time.Time) (int64, error) {
	return s.deleteExpired(ctx, "email_verifications", now)
}
