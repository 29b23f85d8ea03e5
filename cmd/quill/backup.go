package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// backup writes a checked copy of the SQLite database to a new file while
// the database stays in use.
func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, flags, err := loadCommandConfig(command{
		name: "backup",
		args: " FILE",
		about: "Writes a copy of the SQLite database DATABASE_URL names to FILE, a new file, while quill keeps serving,\n" +
			"checks it, and prints what it holds. With PostgreSQL, use pg_dump.",
	}, args, getenv, stderr)
	if err != nil {
		return err
	}
	if flags.NArg() != 1 {
		return &usageError{"backup takes one argument: the file to write"}
	}
	file := flags.Arg(0)
	path, err := sqlstore.SQLiteFile(cfg.DatabaseURL)
	if errors.Is(err, sqlstore.ErrNotSQLite) && isPostgres(cfg.DatabaseURL) {
		return fmt.Errorf("quill backup copies SQLite databases; back up PostgreSQL with pg_dump: %s", pgCommand("pg_dump --format=custom --file="+shellQuote(file), cfg.DatabaseURL, ""))
	} else if err != nil {
		return fmt.Errorf("cannot back up DATABASE_URL: %v", err)
	}
	// Opening a missing file would create an empty database: say so instead.
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("there is no database at %s; check DATABASE_URL", path)
	}
	// The database is copied as it is: not migrated, since a server of
	// another version may be running on it.
	store, err := sqlstore.Open(ctx, cfg.DatabaseURL, time.Now)
	if err != nil {
		return fmt.Errorf("cannot open the database: %v; check DATABASE_URL", err)
	}
	defer store.Close()
	quill := newApp(cfg, store, nil, 1, nil)
	r, err := quill.Backup(ctx, file)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s, %s, %s, %s, %s\n", r.Path, size(r.Size),
		count(r.Users, "user"), count(r.Posts, "post"), count(r.Pictures, "picture"), count(r.Sessions, "session"))
	return nil
}

// restore replaces the SQLite database with a backup, while no quill
// process has it open.
func restore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, flags, err := loadCommandConfig(command{
		name: "restore",
		args: " FILE",
		about: "Replaces the SQLite database DATABASE_URL names with FILE, a backup, after checking it. Stop quill first:\n" +
			"it refuses while any quill process has the database open. The database it replaces is kept beside it,\n" +
			"as FILE.before-restore-TIME. With PostgreSQL, use pg_restore.",
	}, args, getenv, stderr)
	if err != nil {
		return err
	}
	if flags.NArg() != 1 {
		return &usageError{"restore takes one argument: the backup file"}
	}
	file := flags.Arg(0)
	info, err := sqlstore.Restore(ctx, cfg.DatabaseURL, file, time.Now)
	switch {
	case errors.Is(err, sqlstore.ErrNotSQLite) && isPostgres(cfg.DatabaseURL):
		return fmt.Errorf("quill restore replaces SQLite databases; restore PostgreSQL with pg_restore, every quill instance stopped: %s", pgCommand("pg_restore --clean --if-exists", cfg.DatabaseURL, shellQuote(file)))
	case errors.Is(err, sqlstore.ErrDatabaseInUse):
		return fmt.Errorf("cannot restore: %v", err)
	case err != nil:
		return fmt.Errorf("cannot restore %s: %v", file, err)
	}
	rows := info.Rows
	fmt.Fprintf(stdout, "restored %s into %s: %s, %s, %s, %s, %s", file, info.Path, size(info.Size),
		count(rows["users"], "user"), count(rows["posts"], "post"), count(rows["pictures"], "picture"), count(rows["sessions"], "session"))
	if info.Previous != "" {
		fmt.Fprintf(stdout, "; the database it replaced is %s", info.Previous)
	}
	if info.Pending > 0 {
		fmt.Fprintf(stdout, "; quill applies %s when it next starts", count(info.Pending, "migration"))
	}
	fmt.Fprintln(stdout)
	return nil
}

// backupSchedule returns the scheduled backups cfg asks for, after
// checking that they can be taken: a SQLite file, and a directory that
// exists and quill may write to. ok is false when BACKUP_DIR is unset.
func backupSchedule(cfg config) (s app.BackupSchedule, ok bool, err error) {
	if cfg.BackupDir == "" {
		return s, false, nil
	}
	if _, err := sqlstore.SQLiteFile(cfg.DatabaseURL); err != nil {
		if isPostgres(cfg.DatabaseURL) {
			return s, false, errors.New("BACKUP_DIR is set, but DATABASE_URL is PostgreSQL: scheduled backups are of SQLite files; back up PostgreSQL with pg_dump (see docs/deployment.md) and unset BACKUP_DIR")
		}
		return s, false, fmt.Errorf("BACKUP_DIR is set, but DATABASE_URL names no SQLite file (%v); unset BACKUP_DIR", err)
	}
	fi, err := os.Stat(cfg.BackupDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, false, fmt.Errorf("BACKUP_DIR=%q does not exist: create it, or fix BACKUP_DIR", cfg.BackupDir)
	case err != nil:
		return s, false, fmt.Errorf("BACKUP_DIR=%q: %v", cfg.BackupDir, err)
	case !fi.IsDir():
		return s, false, fmt.Errorf("BACKUP_DIR=%q is not a directory", cfg.BackupDir)
	}
	// Only writing shows that writing works (permissions, ACLs, a
	// read-only mount).
	probe, err := os.CreateTemp(cfg.BackupDir, ".quill-backup-probe-*")
	if err != nil {
		return s, false, fmt.Errorf("BACKUP_DIR=%q is not writable by quill: %v", cfg.BackupDir, unwrapPathError(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	dir, err := filepath.Abs(cfg.BackupDir)
	if err != nil {
		return s, false, fmt.Errorf("BACKUP_DIR=%q: %v", cfg.BackupDir, err)
	}
	return app.BackupSchedule{Dir: dir, Every: cfg.BackupInterval, Keep: cfg.BackupKeep}, true, nil
}

// startBackups runs the schedule beside the server until ctx ends or the
// returned function is called, which waits until it has stopped (a
// backup in progress is abandoned).
func startBackups(ctx context.Context, quill *app.App, s app.BackupSchedule, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		quill.RunBackups(ctx, s)
	}()
	logger.Info("scheduled backups", "dir", s.Dir, "every", s.Every.String(), "keep", s.Keep,
		"first", time.Now().Add(s.Every).UTC().Format(time.RFC3339))
	return func() {
		cancel()
		<-done
	}
}

// isPostgres reports whether databaseURL is PostgreSQL's.
func isPostgres(databaseURL string) bool {
	return strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://")
}

// pgCommand is a PostgreSQL client command line for the database at
// databaseURL: tool and its flags, the connection, then after. The
// connection is the URL without its password (psql's tools read it from
// PGPASSWORD or ~/.pgpass) or quill's own parameters, which they would
// refuse.
func pgCommand(tool, databaseURL, after string) string {
	conn := `--dbname="$DATABASE_URL"`
	if u, err := url.Parse(databaseURL); err == nil {
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		q := u.Query()
		q.Del("pool_max_conns")
		u.RawQuery = q.Encode()
		conn = "--dbname=" + shellQuote(u.String())
	}
	return strings.TrimSpace(tool + " " + conn + " " + after)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@=,+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// size is n bytes for people: "812 bytes", "4.2 MiB".
func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB (%d bytes)", float64(n)/float64(div), "KMGTPE"[exp], n)
}
