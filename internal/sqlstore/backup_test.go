package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore/sqltest"
	"github.com/quill-blog/quill/internal/testclock"
)

// sqliteStore returns a migrated store on a new SQLite file, and the
// file's URL.
func sqliteStore(tb testing.TB) (*Store, string) {
	tb.Helper()
	url := "sqlite:///" + filepath.Join(tb.TempDir(), "quill.db")
	s := openTestStore(tb, url, testclock.New())
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("Migrate() = %v", err)
	}
	return s, url
}

// fill gives s two users with posts, a picture and a session, and
// returns the first user.
func fill(tb testing.TB, s *Store) *blog.User {
	tb.Helper()
	alice, bob := createUser(tb, s, "alice"), createUser(tb, s, "bob")
	for i := range 3 {
		createPost(tb, s, alice, fmt.Sprintf("alice %d", i), time.Time{})
	}
	createPost(tb, s, bob, "bob 0", time.Time{})
	if _, err := savePicture(s, alice.ID, "alice.jpg", bytes.Repeat([]byte("jpeg"), 10_000)); err != nil {
		tb.Fatalf("SavePicture() = %v", err)
	}
	createSession(tb, s, alice, "session-1", testclock.Epoch, time.Hour)
	return alice
}

// entries lists the names in dir.
func entries(tb testing.TB, dir string) []string {
	tb.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := sqliteStore(t)
	alice := fill(t, s)
	dir := t.TempDir()
	path := filepath.Join(dir, "copy.db")

	info, err := s.Backup(ctx, path)
	if err != nil {
		t.Fatalf("Backup() = %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no backup file: %v", err)
	}
	want := BackupInfo{Path: path, Size: fi.Size(), SchemaVersion: latestVersion(t), Rows: filledRows(t)}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Errorf("Backup() mismatch (-want +got):\n%s", diff)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode = %v, want 0600: it holds password hashes", fi.Mode().Perm())
	}
	// One self-contained file: nothing else is left in the directory.
	if diff := cmp.Diff([]string{"copy.db"}, entries(t, dir)); diff != "" {
		t.Errorf("files beside the backup (-want +got):\n%s", diff)
	}

	// A backup never overwrites a file, not even an earlier backup.
	if _, err := s.Backup(ctx, path); !errors.Is(err, ErrBackupExists) {
		t.Errorf("Backup() over an existing file = %v, want ErrBackupExists", err)
	}
	if _, err := s.Backup(ctx, filepath.Join(dir, "missing", "copy.db")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Backup() into a missing directory = %v, want one saying so", err)
	}
	if diff := cmp.Diff([]string{"copy.db"}, entries(t, dir)); diff != "" {
		t.Errorf("failed backups left files (-want +got):\n%s", diff)
	}

	// A backup can be cancelled, and leaves nothing then.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Backup(cancelled, filepath.Join(dir, "cancelled.db")); !errors.Is(err, context.Canceled) {
		t.Errorf("Backup() with a cancelled context = %v, want context.Canceled", err)
	}
	if diff := cmp.Diff([]string{"copy.db"}, entries(t, dir)); diff != "" {
		t.Errorf("a cancelled backup left files (-want +got):\n%s", diff)
	}
	// The store's connections are still usable: none was left inside the
	// backup's read transaction.
	createPost(t, s, alice, "after the backups", time.Time{})
	for range 8 {
		if page, err := s.Posts(ctx, alice.ID, blog.PageRequest{}); err != nil || page.Total != 4 {
			t.Fatalf("Posts(alice) after the backups = %+v, %v; want 4 posts", page, err)
		}
	}

	// The copy is a database quill opens, with the data, the picture
	// included.
	c := openTestStore(t, "sqlite:///"+path, testclock.New())
	page, err := c.Posts(ctx, alice.ID, blog.PageRequest{})
	if err != nil || page.Total != 3 {
		t.Fatalf("Posts(alice) in the copy = %+v, %v; want 3 posts", page, err)
	}
	data, _, err := c.Picture(ctx, "alice.jpg")
	if err != nil || len(data) != 40_000 {
		t.Errorf("Picture() in the copy = %d bytes, %v; want 40000", len(data), err)
	}
}

// TestBackupWhileWriting takes backups while writers keep writing: each
// holds at least every post written before it began, and is consistent
// (Backup compares the copy's counts with those of its snapshot).
func TestBackupWhileWriting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := sqliteStore(t)
	alice := createUser(t, s, "alice")
	dir := t.TempDir()

	var (
		mu      sync.Mutex
		written int64 // posts whose Write returned
		wg      sync.WaitGroup
		stop    = make(chan struct{})
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := &blog.Post{Title: fmt.Sprintf("w%d-%d", w, i), Content: strings.Repeat("x", 2000), AuthorID: alice.ID}
				if err := s.Write(ctx, func(tx *Tx) error { return tx.CreatePost(ctx, p) }); err != nil {
					t.Errorf("CreatePost() = %v", err)
					return
				}
				mu.Lock()
				written++
				mu.Unlock()
			}
		}()
	}
	var last int64
	for i := range 5 {
		mu.Lock()
		before := written
		mu.Unlock()
		info, err := s.Backup(ctx, filepath.Join(dir, fmt.Sprintf("b%d.db", i)))
		if err != nil {
			t.Fatalf("Backup() while writing = %v", err)
		}
		if got := info.Rows["posts"]; got < before || got < last {
			t.Errorf("backup %d holds %d posts; %d were written before it began, and the one before held %d", i, got, before, last)
		}
		last = info.Rows["posts"]
	}
	close(stop)
	wg.Wait()
}

func TestBackupRefusals(t *testing.T) {
	t.Parallel()
	mem := openTestStore(t, "sqlite://:memory:", testclock.New())
	if _, err := mem.Backup(context.Background(), filepath.Join(t.TempDir(), "x.db")); err == nil || !strings.Contains(err.Error(), "in-memory") {
		t.Errorf("Backup() of an in-memory database = %v, want a refusal", err)
	}
	t.Run("postgres", func(t *testing.T) {
		s := openTestStore(t, sqltest.PostgresURL(t), testclock.New())
		if _, err := s.Backup(context.Background(), filepath.Join(t.TempDir(), "x.db")); !errors.Is(err, ErrNotSQLite) {
			t.Errorf("Backup() on PostgreSQL = %v, want ErrNotSQLite", err)
		}
	})
}

func TestRemoveStaleTemp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stale := filepath.Join(dir, ".quill-backup-x.db.123"+tempSuffix)
	busy := filepath.Join(dir, ".quill-backup-y.db.456"+tempSuffix)
	other := filepath.Join(dir, ".other.db.789"+tempSuffix)
	for _, p := range []string{stale, stale + "-journal", busy, other} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(busy)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := flock(f, true); err != nil {
		t.Fatal(err)
	}
	removed, err := RemoveStaleTemp(dir, "quill-backup-")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{stale}, removed); diff != "" {
		t.Errorf("RemoveStaleTemp() removed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{".other.db.789.tmp", ".quill-backup-y.db.456.tmp"}, entries(t, dir)); diff != "" {
		t.Errorf("files left (-want +got):\n%s", diff)
	}
}

// backupOf returns a backup file of a filled database, and the first user.
func backupOf(tb testing.TB) (string, *blog.User) {
	tb.Helper()
	s, _ := sqliteStore(tb)
	alice := fill(tb, s)
	path := filepath.Join(tb.TempDir(), "backup.db")
	if _, err := s.Backup(context.Background(), path); err != nil {
		tb.Fatalf("Backup() = %v", err)
	}
	return path, alice
}

func TestRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	backup, alice := backupOf(t)
	clock := testclock.New()

	// The database to restore over has a post the backup lacks, some of
	// it still in its write-ahead log: the process that wrote it was
	// killed (the file is copied with its log while the store is open).
	dir := t.TempDir()
	live, _ := sqliteStore(t)
	createUser(t, live, "carol")
	crashed := filepath.Join(dir, "quill.db")
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(live.file + suffix)
		if err != nil {
			t.Fatalf("read %s: %v", suffix, err)
		}
		if err := os.WriteFile(crashed+suffix, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dbURL := "sqlite:///" + crashed

	info, err := Restore(ctx, dbURL, backup, clock.Now)
	if err != nil {
		t.Fatalf("Restore() = %v", err)
	}
	fi, err := os.Stat(crashed)
	if err != nil {
		t.Fatal(err)
	}
	aside := crashed + ".before-restore-20260301T120000Z"
	want := RestoreInfo{Path: crashed, Size: fi.Size(), SchemaVersion: latestVersion(t), Previous: aside, Rows: filledRows(t)}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Errorf("Restore() mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"quill.db", "quill.db.before-restore-20260301T120000Z", "quill.db.before-restore-20260301T120000Z-wal", "quill.db.lock"}, entries(t, dir)); diff != "" {
		t.Errorf("files after the restore (-want +got):\n%s", diff)
	}

	// The restored database is the backup's; the one it replaced is
	// whole beside it, with what its log held.
	s, err := Open(ctx, dbURL, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if u, err := s.UserByLogin(ctx, "alice@example.com"); err != nil || u.ID != alice.ID {
		t.Errorf("alice in the restored database = %+v, %v", u, err)
	}
	if _, err := s.UserByLogin(ctx, "carol@example.com"); !errors.Is(err, blog.ErrUserNotFound) {
		t.Errorf("carol, who the backup lacks, in the restored database: %v", err)
	}
	old, err := Open(ctx, "sqlite:///"+aside, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.UserByLogin(ctx, "carol@example.com"); err != nil {
		t.Errorf("carol in the database moved aside = %v", err)
	}

	// While a store has it open, the database is not replaced.
	if _, err := Restore(ctx, dbURL, backup, clock.Now); !errors.Is(err, ErrDatabaseInUse) {
		t.Errorf("Restore() while a store is open = %v, want ErrDatabaseInUse", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	// Nor when the name for the database it replaces is taken.
	if _, err := Restore(ctx, dbURL, backup, clock.Now); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("Restore() in the same second = %v, want a refusal", err)
	}
	clock.Advance(time.Second)
	if _, err := Restore(ctx, dbURL, backup, clock.Now); err != nil {
		t.Errorf("Restore() once the store is closed = %v", err)
	}

	// Into a database that does not exist yet.
	fresh := "sqlite:///" + filepath.Join(t.TempDir(), "new.db")
	if info, err := Restore(ctx, fresh, backup, clock.Now); err != nil || info.Previous != "" {
		t.Errorf("Restore() into a new file = %+v, %v", info, err)
	}

	// A backup made before the latest migration is restored as it is;
	// quill migrates it when it opens it.
	ms, err := sqliteDialect.migrationList()
	if err != nil {
		t.Fatal(err)
	}
	older := filepath.Join(t.TempDir(), "older.db")
	migrateTo(t, older, ms[:len(ms)-1])
	olderURL := "sqlite:///" + filepath.Join(t.TempDir(), "quill.db")
	previous := ms[len(ms)-2].version
	if info, err := Restore(ctx, olderURL, older, clock.Now); err != nil || info.SchemaVersion != previous || info.Pending != 1 {
		t.Fatalf("Restore() of a backup at version %d = %+v, %v; want that version with 1 migration pending", previous, info, err)
	}
	migrated := openTestStore(t, olderURL, clock)
	if err := migrated.Migrate(ctx); err != nil {
		t.Errorf("Migrate() after restoring a backup at version %d = %v", previous, err)
	}
}

// migrateTo makes a database at path with the migrations ms applied, as
// an older quill made it.
func migrateTo(tb testing.TB, path string, ms []migration) {
	tb.Helper()
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:///"+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	conn, err := s.write.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
		tb.Fatal(err)
	}
	for _, m := range ms {
		if err := s.apply(ctx, conn, m); err != nil {
			tb.Fatal(err)
		}
	}
}

// latestVersion is the newest migration this build has.
func latestVersion(tb testing.TB) int {
	tb.Helper()
	ms, err := sqliteDialect.migrationList()
	if err != nil {
		tb.Fatal(err)
	}
	return ms[len(ms)-1].version
}

// filledRows is what fill leaves in each table of a new database: its
// rows, one per migration in schema_migrations, and nothing in the
// tables it does not touch.
func filledRows(tb testing.TB) map[string]int64 {
	tb.Helper()
	ms, err := sqliteDialect.migrationList()
	if err != nil {
		tb.Fatal(err)
	}
	schema, err := referenceSchema(context.Background(), ms)
	if err != nil {
		tb.Fatal(err)
	}
	rows := map[string]int64{}
	var virtual []string
	for key, sql := range schema {
		if name, ok := strings.CutPrefix(key, "table "); ok {
			rows[name] = 0
			if strings.HasPrefix(sql, "CREATE VIRTUAL TABLE") {
				virtual = append(virtual, name)
			}
		}
	}
	// A virtual table and its shadow tables (name_suffix) are an index,
	// not data: countRows leaves them out.
	for name := range rows {
		for _, v := range virtual {
			if name == v || strings.HasPrefix(name, v+"_") {
				delete(rows, name)
			}
		}
	}
	for name, n := range map[string]int64{"users": 2, "posts": 4, "pictures": 1, "sessions": 1, "post_total": 1, "schema_migrations": int64(len(ms))} {
		rows[name] = n
	}
	return rows
}

// TestRestoreRefusals checks that what is not a good quill database is
// refused with an error saying why, and changes nothing.
func TestRestoreRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	backup, _ := backupOf(t)
	good, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	// A page of the posts table, to damage.
	var postsPage int64
	db, err := sql.Open("sqlite", backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT rootpage FROM sqlite_schema WHERE name = 'posts'`).Scan(&postsPage); err != nil {
		t.Fatal(err)
	}
	db.Close()

	file := func(name string, data []byte) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	modified := func(name, stmt string) string {
		p := file(name, good)
		db, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		return p
	}
	corrupt := append([]byte(nil), good...)
	off := (postsPage - 1) * 4096
	copy(corrupt[off+8:off+64], bytes.Repeat([]byte{0xff}, 56))

	readOnly := append([]byte(nil), good...)
	readOnly[18] = 3 // the file format for writing: newer than SQLite's
	empty := file("empty.db", nil)
	withWAL := file("wal.db", good)
	if err := os.WriteFile(withWAL+"-wal", []byte("frames"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, backup, want string
	}{
		{"missing", filepath.Join(t.TempDir(), "nope.db"), "no such file"},
		{"directory", t.TempDir(), "not a regular file"},
		{"not sqlite", file("text.db", bytes.Repeat([]byte("not a database "), 1000)), "not a SQLite database"},
		{"empty", empty, "not a quill database: it has no schema_migrations table"},
		{"table missing", modified("other.db", `DROP TABLE pictures`), "no index pictures_user_id_key, no table pictures"},
		{"column missing", modified("column.db", `ALTER TABLE users DROP COLUMN image_file`), "table users differs"},
		{"trigger missing", modified("trigger.db", `DROP TRIGGER posts_count_insert`), "no trigger posts_count_insert"},
		{"migration missing", modified("gap.db", `DELETE FROM schema_migrations WHERE version = 2`), "where quill's first"},
		{"newer", modified("newer.db", `INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)`), fmt.Sprintf("schema is at version 99, and this quill knows versions up to %d", latestVersion(t))},
		{"corrupt", file("corrupt.db", corrupt), "integrity_check"},
		{"read-only format", file("readonly.db", readOnly), "SQLite can read it but not write it"},
		{"broken reference", modified("fk.db", `PRAGMA foreign_keys = OFF; INSERT INTO posts (user_id, title, content, date_posted) VALUES (999, 't', 'c', 0)`), "foreign_key_check found"},
		{"with a log", withWAL, "wal.db-wal is beside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			dbPath := filepath.Join(dir, "quill.db")
			if err := os.WriteFile(dbPath, good, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Restore(ctx, "sqlite:///"+dbPath, tt.backup, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Restore(%s) = %v, want an error containing %q", tt.name, err, tt.want)
			}
			after, err := os.ReadFile(dbPath)
			if err != nil || !bytes.Equal(after, good) {
				t.Errorf("Restore(%s) changed the database (%v)", tt.name, err)
			}
			left := slices.DeleteFunc(entries(t, dir), func(name string) bool { return name == "quill.db.lock" })
			if diff := cmp.Diff([]string{"quill.db"}, left); diff != "" {
				t.Errorf("Restore(%s) left files (-want +got):\n%s", tt.name, diff)
			}
		})
	}

	for _, u := range []string{"postgres://u@127.0.0.1:1/quill", "sqlite://:memory:"} {
		if _, err := Restore(ctx, u, backup, nil); err == nil {
			t.Errorf("Restore(%q) succeeded", u)
		}
	}
	if _, err := Restore(ctx, "postgres://u@127.0.0.1:1/quill", backup, nil); !errors.Is(err, ErrNotSQLite) {
		t.Errorf("Restore(postgres) = %v, want ErrNotSQLite", err)
	}
	if _, err := Restore(ctx, "sqlite:///"+backup, backup, nil); err == nil || !strings.Contains(err.Error(), "the database itself") {
		t.Errorf("Restore() of the database onto itself = %v", err)
	}
}

// TestRestoreAfterCrash checks that the lock of a process that was killed
// does not stop a restore: the kernel released it. The test runs itself
// in a child process that opens the database and kills itself.
func TestRestoreAfterCrash(t *testing.T) {
	if url := os.Getenv("QUILL_TEST_LOCK_URL"); url != "" {
		// The child.
		if _, err := Open(context.Background(), url, nil); err != nil {
			t.Fatal(err)
		}
		p, err := os.FindProcess(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		p.Kill()
		select {} // killed before getting here
	}
	t.Parallel()
	backup, _ := backupOf(t)
	url := "sqlite:///" + filepath.Join(t.TempDir(), "quill.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestRestoreAfterCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), "QUILL_TEST_LOCK_URL="+url)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != -1 {
		t.Fatalf("child process ended with %v, want killed; output:\n%s", err, out)
	}
	if _, err := Restore(context.Background(), url, backup, nil); err != nil {
		t.Errorf("Restore() after the process holding the lock was killed = %v", err)
	}
}

// TestOpenWaitsForRestore checks that a store is not opened while a
// restore holds the database's lock: Open waits.
func TestOpenWaitsForRestore(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "quill.db")
	lock, err := openLock(lockPath(path), true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if s, err := Open(ctx, "sqlite:///"+path, nil); !errors.Is(err, context.DeadlineExceeded) {
		if err == nil {
			s.Close()
		}
		t.Errorf("Open() while a restore holds the lock = %v, want it to wait until the context ends", err)
	}
	lock.Close()
	s, err := Open(context.Background(), "sqlite:///"+path, nil)
	if err != nil {
		t.Fatalf("Open() once the restore is over = %v", err)
	}
	if _, err := openLock(lockPath(path), true); !errors.Is(err, errLocked) {
		t.Errorf("exclusive lock while a store is open = %v, want errLocked", err)
	}
	s.Close()
	if l, err := openLock(lockPath(path), true); err != nil {
		t.Errorf("exclusive lock once the store is closed = %v", err)
	} else {
		l.Close()
	}
}

// FuzzRestore restores damaged backups: a backup is untrusted input to
// quill restore. The input is a patch to a good backup, four bytes a
// change (a byte offset in three, taken modulo the file's size, and the
// new byte), so that inputs stay small while the files reach every part
// of SQLite's format. Restore must never panic; when it refuses, the
// database is untouched and nothing is left behind; what it accepts,
// quill opens, migrates and reads.
func FuzzRestore(f *testing.F) {
	backup, _ := backupOf(f)
	good, err := os.ReadFile(backup)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 'X'})             // the magic string
	f.Add([]byte{0, 0, 18, 1, 0, 0, 19, 1}) // rollback journal format bytes
	f.Add([]byte{0, 0, 28, 0xff})           // the page count
	f.Add([]byte{0, 0x10, 0x08, 0xff})      // a cell pointer of page 2
	current := []byte("the database that is there")
	f.Fuzz(func(t *testing.T, patch []byte) {
		data := append([]byte(nil), good...)
		for ; len(patch) >= 4; patch = patch[4:] {
			off := (int(patch[0])<<16 | int(patch[1])<<8 | int(patch[2])) % len(data)
			data[off] = patch[3]
		}
		ctx := context.Background()
		dir := t.TempDir()
		src := filepath.Join(dir, "backup.db")
		if err := os.WriteFile(src, data, 0o600); err != nil {
			t.Fatal(err)
		}
		dbDir := filepath.Join(dir, "db")
		if err := os.Mkdir(dbDir, 0o700); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dbDir, "quill.db")
		if err := os.WriteFile(path, current, 0o600); err != nil {
			t.Fatal(err)
		}
		url := "sqlite:///" + path
		if _, err := Restore(ctx, url, src, nil); err != nil {
			if got, _ := os.ReadFile(path); !bytes.Equal(got, current) {
				t.Fatalf("Restore() = %v, and the database changed", err)
			}
			left := slices.DeleteFunc(entries(t, dbDir), func(name string) bool { return name == "quill.db.lock" })
			if diff := cmp.Diff([]string{"quill.db"}, left); diff != "" {
				t.Fatalf("Restore() = %v, and left files (-want +got):\n%s", err, diff)
			}
			return
		}
		s, err := Open(ctx, url, nil)
		if err != nil {
			t.Fatalf("Open() of a restored database = %v", err)
		}
		defer s.Close()
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate() of a restored database = %v", err)
		}
		if _, err := s.Posts(ctx, 0, blog.PageRequest{}); err != nil {
			t.Fatalf("Posts() of a restored database = %v", err)
		}
	})
}
