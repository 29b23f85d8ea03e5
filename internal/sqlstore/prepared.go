package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// Hot queries run through prepared statements. Parsing and planning a
// statement costs SQLite more than running one of quill's indexed lookups
// (about a quarter of the CPU of GET /api/users/me, measured with
// cmd/quill-bench -profile), and the driver prepares every query text it
// is given anew. A *sql.Stmt is prepared once per pooled connection, as
// each connection first runs it, and kept while the connection lives.

// stmtKey names a statement: the same text on the read and the write
// pools is two statements.
type stmtKey struct {
	db    *sql.DB
	query string
}

// stmts caches prepared statements by pool and text. The texts are
// constants or built from a handful of shapes, so it stays small.
type stmts struct {
	m sync.Map // stmtKey → *sql.Stmt
}

// prepared returns query prepared on db, preparing it on first use.
func (s *Store) prepared(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	key := stmtKey{db, query}
	if st, ok := s.stmts.m.Load(key); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.m.LoadOrStore(key, st); loaded {
		st.Close() // another goroutine won the race
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// queryRow is db.QueryRowContext through a prepared statement.
func (s *Store) queryRow(ctx context.Context, db *sql.DB, query string, args ...any) *sql.Row {
	st, err := s.prepared(ctx, db, query)
	if err != nil {
		// Preparing failed (a syntax error, a closed database): running
		// the query unprepared reports the same error through the Row.
		return db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// close closes every cached statement.
func (c *stmts) close() error {
	var errs []error
	c.m.Range(func(k, v any) bool {
		errs = append(errs, v.(*sql.Stmt).Close())
		c.m.Delete(k)
		return true
	})
	return errors.Join(errs...)
}
