package sqlstore

import (
	"context"
	"database/sql"
)

// Tx is a write transaction: the steps of one change, which the
// application layer composes (a new password, the sessions it ends, the
// reset links it voids) and Store.Write commits together or not at all.
// Its methods return the blog package's errors for outcomes a client may
// see, as the Store's do.
type Tx struct {
	tx    *sql.Tx
	store *Store
}

// Write runs fn in a write transaction, committed if fn returns nil and
// rolled back otherwise.
//
// A transaction the database aborted as a conflict (serialisation
// failure, deadlock), or whose connection was lost before COMMIT was sent,
// changed nothing: it is run again from the start, a few times. So fn must
// be safe to repeat: it may change only the database and variables it
// sets anew on every run. A COMMIT that got no answer is not repeated,
// since it may have been applied: that is blog.ErrUnavailable.
func (s *Store) Write(ctx context.Context, fn func(tx *Tx) error) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return fn(&Tx{tx: tx, store: s}) })
}

// rowsChanged returns the rows res changed.
func rowsChanged(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// changed reports whether res changed a row, for statements that change
// one row or none.
func changed(res sql.Result, err error) (bool, error) {
	n, err := rowsChanged(res, err)
	return n > 0, err
}
