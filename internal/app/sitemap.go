package app

import (
	"context"

	"github.com/quill-blog/quill/internal/blog"
)

// SitemapRange returns the highest post id and user id in use: the ids
// a sitemap's pages cover.
func (a *App) SitemapRange(ctx context.Context) (posts, users int64, err error) {
	return a.store.MaxIDs(ctx)
}

// PostStamps returns up to limit posts with ids in (after, upTo], in id
// order, with when each last changed.
func (a *App) PostStamps(ctx context.Context, after, upTo int64, limit int) ([]blog.Stamp, error) {
	return a.store.PostStamps(ctx, after, upTo, limit)
}

// AuthorStamps returns up to limit users with posts, with ids in (after,
// upTo], in id order, with the date of each one's newest post.
func (a *App) AuthorStamps(ctx context.Context, after, upTo int64, limit int) ([]blog.Stamp, error) {
	return a.store.AuthorStamps(ctx, after, upTo, limit)
}
