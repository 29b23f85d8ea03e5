package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore/sqltest"
	"github.com/quill-blog/quill/internal/testclock"
)

// TestPostgresUnavailable checks that a PostgreSQL server that goes away
// makes every store call fail with blog.ErrUnavailable, whatever it was
// doing, and that the same store works again when the server is back.
func TestPostgresUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	proxy, url := sqltest.NewProxy(t, sqltest.PostgresURL(t))
	clock := testclock.New()
	s := openTestStore(t, url, clock)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	alice := createUser(t, s, "alice")
	before := createPost(t, s, alice, "before", time.Time{})

	proxy.Cut()
	calls := []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"User", func() error { _, err := s.User(ctx, alice.ID); return err }},
		{"Posts", func() error { _, err := s.Posts(ctx, 0, blog.PageRequest{}); return err }},
		{"CreateUser", func() error {
			return s.Write(ctx, func(tx *Tx) error {
				return tx.CreateUser(ctx, &blog.User{Username: "bob", Email: "bob@example.com", PasswordHash: "h"})
			})
		}},
		{"CreatePost", func() error {
			return s.Write(ctx, func(tx *Tx) error {
				return tx.CreatePost(ctx, &blog.Post{Title: "during", Content: "the outage", AuthorID: alice.ID})
			})
		}},
		{"DeletePost", func() error { return s.Write(ctx, func(tx *Tx) error { return tx.DeletePost(ctx, before.ID) }) }},
		{"ClaimLoginAttempt", func() error { _, err := s.ClaimLoginAttempt(ctx, clock.Now(), noDelay, "alice"); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, blog.ErrUnavailable) {
			t.Errorf("%s with the server gone = %v, want blog.ErrUnavailable", c.name, err)
		} else if e := (*blog.Error)(nil); !errors.As(err, &e) || e.Kind != blog.Unavailable {
			t.Errorf("%s with the server gone = %v: errors.As finds %v, want the Unavailable kind", c.name, err, e)
		}
	}

	proxy.Restore()
	for _, c := range calls[:3] { // the reads
		if err := c.call(); err != nil {
			t.Errorf("%s after the server came back = %v", c.name, err)
		}
	}
	page, err := s.Posts(ctx, 0, blog.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Posts) != 1 || page.Posts[0].ID != before.ID || page.Total != 1 {
		t.Errorf("Posts() after the outage = %+v, want just the post from before", page)
	}
	createPost(t, s, alice, "after", time.Time{})
}

// TestSQLiteLocked checks that a SQLite file another process keeps locked
// past the busy timeout is blog.ErrUnavailable, not an internal error, and
// that reads go on meanwhile.
func TestSQLiteLocked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testDBs()[0].url(t)
	s := openTestStore(t, url, testclock.New())
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	alice := createUser(t, s, "alice")

	// Another process: a connection of its own, holding the write lock.
	other := openTestStore(t, url, testclock.New())
	conn, err := other.write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}

	err = s.Write(ctx, func(tx *Tx) error {
		return tx.CreateUser(ctx, &blog.User{Username: "bob", Email: "bob@example.com", PasswordHash: "h"})
	})
	if !errors.Is(err, blog.ErrUnavailable) {
		t.Errorf("CreateUser with the file locked = %v, want blog.ErrUnavailable", err)
	}
	if _, err := s.User(ctx, alice.ID); err != nil {
		t.Errorf("User with the file locked for writing = %v, want the user", err)
	}

	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	createUser(t, s, "bob")
}

// TestPostgresLostConnections checks that a store whose connections the
// server ended (a restart, a failover, an administrator) goes on: reads are
// repeated on a new connection, as are writes the server refused.
func TestPostgresLostConnections(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := sqltest.PostgresURL(t)
	app := "quill_test_" + strings.ReplaceAll(t.Name(), "/", "_")
	s := openTestStore(t, base+"&application_name="+app, testclock.New())
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	alice := createUser(t, s, "alice")
	admin, err := sql.Open("pgx", sqltest.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	for i := range 3 {
		// Every connection of the store, in both pools, is in use or idle.
		if _, err := s.User(ctx, alice.ID); err != nil {
			t.Fatal(err)
		}
		var ended int
		err := admin.QueryRowContext(ctx, `
			SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&ended)
		if err != nil || ended == 0 {
			t.Fatalf("terminate the store's connections = %d, %v", ended, err)
		}
		if got, err := s.User(ctx, alice.ID); err != nil || got.ID != alice.ID {
			t.Errorf("round %d: User() after the server ended its connections = %v, %v; want the user", i, got, err)
		}
		if _, err := s.Posts(ctx, 0, blog.PageRequest{}); err != nil {
			t.Errorf("round %d: Posts() after the server ended its connections = %v", i, err)
		}
	}

	// The write pool's connection: the server tells why it ends it, so the
	// write is known not to have happened and goes to a new connection.
	createPost(t, s, alice, "t", time.Time{})
	if _, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app); err != nil {
		t.Fatal(err)
	}
	err = s.Write(ctx, func(tx *Tx) error {
		return tx.CreateUser(ctx, &blog.User{Username: "bob", Email: "bob@example.com", PasswordHash: "h"})
	})
	if err != nil {
		t.Errorf("CreateUser() after the server ended the store's connections = %v", err)
	}
	err = s.Write(ctx, func(tx *Tx) error {
		return tx.CreatePost(ctx, &blog.Post{Title: "t2", Content: "c", AuthorID: alice.ID})
	})
	if err != nil {
		t.Errorf("CreatePost() after the server ended the store's connections = %v", err)
	}
}

// TestPostgresDeadlockRetried checks that a transaction PostgreSQL aborts
// to break a deadlock is run again, so both callers succeed. Two
// transactions lock the same two rows in opposite orders; the server
// aborts one of them.
func TestPostgresDeadlockRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t, sqltest.PostgresURL(t), testclock.New())
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a, b := createUser(t, s, "alice"), createUser(t, s, "bob")

	var (
		locked   sync.WaitGroup // both hold their first row
		attempts atomic.Int32
	)
	locked.Add(2)
	lockBoth := func(first, second int64) error {
		firstTry := true
		return s.inTx(ctx, func(tx *sql.Tx) error {
			attempts.Add(1)
			if _, err := tx.ExecContext(ctx, `UPDATE users SET image_file = 'x' WHERE id = $1`, first); err != nil {
				return err
			}
			if firstTry {
				firstTry = false
				locked.Done()
				locked.Wait()
			}
			_, err := tx.ExecContext(ctx, `UPDATE users SET image_file = 'y' WHERE id = $1`, second)
			return err
		})
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = lockBoth(a.ID, b.ID) })
	wg.Go(func() { errs[1] = lockBoth(b.ID, a.ID) })
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("transaction %d = %v, want success after a retry", i, err)
		}
	}
	if n := attempts.Load(); n < 3 {
		t.Errorf("%d attempts, want at least 3: one transaction must have been aborted and run again", n)
	}
}

// brokenRows is a driver's result whose connection is lost while it reads:
// Next or Close fails with err.
type brokenRows struct{ next, close error }

func (r brokenRows) Columns() []string              { return []string{"x"} }
func (r brokenRows) Close() error                   { return r.close }
func (r brokenRows) Next(dest []driver.Value) error { return r.next }

// TestLostConnectionWhileReadingRows checks that a connection lost while a
// result is read, which a driver may report from Next or only from Close
// (where database/sql's Row.Scan sees it), is blog.ErrUnavailable, and that
// the end of the rows is not mistaken for one.
func TestLostConnectionWhileReadingRows(t *testing.T) {
	faults := postgresDialect.faults(true)
	conn := &faultConn{faults: faults}
	lost := fmt.Errorf("read message: %w", io.ErrUnexpectedEOF)
	ctx := context.Background()
	for _, r := range []*faultRows{
		{Rows: brokenRows{next: lost}, conn: conn, ctx: ctx},
		{Rows: brokenRows{next: fmt.Errorf("receive: %w", io.EOF)}, conn: conn, ctx: ctx},
	} {
		if err := r.Next(nil); !errors.Is(err, blog.ErrUnavailable) || errors.Is(err, driver.ErrBadConn) {
			t.Errorf("Next() = %v, want blog.ErrUnavailable and no retry", err)
		}
	}
	r := &faultRows{Rows: brokenRows{next: io.EOF, close: lost}, conn: conn, ctx: ctx}
	if err := r.Next(nil); err != io.EOF {
		t.Errorf("Next() at the end of the rows = %v, want io.EOF itself", err)
	}
	if err := r.Close(); !errors.Is(err, blog.ErrUnavailable) || errors.Is(err, driver.ErrBadConn) {
		t.Errorf("Close() = %v, want blog.ErrUnavailable and no retry", err)
	}
	if err := (&faultRows{Rows: brokenRows{}, conn: conn, ctx: ctx}).Close(); err != nil {
		t.Errorf("Close() = %v, want nil", err)
	}
}
