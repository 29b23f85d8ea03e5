package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/quill-blog/quill/internal/blog"
)

// createPost adds a post by author, dated at (zero: now).
func createPost(tb testing.TB, s *Store, author *blog.User, title string, at time.Time) *blog.Post {
	tb.Helper()
	p := &blog.Post{Title: title, Content: "content of " + title, AuthorID: author.ID, DatePosted: at}
	if err := s.Write(context.Background(), func(tx *Tx) error { return tx.CreatePost(context.Background(), p) }); err != nil {
		tb.Fatalf("CreatePost(%q) = %v", title, err)
	}
	return p
}

// publicAuthor is what a post carries of its author.
func publicAuthor(u *blog.User) blog.User {
	return blog.User{ID: u.ID, Username: u.Username, ImageFile: u.ImageFile}
}

func TestCreatePost(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		alice := &blog.User{Username: "Alice", Email: "alice@example.com", PasswordHash: "secret-hash", ImageFile: "a.jpg"}
		write(t, s, func(tx *Tx) error { return tx.CreateUser(ctx, alice) })
		paris, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			paris = time.FixedZone("CET", 3600)
		}
		tests := []struct {
			name       string
			datePosted time.Time
			want       time.Time
		}{
			{name: "now", want: clock.Now()},
			{name: "given, in UTC to the microsecond", datePosted: time.Date(2020, 5, 6, 7, 8, 9, 123456789, paris),
				want: time.Date(2020, 5, 6, 5, 8, 9, 123456000, time.UTC)},
			{name: "before 1970", datePosted: time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC),
				want: time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := &blog.Post{Title: "Hello", Content: "World", AuthorID: alice.ID, DatePosted: tt.datePosted}
				if err := s.Write(ctx, func(tx *Tx) error { return tx.CreatePost(ctx, p) }); err != nil {
					t.Fatalf("CreatePost() = %v", err)
				}
				want := &blog.Post{ID: p.ID, Title: "Hello", Content: "World", AuthorID: alice.ID,
					DatePosted: tt.want, UpdatedAt: tt.want, Author: publicAuthor(alice)}
				if diff := cmp.Diff(want, p); diff != "" {
					t.Errorf("CreatePost() left the post mismatched (-want +got):\n%s", diff)
				}
				got, err := s.Post(ctx, p.ID)
				if err != nil {
					t.Fatalf("Post(%d) = %v", p.ID, err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Post(%d) mismatch (-want +got):\n%s", p.ID, diff)
				}
			})
		}
	})
}

func TestUpdateAndDeletePost(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		alice := createUser(t, s, "alice")
		p := createPost(t, s, alice, "first", time.Time{})
		other := createPost(t, s, alice, "other", time.Time{})
		posted := p.DatePosted

		// UpdatedAt moves when the title or the content changes, and only
		// then.
		for _, step := range []struct {
			name, title, content string
			updated              time.Duration // after posted
		}{
			{"title and content", "edited", "new content", time.Minute},
			{"nothing", "edited", "new content", time.Minute},
			{"content only", "edited", "newer content", 3 * time.Minute},
			{"title only", "retitled", "newer content", 4 * time.Minute},
		} {
			clock.Advance(time.Minute)
			p.Title, p.Content = step.title, step.content
			if err := s.Write(ctx, func(tx *Tx) error { return tx.UpdatePost(ctx, p) }); err != nil {
				t.Fatalf("UpdatePost() changing %s = %v", step.name, err)
			}
			if want := posted.Add(step.updated); !p.UpdatedAt.Equal(want) || !p.DatePosted.Equal(posted) {
				t.Errorf("UpdatePost() changing %s: UpdatedAt = %v, DatePosted = %v; want %v, %v", step.name, p.UpdatedAt, p.DatePosted, want, posted)
			}
			got, err := s.Post(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(p, got); diff != "" {
				t.Errorf("Post after UpdatePost changing %s mismatch (-want +got):\n%s", step.name, diff)
			}
		}

		if err := s.Write(ctx, func(tx *Tx) error { return tx.DeletePost(ctx, p.ID) }); err != nil {
			t.Fatalf("DeletePost() = %v", err)
		}
		if _, err := s.Post(ctx, p.ID); !errors.Is(err, blog.ErrPostNotFound) {
			t.Errorf("Post(deleted) = %v, want ErrPostNotFound", err)
		}
		if _, err := s.Post(ctx, other.ID); err != nil {
			t.Errorf("Post(other) after deleting a post = %v", err)
		}
	})
}

func TestPostNotFound(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		const id = 424242
		tests := []struct {
			name string
			call func() error
		}{
			{"Post", func() error { _, err := s.Post(ctx, id); return err }},
			{"Tx.Post", func() error {
				return s.Write(ctx, func(tx *Tx) error { _, err := tx.Post(ctx, id); return err })
			}},
			{"UpdatePost", func() error {
				return s.Write(ctx, func(tx *Tx) error { return tx.UpdatePost(ctx, &blog.Post{ID: id, Title: "t", Content: "c"}) })
			}},
			{"DeletePost", func() error {
				return s.Write(ctx, func(tx *Tx) error { return tx.DeletePost(ctx, id) })
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := tt.call(); !errors.Is(err, blog.ErrPostNotFound) {
					t.Errorf("%s(missing post) = %v, want ErrPostNotFound", tt.name, err)
				}
			})
		}
	})
}

func TestPostsPaging(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		createUser(t, s, "carol") // no posts

		// 25 posts in groups of three sharing a date, inserted out of date
		// order, so ties are broken by id and ids disagree with dates.
		base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		var all []*blog.Post
		for i := range 25 {
			author := alice
			if i%3 == 1 {
				author = bob
			}
			at := base.Add(time.Duration((i*7)%9) * time.Minute)
			all = append(all, createPost(t, s, author, fmt.Sprintf("post %d", i), at))
		}
		newestFirst := func(authorID int64) []blog.Post {
			var ps []blog.Post
			for _, p := range all {
				if authorID == 0 || p.AuthorID == authorID {
					ps = append(ps, *p)
				}
			}
			slices.SortFunc(ps, func(a, b blog.Post) int {
				if c := b.DatePosted.Compare(a.DatePosted); c != 0 {
					return c
				}
				return int(b.ID - a.ID)
			})
			return ps
		}

		scopes := []struct {
			name     string
			authorID int64
		}{
			{"everyone", 0},
			{"alice", alice.ID},
			{"bob", bob.ID},
		}
		for _, scope := range scopes {
			want := newestFirst(scope.authorID)
			for _, limit := range []int{1, 3, 7, 100} {
				t.Run(fmt.Sprintf("%s/limit %d/by skip", scope.name, limit), func(t *testing.T) {
					var got []blog.Post
					for skip := int64(0); ; skip += int64(limit) {
						page, err := s.Posts(ctx, scope.authorID, blog.PageRequest{Skip: skip, Limit: limit})
						if err != nil {
							t.Fatalf("Posts(skip %d) = %v", skip, err)
						}
						checkPage(t, page, int64(len(want)), skip, limit)
						got = append(got, page.Posts...)
						if !page.HasMore {
							break
						}
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("pages by skip mismatch (-want +got):\n%s", diff)
					}
				})
				t.Run(fmt.Sprintf("%s/limit %d/by cursor", scope.name, limit), func(t *testing.T) {
					var (
						got    []blog.Post
						cursor *blog.Cursor
					)
					for range len(want) + 1 {
						page, err := s.Posts(ctx, scope.authorID, blog.PageRequest{Limit: limit, Cursor: cursor})
						if err != nil {
							t.Fatalf("Posts(cursor %v) = %v", cursor, err)
						}
						checkPage(t, page, int64(len(want)), 0, limit)
						got = append(got, page.Posts...)
						if !page.HasMore {
							break
						}
						// The cursor survives its string form, as a client
						// sends it back.
						c, err := blog.ParseCursor(page.NextCursor.String())
						if err != nil {
							t.Fatalf("ParseCursor(%s) = %v", page.NextCursor, err)
						}
						cursor = &c
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("pages by cursor mismatch (-want +got):\n%s", diff)
					}
				})
				t.Run(fmt.Sprintf("%s/limit %d/back by before", scope.name, limit), func(t *testing.T) {
					// Forwards by cursor, then back from the last page:
					// each step back is the page before, whole.
					var pages []*blog.PostPage
					var cursor *blog.Cursor
					for range len(want) + 1 {
						page, err := s.Posts(ctx, scope.authorID, blog.PageRequest{Limit: limit, Cursor: cursor})
						if err != nil {
							t.Fatal(err)
						}
						pages = append(pages, page)
						if !page.HasMore {
							break
						}
						cursor = page.NextCursor
					}
					for i := len(pages) - 1; i > 0; i-- {
						first := pages[i].Posts[0]
						before := &blog.Cursor{DatePosted: first.DatePosted, ID: first.ID}
						got, err := s.Posts(ctx, scope.authorID, blog.PageRequest{Limit: limit, Before: before})
						if err != nil {
							t.Fatalf("Posts(before %v) = %v", before, err)
						}
						checkPage(t, got, int64(len(want)), 0, limit)
						if diff := cmp.Diff(pages[i-1].Posts, got.Posts); diff != "" {
							t.Errorf("the page before page %d mismatch (-want +got):\n%s", i+1, diff)
						}
						if got.HasNewer != (i > 1) || !got.HasMore {
							t.Errorf("the page before page %d: HasNewer %v, HasMore %v; want %v, true", i+1, got.HasNewer, got.HasMore, i > 1)
						}
					}
				})
			}
		}

		t.Run("no posts", func(t *testing.T) {
			carol, err := s.UserByLogin(ctx, "carol")
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Posts(ctx, carol.ID, blog.PageRequest{Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			want := &blog.PostPage{Posts: []blog.Post{}, Limit: 5}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Posts(carol) mismatch (-want +got):\n%s", diff)
			}
		})

		everyone := newestFirst(0)
		// A gone post with everyone[4]'s date and a bigger id than any sorts
		// first among that date's posts.
		gone := &blog.Cursor{DatePosted: everyone[4].DatePosted, ID: 100_000}
		afterGone := slices.IndexFunc(everyone, func(p blog.Post) bool { return p.DatePosted.Equal(gone.DatePosted) })
		tests := []struct {
			name string
			req  blog.PageRequest
			want *blog.PostPage
		}{
			{
				name: "default limit",
				req:  blog.PageRequest{},
				want: &blog.PostPage{Posts: everyone[:10], Total: 25, Limit: 10, HasMore: true,
					NextCursor: &blog.Cursor{DatePosted: everyone[9].DatePosted, ID: everyone[9].ID}},
			},
			{
				name: "limit capped",
				req:  blog.PageRequest{Limit: 1000},
				want: &blog.PostPage{Posts: everyone, Total: 25, Limit: blog.MaxLimit},
			},
			{
				name: "skip past the end",
				req:  blog.PageRequest{Skip: 25, Limit: 5},
				want: &blog.PostPage{Posts: []blog.Post{}, Total: 25, Skip: 25, Limit: 5},
			},
			{
				name: "cursor ignores skip",
				req:  blog.PageRequest{Skip: 3, Limit: 2, Cursor: &blog.Cursor{DatePosted: everyone[0].DatePosted, ID: everyone[0].ID}},
				want: &blog.PostPage{Posts: everyone[1:3], Total: 25, Limit: 2, HasMore: true,
					NextCursor: &blog.Cursor{DatePosted: everyone[2].DatePosted, ID: everyone[2].ID}},
			},
			{
				name: "cursor of a deleted post",
				req:  blog.PageRequest{Limit: 2, Cursor: gone},
				want: &blog.PostPage{Posts: everyone[afterGone : afterGone+2], Total: 25, Limit: 2, HasMore: true,
					NextCursor: &blog.Cursor{DatePosted: everyone[afterGone+1].DatePosted, ID: everyone[afterGone+1].ID}},
			},
			{
				name: "cursor at the end",
				req:  blog.PageRequest{Limit: 2, Cursor: &blog.Cursor{DatePosted: everyone[24].DatePosted, ID: everyone[24].ID}},
				want: &blog.PostPage{Posts: []blog.Post{}, Total: 25, Limit: 2},
			},
			{
				name: "before the newest",
				req:  blog.PageRequest{Limit: 2, Before: &blog.Cursor{DatePosted: everyone[0].DatePosted, ID: everyone[0].ID}},
				want: &blog.PostPage{Posts: []blog.Post{}, Total: 25, Limit: 2},
			},
			{
				name: "before the second: less than a page, and nothing newer",
				req:  blog.PageRequest{Limit: 2, Before: &blog.Cursor{DatePosted: everyone[1].DatePosted, ID: everyone[1].ID}},
				want: &blog.PostPage{Posts: everyone[:1], Total: 25, Limit: 2, HasMore: true,
					NextCursor: &blog.Cursor{DatePosted: everyone[0].DatePosted, ID: everyone[0].ID}},
			},
			{
				name: "before the fifth ignores skip and cursor",
				req: blog.PageRequest{Skip: 7, Limit: 2, Cursor: &blog.Cursor{DatePosted: everyone[20].DatePosted, ID: everyone[20].ID},
					Before: &blog.Cursor{DatePosted: everyone[4].DatePosted, ID: everyone[4].ID}},
				want: &blog.PostPage{Posts: everyone[2:4], Total: 25, Limit: 2, HasMore: true, HasNewer: true,
					NextCursor: &blog.Cursor{DatePosted: everyone[3].DatePosted, ID: everyone[3].ID}},
			},
			{
				name: "before a deleted post",
				req:  blog.PageRequest{Limit: 2, Before: gone},
				want: &blog.PostPage{Posts: everyone[afterGone-2 : afterGone], Total: 25, Limit: 2, HasMore: true, HasNewer: afterGone > 2,
					NextCursor: &blog.Cursor{DatePosted: everyone[afterGone-1].DatePosted, ID: everyone[afterGone-1].ID}},
			},
			{
				name: "before a position past the oldest: the oldest posts, nothing older",
				req:  blog.PageRequest{Limit: 2, Before: &blog.Cursor{DatePosted: base.Add(-time.Hour), ID: 1}},
				want: &blog.PostPage{Posts: everyone[23:], Total: 25, Limit: 2, HasNewer: true},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Posts(ctx, 0, tt.req)
				if err != nil {
					t.Fatalf("Posts(%+v) = %v", tt.req, err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Posts(%+v) mismatch (-want +got):\n%s", tt.req, diff)
				}
			})
		}
	})
}

// checkPage checks what a page says about itself.
func checkPage(tb testing.TB, page *blog.PostPage, total, skip int64, limit int) {
	tb.Helper()
	if page.Total != total || page.Skip != skip || page.Limit != limit {
		tb.Errorf("page Total, Skip, Limit = %d, %d, %d, want %d, %d, %d",
			page.Total, page.Skip, page.Limit, total, skip, limit)
	}
	if len(page.Posts) > limit {
		tb.Errorf("page has %d posts, more than its limit %d", len(page.Posts), limit)
	}
	switch {
	case page.HasMore && len(page.Posts) != limit:
		tb.Errorf("page has %d posts and more to come, want a full page of %d", len(page.Posts), limit)
	case page.HasMore:
		last := page.Posts[len(page.Posts)-1]
		want := &blog.Cursor{DatePosted: last.DatePosted, ID: last.ID}
		if diff := cmp.Diff(want, page.NextCursor); diff != "" {
			tb.Errorf("NextCursor is not the last post's position (-want +got):\n%s", diff)
		}
	case page.NextCursor != nil:
		tb.Errorf("last page has NextCursor %v, want nil", page.NextCursor)
	}
	for _, p := range page.Posts {
		if p.Author.ID != p.AuthorID || p.Author.Username == "" || p.Author.PasswordHash != "" || p.Author.Email != "" {
			tb.Errorf("post %d has author %+v, want the public fields of user %d", p.ID, p.Author, p.AuthorID)
		}
	}
}

func TestPostCounts(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		var alices []*blog.Post
		for i := range 5 {
			alices = append(alices, createPost(t, s, alice, fmt.Sprint("a", i), time.Time{}))
			createPost(t, s, bob, fmt.Sprint("b", i), time.Time{})
		}

		// totals checks the counters against COUNT(*), which the store itself
		// never runs.
		totals := func(step string, want map[int64]int64) {
			t.Helper()
			for authorID, n := range want {
				page, err := s.Posts(ctx, authorID, blog.PageRequest{Limit: 1})
				if err != nil {
					t.Fatalf("%s: Posts(%d) = %v", step, authorID, err)
				}
				var counted int64
				query, args := `SELECT COUNT(*) FROM posts`, []any{}
				if authorID != 0 {
					query, args = query+` WHERE user_id = $1`, []any{authorID}
				}
				if err := s.read.QueryRowContext(ctx, query, args...).Scan(&counted); err != nil {
					t.Fatal(err)
				}
				if page.Total != n || counted != n {
					t.Errorf("%s: author %d: Total = %d, COUNT(*) = %d, want %d", step, authorID, page.Total, counted, n)
				}
			}
		}
		totals("after creating", map[int64]int64{0: 10, alice.ID: 5, bob.ID: 5})

		for _, p := range alices[:2] {
			write(t, s, func(tx *Tx) error { return tx.DeletePost(ctx, p.ID) })
		}
		totals("after deleting two posts", map[int64]int64{0: 8, alice.ID: 3, bob.ID: 5})

		write(t, s, func(tx *Tx) error { _, err := tx.DeleteUser(ctx, bob.ID); return err })
		totals("after deleting bob", map[int64]int64{0: 3, alice.ID: 3})
		if _, err := s.Posts(ctx, bob.ID, blog.PageRequest{}); !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("Posts(deleted bob) = %v, want ErrUserNotFound", err)
		}
	})
}

// TestQueryPlans checks that the queries that run on every page view are
// index lookups, never a scan of a table or a sort.
func TestQueryPlans(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		s, _ := newTestStore(t, db)
		cursor := &blog.Cursor{DatePosted: time.Now(), ID: 7}
		sessionUser := `SELECT ` + sessionColumns + `, ` + userColumns + `
			FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.expires_at > $2`
		tests := []struct {
			name  string
			query string
			args  []any
			// sortOK allows sorting the page's own rows: offset pages
			// skip along a covering index, then sort the few they keep.
			sortOK bool
		}{
			{"everyone's first page", "", nil, false},
			{"everyone's after a cursor", "", nil, false},
			{"one author's first page", "", nil, false},
			{"one author's after a cursor", "", nil, false},
			{"everyone's after skipping", "", nil, true},
			{"one author's after skipping", "", nil, true},
			{"session and its user", sessionUser, []any{"id", 0}, false},
		}
		tests[0].query, tests[0].args = postsQuery(0, nil, 0, 11)
		tests[1].query, tests[1].args = postsQuery(0, cursor, 0, 11)
		tests[2].query, tests[2].args = postsQuery(1, nil, 0, 11)
		tests[3].query, tests[3].args = postsQuery(1, cursor, 0, 11)
		tests[4].query, tests[4].args = postsQuery(0, nil, 500, 11)
		tests[5].query, tests[5].args = postsQuery(1, nil, 500, 11)
		everyoneBefore, everyoneArgs := newerPostsQuery(0, *cursor, 11)
		authorBefore, authorArgs := newerPostsQuery(1, *cursor, 11)
		tests = append(tests,
			struct {
				name   string
				query  string
				args   []any
				sortOK bool
			}{"everyone's before a cursor", everyoneBefore, everyoneArgs, false},
			struct {
				name   string
				query  string
				args   []any
				sortOK bool
			}{"one author's before a cursor", authorBefore, authorArgs, false})
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var plan []string
				switch s.Dialect() {
				case "sqlite":
					plan = sqlitePlan(t, s, tt.query, tt.args)
				case "postgres":
					plan = postgresPlan(t, s, tt.query, tt.args)
				}
				for _, step := range plan {
					// SQLite's plans, then PostgreSQL's. post_total is read
					// whole: it has one row (SQLite) or sixteen (PostgreSQL).
					scan := strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, "USING INDEX") &&
						!strings.Contains(step, "USING COVERING INDEX") && !(tt.sortOK && step == "SCAN page") &&
						step != "SCAN post_total" ||
						strings.Contains(step, "Seq Scan") && !strings.Contains(step, "Seq Scan on post_total")
					sort := strings.Contains(step, "TEMP B-TREE") || strings.Contains(step, "Sort")
					if scan || (sort && !tt.sortOK) {
						t.Errorf("query plan has %q:\n%s", step, strings.Join(plan, "\n"))
					}
				}
				t.Logf("plan:\n%s", strings.Join(plan, "\n"))
			})
		}
	})
}

// sqlitePlan is SQLite's plan for query, one step a line.
func sqlitePlan(tb testing.TB, s *Store, query string, args []any) []string {
	tb.Helper()
	rows, err := s.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var (
			id, parent, unused int
			detail             string
		)
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			tb.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return plan
}

// postgresPlan is PostgreSQL's plan for query, one node a line. The test
// tables are nearly empty, where a sequential scan is the cheapest plan;
// with scans and sorts priced out, a plan that still has one has no index
// to use instead.
func postgresPlan(tb testing.TB, s *Store, query string, args []any) []string {
	tb.Helper()
	ctx := context.Background()
	conn, err := s.read.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	for _, set := range []string{"enable_seqscan", "enable_sort", "enable_bitmapscan"} {
		if _, err := conn.ExecContext(ctx, "SET "+set+" = off"); err != nil {
			tb.Fatal(err)
		}
		defer conn.ExecContext(ctx, "RESET "+set)
	}
	rows, err := conn.QueryContext(ctx, "EXPLAIN "+query, args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			tb.Fatal(err)
		}
		plan = append(plan, line)
	}
	return plan
}
