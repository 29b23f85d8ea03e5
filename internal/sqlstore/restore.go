package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ErrDatabaseInUse means a process has the database open: Restore does not
// replace a database under a running server.
var ErrDatabaseInUse = errors.New("a quill process (a server, or another command) has the database open; stop it first")

// RestoreInfo says what Restore did.
type RestoreInfo struct {
	Path string // the database file, as the URL names it
	Size int64  // bytes
	// Rows is the number of rows of every table, SQLite's own aside.
	Rows map[string]int64
	// SchemaVersion is the newest migration the restored file has, and
	// Pending the number of migrations this build has that it lacks:
	// quill applies them when it next opens the database.
	SchemaVersion int
	Pending       int
	// Previous is where the database that was replaced is now, with its
	// write-ahead log beside it if it had one; "" when there was none.
	Previous string
}

// Restore replaces the SQLite database file databaseURL names with a copy
// of the file backup, which must be a quill database (the tables, indexes
// and triggers its migrations make), pass PRAGMA integrity_check and
// foreign_key_check, and have no migration this build does not know.
//
// It holds the database's lock exclusively throughout, so it refuses with
// ErrDatabaseInUse while any store has the file open (a server, quill
// backup, any quill command), and a store opened meanwhile waits for it
// (see Open). It copies backup into a temporary file beside the database
// and checks the copy, leaving the database untouched if anything is
// wrong. Then the database file, if there is one, is renamed to
// <file>.before-restore-<UTC time> (its -wal and -journal follow it, so
// no committed write of the old database is lost and no log of it is
// applied to the new one; its -shm is removed) and the copy takes its
// name. now gives that time.
//
// A backup with a non-empty -wal beside it is refused: the file alone may
// lack what the log holds (it is a database in use, or one whose last
// writer did not close it).
func Restore(ctx context.Context, databaseURL, backup string, now func() time.Time) (RestoreInfo, error) {
	if now == nil {
		now = time.Now
	}
	path, err := SQLiteFile(databaseURL)
	if err != nil {
		return RestoreInfo{}, err
	}
	if err := checkDir(filepath.Dir(path)); err != nil {
		return RestoreInfo{}, fmt.Errorf("database %w: create it or fix DATABASE_URL", err)
	}
	// SQLite follows a symbolic link to the file and keeps its journals
	// beside the file it leads to: so does Restore.
	file := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		file = resolved
	} else if !errors.Is(err, fs.ErrNotExist) {
		return RestoreInfo{}, err
	}

	src, err := os.Open(backup)
	if err != nil {
		return RestoreInfo{}, err
	}
	defer src.Close()
	sfi, err := src.Stat()
	if err != nil {
		return RestoreInfo{}, err
	}
	if !sfi.Mode().IsRegular() {
		return RestoreInfo{}, fmt.Errorf("%s is not a regular file", backup)
	}
	if dfi, err := os.Stat(file); err == nil && os.SameFile(sfi, dfi) {
		return RestoreInfo{}, fmt.Errorf("%s is the database itself", backup)
	}
	if wal, err := os.Stat(backup + "-wal"); err == nil && wal.Size() > 0 {
		return RestoreInfo{}, fmt.Errorf("%s-wal is beside %s: it is a database in use, or one whose last writer did not close it, and the file alone may lack what the log holds; make a backup of it with quill backup and restore that", backup, backup)
	}

	lock, err := openLock(lockPath(path), true)
	switch {
	case errors.Is(err, errLocked):
		return RestoreInfo{}, fmt.Errorf("%s: %w", path, ErrDatabaseInUse)
	case errors.Is(err, errors.ErrUnsupported):
		return RestoreInfo{}, errors.New("quill restore needs file locks (flock), which this system does not have, to tell whether a server has the database open; stop quill and copy the file instead")
	case err != nil:
		return RestoreInfo{}, err
	}
	defer lock.Close()

	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".restore-*"+tempSuffix)
	if err != nil {
		return RestoreInfo{}, err
	}
	placed := false
	defer func() {
		tmp.Close()
		if !placed {
			removeDatabaseFiles(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, readerWithContext{ctx, src}); err != nil {
		return RestoreInfo{}, fmt.Errorf("copy %s: %w", backup, err)
	}
	if err := tmp.Sync(); err != nil {
		return RestoreInfo{}, fmt.Errorf("copy %s: %w", backup, err)
	}
	report, err := inspect(ctx, tmp.Name())
	if err != nil {
		return RestoreInfo{}, fmt.Errorf("%s: %w", backup, err)
	}
	pending, err := checkQuillFile(ctx, report)
	if err != nil {
		return RestoreInfo{}, fmt.Errorf("%s: %w", backup, err)
	}
	if err := tmp.Sync(); err != nil {
		return RestoreInfo{}, err
	}

	// Run as root, Restore gives the new file the owner of the one it
	// replaces, whose user quill runs as.
	if old, err := os.Stat(file); err == nil {
		if err := copyOwner(tmp.Name(), old); err != nil {
			return RestoreInfo{}, fmt.Errorf("give the copy the database's owner: %w", err)
		}
	}
	info := RestoreInfo{Path: path, Rows: report.rows, SchemaVersion: report.version, Pending: pending}
	if info.Previous, err = moveAside(file, now().UTC().Format("20060102T150405Z")); err != nil {
		return RestoreInfo{}, err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return RestoreInfo{}, fmt.Errorf("put the copy in place: %w", err)
	}
	placed = true
	if err := syncDir(filepath.Dir(file)); err != nil {
		return RestoreInfo{}, err
	}
	fi, err := os.Stat(file)
	if err != nil {
		return RestoreInfo{}, err
	}
	info.Size = fi.Size()
	return info, nil
}

// checkQuillFile checks that a file is a quill database this build can
// open: it has the first N of this build's migrations, in order, and
// every table, index and trigger those migrations make, as they make it
// (other objects, such as the tables Litestream adds, are allowed). It
// returns how many of this build's migrations the file lacks.
func checkQuillFile(ctx context.Context, r fileReport) (pending int, err error) {
	if r.versions == nil {
		return 0, errors.New("not a quill database: it has no schema_migrations table")
	}
	if len(r.versions) == 0 {
		return 0, errors.New("not a quill database: no migration was ever applied to it")
	}
	ms, err := sqliteDialect.migrationList()
	if err != nil {
		return 0, err
	}
	latest := ms[len(ms)-1].version
	if r.version > latest {
		return 0, fmt.Errorf("its schema is at version %d, and this quill knows versions up to %d: it was made by a newer quill; restore it with that quill", r.version, latest)
	}
	for i, v := range r.versions {
		if v != ms[i].version {
			known := make([]int, len(r.versions))
			for j := range known {
				known[j] = ms[j].version
			}
			return 0, fmt.Errorf("not a quill database: its migrations are %v, where quill's first %d are %v", r.versions, len(r.versions), known)
		}
	}
	want, err := referenceSchema(ctx, ms[:len(r.versions)])
	if err != nil {
		return 0, err
	}
	var problems []string
	for key, sql := range want {
		switch got, ok := r.schema[key]; {
		case !ok:
			problems = append(problems, "no "+key)
		case got != sql:
			problems = append(problems, key+" differs")
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		if len(problems) > maxProblems {
			problems = append(problems[:maxProblems], fmt.Sprintf("%d more", len(problems)-maxProblems))
		}
		return 0, fmt.Errorf("not a quill database of schema version %d: %s", r.version, strings.Join(problems, ", "))
	}
	return len(ms) - len(r.versions), nil
}

// referenceSchema returns the schema that the migrations ms make, as
// readSchema reads it, from an in-memory database they are applied to.
func referenceSchema(ctx context.Context, ms []migration) (map[string]string, error) {
	s, err := Open(ctx, "sqlite://:memory:", nil)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
		return nil, err
	}
	for _, m := range ms {
		if err := s.apply(ctx, conn, m); err != nil {
			return nil, err
		}
	}
	return readSchema(ctx, conn)
}

// moveAside renames the database file and the journals that belong to it
// to <file>.before-restore-<stamp>, and removes its -shm, which SQLite
// makes anew. It returns the new name, or "" if there was no file (a
// journal without its file is moved aside all the same: SQLite would
// apply it to the new file). The file is first linked to its new name, so
// that the database is never missing; where the file system has no hard
// links, it is renamed.
func moveAside(file, stamp string) (string, error) {
	aside := file + ".before-restore-" + stamp
	for _, suffix := range []string{"", "-wal", "-journal"} {
		if _, err := os.Lstat(aside + suffix); err == nil {
			return "", fmt.Errorf("%s exists: wait a second and try again", aside+suffix)
		}
	}
	exists := true
	if _, err := os.Lstat(file); errors.Is(err, fs.ErrNotExist) {
		exists = false
	} else if err != nil {
		return "", err
	}
	if exists {
		if err := os.Link(file, aside); err != nil {
			if err := os.Rename(file, aside); err != nil {
				return "", fmt.Errorf("move the database aside: %w", err)
			}
		}
	}
	for _, suffix := range []string{"-wal", "-journal"} {
		if err := os.Rename(file+suffix, aside+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("move the database's %s aside: %w", suffix, err)
		}
	}
	if err := os.Remove(file + "-shm"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if !exists {
		return "", nil
	}
	return aside, nil
}

// readerWithContext stops reading when ctx ends.
type readerWithContext struct {
	ctx context.Context
	r   io.Reader
}

func (r readerWithContext) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
