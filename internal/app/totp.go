package app

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// Two-factor login with an authenticator app (TOTP, RFC 6238). A user
// starts an enrolment, which gives the app its secret; a first code from
// the app confirms it, and from then on every login by password needs a
// code too: a current one from the app, or one of the recovery codes the
// confirmation returned, each good once. Refreshing a session needs no
// code: the session was authenticated with one.

// challengeTTL is how long the code step of a login in two steps may come
// after its password step.
const challengeTTL = 5 * time.Minute

// TOTPEnrolment is what an authenticator app needs to make codes.
type TOTPEnrolment struct {
	// Secret is the secret as people type it: base32.
	Secret string
	// URI is the otpauth:// URI a QR code carries.
	URI string
}

// StartTOTP starts turning on two-factor login for the caller: a new
// secret, stored sealed and unconfirmed (logins do not ask for codes
// yet), replacing an unconfirmed one. With two-factor login on already
// the error is blog.ErrTOTPEnabled: it must be turned off first.
func (a *App) StartTOTP(ctx context.Context, c *Caller) (*TOTPEnrolment, error) {
	secret, err := a.twoFactor.NewTOTPSecret()
	if err != nil {
		return nil, err
	}
	sealed, err := a.twoFactor.SealTOTP(c.User.ID, secret)
	if err != nil {
		return nil, err
	}
	err = a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		return tx.StartTOTP(ctx, c.User.ID, sealed, a.now())
	})
	if err != nil {
		return nil, err
	}
	return a.enrolment(c.User, secret)
}

// PendingTOTP returns the caller's unconfirmed enrolment again, for a page
// that shows it. Without one the error is blog.ErrTOTPNotStarted; when it
// is confirmed already, blog.ErrTOTPEnabled.
func (a *App) PendingTOTP(ctx context.Context, c *Caller) (*TOTPEnrolment, error) {
	_, secret, err := a.pendingTOTP(ctx, c.User.ID)
	if err != nil {
		return nil, err
	}
	return a.enrolment(c.User, secret)
}

// pendingTOTP returns the user's unconfirmed enrolment and its opened
// secret: blog.ErrTOTPNotStarted without one (or when its secret no
// longer opens), blog.ErrTOTPEnabled when it is confirmed already.
func (a *App) pendingTOTP(ctx context.Context, userID int64) (*blog.TOTP, []byte, error) {
	f, err := a.store.TOTP(ctx, userID)
	switch {
	case err != nil:
		return nil, nil, err
	case f == nil:
		return nil, nil, blog.ErrTOTPNotStarted
	case f.Enabled():
		return nil, nil, blog.ErrTOTPEnabled
	}
	secret, err := a.twoFactor.OpenTOTP(f.UserID, f.Sealed)
	if err != nil {
		// Sealed under another SECRET_KEY: starting again is the way out.
		a.log(ctx).Warn("a pending TOTP secret does not open; the user must start again", "user_id", f.UserID, "err", err)
		return nil, nil, blog.ErrTOTPNotStarted
	}
	return f, secret, nil
}

func (a *App) enrolment(u *blog.User, secret []byte) (*TOTPEnrolment, error) {
	uri, err := auth.TOTPURI(a.totpIssuer(), u.Username, secret)
	if err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: auth.TOTPSecretText(secret), URI: uri}, nil
}

// totpIssuer names this site in authenticator apps: the host of its
// public URL.
func (a *App) totpIssuer() string {
	if u, err := url.Parse(a.publicURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "quill"
}

// TOTPConfirm turns two-factor login on: the current password and a
// first code from the app (fields current_password and code).
type TOTPConfirm struct {
	CurrentPassword, Code string
	Problems              []blog.Problem
}

// ConfirmTOTP turns two-factor login on with a first code from the app,
// and returns the account's blog.RecoveryCodes new recovery codes: they
// are shown this once and stored hashed. The current password is needed
// too, so a stolen session cannot put a factor of its own on the account
// and lock its owner out; a wrong one is blog.ErrWrongPassword and counts
// as a failed login (checkPassword). A wrong code is blog.ErrInvalidOTP,
// checked first, and costs no login attempt; with nothing started, the
// error is blog.ErrTOTPNotStarted; on already, blog.ErrTOTPEnabled.
func (a *App) ConfirmTOTP(ctx context.Context, c *Caller, in TOTPConfirm) (recoveryCodes []string, err error) {
	if err := passwordAndCode(in.Problems, in.CurrentPassword, in.Code); err != nil {
		return nil, err
	}
	f, secret, err := a.pendingTOTP(ctx, c.User.ID)
	if err != nil {
		return nil, err
	}
	code, ok := auth.ParseOTP(in.Code)
	if !ok || code.Kind != auth.OTPTOTP {
		return nil, blog.ErrInvalidOTP
	}
	step, ok := auth.MatchTOTP(secret, code.Code, a.now(), f.LastStep)
	if !ok {
		return nil, blog.ErrInvalidOTP
	}
	if err := a.checkPassword(ctx, c.User, in.CurrentPassword); err != nil {
		return nil, err
	}
	recoveryCodes = make([]string, blog.RecoveryCodes)
	hashes := make([][]byte, blog.RecoveryCodes)
	for i := range recoveryCodes {
		if recoveryCodes[i], err = a.twoFactor.NewRecoveryCode(); err != nil {
			return nil, err
		}
		rc, _ := auth.ParseOTP(recoveryCodes[i])
		hashes[i] = auth.HashRecoveryCode(rc.Code)
	}
	err = a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		// The code confirms the secret it was checked against: if the
		// enrolment was started again meanwhile, nothing is confirmed.
		if err := tx.ConfirmTOTP(ctx, c.User.ID, f.Sealed, step, a.now()); err != nil {
			return err
		}
		return tx.ReplaceRecoveryCodes(ctx, c.User.ID, hashes, a.now())
	})
	if err != nil {
		return nil, err
	}
	return recoveryCodes, nil
}

// TOTPDisable turns two-factor login off: the current password and a
// code (fields current_password and code), which may be a recovery code.
type TOTPDisable struct {
	CurrentPassword, Code string
	Problems              []blog.Problem
}

// DisableTOTP turns two-factor login off for the caller: the factor and
// its recovery codes go. A wrong password is blog.ErrWrongPassword and a
// wrong code blog.ErrInvalidOTP; both count as failed logins of the
// account, and only success clears the count. Without two-factor login
// on, the error is blog.ErrTOTPDisabled. The account's address is told.
func (a *App) DisableTOTP(ctx context.Context, c *Caller, in TOTPDisable) error {
	if err := passwordAndCode(in.Problems, in.CurrentPassword, in.Code); err != nil {
		return err
	}
	if f, err := a.store.TOTP(ctx, c.User.ID); err != nil {
		return err
	} else if !f.Enabled() {
		return blog.ErrTOTPDisabled
	}
	if err := a.verifyPassword(ctx, c.User, in.CurrentPassword); err != nil {
		return err
	}
	code, _ := auth.ParseOTP(in.Code)
	err := a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		f, err := tx.TOTP(ctx, c.User.ID)
		if err != nil {
			return err
		}
		if !f.Enabled() {
			return blog.ErrTOTPDisabled
		}
		ok, err := a.spendCode(ctx, tx, f, code)
		if err != nil {
			return err
		}
		if !ok {
			return blog.ErrInvalidOTP
		}
		if _, _, err := tx.DeleteTOTP(ctx, c.User.ID); err != nil {
			return err
		}
		if a.throttle {
			return tx.ClearLoginFailures(ctx, loginKeys(c.User)...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.notify(ctx, c.User, noticeTwoFactorOff)
	return nil
}

// passwordAndCode checks that a change of two-factor login carries both
// the current password and a code, adding to the problems the adapter
// found reading them.
func passwordAndCode(problems []blog.Problem, password, code string) error {
	v := blog.Validator{Problems: problems}
	v.Check(v.Reported("current_password") || password != "", "missing", "Field required", "body", "current_password")
	v.Check(v.Reported("code") || code != "", "missing", "Field required", "body", "code")
	return v.Err("current_password", "code")
}

// TOTPEnabled reports whether the user's logins need a code.
func (a *App) TOTPEnabled(ctx context.Context, userID int64) (bool, error) {
	f, err := a.store.TOTP(ctx, userID)
	if err != nil {
		return false, err
	}
	return f.Enabled(), nil
}

// checkSecondFactor checks in tx the code otp of a login for u, whose
// password is right, and spends it: nil when u has no second factor or
// the code is good, blog.ErrOTPRequired when there is none,
// blog.ErrBadOTP when it is wrong or spent.
func (a *App) checkSecondFactor(ctx context.Context, tx *sqlstore.Tx, u *blog.User, otp string) error {
	f, err := tx.TOTP(ctx, u.ID)
	if err != nil {
		return err
	}
	if !f.Enabled() {
		return nil
	}
	code, ok := auth.ParseOTP(otp)
	if ok && code.Kind == auth.OTPNone {
		return blog.ErrOTPRequired
	}
	ok, err = a.spendCode(ctx, tx, f, code)
	if err != nil {
		return err
	}
	if !ok {
		return blog.ErrBadOTP
	}
	return nil
}

// spendCode checks code against the confirmed factor f and spends it in
// tx: a TOTP code's time step becomes the last one used, a recovery code
// is deleted. ok is false for a wrong code, a spent one, or anything
// that is no code.
func (a *App) spendCode(ctx context.Context, tx *sqlstore.Tx, f *blog.TOTP, code auth.OTP) (ok bool, err error) {
	switch code.Kind {
	case auth.OTPTOTP:
		secret, err := a.twoFactor.OpenTOTP(f.UserID, f.Sealed)
		if err != nil {
			// SECRET_KEY changed since the secret was sealed: no code can
			// match. Recovery codes still work, as does quill user reset-2fa.
			a.log(ctx).Error("a TOTP secret does not open: was SECRET_KEY changed? The account's recovery codes still work, or reset its second factors",
				"user_id", f.UserID, "err", err)
			return false, nil
		}
		step, ok := auth.MatchTOTP(secret, code.Code, a.now(), f.LastStep)
		if !ok {
			return false, nil
		}
		return tx.UseTOTPStep(ctx, f.UserID, step)
	case auth.OTPRecovery:
		return tx.UseRecoveryCode(ctx, f.UserID, auth.HashRecoveryCode(code.Code))
	}
	return false, nil
}

// Challenge carries a login in two steps from its password to its code:
// a signed token naming the account, good once, until Expires, and only
// while the password is the one checked.
type Challenge struct {
	Token   string
	Expires time.Time
}

func (a *App) newChallenge(userID int64, passwordHash string) (*Challenge, error) {
	expires := a.now().Add(challengeTTL).Truncate(time.Second)
	token, err := a.twoFactor.NewChallenge(userID, passwordHash, expires)
	if err != nil {
		return nil, err
	}
	return &Challenge{Token: token, Expires: expires}, nil
}

// BeginLogIn is LogIn for a client that asks for the code on a page of its
// own, so the password is not sent again: when the account has two-factor
// login on and in has no code, it returns a Challenge to pass to
// FinishLogIn with the code, instead of a login. The attempt stays
// counted as a failure until then.
func (a *App) BeginLogIn(ctx context.Context, in Credentials, start SessionStart) (*Login, *Challenge, error) {
	login, ch, err := a.logIn(ctx, in, start, true)
	outcome := loginOutcome(err)
	if ch != nil {
		outcome = LoginOTPRequired
	}
	a.observer.Login(outcome)
	return login, ch, err
}

// SecondStep is the code step of a login in two steps: the challenge
// BeginLogIn returned, and the code typed (field otp).
type SecondStep struct {
	Challenge, OTP string
	Problems       []blog.Problem
}

// FinishLogIn checks the code of a login BeginLogIn challenged and starts
// the session. The challenge must be unexpired, unused and issued under
// the password the account has now, and the account must still have
// two-factor login on; otherwise the error is blog.ErrInvalidChallenge. A
// wrong code is blog.ErrBadOTP and counts as a failed login of the
// account, under the same throttle as the password step. The code, the
// challenge's single use and the session are one transaction.
func (a *App) FinishLogIn(ctx context.Context, in SecondStep, start SessionStart) (*Login, error) {
	login, err := a.finishLogIn(ctx, in, start)
	a.observer.Login(loginOutcome(err))
	return login, err
}

func (a *App) finishLogIn(ctx context.Context, in SecondStep, start SessionStart) (*Login, error) {
	v := blog.Validator{Problems: in.Problems}
	v.Check(v.Reported("otp") || in.OTP != "", "missing", "Field required", "body", "otp")
	if err := v.Err("otp"); err != nil {
		return nil, err
	}
	c, ok := a.twoFactor.ParseChallenge(in.Challenge)
	if !ok || !a.now().Before(c.Expires) {
		return nil, blog.ErrInvalidChallenge
	}
	user, err := a.store.User(ctx, c.UserID)
	if errors.Is(err, blog.ErrUserNotFound) {
		return nil, blog.ErrInvalidChallenge
	}
	if err != nil {
		return nil, err
	}
	if !a.twoFactor.MatchesPassword(c, user.PasswordHash) {
		return nil, blog.ErrInvalidChallenge
	}
	if err := a.claimAttempt(ctx, loginKeys(user)...); err != nil {
		return nil, err
	}
	var login *Login
	err = a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		login = nil
		// The password must still be the one the challenge was issued
		// under, and two-factor login still on.
		if err := tx.SetPasswordHash(ctx, user.ID, user.PasswordHash, user.PasswordHash); err != nil {
			return err
		}
		f, err := tx.TOTP(ctx, user.ID)
		if err != nil {
			return err
		}
		if !f.Enabled() {
			return blog.ErrInvalidChallenge
		}
		if ok, err := tx.UseLoginChallenge(ctx, c.ID, c.Expires); err != nil {
			return err
		} else if !ok {
			return blog.ErrInvalidChallenge
		}
		if err := a.checkSecondFactor(ctx, tx, user, in.OTP); errors.Is(err, blog.ErrOTPRequired) {
			return blog.ErrBadOTP // blank after all: the form's own check was skipped
		} else if err != nil {
			return err
		}
		if a.throttle {
			if err := tx.ClearLoginFailures(ctx, loginKeys(user)...); err != nil {
				return err
			}
		}
		login, err = a.startSession(ctx, tx, user, start)
		return err
	})
	if errors.Is(err, blog.ErrInvalidToken) || errors.Is(err, blog.ErrUserNotFound) {
		return nil, blog.ErrInvalidChallenge
	}
	if err != nil {
		return nil, err
	}
	return login, nil
}
