package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// refreshGrace is how long after a refresh token is rotated away a client
// may present it again and get the same new pair, instead of having its
// session ended for reuse: long enough for a retry after a lost response,
// short enough that a stolen token is of little use.
const refreshGrace = 10 * time.Second

// Credentials are what a login form holds. Username may be the email.
// OTP is the code of an account with two-factor login on, if the client
// sent one. Problems are those an adapter found reading the request.
type Credentials struct {
	Username, Password string
	OTP                string
	Problems           []blog.Problem
}

// SessionStart says how a login's session begins.
type SessionStart struct {
	Client Client
	// Browser: the session is a browser's, whose access token goes in a
	// cookie and lasts as long as the session.
	Browser bool
	// Replaces, if not nil, is the session this client had, ended in the
	// same transaction (a browser logging in again, perhaps as someone
	// else).
	Replaces *Caller
}

// Tokens are a session's credentials: an access token, and the refresh
// token that renews it.
type Tokens struct {
	Access        string
	AccessExpires time.Time
	Refresh       string
}

// Login is a session just started, with its tokens.
type Login struct {
	Tokens
	User    *blog.User
	Session *blog.Session
}

// LogIn checks a username (or email) and password and starts a session.
// Any mismatch is blog.ErrBadCredentials; an unknown account, a wrong
// password and an account on an old, slow hash take alike (see
// auth.Hasher.VerifyLogin). Attempts are throttled per name typed
// (blog.LoginDelay): a throttled attempt costs no hash.
//
// An account with two-factor login on needs in.OTP too, a current TOTP
// code or an unused recovery code, checked and spent in the transaction
// that starts the session: without one the error is
// blog.ErrOTPRequired, with a wrong or spent one blog.ErrBadOTP. Either
// way the attempt stays counted as a failure. Without two-factor login,
// in.OTP is ignored.
func (a *App) LogIn(ctx context.Context, in Credentials, start SessionStart) (*Login, error) {
	login, _, err := a.logIn(ctx, in, start, false)
	a.observer.Login(loginOutcome(err))
	return login, err
}

// logIn is LogIn but for telling the Observer. With challenge, an account
// that needs a code and got none gets a Challenge instead of an error
// (BeginLogIn).
func (a *App) logIn(ctx context.Context, in Credentials, start SessionStart, challenge bool) (*Login, *Challenge, error) {
	v := blog.Validator{Problems: in.Problems}
	v.Check(v.Reported("username") || in.Username != "", "missing", "Field required", "body", "username")
	v.Check(v.Reported("password") || in.Password != "", "missing", "Field required", "body", "password")
	if err := v.Err("username", "password"); err != nil {
		return nil, nil, err
	}
	key := blog.LoginKey(in.Username)
	if err := a.claimAttempt(ctx, key); err != nil {
		return nil, nil, err
	}
	user, err := a.store.UserByLogin(ctx, key)
	if errors.Is(err, blog.ErrUserNotFound) {
		if _, _, err := a.hasher.VerifyLogin(ctx, in.Password, ""); err != nil {
			return nil, nil, err
		}
		return nil, nil, blog.ErrBadCredentials
	}
	if err != nil {
		return nil, nil, err
	}
	ok, rehash, err := a.hasher.VerifyLogin(ctx, in.Password, user.PasswordHash)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, blog.ErrBadCredentials
	}
	newHash := user.PasswordHash
	if rehash {
		// A legacy or weaker hash is replaced now that the password is
		// known; if that cannot be done, the next login tries again.
		if h, err := a.hasher.Hash(ctx, in.Password); err == nil {
			newHash = h
		} else {
			a.log(ctx).Warn("password hash upgrade postponed", "user_id", user.ID, "err", err)
		}
	}
	var (
		login *Login
		ch    *Challenge
	)
	err = a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		login, ch = nil, nil
		// The hash must still be the one just verified: a password
		// changed, or an account deleted, meanwhile makes this login
		// fail as a wrong password would.
		if err := tx.SetPasswordHash(ctx, user.ID, user.PasswordHash, newHash); err != nil {
			return err
		}
		// Until the second factor is checked, the attempt stays counted:
		// a right password with a wrong code is a failure too.
		err := a.checkSecondFactor(ctx, tx, user, in.OTP)
		if errors.Is(err, blog.ErrOTPRequired) && challenge {
			// Only the hash upgrade, if any, is kept; the challenge is
			// bound to the hash now stored.
			ch, err = a.newChallenge(user.ID, newHash)
			return err
		}
		if err != nil {
			return err
		}
		if a.throttle {
			// A success clears the count for every way of naming the account.
			if err := tx.ClearLoginFailures(ctx, key, blog.LoginKey(user.Username), user.Email); err != nil {
				return err
			}
		}
		login, err = a.startSession(ctx, tx, user, start)
		return err
	})
	if errors.Is(err, blog.ErrInvalidToken) || errors.Is(err, blog.ErrUserNotFound) {
		return nil, nil, blog.ErrBadCredentials
	}
	if err != nil {
		return nil, nil, err
	}
	if ch != nil {
		return nil, ch, nil
	}
	login.User.PasswordHash = newHash
	return login, nil, nil
}

// claimAttempt counts a password check against keys, or returns the 429
// when they must still wait. With throttling off it does nothing.
func (a *App) claimAttempt(ctx context.Context, keys ...string) error {
	if !a.throttle {
		return nil
	}
	// Before any hashing, and the same for every key, known or not: a
	// throttled attempt costs no hash and reveals nothing.
	wait, err := a.store.ClaimLoginAttempt(ctx, a.now(), blog.LoginDelay, keys...)
	if err != nil {
		return err
	}
	if wait > 0 {
		return blog.TooManyLogins(wait)
	}
	return nil
}

// loginKeys are the ways of naming u at login: its email and its username.
func loginKeys(u *blog.User) []string {
	return []string{blog.LoginKey(u.Email), blog.LoginKey(u.Username)}
}

// checkPassword verifies the password a logged-in user typed to confirm a
// change. A wrong one counts as a failed login for the account's email and
// username, under the same throttle, so a stolen session is no way to
// guess the password; a right one clears those counts.
func (a *App) checkPassword(ctx context.Context, u *blog.User, password string) error {
	if err := a.verifyPassword(ctx, u, password); err != nil {
		return err
	}
	if a.throttle {
		return a.store.Write(ctx, func(tx *sqlstore.Tx) error {
			return tx.ClearLoginFailures(ctx, loginKeys(u)...)
		})
	}
	return nil
}

// verifyPassword is checkPassword but for clearing the counts: for a
// change that needs more than the password, whose transaction clears
// them once all of it is right.
func (a *App) verifyPassword(ctx context.Context, u *blog.User, password string) error {
	if err := a.claimAttempt(ctx, loginKeys(u)...); err != nil {
		return err
	}
	ok, _, err := a.hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		return blog.ErrWrongPassword
	}
	return nil
}

// startSession stores a new session for u in tx, ending start.Replaces,
// and issues its tokens.
func (a *App) startSession(ctx context.Context, tx *sqlstore.Tx, u *blog.User, start SessionStart) (*Login, error) {
	if r := start.Replaces; r != nil {
		if err := tx.DeleteSession(ctx, r.User.ID, r.Session.ID); err != nil && !errors.Is(err, blog.ErrSessionNotFound) {
			return nil, err
		}
	}
	now := a.now()
	sess := &blog.Session{
		ID:         a.sessionID(),
		UserID:     u.ID,
		CreatedAt:  now,
		LastUsedAt: now,
		ExpiresAt:  now.Add(a.sessionTTL),
		UserAgent:  clip(start.Client.UserAgent, 256),
		IP:         clip(start.Client.IP, 64),
	}
	refresh, err := a.tokens.NewRefresh(sess.ID)
	if err != nil {
		return nil, err
	}
	if err := tx.CreateSession(ctx, sess, auth.HashOpaque(refresh)); err != nil {
		return nil, err
	}
	login := &Login{User: u, Session: sess, Tokens: Tokens{Refresh: refresh}}
	if start.Browser {
		login.Access, login.AccessExpires, err = a.tokens.IssueUntil(u.ID, sess.ID, sess.ExpiresAt)
	} else {
		login.Access, login.AccessExpires, err = a.tokens.Issue(u.ID, sess.ID)
	}
	if err != nil {
		return nil, err
	}
	return login, nil
}

// Refresh rotates a session's refresh token and issues a new access token
// for the same session. Each refresh token works once; within
// refreshGrace of its use, presenting it again returns the very same pair
// (the next token is derived from it, and the access token is issued at
// the rotation's time with an id derived from the next token). Later, it
// is reuse, a sign the token was stolen: the session ends. Every failure
// is blog.ErrInvalidRefresh.
func (a *App) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	sessionID, ok := a.tokens.RefreshSession(refreshToken)
	if !ok {
		return nil, blog.ErrInvalidRefresh
	}
	next, err := a.tokens.NextRefresh(refreshToken)
	if err != nil {
		return nil, err
	}
	rot, err := a.store.RotateRefresh(ctx, sessionID, auth.HashOpaque(refreshToken), auth.HashOpaque(next), a.now(), refreshGrace)
	if errors.Is(err, blog.ErrRefreshReused) {
		a.log(ctx).Warn("a used refresh token was presented again: its session has ended", "session_id", sessionID)
		return nil, blog.ErrInvalidRefresh
	}
	if err != nil {
		return nil, err
	}
	a.touch(&rot.Session) // a refresh is a use of the session
	access, expires, err := a.tokens.IssueAt(rot.Session.UserID, sessionID, rot.IssuedAt, a.tokens.AccessID(next))
	if err != nil {
		return nil, err
	}
	return &Tokens{Access: access, AccessExpires: expires, Refresh: next}, nil
}

// Authenticate checks an access token: its signature and expiry, then
// that its session is live and its user exists. It reads the database on
// every call, so a logout, a revoked session or a new password takes
// effect on the next request, on every instance. Any failure is
// blog.ErrInvalidToken.
func (a *App) Authenticate(ctx context.Context, accessToken string) (*Caller, error) {
	claims, err := a.tokens.Parse(accessToken)
	if err != nil {
		return nil, blog.ErrInvalidToken
	}
	sess, user, err := a.store.SessionUser(ctx, claims.SessionID, a.now())
	if err != nil {
		return nil, err
	}
	if user.ID != claims.UserID {
		return nil, blog.ErrInvalidToken
	}
	a.touch(sess)
	return &Caller{User: user, Session: sess}, nil
}

// LogOut ends the caller's session: its tokens stop working at once.
func (a *App) LogOut(ctx context.Context, c *Caller) error {
	return a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		return tx.DeleteSession(ctx, c.User.ID, c.Session.ID)
	})
}

// sessionID is a new random session id: 128 bits, URL-safe.
func (a *App) sessionID() string {
	var b [16]byte
	if _, err := io.ReadFull(a.random, b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; an injected
		// reader that does is a test bug, so fall back to the real one.
		_, _ = rand.Read(b[:])
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
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
