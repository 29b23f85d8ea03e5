package blog

import (
	"errors"
	"time"
)

// Kind classifies an error so the HTTP layer can pick a status in one place.
type Kind uint8

// Kinds of error. The zero Kind is Internal: an error nobody classified is a
// server fault and its text is never shown to clients.
const (
	Internal        Kind = iota // 500
	Invalid                     // 400: well-formed but refused (name taken, wrong password)
	Unauthenticated             // 401
	Forbidden                   // 403
	NotFound                    // 404
	Unprocessable               // 422: validation failed; see Problems
	TooManyRequests             // 429: see RetryAfter
	Unavailable                 // 503: see RetryAfter
)

// Error is an error a client may see: Message is safe to show and Code is a
// stable machine-readable name.
type Error struct {
	Kind       Kind
	Code       string
	Message    string
	Problems   []Problem     // field problems, for Unprocessable
	RetryAfter time.Duration // for TooManyRequests and Unavailable
}

func (e *Error) Error() string { return e.Message }

// Problem is one reason a request failed validation, in FastAPI's shape:
// Loc is the place ("body", "password"), Type a stable name and Msg the
// human text. It never includes the submitted value.
type Problem struct {
	Type string `json:"type"`
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
}

// Errors every part of quill reports the same way.
var (
	ErrUsernameTaken    = &Error{Kind: Invalid, Code: "username_taken", Message: "Username already registered"}
	ErrEmailTaken       = &Error{Kind: Invalid, Code: "email_taken", Message: "Email already registered"}
	ErrUserNotFound     = &Error{Kind: NotFound, Code: "user_not_found", Message: "User not found"}
	ErrPostNotFound     = &Error{Kind: NotFound, Code: "post_not_found", Message: "Post not found"}
	ErrSessionNotFound  = &Error{Kind: NotFound, Code: "session_not_found", Message: "Session not found"}
	ErrNotAuthenticated = &Error{Kind: Unauthenticated, Code: "not_authenticated", Message: "Not authenticated"}
	ErrInvalidToken     = &Error{Kind: Unauthenticated, Code: "invalid_token", Message: "Invalid authentication credentials"}
	ErrBadCredentials   = &Error{Kind: Unauthenticated, Code: "invalid_credentials", Message: "Incorrect username or password"}
	ErrWrongPassword    = &Error{Kind: Invalid, Code: "wrong_password", Message: "Current password is incorrect"}
	ErrNeedPassword     = &Error{Kind: Invalid, Code: "current_password_required",
		Message: "Current password is required to change the email or password"}
	ErrNoPicture       = &Error{Kind: Invalid, Code: "no_picture", Message: "No profile picture to delete"}
	ErrPictureNotFound = &Error{Kind: NotFound, Code: "picture_not_found", Message: "Picture not found"}
	ErrInvalidReset    = &Error{Kind: Invalid, Code: "invalid_reset_token", Message: "Invalid or expired reset token"}
	ErrInvalidRefresh  = &Error{Kind: Unauthenticated, Code: "invalid_refresh_token", Message: "Invalid or expired refresh token"}
	// ErrRefreshReused is what a client sees when it presents a refresh
	// token that was already used: the same answer as ErrInvalidRefresh
	// (the session has just ended), but the server can tell and log it.
	ErrRefreshReused = &Error{Kind: Unauthenticated, Code: ErrInvalidRefresh.Code, Message: ErrInvalidRefresh.Message}

	// ErrUnavailable is the store's answer when the database cannot be
	// reached or cannot serve now (PostgreSQL down or restarting, SQLite
	// locked by another process past the busy timeout): the client should
	// try again after RetryAfter.
	ErrUnavailable = &Error{Kind: Unavailable, Code: "database_unavailable", Message: "Database unavailable", RetryAfter: 5 * time.Second}
)

// Refusals to act on what belongs to someone else. As in the FastAPI
// tutorial, the message names the action.
var (
	ErrNotYourAccount       = Forbid("Not authorized to update this user")
	ErrNotYourAccountDelete = Forbid("Not authorized to delete this user")
	ErrNotYourPost          = Forbid("Not authorized to update this post")
	ErrNotYourPostDelete    = Forbid("Not authorized to delete this post")
)

// Forbid returns a 403 error with the given message, such as
// "Not authorized to update this post".
func Forbid(msg string) *Error {
	return &Error{Kind: Forbidden, Code: "forbidden", Message: msg}
}

// ErrorKind is the Kind of err, or Internal when err is not an *Error.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}
