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
	return s.render(w, r, c, http.StatusOK, "posts", view{Title: "Latest posts", Meta: meta{
		Description: "The newest posts on " + siteName + ".",
	}, Data: postsView{
		Posts: page.Posts, Total: page.Total, Next: nextPage("/", page),
	}})
}

// UserPosts shows one author's posts: GET /users/{user_id}/posts.
func (s *Site) UserPosts(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PathID(r, "user_id")
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
	return s.render(w, r, c, http.StatusOK, "posts", view{Title: "Posts by " + author.Username, Meta: meta{
		Description: "Posts by " + author.Username + " on " + siteName + ", newest first.", Type: "profile", Author: author,
	}, Data: postsView{
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
	id, err := httpx.PathID(r, "post_id")
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
	if status, f, ok := formFailure(err, r.PostForm); ok {
		return s.render(w, r, c, status, "postform", view{Title: "New post", Form: f, Data: postFormView{}})
	}
	if err != nil {
		return err
	}
	return seeOther(w, r, fmt.Sprintf("/posts/%d", p.ID))
}

// EditPost shows the form that changes a post: GET /posts/{post_id}/edit,
// unless the caller may not write.
func (s *Site) EditPost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PathID(r, "post_id")
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
	id, err := httpx.PathID(r, "post_id")
	if err != nil {
		return err
	}
	p, err := s.app.UpdatePost(r.Context(), c, id, httpx.ReadPostInput(httpx.NewFormFields(r.PostForm), true))
	if status, f, ok := formFailure(err, r.PostForm); ok {
		return s.render(w, r, c, status, "postform", view{Title: "Edit post", Form: f, Data: postFormView{Post: &blog.Post{ID: id}}})
	}
	if err != nil {
		return err
	}
	return seeOther(w, r, fmt.Sprintf("/posts/%d", p.ID))
}

// DeletePost deletes a post: POST /posts/{post_id}/delete, then shows
// the author's remaining posts.
func (s *Site) DeletePost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PathID(r, "post_id")
	if err != nil {
		return err
	}
	if err := s.app.DeletePost(r.Context(), c, id); err != nil {
		return err
	}
	return seeOther(w, r, fmt.Sprintf("/users/%d/posts", c.User.ID))
}
