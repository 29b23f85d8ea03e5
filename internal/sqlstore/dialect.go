package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is everything that differs between the databases the store
// speaks. The queries themselves are shared: both SQLite and PostgreSQL take
// $1 placeholders, RETURNING, ON CONFLICT and row-value comparisons, and both
// keep timestamps as integer unix microseconds.
type dialect struct {
	name string
	// migrations is the directory of the embedded migration set.
	migrations string
	// hasMigrationsTable is a query returning one boolean: whether
	// schema_migrations exists yet.
	hasMigrationsTable string
	// uniqueViolation reports whether err is a unique-index violation and, if
	// so, which column it was on, as "table.column".
	uniqueViolation func(err error) (column string, ok bool)
	// foreignKeyViolation reports whether err is a foreign key violation: a
	// row refers to one that a concurrent transaction deleted.
	foreignKeyViolation func(err error) bool
	// unavailable reports whether err means the database cannot be reached
	// or cannot serve now (see faultConn).
	unavailable func(err error) bool
	// conflict reports whether err aborted a transaction that may be run
	// again as it is (serialisation failure, deadlock); nil if the database
	// never does that.
	conflict func(err error) bool
	// rejected reports whether err is the database's own answer to a
	// statement (so the statement had no effect); nil if it cannot tell.
	rejected func(err error) bool
	// retryLostConn: a transaction that lost its connection may be run
	// again on a new one (the database is a server that may be back).
	retryLostConn bool
	// broken reports whether a driver connection died with its last error;
	// nil if the driver cannot tell.
	broken func(conn driver.Conn) bool
	// lockMigrations takes a lock that keeps other processes from migrating
	// the same database until unlock; nil if transactions already do.
	lockMigrations func(ctx context.Context, conn *sql.Conn) (unlock func(), err error)
	// advanceIDs, if not nil, makes the ids the database generates for
	// table continue after the largest id in it and after atLeast, once
	// rows were inserted (or tried) with explicit ids (InsertUsers,
	// InsertPosts, an import); never back. SQLite needs none: AUTOINCREMENT
	// raises sqlite_sequence on every insert with an explicit id, even one
	// that a conflict then skips.
	advanceIDs func(ctx context.Context, tx *sql.Tx, table string, atLeast int64) error
}

// faults returns how the dialect's connections report failures, for a
// pool that only reads or not.
func (d dialect) faults(readOnly bool) *connFaults {
	return &connFaults{
		unavailable: d.unavailable,
		broken:      d.broken,
		conflict:    d.conflict,
		rejected:    d.rejected,
		repeatReads: readOnly && d.retryLostConn,
	}
}

var sqliteDialect = dialect{
	name:                "sqlite",
	migrations:          "migrations/sqlite",
	hasMigrationsTable:  `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')`,
	uniqueViolation:     sqliteUniqueViolation,
	foreignKeyViolation: func(err error) bool { return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY },
	// One writer at a time (BEGIN IMMEDIATE on a one-connection pool) means
	// no deadlocks and no serialisation failures; what is left is another
	// process (quill migrate, a second server on the file) holding the lock
	// past the busy timeout.
	unavailable: func(err error) bool {
		code := sqliteCode(err) & 0xff // the primary code of an extended one
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
	},
	// SQLite sequences (AUTOINCREMENT) follow explicit ids by themselves.
}

// sqliteCode is the extended result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// sqliteUniqueViolation reads the column from the error message: SQLite
// reports a unique violation as "UNIQUE constraint failed: users.email" and
// has no structured field naming the index. (PostgreSQL's errors name the
// index; its dialect maps index names to columns instead.)
func sqliteUniqueViolation(err error) (string, bool) {
	var e *sqlite.Error
	if !errors.As(err, &e) || e.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return "", false
	}
	const marker = "UNIQUE constraint failed: "
	_, cols, ok := strings.Cut(e.Error(), marker)
	if !ok {
		return "", true
	}
	// "users.email (2067)": the driver appends the code.
	cols, _, _ = strings.Cut(cols, " ")
	return strings.TrimSuffix(cols, ","), true
}
