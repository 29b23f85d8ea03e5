// Package server is quill's HTTP front: it puts the JSON API (package
// api), the site (package site), the feeds, sitemap and robots.txt
// (package feeds) and the OpenAPI document (package openapi) behind one
// handler, with what every request goes through (request id,
// security headers, panic recovery, CORS, the access log). routes.go lists
// every route.
package server

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/klauspost/compress/gzhttp"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/server/api"
	"github.com/quill-blog/quill/internal/server/feeds"
	"github.com/quill-blog/quill/internal/server/httpx"
	"github.com/quill-blog/quill/internal/server/openapi"
	"github.com/quill-blog/quill/internal/server/site"
)

// Config holds what a Server needs. Every field is required unless its
// comment says otherwise.
type Config struct {
	App    *app.App
	Logger *slog.Logger
	// CSRF protects the pages' forms; derive it from the same secret as
	// the tokens (auth.NewCSRF).
	CSRF *auth.CSRF
	// PublicURL is the site's address as users reach it, without a
	// trailing slash. An https URL makes page cookies Secure behind a
	// TLS-terminating proxy, and its origin is trusted for form posts.
	PublicURL string

	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (TRUSTED_PROXIES); optional.
	TrustedProxies []netip.Prefix
	// CORSOrigins may call the API from a browser (CORS_ORIGINS); exact
	// origins such as "https://app.example.com"; optional.
	CORSOrigins []string
	// DisableRateLimits turns off the per-client allowances
	// (RATE_LIMITS=off): for benchmarks and tests only.
	DisableRateLimits bool
	// ObserveRequest, if not nil, is called once per request after it is
	// answered, with its route, method, status and how long it took; for
	// metrics. The route is the path of the pattern routes.go registered
	// ("/api/users/{user_id}"), RouteUnmatched or RoutePreflight: never
	// the request's path. It runs on the request's goroutine.
	ObserveRequest func(route, method string, status int, elapsed time.Duration)

	Now    func() time.Time // optional; time.Now
	Random io.Reader        // optional; crypto/rand.Reader
}

// Server serves quill over HTTP. Create it with New.
type Server struct {
	logger      *slog.Logger
	random      io.Reader
	api         *api.API
	site        *site.Site
	feeds       *feeds.Feeds
	corsOrigins map[string]struct{}
	mux         *http.ServeMux
	// compressed is serve behind the compression of responses.
	compressed http.Handler
	// apiPatterns are the patterns of every /api route and /health, as
	// registered: the OpenAPI document must describe exactly these.
	apiPatterns []string
	// notAllowed are the patterns registered to answer 405 (see
	// literalPathsOnly).
	notAllowed map[string]bool
	observe    func(route, method string, status int, elapsed time.Duration)
}

// New returns a Server with every route registered.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	clients := httpx.NewClients(cfg.TrustedProxies)
	var limits *httpx.Allowances
	if !cfg.DisableRateLimits {
		limits = httpx.NewAllowances(cfg.Now)
	}
	s := &Server{
		logger: cfg.Logger,
		random: cfg.Random,
		api: api.New(api.Config{
			App: cfg.App, Logger: cfg.Logger, Clients: clients, Limits: limits, Now: cfg.Now,
		}),
		site: site.New(site.Config{
			App: cfg.App, Logger: cfg.Logger, Clients: clients, Limits: limits,
			CSRF: cfg.CSRF, PublicURL: cfg.PublicURL, Now: cfg.Now, Random: cfg.Random,
		}),
		feeds:       feeds.New(feeds.Config{App: cfg.App, PublicURL: cfg.PublicURL}),
		corsOrigins: make(map[string]struct{}, len(cfg.CORSOrigins)),
		mux:         http.NewServeMux(),
		notAllowed:  map[string]bool{},
		observe:     cfg.ObserveRequest,
	}
	for _, o := range cfg.CORSOrigins {
		s.corsOrigins[o] = struct{}{}
	}
	s.routes(openapi.JSON())
	s.compressed = compress(http.HandlerFunc(s.serve))
	return s
}

// compress wraps h so that text responses of 1 KiB or more (pages, JSON,
// the OpenAPI document) are compressed for clients that accept it: gzip,
// or zstd for a client that prefers it or takes only that (at the levels
// a response is compressed at as it is sent, gzip's output is the
// smaller). Pictures and other compressed types are left alone
// (httpx.Compressible), as are responses to Range requests; a compressed
// response's ETag gets a suffix, being another representation, which
// conditional requests may name (conditionalCodings).
// Vary: Accept-Encoding is always set.
func compress(h http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(1024),
		gzhttp.ContentTypeFilter(httpx.Compressible),
		gzhttp.SuffixETag("-gzip"),
		gzhttp.PreferZstd(false),
	)
	if err != nil {
		panic(err) // the options are constants
	}
	return wrap(conditionalCodings(h))
}

// ServeHTTP runs every request through the same steps: compression
// (outside /static/, whose files come compressed already, and /media/,
// which holds pictures), a request id, the security headers,
// trailing-slash folding, panic recovery, CORS, the router, and one
// access-log line. The log names the path only: query strings may carry
// secrets (reset links).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; p == "/static" || strings.HasPrefix(p, "/static/") || strings.HasPrefix(p, "/media/") {
		s.serve(w, r)
		return
	}
	s.compressed.ServeHTTP(w, r)
}

// serve is ServeHTTP but for compression.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := s.requestID()
	r = r.WithContext(app.WithRequestID(r.Context(), id))
	h := w.Header()
	h.Set("X-Request-Id", id)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("X-Frame-Options", "DENY")
	if !isAPI(r.URL.Path) {
		h.Set("Content-Security-Policy", site.CSP)
	}
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", HSTS)
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
	preflight := false
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			httpx.Log(s.logger, r).Error("panic", "value", v)
			if !rec.wrote {
				s.fail(rec, r, errPanic)
			}
		}
		elapsed := time.Since(start)
		// LogAttrs on the server's logger writes the same line as a
		// logger With the request id would, without cloning a logger per
		// request.
		s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("request_id", id),
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", elapsed))
		if s.observe != nil {
			s.observe(s.routeLabel(r, preflight), r.Method, rec.sent(), elapsed)
		}
	}()
	if s.cors(rec, r) {
		preflight = true
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// HSTS is the Strict-Transport-Security of every response quill sends
// over TLS: browsers use HTTPS for the host for a year. Not for its
// subdomains, which may be other sites, nor preloaded: both are the
// domain owner's choice.
const HSTS = "max-age=31536000"

// errPanic stands for a handler that panicked: a server fault.
var errPanic = errors.New("handler panicked")

// fail renders err as the API's JSON under /api/ and /health, and as an
// HTML page elsewhere.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if isAPI(r.URL.Path) {
		httpx.WriteError(s.logger, w, r, err)
		return
	}
	s.site.Error(w, r, err)
}

// isAPI reports whether path is under /api/ (or is /api), or is /health:
// errors there are JSON, elsewhere HTML pages.
func isAPI(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/") || path == "/health"
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

// sent is the status the client got: 200 when the handler wrote nothing.
func (r *statusRecorder) sent() int {
	if !r.wrote {
		return http.StatusOK
	}
	return r.status
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
