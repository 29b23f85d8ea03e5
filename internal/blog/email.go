package blog

import "time"

// Verified email addresses. An account's address is verified once a link
// mailed to it has been opened and confirmed; a new address, and every
// address of an account made before verification existed or imported, is
// unverified until then. EmailVerifyEvery bounds how often an account may
// ask for the link again.
const (
	// EmailVerifyTTL is how long a verification link works.
	EmailVerifyTTL = 24 * time.Hour
	// EmailVerifyEvery: an account is sent at most one verification link
	// this often when it asks for one again.
	EmailVerifyEvery = time.Minute
)

// EmailVerified reports whether the account's current address has been
// confirmed.
func (u *User) EmailVerified() bool { return !u.EmailVerifiedAt.IsZero() }

// Errors of email verification.
var (
	ErrInvalidVerification = &Error{Kind: Invalid, Code: "invalid_verification_token",
		Message: "Invalid or expired verification link"}
	ErrEmailVerified = &Error{Kind: Invalid, Code: "email_already_verified",
		Message: "Your email address is already verified"}
	ErrEmailUnverified = &Error{Kind: Forbidden, Code: "email_unverified",
		Message: "Confirm your email address before you write: open the link we mailed you, or ask for a new one on your account page"}
)

// TooSoonToVerify is the 429 for an account that asks for another
// verification link less than EmailVerifyEvery after the last one.
func TooSoonToVerify(wait time.Duration) *Error {
	return &Error{Kind: TooManyRequests, Code: "verification_too_soon",
		Message: "A verification link was sent less than a minute ago; try again later", RetryAfter: wait}
}
