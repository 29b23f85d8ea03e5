package site

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// postsView is a page of posts: the home page or one author's posts.
type postsView struct {
	Author *blog.User // nil on the home page
	Posts  []blog.Post
	Total  int64
	Next   string // the URL of the next page, "" on the last
}

// Home shows everyone's posts, newest first: GET /. The "Older
// posts" link pages by cursor; a small script loads it in place.
func (s *Site) Home(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	req, err := httpx.PageRequest(r)
	if err != nil {
		return err
	}
	page, err := s.app.Posts(r.Context(), 0, req)
	if err != nil {
		return err
	}
	return s.render(w, r, c, http.StatusOK, "posts", view{Title: "Latest posts", Data: postsView{
		Posts: page.Posts, Total: page.Total, Next: nextPage("/", page),
	}})
}

// UserPosts shows one author's posts: GET /users/{user_id}/posts.
func (s *Site) UserPosts(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := pathID(r, "user_id", blog.ErrUserNotFound)
	if err != nil {
		return err
	}
	req, err := httpx.PageRequest(r)
	if err != nil {
		return err
	}
	author, err := s.app.User(r.Context(), id)
	if err != nil {
		return err
	}
	page, err := s.app.Posts(r.Context(), id, req)
	if err != nil {
		return err
	}
	return s.render(w, r, c, http.StatusOK, "posts", view{Title: "Posts by " + author.Username, Data: postsView{
		Author: author, Posts: page.Posts, Total: page.Total, Next: nextPage(r.URL.Path, page),
	}})
}

// nextPage is the link to the page after p, or "".
func nextPage(path string, p *blog.PostPage) string {
	if p.NextCursor == nil {
		return ""
	}
	return path + "?" + url.Values{"cursor": {p.NextCursor.String()}, "limit": {fmt.Sprint(p.Limit)}}.Encode()
}

// postView is one post, and whether the viewer may change it.
type postView struct {
	Post  *blog.Post
	Owned bool
}

// Post shows one post: GET /posts/{post_id}.
func (s *Site) Post(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := pathID(r, "post_id", blog.ErrPostNotFound)
	if err != nil {
		return err
	}
	p, err := s.app.Post(r.Context(), id)
	if err != nil {
		return err
	}
	return s.render(w, r, c, http.StatusOK, "post", view{Title: p.Title, Data: postView{
		Post: p, Owned: c != nil && c.User.ID == p.AuthorID,
	}})
}

// postFormView is the form that writes a post, new (Post is nil) or not.
type postFormView struct {
	Post *blog.Post
}

// NewPost shows the form for a new post: GET /posts/new.
func (s *Site) NewPost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	return s.render(w, r, c, http.StatusOK, "postform", view{Title: "New post", Data: postFormView{}})
}

// CreatePost publishes a post: POST /posts/new, then shows it.
func (s *Site) CreatePost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	p, err := s.app.CreatePost(r.Context(), c, httpx.ReadPostInput(httpx.NewFormFields(r.PostForm), true))
	if status, f, ok := formFailure("post", err, r.PostForm); ok {
		return s.render(w, r, c, status, "postform", view{Title: "New post", Form: f, Data: postFormView{}})
	}
	if err != nil {
		return err
	}
	return s.done(w, r, fmt.Sprintf("/posts/%d", p.ID), "post-published")
}

// EditPost shows the form that changes a post: GET /posts/{post_id}/edit.
func (s *Site) EditPost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := pathID(r, "post_id", blog.ErrPostNotFound)
	if err != nil {
		return err
	}
	p, err := s.app.EditablePost(r.Context(), c, id)
	if err != nil {
		return err
	}
	f := &form{Values: url.Values{"title": {p.Title}, "content": {p.Content}}}
	return s.render(w, r, c, http.StatusOK, "postform", view{Title: "Edit post", Form: f, Data: postFormView{Post: p}})
}

// UpdatePost changes a post: POST /posts/{post_id}/edit, then shows it.
func (s *Site) UpdatePost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := pathID(r, "post_id", blog.ErrPostNotFound)
	if err != nil {
		return err
	}
	p, err := s.app.UpdatePost(r.Context(), c, id, httpx.ReadPostInput(httpx.NewFormFields(r.PostForm), true))
	if status, f, ok := formFailure("post", err, r.PostForm); ok {
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
	id, err := pathID(r, "post_id", blog.ErrPostNotFound)
	if err != nil {
		return err
	}
	if err := s.app.DeletePost(r.Context(), c, id); err != nil {
		return err
	}
	return s.done(w, r, fmt.Sprintf("/users/%d/posts", c.User.ID), "post-deleted")
}

// pathID reads the path value name as a page's id: a positive integer in
// decimal digits. Anything else names no page: notFound, a 404, where the
// API would answer 422 about the parameter.
func pathID(r *http.Request, name string, notFound error) (int64, error) {
	raw := r.PathValue(name)
	if raw == "" || strings.IndexFunc(raw, func(c rune) bool { return c < '0' || c > '9' }) >= 0 {
		return 0, notFound
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n <= 0 {
		return 0, notFound
	}
	return n, nil
}
