package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// handlerFunc is an HTTP handler that returns its error instead of writing
// it, so errors are rendered in one place (handle) with one status mapping.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts h to http.Handler, rendering any error it returns.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.apiError(w, r, err)
		}
	})
}

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

// errorBody is the JSON of every API error. Detail is a string, or the list
// of problems for validation errors (FastAPI's shape). Error is OAuth2's
// error code, present on token endpoint failures only.
type errorBody struct {
	Detail any    `json:"detail"`
	Code   string `json:"code"`
	Error  string `json:"error,omitempty"`
}

// apiError renders err as JSON. Errors that are neither *blog.Error nor
// *httpError are server faults: they are logged with the request id and the
// client learns nothing about them.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	if errors.As(err, &he) {
		writeJSON(w, he.status, errorBody{Detail: he.message, Code: he.code})
		return
	}
	e := s.classify(r, err)
	h := w.Header()
	switch e.Code {
	case blog.ErrNotAuthenticated.Code, blog.ErrBadCredentials.Code, blog.ErrInvalidRefresh.Code:
		h.Set("WWW-Authenticate", "Bearer")
	case blog.ErrInvalidToken.Code:
		h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	setRetryAfter(h, e.RetryAfter)
	body := errorBody{Detail: e.Message, Code: e.Code}
	if e.Kind == blog.Unprocessable {
		body.Detail = e.Problems
	}
	switch e.Code {
	case blog.ErrBadCredentials.Code, blog.ErrInvalidRefresh.Code:
		body.Error = "invalid_grant"
	case errUnsupportedGrant.Code:
		body.Error = "unsupported_grant_type"
	}
	writeJSON(w, statusOf[e.Kind], body)
}

// setRetryAfter sets Retry-After to d in whole seconds, rounded up, if d is
// positive.
func setRetryAfter(h http.Header, d time.Duration) {
	if d > 0 {
		h.Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
}

// classify turns any error into a *blog.Error fit for a client, logging
// the ones that are server faults, and the database failures behind a
// blog.ErrUnavailable (the client learns only that it may try again).
func (s *Server) classify(r *http.Request, err error) *blog.Error {
	var e *blog.Error
	if errors.As(err, &e) && e.Kind != blog.Internal && int(e.Kind) < len(statusOf) {
		if e == blog.ErrUnavailable && err != e {
			s.log(r).Warn("database unavailable", "err", err)
		}
		return e
	}
	if r.Context().Err() != nil {
		// The client went away: nobody reads the answer, nothing is broken.
		s.log(r).Info("request abandoned by the client", "err", err)
		return errInternal
	}
	s.log(r).Error("request failed", "err", err)
	return errInternal
}

// httpError is a failure of the HTTP exchange itself (wrong method, media
// type or size), which has no domain kind.
type httpError struct {
	status        int
	code, message string
}

func (e *httpError) Error() string { return e.message }

var (
	errInternal         = &blog.Error{Kind: blog.Internal, Code: "internal_error", Message: "Internal server error"}
	errUnsupportedGrant = &blog.Error{Kind: blog.Invalid, Code: "unsupported_grant_type", Message: "Unsupported grant type"}
	errNotFound         = &httpError{http.StatusNotFound, "not_found", "Not Found"}
	errMethodNotAllowed = &httpError{http.StatusMethodNotAllowed, "method_not_allowed", "Method Not Allowed"}
	errUnsupportedMedia = &httpError{http.StatusUnsupportedMediaType, "unsupported_media_type", "Unsupported media type"}
	errTooLarge         = &httpError{http.StatusRequestEntityTooLarge, "request_too_large", "Request body too large"}
)

// writeJSON writes v with the given status. Encoding our own response
// types cannot fail except through the connection, which is not the
// client's business to hear about.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// log is the server's logger with this request's id.
func (s *Server) log(r *http.Request) *slog.Logger {
	if id, ok := r.Context().Value(requestIDKey{}).(string); ok {
		return s.logger.With("request_id", id)
	}
	return s.logger
}

// isAPI reports whether path is under /api/ (or is /api), or is /health:
// errors there are JSON, elsewhere HTML pages.
func isAPI(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/") || path == "/health"
}
