package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/testclock"
)

// openCachedPair opens two stores on one new SQLite file, as two
// processes would (each with its pools and its own map of the WAL index):
// the first caches, the second has its cache off, so it always reads the
// database.
func openCachedPair(tb testing.TB) (cached, direct *Store, clock *testclock.Clock, path string) {
	tb.Helper()
	clock = testclock.New()
	// Not tb.TempDir: a fuzz seed's directory name has a "#", which a
	// sqlite:// URL cannot hold.
	dir, err := os.MkdirTemp("", "quill-cache-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	path = filepath.Join(dir, "quill.db")
	cached = openTestStore(tb, "sqlite:///"+path, clock)
	if err := cached.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	if cached.cache == nil {
		tb.Fatal("a SQLite file store has no read cache")
	}
	direct = openTestStore(tb, "sqlite:///"+path, clock)
	direct.cache = nil
	return cached, direct, clock, path
}

func TestWALVersion(t *testing.T) {
	s, other, _, _ := openCachedPair(t)
	v1, ok := s.cache.version()
	if !ok {
		t.Fatal("version() not ok on an idle database")
	}
	if v2, ok := s.cache.version(); !ok || v2 != v1 {
		t.Errorf("version() changed without a commit: %v then %v", v1, v2)
	}
	u := createUser(t, other, "alice")
	v3, ok := s.cache.version()
	if !ok || v3 == v1 {
		t.Errorf("version() after another store's commit = %v, %t, want a new version", v3, ok)
	}
	// A transaction that rolls back commits nothing.
	err := other.Write(context.Background(), func(tx *Tx) error {
		if _, err := tx.DeleteUser(context.Background(), u.ID); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("Write() = nil, want the rollback's error")
	}
	if v4, _ := s.cache.version(); v4 != v3 {
		t.Errorf("version() changed after a rollback: %v then %v", v3, v4)
	}
}

// TestReadCacheIsExact checks that what the cache serves is what the
// database holds, whoever writes: every change made through another store
// on the same file, and one made by plain SQL on a connection of its own
// (as sqlite3 in a shell would), is seen by the very next read.
func TestReadCacheIsExact(t *testing.T) {
	ctx := context.Background()
	s, other, clock, path := openCachedPair(t)
	alice := createUser(t, other, "alice")
	createSession(t, other, alice, "s1", clock.Now(), time.Hour)
	createPost(t, other, alice, "first", clock.Now())

	read := func() (string, []string) {
		t.Helper()
		_, u, err := s.SessionUser(ctx, "s1", clock.Now())
		name := "<" + fmt.Sprint(err) + ">"
		if err == nil {
			name = u.Username
		}
		page, err := s.Posts(ctx, 0, blog.PageRequest{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var titles []string
		for _, p := range page.Posts {
			titles = append(titles, p.Title+" by "+p.Author.Username)
		}
		return name, titles
	}
	check := func(step, wantName string, wantTitles ...string) {
		t.Helper()
		for range 2 { // the second read comes from the cache
			name, titles := read()
			if name != wantName {
				t.Errorf("%s: SessionUser's user = %s, want %s", step, name, wantName)
			}
			if diff := cmp.Diff(wantTitles, titles); diff != "" {
				t.Errorf("%s: Posts (-want +got):\n%s", step, diff)
			}
		}
	}
	check("at first", "alice", "first by alice")

	alice.Username = "alicia"
	write(t, other, func(tx *Tx) error { return tx.UpdateProfile(ctx, alice) })
	check("after a rename", "alicia", "first by alicia")

	createPost(t, other, alice, "second", clock.Advance(time.Second))
	check("after a new post", "alicia", "second by alicia", "first by alicia")

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `DELETE FROM sessions WHERE id = 's1'`); err != nil {
		t.Fatal(err)
	}
	check("after plain SQL ends the session", "<"+blog.ErrInvalidToken.Error()+">", "second by alicia", "first by alicia")

	createSession(t, other, alice, "s1", clock.Now(), time.Hour)
	check("with the session back", "alicia", "second by alicia", "first by alicia")
	clock.Advance(2 * time.Hour)
	check("once the session has expired", "<"+blog.ErrInvalidToken.Error()+">", "second by alicia", "first by alicia")
}

// TestReadCacheCopies checks that a caller changing what it got cannot
// change what the next caller gets.
func TestReadCacheCopies(t *testing.T) {
	ctx := context.Background()
	s, other, clock, _ := openCachedPair(t)
	alice := createUser(t, other, "alice")
	createSession(t, other, alice, "s1", clock.Now(), time.Hour)
	createPost(t, other, alice, "first", clock.Now())
	for range 2 {
		sess, u, err := s.SessionUser(ctx, "s1", clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if u.Username != "alice" || sess.UserAgent != "test agent" {
			t.Errorf("SessionUser() = %q, %q after a caller changed its copy", u.Username, sess.UserAgent)
		}
		u.Username, sess.UserAgent = "mallory", "changed"
		page, err := s.Posts(ctx, 0, blog.PageRequest{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if page.Posts[0].Title != "first" {
			t.Errorf("Posts() title = %q after a caller changed its copy", page.Posts[0].Title)
		}
		page.Posts[0].Title = "changed"
	}
}

// FuzzReadCache runs a sequence of writes and reads, given as bytes, on a
// caching store while another store writes, and checks every read against
// the same read with the cache off.
func FuzzReadCache(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{1, 1, 6, 2, 6, 7, 3, 6, 7, 4, 6, 5, 6, 7})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			return
		}
		ctx := context.Background()
		s, other, clock, _ := openCachedPair(t)
		users := []*blog.User{createUser(t, other, "u0"), createUser(t, other, "u1")}
		for i, op := range ops {
			u := users[int(op/8)%len(users)]
			id := fmt.Sprintf("s%d", op%3)
			switch op % 8 {
			case 0:
				_ = other.Write(ctx, func(tx *Tx) error {
					return tx.CreateSession(ctx, &blog.Session{ID: id, UserID: u.ID, CreatedAt: clock.Now(),
						LastUsedAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Hour)}, []byte(fmt.Sprint("h", i)))
				})
			case 1:
				_ = other.Write(ctx, func(tx *Tx) error { return tx.DeleteSession(ctx, u.ID, id) })
			case 2:
				u.Username = fmt.Sprintf("name%d", i)
				_ = other.Write(ctx, func(tx *Tx) error { return tx.UpdateProfile(ctx, u) })
			case 3:
				_ = other.Write(ctx, func(tx *Tx) error {
					return tx.CreatePost(ctx, &blog.Post{AuthorID: u.ID, Title: fmt.Sprint("t", i), Content: "c"})
				})
			case 4:
				clock.Advance(20 * time.Minute)
			case 5:
				_ = other.Write(ctx, func(tx *Tx) error {
					_, err := tx.DeleteSessions(ctx, u.ID, "")
					return err
				})
			default:
				for _, id := range []string{"s0", "s1", "s2"} {
					s1, u1, err1 := s.SessionUser(ctx, id, clock.Now())
					s2, u2, err2 := other.SessionUser(ctx, id, clock.Now())
					if !errors.Is(err1, err2) && !errors.Is(err2, err1) {
						t.Fatalf("op %d: SessionUser(%s) cached = %v, direct = %v", i, id, err1, err2)
					}
					if err1 == nil {
						if diff := cmp.Diff(*s2, *s1); diff != "" {
							t.Fatalf("op %d: SessionUser(%s) session (-direct +cached):\n%s", i, id, diff)
						}
						if diff := cmp.Diff(*u2, *u1); diff != "" {
							t.Fatalf("op %d: SessionUser(%s) user (-direct +cached):\n%s", i, id, diff)
						}
					}
				}
				for _, author := range []int64{0, users[0].ID} {
					p1, err1 := s.Posts(ctx, author, blog.PageRequest{Limit: 2})
					p2, err2 := other.Posts(ctx, author, blog.PageRequest{Limit: 2})
					if err1 != nil || err2 != nil {
						t.Fatalf("op %d: Posts = %v, %v", i, err1, err2)
					}
					if diff := cmp.Diff(p2, p1); diff != "" {
						t.Fatalf("op %d: Posts(%d) (-direct +cached):\n%s", i, author, diff)
					}
				}
			}
		}
	})
}

// TestReadCacheBounded checks that pages cannot grow the cache past its
// bound on their size, however many are asked for.
func TestReadCacheBounded(t *testing.T) {
	s, _, _, _ := openCachedPair(t)
	v, ok := s.cache.version()
	if !ok {
		t.Fatal("version() not ok")
	}
	big := &blog.PostPage{Posts: make([]blog.Post, 100)}
	for i := range big.Posts {
		big.Posts[i].Content = string(make([]byte, 50_000))
	}
	for i := range 200 {
		s.cache.storePage(v, pageKey{skip: int64(i)}, big)
		if s.cache.pageBytes > maxCachedPageSize {
			t.Fatalf("after %d pages the cache holds %d bytes of pages, over %d", i+1, s.cache.pageBytes, maxCachedPageSize)
		}
	}
	if len(s.cache.pages) == 0 {
		t.Error("no page was kept")
	}
}
