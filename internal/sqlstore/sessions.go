package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// sessionColumns are the columns scanSession reads, from sessions s.
const sessionColumns = `s.id, s.user_id, s.created_at, s.last_used_at, s.expires_at, s.user_agent, s.ip`

// scanSession reads sessionColumns, then extra.
func scanSession(row interface{ Scan(...any) error }, s *blog.Session, extra ...any) error {
	var created, used, expires int64
	dest := append([]any{&s.ID, &s.UserID, &created, &used, &expires, &s.UserAgent, &s.IP}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	s.CreatedAt, s.LastUsedAt, s.ExpiresAt = fromMicros(created), fromMicros(used), fromMicros(expires)
	return nil
}

// CreateSession stores a new session. The caller fills every field of sess
// (a random ID, times, client details); refreshHash is the hash of its
// refresh token (the token itself is never stored). A missing user is
// blog.ErrUserNotFound.
func (tx *Tx) CreateSession(ctx context.Context, sess *blog.Session, refreshHash []byte) error {
	_, err := tx.tx.ExecContext(ctx, `
		INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip, refresh_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		sess.ID, sess.UserID, micros(sess.CreatedAt), micros(sess.LastUsedAt), micros(sess.ExpiresAt),
		sess.UserAgent, sess.IP, refreshHash)
	if tx.store.dialect.foreignKeyViolation(err) {
		return blog.ErrUserNotFound
	}
	if err != nil {
		return fmt.Errorf("insert session for user %d: %w", sess.UserID, err)
	}
	return nil
}

// SessionUser returns an unexpired session and its user, in one indexed
// lookup, or from the read cache while the database has not changed since
// it was read: it runs on every authenticated request. A missing or
// expired session, or one whose user is gone, is blog.ErrInvalidToken.
func (s *Store) SessionUser(ctx context.Context, sessionID string, now time.Time) (*blog.Session, *blog.User, error) {
	v, cacheable := s.cache.version()
	if cacheable {
		if e, ok := s.cache.session(v, sessionID); ok {
			if !e.session.ExpiresAt.After(now) {
				return nil, nil, blog.ErrInvalidToken
			}
			return &e.session, &e.user, nil
		}
	}
	var (
		e     sessionEntry
		img   sql.Null[string]
		at    int64
		email emailState
	)
	u := &e.user
	err := scanSession(s.queryRow(ctx, s.read, `
		SELECT `+sessionColumns+`, u.id, u.username, u.email, u.image_file, u.password_hash, u.created_at,
			u.email_verified_at, u.pending_email
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = $1 AND s.expires_at > $2`,
		sessionID, micros(now)), &e.session, &u.ID, &u.Username, &u.Email, &img, &u.PasswordHash, &at,
		&email.verifiedAt, &email.pending)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, blog.ErrInvalidToken
	}
	if err != nil {
		return nil, nil, fmt.Errorf("select session: %w", err)
	}
	u.ImageFile, u.CreatedAt = img.V, fromMicros(at)
	email.set(u)
	if cacheable {
		s.cache.storeSession(v, e)
	}
	return &e.session, &e.user, nil
}

// DeleteSession ends one of the user's sessions. Another user's session, or
// a missing one, is blog.ErrSessionNotFound.
func (tx *Tx) DeleteSession(ctx context.Context, userID int64, sessionID string) error {
	ok, err := changed(tx.tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1 AND user_id = $2`, sessionID, userID))
	switch {
	case err != nil:
		return fmt.Errorf("delete session of user %d: %w", userID, err)
	case !ok:
		return blog.ErrSessionNotFound
	}
	return nil
}

// DeleteSessions ends every session of the user but except, if it is not
// "", and returns how many it ended.
func (tx *Tx) DeleteSessions(ctx context.Context, userID int64, except string) (int64, error) {
	n, err := rowsChanged(tx.tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, except))
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	return n, nil
}

// Sessions lists the user's unexpired sessions, newest first.
func (s *Store) Sessions(ctx context.Context, userID int64, now time.Time) ([]blog.Session, error) {
	rows, err := s.read.QueryContext(ctx, `
		SELECT `+sessionColumns+`
		FROM sessions s
		WHERE s.user_id = $1 AND s.expires_at > $2
		ORDER BY s.created_at DESC, s.id DESC`,
		userID, micros(now))
	if err != nil {
		return nil, fmt.Errorf("select sessions of user %d: %w", userID, err)
	}
	defer rows.Close()
	sessions := []blog.Session{}
	for rows.Next() {
		var sess blog.Session
		if err := scanSession(rows, &sess); err != nil {
			return nil, fmt.Errorf("select sessions of user %d: %w", userID, err)
		}
		sessions = append(sessions, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select sessions of user %d: %w", userID, err)
	}
	return sessions, nil
}

// TouchSessions records when sessions were last used, many in one
// transaction: the server collects these in memory instead of writing on
// every request. A time never moves backwards, and sessions that have gone
// meanwhile are skipped.
func (s *Store) TouchSessions(ctx context.Context, lastUsed map[string]time.Time) error {
	if len(lastUsed) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE sessions SET last_used_at = $1 WHERE id = $2 AND last_used_at < $1`)
		if err != nil {
			return fmt.Errorf("touch sessions: %w", err)
		}
		defer stmt.Close()
		// In a fixed order, so two instances touching the same sessions on
		// a database with row locks cannot deadlock.
		for _, id := range slices.Sorted(maps.Keys(lastUsed)) {
			if _, err := stmt.ExecContext(ctx, micros(lastUsed[id]), id); err != nil {
				return fmt.Errorf("touch sessions: %w", err)
			}
		}
		return nil
	})
}

// DeleteExpiredSessions deletes the sessions that expired at or before now
// and reports how many there were.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	return s.deleteExpired(ctx, "sessions", now)
}

// Rotation is the outcome of RotateRefresh.
type Rotation struct {
	Session blog.Session
	// IssuedAt is when the session's current refresh token was issued: now
	// after a rotation, the first attempt's time after a retry.
	IssuedAt time.Time
	// Retry is true when the presented token was the one rotated away at
	// most the grace period ago: nothing changed, and the client is owed
	// the same answer the first attempt got.
	Retry bool
}

// RotateRefresh uses the refresh token whose hash is presented on session
// sessionID, and makes next the session's refresh token hash, in one
// transaction:
//
//   - presented is the current hash: rotate. The session keeps its expiry
//     (refreshing never extends a login).
//   - presented is the previous hash, rotated at most grace ago, and next is
//     the current one: a retry (Rotation.Retry); nothing changes.
//   - any other hash on a live session is an older token used again: the
//     session is deleted and the error is blog.ErrRefreshReused.
//   - a missing or expired session is blog.ErrInvalidRefresh.
//
// Of two concurrent calls with the same token, exactly one rotates; the
// other sees its rotation. The caller must have checked that presented is
// the hash of a token minted for this session (auth.Tokens.RefreshSession):
// otherwise anyone who knew a session id could end it.
func (s *Store) RotateRefresh(ctx context.Context, sessionID string, presented, next []byte, now time.Time, grace time.Duration) (*Rotation, error) {
	var (
		rot    Rotation
		reused bool
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The conditional UPDATE is the compare-and-swap: it takes the row
		// lock, so a concurrent rotation with the same token finds
		// refresh_hash changed and falls through to the checks below.
		err := scanSession(tx.QueryRowContext(ctx, `
			UPDATE sessions
			SET prev_refresh_hash = refresh_hash, refresh_hash = $1, rotated_at = $2
			WHERE id = $3 AND refresh_hash = $4 AND expires_at > $2
			RETURNING `+strings.ReplaceAll(sessionColumns, "s.", ""),
			next, micros(now), sessionID, presented), &rot.Session)
		if err == nil {
			rot.IssuedAt = fromMicros(micros(now))
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("rotate refresh token: %w", err)
		}
		var (
			current, prev []byte
			rotatedAt     sql.Null[int64]
		)
		err = scanSession(tx.QueryRowContext(ctx, `
			SELECT `+sessionColumns+`, s.refresh_hash, s.prev_refresh_hash, s.rotated_at
			FROM sessions s WHERE s.id = $1 AND s.expires_at > $2`,
			sessionID, micros(now)), &rot.Session, &current, &prev, &rotatedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return blog.ErrInvalidRefresh
		}
		if err != nil {
			return fmt.Errorf("rotate refresh token: %w", err)
		}
		if rotatedAt.Valid && bytes.Equal(prev, presented) && bytes.Equal(current, next) &&
			now.Sub(fromMicros(rotatedAt.V)) <= grace {
			rot.IssuedAt, rot.Retry = fromMicros(rotatedAt.V), true
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, sessionID); err != nil {
			return fmt.Errorf("end session after refresh token reuse: %w", err)
		}
		reused = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if reused {
		return nil, blog.ErrRefreshReused
	}
	return &rot, nil
}
