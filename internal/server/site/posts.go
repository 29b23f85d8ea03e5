package site

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// postsView is a page of posts: the home page or one author's posts.
type postsView struct {
	Author *blog.User // nil on the home page
	Posts  []blog.Post
	Total  int64
	First  bool   // the first page, of the newest posts
	Next   string // the URL of the page of older posts, "" on the last
	Newer  string // the URL of the page of newer posts, "" on the first
}

// Home shows everyone's posts, newest first: GET /. Pages go by cursor,
// in the URL: "Older posts" is ?cursor=, "Newer posts" ?before= (a small
// script loads older posts in place and puts their URL in the address
// bar).
func (s *Site) Home(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	return s.postsPage(w, r, c, nil, "/", view{Title: "Latest posts", Meta: meta{
		Description: "The newest posts on " + siteName + ".",
	}})
}

// UserPosts shows one author's posts: GET /users/{user_id}/posts.
func (s *Site) UserPosts(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PageID(r, "user_id", blog.ErrUserNotFound)
	if err != nil {
		return err
	}
	author, err := s.app.User(r.Context(), id)
	if err != nil {
		return err
	}
	return s.postsPage(w, r, c, author, r.URL.Path, view{Title: "Posts by " + author.Username, Meta: meta{
		Description: "Posts by " + author.Username + " on " + siteName + ", newest first.", Type: "profile", Author: author,
	}})
}

// postsPage shows the page of posts r asks for, by author (nil: everyone),
// whose first page is at path, as the page v (its title and meta).
func (s *Site) postsPage(w http.ResponseWriter, r *http.Request, c *app.Caller, author *blog.User, path string, v view) error {
	req, err := pageRequest(r)
	if err != nil {
		return err
	}
	var authorID int64
	if author != nil {
		authorID = author.ID
	}
	page, err := s.app.Posts(r.Context(), authorID, req)
	if err != nil {
		return err
	}
	first := req.Cursor == nil && req.Before == nil && req.Skip == 0
	if req.Before != nil && !page.HasNewer {
		// Back to the newest posts: the first page itself, a whole one.
		http.Redirect(w, r, pageURL(path, "", "", page.Limit), http.StatusSeeOther)
		return nil
	}
	pv := postsView{Author: author, Posts: page.Posts, Total: page.Total, First: first}
	if page.NextCursor != nil {
		pv.Next = pageURL(path, "cursor", page.NextCursor.String(), page.Limit)
	}
	if !first {
		pv.Newer = pageURL(path, "", "", page.Limit)
		if len(page.Posts) > 0 {
			newest := page.Posts[0]
			pv.Newer = pageURL(path, "before", blog.Cursor{DatePosted: newest.DatePosted, ID: newest.ID}.String(), page.Limit)
		}
	}
	v.Data = pv
	return s.render(w, r, c, http.StatusOK, "posts", v)
}

// pageRequest reads which page of posts r asks for: skip, limit and
// cursor as the API reads them, and before, the pages' own way back (the
// page just newer than the post it names).
func pageRequest(r *http.Request) (blog.PageRequest, error) {
	req, err := httpx.PageRequest(r)
	if err != nil {
		return req, err
	}
	raw, ok := r.URL.Query()["before"]
	if !ok {
		return req, nil
	}
	var v blog.Validator
	c, err := blog.ParseCursor(raw[0])
	switch {
	case err != nil:
		v.Add("value_error", "Invalid cursor", "query", "before")
	case req.Cursor != nil || req.Skip != 0:
		v.Add("value_error", "Use one of skip, cursor and before", "query", "before")
	default:
		req.Before = &c
	}
	return req, v.Err()
}

// pageURL is the URL of a page of posts at path: with the cursor key
// (cursor or before) when key is not "", and the limit when it is not the
// default.
func pageURL(path, key, cursor string, limit int) string {
	q := url.Values{}
	if key != "" {
		q.Set(key, cursor)
	}
	if limit != blog.DefaultLimit {
		q.Set("limit", fmt.Sprint(limit))
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// postView is one post, and whether the viewer may change it.
type postView struct {
	Post  *blog.Post
	Owned bool
}

// Post shows one post: GET /posts/{post_id}.
func (s *Site) Post(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PageID(r, "post_id", blog.ErrPostNotFound)
	if err != nil {
		return err
	}
	p, err := s.app.Post(r.Context(), id)
	if err != nil {
		return err
	}
	author := p.Author
	return s.render(w, r, c, http.StatusOK, "post", view{Title: p.Title, Meta: meta{
		Description: p.Excerpt, Type: "article", Canonical: true, Author: &author, Published: p.DatePosted, Modified: p.UpdatedAt,
	}, Data: postView{
		Post: p, Owned: c != nil && c.User.ID == p.AuthorID,
	}})
}

// postFormView is the form that writes a post, new (Post is nil) or not,
// and the preview of its content, if asked for.
type postFormView struct {
	Post    *blog.Post
	Preview *blog.Post
}

// NewPost shows the form for a new post: GET /posts/new, unless the
// caller may not write (app.MayWrite).
func (s *Site) NewPost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	if err := s.app.MayWrite(c); err != nil {
		return err
	}
	return s.render(w, r, c, http.StatusOK, "postform", view{Title: "New post", Data: postFormView{}})
}

// CreatePost publishes a post: POST /posts/new, then shows it.
func (s *Site) CreatePost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	p, err := s.app.CreatePost(r.Context(), c, httpx.ReadPostInput(httpx.NewFormFields(r.PostForm), true))
	if status, f, ok := formFailureOf("post", err, r.PostForm); ok {
		return s.render(w, r, c, status, "postform", view{Title: "New post", Form: f, Data: postFormView{}})
	}
	if err != nil {
		return err
	}
	return s.done(w, r, fmt.Sprintf("/posts/%d", p.ID), "post-published")
}

// EditPost shows the form that changes a post: GET /posts/{post_id}/edit,
// unless the caller may not write.
func (s *Site) EditPost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PageID(r, "post_id", blog.ErrPostNotFound)
	if err != nil {
		return err
	}
	p, err := s.app.EditablePost(r.Context(), c, id)
	if err == nil {
		err = s.app.MayWrite(c)
	}
	if err != nil {
		return err
	}
	f := &form{Values: url.Values{"title": {p.Title}, "content": {p.Content}}}
	return s.render(w, r, c, http.StatusOK, "postform", view{Title: "Edit post", Form: f, Data: postFormView{Post: p}})
}

// UpdatePost changes a post: POST /posts/{post_id}/edit, then shows it.
func (s *Site) UpdatePost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PageID(r, "post_id", blog.ErrPostNotFound)
	if err != nil {
		return err
	}
	p, err := s.app.UpdatePost(r.Context(), c, id, httpx.ReadPostInput(httpx.NewFormFields(r.PostForm), true))
	if status, f, ok := formFailureOf("post", err, r.PostForm); ok {
		return s.render(w, r, c, status, "postform", view{Title: "Edit post", Form: f, Data: postFormView{Post: &blog.Post{ID: id}}})
	}
	if err != nil {
		return err
	}
	return s.done(w, r, fmt.Sprintf("/posts/%d", p.ID), "post-saved")
}

// DeletePost deletes a post: POST /posts/{post_id}/delete, then shows
// the author's remaining posts.
func (s *Site) DeletePost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PageID(r, "post_id", blog.ErrPostNotFound)
	if err != nil {
		return err
	}
	if err := s.app.DeletePost(r.Context(), c, id); err != nil {
		return err
	}
	return s.done(w, r, fmt.Sprintf("/users/%d/posts", c.User.ID), "post-deleted")
}
