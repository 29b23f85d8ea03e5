package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Login failures are counted per login key (blog.LoginKey of what was
// typed), in the database so that every instance sees the same count. The
// key may be an email address: it is never put in an error.

// RecordLoginFailure counts a failed login for key at now and returns the
// number of consecutive failures, this one included.
func (s *Store) RecordLoginFailure(ctx context.Context, key string, now time.Time) (failures int, err error) {
	err = s.write.QueryRowContext(ctx, `
		INSERT INTO login_failures (key, failures, last_failure_at) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE
		SET failures = login_failures.failures + 1, last_failure_at = excluded.last_failure_at
		RETURNING failures`,
		key, micros(now)).Scan(&failures)
	if err != nil {
		return 0, fmt.Errorf("record login failure: %w", err)
	}
	return failures, nil
}

// LoginFailures returns the consecutive failed logins for key and when the
// last one was; 0 and the zero Time if there are none.
func (s *Store) LoginFailures(ctx context.Context, key string) (failures int, last time.Time, err error) {
	var at int64
	err = s.read.QueryRowContext(ctx, `SELECT failures, last_failure_at FROM login_failures WHERE key = $1`, key).
		Scan(&failures, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("select login failures: %w", err)
	}
	return failures, fromMicros(at), nil
}

// ClearLoginFailures forgets the failures for key, after a successful login.
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM login_failures WHERE key = $1`, key); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}

// DeleteStaleLoginFailures forgets the counts whose last failure was before
// before, and reports how many. Failures for made-up names are recorded
// too (throttling must not reveal which accounts exist), so without this the
// table grows with every name an attacker tries.
func (s *Store) DeleteStaleLoginFailures(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM login_failures WHERE last_failure_at < $1`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("delete stale login failures: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete stale login failures: %w", err)
	}
	return n, nil
}
