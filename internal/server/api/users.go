package api

import (
	"net/http"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// Register creates an account: POST /api/users.
func (a *API) Register(w http.ResponseWriter, r *http.Request) error {
	if err := a.clients.Allow(r, a.limits.Registrations); err != nil {
		return err
	}
	body, err := httpx.DecodeJSON(w, r)
	if err != nil {
		return err
	}
	u, err := a.app.Register(r.Context(), httpx.ReadRegistration(body))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, privateUser(u))
	return nil
}

// Me returns the caller's own account: GET /api/users/me.
func (a *API) Me(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	totp, err := a.app.TOTPEnabled(r.Context(), c.User.ID)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, me{userPrivate: privateUser(c.User), TOTPEnabled: totp})
	return nil
}

// User returns a user's public profile: GET /api/users/{user_id}.
func (a *API) User(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "user_id")
	if err != nil {
		return err
	}
	u, err := a.app.User(r.Context(), id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, publicUser(u))
	return nil
}

// PatchUser changes any of the caller's username and email:
// PATCH /api/users/{user_id}. An email change needs the current password.
func (a *API) PatchUser(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	return a.changeAccount(w, r, c, false)
}

// PutUser is the tutorial's full update: PUT /api/users/{user_id} with
// username and email, and optionally a new password. Changing the email
// or the password needs the current password.
func (a *API) PutUser(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	return a.changeAccount(w, r, c, true)
}

func (a *API) changeAccount(w http.ResponseWriter, r *http.Request, c *app.Caller, full bool) error {
	id, err := httpx.PathID(r, "user_id")
	if err != nil {
		return err
	}
	body, err := httpx.DecodeJSON(w, r)
	if err != nil {
		return err
	}
	var in app.AccountChange
	if !full {
		in = httpx.ReadAccountChange(body)
	} else {
		in = app.AccountChange{
			Username:        httpx.RequiredPtr(body, "username"),
			Email:           httpx.RequiredPtr(body, "email"),
			Password:        httpx.Optional(body, "password"),
			CurrentPassword: httpx.Optional(body, "current_password"),
		}
		in.Problems = body.Problems()
	}
	u, err := a.app.ChangeAccount(r.Context(), c, id, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, privateUser(u))
	return nil
}

// DeleteUser deletes the caller's account with its posts, picture and
// sessions: DELETE /api/users/{user_id}.
func (a *API) DeleteUser(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PathID(r, "user_id")
	if err != nil {
		return err
	}
	if err := a.app.DeleteAccount(r.Context(), c, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// UserPosts lists a user's posts, newest first, or with q those that
// match a search: GET /api/users/{user_id}/posts.
func (a *API) UserPosts(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "user_id")
	if err != nil {
		return err
	}
	if search, ok := httpx.SearchRequest(r); ok {
		return a.searchPosts(w, r, id, search)
	}
	req, err := httpx.PageRequest(r)
	if err != nil {
		return err
	}
	page, err := a.app.Posts(r.Context(), id, req)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, pageOf(page))
	return nil
}
