package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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

// ClaimLoginAttempt counts an attempt to log in as key at now as a failure
// before its password is checked, unless key must still wait; then it
// counts nothing and returns how long is left. delay(n) is the wait after n
// consecutive failures, from the attempt that made the nth; a success must
// call ClearLoginFailures.
//
// Counting first makes the check and the count one step: attempts that
// arrive together cannot all pass the check before any of them is
// recorded, and an attempt that is turned away does not lengthen the wait.
func (s *Store) ClaimLoginAttempt(ctx context.Context, key string, now time.Time, delay func(failures int) time.Duration) (wait time.Duration, err error) {
	// The compare-and-set updates make this safe where transactions do not
	// serialise (PostgreSQL's read committed): a lost race is retried.
	for range 5 {
		var won bool
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var failures int
			var blocked sql.Null[int64]
			err := tx.QueryRowContext(ctx, `SELECT failures, blocked_until FROM login_failures WHERE key = $1`, key).
				Scan(&failures, &blocked)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("select login failures: %w", err)
			}
			if blocked.Valid {
				if until := fromMicros(blocked.V); until.After(now) {
					wait = until.Sub(now)
					won = true
					return nil
				}
			}
			until := sql.Null[int64]{}
			if d := delay(failures + 1); d > 0 {
				until = sql.Null[int64]{V: micros(now.Add(d)), Valid: true}
			}
			var res sql.Result
			if errors.Is(err, sql.ErrNoRows) {
				res, err = tx.ExecContext(ctx, `
					INSERT INTO login_failures (key, failures, last_failure_at, blocked_until) VALUES ($1, 1, $2, $3)
					ON CONFLICT (key) DO NOTHING`, key, micros(now), until)
			} else {
				res, err = tx.ExecContext(ctx, `
					UPDATE login_failures SET failures = failures + 1, last_failure_at = $2, blocked_until = $3
					WHERE key = $1 AND failures = $4`, key, micros(now), until, failures)
			}
			if err != nil {
				return fmt.Errorf("count login attempt: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("count login attempt: %w", err)
			}
			won = n == 1
			return nil
		})
		if err != nil {
			return 0, err
		}
		if won {
			return wait, nil
		}
	}
	// Others keep claiming this key at this very moment: let them.
	return time.Second, nil
}

// ClearLoginFailures forgets the failures for keys, after a successful login.
func (s *Store) ClearLoginFailures(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	marks := make([]string, len(keys))
	args := make([]any, len(keys))
	for i, k := range keys {
		marks[i] = fmt.Sprintf("$%d", i+1)
		args[i] = k
	}
	q := `DELETE FROM login_failures WHERE key IN (` + strings.Join(marks, ", ") + `)`
	if _, err := s.write.ExecContext(ctx, q, args...); err != nil {
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
