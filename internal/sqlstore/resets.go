package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// Password changes and password reset tokens. A reset token is stored only
// as its SHA-256 (auth.HashOpaque); a user has at most one that works: a
// new one replaces the old, and any password change ends them all.

// SetPassword replaces the user's password hash oldHash with newHash, ends
// every session of the user but keepSession (when it is not ""), and voids
// any password reset token, all at once. It applies only while the stored
// hash is still oldHash, the one the caller verified: otherwise the
// password changed meanwhile and the error is blog.ErrInvalidToken (the
// change ended the caller's session). A missing user is
// blog.ErrUserNotFound.
func (s *Store) SetPassword(ctx context.Context, userID int64, oldHash, newHash, keepSession string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3`,
			newHash, userID, oldHash)
		if err != nil {
			return fmt.Errorf("set password of user %d: %w", userID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("set password of user %d: %w", userID, err)
		} else if n == 0 {
			return errStale
		}
		return endCredentials(ctx, tx, userID, keepSession)
	})
	if errors.Is(err, errStale) {
		return s.staleUser(ctx, userID)
	}
	return err
}

// errStale rolls back a transaction whose conditional update found the row
// changed; the caller then works out which error that is.
var errStale = errors.New("row changed since it was read")

// endCredentials deletes the user's sessions but keepSession, and the
// user's password reset tokens: what a new password makes void.
func endCredentials(ctx context.Context, tx *sql.Tx, userID int64, keepSession string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, keepSession); err != nil {
		return fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM password_resets WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("void reset tokens of user %d: %w", userID, err)
	}
	return nil
}

// CreatePasswordReset stores the hash of a new reset token for the user,
// valid from now until expires, and voids the user's older ones. A
// missing user is blog.ErrUserNotFound.
func (s *Store) CreatePasswordReset(ctx context.Context, userID int64, tokenHash []byte, now, expires time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM password_resets WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("void reset tokens of user %d: %w", userID, err)
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, userID).Scan(&exists); err != nil {
			return fmt.Errorf("create reset token for user %d: %w", userID, err)
		}
		if !exists {
			return blog.ErrUserNotFound
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			tokenHash, userID, micros(now), micros(expires))
		if err != nil {
			return fmt.Errorf("create reset token for user %d: %w", userID, err)
		}
		return nil
	})
}

// PasswordResetUser returns the user an unused, unexpired reset token
// belongs to; anything else is blog.ErrInvalidReset. It changes nothing:
// the caller checks the new password against the user's name first.
func (s *Store) PasswordResetUser(ctx context.Context, tokenHash []byte, now time.Time) (*blog.User, error) {
	var u blog.User
	err := scanUser(s.read.QueryRowContext(ctx, `
		SELECT `+userColumns+`
		FROM password_resets r JOIN users u ON u.id = r.user_id
		WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2`,
		tokenHash, micros(now)), &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, blog.ErrInvalidReset
	}
	if err != nil {
		return nil, fmt.Errorf("select reset token: %w", err)
	}
	return &u, nil
}

// ResetPassword uses a reset token: if it is unused and unexpired, it is
// deleted (single use needs no record of it), the user's password hash
// becomes hash, and every session and other reset token of the user ends,
// all at once. It returns the
// user's id. Of two concurrent calls with one token, one wins; the other,
// and any later one, gets blog.ErrInvalidReset.
func (s *Store) ResetPassword(ctx context.Context, tokenHash []byte, hash string, now time.Time) (userID int64, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `
			DELETE FROM password_resets
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
			RETURNING user_id`,
			tokenHash, micros(now)).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return blog.ErrInvalidReset
		}
		if err != nil {
			return fmt.Errorf("use reset token: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, userID); err != nil {
			return fmt.Errorf("reset password of user %d: %w", userID, err)
		}
		return endCredentials(ctx, tx, userID, "")
	})
	return userID, err
}

// DeleteExpiredPasswordResets deletes the reset tokens that expired at or
// before now and reports how many there were.
func (s *Store) DeleteExpiredPasswordResets(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM password_resets WHERE expires_at <= $1`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired reset tokens: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired reset tokens: %w", err)
	}
	return n, nil
}
