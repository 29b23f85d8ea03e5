package server

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/quill-blog/quill/internal/blog"
)

// postsView is a page of posts: the home page or one author's posts.
type postsView struct {
	Author *blog.User // nil on the home page
	Posts  []blog.Post
	Total  int64
	Next   string // the URL of the next page, "" on the last
}

// pagePosts shows everyone's posts, newest first: GET /. The "Older
// posts" link pages by cursor; a small script loads it in place.
func (s *Server) pagePosts(w http.ResponseWriter, r *http.Request, c *caller) error {
	req, err := pageRequest(r)
	if err != nil {
		return err
	}
	page, err := s.store.Posts(r.Context(), 0, req)
	if err != nil {
		return err
	}
	return s.render(w, r, c, http.StatusOK, "posts", view{Title: "Latest posts", Data: postsView{
		Posts: page.Posts, Total: page.Total, Next: nextPage("/", page),
	}})
}

// pageUserPosts shows one author's posts: GET /users/{user_id}/posts.
func (s *Server) pageUserPosts(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	req, err := pageRequest(r)
	if err != nil {
		return err
	}
	author, err := s.store.User(r.Context(), id)
	if err != nil {
		return err
	}
	page, err := s.store.Posts(r.Context(), id, req)
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

// pagePost shows one post: GET /posts/{post_id}.
func (s *Server) pagePost(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "post_id")
	if err != nil {
		return err
	}
	p, err := s.store.Post(r.Context(), id)
	if err != nil {
		return err
	}
	return s.render(w, r, c, http.StatusOK, "post", view{Title: p.Title, Data: postView{
		Post: p, Owned: c != nil && c.user.ID == p.AuthorID,
	}})
}

// postFormView is the form that writes a post, new (Post is nil) or not.
type postFormView struct {
	Post *blog.Post
}

// pageNewPost shows the form for a new post: GET /posts/new.
func (s *Server) pageNewPost(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.render(w, r, c, http.StatusOK, "postform", view{Title: "New post", Data: postFormView{}})
}

// pageCreatePost publishes a post: POST /posts/new, then shows it.
func (s *Server) pageCreatePost(w http.ResponseWriter, r *http.Request, c *caller) error {
	p := &blog.Post{AuthorID: c.user.ID}
	err := s.writePost(r.Context(), p, &formFields{values: r.PostForm}, true)
	if status, f, ok := formFailure(err, r.PostForm); ok {
		return s.render(w, r, c, status, "postform", view{Title: "New post", Form: f, Data: postFormView{}})
	}
	if err != nil {
		return err
	}
	return seeOther(w, r, fmt.Sprintf("/posts/%d", p.ID))
}

// pageEditPost shows the form that changes a post: GET /posts/{post_id}/edit.
func (s *Server) pageEditPost(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := s.ownPost(r, *c, errNotYourPost)
	if err != nil {
		return err
	}
	f := &form{Values: url.Values{"title": {p.Title}, "content": {p.Content}}}
	return s.render(w, r, c, http.StatusOK, "postform", view{Title: "Edit post", Form: f, Data: postFormView{Post: p}})
}

// pageUpdatePost changes a post: POST /posts/{post_id}/edit, then shows it.
func (s *Server) pageUpdatePost(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := s.ownPost(r, *c, errNotYourPost)
	if err != nil {
		return err
	}
	err = s.writePost(r.Context(), p, &formFields{values: r.PostForm}, true)
	if status, f, ok := formFailure(err, r.PostForm); ok {
		return s.render(w, r, c, status, "postform", view{Title: "Edit post", Form: f, Data: postFormView{Post: p}})
	}
	if err != nil {
		return err
	}
	return seeOther(w, r, fmt.Sprintf("/posts/%d", p.ID))
}

// pageDeletePost deletes a post: POST /posts/{post_id}/delete, then shows
// the author's remaining posts.
func (s *Server) pageDeletePost(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := s.ownPost(r, *c, errNotYourPostDelete)
	if err != nil {
		return err
	}
	if err := s.store.DeletePost(r.Context(), p.ID); err != nil {
		return err
	}
	return seeOther(w, r, fmt.Sprintf("/users/%d/posts", c.user.ID))
}
