package api

import (
	"net/http"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// VerifyEmail confirms the address a verification link was sent to:
// POST /api/users/verify-email with {token}. No login is needed: the
// token is the proof.
func (a *API) VerifyEmail(w http.ResponseWriter, r *http.Request) error {
	body, err := httpx.DecodeJSON(w, r)
	if err != nil {
		return err
	}
	u, err := a.app.VerifyEmail(r.Context(), httpx.ReadEmailConfirmation(body))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, detail{"Email address verified: " + u.Email})
	return nil
}

// SendVerification mails the caller a new verification link:
// POST /api/users/me/verify-email, at most once a minute (429 with
// Retry-After sooner).
func (a *API) SendVerification(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	to, err := a.app.SendVerification(r.Context(), c)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusAccepted, detail{"A verification link is on its way to " + to})
	return nil
}
