package api

import (
	"net/http"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// SetPicture sets the caller's profile picture from the multipart field
// "file": PATCH /api/users/{user_id}/picture.
func (a *API) SetPicture(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PathID(r, "user_id")
	if err != nil {
		return err
	}
	data, _, err := httpx.ReadPictureUpload(w, r)
	if err != nil {
		return err
	}
	u, err := a.app.SetPicture(r.Context(), c, id, data)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, privateUser(u))
	return nil
}

// DeletePicture puts the caller back to the default avatar:
// DELETE /api/users/{user_id}/picture.
func (a *API) DeletePicture(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PathID(r, "user_id")
	if err != nil {
		return err
	}
	u, err := a.app.DeletePicture(r.Context(), c, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, privateUser(u))
	return nil
}
