package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/quill-blog/quill/internal/blog"
)

// write runs fn in a Write transaction and fails tb if it returns an
// error. Call it from the test's goroutine only.
func write(tb testing.TB, s *Store, fn func(tx *Tx) error) {
	tb.Helper()
	if err := s.Write(context.Background(), fn); err != nil {
		tb.Fatalf("Write() = %v", err)
	}
}

// openWriters opens every connection of s's write pool and leaves them
// idle, so that concurrent calls that follow run at the same time instead
// of queueing behind the connections being opened (a new PostgreSQL
// connection takes longer than a claim or a take). SQLite has one writer.
func openWriters(tb testing.TB, s *Store) {
	tb.Helper()
	ctx := context.Background()
	var conns []*sql.Conn
	for range s.write.Stats().MaxOpenConnections {
		c, err := s.write.Conn(ctx)
		if err != nil {
			tb.Fatalf("open a write connection: %v", err)
		}
		if err := c.PingContext(ctx); err != nil {
			tb.Fatalf("open a write connection: %v", err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}
}

// together runs f(0) … f(n-1) at once, each on its own goroutine, after
// they have all started, and waits for them.
func together(n int, f func(i int)) {
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}

// tableRows reads every row of the tables a Write can change, one string a
// row, so two readings compare with cmp.Diff.
func tableRows(tb testing.TB, s *Store) map[string][]string {
	tb.Helper()
	ctx := context.Background()
	tables := map[string][]string{}
	for _, table := range []string{"users", "posts", "post_total", "sessions", "pictures", "password_resets", "login_failures"} {
		rows, err := s.read.QueryContext(ctx, `SELECT * FROM `+table+` ORDER BY 1`)
		if err != nil {
			tb.Fatalf("select %s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			tb.Fatal(err)
		}
		tables[table] = []string{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatalf("select %s: %v", table, err)
			}
			tables[table] = append(tables[table], fmt.Sprintf("%v", vals))
		}
		if err := rows.Err(); err != nil {
			tb.Fatalf("select %s: %v", table, err)
		}
		rows.Close()
	}
	return tables
}

// TestWriteRollsBack checks that when fn returns an error, Write returns it
// and keeps nothing of the transaction: not the steps before the failing
// one, not what triggers and cascades did for them.
func TestWriteRollsBack(t *testing.T) {
	errFail := errors.New("fn failed")
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice, carol := createUser(t, s, "alice"), createUser(t, s, "carol")
		post := createPost(t, s, alice, "kept", time.Time{})
		for _, u := range []*blog.User{alice, carol} {
			createPost(t, s, u, u.Username+"'s", time.Time{})
			createSession(t, s, u, u.Username+"'s", now, time.Hour)
			createReset(t, s, u, u.Username+"'s", now)
			write(t, s, func(tx *Tx) error {
				_, err := tx.SavePicture(ctx, u.ID, u.Username+".jpg", []byte("jpeg"))
				return err
			})
		}
		if _, err := s.ClaimLoginAttempt(ctx, now, testDelay, "alice", "alice@example.com"); err != nil {
			t.Fatal(err)
		}
		before := tableRows(t, s)

		tests := []struct {
			name string
			last func(tx *Tx) error // runs after every other step
			want error
		}{
			{name: "fn's own error", last: func(*Tx) error { return errFail }, want: errFail},
			{
				name: "a step's error",
				last: func(tx *Tx) error {
					// bob exists only in this transaction.
					return tx.CreateUser(ctx, &blog.User{Username: "BOB", Email: "x@example.com", PasswordHash: "h"})
				},
				want: blog.ErrUsernameTaken,
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.Write(ctx, func(tx *Tx) error {
					bob := &blog.User{Username: "bob", Email: "bob@example.com", PasswordHash: "h"}
					if err := tx.CreateUser(ctx, bob); err != nil {
						return err
					}
					// The transaction sees its own writes.
					if got, err := tx.User(ctx, bob.ID); err != nil || got.Username != "bob" {
						return fmt.Errorf("tx.User(new user) = %v, %v", got, err)
					}
					p := &blog.Post{Title: "t", Content: "c", AuthorID: bob.ID}
					if err := tx.CreatePost(ctx, p); err != nil {
						return err
					}
					if got, err := tx.Post(ctx, p.ID); err != nil || got.Author.Username != "bob" {
						return fmt.Errorf("tx.Post(new post) = %v, %v", got, err)
					}
					sess := &blog.Session{ID: "bob's", UserID: bob.ID, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}
					if err := tx.CreateSession(ctx, sess, []byte("bob's refresh")); err != nil {
						return err
					}
					if err := tx.CreatePasswordReset(ctx, bob.ID, []byte("bob's"), now, now.Add(time.Hour)); err != nil {
						return err
					}
					if _, err := tx.SavePicture(ctx, bob.ID, "bob.jpg", []byte("jpeg")); err != nil {
						return err
					}

					renamed := *alice
					renamed.Username, renamed.Email = "alicia", "alicia@example.com"
					if err := tx.UpdateProfile(ctx, &renamed); err != nil {
						return err
					}
					if err := tx.SetPasswordHash(ctx, alice.ID, alice.PasswordHash, "$argon2id$new"); err != nil {
						return err
					}
					if err := tx.ReplacePasswordHash(ctx, alice.ID, "$argon2id$newer"); err != nil {
						return err
					}
					if _, err := tx.DeleteSessions(ctx, alice.ID, ""); err != nil {
						return err
					}
					if err := tx.DeletePasswordResets(ctx, alice.ID); err != nil {
						return err
					}
					if err := tx.ClearLoginFailures(ctx, "alice", "alice@example.com"); err != nil {
						return err
					}
					if err := tx.DeletePicture(ctx, alice.ID); err != nil {
						return err
					}
					edited := *post
					edited.Title = "edited"
					if err := tx.UpdatePost(ctx, &edited); err != nil {
						return err
					}
					if err := tx.DeletePost(ctx, post.ID); err != nil {
						return err
					}
					if _, err := tx.DeleteUser(ctx, carol.ID); err != nil {
						return err
					}
					return tt.last(tx)
				})
				if !errors.Is(err, tt.want) {
					t.Fatalf("Write() = %v, want %v", err, tt.want)
				}
				if diff := cmp.Diff(before, tableRows(t, s)); diff != "" {
					t.Errorf("rows after a failed Write mismatch (-want +got):\n%s", diff)
				}
			})
		}

		// The same steps without the failure are kept.
		write(t, s, func(tx *Tx) error { return tx.DeletePost(ctx, post.ID) })
		if _, err := s.Post(ctx, post.ID); !errors.Is(err, blog.ErrPostNotFound) {
			t.Errorf("Post(deleted in a committed Write) = %v, want ErrPostNotFound", err)
		}
	})
}
