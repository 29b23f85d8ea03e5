package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/quilltest"
	"github.com/quill-blog/quill/internal/sqlstore"
	"github.com/quill-blog/quill/internal/testclock"
)

// names lists the files in dir.
func names(tb testing.TB, dir string) []string {
	tb.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestBackup(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := context.Background()
		register(t, q, "alice", "alice@example.com")
		c := logIn(t, q, "alice", alicePassword)
		for _, title := range []string{"one", "two"} {
			content := "text of " + title
			if _, err := q.App.CreatePost(ctx, c, app.PostInput{Title: &title, Content: &content}); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join(t.TempDir(), "backup.db")
		r, err := q.App.Backup(ctx, path)
		if q.App.Dialect() == "postgres" {
			wantError(t, "Backup() on PostgreSQL", err, sqlstore.ErrNotSQLite)
			return
		}
		if err != nil {
			t.Fatalf("Backup() = %v", err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		want := app.BackupReport{Path: path, Size: fi.Size(), Users: 1, Posts: 2, Pictures: 0, Sessions: 1, Took: r.Took}
		if diff := cmp.Diff(want, r); diff != "" {
			t.Errorf("Backup() mismatch (-want +got):\n%s", diff)
		}
		_, err = q.App.Backup(ctx, path)
		wantError(t, "Backup() to the same file", err, sqlstore.ErrBackupExists)
	})
}

func TestScheduledBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := quilltest.New(t, quilltest.SQLite)
	register(t, q, "alice", "alice@example.com")
	dir := t.TempDir()
	// Files that are not quill's scheduled backups are never deleted.
	for _, name := range []string{"notes.txt", "quill-backup-latest.db", "quill-backup-20200101T000000Z.db.gz"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The leftover of a backup cut off by a crash is; one in progress
	// (whose lock is held) is not, as a test of sqlstore shows.
	if err := os.WriteFile(filepath.Join(dir, ".quill-backup-20260301T110000Z.db.42.tmp"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	for i := range 4 {
		r, err := q.App.ScheduledBackup(ctx, dir, 2)
		if err != nil {
			t.Fatalf("ScheduledBackup() %d = %v", i, err)
		}
		if r.Users != 1 || filepath.Dir(r.Path) != dir {
			t.Errorf("ScheduledBackup() %d = %+v", i, r)
		}
		q.Clock.Advance(time.Hour)
	}
	want := []string{"notes.txt", "quill-backup-20200101T000000Z.db.gz",
		"quill-backup-20260301T140000Z.db", "quill-backup-20260301T150000Z.db", "quill-backup-latest.db"}
	if diff := cmp.Diff(want, names(t, dir)); diff != "" {
		t.Errorf("files after four backups keeping two (-want +got):\n%s", diff)
	}
	logs := q.Logs.String()
	for _, line := range []string{
		`msg="backup written" path=` + filepath.Join(dir, "quill-backup-20260301T150000Z.db") + " bytes=",
		"users=1 posts=0 pictures=0 sessions=0",
		`msg="old backup deleted" path=` + filepath.Join(dir, "quill-backup-20260301T120000Z.db"),
		`msg="old backup deleted" path=` + filepath.Join(dir, "quill-backup-20260301T130000Z.db"),
		`msg="deleted the leftover of a backup cut off by a crash"`,
	} {
		if !strings.Contains(logs, line) {
			t.Errorf("the log lacks %q:\n%s", line, logs)
		}
	}

	// A failed backup is logged and deletes nothing: the clock has not
	// moved, so the name is taken.
	q.Clock.Advance(-time.Hour)
	if _, err := q.App.ScheduledBackup(ctx, dir, 1); !errors.Is(err, sqlstore.ErrBackupExists) {
		t.Errorf("ScheduledBackup() to a name that is taken = %v, want ErrBackupExists", err)
	}
	if diff := cmp.Diff(want, names(t, dir)); diff != "" {
		t.Errorf("files after a failed backup (-want +got):\n%s", diff)
	}
	if !strings.Contains(q.Logs.String(), `msg="backup failed" path=`+filepath.Join(dir, "quill-backup-20260301T150000Z.db")) {
		t.Errorf("the failure is not logged:\n%s", q.Logs)
	}
	os.RemoveAll(dir)
	if _, err := q.App.ScheduledBackup(ctx, dir, 1); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("ScheduledBackup() into a directory that was deleted = %v", err)
	}
}

// TestRunBackups runs the schedule for a few rounds, then stops it.
func TestRunBackups(t *testing.T) {
	t.Parallel()
	// Each reading of the clock is a second later, so each round has a
	// name of its own however fast the rounds come.
	var seconds atomic.Int64
	q := quilltest.New(t, quilltest.SQLite, quilltest.Options{App: func(c *app.Config) {
		c.Now = func() time.Time { return testclock.Epoch.Add(time.Duration(seconds.Add(1)) * time.Second) }
	}})
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.App.RunBackups(ctx, app.BackupSchedule{Dir: dir, Every: 20 * time.Millisecond, Keep: 2})
	}()
	deadline := time.Now().Add(time.Minute)
	for strings.Count(q.Logs.String(), `msg="old backup deleted"`) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no three rounds of backups within a minute; the log:\n%s", q.Logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("RunBackups did not return when its context ended")
	}
	got := names(t, dir)
	if len(got) != 2 {
		t.Errorf("files after the schedule stopped = %q, want the 2 newest backups", got)
	}
	if strings.Contains(q.Logs.String(), "backup failed") {
		t.Errorf("a scheduled backup failed:\n%s", q.Logs)
	}
}
