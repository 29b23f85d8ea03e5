package app

import (
	"context"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// Posts returns a page of posts, newest first: everyone's when authorID is
// 0, otherwise that user's (a missing user is blog.ErrUserNotFound).
// Every post returned by this file's methods comes rendered (HTML,
// Excerpt).
func (a *App) Posts(ctx context.Context, authorID int64, page blog.PageRequest) (*blog.PostPage, error) {
	p, err := a.store.Posts(ctx, authorID, page)
	if err != nil {
		return nil, err
	}
	a.renderPage(p)
	return p, nil
}

// Post returns a post with its author, or blog.ErrPostNotFound.
func (a *App) Post(ctx context.Context, id int64) (*blog.Post, error) {
	p, err := a.store.Post(ctx, id)
	if err != nil {
		return nil, err
	}
	a.render(p)
	return p, nil
}

// PostInput is a post's title and content (nil: unchanged, or missing for
// a new post, which the adapter reports). Problems are those an adapter
// found reading the request.
type PostInput struct {
	Title, Content *string
	Problems       []blog.Problem
}

// check validates in's fields onto p.
func (in PostInput) check(p *blog.Post) error {
	v := blog.Validator{Problems: in.Problems}
	if in.Title != nil {
		p.Title = v.Title(*in.Title)
	}
	if in.Content != nil {
		p.Content = v.Content(*in.Content)
	}
	return v.Err("title", "content")
}

// CreatePost publishes a post by the caller, who may write (MayWrite).
func (a *App) CreatePost(ctx context.Context, c *Caller, in PostInput) (*blog.Post, error) {
	if err := a.MayWrite(c); err != nil {
		return nil, err
	}
	p := &blog.Post{AuthorID: c.User.ID}
	if err := in.check(p); err != nil {
		return nil, err
	}
	err := a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		p.ID = 0
		return tx.CreatePost(ctx, p)
	})
	if err != nil {
		return nil, err
	}
	a.render(p)
	return p, nil
}

// EditablePost returns the post id for its author to change; anyone
// else's is blog.ErrNotYourPost.
func (a *App) EditablePost(ctx context.Context, c *Caller, id int64) (*blog.Post, error) {
	p, err := a.store.Post(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.AuthorID != c.User.ID {
		return nil, blog.ErrNotYourPost
	}
	a.render(p)
	return p, nil
}

// UpdatePost changes the title and content of the caller's post id;
// anyone else's is blog.ErrNotYourPost. The caller must be one who may
// write (MayWrite).
func (a *App) UpdatePost(ctx context.Context, c *Caller, id int64, in PostInput) (*blog.Post, error) {
	if err := a.MayWrite(c); err != nil {
		return nil, err
	}
	var p *blog.Post
	err := a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		var err error
		if p, err = tx.Post(ctx, id); err != nil {
			return err
		}
		if p.AuthorID != c.User.ID {
			return blog.ErrNotYourPost
		}
		if err := in.check(p); err != nil {
			return err
		}
		return tx.UpdatePost(ctx, p)
	})
	if err != nil {
		return nil, err
	}
	a.render(p)
	return p, nil
}

// DeletePost deletes the caller's post id; anyone else's is
// blog.ErrNotYourPostDelete.
func (a *App) DeletePost(ctx context.Context, c *Caller, id int64) error {
	err := a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		p, err := tx.Post(ctx, id)
		if err != nil {
			return err
		}
		if p.AuthorID != c.User.ID {
			return blog.ErrNotYourPostDelete
		}
		return tx.DeletePost(ctx, id)
	})
	if err == nil {
		a.rendered.Forget(id)
	}
	return err
}
