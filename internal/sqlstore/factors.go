package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// Second factors: an account's TOTP factor and its recovery codes, and
// the login challenges already used. TOTP secrets arrive sealed (package
// auth) and recovery codes hashed: the store never sees either in the
// clear.

const totpColumns = `user_id, secret, created_at, confirmed_at, last_step`

func scanTOTP(row *sql.Row) (*blog.TOTP, error) {
	var (
		t         blog.TOTP
		created   int64
		confirmed sql.Null[int64]
	)
	err := row.Scan(&t.UserID, &t.Sealed, &created, &confirmed, &t.LastStep)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("select TOTP factor: %w", err)
	}
	t.CreatedAt = fromMicros(created)
	if confirmed.Valid {
		t.ConfirmedAt = fromMicros(confirmed.V)
	}
	return &t, nil
}

// TOTP returns the user's TOTP factor, pending or confirmed, or nil when
// the user has none. GET /api/users/me asks on every call, so the answer
// is kept in the read cache while the database does not change.
func (s *Store) TOTP(ctx context.Context, userID int64) (*blog.TOTP, error) {
	v, cacheable := s.cache.version()
	if cacheable {
		if t, ok := s.cache.totp(v, userID); ok {
			return t, nil
		}
	}
	t, err := scanTOTP(s.queryRow(ctx, s.read, `SELECT `+totpColumns+` FROM totp_factors WHERE user_id = $1`, userID))
	if err == nil && cacheable {
		s.cache.storeTOTP(v, userID, t)
	}
	return t, err
}

// TOTP is Store.TOTP as this transaction sees it.
func (tx *Tx) TOTP(ctx context.Context, userID int64) (*blog.TOTP, error) {
	return scanTOTP(tx.tx.QueryRowContext(ctx, `SELECT `+totpColumns+` FROM totp_factors WHERE user_id = $1`, userID))
}

// StartTOTP stores a new, unconfirmed TOTP factor for the user, replacing
// an unconfirmed one. A confirmed one stays: the error is
// blog.ErrTOTPEnabled. A missing user is blog.ErrUserNotFound.
func (tx *Tx) StartTOTP(ctx context.Context, userID int64, sealed []byte, now time.Time) error {
	ok, err := changed(tx.tx.ExecContext(ctx, `
		INSERT INTO totp_factors (user_id, secret, created_at, last_step) VALUES ($1, $2, $3, 0)
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_step = 0
		WHERE totp_factors.confirmed_at IS NULL`,
		userID, sealed, micros(now)))
	switch {
	case tx.store.dialect.foreignKeyViolation(err):
		return blog.ErrUserNotFound
	case err != nil:
		return fmt.Errorf("start TOTP of user %d: %w", userID, err)
	case !ok:
		return blog.ErrTOTPEnabled
	}
	return nil
}

// ConfirmTOTP turns on the user's pending TOTP factor whose sealed secret
// is sealed, the one the code was checked against, recording step as the
// last step used. If the factor is confirmed already the error is
// blog.ErrTOTPEnabled; if there is none, or another enrolment replaced
// it, blog.ErrTOTPNotStarted.
func (tx *Tx) ConfirmTOTP(ctx context.Context, userID int64, sealed []byte, step int64, now time.Time) error {
	ok, err := changed(tx.tx.ExecContext(ctx, `
		UPDATE totp_factors SET confirmed_at = $1, last_step = $2
		WHERE user_id = $3 AND secret = $4 AND confirmed_at IS NULL`,
		micros(now), step, userID, sealed))
	if err != nil {
		return fmt.Errorf("confirm TOTP of user %d: %w", userID, err)
	}
	if ok {
		return nil
	}
	t, err := tx.TOTP(ctx, userID)
	switch {
	case err != nil:
		return err
	case t.Enabled():
		return blog.ErrTOTPEnabled
	}
	return blog.ErrTOTPNotStarted
}

// UseTOTPStep records that a code of time step step was accepted for the
// user's confirmed factor, if step is later than the last one recorded;
// ok is false otherwise (the code, or a later one, was used already; or
// the factor is gone). The compare-and-set makes a code single use
// however many logins present it at once.
func (tx *Tx) UseTOTPStep(ctx context.Context, userID, step int64) (ok bool, err error) {
	ok, err = changed(tx.tx.ExecContext(ctx, `
		UPDATE totp_factors SET last_step = $1
		WHERE user_id = $2 AND last_step < $1 AND confirmed_at IS NOT NULL`,
		step, userID))
	if err != nil {
		return false, fmt.Errorf("use TOTP step of user %d: %w", userID, err)
	}
	return ok, nil
}

// ReplaceRecoveryCodes sets the user's recovery codes, given by their
// hashes, in place of any it had.
func (tx *Tx) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte, now time.Time) error {
	if _, err := tx.tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete recovery codes of user %d: %w", userID, err)
	}
	for _, h := range hashes {
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)`,
			userID, h, micros(now))
		if tx.store.dialect.foreignKeyViolation(err) {
			return blog.ErrUserNotFound
		}
		if err != nil {
			return fmt.Errorf("insert recovery code of user %d: %w", userID, err)
		}
	}
	return nil
}

// UseRecoveryCode deletes the user's recovery code whose hash is hash; ok
// is false when the user has no such code (never had it, or used it).
// Of two transactions using one code, one wins.
func (tx *Tx) UseRecoveryCode(ctx context.Context, userID int64, hash []byte) (ok bool, err error) {
	ok, err = changed(tx.tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1 AND code_hash = $2`, userID, hash))
	if err != nil {
		return false, fmt.Errorf("use recovery code of user %d: %w", userID, err)
	}
	return ok, nil
}

// RecoveryCodesLeft is how many unused recovery codes the user has.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = $1`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count recovery codes of user %d: %w", userID, err)
	}
	return n, nil
}

// DeleteTOTP removes the user's TOTP factor, pending or confirmed, and
// every recovery code. totp reports whether there was a factor, codes how
// many recovery codes went.
func (tx *Tx) DeleteTOTP(ctx context.Context, userID int64) (totp bool, codes int64, err error) {
	if totp, err = changed(tx.tx.ExecContext(ctx, `DELETE FROM totp_factors WHERE user_id = $1`, userID)); err != nil {
		return false, 0, fmt.Errorf("delete TOTP of user %d: %w", userID, err)
	}
	if codes, err = rowsChanged(tx.tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID)); err != nil {
		return false, 0, fmt.Errorf("delete recovery codes of user %d: %w", userID, err)
	}
	return totp, codes, nil
}

// UseLoginChallenge records that the login challenge id, valid until
// expires, has been used; ok is false if it was already. Of two
// transactions using one challenge, one wins.
func (tx *Tx) UseLoginChallenge(ctx context.Context, id []byte, expires time.Time) (ok bool, err error) {
	ok, err = changed(tx.tx.ExecContext(ctx, `
		INSERT INTO login_challenges_used (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
		id, micros(expires)))
	if err != nil {
		return false, fmt.Errorf("use login challenge: %w", err)
	}
	return ok, nil
}

// DeleteExpiredLoginChallenges forgets the used challenges that expired
// at or before now (they are refused for their expiry alone), and
// reports how many there were.
func (s *Store) DeleteExpiredLoginChallenges(ctx context.Context, now time.Time) (int64, error) {
	return s.deleteExpired(ctx, "login_challenges_used", now)
}
