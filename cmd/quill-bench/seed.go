package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore"
)

const (
	seedAuthors = 100
	seedBatch   = 10_000
	// benchPassword is every seeded author's password.
	benchPassword = "bench-only passphrase 7f3a"
)

// seedEpoch is the date of the first seeded post; each next one is a second
// later, so newest-first order is known without asking the database.
var seedEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// dataset is a seeded database.
type dataset struct {
	path    string
	posts   int
	authors []blog.User
}

// author returns the login name of the i-th seeded author.
func authorName(i int) string { return fmt.Sprintf("author%03d", i) }

// cursorAt returns the cursor of a page that starts at newest-first rank
// depth (0 is the newest post): the position of the post just before it.
func (d *dataset) cursorAt(depth int) string {
	idx := d.posts - depth // the post at rank depth-1
	return blog.Cursor{DatePosted: seedEpoch.Add(time.Duration(idx) * time.Second), ID: int64(idx + 1)}.String()
}

// searchWord is in every searchEvery-th seeded post and in no other: the
// word the search figure looks for, in 1% of the posts. rareWord is in
// every rareEvery-th, 0.1% of them, to show how a search's cost grows
// with its matches. Neither the titles nor lorem have either.
const (
	searchWord  = "quokka"
	searchEvery = 100
	rareWord    = "wombat"
	rareEvery   = 1000
)

// lorem is post content: a few paragraphs of realistic length, so a page
// of ten weighs what a real one might.
var lorem = []string{
	"Quill keeps the tutorial's API but stores sessions server-side, so a logout takes effect on the next request. This post is one of many seeded for the benchmark; its text is ordinary prose of a few hundred bytes.",
	"Benchmarks on shared machines drift, which is why every figure is a ratio against a baseline measured in the same run, alternating target and baseline so both see the same noise.",
	"SQLite in WAL mode lets readers run beside the single writer. Keyset pages walk the (date_posted, id) index backwards from the cursor, so the millionth post costs what the first one does.",
	"Argon2id is memory-hard on purpose: every login spends tens of milliseconds and about nineteen mebibytes, and the number running at once is bounded so memory stays bounded too.",
}

// seed creates a database at path with seedAuthors authors, whose password
// hash is hash, and n posts by them in turn, one second apart, with ids 1…n,
// every searchEvery-th with searchWord and every rareEvery-th with
// rareWord. It writes progress to w.
func seed(ctx context.Context, path string, n int, hash string, w io.Writer) (*dataset, error) {
	start := time.Now()
	store, err := sqlstore.Open(ctx, "sqlite:///"+path, nil)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return nil, err
	}
	d := &dataset{path: path, posts: n}
	for i := range seedAuthors {
		d.authors = append(d.authors, blog.User{Username: authorName(i), Email: authorName(i) + "@bench.example", PasswordHash: hash})
	}
	results, err := store.InsertUsers(ctx, d.authors, nil)
	if err != nil {
		return nil, err
	}
	for j, r := range results {
		if r.Outcome != blog.RowInserted {
			return nil, fmt.Errorf("seed author %s: outcome %d, want inserted", d.authors[j].Username, r.Outcome)
		}
	}
	batch := make([]blog.Post, 0, seedBatch)
	for i := 0; i < n; {
		batch = batch[:0]
		for ; i < n && len(batch) < seedBatch; i++ {
			content := lorem[i%len(lorem)]
			if (i+1)%searchEvery == 0 {
				content += " A " + searchWord + " was seen nearby."
			}
			if (i+1)%rareEvery == 0 {
				content += " So was a " + rareWord + "."
			}
			batch = append(batch, blog.Post{
				ID:         int64(i + 1),
				Title:      fmt.Sprintf("Seeded post %d: notes on %s", i+1, strings.Fields(lorem[i%len(lorem)])[i%7]),
				Content:    content,
				AuthorID:   d.authors[i%seedAuthors].ID,
				DatePosted: seedEpoch.Add(time.Duration(i) * time.Second),
			})
		}
		results, err := store.InsertPosts(ctx, batch)
		if err != nil {
			return nil, err
		}
		for j, r := range results {
			if r.Outcome != blog.RowInserted {
				return nil, fmt.Errorf("seed post %d: outcome %d, want inserted", batch[j].ID, r.Outcome)
			}
		}
		if n >= 100_000 && (i%100_000 == 0 || i == n) {
			el := time.Since(start)
			fmt.Fprintf(w, "  seeded %d/%d posts in %.1fs (%.0f posts/s)\n", i, n, el.Seconds(), float64(i)/el.Seconds())
		}
	}
	return d, store.Close()
}

// copyRows copies the rows of tables from the SQLite database at from into
// the one at to, which has the same tables, perhaps of another schema
// version: only the columns both have are copied, the others take their
// defaults, and to's triggers see every row.
func copyRows(ctx context.Context, from, to string, tables ...string) error {
	db, err := sql.Open("sqlite", to)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE $1 AS seeded`, from); err != nil {
		return err
	}
	for _, table := range tables {
		columns := func(schema string) (map[string]bool, error) {
			rows, err := conn.QueryContext(ctx, `SELECT name FROM pragma_table_info($1, $2)`, table, schema)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			cols := map[string]bool{}
			for rows.Next() {
				var name string
				if err := rows.Scan(&name); err != nil {
					return nil, err
				}
				cols[name] = true
			}
			return cols, rows.Err()
		}
		src, err := columns("seeded")
		if err != nil {
			return err
		}
		dst, err := columns("main")
		if err != nil {
			return err
		}
		var common []string
		for c := range dst {
			if src[c] && c != "post_count" { // kept by to's triggers
				common = append(common, c)
			}
		}
		slices.Sort(common)
		list := strings.Join(common, ", ")
		if _, err := conn.ExecContext(ctx, `INSERT INTO main.`+table+` (`+list+`) SELECT `+list+` FROM seeded.`+table); err != nil {
			return fmt.Errorf("copy %s: %w", table, err)
		}
	}
	return nil
}
