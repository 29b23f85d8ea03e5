package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/sqlstore"
)

// Backups of the database, by an administrator (quill backup) or on a
// schedule (quill serve with BACKUP_DIR). They are of SQLite databases;
// PostgreSQL is backed up with its own tools.

// BackupReport describes a backup that was written and checked.
type BackupReport struct {
	Path string // absolute
	Size int64  // bytes
	// The rows of the main tables in the backup: the same as in the
	// database at the moment it was taken.
	Users, Posts, Pictures, Sessions int64
	Took                             time.Duration
}

// Backup writes a consistent copy of the database, pictures included, to
// the new file path while the database stays in use, checks it, and
// reports what it holds: see sqlstore.Store.Backup. It never overwrites a
// file (sqlstore.ErrBackupExists). On PostgreSQL the error is
// sqlstore.ErrNotSQLite.
func (a *App) Backup(ctx context.Context, path string) (BackupReport, error) {
	start := time.Now()
	info, err := a.store.Backup(ctx, path)
	if err != nil {
		return BackupReport{}, err
	}
	return BackupReport{
		Path:     info.Path,
		Size:     info.Size,
		Users:    info.Rows["users"],
		Posts:    info.Rows["posts"],
		Pictures: info.Rows["pictures"],
		Sessions: info.Rows["sessions"],
		Took:     time.Since(start),
	}, nil
}

// BackupSchedule says where and how often RunBackups takes backups.
type BackupSchedule struct {
	Dir   string        // an existing directory quill may write to
	Every time.Duration // more than zero
	Keep  int           // how many of its backups to keep in Dir; at least 1
}

// Scheduled backups are named after the UTC time they began:
// quill-backup-20260301T120000Z.db. Only files named so are counted and
// deleted; anything else in the directory is left alone.
const (
	backupPrefix = "quill-backup-"
	backupStamp  = "20060102T150405Z"
	backupSuffix = ".db"
)

// RunBackups takes a backup into sch.Dir every sch.Every until ctx ends,
// the first one sch.Every after it starts, and logs each (see
// ScheduledBackup). A backup still running when the next one is due makes
// that one skipped. When ctx ends, a backup in progress is abandoned (its
// temporary file is removed) and RunBackups returns.
func (a *App) RunBackups(ctx context.Context, sch BackupSchedule) {
	tick := time.NewTicker(sch.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			a.ScheduledBackup(ctx, sch.Dir, sch.Keep)
			// A tick that came during a long backup is dropped, not run
			// at once.
			select {
			case <-tick.C:
			default:
			}
		}
	}
}

// ScheduledBackup takes one backup into dir, named after the App's clock,
// and when it has been written and checked deletes the oldest of the
// scheduled backups in dir so that keep of them remain, and the
// temporary files of backups that a crash cut off. It logs the backup
// (path, size, rows) or why it failed, and each file it deletes.
func (a *App) ScheduledBackup(ctx context.Context, dir string, keep int) (BackupReport, error) {
	name := backupPrefix + a.now().UTC().Format(backupStamp) + backupSuffix
	r, err := a.Backup(ctx, filepath.Join(dir, name))
	if err != nil {
		if ctx.Err() != nil {
			a.logger.Info("backup abandoned: quill is stopping", "path", filepath.Join(dir, name))
		} else {
			a.logger.Error("backup failed", "path", filepath.Join(dir, name), "err", err)
		}
		return BackupReport{}, err
	}
	a.logger.Info("backup written", "path", r.Path, "bytes", r.Size, "users", r.Users, "posts", r.Posts,
		"pictures", r.Pictures, "sessions", r.Sessions, "took", r.Took.Round(time.Millisecond))
	a.pruneBackups(dir, keep)
	return r, nil
}

// pruneBackups deletes all but the newest keep scheduled backups in dir,
// and the temporary files of cut-off backups.
func (a *App) pruneBackups(dir string, keep int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		a.logger.Warn("could not list the backups to delete old ones", "dir", dir, "err", err)
		return
	}
	var backups []string // names, which sort as their times do
	for _, e := range entries {
		if isScheduledBackup(e.Name()) && e.Type().IsRegular() {
			backups = append(backups, e.Name())
		}
	}
	slices.Sort(backups)
	for _, name := range backups[:max(0, len(backups)-keep)] {
		path := filepath.Join(dir, name)
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			a.logger.Warn("could not delete an old backup", "path", path, "err", err)
			continue
		}
		a.logger.Info("old backup deleted", "path", path)
	}
	removed, err := sqlstore.RemoveStaleTemp(dir, backupPrefix)
	if err != nil {
		a.logger.Warn("could not look for the leftovers of cut-off backups", "dir", dir, "err", err)
	}
	for _, path := range removed {
		a.logger.Info("deleted the leftover of a backup cut off by a crash", "path", path)
	}
}

// isScheduledBackup reports whether name is that of a scheduled backup.
func isScheduledBackup(name string) bool {
	stamp, ok := strings.CutPrefix(name, backupPrefix)
	if !ok {
		return false
	}
	if stamp, ok = strings.CutSuffix(stamp, backupSuffix); !ok {
		return false
	}
	_, err := time.Parse(backupStamp, stamp)
	return err == nil
}
