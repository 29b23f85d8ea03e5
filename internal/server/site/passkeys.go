package site

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/passkey"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// Passkeys on the pages. A ceremony needs the browser's WebAuthn API, so
// web/static/js/passkeys.js drives it: it posts the form's CSRF token (and
// the current password, or the username typed) to an options route, which
// answers JSON, hands the options to navigator.credentials, then puts the
// ceremony id and the browser's answer in hidden fields and submits the
// page's form, an ordinary form post that redirects. Listing, renaming
// and removing passkeys are plain forms.

// passkeyForm is the account page's form that adds a passkey;
// passkeyListForm is where the list's rename and remove failures show.
const (
	passkeyForm     = "passkey"
	passkeyListForm = "passkeys"
)

// passkeyView is one of the caller's passkeys on the account page.
type passkeyView struct {
	blog.Passkey
	Provider string // "" when unknown
}

// passkeyViews lists the caller's passkeys for the account page.
func (s *Site) passkeyViews(r *http.Request, c *app.Caller) ([]passkeyView, error) {
	keys, err := s.app.Passkeys(r.Context(), c)
	if err != nil {
		return nil, err
	}
	out := make([]passkeyView, len(keys))
	for i, p := range keys {
		out[i] = passkeyView{Passkey: p, Provider: passkey.ProviderName(p.AAGUID)}
	}
	return out, nil
}

// writeOptions answers an options route with the ceremony's first step,
// or its error as JSON ({"detail", "code"}) in the pages' words.
func (s *Site) writeOptions(w http.ResponseWriter, r *http.Request, o *app.PasskeyOptions, err error) error {
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		// The script shows detail as it is: the pages' words, not the API's.
		e := httpx.Classify(s.logger, r, err)
		status := httpx.Status(e.Kind)
		msg := codeWords(e.Code, e.Message, status)
		if e.Kind == blog.Unprocessable && len(e.Problems) > 0 {
			msg = problemWords("passkey", e.Problems[0], "")
		}
		httpx.SetRetryAfter(w.Header(), e.RetryAfter)
		httpx.WriteJSON(w, status, struct {
			Detail string `json:"detail"`
			Code   string `json:"code"`
		}{msg, e.Code})
		return nil
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		CeremonyID string `json:"ceremony_id"`
		Options    any    `json:"options"`
	}{o.CeremonyID, o.Options})
	return nil
}

// PasskeyOptions begins adding a passkey, given the current password, and
// answers JSON for the script: POST /account/passkeys/options.
func (s *Site) PasskeyOptions(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	o, err := s.app.BeginPasskeyRegistration(r.Context(), c, httpx.ReadPasskeyStart(httpx.NewFormFields(r.PostForm)))
	return s.writeOptions(w, r, o, err)
}

// AddPasskey finishes adding a passkey with the browser's answer the
// script put in the form: POST /account/passkeys.
func (s *Site) AddPasskey(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	if r.PostForm.Get("credential") == "" {
		// The form was sent without the script: no passkey was made.
		f := &form{Values: url.Values{"name": r.PostForm["name"]}, Errors: map[string]string{
			"": "No passkey was made: adding one needs JavaScript and a browser that supports passkeys.",
		}}
		return s.renderAccount(w, r, c, http.StatusBadRequest, passkeyForm, f)
	}
	_, err := s.app.FinishPasskeyRegistration(r.Context(), c, httpx.ReadNewPasskey(httpx.NewFormFields(r.PostForm)))
	if status, f, ok := passkeyFailure(err, url.Values{"name": r.PostForm["name"]}); ok {
		return s.renderAccount(w, r, c, status, passkeyForm, f)
	}
	if err != nil {
		return err
	}
	return s.done(w, r, "/account", "passkey-added")
}

// RenamePasskey renames one of the caller's passkeys as PATCH
// /api/users/me/passkeys/{id} does: POST /account/passkeys/{passkey_id}/rename.
func (s *Site) RenamePasskey(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PathID(r, "passkey_id")
	if err != nil {
		return blog.ErrPasskeyNotFound
	}
	_, err = s.app.RenamePasskey(r.Context(), c, id, httpx.ReadPasskeyRename(httpx.NewFormFields(r.PostForm)))
	if status, f, ok := passkeyFailure(err, nil); ok {
		return s.renderAccount(w, r, c, status, passkeyListForm, f)
	}
	if err != nil {
		return err
	}
	return s.done(w, r, "/account", "passkey-renamed")
}

// RemovePasskey removes one of the caller's passkeys as DELETE
// /api/users/me/passkeys/{id} does: POST /account/passkeys/{passkey_id}/delete.
func (s *Site) RemovePasskey(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PathID(r, "passkey_id")
	if err != nil {
		return blog.ErrPasskeyNotFound
	}
	if err := s.app.RemovePasskey(r.Context(), c, id); err != nil {
		return err
	}
	return s.done(w, r, "/account", "passkey-removed")
}

// PasskeyLoginOptions begins a login with a passkey, for the username
// typed if any, and answers JSON for the script: POST
// /login/passkey/options. It counts against the client's login
// allowance, as the API's does.
func (s *Site) PasskeyLoginOptions(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	var o *app.PasskeyOptions
	err := s.clients.Allow(r, s.limits.Logins)
	if err == nil {
		o, err = s.app.BeginPasskeyLogin(r.Context(), httpx.ReadPasskeyLoginStart(httpx.NewFormFields(r.PostForm)))
	}
	return s.writeOptions(w, r, o, err)
}

// PasskeyLogin logs in with the browser's answer the script put in the
// form, as POST /login does with a password: POST /login/passkey.
func (s *Site) PasskeyLogin(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	next := localPath(r.PostForm.Get("next"))
	login, err := s.app.FinishPasskeyLogin(r.Context(), httpx.ReadPasskeyAssertion(httpx.NewFormFields(r.PostForm)), s.sessionStart(r, c))
	if status, f, ok := passkeyFailure(err, nil); ok {
		return s.render(w, r, nil, status, "login", view{Title: "Log in", Data: loginView{Next: next, Passkey: f}})
	}
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, login)
	return seeOther(w, r, next)
}

// passkeyFailure is formFailure for the passkey forms, whose failures
// (but for a name's) are about the ceremony as a whole, a refused login
// included.
func passkeyFailure(err error, values url.Values) (int, *form, bool) {
	var e *blog.Error
	if !errors.As(err, &e) {
		return 0, nil, false
	}
	f := &form{Values: values, Errors: map[string]string{}}
	switch {
	case e.Kind == blog.Unprocessable:
		for _, p := range e.Problems {
			if len(p.Loc) == 2 && p.Loc[1] == "name" {
				f.Errors["name"] = problemWords("passkey", p, "")
			} else {
				f.Errors[""] = "The browser's answer was incomplete; try again."
			}
		}
	case e.Kind == blog.Invalid, e.Kind == blog.TooManyRequests, e.Kind == blog.Unavailable, e.Code == blog.ErrPasskeyRefused.Code:
		f.Errors[""] = codeWords(e.Code, e.Message, httpx.Status(e.Kind))
	default:
		return 0, nil, false
	}
	return httpx.Status(e.Kind), f, true
}

// RelatedOrigins serves the document browsers read to let the origins
// that are neither the relying party ID nor under it use its passkeys:
// GET /.well-known/webauthn. It is 404 when no origin needs it.
func (s *Site) RelatedOrigins(w http.ResponseWriter, r *http.Request) error {
	doc := s.app.PasskeyRelatedOrigins()
	if doc == nil {
		return httpx.ErrNotFound
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(doc)
	return nil
}
