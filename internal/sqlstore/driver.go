package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"

	"github.com/quill-blog/quill/internal/blog"
)

// Every connection the store opens is wrapped by faultConn, the one place
// that decides what a failure of the database (not of a query) means:
//
//   - A connection failure, or a database that cannot take the request
//     (PostgreSQL shutting down or restarting, SQLite still locked by
//     another process after the busy timeout), becomes an error that is
//     blog.ErrUnavailable for errors.Is and errors.As, so the HTTP layer
//     answers 503 with Retry-After instead of 500, however the store method
//     wrapped it. The driver's error stays in the chain for the log.
//   - Such a failure of a statement outside a transaction is also
//     driver.ErrBadConn, so database/sql runs the statement again on another
//     connection (a new one, if need be), when that is safe: a read from a
//     database server, or a write the server answered with an error (as a
//     PostgreSQL server shutting down does), which means it had no effect.
//     A write whose connection just broke may have been applied, and is
//     not repeated.
//   - A statement outside a transaction that the database aborted as a
//     deadlock or serialisation failure had no effect, so it is run again,
//     a few times. Transactions are retried whole by Store.inTx.
//
// A failure caused by the caller's context (a client that went away) is
// left as it is.

// connFaults tells how a dialect's driver reports failures.
type connFaults struct {
	// unavailable reports whether err means the database cannot be reached
	// or cannot serve now.
	unavailable func(err error) bool
	// broken reports whether conn is unusable after err (the driver closed
	// it); nil if the driver cannot tell.
	broken func(conn driver.Conn) bool
	// conflict reports whether the database aborted a transaction that is
	// safe to run again: a serialisation failure or a deadlock.
	conflict func(err error) bool
	// rejected reports whether err is the database's answer to a
	// statement, which therefore had no effect; nil if it cannot tell.
	rejected func(err error) bool
	// repeatReads: the pool only reads, from a server that may be reached
	// on another connection, so any query that failed for want of one may
	// be repeated. (SQLite's busy timeout has waited already.)
	repeatReads bool
}

// maxStatementRetries bounds the reruns of one aborted statement.
const maxStatementRetries = 3

// unavailableError is a failure of the database itself.
type unavailableError struct {
	err        error
	badConn    bool // also driver.ErrBadConn: database/sql may retry elsewhere
	connecting bool // no connection could be made: the database is down
}

func (e *unavailableError) Error() string { return "database unavailable: " + e.err.Error() }

func (e *unavailableError) Unwrap() []error {
	if e.badConn {
		return []error{blog.ErrUnavailable, driver.ErrBadConn, e.err}
	}
	return []error{blog.ErrUnavailable, e.err}
}

// classify maps err, from a call on c (nil for Connect) under ctx.
func (f *connFaults) classify(ctx context.Context, c *faultConn, err error) error {
	if err == nil || ctx.Err() != nil || errors.Is(err, blog.ErrUnavailable) {
		return err
	}
	broken := c != nil && f.broken != nil && f.broken(c.Conn)
	if !broken && !f.unavailable(err) && !errors.Is(err, driver.ErrBadConn) {
		return err
	}
	// database/sql retries only statements outside transactions; inside
	// one, ErrBadConn would be wrong.
	retry := c != nil && !c.inTx && (f.repeatReads || f.rejected != nil && f.rejected(err))
	return &unavailableError{err: err, badConn: retry || errors.Is(err, driver.ErrBadConn), connecting: c == nil}
}

// faultConnector opens wrapped connections.
type faultConnector struct {
	driver.Connector
	faults *connFaults
}

func (c *faultConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, c.faults.classify(ctx, nil, err)
	}
	return &faultConn{Conn: conn, faults: c.faults}, nil
}

// faultConn wraps a driver connection. database/sql uses a connection from
// one goroutine at a time, so inTx needs no lock.
type faultConn struct {
	driver.Conn
	faults *connFaults
	inTx   bool
}

var (
	_ driver.ConnBeginTx        = (*faultConn)(nil)
	_ driver.ConnPrepareContext = (*faultConn)(nil)
	_ driver.ExecerContext      = (*faultConn)(nil)
	_ driver.QueryerContext     = (*faultConn)(nil)
	_ driver.Pinger             = (*faultConn)(nil)
	_ driver.SessionResetter    = (*faultConn)(nil)
	_ driver.Validator          = (*faultConn)(nil)
	_ driver.NamedValueChecker  = (*faultConn)(nil)
)

// Unwrap returns the driver's connection.
func (c *faultConn) Unwrap() driver.Conn { return c.Conn }

func (c *faultConn) fail(ctx context.Context, err error) error {
	return c.faults.classify(ctx, c, err)
}

// conflict reports whether err aborted a statement outside a transaction
// that may simply run again.
func (c *faultConn) conflict(ctx context.Context, err error) bool {
	return err != nil && !c.inTx && ctx.Err() == nil && c.faults.conflict != nil && c.faults.conflict(err)
}

func (c *faultConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *faultConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	var (
		tx  driver.Tx
		err error
	)
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		//lint:ignore SA1019 the fallback database/sql itself uses
		tx, err = c.Conn.Begin()
	}
	if err != nil {
		return nil, c.fail(ctx, err)
	}
	c.inTx = true
	return &faultTx{Tx: tx, conn: c, ctx: ctx}, nil
}

func (c *faultConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *faultConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var (
		st  driver.Stmt
		err error
	)
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, c.fail(ctx, err)
	}
	return &faultStmt{Stmt: st, conn: c}, nil
}

func (c *faultConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	res, err := e.ExecContext(ctx, query, args)
	for i := 0; i < maxStatementRetries && c.conflict(ctx, err); i++ {
		res, err = e.ExecContext(ctx, query, args)
	}
	if err != nil {
		return nil, c.fail(ctx, err)
	}
	return res, nil
}

func (c *faultConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := q.QueryContext(ctx, query, args)
	for i := 0; i < maxStatementRetries && c.conflict(ctx, err); i++ {
		rows, err = q.QueryContext(ctx, query, args)
	}
	if err != nil {
		return nil, c.fail(ctx, err)
	}
	return &faultRows{Rows: rows, conn: c, ctx: ctx}, nil
}

func (c *faultConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return c.fail(ctx, p.Ping(ctx))
	}
	return nil
}

func (c *faultConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *faultConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *faultConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip // database/sql's default conversion
}

type faultTx struct {
	driver.Tx
	conn *faultConn
	ctx  context.Context // BeginTx's: database/sql ends the transaction when it ends
}

func (t *faultTx) Commit() error {
	t.conn.inTx = false
	return t.conn.fail(t.ctx, t.Tx.Commit())
}

func (t *faultTx) Rollback() error {
	t.conn.inTx = false
	return t.conn.fail(t.ctx, t.Tx.Rollback())
}

type faultStmt struct {
	driver.Stmt
	conn *faultConn
}

var (
	_ driver.StmtExecContext  = (*faultStmt)(nil)
	_ driver.StmtQueryContext = (*faultStmt)(nil)
)

func (s *faultStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	e, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		return nil, errors.New("sqlstore: driver statement without ExecContext")
	}
	res, err := e.ExecContext(ctx, args)
	for i := 0; i < maxStatementRetries && s.conn.conflict(ctx, err); i++ {
		res, err = e.ExecContext(ctx, args)
	}
	if err != nil {
		return nil, s.conn.fail(ctx, err)
	}
	return res, nil
}

func (s *faultStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, errors.New("sqlstore: driver statement without QueryContext")
	}
	rows, err := q.QueryContext(ctx, args)
	for i := 0; i < maxStatementRetries && s.conn.conflict(ctx, err); i++ {
		rows, err = q.QueryContext(ctx, args)
	}
	if err != nil {
		return nil, s.conn.fail(ctx, err)
	}
	return &faultRows{Rows: rows, conn: s.conn, ctx: ctx}, nil
}

type faultRows struct {
	driver.Rows
	conn *faultConn
	ctx  context.Context
}

func (r *faultRows) Next(dest []driver.Value) error {
	err := r.Rows.Next(dest)
	if err == nil || err == io.EOF { // the driver's end of rows, never wrapped
		return err
	}
	return r.fail(err)
}

// Close is where a driver reports a connection lost while it read the
// rest of a result; database/sql's Row.Scan returns that error.
func (r *faultRows) Close() error {
	if err := r.Rows.Close(); err != nil {
		return r.fail(err)
	}
	return nil
}

// fail classifies err from reading rows. Rows already delivered cannot be
// taken back: not a retry.
func (r *faultRows) fail(err error) error {
	err = r.conn.fail(r.ctx, err)
	var ue *unavailableError
	if errors.As(err, &ue) {
		ue.badConn = false
	}
	return err
}
