package server

import (
	"context"
	"net/http"

	"github.com/quill-blog/quill/internal/blog"
)

var (
	errNotYourPost       = blog.Forbid("Not authorized to update this post")
	errNotYourPostDelete = blog.Forbid("Not authorized to delete this post")
)

// handlePosts lists everyone's posts, newest first: GET /api/posts.
func (s *Server) handlePosts(w http.ResponseWriter, r *http.Request) error {
	req, err := pageRequest(r)
	if err != nil {
		return err
	}
	page, err := s.store.Posts(r.Context(), 0, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(page))
	return nil
}

// handlePost returns one post: GET /api/posts/{post_id}.
func (s *Server) handlePost(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "post_id")
	if err != nil {
		return err
	}
	p, err := s.store.Post(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, postOf(p))
	return nil
}

// handleCreatePost publishes a post by the caller: POST /api/posts.
func (s *Server) handleCreatePost(w http.ResponseWriter, r *http.Request, c caller) error {
	body, err := decodeJSON(w, r)
	if err != nil {
		return err
	}
	p := &blog.Post{AuthorID: c.user.ID}
	if err := s.writePost(r.Context(), p, body, true); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, postOf(p))
	return nil
}

// handlePutPost replaces a post's title and content: PUT /api/posts/{post_id}.
func (s *Server) handlePutPost(w http.ResponseWriter, r *http.Request, c caller) error {
	return s.updatePost(w, r, c, true)
}

// handlePatchPost changes any of a post's title and content:
// PATCH /api/posts/{post_id}.
func (s *Server) handlePatchPost(w http.ResponseWriter, r *http.Request, c caller) error {
	return s.updatePost(w, r, c, false)
}

// updatePost is PUT (every field required) and PATCH (any field).
func (s *Server) updatePost(w http.ResponseWriter, r *http.Request, c caller, full bool) error {
	p, err := s.ownPost(r, c, errNotYourPost)
	if err != nil {
		return err
	}
	body, err := decodeJSON(w, r)
	if err != nil {
		return err
	}
	if err := s.writePost(r.Context(), p, body, full); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, postOf(p))
	return nil
}

// writePost checks the body's title and content (both required when full)
// and stores p with them: a new post when p.ID is 0, else an update. The
// API and the post form share it.
func (s *Server) writePost(ctx context.Context, p *blog.Post, body fields, full bool) error {
	v := body.validator()
	if title, ok := body.field("title", full); ok {
		p.Title = v.Title(title)
	}
	if content, ok := body.field("content", full); ok {
		p.Content = v.Content(content)
	}
	if err := v.Err(); err != nil {
		return err
	}
	if p.ID == 0 {
		return s.store.CreatePost(ctx, p)
	}
	return s.store.UpdatePost(ctx, p)
}

// handleDeletePost deletes a post: DELETE /api/posts/{post_id}.
func (s *Server) handleDeletePost(w http.ResponseWriter, r *http.Request, c caller) error {
	p, err := s.ownPost(r, c, errNotYourPostDelete)
	if err != nil {
		return err
	}
	if err := s.store.DeletePost(r.Context(), p.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ownPost loads the path's post and checks the caller wrote it.
func (s *Server) ownPost(r *http.Request, c caller, forbidden error) (*blog.Post, error) {
	id, err := pathID(r, "post_id")
	if err != nil {
		return nil, err
	}
	p, err := s.store.Post(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if p.AuthorID != c.user.ID {
		return nil, forbidden
	}
	return p, nil
}
