package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// Password reset tokens are stored only as their SHA-256
// (auth.HashOpaque), and used once: using one deletes it.

// CreatePasswordReset stores the hash of a new reset token for the user,
// valid from now until expires. A missing user is blog.ErrUserNotFound.
func (tx *Tx) CreatePasswordReset(ctx context.Context, userID int64, tokenHash []byte, now, expires time.Time) error {
	_, err := tx.tx.ExecContext(ctx, `
		INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		tokenHash, userID, micros(now), micros(expires))
	if tx.store.dialect.foreignKeyViolation(err) {
		return blog.ErrUserNotFound
	}
	if err != nil {
		return fmt.Errorf("create reset token for user %d: %w", userID, err)
	}
	return nil
}

// DeletePasswordResets voids every reset token of the user.
func (tx *Tx) DeletePasswordResets(ctx context.Context, userID int64) error {
	if _, err := tx.tx.ExecContext(ctx, `DELETE FROM password_resets WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("void reset tokens of user %d: %w", userID, err)
	}
	return nil
}

// PasswordResetUser returns the user an unused, unexpired reset token
// belongs to; anything else is blog.ErrInvalidReset. It changes nothing.
func (s *Store) PasswordResetUser(ctx context.Context, tokenHash []byte, now time.Time) (*blog.User, error) {
	var u blog.User
	err := scanUser(s.read.QueryRowContext(ctx, `
		SELECT `+userColumns+`
		FROM password_resets r JOIN users u ON u.id = r.user_id
		WHERE r.token_hash = $1 AND r.expires_at > $2`,
		tokenHash, micros(now)), &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, blog.ErrInvalidReset
	}
	if err != nil {
		return nil, fmt.Errorf("select reset token: %w", err)
	}
	return &u, nil
}

// TakePasswordReset uses a reset token: if it is unexpired, it is deleted
// (single use needs no record of it) and its user's id returned. Anything
// else is blog.ErrInvalidReset. Of two transactions taking one token, one
// wins.
func (tx *Tx) TakePasswordReset(ctx context.Context, tokenHash []byte, now time.Time) (userID int64, err error) {
	err = tx.tx.QueryRowContext(ctx, `
		DELETE FROM password_resets
		WHERE token_hash = $1 AND expires_at > $2
		RETURNING user_id`,
		tokenHash, micros(now)).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, blog.ErrInvalidReset
	}
	if err != nil {
		return 0, fmt.Errorf("use reset token: %w", err)
	}
	return userID, nil
}

// DeleteExpiredPasswordResets deletes the reset tokens that expired at or
// before now and reports how many there were.
func (s *Store) DeleteExpiredPasswordResets(ctx context.Context, now time.Time) (int64, error) {
	return s.deleteExpired(ctx, "password_resets", now)
}
