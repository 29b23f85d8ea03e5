package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/quilltest"
)

// Every post the use cases return carries its HTML and excerpt, current
// with its content however it was read.
func TestPostsComeRendered(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := context.Background()
		register(t, q, "alice", "alice@example.com")
		alice := logIn(t, q, "alice", alicePassword)
		check := func(what string, p *blog.Post, html, excerpt string) {
			t.Helper()
			if p.HTML != html || p.Excerpt != excerpt {
				t.Errorf("%s: HTML %q, Excerpt %q; want %q, %q", what, p.HTML, p.Excerpt, html, excerpt)
			}
		}
		p, err := q.App.CreatePost(ctx, alice, app.PostInput{Title: ptr("T"), Content: ptr("# Hi\n\n*there*")})
		if err != nil {
			t.Fatal(err)
		}
		check("CreatePost", p, "<h2>Hi</h2>\n<p><em>there</em></p>\n", "there")
		if !p.ExcerptCut {
			t.Error("CreatePost: ExcerptCut = false, but the heading is left out")
		}
		got, err := q.App.Post(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("Post", got, p.HTML, "there")

		q.Clock.Advance(time.Minute)
		up, err := q.App.UpdatePost(ctx, alice, p.ID, app.PostInput{Content: ptr("**bold**")})
		if err != nil {
			t.Fatal(err)
		}
		check("UpdatePost", up, "<p><strong>bold</strong></p>\n", "bold")
		if !up.UpdatedAt.Equal(q.Clock.Now().UTC().Truncate(time.Microsecond)) || !up.UpdatedAt.After(up.DatePosted) {
			t.Errorf("UpdatePost: UpdatedAt = %v (posted %v), want now, %v", up.UpdatedAt, up.DatePosted, q.Clock.Now())
		}
		page, err := q.App.Posts(ctx, 0, blog.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Posts) != 1 {
			t.Fatalf("Posts() = %d posts, want 1", len(page.Posts))
		}
		check("Posts", &page.Posts[0], up.HTML, "bold")
		mine, err := q.App.EditablePost(ctx, alice, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("EditablePost", mine, up.HTML, "bold")
	})
}

func TestPreviewPost(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := context.Background()
		register(t, q, "alice", "alice@example.com")
		register(t, q, "bob", "bob@example.com")
		alice, bob := logIn(t, q, "alice", alicePassword), logIn(t, q, "bob", alicePassword)
		p, err := q.App.CreatePost(ctx, alice, app.PostInput{Title: ptr("T"), Content: ptr("before")})
		if err != nil {
			t.Fatal(err)
		}

		for _, id := range []int64{0, p.ID} {
			got, err := q.App.PreviewPost(ctx, alice, id, "A [link](https://example.com) <i>")
			if err != nil {
				t.Fatalf("PreviewPost(%d) = %v", id, err)
			}
			want := `<p>A <a href="https://example.com" rel="nofollow ugc noopener">link</a> &lt;i&gt;</p>` + "\n"
			if got.HTML != want {
				t.Errorf("PreviewPost(%d).HTML = %q, want %q", id, got.HTML, want)
			}
		}
		_, err = q.App.PreviewPost(ctx, bob, p.ID, "mine now")
		wantError(t, "PreviewPost(someone else's post)", err, blog.ErrNotYourPost)
		_, err = q.App.PreviewPost(ctx, alice, p.ID+100, "x")
		wantError(t, "PreviewPost(a missing post)", err, blog.ErrPostNotFound)
		for _, bad := range []string{"", " \n ", strings.Repeat("a", blog.MaxContent+1), "a\x00b"} {
			_, err = q.App.PreviewPost(ctx, alice, 0, bad)
			wantKind(t, "PreviewPost(invalid content)", err, blog.Unprocessable)
		}

		// Nothing was saved.
		page, err := q.App.Posts(ctx, 0, blog.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 1 || page.Posts[0].Content != "before" {
			t.Errorf("after previews, posts = %d, content %q; want 1, %q", page.Total, page.Posts[0].Content, "before")
		}
	})
}
