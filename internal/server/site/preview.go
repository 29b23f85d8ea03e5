package site

import (
	"net/http"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// PreviewNewPost shows the new-post form again as it was sent, with its
// content rendered below it; nothing is saved: POST /posts/preview.
func (s *Site) PreviewNewPost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	return s.preview(w, r, c, 0)
}

// PreviewPost is PreviewNewPost for the form that edits a post:
// POST /posts/{post_id}/preview.
func (s *Site) PreviewPost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PageID(r, "post_id", blog.ErrPostNotFound)
	if err != nil {
		return err
	}
	return s.preview(w, r, c, id)
}

// preview renders the post form, for post id (0: a new one), with the
// preview of its content, or with the content's errors.
func (s *Site) preview(w http.ResponseWriter, r *http.Request, c *app.Caller, id int64) error {
	title, data := "New post", postFormView{}
	if id != 0 {
		title, data.Post = "Edit post", &blog.Post{ID: id}
	}
	p, err := s.app.PreviewPost(r.Context(), c, id, r.PostForm.Get("content"))
	if status, f, ok := formFailureOf("post", err, r.PostForm); ok {
		return s.render(w, r, c, status, "postform", view{Title: title, Form: f, Data: data})
	}
	if err != nil {
		return err
	}
	p.Title = r.PostForm.Get("title")
	data.Preview = p
	return s.render(w, r, c, http.StatusOK, "postform", view{Title: title, Form: &form{Values: r.PostForm}, Data: data})
}
