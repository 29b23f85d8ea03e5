package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
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
