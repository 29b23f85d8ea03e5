// Package server is quill's HTTP layer: the JSON API, the pages and the
// docs, over the domain in package blog and the store in package sqlstore.
package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/mail"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// Config holds what a Server needs. Every field is required unless its
// comment says otherwise.
type Config struct {
	Store  *sqlstore.Store
	Hasher *auth.Hasher
	Policy *auth.Policy
	Tokens *auth.Tokens
	Logger *slog.Logger

	SessionTTL time.Duration    // how long a login lasts (the refresh token's life)
	Now        func() time.Time // optional; time.Now
	Random     io.Reader        // optional; crypto/rand.Reader

	// PublicURL is the site's address as users reach it, without a
	// trailing slash: the base of links in emails. An https URL also makes
	// page cookies Secure behind a TLS-terminating proxy, and its origin is
	// trusted for form posts.
	PublicURL string
	// Mailer sends email; optional: nil writes every mail, links
	// included, to Logger (development only).
	Mailer Mailer
	// CSRF protects the pages' forms; derive it from the same secret as
	// Tokens (auth.NewCSRF).
	CSRF *auth.CSRF
}

// Mailer sends one email. mail.SMTP and mail.Log are the two kinds.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Server serves quill over HTTP. Create it with NewServer.
type Server struct {
	store      *sqlstore.Store
	hasher     *auth.Hasher
	policy     *auth.Policy
	tokens     *auth.Tokens
	logger     *slog.Logger
	sessionTTL time.Duration
	now        func() time.Time
	random     io.Reader
	publicURL  string
	mailer     Mailer

	csrf        *auth.CSRF
	crossOrigin *http.CrossOriginProtection
	httpsOnly   bool // PublicURL is https: cookies are Secure even if the request came over HTTP

	pictures *memoryBudget // shared by the picture uploads being decoded

	mux      *http.ServeMux
	lastUsed *lastUsed   // session use times not yet written
	resets   *resetQueue // password reset mails not yet sent
	// apiPatterns are the patterns of every /api route and /health, as
	// registered: the OpenAPI document must describe exactly these.
	apiPatterns []string
	openAPI     []byte // the OpenAPI document, as served
}

// NewServer returns a Server with every route registered.
func NewServer(cfg Config) *Server {
	s := &Server{
		store:      cfg.Store,
		hasher:     cfg.Hasher,
		policy:     cfg.Policy,
		tokens:     cfg.Tokens,
		logger:     cfg.Logger,
		sessionTTL: cfg.SessionTTL,
		now:        cfg.Now,
		random:     cfg.Random,
		csrf:       cfg.CSRF,
		publicURL:  strings.TrimSuffix(cfg.PublicURL, "/"),
		mailer:     cfg.Mailer,
		mux:        http.NewServeMux(),
		lastUsed:   newLastUsed(),
		resets:     newResetQueue(),

		pictures: newMemoryBudget(pictureBudget, pictureWait),
	}
	s.crossOrigin = http.NewCrossOriginProtection()
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Host != "" {
		s.httpsOnly = u.Scheme == "https"
		// Behind a proxy that rewrites Host, the public origin is still ours.
		_ = s.crossOrigin.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	if s.csrf == nil {
		s.csrf = auth.NewCSRF(nil) // accepts no form: better than forms without protection
	}
	if s.mailer == nil {
		s.mailer = mail.NewLog(s.logger)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	s.openAPI = openAPIJSON()
	s.routes()
	return s
}

type requestIDKey struct{}

// ServeHTTP runs every request through the same steps: a request id, the
// security headers, panic recovery, trailing-slash folding, the router, and
// one access-log line.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := s.requestID()
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
	h := w.Header()
	h.Set("X-Request-Id", id)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("X-Frame-Options", "DENY")
	if !isAPI(r.URL.Path) {
		h.Set("Content-Security-Policy", pageCSP)
	}

	// Paths match with or without one trailing slash, without a redirect.
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		u := *r.URL
		u.Path = strings.TrimSuffix(p, "/")
		u.RawPath = ""
		r2 := *r
		r2.URL = &u
		r = &r2
	}

	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log(r).Error("panic", "value", v)
			if !rec.wrote {
				s.apiError(rec, r, errInternal)
			}
		}
		// LogAttrs on the server's logger writes the same line as
		// s.log(r).Info, without cloning a logger per request.
		s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("request_id", id),
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
	}()
	s.mux.ServeHTTP(rec, r)
}

// requestID returns a short random id for log correlation.
func (s *Server) requestID() string {
	var b [9]byte
	if _, err := io.ReadFull(s.random, b[:]); err != nil {
		return "-"
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// statusRecorder remembers the status a handler wrote, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
