package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Backups of a SQLite database, and their checks. PostgreSQL has tools of
// its own (pg_dump, pg_restore): a store on it refuses with ErrNotSQLite.

var (
	// ErrNotSQLite is the answer of Backup and Restore for a database
	// that is not a SQLite file.
	ErrNotSQLite = errors.New("not a SQLite database file")
	// ErrBackupExists means the file a backup was to be written to is
	// there already: a backup never overwrites a file.
	ErrBackupExists = errors.New("the file exists, and a backup never overwrites one; choose a new name")
)

// SQLiteFile returns the file a sqlite:// database URL names. For any
// other URL, a PostgreSQL one or an in-memory database's, it returns an
// error that is ErrNotSQLite.
func SQLiteFile(databaseURL string) (string, error) {
	if !strings.HasPrefix(databaseURL, "sqlite:") {
		return "", ErrNotSQLite
	}
	path, err := sqlitePath(databaseURL)
	if err != nil {
		return "", err
	}
	if path == ":memory:" {
		return "", fmt.Errorf("an in-memory database has no file: %w", ErrNotSQLite)
	}
	return path, nil
}

// BackupInfo describes a backup file that has been checked.
type BackupInfo struct {
	Path string // absolute
	Size int64  // bytes
	// Rows is the number of rows of every table, SQLite's own aside.
	Rows map[string]int64
	// SchemaVersion is the newest migration the file has.
	SchemaVersion int
}

// backupStep is how many pages (of 4 KiB) one step of SQLite's backup
// copies; the context is checked between steps.
const backupStep = 1024

// Backup writes a copy of the database, pictures included, to the new
// file path, while other connections and processes keep reading and
// writing. The copy is one snapshot: it holds every transaction committed
// before the backup began and none committed after its snapshot was taken.
//
// It counts the rows of every table and copies the pages (with SQLite's
// backup API) inside one read transaction, so counts and copy are of the
// same snapshot; then it checks the copy (PRAGMA integrity_check and
// foreign_key_check, and the same counts), syncs it to disk and only then
// gives it its name, which it never takes from an existing file
// (ErrBackupExists). The copy is in rollback-journal mode, one file with
// no -wal beside it; quill switches it back to WAL when it opens it.
// Until then it is a hidden temporary file in the same directory, removed
// on failure; one a crash leaves behind can be deleted (see
// RemoveStaleTemp).
func (s *Store) Backup(ctx context.Context, path string) (BackupInfo, error) {
	if s.file == "" {
		if s.dialect.name == sqliteDialect.name {
			return BackupInfo{}, errors.New("an in-memory database has no file to back up")
		}
		return BackupInfo{}, ErrNotSQLite
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return BackupInfo{}, err
	}
	if _, err := os.Lstat(abs); err == nil {
		return BackupInfo{}, fmt.Errorf("backup to %s: %w", abs, ErrBackupExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return BackupInfo{}, fmt.Errorf("backup to %s: %w", abs, err)
	}
	if err := checkDir(filepath.Dir(abs)); err != nil {
		return BackupInfo{}, fmt.Errorf("backup to %s: %w", abs, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".*"+tempSuffix)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("backup to %s: %w", abs, err)
	}
	published := false
	defer func() {
		tmp.Close()
		if !published {
			removeDatabaseFiles(tmp.Name())
		}
	}()
	// The lock tells RemoveStaleTemp that this file is being written.
	if err := flock(tmp, true); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return BackupInfo{}, fmt.Errorf("backup to %s: %w", abs, err)
	}

	rows, err := s.copyTo(ctx, tmp.Name())
	if err != nil {
		return BackupInfo{}, fmt.Errorf("backup to %s: %w", abs, err)
	}
	got, err := inspect(ctx, tmp.Name())
	if err != nil {
		return BackupInfo{}, fmt.Errorf("backup to %s: check the copy: %w", abs, err)
	}
	if err := sameRows(rows, got.rows); err != nil {
		return BackupInfo{}, fmt.Errorf("backup to %s: check the copy: %w", abs, err)
	}
	if err := tmp.Sync(); err != nil {
		return BackupInfo{}, fmt.Errorf("backup to %s: %w", abs, err)
	}
	if err := publish(tmp.Name(), abs); err != nil {
		return BackupInfo{}, fmt.Errorf("backup to %s: %w", abs, err)
	}
	published = true
	fi, err := os.Stat(abs)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("backup to %s: %w", abs, err)
	}
	return BackupInfo{Path: abs, Size: fi.Size(), Rows: got.rows, SchemaVersion: got.version}, nil
}

// copyTo copies the database into the empty file dst and returns the rows
// of every table, counted in the read transaction the copy is made in.
func (s *Store) copyTo(ctx context.Context, dst string) (map[string]int64, error) {
	conn, err := s.read.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		// A pooled connection must not stay in this transaction: one that
		// cannot end it is discarded.
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	// The first read fixes the snapshot; the backup API reads the same one,
	// since the transaction is still open when it starts.
	rows, err := countRows(ctx, conn)
	if err != nil {
		return nil, err
	}
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(interface{ Unwrap() driver.Conn })
		if !ok {
			return fmt.Errorf("unexpected connection type %T", dc)
		}
		src, ok := c.Unwrap().(interface {
			NewBackup(dstURI string) (*sqlite.Backup, error)
		})
		if !ok {
			return fmt.Errorf("the SQLite driver's connection (%T) has no backup", c.Unwrap())
		}
		b, err := src.NewBackup(fileURI(dst))
		if err != nil {
			return fmt.Errorf("start the copy: %w", err)
		}
		for more := true; more; {
			if err := ctx.Err(); err != nil {
				b.Finish()
				return err
			}
			if more, err = b.Step(backupStep); err != nil {
				b.Finish()
				return fmt.Errorf("copy: %w", err)
			}
		}
		if err := b.Finish(); err != nil {
			return fmt.Errorf("finish the copy: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// querier is what countRows reads through: a *sql.DB or a *sql.Conn.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// countRows counts the rows of every table that holds data: not
// SQLite's own, and not the search index (a virtual table over posts, and
// the shadow tables that hold its words, which integrity_check reads).
func countRows(ctx context.Context, q querier) (map[string]int64, error) {
	names, err := tables(ctx, q)
	if err != nil {
		return nil, err
	}
	rows := make(map[string]int64, len(names))
	for _, name := range names {
		var n int64
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(name)).Scan(&n); err != nil {
			return nil, fmt.Errorf("count the rows of %s: %w", name, err)
		}
		rows[name] = n
	}
	return rows, nil
}

// tables lists the ordinary tables but SQLite's own, by name: no
// virtual tables and no shadow tables.
func tables(ctx context.Context, q querier) ([]string, error) {
	rs, err := q.QueryContext(ctx, `SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rs.Close()
	var names []string
	for rs.Next() {
		var name string
		if err := rs.Scan(&name); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		names = append(names, name)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return names, nil
}

// quoteIdent quotes a table name for SQLite.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// sameRows reports how the counts of a copy differ from the original's.
func sameRows(want, got map[string]int64) error {
	var diffs []string
	for name, n := range want {
		if m, ok := got[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("table %s is missing", name))
		} else if m != n {
			diffs = append(diffs, fmt.Sprintf("%s has %d rows, not %d", name, m, n))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("table %s is extra", name))
		}
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		return fmt.Errorf("the copy differs from the database: %s", strings.Join(diffs, "; "))
	}
	return nil
}

// fileReport is what inspect finds in a database file.
type fileReport struct {
	rows     map[string]int64
	schema   map[string]string // the SQL of each table, index and trigger, by "type name"
	versions []int             // the migrations it has, in order; nil if it has no schema_migrations
	version  int               // the newest of them; 0 if none
}

// maxProblems bounds the integrity problems an error quotes.
const maxProblems = 5

// inspect checks the SQLite database file path, which no other connection
// may have open, and counts its rows. It makes the file self-contained
// first (journal_mode DELETE: what a write-ahead log beside it holds is
// written into it, and the log is removed), checks that SQLite can write
// to it, then runs PRAGMA integrity_check and foreign_key_check.
func inspect(ctx context.Context, path string) (fileReport, error) {
	db, err := sql.Open("sqlite", fileURI(path)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return fileReport{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var mode string
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode = DELETE`).Scan(&mode); err != nil {
		if sqliteCode(err)&0xff == sqlite3.SQLITE_NOTADB {
			return fileReport{}, errors.New("not a SQLite database")
		}
		return fileReport{}, fmt.Errorf("open: %w", err)
	}
	if mode != "delete" {
		return fileReport{}, fmt.Errorf("cannot leave journal mode %s", mode)
	}
	// A file SQLite may only read (its header names a newer format for
	// writing) passes the checks below but would stop quill: write to it,
	// and take the write back.
	if _, err := db.ExecContext(ctx, `BEGIN; CREATE TABLE quill_write_check (x INTEGER); ROLLBACK`); err != nil {
		return fileReport{}, fmt.Errorf("SQLite can read it but not write it: %w", err)
	}
	if err := pragmaCheck(ctx, db, "integrity_check"); err != nil {
		return fileReport{}, err
	}
	if err := pragmaCheck(ctx, db, "foreign_key_check"); err != nil {
		return fileReport{}, err
	}
	var r fileReport
	if r.rows, err = countRows(ctx, db); err != nil {
		return fileReport{}, err
	}
	if r.schema, err = readSchema(ctx, db); err != nil {
		return fileReport{}, err
	}
	if _, ok := r.rows["schema_migrations"]; ok {
		rs, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
		if err != nil {
			return fileReport{}, fmt.Errorf("read schema_migrations: %w", err)
		}
		defer rs.Close()
		r.versions = []int{}
		for rs.Next() {
			var v int
			if err := rs.Scan(&v); err != nil {
				return fileReport{}, fmt.Errorf("read schema_migrations: %w", err)
			}
			r.versions = append(r.versions, v)
			r.version = v
		}
		if err := rs.Err(); err != nil {
			return fileReport{}, fmt.Errorf("read schema_migrations: %w", err)
		}
	}
	return r, nil
}

// readSchema returns the SQL that made each table, index, trigger and
// view, SQLite's own aside, by "type name".
func readSchema(ctx context.Context, q querier) (map[string]string, error) {
	rs, err := q.QueryContext(ctx, `SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return nil, fmt.Errorf("read the schema: %w", err)
	}
	defer rs.Close()
	schema := map[string]string{}
	for rs.Next() {
		var typ, name, sql string
		if err := rs.Scan(&typ, &name, &sql); err != nil {
			return nil, fmt.Errorf("read the schema: %w", err)
		}
		schema[typ+" "+name] = sql
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read the schema: %w", err)
	}
	return schema, nil
}

// pragmaCheck runs integrity_check (which answers "ok" when all is well)
// or foreign_key_check (which answers nothing) and turns what they find
// into an error.
func pragmaCheck(ctx context.Context, db *sql.DB, pragma string) error {
	rs, err := db.QueryContext(ctx, `PRAGMA `+pragma)
	if err != nil {
		return fmt.Errorf("%s: %w", pragma, err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return fmt.Errorf("%s: %w", pragma, err)
	}
	var problems []string
	n := 0
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return fmt.Errorf("%s: %w", pragma, err)
		}
		if len(vals) == 1 && fmt.Sprint(vals[0]) == "ok" {
			continue
		}
		n++
		if len(problems) < maxProblems {
			parts := make([]string, len(vals))
			for i, v := range vals {
				// integrity_check's rows may span lines, the first
				// naming the database.
				line := strings.TrimPrefix(fmt.Sprint(v), "*** in database main ***\n")
				parts[i] = strings.ReplaceAll(line, "\n", "; ")
			}
			problems = append(problems, strings.Join(parts, " "))
		}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("%s: %w", pragma, err)
	}
	if n > 0 {
		more := ""
		if n > len(problems) {
			more = fmt.Sprintf(" (and %d more)", n-len(problems))
		}
		return fmt.Errorf("%s found %d problem(s): %s%s", pragma, n, strings.Join(problems, "; "), more)
	}
	return nil
}

// fileURI is path as a SQLite URI: any character, ? and # included, may be
// in a file name.
func fileURI(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath()
}

// tempSuffix ends the names of the temporary files of backups and
// restores.
const tempSuffix = ".tmp"

// publish gives the finished file tmp the name dst, in the same
// directory, unless dst exists. A hard link does that in one step; where
// the file system has none, dst is created empty (and exclusively) and tmp
// renamed over it.
func publish(tmp, dst string) error {
	err := os.Link(tmp, dst)
	switch {
	case err == nil:
		if err := os.Remove(tmp); err != nil {
			return err
		}
	case errors.Is(err, fs.ErrExist):
		return ErrBackupExists
	default:
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return ErrBackupExists
		} else if err != nil {
			return err
		}
		f.Close()
		if err := os.Rename(tmp, dst); err != nil {
			os.Remove(dst)
			return err
		}
	}
	return syncDir(filepath.Dir(dst))
}

// syncDir makes the names in dir durable, where the system can.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// checkDir reports a clear error unless dir is an existing directory.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("directory %s does not exist", dir)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

// removeDatabaseFiles removes the database file path and the journal files
// SQLite may have left beside it.
func removeDatabaseFiles(path string) {
	for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
}

// RemoveStaleTemp removes the temporary files in dir of backups to files
// whose names start with prefix that were cut off by the end of their
// process (a crash, a kill) before they could remove them: those whose
// lock nobody holds. A backup in progress holds its lock, so its file is
// kept. It returns the paths it removed.
func RemoveStaleTemp(dir, prefix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, "."+prefix) || !strings.HasSuffix(name, tempSuffix) {
			continue
		}
		path := filepath.Join(dir, name)
		f, err := os.Open(path)
		if err != nil {
			continue // gone meanwhile
		}
		if flock(f, true) == nil {
			removeDatabaseFiles(path)
			removed = append(removed, path)
		}
		f.Close()
	}
	return removed, nil
}
