// Package api is quill's JSON API: the FastAPI blog tutorial's routes and
// quill's own, each a thin handler that reads the request, calls one use
// case of package app and writes its answer. Its routes are registered by
// package server; its contract is the OpenAPI document (package openapi).
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// Config holds what the API needs. Every field is required unless its
// comment says otherwise.
type Config struct {
	App     *app.App
	Logger  *slog.Logger
	Clients *httpx.Clients
	// Limits are the per-client allowances; optional: nil allows
	// everything.
	Limits *httpx.Allowances
	Now    func() time.Time // optional; time.Now
}

// API serves the JSON API. Its methods are the handlers package server
// routes to.
type API struct {
	app     *app.App
	logger  *slog.Logger
	clients *httpx.Clients
	limits  httpx.Allowances
	now     func() time.Time
}

// New returns the API.
func New(cfg Config) *API {
	a := &API{app: cfg.App, logger: cfg.Logger, clients: cfg.Clients, now: cfg.Now}
	if cfg.Limits != nil {
		a.limits = *cfg.Limits
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a
}

// Public adapts a handler anyone may call, rendering its error as JSON.
func (a *API) Public(h httpx.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			httpx.WriteError(a.logger, w, r, err)
		}
	})
}

// OAuth adapts the OAuth2 token endpoint, whose errors also carry OAuth2's
// error and error_description.
func (a *API) OAuth(h httpx.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			httpx.WriteOAuthError(a.logger, w, r, err)
		}
	})
}

// AuthedFunc is a handler that runs only for an authenticated caller.
type AuthedFunc func(w http.ResponseWriter, r *http.Request, c *app.Caller) error

// Authed requires a valid bearer token whose session is live and whose
// user exists (app.Authenticate). Cookies are never looked at: the API is
// bearer-only, so it needs no CSRF defence. Responses to authenticated
// requests are never cached.
func (a *API) Authed(h AuthedFunc) http.Handler {
	return a.Public(func(w http.ResponseWriter, r *http.Request) error {
		token, ok := bearerToken(r)
		if !ok {
			return blog.ErrNotAuthenticated
		}
		c, err := a.app.Authenticate(r.Context(), token)
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		return h(w, r, c)
	})
}

// bearerToken extracts the token of an "Authorization: Bearer …" header;
// ok is false when there is no such header (an empty token is ok but will
// not verify). The scheme name is case-insensitive (RFC 9110 §11.1).
// Tokens in query strings are never looked at.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// Health reports whether the database answers: GET /health. A load
// balancer reads it to take an instance whose database is gone out of
// rotation; the instance comes back by itself when the database does.
func (a *API) Health(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.app.Ping(ctx); err != nil {
		httpx.Log(a.logger, r).Warn("health check failed", "err", err)
		httpx.WriteUnavailable(w)
		return nil
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// detail is a success body with a message only.
type detail struct {
	Detail string `json:"detail"`
}
