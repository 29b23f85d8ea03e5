package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/quill-blog/quill/internal/blog"
)

// caller is who made an authenticated request, and through which session.
type caller struct {
	user    *blog.User
	session *blog.Session
}

type callerKey struct{}

// authedFunc is a handler that runs only for an authenticated caller.
type authedFunc func(w http.ResponseWriter, r *http.Request, c caller) error

// authed requires a valid bearer token whose session is live and whose user
// exists; the check reads the database on every request, so logout and
// revocation take effect at once on every instance. Responses to
// authenticated requests are never cached.
func (s *Server) authed(h authedFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.authenticate(r)
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		return h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)), c)
	})
}

// authenticate checks the request's bearer token. Cookies are never
// looked at: the API is bearer-only, so it needs no CSRF defence.
func (s *Server) authenticate(r *http.Request) (caller, error) {
	token, ok := bearerToken(r)
	if !ok {
		return caller{}, blog.ErrNotAuthenticated
	}
	return s.authenticateToken(r.Context(), token)
}

// authenticateToken checks an access token: its signature and expiry,
// then that its session is live and its user exists. Bearer tokens and the
// pages' cookie both go through here.
func (s *Server) authenticateToken(ctx context.Context, token string) (caller, error) {
	claims, err := s.tokens.Parse(token)
	if err != nil {
		return caller{}, blog.ErrInvalidToken
	}
	sess, user, err := s.store.SessionUser(ctx, claims.SessionID, s.now())
	if err != nil {
		return caller{}, err
	}
	if user.ID != claims.UserID {
		return caller{}, blog.ErrInvalidToken
	}
	s.touch(sess)
	return caller{user: user, session: sess}, nil
}

// bearerToken extracts the token of an "Authorization: Bearer …" header;
// ok is false when there is no such header (an empty token is ok but will
// not verify).
// The scheme name is case-insensitive (RFC 9110 §11.1). Tokens in query
// strings are never looked at.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}
