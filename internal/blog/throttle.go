package blog

import "time"

// Login throttling. Failed logins are counted per LoginKey of
// what was typed, whether or not such an account exists, so a throttled
// reply says nothing about which accounts exist. The first FreeLoginFailures
// consecutive failures cost nothing; after that each further attempt must
// wait LoginDelay, which doubles with every failure up to MaxLoginDelay. A
// success resets the count, and the delay is capped, so an account is never
// locked for good: its owner, with the right password, gets in once the
// delay has passed.
const (
	FreeLoginFailures = 5
	FirstLoginDelay   = 30 * time.Second
	MaxLoginDelay     = 15 * time.Minute
)

// LoginDelay is how long a login for a key must wait after failures
// consecutive failed attempts: 0 up to FreeLoginFailures, then
// FirstLoginDelay, doubling with each failure, at most MaxLoginDelay.
func LoginDelay(failures int) time.Duration {
	if failures < FreeLoginFailures {
		return 0
	}
	d := FirstLoginDelay
	for range failures - FreeLoginFailures {
		if d >= MaxLoginDelay {
			break
		}
		d *= 2
	}
	return min(d, MaxLoginDelay)
}

// TooManyLogins is the 429 for a login attempt made before its key's
// LoginDelay has passed. It is the same for every key, known or not.
func TooManyLogins(wait time.Duration) *Error {
	return &Error{Kind: TooManyRequests, Code: "login_throttled",
		Message: "Too many failed login attempts; try again later", RetryAfter: wait}
}

// RateLimited is the 429 for a client that sent more requests of some
// kind than its per-minute allowance.
func RateLimited(wait time.Duration) *Error {
	return &Error{Kind: TooManyRequests, Code: "rate_limited",
		Message: "Too many requests; try again later", RetryAfter: wait}
}
