package server

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
)

// refreshGrace is how long after a refresh token is rotated away a client
// may present it again and get the same new pair, instead of having its
// session ended for reuse: long enough for a retry after a lost response,
// short enough that a stolen token is of little use (SPEC §4: at most 10 s).
const refreshGrace = 10 * time.Second

// handleToken is the OAuth2 token endpoint: POST /api/users/token with a
// form body. grant_type=password (or none) logs in with a username or
// email and a password; grant_type=refresh_token renews the tokens of a
// session.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) error {
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	switch form.Get("grant_type") {
	case "", "password":
		return s.passwordGrant(w, r, form)
	case "refresh_token":
		return s.refreshGrant(w, r, form)
	default:
		return errUnsupportedGrant
	}
}

// refreshGrant rotates a session's refresh token and issues a new access
// token for the same session. Each refresh token works once; within
// refreshGrace of its use, presenting it again returns the very same pair
// (the next token is derived from it, and the access token is issued at
// the rotation's time with an id derived from the next token). Later, it
// is reuse, a sign the token was stolen: the session ends. Every failure
// gets the same answer.
func (s *Server) refreshGrant(w http.ResponseWriter, r *http.Request, form url.Values) error {
	var v blog.Validator
	token := formField(&v, form, "refresh_token")
	if err := v.Err(); err != nil {
		return err
	}
	sessionID, ok := s.tokens.RefreshSession(token)
	if !ok {
		return blog.ErrInvalidRefresh
	}
	next, err := s.tokens.NextRefresh(token)
	if err != nil {
		return err
	}
	rot, err := s.store.RotateRefresh(r.Context(), sessionID, auth.HashOpaque(token), auth.HashOpaque(next), s.now(), refreshGrace)
	if errors.Is(err, blog.ErrRefreshReused) {
		s.log(r).Warn("a used refresh token was presented again: its session has ended", "session_id", sessionID)
	}
	if err != nil {
		return err
	}
	s.touch(&rot.Session) // a refresh is a use of the session
	access, expires, err := s.tokens.IssueAt(rot.Session.UserID, sessionID, rot.IssuedAt, s.tokens.AccessID(next))
	if err != nil {
		return err
	}
	return s.writeTokens(w, access, expires, next)
}

// passwordGrant checks the credentials and starts a session. An unknown
// account costs the same hash as a wrong password and gets the same bytes
// back, so the endpoint does not tell which accounts exist.
func (s *Server) passwordGrant(w http.ResponseWriter, r *http.Request, form url.Values) error {
	user, err := s.checkLogin(r, form)
	if err != nil {
		return err
	}
	return s.startSession(w, r, user)
}

// checkLogin checks a login form's username (or email) and password and
// returns the user they name; the token endpoint and the login page share
// it. Any mismatch is blog.ErrBadCredentials.
func (s *Server) checkLogin(r *http.Request, form url.Values) (*blog.User, error) {
	var v blog.Validator
	username := formField(&v, form, "username")
	password := formField(&v, form, "password")
	if err := v.Err(); err != nil {
		return nil, err
	}
	ctx := r.Context()
	user, err := s.store.UserByLogin(ctx, blog.LoginKey(username))
	if errors.Is(err, blog.ErrUserNotFound) {
		if err := s.hasher.VerifyDummy(ctx, password); err != nil {
			return nil, err
		}
		return nil, blog.ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	ok, rehash, err := s.hasher.Verify(ctx, password, user.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, blog.ErrBadCredentials
	}
	if rehash {
		s.upgradeHash(r, user, password)
	}
	return user, nil
}

// upgradeHash rehashes a legacy or weaker hash with the current
// parameters. Failing here must not fail the login: the next one retries.
func (s *Server) upgradeHash(r *http.Request, u *blog.User, password string) {
	hash, err := s.hasher.Hash(r.Context(), password)
	if err == nil {
		_, err = s.store.SetPasswordHash(r.Context(), u.ID, u.PasswordHash, hash)
	}
	if err != nil {
		s.log(r).Warn("password hash upgrade postponed", "user_id", u.ID, "err", err)
	}
}

// startSession creates a session for u and answers with its tokens.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *blog.User) error {
	sess, refresh, err := s.newSession(r, u)
	if err != nil {
		return err
	}
	access, expires, err := s.tokens.Issue(u.ID, sess.ID)
	if err != nil {
		return err
	}
	return s.writeTokens(w, access, expires, refresh)
}

// newSession stores a new session (a login) for u and returns it with its
// refresh token. API logins and page logins both make one.
func (s *Server) newSession(r *http.Request, u *blog.User) (*blog.Session, string, error) {
	now := s.now()
	sess := &blog.Session{
		ID:         s.sessionID(),
		UserID:     u.ID,
		CreatedAt:  now,
		LastUsedAt: now,
		ExpiresAt:  now.Add(s.sessionTTL),
		UserAgent:  clip(r.UserAgent(), 256),
		IP:         clientIP(r),
	}
	refresh, err := s.tokens.NewRefresh(sess.ID)
	if err != nil {
		return nil, "", err
	}
	if err := s.store.CreateSession(r.Context(), sess, auth.HashOpaque(refresh)); err != nil {
		return nil, "", err
	}
	return sess, refresh, nil
}

// writeTokens writes the token response, which must never be cached.
func (s *Server) writeTokens(w http.ResponseWriter, access string, expires time.Time, refresh string) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken:  access,
		TokenType:    "bearer",
		ExpiresIn:    int64(expires.Sub(s.now()).Round(time.Second).Seconds()),
		RefreshToken: refresh,
	})
	return nil
}

// handleLogout ends the caller's session: POST /api/users/logout.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, c caller) error {
	if err := s.store.DeleteSession(r.Context(), c.user.ID, c.session.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sessionID is a new random session id: 128 bits, URL-safe.
func (s *Server) sessionID() string {
	var b [16]byte
	if _, err := io.ReadFull(s.random, b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; an injected
		// reader that does is a test bug, so fall back to the real one.
		_, _ = rand.Read(b[:])
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// parseForm reads an urlencoded or multipart form body of at most
// maxJSONBody bytes. Other content types are 415.
func parseForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	var err error
	switch mt {
	case "application/x-www-form-urlencoded", "":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxJSONBody)
	default:
		return nil, errUnsupportedMedia
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errTooLarge
		}
		return nil, invalidBody("Malformed form body")
	}
	return r.PostForm, nil
}

// formField reads a required form field, recording a problem when it is
// missing or not valid text.
func formField(v *blog.Validator, form url.Values, name string) string {
	vals, ok := form[name]
	if !ok || len(vals) == 0 {
		v.Add("missing", "Field required", "body", name)
		return ""
	}
	s := vals[0]
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		v.Add("string_type", "Input should be a valid string without NUL bytes", "body", name)
		return ""
	}
	if s == "" {
		v.Add("missing", "Field required", "body", name)
	}
	return s
}

// clientIP is the address of the peer that sent the request.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clip shortens s to at most n bytes of valid UTF-8.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
