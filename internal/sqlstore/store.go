// Package sqlstore keeps quill's users, posts, sessions and pictures in a SQL
// database through database/sql: SQLite (modernc.org/sqlite, pure Go), the
// embedded default, or PostgreSQL (pgx's database/sql driver), for several
// quill instances sharing one database. The two dialects share the Go code
// and the queries; each has its own migration set (see dialect).
//
// Store methods return the blog package's errors for outcomes a client may
// see (blog.ErrUserNotFound, blog.ErrUsernameTaken, …; blog.ErrUnavailable
// when the database cannot be reached) and wrap everything else with
// context.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/blog"
	"modernc.org/sqlite"
)

// Store is quill's database.
//
// It keeps two pools: write, for anything that changes the database, and
// read, whose connections cannot write. With PostgreSQL both have several
// connections (see openPostgres). SQLite has one writer at a time, so the store keeps two pools on the same
// file: write, with a single connection whose transactions BEGIN IMMEDIATE,
// and read, with several connections that cannot write (query_only). Writers
// therefore queue in database/sql, where the context can cancel the wait,
// instead of failing with SQLITE_BUSY when a deferred transaction tries to
// upgrade its lock; readers run beside the writer thanks to WAL. Another
// process on the same file (quill migrate, a second server) waits on the
// busy timeout.
type Store struct {
	dialect dialect
	write   *sql.DB
	read    *sql.DB // the same as write for an in-memory database
	now     func() time.Time
	stmts   stmts
	cache   *readCache // nil but for a SQLite file in WAL mode on a unix system
	// file is the SQLite database file, and lock the shared lock on its
	// lock file (see lock.go); "" and nil for PostgreSQL and in-memory
	// databases.
	file string
	lock *os.File
}

// busyTimeout is how long a SQLite connection waits for a lock another
// process holds before giving up with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// Open connects to the database at databaseURL:
//
//   - sqlite:///relative/path or sqlite:////absolute/path: a SQLite file,
//     created (mode 0600) if missing. Its directory must exist: a mistyped
//     path fails instead of quietly starting an empty database elsewhere.
//   - sqlite://:memory: a private in-memory database, gone on Close; for
//     experiments, since it lives in a single connection.
//   - postgres:// and postgresql://: a PostgreSQL database, with libpq's
//     URL parameters (sslmode, connect_timeout, …) and pool_max_conns, the
//     most connections this store opens (default 16).
//
// A store on a SQLite file holds a shared lock on <file>.lock until Close,
// which quill restore checks for (see Restore); while a restore holds it,
// Open waits up to 5 seconds and then fails saying so.
//
// Open does not migrate; call Migrate. now gives the time for the
// timestamps the store sets itself (CreatedAt, DatePosted); nil means
// time.Now.
func Open(ctx context.Context, databaseURL string, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	scheme, _, ok := strings.Cut(databaseURL, "://")
	if !ok {
		return nil, errors.New("database URL must look like sqlite:///path/to/file.db or postgres://…")
	}
	switch scheme {
	case "sqlite":
		return openSQLite(ctx, databaseURL, now)
	case "postgres", "postgresql":
		return openPostgres(ctx, databaseURL, now)
	}
	// Never echo the URL, nor anything that may not be a scheme: it may hold
	// a password.
	if strings.IndexFunc(scheme, func(r rune) bool { return !strings.ContainsRune(schemeChars, r) }) >= 0 {
		return nil, errors.New("database URL: unknown scheme; use sqlite:///path/to/file.db or postgres://…")
	}
	return nil, fmt.Errorf("database URL: unknown scheme %q; use sqlite:///path/to/file.db or postgres://…", scheme)
}

// schemeChars are the characters of a URL scheme (RFC 3986).
const schemeChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-."

// sqlitePath returns the file named by a sqlite:// URL, or ":memory:".
func sqlitePath(databaseURL string) (string, error) {
	const usage = "use sqlite:///relative/path or sqlite:////absolute/path"
	if databaseURL == "sqlite://:memory:" {
		return ":memory:", nil
	}
	path, ok := strings.CutPrefix(databaseURL, "sqlite:///")
	switch {
	case !ok:
		return "", fmt.Errorf("database URL %q: %s", databaseURL, usage)
	case path == "" || strings.HasSuffix(path, "/"):
		return "", fmt.Errorf("database URL %q: no file name; %s", databaseURL, usage)
	case strings.ContainsAny(path, "?#"):
		// The driver reads its options after "?"; SQLite URI options are not
		// supported.
		return "", fmt.Errorf("database URL %q: query parameters are not supported; %s", databaseURL, usage)
	}
	return path, nil
}

func openSQLite(ctx context.Context, databaseURL string, now func() time.Time) (*Store, error) {
	path, err := sqlitePath(databaseURL)
	if err != nil {
		return nil, err
	}
	// Every pooled connection gets these: the pragmas are per connection.
	// journal_mode is persistent, but setting it again costs nothing.
	params := "_pragma=busy_timeout(" + fmt.Sprint(busyTimeout.Milliseconds()) + ")" +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)" + // a 2xx response means the row survives power loss
		"&_pragma=temp_store(memory)"
	s := &Store{dialect: sqliteDialect, now: now}

	open := func(dsn string, readOnly bool) (*sql.DB, error) {
		c, err := sqlite.NewConnector(dsn)
		if err != nil {
			return nil, err
		}
		return sql.OpenDB(&faultConnector{Connector: c, faults: sqliteDialect.faults(readOnly)}), nil
	}

	if path == ":memory:" {
		db, err := open(":memory:?"+params+"&_txlock=immediate", false)
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		// Each connection would be a different database: keep exactly one.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxIdleTime(0)
		db.SetConnMaxLifetime(0)
		s.write, s.read = db, db
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		return s, nil
	}

	if err := createFile(path); err != nil {
		return nil, err
	}
	// SQLite's locks are Open File Description locks where Linux has them:
	// POSIX record locks would all be dropped by the first close of any
	// descriptor of the file in this process (a backup's, the read
	// cache's). This must come before the first lock; once a lock is
	// taken the setting is fixed, and later calls change nothing.
	_, _ = sqlite.OFDLocking(true)
	if s.lock, err = shareDatabase(ctx, path); err != nil {
		return nil, err
	}
	s.file = path
	// The one writer gets a page cache of up to 64 MiB (the default is
	// 2 MiB): every insert updates several indexes and, by trigger, the
	// author's row, and with a small cache each of those is a read from the
	// file (a million-post import ran about a fifth faster with it).
	s.write, err = open(path+"?"+params+"&_pragma=cache_size(-65536)&_txlock=immediate", false)
	if err != nil {
		s.lock.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxIdleTime(0)
	s.write.SetConnMaxLifetime(0)

	// Readers map up to the first GiB of the file instead: a search looks
	// up thousands of pages of its index, which through the default page
	// cache would each be a read system call. Mapped pages are the
	// operating system's file cache, shared by every reader and given back
	// under memory pressure, where a larger cache per reader would be
	// quill's own memory.
	s.read, err = open(path+"?"+params+"&_pragma=query_only(1)&_pragma=mmap_size(1073741824)", true)
	if err != nil {
		s.write.Close()
		s.lock.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	s.read.SetMaxOpenConns(readers)
	s.read.SetMaxIdleConns(readers)
	s.read.SetConnMaxIdleTime(5 * time.Minute)

	// Connect now (the write pool first: it switches a new file to WAL), so
	// a bad path or a file that is not a database fails here, not on the
	// first request. The read also makes the WAL index, which the read
	// cache maps.
	for _, db := range []*sql.DB{s.write, s.read} {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&n); err != nil {
			s.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
	}
	if wal, err := openWALVersion(path); err == nil {
		s.cache = newReadCache(wal)
	}
	return s, nil
}

// createFile creates the database file, readable by its owner only (it holds
// password hashes), unless it exists. SQLite gives its -wal and -shm files
// the same mode.
func createFile(path string) error {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("database directory %s does not exist: create it or fix DATABASE_URL", dir)
		}
		return fmt.Errorf("database directory: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("database directory %s is not a directory: fix DATABASE_URL", dir)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open database file: %w", err)
	}
	return f.Close()
}

// Close closes the database, and then gives up the lock on a SQLite
// file.
func (s *Store) Close() error {
	err := errors.Join(s.stmts.close(), s.write.Close())
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	if s.cache != nil {
		err = errors.Join(err, s.cache.wal.close())
	}
	if s.lock != nil {
		err = errors.Join(err, s.lock.Close())
	}
	return err
}

// Ping checks that the database answers, for health checks. It uses a
// reading connection, so it never queues behind a write.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Dialect names the database: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect.name }

// retryWaits are the pauses before each repeat of a transaction that
// failed in a way that is safe to repeat; their number bounds the repeats.
var retryWaits = [...]time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 250 * time.Millisecond}

// inTx runs fn in a write transaction, committed if fn returns nil.
//
// A transaction the database aborted as a conflict (serialisation failure,
// deadlock), or whose connection was lost before COMMIT was sent, changed
// nothing: it is run again from the start, a few times. So fn must be safe
// to repeat: it may change only the database and variables it sets anew.
// A COMMIT that got no answer is not repeated, since it may have been
// applied: that is blog.ErrUnavailable for the caller to report.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.retry(ctx, func() (retry bool, err error) {
		tx, err := s.write.BeginTx(ctx, nil)
		if err != nil {
			return s.retryable(err), fmt.Errorf("begin: %w", err)
		}
		defer tx.Rollback()
		if err := fn(tx); err != nil {
			return s.retryable(err), err
		}
		if err := tx.Commit(); err != nil {
			return s.conflict(err), fmt.Errorf("commit: %w", err)
		}
		return false, nil
	})
}

// retry runs attempt until it succeeds, fails for good, runs out of
// retryWaits, or ctx ends.
func (s *Store) retry(ctx context.Context, attempt func() (retry bool, err error)) error {
	for i := 0; ; i++ {
		retry, err := attempt()
		if !retry || i == len(retryWaits) {
			return err
		}
		t := time.NewTimer(retryWaits[i])
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// conflict reports whether err is a conflict the database resolved by
// aborting the transaction.
func (s *Store) conflict(err error) bool {
	return s.dialect.conflict != nil && s.dialect.conflict(err)
}

// retryable reports whether a transaction that failed with err before its
// COMMIT may be run again: after a conflict, or after a lost connection to
// a server, which a new connection may replace. Not when no connection
// could be made at all: the server is down, and the client had better
// hear so now (nor after SQLite's busy timeout, which has waited already).
func (s *Store) retryable(err error) bool {
	if s.conflict(err) {
		return true
	}
	var ue *unavailableError
	return s.dialect.retryLostConn && errors.As(err, &ue) && !ue.connecting
}

// taken maps a unique violation to the error a client sees, or returns nil.
func (s *Store) taken(err error) error {
	col, ok := s.dialect.uniqueViolation(err)
	if !ok {
		return nil
	}
	switch col {
	case "users.username_key", "users.username_skeleton":
		return blog.ErrUsernameTaken
	case "users.email":
		return blog.ErrEmailTaken
	}
	return nil
}

// timestamp is the current time as stored: UTC, to the microsecond.
func (s *Store) timestamp() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// micros is t as stored: unix microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is the UTC time a stored value means.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullString is s, with "" stored as NULL.
func nullString(s string) sql.Null[string] {
	return sql.Null[string]{V: s, Valid: s != ""}
}

// deleteExpired deletes the rows of table (one of quill's own, never a
// caller's text) whose expires_at is at or before now, and reports how
// many there were.
func (s *Store) deleteExpired(ctx context.Context, table string, now time.Time) (int64, error) {
	n, err := rowsChanged(s.write.ExecContext(ctx, `DELETE FROM `+table+` WHERE expires_at <= $1`, micros(now)))
	if err != nil {
		return 0, fmt.Errorf("delete expired rows of %s: %w", table, err)
	}
	return n, nil
}
