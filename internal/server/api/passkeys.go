package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/passkey"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// passkeyResponse is a passkey as the API shows it: never its key.
type passkeyResponse struct {
	ID           int64   `json:"id"`
	Name         string  `json:"name"`
	CredentialID string  `json:"credential_id"`
	Provider     *string `json:"provider"`
	Synced       bool    `json:"synced"`
	CreatedAt    string  `json:"created_at"`
	LastUsedAt   *string `json:"last_used_at"`
}

func passkeyOf(p *blog.Passkey) passkeyResponse {
	out := passkeyResponse{
		ID:           p.ID,
		Name:         p.Name,
		CredentialID: base64.RawURLEncoding.EncodeToString(p.CredentialID),
		Synced:       p.Synced(),
		CreatedAt:    timestamp(p.CreatedAt),
	}
	if name := passkey.ProviderName(p.AAGUID); name != "" {
		out.Provider = &name
	}
	if !p.LastUsedAt.IsZero() {
		t := timestamp(p.LastUsedAt)
		out.LastUsedAt = &t
	}
	return out
}

// ceremonyResponse is the first step of a passkey ceremony.
type ceremonyResponse struct {
	CeremonyID string          `json:"ceremony_id"`
	Options    json.RawMessage `json:"options"`
	ExpiresAt  string          `json:"expires_at"`
}

func writeCeremony(w http.ResponseWriter, o *app.PasskeyOptions) error {
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, ceremonyResponse{CeremonyID: o.CeremonyID, Options: o.Options, ExpiresAt: timestamp(o.ExpiresAt)})
	return nil
}

// BeginPasskeyRegistration begins adding a passkey, given the current
// password: POST /api/users/me/passkeys/registration.
func (a *API) BeginPasskeyRegistration(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	body, err := httpx.DecodeJSON(w, r)
	if err != nil {
		return err
	}
	o, err := a.app.BeginPasskeyRegistration(r.Context(), c, httpx.ReadPasskeyStart(body))
	if err != nil {
		return err
	}
	return writeCeremony(w, o)
}

// CreatePasskey finishes adding a passkey: POST /api/users/me/passkeys.
func (a *API) CreatePasskey(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	body, err := httpx.DecodeJSON(w, r)
	if err != nil {
		return err
	}
	p, err := a.app.FinishPasskeyRegistration(r.Context(), c, httpx.ReadNewPasskey(body))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, passkeyOf(p))
	return nil
}

// Passkeys lists the caller's passkeys, oldest first: GET
// /api/users/me/passkeys.
func (a *API) Passkeys(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	keys, err := a.app.Passkeys(r.Context(), c)
	if err != nil {
		return err
	}
	out := make([]passkeyResponse, len(keys))
	for i := range keys {
		out[i] = passkeyOf(&keys[i])
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// RenamePasskey renames one of the caller's passkeys: PATCH
// /api/users/me/passkeys/{passkey_id}.
func (a *API) RenamePasskey(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PathID(r, "passkey_id")
	if err != nil {
		return err
	}
	body, err := httpx.DecodeJSON(w, r)
	if err != nil {
		return err
	}
	p, err := a.app.RenamePasskey(r.Context(), c, id, httpx.ReadPasskeyRename(body))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, passkeyOf(p))
	return nil
}

// DeletePasskey removes one of the caller's passkeys: DELETE
// /api/users/me/passkeys/{passkey_id}.
func (a *API) DeletePasskey(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id, err := httpx.PathID(r, "passkey_id")
	if err != nil {
		return err
	}
	if err := a.app.RemovePasskey(r.Context(), c, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// BeginPasskeyLogin begins a login with a passkey, for the account named
// by username if the body has one: POST /api/users/passkey-login. It
// counts against the client's login allowance, as a password login does.
// An empty body is an empty object.
func (a *API) BeginPasskeyLogin(w http.ResponseWriter, r *http.Request) error {
	if err := a.clients.Allow(r, a.limits.Logins); err != nil {
		return err
	}
	var in app.PasskeyLoginStart
	if r.ContentLength != 0 {
		body, err := httpx.DecodeJSON(w, r)
		if err != nil {
			return err
		}
		in = httpx.ReadPasskeyLoginStart(body)
	}
	o, err := a.app.BeginPasskeyLogin(r.Context(), in)
	if err != nil {
		return err
	}
	return writeCeremony(w, o)
}

// FinishPasskeyLogin checks the browser's answer and answers with the new
// session's tokens, as the password grant does: POST
// /api/users/passkey-login/finish.
func (a *API) FinishPasskeyLogin(w http.ResponseWriter, r *http.Request) error {
	body, err := httpx.DecodeJSON(w, r)
	if err != nil {
		return err
	}
	login, err := a.app.FinishPasskeyLogin(r.Context(), httpx.ReadPasskeyAssertion(body), app.SessionStart{Client: a.client(r)})
	if err != nil {
		return err
	}
	return a.writeTokens(w, &login.Tokens)
}
