package app

import (
	"context"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/markdown"
)

// renderCacheBudget bounds the memory the rendered posts kept in memory
// take (their Markdown, HTML and excerpt); at a few kilobytes a post,
// thousands of the most read posts.
const renderCacheBudget = 32 << 20

// BudgetedMemory is the most memory, in bytes, the application layer's
// budgets let it hold at once: the pictures being decoded and the rendered
// posts. The rest of what it holds is small, or grows with requests.
const BudgetedMemory = pictureBudget + renderCacheBudget

// render sets p's HTML and excerpt from its content, from the cache when
// p's content has not changed since it was last rendered.
func (a *App) render(p *blog.Post) {
	r := a.rendered.Render(p.ID, p.Content)
	p.HTML, p.Excerpt, p.ExcerptCut = r.HTML, r.Excerpt, r.Cut
}

// renderPage renders every post of page.
func (a *App) renderPage(page *blog.PostPage) {
	for i := range page.Posts {
		a.render(&page.Posts[i])
	}
}

// PreviewPost renders content as the post id (0 for a new post) would
// show it, and changes nothing. The content must be valid as a post's;
// an existing post must be the caller's (blog.ErrNotYourPost otherwise),
// and the caller one who may write (MayWrite).
func (a *App) PreviewPost(ctx context.Context, c *Caller, id int64, content string) (*blog.Post, error) {
	if err := a.MayWrite(c); err != nil {
		return nil, err
	}
	v := blog.Validator{}
	p := &blog.Post{ID: id, AuthorID: c.User.ID, Content: v.Content(content)}
	if err := v.Err("content"); err != nil {
		return nil, err
	}
	if id != 0 {
		if _, err := a.EditablePost(ctx, c, id); err != nil {
			return nil, err
		}
	}
	r := markdown.Render(p.Content) // not cached: it is no post's content
	p.HTML, p.Excerpt, p.ExcerptCut = r.HTML, r.Excerpt, r.Cut
	return p, nil
}
