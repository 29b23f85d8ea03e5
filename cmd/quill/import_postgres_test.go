package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore/sqltest"
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
		var out bytes.Buffer
		clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		im := &importer{
			src: src, store: store, hasher: newTestHasher(), media: media, rename: true, batch: importBatch,
			out: &out, progress: io.Discard, now: clock.now,
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
	if err := store.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser after the import = %v", err)
	}
	p := &blog.Post{Title: "t", Content: "c", AuthorID: u.ID}
	if err := store.CreatePost(ctx, p); err != nil {
		t.Fatalf("CreatePost after the import = %v", err)
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
