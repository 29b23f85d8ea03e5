package api

import (
	"net/http"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// Posts lists everyone's posts, newest first, or with q those that
// match a search: GET /api/posts.
func (a *API) Posts(w http.ResponseWriter, r *http.Request) error {
	if search, ok := httpx.SearchRequest(r); ok {
		return a.searchPosts(w, r, 0, search)
	}
	req, err := httpx.PageRequest(r)
	if err != nil {
		return err
	}
	page, err := a.app.Posts(r.Context(), 0, req)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, pageOf(page))
	return nil
}

// Post returns one post: GET /api/posts/{post_id}.
func (a *API) Post(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "post_id")
	if err != nil {
		return err
	}
	p, err := a.app.Post(r.Context(), id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, postOf(p))
	return nil
}

// CreatePost publishes a post by the caller: POST /api/posts.
func (a *API) CreatePost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	body, err := httpx.DecodeJSON(w, r)
	if err != nil {
		return err
	}
	p, err := a.app.CreatePost(r.Context(), c, httpx.ReadPostInput(body, true))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, postOf(p))
	return nil
}

// PutPost replaces a post's title and content: PUT /api/posts/{post_id}.
func (a *API) PutPost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	return a.updatePost(w, r, c, true)
}

// PatchPost changes any of a post's title and content:
// PATCH /api/posts/{post_id}.
func (a *API) PatchPost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	return a.updatePost(w, r, c, false)
}

func (a *API) updatePost(w http.ResponseWriter, r *http.Request, c *app.Caller, full bool) error {
	id, err := httpx.PathID(r, "post_id")
	if err != nil {
		return err
	}
	body, err := httpx.DecodeJSON(w, r)
	if err != nil {
		return err
	}
	p, err := a.app.UpdatePost(r.Context(), c, id, httpx.ReadPostInput(body, full))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, postOf(p))
	return nil
}

// DeletePost deletes a post: DELETE /api/posts/{post_id}.
func (a *API) DeletePost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PathID(r, "post_id")
	if err != nil {
		return err
	}
	if err := a.app.DeletePost(r.Context(), c, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
