package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// What an operator watches: figures about the store as a whole.

// LiveSessions counts the sessions that have not expired at now, of every
// user. It walks the index on expires_at, so its cost grows with the
// number of live sessions: call it now and then (for monitoring), not per
// request.
func (s *Store) LiveSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE expires_at > $1`, micros(now)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count live sessions: %w", err)
	}
	return n, nil
}

// PoolStats returns the statistics of the store's two connection pools:
// read, whose connections cannot write, and write. For an in-memory
// SQLite database, whose one connection does both, they are the same.
func (s *Store) PoolStats() (read, write sql.DBStats) {
	return s.read.Stats(), s.write.Stats()
}
