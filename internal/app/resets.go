package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/mail"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// Password reset by mail.

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

// ForgotAnswer is the one answer to every well-formed request for a reset
// link, whether or not the address has an account.
const ForgotAnswer = "If an account uses that email address, a link to reset its password is on its way."

// ResetRequest asks for a password reset link for Email. Problems are
// those an adapter found reading the request.
type ResetRequest struct {
	Email    string
	Problems []blog.Problem
}

// RequestPasswordReset checks the address and queues a reset mail for it.
// It returns before anything else happens: looking the address up, making
// the token and sending the mail are done by Run's mail worker, so neither
// the outcome nor its timing tells whether an account has the address.
// Only a malformed address is an error.
func (a *App) RequestPasswordReset(ctx context.Context, in ResetRequest) error {
	v := blog.Validator{Problems: in.Problems}
	var email string
	if !v.Reported("email") {
		email = v.Email(in.Email)
	}
	if err := v.Err("email"); err != nil {
		return err
	}
	switch a.resets.add(resetJob{email: email, requestID: RequestID(ctx)}, a.now()) {
	case resetRecent:
		a.observer.ResetMail(ResetMailRepeated)
		a.log(ctx).Info("password reset not queued: one was asked for that address less than a minute ago")
	case resetQueueFull:
		a.observer.ResetMail(ResetMailDropped)
		a.log(ctx).Error("password reset not queued: the mail queue is full; the user can ask again")
	}
	return nil
}

// PasswordReset is a new password set with the token of a reset link.
type PasswordReset struct {
	Token, NewPassword string
	Problems           []blog.Problem
}

// ResetPassword sets a new password with a reset link's token, in one
// transaction with what it implies: the token is used up, every session
// of the account ends, every other reset link is void, and the login
// throttle of the account's names is cleared (proving the mailbox is
// proof enough). The account's address is told. Anything that is not a
// live token is
// blog.ErrInvalidReset; a weak password is a validation error and leaves
// the token usable.
func (a *App) ResetPassword(ctx context.Context, in PasswordReset) error {
	v := blog.Validator{Problems: in.Problems}
	password := in.NewPassword
	if !v.Reported("new_password") {
		password = v.Password("new_password", password)
	}
	if err := v.Err("token", "new_password"); err != nil {
		return err
	}
	if !isOpaqueToken(in.Token) {
		return blog.ErrInvalidReset
	}
	tokenHash := auth.HashOpaque(in.Token)
	u, err := a.store.PasswordResetUser(ctx, tokenHash, a.now())
	if err != nil {
		return err
	}
	// The strength policy needs the account's names, known only now.
	if msg := a.policy.Check(password, u.Username, u.Email); msg != "" {
		v.Add("value_error", msg, "body", "new_password")
		return v.Err()
	}
	hash, err := a.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	var user *blog.User
	err = a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		userID, err := tx.TakePasswordReset(ctx, tokenHash, a.now())
		if err != nil {
			return err
		}
		if user, err = tx.User(ctx, userID); err != nil {
			return err
		}
		if err := tx.ReplacePasswordHash(ctx, userID, hash); err != nil {
			return err
		}
		_, err = a.passwordReplaced(ctx, tx, user, "")
		return err
	})
	if errors.Is(err, blog.ErrUserNotFound) {
		return blog.ErrInvalidReset
	}
	if err != nil {
		return err
	}
	a.log(ctx).Info("password reset", "user_id", user.ID)
	a.notify(ctx, user, noticePasswordReset)
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

// sendReset makes a reset token for the account with job's address, if
// there is one, and mails the link. The new token voids the account's
// older ones. A failure is logged with the request id and never retried:
// the user, who got no mail, can ask again. It returns what became of job.
func (a *App) sendReset(ctx context.Context, job resetJob) ResetMailOutcome {
	log := a.logger.With("request_id", job.requestID)
	if ctx.Err() != nil {
		log.Error("password reset mail not sent: the server is shutting down; the user can ask again")
		return ResetMailFailed
	}
	u, err := a.store.UserByLogin(ctx, job.email)
	if errors.Is(err, blog.ErrUserNotFound) {
		log.Info("password reset asked for an address no account has; no mail sent")
		return ResetMailNoAccount
	}
	if err != nil {
		log.Error("password reset failed; the user can ask again", "err", err)
		return ResetMailFailed
	}
	token, hash, err := auth.NewOpaqueToken(a.random)
	if err != nil {
		log.Error("password reset failed; the user can ask again", "err", err)
		return ResetMailFailed
	}
	now := a.now()
	err = a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		if err := tx.DeletePasswordResets(ctx, u.ID); err != nil {
			return err
		}
		return tx.CreatePasswordReset(ctx, u.ID, hash, now, now.Add(resetTTL))
	})
	if err != nil {
		log.Error("password reset failed; the user can ask again", "user_id", u.ID, "err", err)
		return ResetMailFailed
	}
	if err := a.mailer.Send(ctx, a.resetMail(u, token)); err != nil {
		log.Error("password reset mail failed; the user can ask again", "user_id", u.ID, "err", err)
		return ResetMailFailed
	}
	log.Info("password reset mail sent", "user_id", u.ID)
	return ResetMailSent
}

// resetMail is the mail with the reset link.
func (a *App) resetMail(u *blog.User, token string) mail.Message {
	link := a.publicURL + "/reset-password?token=" + token
	return mail.Message{
		To:      u.Email,
		Subject: "Reset your password",
		Text: fmt.Sprintf(`Hello %s,

someone, hopefully you, asked to reset the password of your account at
%s. To choose a new password, open this link within %d minutes:

%s

The link works once. If you did not ask for it, ignore this mail: your
password stays as it is.
`, u.Username, a.publicURL, int(resetTTL.Minutes()), link),
	}
}

// clientOf describes where a session was started, for a notice.
func clientOf(sess *blog.Session) string {
	switch {
	case sess.IP != "" && sess.UserAgent != "":
		return fmt.Sprintf("%s (%s)", sess.IP, clip(sess.UserAgent, 120))
	case sess.IP != "":
		return sess.IP
	case sess.UserAgent != "":
		return clip(sess.UserAgent, 120)
	}
	return "an unknown client"
}
