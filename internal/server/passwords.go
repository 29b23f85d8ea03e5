package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/mail"
)

// Password change, and password reset by email.

const (
	// resetTTL is how long a reset link works.
	resetTTL = 60 * time.Minute
	// resetQueueSize bounds the reset mails waiting to be sent.
	resetQueueSize = 100
	// resetEvery: an address gets at most one reset mail this often (per
	// instance); asking again sooner is answered as usual and ignored.
	resetEvery = time.Minute
	// maxRecentResets bounds the addresses remembered for resetEvery.
	maxRecentResets = 10_000
)

// handleChangePassword sets a new password for the caller, who must give
// the current one: PATCH /api/users/me/password. Every other session of
// the user ends, and so does any reset link.
func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request, c caller) error {
	body, err := decodeJSON(w, r)
	if err != nil {
		return err
	}
	if err := s.changePassword(r.Context(), c, body); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, detail{"Password changed successfully"})
	return nil
}

// changePassword checks the body's current_password and new_password and
// sets the new one, ending the user's other sessions; the API and the
// account page share it.
func (s *Server) changePassword(ctx context.Context, c caller, body fields) error {
	v := body.validator()
	current, _ := body.field("current_password", true)
	next, ok := body.field("new_password", true)
	if ok {
		next = s.newPassword(v, "new_password", next, c.user.Username, c.user.Email)
	}
	if err := v.Err(); err != nil {
		return err
	}
	ok, _, err := s.hasher.Verify(ctx, current, c.user.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		return blog.ErrWrongPassword
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	return s.store.SetPassword(ctx, c.user.ID, c.user.PasswordHash, hash, c.session.ID)
}

// detail is a success body with a message only.
type detail struct {
	Detail string `json:"detail"`
}

// forgotAnswer is the one answer to every well-formed forgot-password
// request, whether or not the address has an account.
var forgotAnswer = detail{"If an account uses that email address, a link to reset its password is on its way."}

// handleForgotPassword queues a password reset mail:
// POST /api/users/forgot-password with {email}. The answer is 202 and the
// same whether or not an account has that address, and it is given before
// anything else happens: looking the address up, making the token and
// sending the mail are done by Run's mail worker, so neither the answer
// nor its timing tells whether the account exists.
func (s *Server) handleForgotPassword(w http.ResponseWriter, r *http.Request) error {
	body, err := decodeJSON(w, r)
	if err != nil {
		return err
	}
	if err := s.forgotPassword(r, body); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, forgotAnswer)
	return nil
}

// forgotPassword checks the body's email and queues a reset mail for it;
// the API and the forgot-password page share it.
func (s *Server) forgotPassword(r *http.Request, body fields) error {
	v := body.validator()
	var email string
	if e, ok := body.field("email", true); ok {
		email = v.Email(e)
	}
	if err := v.Err(); err != nil {
		return err
	}
	job := resetJob{email: email}
	job.requestID, _ = r.Context().Value(requestIDKey{}).(string)
	switch s.resets.add(job, s.now()) {
	case resetRecent:
		s.log(r).Info("password reset not queued: one was asked for that address less than a minute ago")
	case resetQueueFull:
		s.log(r).Error("password reset not queued: the mail queue is full; the user can ask again")
	}
	return nil
}

// handleResetPassword sets a new password with a reset token from a mail:
// POST /api/users/reset-password with {token, new_password}. The token
// works once; every session of the user ends.
func (s *Server) handleResetPassword(w http.ResponseWriter, r *http.Request) error {
	body, err := decodeJSON(w, r)
	if err != nil {
		return err
	}
	if err := s.resetPassword(r, body); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, detail{"Password has been reset"})
	return nil
}

// resetPassword checks the body's token and new_password and sets the
// password; the API and the reset-password page share it.
func (s *Server) resetPassword(r *http.Request, body fields) error {
	v := body.validator()
	token, _ := body.field("token", true)
	password, ok := body.field("new_password", true)
	if ok {
		password = v.Password("new_password", password)
	}
	if err := v.Err(); err != nil {
		return err
	}
	if !isOpaqueToken(token) {
		return blog.ErrInvalidReset
	}
	ctx := r.Context()
	tokenHash := auth.HashOpaque(token)
	u, err := s.store.PasswordResetUser(ctx, tokenHash, s.now())
	if err != nil {
		return err
	}
	// The strength policy needs the account's names, known only now.
	if msg := s.policy.Check(password, u.Username, u.Email); msg != "" {
		v.Add("value_error", msg, "body", "new_password")
		return v.Err()
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	if _, err := s.store.ResetPassword(ctx, tokenHash, hash, s.now()); err != nil {
		return err
	}
	// Proving ownership of the address lifts any login throttle, so the
	// user can log in with the new password at once.
	for _, key := range []string{blog.LoginKey(u.Email), blog.LoginKey(u.Username)} {
		if err := s.store.ClearLoginFailures(ctx, key); err != nil {
			s.log(r).Warn("could not clear login failures after a password reset", "user_id", u.ID, "err", err)
		}
	}
	s.log(r).Info("password reset", "user_id", u.ID)
	return nil
}

// isOpaqueToken reports whether s has the form of auth.NewOpaqueToken's
// tokens: 32 bytes in unpadded base64url. Anything else cannot be one, and
// costs no database lookup.
func isOpaqueToken(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(32) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil
}

// resetJob is a reset mail to send: to the account with this address, if
// there is one.
type resetJob struct {
	email     string
	requestID string // of the request that asked, for the logs
}

// resetQueue holds reset mails until Run's worker sends them. Its size is
// bounded, and each address is queued at most once per resetEvery.
type resetQueue struct {
	jobs   chan resetJob
	mu     sync.Mutex
	recent map[string]time.Time // address → when it was last queued
}

func newResetQueue() *resetQueue {
	return &resetQueue{jobs: make(chan resetJob, resetQueueSize), recent: map[string]time.Time{}}
}

type resetOutcome int

const (
	resetQueued resetOutcome = iota
	resetRecent
	resetQueueFull
)

// add queues job unless its address was queued less than resetEvery ago
// or the queue is full.
func (q *resetQueue) add(job resetJob, now time.Time) resetOutcome {
	q.mu.Lock()
	defer q.mu.Unlock()
	if t, ok := q.recent[job.email]; ok && now.Sub(t) < resetEvery {
		return resetRecent
	}
	select {
	case q.jobs <- job:
	default:
		return resetQueueFull
	}
	if len(q.recent) >= maxRecentResets {
		for email, t := range q.recent {
			if now.Sub(t) >= resetEvery {
				delete(q.recent, email)
			}
		}
	}
	if len(q.recent) < maxRecentResets {
		q.recent[job.email] = now
	}
	return resetQueued
}

// sendResets sends queued reset mails until ctx ends, then those still
// queued, for at most drainWait more.
func (s *Server) sendResets(ctx context.Context) {
	// Work goes on for drainWait after ctx ends, so a mail being sent at
	// shutdown is not cut off, then stops.
	work, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	context.AfterFunc(ctx, func() { time.AfterFunc(drainWait, stop) })
	for {
		select {
		case job := <-s.resets.jobs:
			s.sendReset(work, job)
		case <-ctx.Done():
			for {
				select {
				case job := <-s.resets.jobs:
					s.sendReset(work, job)
				default:
					return
				}
			}
		}
	}
}

// sendReset makes a reset token for the account with job's address, if
// there is one, and mails the link. A failure is logged with the request
// id and never retried: the user, who got no mail, can ask again.
func (s *Server) sendReset(ctx context.Context, job resetJob) {
	log := s.logger.With("request_id", job.requestID)
	if ctx.Err() != nil {
		log.Error("password reset mail not sent: the server is shutting down; the user can ask again")
		return
	}
	u, err := s.store.UserByLogin(ctx, job.email)
	if errors.Is(err, blog.ErrUserNotFound) {
		log.Info("password reset asked for an address no account has; no mail sent")
		return
	}
	if err != nil {
		log.Error("password reset failed; the user can ask again", "err", err)
		return
	}
	token, hash, err := auth.NewOpaqueToken(s.random)
	if err != nil {
		log.Error("password reset failed; the user can ask again", "err", err)
		return
	}
	now := s.now()
	if err := s.store.CreatePasswordReset(ctx, u.ID, hash, now, now.Add(resetTTL)); err != nil {
		log.Error("password reset failed; the user can ask again", "user_id", u.ID, "err", err)
		return
	}
	if err := s.mailer.Send(ctx, s.resetMail(u, token)); err != nil {
		log.Error("password reset mail failed; the user can ask again", "user_id", u.ID, "err", err)
		return
	}
	log.Info("password reset mail sent", "user_id", u.ID)
}

// resetMail is the mail with the reset link.
func (s *Server) resetMail(u *blog.User, token string) mail.Message {
	link := s.publicURL + "/reset-password?token=" + token
	return mail.Message{
		To:      u.Email,
		Subject: "Reset your password",
		Text: fmt.Sprintf(`Hello %s,

someone, hopefully you, asked to reset the password of your account at
%s. To choose a new password, open this link within %d minutes:

%s

The link works once. If you did not ask for it, ignore this mail: your
password stays as it is.
`, u.Username, s.publicURL, int(resetTTL.Minutes()), link),
	}
}
