package api

import (
	"net/http"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// ChangePassword sets a new password for the caller, who must give the
// current one: PATCH /api/users/me/password.
func (a *API) ChangePassword(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	body, err := httpx.DecodeJSON(w, r)
	if err != nil {
		return err
	}
	if err := a.app.ChangePassword(r.Context(), c, httpx.ReadPasswordChange(body)); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, detail{"Password changed successfully"})
	return nil
}

// ForgotPassword asks for a password reset mail:
// POST /api/users/forgot-password with {email}. The answer is 202 and the
// same whether or not an account has that address (app.RequestPasswordReset).
func (a *API) ForgotPassword(w http.ResponseWriter, r *http.Request) error {
	if err := a.clients.Allow(r, a.limits.ResetRequests); err != nil {
		return err
	}
	body, err := httpx.DecodeJSON(w, r)
	if err != nil {
		return err
	}
	if err := a.app.RequestPasswordReset(r.Context(), httpx.ReadResetRequest(body)); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusAccepted, detail{app.ForgotAnswer})
	return nil
}

// ResetPassword sets a new password with a reset token from a mail:
// POST /api/users/reset-password with {token, new_password}.
func (a *API) ResetPassword(w http.ResponseWriter, r *http.Request) error {
	body, err := httpx.DecodeJSON(w, r)
	if err != nil {
		return err
	}
	if err := a.app.ResetPassword(r.Context(), httpx.ReadPasswordReset(body)); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, detail{"Password has been reset"})
	return nil
}
