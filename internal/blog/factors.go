package blog

import "time"

// Second factors: what a login needs besides the password once an account
// has turned two-factor login on.

// TOTP is an account's authenticator app (RFC 6238 time-based one-time
// passwords). An account has at most one. Its secret is kept sealed
// (package auth): only the server secret opens it, and only for its user.
type TOTP struct {
	UserID int64
	Sealed []byte
	// CreatedAt is when the enrolment started.
	CreatedAt time.Time
	// ConfirmedAt is when a first code confirmed it; zero while the
	// enrolment is pending, when a login does not ask for a code.
	ConfirmedAt time.Time
	// LastStep is the time step of the last code accepted: no code of
	// that step or an earlier one is accepted again.
	LastStep int64
}

// Enabled reports whether logins must give a code.
func (t *TOTP) Enabled() bool { return t != nil && !t.ConfirmedAt.IsZero() }

// RecoveryCodes is how many recovery codes a confirmed enrolment makes.
const RecoveryCodes = 10

// Errors of second factors. A wrong code is invalid_otp in both of its
// forms: 400 where a logged-in user confirms or turns off the factor,
// 401 at login, where the token endpoint adds OAuth2's invalid_grant.
var (
	ErrOTPRequired = &Error{Kind: Unauthenticated, Code: "otp_required",
		Message: "Two-factor login is on: enter the code from your authenticator app, or a recovery code"}
	ErrBadOTP = &Error{Kind: Unauthenticated, Code: "invalid_otp",
		Message: "Incorrect or already used code"}
	ErrInvalidOTP  = &Error{Kind: Invalid, Code: ErrBadOTP.Code, Message: ErrBadOTP.Message}
	ErrTOTPEnabled = &Error{Kind: Invalid, Code: "totp_enabled",
		Message: "Two-factor login is already on; turn it off first"}
	ErrTOTPNotStarted = &Error{Kind: Invalid, Code: "totp_not_started",
		Message: "Two-factor login is not being set up; start again"}
	ErrTOTPDisabled = &Error{Kind: Invalid, Code: "totp_not_enabled",
		Message: "Two-factor login is not on"}
	// ErrInvalidChallenge is the second step of a login in two steps
	// when its challenge is expired, already used, not ours, or was
	// issued before the password changed.
	ErrInvalidChallenge = &Error{Kind: Unauthenticated, Code: "invalid_login_challenge",
		Message: "This login has expired or was already used; log in again"}
)
