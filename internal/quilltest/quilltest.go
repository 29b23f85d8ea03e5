// Package quilltest starts quill in-process for tests: the application
// layer and the HTTP handler on a fresh database of either kind, with a
// settable clock, hashing fast enough for hundreds of scenarios, and the
// log captured. It is the one way tests above the store get a quill; tests
// of the real binary build it with package quillproc.
package quilltest

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server"
	"github.com/quill-blog/quill/internal/sqlstore"
	"github.com/quill-blog/quill/internal/sqlstore/sqltest"
	"github.com/quill-blog/quill/internal/testclock"
)

// DB is a kind of database tests run on.
type DB struct {
	Name string
	// URL returns the URL of a new, migrated, empty database that lives as
	// long as tb.
	URL func(tb testing.TB) string
}

// DBs lists the databases the suites run on: SQLite, and PostgreSQL,
// which skips with a message unless QUILL_TEST_POSTGRES_URL is set.
func DBs() []DB { return []DB{SQLite, Postgres} }

// SQLite is a fresh SQLite file in the test's temporary directory.
var SQLite = DB{
	Name: "sqlite",
	URL: func(tb testing.TB) string {
		tb.Helper()
		data, err := sqliteTemplate()
		if err != nil {
			tb.Fatalf("make the template database: %v", err)
		}
		path := filepath.Join(tb.TempDir(), "quill.db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			tb.Fatal(err)
		}
		return "sqlite:///" + path
	},
}

// Postgres is a fresh schema on the test PostgreSQL server.
var Postgres = DB{
	Name: "postgres",
	URL: func(tb testing.TB) string {
		tb.Helper()
		return sqltest.MigratedPostgresURL(tb, migrateURL)
	},
}

// migrateURL migrates the database at url.
func migrateURL(ctx context.Context, url string) error {
	store, err := sqlstore.Open(ctx, url, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	return store.Migrate(ctx)
}

// sqliteTemplate is the file of a migrated, empty SQLite database, made
// once and copied for each test: migrating a new file takes most of the
// time a scenario needs. (The store's tests cover migrating.)
var sqliteTemplate = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "quilltest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "quill.db")
	if err := migrateURL(context.Background(), "sqlite:///"+path); err != nil {
		return nil, err
	}
	// Closing the last connection checkpointed the WAL into the file.
	return os.ReadFile(path)
})

// Argon2 is far below the production floor, which auth.NewHasher allows,
// so hashing costs microseconds.
var Argon2 = auth.Params{Memory: 64, Iterations: 1, Parallelism: 1}

// Settings of every Quill unless Options change them.
const (
	// Key signs tokens and CSRF tokens.
	Key        = "test-key-0123456789-abcdefghijklmnopq"
	AccessTTL  = 30 * time.Minute
	SessionTTL = 30 * 24 * time.Hour
	PublicURL  = "http://quill.test"
	// Origin is the one origin CORS allows.
	Origin = "https://app.example.com"
)

// Proxies are the trusted proxies.
var Proxies = []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}

// policy is built once: it indexes 10,000 passwords.
var policy = sync.OnceValue(auth.NewPolicy)

// Options change a Quill's configuration before it starts.
type Options struct {
	App    func(*app.Config)
	Server func(*server.Config)
}

// Quill is quill in-process on a database of its own.
type Quill struct {
	// Handler is the HTTP handler, every route of it.
	Handler http.Handler
	// App is the application layer behind Handler.
	App *app.App
	// Tokens issues and checks the access tokens App does.
	Tokens *auth.Tokens
	// Clock is the time App and Handler see.
	Clock *testclock.Clock
	// Logs holds what quill logged.
	Logs *Logs
	// URL is the database's.
	URL string

	store *sqlstore.Store
	stop  func()
}

// New starts a Quill on a new database of kind db, with its background
// work running until the test ends or Stop is called.
func New(tb testing.TB, db DB, opts ...Options) *Quill {
	tb.Helper()
	return NewAt(tb, db.URL(tb), opts...)
}

// NewAt is New on the migrated database at url.
func NewAt(tb testing.TB, url string, opts ...Options) *Quill {
	tb.Helper()
	q := &Quill{Clock: testclock.New(), Logs: &Logs{}, URL: url}
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, url, q.Clock.Now)
	if err != nil {
		tb.Fatalf("sqlstore.Open() = %v", err)
	}
	tb.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		tb.Fatalf("Migrate() = %v", err)
	}
	q.store = store
	logger := slog.New(slog.NewTextHandler(q.Logs, nil))
	q.Tokens = auth.NewTokens([]byte(Key), AccessTTL, q.Clock.Now, nil)
	appCfg := app.Config{
		Store:          store,
		Hasher:         auth.NewHasher(Argon2, 4, 5*time.Second, nil),
		Policy:         policy(),
		Tokens:         q.Tokens,
		TwoFactor:      auth.NewTwoFactor([]byte(Key), nil),
		Logger:         logger,
		SessionTTL:     SessionTTL,
		PublicURL:      PublicURL,
		ThrottleLogins: true,
		Now:            q.Clock.Now,
	}
	srvCfg := server.Config{
		Logger:         logger,
		CSRF:           auth.NewCSRF([]byte(Key)),
		PublicURL:      PublicURL,
		TrustedProxies: Proxies,
		CORSOrigins:    []string{Origin},
		Now:            q.Clock.Now,
	}
	for _, o := range opts {
		if o.App != nil {
			o.App(&appCfg)
		}
		if o.Server != nil {
			o.Server(&srvCfg)
		}
	}
	q.App = app.New(appCfg)
	srvCfg.App = q.App
	q.Handler = server.New(srvCfg)

	bg, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.App.Run(bg)
	}()
	var once sync.Once
	q.stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	tb.Cleanup(q.stop) // before the store closes: cleanups run last first
	return q
}

// Stop ends the background work, writing what it holds (session uses)
// and sending the mails queued. It may be called more than once.
func (q *Quill) Stop() { q.stop() }

// CloseDatabase closes the database under a running Quill, as if it had
// gone away.
func (q *Quill) CloseDatabase() { q.store.Close() }

// NewResetToken stores a password reset token for the user, as the mail
// worker would, valid for an hour, and returns it.
func (q *Quill) NewResetToken(tb testing.TB, userID int64) string {
	tb.Helper()
	token, hash, err := auth.NewOpaqueToken(nil)
	if err != nil {
		tb.Fatal(err)
	}
	now := q.Clock.Now()
	ctx := context.Background()
	err = q.store.Write(ctx, func(tx *sqlstore.Tx) error {
		if err := tx.DeletePasswordResets(ctx, userID); err != nil {
			return err
		}
		return tx.CreatePasswordReset(ctx, userID, hash, now, now.Add(time.Hour))
	})
	if err != nil {
		tb.Fatal(err)
	}
	return token
}

// StoredSessions are the user's live sessions as the database holds them,
// without the uses App has noted but not yet written.
func (q *Quill) StoredSessions(tb testing.TB, userID int64) []blog.Session {
	tb.Helper()
	sessions, err := q.store.Sessions(context.Background(), userID, q.Clock.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return sessions
}

// SQL opens a connection pool of its own to the database, for a test
// that puts in what quill cannot (a fault, a row from an older version)
// or reads what quill does not show. It is closed when tb ends.
func (q *Quill) SQL(tb testing.TB) *sql.DB {
	tb.Helper()
	driver, dsn := "pgx", q.URL
	if path, ok := strings.CutPrefix(q.URL, "sqlite:///"); ok {
		driver, dsn = "sqlite", path+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Logs is a log destination safe for concurrent use.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String is everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
