package app

import (
	"context"
	"errors"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
)

// Observer is told of the outcomes an operator counts: password logins
// and reset mails. Its methods are called on the goroutine doing the work,
// so they must be quick and safe for concurrent use. package metrics
// implements it; App works without one.
type Observer interface {
	Login(LoginOutcome)
	ResetMail(ResetMailOutcome)
}

// LoginOutcome is how a password login ended (LogIn).
type LoginOutcome string

// Login outcomes: a fixed set, so they may be metric labels.
const (
	LoginOK             LoginOutcome = "ok"
	LoginBadCredentials LoginOutcome = "bad_credentials" // wrong password or no such account
	LoginOTPRequired    LoginOutcome = "otp_required"    // right password; the account's second factor is asked for
	LoginBadOTP         LoginOutcome = "bad_otp"         // right password, wrong or spent second factor code
	LoginThrottled      LoginOutcome = "throttled"       // the account's failure throttle said wait (429)
	LoginBusy           LoginOutcome = "busy"            // no hashing slot freed up in time (503)
	LoginInvalid        LoginOutcome = "invalid"         // a field missing or malformed (422), or a login challenge expired or used
	LoginError          LoginOutcome = "error"           // anything else: the database unavailable, a fault
)

// LoginOutcomes lists every LoginOutcome.
func LoginOutcomes() []LoginOutcome {
	return []LoginOutcome{LoginOK, LoginBadCredentials, LoginOTPRequired, LoginBadOTP, LoginThrottled, LoginBusy, LoginInvalid, LoginError}
}

// loginOutcome classifies what LogIn returns.
func loginOutcome(err error) LoginOutcome {
	switch {
	case err == nil:
		return LoginOK
	case errors.Is(err, blog.ErrBadCredentials):
		return LoginBadCredentials
	case errors.Is(err, blog.ErrOTPRequired):
		return LoginOTPRequired
	case errors.Is(err, blog.ErrBadOTP):
		return LoginBadOTP
	case errors.Is(err, blog.ErrInvalidChallenge):
		return LoginInvalid
	case errors.Is(err, auth.ErrBusy):
		return LoginBusy
	}
	switch blog.ErrorKind(err) {
	case blog.TooManyRequests:
		return LoginThrottled
	case blog.Unprocessable:
		return LoginInvalid
	}
	return LoginError
}

// ResetMailOutcome is what became of a request for a password reset mail
// (RequestPasswordReset) that was well-formed.
type ResetMailOutcome string

// Reset mail outcomes: a fixed set, so they may be metric labels.
const (
	ResetMailSent      ResetMailOutcome = "sent"
	ResetMailNoAccount ResetMailOutcome = "no_account" // no account has the address: nothing to send
	ResetMailFailed    ResetMailOutcome = "failed"     // the mail server or the database failed, or shutdown came first
	ResetMailDropped   ResetMailOutcome = "dropped"    // the queue was full
	ResetMailRepeated  ResetMailOutcome = "repeated"   // the address had one queued less than resetEvery ago
)

// ResetMailOutcomes lists every ResetMailOutcome.
func ResetMailOutcomes() []ResetMailOutcome {
	return []ResetMailOutcome{ResetMailSent, ResetMailNoAccount, ResetMailFailed, ResetMailDropped, ResetMailRepeated}
}

// ResetMailQueue is how many password reset mails wait to be sent, and
// how many may wait at most: past that, requests are dropped.
func (a *App) ResetMailQueue() (length, capacity int) {
	return len(a.resets.jobs), cap(a.resets.jobs)
}

// LiveSessions counts the sessions, of every user, that have not expired.
// Its cost grows with their number: it is for monitoring, now and then.
func (a *App) LiveSessions(ctx context.Context) (int64, error) {
	return a.store.LiveSessions(ctx, a.now())
}

// nopObserver is the Observer of an App configured without one.
type nopObserver struct{}

func (nopObserver) Login(LoginOutcome)         {}
func (nopObserver) ResetMail(ResetMailOutcome) {}
