package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/markdown"
	"github.com/quill-blog/quill/internal/quilltest"
)

// post writes a post as c and returns it.
func post(tb testing.TB, q *quilltest.Quill, c *app.Caller, title, content string) *blog.Post {
	tb.Helper()
	p, err := q.App.CreatePost(context.Background(), c, app.PostInput{Title: &title, Content: &content})
	if err != nil {
		tb.Fatalf("CreatePost(%q) = %v", title, err)
	}
	return p
}

// wantProblem fails unless err is a 422 with one problem, msg at loc.
func wantProblem(tb testing.TB, what string, err error, loc []any, msg string) {
	tb.Helper()
	var e *blog.Error
	if !errors.As(err, &e) || e.Kind != blog.Unprocessable {
		tb.Errorf("%s = %v, want a 422", what, err)
		return
	}
	if want := []blog.Problem{{Type: "value_error", Loc: loc, Msg: msg}}; !cmp.Equal(want, e.Problems) {
		tb.Errorf("%s problems = %+v, want %+v", what, e.Problems, want)
	}
}

func TestSearchPosts(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := context.Background()
		register(t, q, "alice", "alice@example.com")
		alice := logIn(t, q, "alice", alicePassword)
		var ids []int64
		for range 3 {
			q.Clock.Advance(time.Minute)
			ids = append(ids, post(t, q, alice, "Tea", "Mad Hatter's tea party").ID)
		}

		first, err := q.App.SearchPosts(ctx, 0, blog.SearchRequest{Query: "TEA", Limit: 2})
		if err != nil {
			t.Fatalf("SearchPosts(TEA) = %v", err)
		}
		if len(first.Posts) != 2 || first.Total != 3 || !first.HasMore || first.NextCursor == nil {
			t.Fatalf("SearchPosts(TEA, limit 2) = %d posts, total %d, has_more %t, cursor %v; want 2, 3, more",
				len(first.Posts), first.Total, first.HasMore, first.NextCursor)
		}
		if p, want := first.Posts[0], markdown.Render("Mad Hatter's tea party"); p.HTML != want.HTML || p.Excerpt != want.Excerpt {
			t.Errorf("SearchPosts(TEA) post HTML %q, excerpt %q; want the content rendered as any read renders it", p.HTML, p.Excerpt)
		}
		// The cursor is good for the same query in any case, and picks up
		// where the page ended.
		next, err := q.App.SearchPosts(ctx, 0, blog.SearchRequest{Query: "tea", Limit: 2, Cursor: first.NextCursor})
		if err != nil {
			t.Fatalf("SearchPosts(tea, cursor) = %v", err)
		}
		if len(next.Posts) != 1 || next.Posts[0].ID != ids[0] || next.HasMore || next.Skip != 2 {
			t.Errorf("SearchPosts(tea, cursor) = %d posts, has_more %t, skip %d; want the oldest post alone, skip 2",
				len(next.Posts), next.HasMore, next.Skip)
		}
		_, err = q.App.SearchPosts(ctx, 0, blog.SearchRequest{Query: "party", Cursor: first.NextCursor})
		wantProblem(t, "SearchPosts(party, tea's cursor)", err, []any{"query", "cursor"}, "Invalid cursor: it belongs to another search")

		_, err = q.App.SearchPosts(ctx, 0, blog.SearchRequest{Query: `-tea "`})
		wantProblem(t, "SearchPosts(-tea)", err, []any{"query", "q"},
			"Search query should have a word to search for, not only excluded words or punctuation")
		_, err = q.App.SearchPosts(ctx, 999, blog.SearchRequest{Query: "tea"})
		wantError(t, "SearchPosts(a missing author)", err, blog.ErrUserNotFound)
		mine, err := q.App.SearchPosts(ctx, alice.User.ID, blog.SearchRequest{Query: "hatter"})
		if err != nil || mine.Total != 3 {
			t.Errorf("SearchPosts(alice's, hatter) = %+v, %v; want her 3 posts", mine, err)
		}
	})
}

// TestSearchTooSlow checks that a search that outlives its time is a 503
// telling the user to try again or narrow it, never a request held on.
func TestSearchTooSlow(t *testing.T) {
	for _, db := range quilltest.DBs() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			q := quilltest.New(t, db, quilltest.Options{App: func(c *app.Config) { c.SearchTimeout = time.Nanosecond }})
			_, err := q.App.SearchPosts(context.Background(), 0, blog.SearchRequest{Query: "tea"})
			wantError(t, "SearchPosts with no time", err, app.ErrSearchTooSlow)

			// A client that went away is not told anything.
			gone, cancel := context.WithCancel(context.Background())
			cancel()
			_, err = q.App.SearchPosts(gone, 0, blog.SearchRequest{Query: "tea"})
			if err == nil || errors.Is(err, app.ErrSearchTooSlow) {
				t.Errorf("SearchPosts for a client that went away = %v, want the busy error or the context's", err)
			}
		})
	}
}
