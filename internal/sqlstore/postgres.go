package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgreSQL is reached through pgx's database/sql driver, so both dialects
// share one code path: the same *sql.DB calls, the same queries, the same
// transaction helpers. pgx's native pool would save little for quill's
// short queries and would split the store in two.

var postgresDialect = dialect{
	name:               "postgres",
	migrations:         "migrations/postgres",
	hasMigrationsTable: `SELECT to_regclass('schema_migrations') IS NOT NULL`,
	uniqueViolation:    postgresUniqueViolation,
	foreignKeyViolation: func(err error) bool {
		return pgCode(err) == "23503"
	},
	unavailable: postgresUnavailable,
	conflict: func(err error) bool {
		code := pgCode(err)
		return code == "40001" || code == "40P01" // serialization_failure, deadlock_detected
	},
	rejected:      func(err error) bool { return pgCode(err) != "" },
	retryLostConn: true,
	broken: func(conn driver.Conn) bool {
		c, ok := conn.(*stdlib.Conn)
		return ok && c.Conn().IsClosed()
	},
	lockMigrations: postgresLockMigrations,
	advanceIDs:     postgresAdvanceIDs,
}

// pgCode is the SQLSTATE of a PostgreSQL error, or "".
func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// uniqueIndexes maps the unique indexes a client can collide with to the
// columns they are on, the names the store's callers use.
var uniqueIndexes = map[string]string{
	"users_username_key_key":      "users.username_key",
	"users_username_skeleton_key": "users.username_skeleton",
	"users_email_key":             "users.email",
}

func postgresUniqueViolation(err error) (string, bool) {
	var e *pgconn.PgError
	if !errors.As(err, &e) || e.Code != "23505" { // unique_violation
		return "", false
	}
	if col, ok := uniqueIndexes[e.ConstraintName]; ok {
		return col, true
	}
	return e.TableName + "." + e.ConstraintName, true
}

// postgresUnavailable reports whether err means the server cannot be
// reached or cannot serve now.
func postgresUnavailable(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	code := pgCode(err)
	switch {
	case strings.HasPrefix(code, "08"), // connection_exception
		code == "57P01", // admin_shutdown: pg_ctl stop -m fast, a failover
		code == "57P02", // crash_shutdown
		code == "57P03", // cannot_connect_now: starting up, shutting down, recovering
		code == "53300": // too_many_connections
		return true
	case code != "":
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED)
}

// Pool sizes: each instance opens at most defaultPoolMaxConns connections by
// default, half for writes and half for reads. The URL parameter
// pool_max_conns (pgxpool's name for it) changes that; size it so that all
// instances together stay below the server's max_connections.
const (
	defaultPoolMaxConns = 16
	connectTimeout      = 5 * time.Second
	connMaxIdleTime     = 5 * time.Minute
	// connMaxLifetime lets connections move to a new server behind a
	// pooler or DNS name after a failover.
	connMaxLifetime = 30 * time.Minute
)

// openPostgres opens two pools on the server databaseURL names: one for
// writes, and one whose sessions are read-only (default_transaction_read_only),
// where a query that lost its connection is repeated on another.
func openPostgres(ctx context.Context, databaseURL string, now func() time.Time) (*Store, error) {
	cfg, maxConns, err := postgresConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	readCfg := cfg.Copy()
	readCfg.RuntimeParams["default_transaction_read_only"] = "on"

	s := &Store{dialect: postgresDialect, now: now}
	s.write = sql.OpenDB(&faultConnector{Connector: stdlib.GetConnector(*cfg), faults: postgresDialect.faults(false)})
	s.read = sql.OpenDB(&faultConnector{Connector: stdlib.GetConnector(*readCfg), faults: postgresDialect.faults(true)})
	writers := max(1, maxConns/2)
	for db, n := range map[*sql.DB]int{s.write: writers, s.read: max(1, maxConns-writers)} {
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		db.SetConnMaxIdleTime(connMaxIdleTime)
		db.SetConnMaxLifetime(connMaxLifetime)
	}
	if err := s.write.PingContext(ctx); err != nil {
		s.Close()
		var ce *pgconn.ConnectError
		if errors.As(err, &ce) {
			err = ce // without the "database unavailable" of faultConn
		}
		return nil, fmt.Errorf("cannot connect to PostgreSQL: %s", oneLine(err))
	}
	return s, nil
}

// postgresConfig parses a postgres:// URL, adding quill's defaults (a
// connect timeout, the application name) where it sets none, and takes out
// pool_max_conns. Its errors never quote the URL: it may hold a password.
func postgresConfig(databaseURL string) (*pgx.ConnConfig, int, error) {
	const usage = "use postgres://user:password@host:port/database"
	maxConns := defaultPoolMaxConns
	u, err := url.Parse(databaseURL)
	if err != nil {
		return nil, 0, errors.New("database URL: not a valid postgres:// URL; " + usage)
	}
	q := u.Query()
	if v := q.Get("pool_max_conns"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			return nil, 0, errors.New("database URL: pool_max_conns must be a whole number, at least 2")
		}
		maxConns = n
		q.Del("pool_max_conns")
		u.RawQuery = q.Encode()
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, 0, errors.New("database URL: not a valid postgres:// URL; " + usage)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "quill"
	}
	return cfg, maxConns, nil
}

// oneLine is err's text on one line: pgx puts the attempts at several
// hosts on lines of their own.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// postgresLockMigrations takes a session advisory lock, so that of several
// instances starting at once one migrates and the others wait, then find
// nothing left to do. The key is per schema: tests keep a schema each.
func postgresLockMigrations(ctx context.Context, conn *sql.Conn) (func(), error) {
	const key = `hashtext('quill migrate ' || current_schema())`
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		return nil, fmt.Errorf("lock for migrating: %w", err)
	}
	return func() {
		// A lock outlives nothing: it goes with the connection if this fails.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`)
	}, nil
}

// postgresAdvanceIDs moves table's identity sequence past the largest id
// in it and past atLeast, never back: rows inserted with explicit ids (an
// import keeps the ids it brings) do not advance it. table is one of
// quill's, never input.
func postgresAdvanceIDs(ctx context.Context, tx *sql.Tx, table string, atLeast int64) error {
	seq := `pg_get_serial_sequence('` + table + `', 'id')`
	_, err := tx.ExecContext(ctx, `
		SELECT setval(`+seq+`, m)
		FROM (SELECT GREATEST(MAX(id), $1) AS m FROM `+table+`) AS t
		WHERE m > COALESCE(pg_sequence_last_value(`+seq+`::regclass), 0)`, atLeast)
	return err
}
