package api

import (
	"net/http"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// Two-factor login with an authenticator app (app.StartTOTP and the rest).

type totpEnrolment struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
}

type recoveryCodes struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// StartTOTP starts turning on two-factor login: POST /api/users/me/totp.
// The answer holds the secret for the authenticator app; logins ask for
// codes once POST /api/users/me/totp/confirm has confirmed it.
func (a *API) StartTOTP(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	e, err := a.app.StartTOTP(r.Context(), c)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, totpEnrolment{Secret: e.Secret, OTPAuthURI: e.URI})
	return nil
}

// ConfirmTOTP turns two-factor login on with the password and a first
// code from the app, and answers with the recovery codes, shown this
// once: POST /api/users/me/totp/confirm with {current_password, code}.
func (a *API) ConfirmTOTP(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	body, err := httpx.DecodeJSON(w, r)
	if err != nil {
		return err
	}
	codes, err := a.app.ConfirmTOTP(r.Context(), c, httpx.ReadTOTPConfirm(body))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, recoveryCodes{codes})
	return nil
}

// DisableTOTP turns two-factor login off: DELETE /api/users/me/totp with
// {current_password, code}.
func (a *API) DisableTOTP(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	body, err := httpx.DecodeJSON(w, r)
	if err != nil {
		return err
	}
	if err := a.app.DisableTOTP(r.Context(), c, httpx.ReadTOTPDisable(body)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
