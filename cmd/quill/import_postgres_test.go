package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore"
	"github.com/quill-blog/quill/internal/sqlstore/sqltest"
	"github.com/quill-blog/quill/internal/testclock"
)

// TestImportFastAPIPostgres imports the FastAPI fixture into PostgreSQL
// and into SQLite, twice each, and expects the same reports and the same
// data; then new users and posts on PostgreSQL get ids after the imported
// ones, as on SQLite.
func TestImportFastAPIPostgres(t *testing.T) {
	t.Parallel()
	pgURL := sqltest.PostgresURL(t)
	source, _ := fastapiFixture(t)
	media := writeMedia(t)
	ctx := context.Background()
	importInto := func(dbURL string) string {
		t.Helper()
		src, err := openFastAPI(ctx, source)
		if err != nil {
			t.Fatal(err)
		}
		defer src.db.Close()
		store, err := openStore(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		quill := newApp(config{Argon2: auth.DefaultParams}, store, nil, 1, nil)
		var out bytes.Buffer
		clock := testclock.New()
		im := &importer{
			src: src, app: quill, hasher: newTestHasher(), media: media, rename: true, batch: importBatch,
			out: &out, progress: io.Discard, now: clock.Now,
			sourceUsers: map[int64]bool{}, skipped: map[int64]bool{},
		}
		if err := im.run(ctx); err != nil {
			t.Fatalf("import into %s: %v", dbURL, err)
		}
		return out.String()
	}
	sqliteURL := "sqlite:///" + filepath.Join(t.TempDir(), "quill.db")
	for _, run := range []string{"first", "second"} {
		want, got := importInto(sqliteURL), importInto(pgURL)
		if diff := cmp.Diff(lines(want), lines(got)); diff != "" {
			t.Errorf("%s import: report (-SQLite +PostgreSQL):\n%s", run, diff)
		}
	}
	if diff := cmp.Diff(dump(t, sqliteURL), dump(t, pgURL)); diff != "" {
		t.Errorf("imported data (-SQLite +PostgreSQL):\n%s", diff)
	}

	store := openStoreAt(t, pgURL)
	u := &blog.User{Username: "newcomer", Email: "newcomer@example.com", PasswordHash: "h"}
	p := &blog.Post{Title: "t", Content: "c"}
	err := store.Write(ctx, func(tx *sqlstore.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		p.AuthorID = u.ID
		return tx.CreatePost(ctx, p)
	})
	if err != nil {
		t.Fatalf("a user and a post made after the import = %v", err)
	}
	page, err := store.Posts(ctx, 0, blog.PageRequest{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range page.Posts {
		if q.ID > p.ID {
			t.Errorf("a post made after the import got id %d, below imported post %d", p.ID, q.ID)
		}
	}
	if u.ID <= 14 { // the fixture's users are 1…14
		t.Errorf("a user made after the import got id %d, want one after the imported ids", u.ID)
	}
}
