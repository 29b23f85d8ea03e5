package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore/sqltest"
	"github.com/quill-blog/quill/internal/testclock"
)

// testDB is a database the suite runs on.
type testDB struct {
	name string
	// url returns the URL of a new, empty database that lives as long as tb.
	url func(tb testing.TB) string
}

// testDBs lists the databases every test runs against: SQLite, and
// PostgreSQL, which skips with a message unless QUILL_TEST_POSTGRES_URL is
// set.
func testDBs() []testDB {
	return []testDB{{
		name: "sqlite",
		url: func(tb testing.TB) string {
			tb.Helper()
			return "sqlite:///" + filepath.Join(tb.TempDir(), "quill.db")
		},
	}, {
		name: "postgres",
		url:  sqltest.PostgresURL,
	}}
}

// forEachDB runs test once per database, as a subtest named after it. The
// test runs in parallel with other tests: each database is its own.
func forEachDB(t *testing.T, test func(t *testing.T, db testDB)) {
	t.Helper()
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) { test(t, db) })
	}
}

// openTestStore opens url with clock and closes the store when tb ends.
func openTestStore(tb testing.TB, url string, clock *testclock.Clock) *Store {
	tb.Helper()
	s, err := Open(context.Background(), url, clock.Now)
	if err != nil {
		tb.Fatalf("Open(%q) = %v", url, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close() = %v", err)
		}
	})
	return s
}

// newTestStore returns a migrated store on a new, empty database of db's
// dialect, and its clock.
func newTestStore(tb testing.TB, db testDB) (*Store, *testclock.Clock) {
	tb.Helper()
	clock := testclock.New()
	s := openTestStore(tb, db.url(tb), clock)
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("Migrate() = %v", err)
	}
	return s, clock
}

func TestOpenURLs(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		url     string
		wantErr string // a substring; "" means success
	}{
		{name: "absolute", url: "sqlite:///" + filepath.Join(dir, "a.db")},
		{name: "memory", url: "sqlite://:memory:"},
		{name: "postgres unreachable", url: "postgres://u:secretpw@127.0.0.1:1/quill", wantErr: "cannot connect to PostgreSQL"},
		{name: "postgresql bad port", url: "postgresql://u:secretpw@localhost:port/quill", wantErr: "not a valid postgres:// URL"},
		{name: "postgres bad pool size", url: "postgres://u:secretpw@localhost/quill?pool_max_conns=1", wantErr: "pool_max_conns"},
		{name: "unknown scheme", url: "mysql://u:secretpw@localhost/quill", wantErr: `unknown scheme "mysql"`},
		{name: "no scheme", url: "blog.db", wantErr: "database URL must look like"},
		{name: "not a scheme", url: "pg:secretpw@host://x", wantErr: "unknown scheme;"},
		{name: "host instead of path", url: "sqlite://blog.db", wantErr: "use sqlite:///relative/path"},
		{name: "no file name", url: "sqlite:///", wantErr: "no file name"},
		{name: "directory", url: "sqlite:///" + dir + "/", wantErr: "no file name"},
		{name: "query", url: "sqlite:///" + filepath.Join(dir, "b.db") + "?mode=ro", wantErr: "query parameters are not supported"},
		{name: "missing directory", url: "sqlite:///" + filepath.Join(dir, "nope", "c.db"), wantErr: "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), tt.url, nil)
			if err == nil {
				defer s.Close()
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Open(%q) = %v, want success", tt.url, err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Open(%q) succeeded, want error containing %q", tt.url, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("Open(%q) = %v, want error containing %q", tt.url, err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "secretpw"):
				t.Fatalf("Open(%q) = %v: the error shows the password", tt.url, err)
			}
		})
	}
}

func TestOpenRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	s, err := Open(context.Background(), "sqlite:///./blog.db", nil)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	defer s.Close()
	if _, err := os.Stat("blog.db"); err != nil {
		t.Fatalf("Open did not create ./blog.db: %v", err)
	}
}

func TestOpenCreatesPrivateFileAndDoesNotMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	s := openTestStore(t, "sqlite:///"+path, testclock.New())
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("Open did not create the file: %v", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("database file mode = %v, want no group or other access", perm)
	}
	st, err := s.MigrationStatus(context.Background())
	if err != nil {
		t.Fatalf("MigrationStatus() = %v", err)
	}
	for _, m := range st {
		if m.Applied {
			t.Errorf("migration %d applied by Open alone", m.Version)
		}
	}
	if s.Dialect() != "sqlite" {
		t.Errorf("Dialect() = %q, want sqlite", s.Dialect())
	}
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(context.Background(), "sqlite:///"+path, nil); err == nil {
		s.Close()
		t.Fatal("Open(junk file) succeeded, want error")
	}
}

func TestPragmas(t *testing.T) {
	s, _ := newTestStore(t, testDBs()[0])
	ctx := context.Background()
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
	}
	for _, tt := range tests {
		for name, db := range map[string]*sql.DB{"write": s.write, "read": s.read} {
			var got string
			if err := db.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatalf("%s pool: PRAGMA %s: %v", name, tt.pragma, err)
			}
			if got != tt.want {
				t.Errorf("%s pool: PRAGMA %s = %s, want %s", name, tt.pragma, got, tt.want)
			}
		}
	}
	if _, err := s.read.ExecContext(ctx, `DELETE FROM users`); err == nil {
		t.Error("the read pool can write")
	}
	// Readers map the file (search looks up many pages); the writer has
	// its page cache.
	for name, db := range map[string]*sql.DB{"read": s.read, "write": s.write} {
		want := map[string]string{"read": "1073741824", "write": "0"}[name]
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA mmap_size").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s pool: PRAGMA mmap_size = %s, want %s", name, got, want)
		}
	}
}

func TestMigrate(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		clock := testclock.New()
		s := openTestStore(t, db.url(t), clock)
		before, err := s.MigrationStatus(ctx)
		if err != nil {
			t.Fatalf("MigrationStatus() before Migrate = %v", err)
		}
		// Every embedded migration, from 1 init on, none applied yet.
		want := migrationStatuses(t, s.dialect, time.Time{})
		if len(want) == 0 || want[0] != (MigrationStatus{Version: 1, Name: "init"}) {
			t.Fatalf("embedded migrations = %+v, want 1 init first", want)
		}
		if diff := cmp.Diff(want, before); diff != "" {
			t.Errorf("MigrationStatus() before Migrate mismatch (-want +got):\n%s", diff)
		}

		for i := range 2 { // the second run is a no-op
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate() run %d = %v", i+1, err)
			}
			clock.Advance(time.Hour)
		}
		after, err := s.MigrationStatus(ctx)
		if err != nil {
			t.Fatalf("MigrationStatus() = %v", err)
		}
		want = migrationStatuses(t, s.dialect, testclock.Epoch)
		if diff := cmp.Diff(want, after); diff != "" {
			t.Errorf("MigrationStatus() after Migrate mismatch (-want +got):\n%s", diff)
		}

		// A database a newer quill migrated is refused, and shown.
		if _, err := s.write.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "newer quill") {
			t.Errorf("Migrate() with a newer schema = %v, want an error asking for a newer quill", err)
		}
		after, err = s.MigrationStatus(ctx)
		if err != nil {
			t.Fatalf("MigrationStatus() = %v", err)
		}
		if got := after[len(after)-1]; got.Version != 9999 || !got.Applied {
			t.Errorf("MigrationStatus() last = %+v, want the unknown version 9999, applied", got)
		}
	})
}

// migrationStatuses is what MigrationStatus reports for d's embedded
// migrations: all applied at appliedAt, or none if it is zero.
func migrationStatuses(tb testing.TB, d dialect, appliedAt time.Time) []MigrationStatus {
	tb.Helper()
	list, err := d.migrationList()
	if err != nil {
		tb.Fatalf("migrationList() = %v", err)
	}
	var out []MigrationStatus
	for _, m := range list {
		out = append(out, MigrationStatus{Version: m.version, Name: m.name, Applied: !appliedAt.IsZero(), AppliedAt: appliedAt})
	}
	return out
}

// TestMigrationsMatch checks that the dialects have the same migrations,
// so a database of either is at the same version after the same quill.
func TestMigrationsMatch(t *testing.T) {
	sqlite := migrationStatuses(t, sqliteDialect, time.Time{})
	postgres := migrationStatuses(t, postgresDialect, time.Time{})
	if diff := cmp.Diff(sqlite, postgres); diff != "" {
		t.Errorf("migrations of sqlite and postgres differ (-sqlite +postgres):\n%s", diff)
	}
}

func TestConcurrentMigrate(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		url := db.url(t)
		var stores []*Store
		for range 4 {
			stores = append(stores, openTestStore(t, url, testclock.New()))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(stores))
		for i, s := range stores {
			wg.Go(func() { errs[i] = s.Migrate(context.Background()) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("store %d: Migrate() = %v", i, err)
			}
		}
	})
}

// TestDurability checks that what a committed Write wrote is there after the
// store is closed and opened again.
func TestDurability(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		url := db.url(t)
		clock := testclock.New()
		s, err := Open(ctx, url, clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		u := createUser(t, s, "alice")
		p := createPost(t, s, u, "kept", time.Time{})
		if err := s.Close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}

		s = openTestStore(t, url, clock)
		got, err := s.Post(ctx, p.ID)
		if err != nil {
			t.Fatalf("Post(%d) after reopening = %v", p.ID, err)
		}
		if diff := cmp.Diff(p, got); diff != "" {
			t.Errorf("Post(%d) after reopening mismatch (-want +got):\n%s", p.ID, diff)
		}
	})
}

func TestMemory(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, "sqlite://:memory:", testclock.New())
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	u := createUser(t, s, "alice")
	got, err := s.User(ctx, u.ID)
	if err != nil {
		t.Fatalf("User() = %v", err)
	}
	if diff := cmp.Diff(u, got); diff != "" {
		t.Errorf("User() mismatch (-want +got):\n%s", diff)
	}
	if _, err := s.Posts(ctx, 0, blog.PageRequest{}); err != nil {
		t.Errorf("Posts() = %v", err)
	}
}

// TestSurvivesKill checks §9's promise: a post whose Write returned
// survives the process being killed at once (kill -9, no Close). The test
// runs itself in a child process that does the writing and kills itself.
func TestSurvivesKill(t *testing.T) {
	if url := os.Getenv("QUILL_TEST_KILL_URL"); url != "" {
		// The child.
		ctx := context.Background()
		s, err := Open(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		u := createUser(t, s, "alice")
		createPost(t, s, u, "written before the kill", time.Time{})
		p, err := os.FindProcess(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		p.Kill()
		select {} // killed before getting here
	}

	forEachDB(t, func(t *testing.T, db testDB) {
		url := db.url(t)
		cmd := exec.Command(os.Args[0], "-test.run=^TestSurvivesKill$", "-test.count=1")
		cmd.Env = append(os.Environ(), "QUILL_TEST_KILL_URL="+url)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != -1 { // -1: ended by a signal
			t.Fatalf("child process ended with %v, want killed; output:\n%s", err, out)
		}
		s := openTestStore(t, url, testclock.New())
		page, err := s.Posts(context.Background(), 0, blog.PageRequest{})
		if err != nil {
			t.Fatalf("Posts() after the kill = %v", err)
		}
		if len(page.Posts) != 1 || page.Posts[0].Title != "written before the kill" || page.Total != 1 {
			t.Errorf("Posts() after the kill = %+v, want the one post", page)
		}
	})
}
