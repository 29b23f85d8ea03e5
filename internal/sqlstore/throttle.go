package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Login failures are counted per login key (blog.LoginKey of what was
// typed), in the database so that every instance sees the same count. The
// key may be an email address: it is never put in an error.

// ClaimLoginAttempt counts an attempt to log in as each of keys at now as
// a failure before its password is checked, unless a key must still wait;
// then it counts nothing and returns the longest wait left. delay(n) is the
// wait after n consecutive failures, from the attempt that made the nth; a
// success must call ClearLoginFailures. keys are the ways the attempt names
// one account: what was typed, or, for a password confirmed by a logged-in
// user, both the account's email and its username key.
//
// Counting first makes the check and the count one step: attempts that
// arrive together cannot all pass the check before any of them is
// recorded, and an attempt that is turned away does not lengthen the wait.
func (s *Store) ClaimLoginAttempt(ctx context.Context, now time.Time, delay func(failures int) time.Duration, keys ...string) (wait time.Duration, err error) {
	// In one order, so that two claims of the same keys lock their rows
	// alike (no deadlock), and each key once.
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	// The compare-and-set updates make this safe where transactions do not
	// serialise (PostgreSQL's read committed): a lost race rolls back and
	// is tried again.
	for range 5 {
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			wait = 0
			failures := make([]int, len(keys))
			found := make([]bool, len(keys))
			for i, key := range keys {
				var blocked sql.Null[int64]
				err := tx.QueryRowContext(ctx, `SELECT failures, blocked_until FROM login_failures WHERE key = $1`, key).
					Scan(&failures[i], &blocked)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("select login failures: %w", err)
				}
				found[i] = err == nil
				if blocked.Valid {
					if until := fromMicros(blocked.V); until.After(now) {
						wait = max(wait, until.Sub(now))
					}
				}
			}
			if wait > 0 {
				return nil
			}
			for i, key := range keys {
				until := sql.Null[int64]{}
				if d := delay(failures[i] + 1); d > 0 {
					until = sql.Null[int64]{V: micros(now.Add(d)), Valid: true}
				}
				var (
					res sql.Result
					err error
				)
				if !found[i] {
					res, err = tx.ExecContext(ctx, `
						INSERT INTO login_failures (key, failures, last_failure_at, blocked_until) VALUES ($1, 1, $2, $3)
						ON CONFLICT (key) DO NOTHING`, key, micros(now), until)
				} else {
					res, err = tx.ExecContext(ctx, `
						UPDATE login_failures SET failures = failures + 1, last_failure_at = $2, blocked_until = $3
						WHERE key = $1 AND failures = $4`, key, micros(now), until, failures[i])
				}
				n, err := rowsChanged(res, err)
				if err != nil {
					return fmt.Errorf("count login attempt: %w", err)
				}
				if n != 1 {
					return errLostClaim
				}
			}
			return nil
		})
		switch {
		case err == nil:
			return wait, nil
		case !errors.Is(err, errLostClaim):
			return 0, err
		}
	}
	// Others keep claiming these keys at this very moment: let them.
	return time.Second, nil
}

// errLostClaim rolls back a claim that another one overtook.
var errLostClaim = errors.New("another login attempt counted first")

// ClearLoginFailures forgets the failures counted for keys: after a
// successful login, or when a new password makes them moot.
func (tx *Tx) ClearLoginFailures(ctx context.Context, keys ...string) error {
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
	if _, err := tx.tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}

// DeleteStaleLoginFailures forgets the counts whose last failure was before
// before, and reports how many. Failures for made-up names are recorded
// too (throttling must not reveal which accounts exist), so without this the
// table grows with every name an attacker tries.
func (s *Store) DeleteStaleLoginFailures(ctx context.Context, before time.Time) (int64, error) {
	n, err := rowsChanged(s.write.ExecContext(ctx, `DELETE FROM login_failures WHERE last_failure_at < $1`, micros(before)))
	if err != nil {
		return 0, fmt.Errorf("delete stale login failures: %w", err)
	}
	return n, nil
}
