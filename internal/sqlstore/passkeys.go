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

// Passkeys: the accounts' user handles, their passkeys, and the state of
// ceremonies in progress (migrations/*/0008_passkeys.sql).

// PasskeyHandle returns the user handle of the account userID, giving it
// newHandle first if it has none yet. A missing user is
// blog.ErrUserNotFound.
func (tx *Tx) PasskeyHandle(ctx context.Context, userID int64, newHandle []byte) ([]byte, error) {
	_, err := tx.tx.ExecContext(ctx, `
		INSERT INTO passkey_handles (user_id, handle) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING`,
		userID, newHandle)
	if tx.store.dialect.foreignKeyViolation(err) {
		return nil, blog.ErrUserNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("give user %d a passkey handle: %w", userID, err)
	}
	var handle []byte
	if err := tx.tx.QueryRowContext(ctx, `SELECT handle FROM passkey_handles WHERE user_id = $1`, userID).Scan(&handle); err != nil {
		return nil, fmt.Errorf("read the passkey handle of user %d: %w", userID, err)
	}
	return handle, nil
}

// UserByPasskeyHandle returns the account with the user handle, with its
// passkeys; a handle no account has is blog.ErrUserNotFound.
func (s *Store) UserByPasskeyHandle(ctx context.Context, handle []byte) (*blog.User, []blog.Passkey, error) {
	var u blog.User
	err := scanUser(s.read.QueryRowContext(ctx, `
		SELECT `+userColumns+` FROM passkey_handles h JOIN users u ON u.id = h.user_id WHERE h.handle = $1`, handle), &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, blog.ErrUserNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("select user by passkey handle: %w", err)
	}
	passkeys, err := s.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	return &u, passkeys, nil
}

// StoredPasskeyHandle returns the user handle of the account, or nil if it
// has none.
func (s *Store) StoredPasskeyHandle(ctx context.Context, userID int64) ([]byte, error) {
	var handle []byte
	err := s.read.QueryRowContext(ctx, `SELECT handle FROM passkey_handles WHERE user_id = $1`, userID).Scan(&handle)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the passkey handle of user %d: %w", userID, err)
	}
	return handle, nil
}

const passkeyColumns = `id, user_id, name, credential_id, public_key, aaguid, sign_count, flags,
	transports, attestation_format, created_at, last_used_at`

func scanPasskey(row interface{ Scan(...any) error }, p *blog.Passkey) error {
	var (
		transports        string
		created, signs    int64
		flags             int64
		lastUsed          sql.Null[int64]
		credential, key   []byte
		aaguid            []byte
		name, attestation string
	)
	err := row.Scan(&p.ID, &p.UserID, &name, &credential, &key, &aaguid, &signs, &flags,
		&transports, &attestation, &created, &lastUsed)
	if err != nil {
		return err
	}
	p.Name, p.CredentialID, p.PublicKey, p.AAGUID = name, credential, key, aaguid
	p.SignCount, p.Flags, p.AttestationFormat = uint32(signs), uint8(flags), attestation
	p.Transports = nil
	if transports != "" {
		p.Transports = strings.Split(transports, ",")
	}
	p.CreatedAt = fromMicros(created)
	p.LastUsedAt = time.Time{}
	if lastUsed.Valid {
		p.LastUsedAt = fromMicros(lastUsed.V)
	}
	return nil
}

// Passkeys lists the account's passkeys, oldest first.
func (s *Store) Passkeys(ctx context.Context, userID int64) ([]blog.Passkey, error) {
	return passkeys(ctx, s.read, userID)
}

// Passkeys lists the account's passkeys, oldest first, as this
// transaction sees them.
func (tx *Tx) Passkeys(ctx context.Context, userID int64) ([]blog.Passkey, error) {
	return passkeys(ctx, tx.tx, userID)
}

func passkeys(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, userID int64) ([]blog.Passkey, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("select passkeys of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []blog.Passkey
	for rows.Next() {
		var p blog.Passkey
		if err := scanPasskey(rows, &p); err != nil {
			return nil, fmt.Errorf("select passkeys of user %d: %w", userID, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select passkeys of user %d: %w", userID, err)
	}
	return out, nil
}

// CreatePasskey stores p for p.UserID and sets its ID and CreatedAt. A
// credential id stored already (for any account) is blog.ErrPasskeyTaken;
// a missing user is blog.ErrUserNotFound.
func (tx *Tx) CreatePasskey(ctx context.Context, p *blog.Passkey) error {
	created := tx.store.timestamp()
	err := tx.tx.QueryRowContext(ctx, `
		INSERT INTO passkeys (user_id, name, credential_id, public_key, aaguid, sign_count, flags,
			transports, attestation_format, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (credential_id) DO NOTHING
		RETURNING id`,
		p.UserID, p.Name, p.CredentialID, p.PublicKey, nonNil(p.AAGUID), int64(p.SignCount), int64(p.Flags),
		strings.Join(p.Transports, ","), p.AttestationFormat, micros(created)).Scan(&p.ID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return blog.ErrPasskeyTaken
	case tx.store.dialect.foreignKeyViolation(err):
		return blog.ErrUserNotFound
	case err != nil:
		return fmt.Errorf("insert passkey of user %d: %w", p.UserID, err)
	}
	p.CreatedAt, p.LastUsedAt = created, time.Time{}
	return nil
}

// nonNil is b, or an empty slice for nil: a NOT NULL column takes no nil.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// RenamePasskey renames one of the user's passkeys and returns it.
// Another user's passkey is blog.ErrPasskeyNotFound, as is a missing one.
func (tx *Tx) RenamePasskey(ctx context.Context, userID, id int64, name string) (*blog.Passkey, error) {
	var p blog.Passkey
	err := scanPasskey(tx.tx.QueryRowContext(ctx, `
		UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3 RETURNING `+passkeyColumns,
		name, id, userID), &p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, blog.ErrPasskeyNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("rename passkey %d: %w", id, err)
	}
	return &p, nil
}

// DeletePasskey deletes one of the user's passkeys and returns it.
// Another user's passkey is blog.ErrPasskeyNotFound, as is a missing one.
func (tx *Tx) DeletePasskey(ctx context.Context, userID, id int64) (*blog.Passkey, error) {
	var p blog.Passkey
	err := scanPasskey(tx.tx.QueryRowContext(ctx, `
		DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING `+passkeyColumns, id, userID), &p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, blog.ErrPasskeyNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("delete passkey %d: %w", id, err)
	}
	return &p, nil
}

// UsePasskey records a login with a passkey at now: its new sign count
// and flags, if its stored count is still old (so of two logins racing
// with one count, one wins). Anything else (the passkey removed, or used
// meanwhile) is blog.ErrPasskeyRefused.
func (tx *Tx) UsePasskey(ctx context.Context, id int64, old, count uint32, flags uint8, now time.Time) error {
	ok, err := changed(tx.tx.ExecContext(ctx, `
		UPDATE passkeys SET sign_count = $1, flags = $2, last_used_at = $3
		WHERE id = $4 AND sign_count = $5`,
		int64(count), int64(flags), micros(now), id, int64(old)))
	switch {
	case err != nil:
		return fmt.Errorf("record use of passkey %d: %w", id, err)
	case !ok:
		return blog.ErrPasskeyRefused
	}
	return nil
}

// CreatePasskeyCeremony stores the state of a ceremony. A user or session
// deleted meanwhile is blog.ErrInvalidToken: the caller is gone.
func (tx *Tx) CreatePasskeyCeremony(ctx context.Context, c *blog.PasskeyCeremony) error {
	_, err := tx.tx.ExecContext(ctx, `
		INSERT INTO passkey_ceremonies (id, purpose, user_id, session_id, data, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		c.ID, c.Purpose, sql.Null[int64]{V: c.UserID, Valid: c.UserID != 0}, nullString(c.SessionID), c.Data, micros(c.ExpiresAt))
	if tx.store.dialect.foreignKeyViolation(err) {
		return blog.ErrInvalidToken
	}
	if err != nil {
		return fmt.Errorf("store passkey ceremony: %w", err)
	}
	return nil
}

// TakePasskeyCeremony removes the ceremony with the id and purpose and
// returns it, if it has not expired by now. Anything else (unknown, used,
// expired, another purpose) is blog.ErrPasskeyCeremony. Of two
// transactions taking one ceremony, one wins.
func (tx *Tx) TakePasskeyCeremony(ctx context.Context, id, purpose string, now time.Time) (*blog.PasskeyCeremony, error) {
	var (
		c         = blog.PasskeyCeremony{ID: id}
		userID    sql.Null[int64]
		sessionID sql.Null[string]
		expires   int64
	)
	err := tx.tx.QueryRowContext(ctx, `
		DELETE FROM passkey_ceremonies WHERE id = $1 AND purpose = $2
		RETURNING purpose, user_id, session_id, data, expires_at`,
		id, purpose).Scan(&c.Purpose, &userID, &sessionID, &c.Data, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, blog.ErrPasskeyCeremony
	}
	if err != nil {
		return nil, fmt.Errorf("take passkey ceremony: %w", err)
	}
	c.UserID, c.SessionID, c.ExpiresAt = userID.V, sessionID.V, fromMicros(expires)
	if !now.Before(c.ExpiresAt) {
		return nil, blog.ErrPasskeyCeremony
	}
	return &c, nil
}

// DeleteExpiredPasskeyCeremonies deletes the ceremonies that expired at or
// before now and reports how many there were.
func (s *Store) DeleteExpiredPasskeyCeremonies(ctx context.Context, now time.Time) (int64, error) {
	return s.deleteExpired(ctx, "passkey_ceremonies", now)
}
