package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// BenchmarkSessionUser measures the lookup every authenticated request
// makes, among 1,000 users with a session each.
func BenchmarkSessionUser(b *testing.B) {
	for _, db := range testDBs() {
		b.Run(db.name, func(b *testing.B) {
			ctx := context.Background()
			s, clock := newTestStore(b, db)
			now := clock.Now()
			err := s.inTx(ctx, func(tx *sql.Tx) error {
				for i := range 1000 {
					var id int64
					err := tx.QueryRowContext(ctx, `
						INSERT INTO users (username, username_key, email, password_hash, created_at)
						VALUES ($1, $1, $2, 'h', 0) RETURNING id`,
						fmt.Sprint("user", i), fmt.Sprintf("user%d@example.com", i)).Scan(&id)
					if err != nil {
						return err
					}
					_, err = tx.ExecContext(ctx, `
						INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, refresh_hash)
						VALUES ($1, $2, $3, $3, $4, $5)`,
						fmt.Sprint("session", i), id, micros(now), micros(now.Add(time.Hour)), []byte(fmt.Sprint("hash", i)))
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, _, err := s.SessionUser(ctx, "session500", now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPosts measures the first page of the front page and of one
// author's posts, among 10,000 posts by 100 authors.
func BenchmarkPosts(b *testing.B) {
	for _, db := range testDBs() {
		b.Run(db.name, func(b *testing.B) {
			ctx := context.Background()
			s, clock := newTestStore(b, db)
			var authors []*blog.User
			for i := range 100 {
				authors = append(authors, createUser(b, s, fmt.Sprint("author", i)))
			}
			err := s.inTx(ctx, func(tx *sql.Tx) error {
				for i := range 10_000 {
					_, err := tx.ExecContext(ctx, `INSERT INTO posts (user_id, title, content, date_posted) VALUES ($1, $2, $3, $4)`,
						authors[i%len(authors)].ID, fmt.Sprint("post ", i), "content", micros(clock.Advance(time.Second)))
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			for _, bb := range []struct {
				name     string
				authorID int64
			}{
				{"everyone", 0},
				{"one author", authors[42].ID},
			} {
				b.Run(bb.name, func(b *testing.B) {
					for b.Loop() {
						page, err := s.Posts(ctx, bb.authorID, blog.PageRequest{Limit: blog.DefaultLimit})
						if err != nil || len(page.Posts) != blog.DefaultLimit {
							b.Fatalf("Posts() = %v, %v", page, err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkCreatePostConcurrent measures posts written at once by many
// clients, each as its own author (as from several instances), on
// PostgreSQL: with the count of everyone's posts spread over sixteen rows
// as migrated, and with every post counted in one row, the hot spot the
// spreading avoids.
func BenchmarkCreatePostConcurrent(b *testing.B) {
	for _, rows := range []string{"16 counter rows", "1 counter row"} {
		b.Run(rows, func(b *testing.B) {
			ctx := context.Background()
			s, _ := newTestStore(b, testDBs()[1])
			if rows == "1 counter row" {
				_, err := s.write.ExecContext(ctx, `
					CREATE OR REPLACE FUNCTION posts_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
					BEGIN
						UPDATE users u SET post_count = u.post_count + d.n
						FROM (SELECT user_id, count(*) AS n FROM new_posts GROUP BY user_id) d
						WHERE u.id = d.user_id;
						UPDATE post_total SET n = n + (SELECT count(*) FROM new_posts) WHERE id = 0;
						RETURN NULL;
					END
					$$`)
				if err != nil {
					b.Fatal(err)
				}
			}
			var (
				mu      sync.Mutex
				authors int
			)
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				mu.Lock()
				authors++
				name := fmt.Sprint("author", authors)
				mu.Unlock()
				u := &blog.User{Username: name, Email: name + "@example.com", PasswordHash: "h"}
				if err := s.Write(ctx, func(tx *Tx) error { return tx.CreateUser(ctx, u) }); err != nil {
					b.Error(err)
					return
				}
				for pb.Next() {
					err := s.Write(ctx, func(tx *Tx) error {
						return tx.CreatePost(ctx, &blog.Post{Title: "t", Content: "c", AuthorID: u.ID})
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
