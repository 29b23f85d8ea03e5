package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// Token is the OAuth2 token endpoint: POST /api/users/token with a form
// body. grant_type=password (or none) logs in with a username or email
// and a password; grant_type=refresh_token renews the tokens of a session.
func (a *API) Token(w http.ResponseWriter, r *http.Request) error {
	form, err := httpx.ParseForm(w, r)
	if err != nil {
		return err
	}
	switch form.Get("grant_type") {
	case "", "password":
		return a.passwordGrant(w, r, form)
	case "refresh_token":
		return a.refreshGrant(w, r, form)
	default:
		return httpx.ErrUnsupportedGrant
	}
}

// passwordGrant logs in and answers with the new session's tokens.
func (a *API) passwordGrant(w http.ResponseWriter, r *http.Request, form url.Values) error {
	if err := a.clients.Allow(r, a.limits.Logins); err != nil {
		return err
	}
	login, err := a.app.LogIn(r.Context(), httpx.ReadCredentials(form), app.SessionStart{Client: a.client(r)})
	if err != nil {
		return err
	}
	return a.writeTokens(w, &login.Tokens)
}

// refreshGrant rotates a session's refresh token (app.Refresh).
func (a *API) refreshGrant(w http.ResponseWriter, r *http.Request, form url.Values) error {
	var v blog.Validator
	token := httpx.FormField(&v, form, "refresh_token")
	if err := v.Err(); err != nil {
		return err
	}
	tokens, err := a.app.Refresh(r.Context(), token)
	if err != nil {
		return err
	}
	return a.writeTokens(w, tokens)
}

// client describes where r came from, for the sessions list.
func (a *API) client(r *http.Request) app.Client {
	return app.Client{UserAgent: r.UserAgent(), IP: a.clients.IP(r)}
}

// writeTokens writes the token response, which must never be cached.
func (a *API) writeTokens(w http.ResponseWriter, t *app.Tokens) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	httpx.WriteJSON(w, http.StatusOK, tokenResponse{
		AccessToken:  t.Access,
		TokenType:    "bearer",
		ExpiresIn:    int64(t.AccessExpires.Sub(a.now()).Round(time.Second).Seconds()),
		RefreshToken: t.Refresh,
	})
	return nil
}

// Logout ends the caller's session: POST /api/users/logout.
func (a *API) Logout(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	if err := a.app.LogOut(r.Context(), c); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
