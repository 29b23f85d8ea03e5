package sqlstore

import (
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is everything that differs between the databases the store
// speaks. The queries themselves are shared: both SQLite and PostgreSQL take
// $1 placeholders, RETURNING and row-value comparisons, and both keep
// timestamps as integer unix microseconds.
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
	// advanceIDs, if not nil, returns SQL that makes the ids the database
	// generates for table continue after the largest id in it, after rows
	// were inserted with explicit ids (InsertUsers, InsertPosts). SQLite
	// needs none: AUTOINCREMENT raises sqlite_sequence on every insert,
	// explicit ids included. PostgreSQL needs
	// SELECT setval(pg_get_serial_sequence('<table>', 'id'), MAX(id)) FROM <table>.
	advanceIDs func(table string) string
}

var sqliteDialect = dialect{
	name:               "sqlite",
	migrations:         "migrations/sqlite",
	hasMigrationsTable: `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')`,
	uniqueViolation:    sqliteUniqueViolation,
}

// sqliteUniqueViolation reads the column from the error message: SQLite
// reports a unique violation as "UNIQUE constraint failed: users.email" and
// has no structured field naming the index. (PostgreSQL's pgconn.PgError has
// ConstraintName; its dialect maps index names to columns instead.)
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
