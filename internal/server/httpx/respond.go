// Package httpx is the HTTP plumbing quill's API and site share: reading
// request bodies and parameters, rendering errors, the client's address
// behind proxies, and the per-client allowances. It knows nothing of
// routes or pages.
package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
)

// HandlerFunc is an HTTP handler that returns its error instead of writing
// it, so errors are rendered in one place with one status mapping.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// statusOf maps domain error kinds to HTTP statuses: the only such table.
var statusOf = [...]int{
	blog.Internal:        http.StatusInternalServerError,
	blog.Invalid:         http.StatusBadRequest,
	blog.Unauthenticated: http.StatusUnauthorized,
	blog.Forbidden:       http.StatusForbidden,
	blog.NotFound:        http.StatusNotFound,
	blog.Unprocessable:   http.StatusUnprocessableEntity,
	blog.TooManyRequests: http.StatusTooManyRequests,
	blog.Unavailable:     http.StatusServiceUnavailable,
}

// Status is the HTTP status of an error of kind k.
func Status(k blog.Kind) int {
	if int(k) < len(statusOf) {
		return statusOf[k]
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON of every API error. Detail is a string, or the list
// of problems for validation errors (FastAPI's shape). Error and
// ErrorDescription are OAuth2's (RFC 6749 §5.2), on token endpoint
// failures only.
type errorBody struct {
	Detail           any    `json:"detail"`
	Code             string `json:"code"`
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// WriteError renders err as the API's JSON error. Errors that are neither
// *blog.Error nor *HTTPError are server faults: they are logged with the
// request id and the client learns nothing about them.
func WriteError(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	status, body := errorResponse(log, w.Header(), r, err)
	WriteJSON(w, status, body)
}

// WriteOAuthError renders err as WriteError does, adding OAuth2's error
// code and a description: the token endpoint's error responses (RFC 6749
// §5.2).
func WriteOAuthError(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	status, body := errorResponse(log, w.Header(), r, err)
	body.Error = oauthErrorCode(status, body.Code)
	switch d := body.Detail.(type) {
	case string:
		body.ErrorDescription = d
	case []blog.Problem:
		body.ErrorDescription = describeProblems(d)
	}
	WriteJSON(w, status, body)
}

// errorResponse is the status and body of err, whose headers it sets in h.
func errorResponse(log *slog.Logger, h http.Header, r *http.Request, err error) (int, errorBody) {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Status, errorBody{Detail: he.Message, Code: he.Code}
	}
	e := Classify(log, r, err)
	switch {
	case e.Code == blog.ErrInvalidToken.Code:
		h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	case e.Kind == blog.Unauthenticated:
		// Every 401 says how to authenticate (RFC 9110 §15.5.2).
		h.Set("WWW-Authenticate", "Bearer")
	}
	SetRetryAfter(h, e.RetryAfter)
	body := errorBody{Detail: e.Message, Code: e.Code}
	if e.Kind == blog.Unprocessable {
		body.Detail = e.Problems
	}
	return Status(e.Kind), body
}

// oauthErrorCode is OAuth2's error code for a token endpoint failure.
// RFC 6749 §5.2 names the request's faults; for a server that cannot
// answer now, or at all, the codes are those its §4.1.2.1 gives the
// authorization endpoint.
func oauthErrorCode(status int, code string) string {
	switch {
	case code == blog.ErrBadCredentials.Code || code == blog.ErrInvalidRefresh.Code ||
		code == blog.ErrOTPRequired.Code || code == blog.ErrBadOTP.Code:
		return "invalid_grant"
	case code == ErrUnsupportedGrant.Code:
		return "unsupported_grant_type"
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return "temporarily_unavailable"
	case status >= 500:
		return "server_error"
	default: // 400, 413, 415, 422: the request is malformed
		return "invalid_request"
	}
}

// describeProblems puts validation problems in one line, such as
// "username: Field required; password: Field required", each named by
// the last part of its loc.
func describeProblems(ps []blog.Problem) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Msg
		if len(p.Loc) > 0 {
			parts[i] = fmt.Sprint(p.Loc[len(p.Loc)-1]) + ": " + p.Msg
		}
	}
	return strings.Join(parts, "; ")
}

// WriteUnavailable renders the 503 of a database that does not answer.
func WriteUnavailable(w http.ResponseWriter) {
	e := blog.ErrUnavailable
	SetRetryAfter(w.Header(), e.RetryAfter)
	WriteJSON(w, Status(e.Kind), errorBody{Detail: e.Message, Code: e.Code})
}

// SetRetryAfter sets Retry-After to d in whole seconds, rounded up, if d is
// positive.
func SetRetryAfter(h http.Header, d time.Duration) {
	if d > 0 {
		h.Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
}

// Classify turns any error into a *blog.Error fit for a client, logging
// the ones that are server faults, and the database failures behind a
// blog.ErrUnavailable (the client learns only that it may try again).
func Classify(log *slog.Logger, r *http.Request, err error) *blog.Error {
	var e *blog.Error
	if errors.As(err, &e) && e.Kind != blog.Internal && int(e.Kind) < len(statusOf) {
		if e == blog.ErrUnavailable && err != e {
			Log(log, r).Warn("database unavailable", "err", err)
		}
		return e
	}
	if r.Context().Err() != nil {
		// The client went away: nobody reads the answer, nothing is broken.
		Log(log, r).Info("request abandoned by the client", "err", err)
		return errInternal
	}
	Log(log, r).Error("request failed", "err", err)
	return errInternal
}

// HTTPError is a failure of the HTTP exchange itself (wrong method, media
// type or size, a form from another site), which has no domain kind.
type HTTPError struct {
	Status  int
	Code    string
	Message string
}

func (e *HTTPError) Error() string { return e.Message }

var (
	errInternal = &blog.Error{Kind: blog.Internal, Code: "internal_error", Message: "Internal server error"}
	// ErrUnsupportedGrant is the token endpoint's answer to a grant_type
	// it does not know.
	ErrUnsupportedGrant = &blog.Error{Kind: blog.Invalid, Code: "unsupported_grant_type", Message: "Unsupported grant type"}
	ErrNotFound         = &HTTPError{http.StatusNotFound, "not_found", "Not Found"}
	ErrMethodNotAllowed = &HTTPError{http.StatusMethodNotAllowed, "method_not_allowed", "Method Not Allowed"}
	ErrUnsupportedMedia = &HTTPError{http.StatusUnsupportedMediaType, "unsupported_media_type", "Unsupported media type"}
	ErrTooLarge         = &HTTPError{http.StatusRequestEntityTooLarge, "request_too_large", "Request body too large"}
)

// JSONAppender is a response shape that appends its own JSON (see
// shapes.go).
type JSONAppender interface {
	AppendJSON(b []byte) []byte
}

// jsonBuffers recycles the buffers hand-encoded bodies are built in.
var jsonBuffers = sync.Pool{New: func() any { return new([]byte) }}

// WriteJSON writes v with the given status. Encoding our own response
// types cannot fail except through the connection, which is not the
// client's business to hear about. Shapes that encode themselves are
// written in one piece, with a Content-Length.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	if a, ok := v.(JSONAppender); ok {
		buf := jsonBuffers.Get().(*[]byte)
		b := append(a.AppendJSON((*buf)[:0]), '\n') // as json.Encoder ends a value
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(status)
		_, _ = w.Write(b)
		if cap(b) <= 64<<10 { // a huge page's buffer is left to the GC
			*buf = b
			jsonBuffers.Put(buf)
		}
		return
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// AppendJSONString appends s as a JSON string exactly as encoding/json
// does with HTML escaping off: quotes, backslashes and control characters
// escaped (\b \f \n \r \t by name, others as \u00XX), invalid UTF-8 as
// \ufffd, and U+2028 and U+2029 escaped for JavaScript's sake.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Log is log with r's request id (app.WithRequestID), if it has one.
func Log(log *slog.Logger, r *http.Request) *slog.Logger {
	if id := app.RequestID(r.Context()); id != "" {
		return log.With("request_id", id)
	}
	return log
}
