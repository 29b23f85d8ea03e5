// Package site is quill's web site: server-rendered pages and forms that
// work without JavaScript, over the same use cases as the API (package
// app). Its routes are registered by package server.
package site

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
	"github.com/quill-blog/quill/web"
)

// Config holds what the site needs. Every field is required unless its
// comment says otherwise.
type Config struct {
	App     *app.App
	Logger  *slog.Logger
	Clients *httpx.Clients
	// Limits are the per-client allowances; optional: nil allows
	// everything.
	Limits *httpx.Allowances
	// CSRF protects the forms; derive it from the same secret as the
	// tokens (auth.NewCSRF). Nil accepts no form.
	CSRF *auth.CSRF
	// PublicURL is the site's address as users reach it. An https URL
	// makes cookies Secure behind a TLS-terminating proxy, and its origin
	// is trusted for form posts.
	PublicURL string
	Now       func() time.Time // optional; time.Now
	Random    io.Reader        // optional; crypto/rand.Reader
}

// Site serves the pages. Its methods are the handlers package server
// routes to.
type Site struct {
	app         *app.App
	logger      *slog.Logger
	clients     *httpx.Clients
	limits      httpx.Allowances
	csrf        *auth.CSRF
	crossOrigin *http.CrossOriginProtection
	httpsOnly   bool // PublicURL is https: cookies are Secure even if the request came over HTTP
	publicURL   string
	now         func() time.Time
	random      io.Reader
}

// New returns the site.
func New(cfg Config) *Site {
	s := &Site{
		app:         cfg.App,
		logger:      cfg.Logger,
		clients:     cfg.Clients,
		csrf:        cfg.CSRF,
		crossOrigin: http.NewCrossOriginProtection(),
		now:         cfg.Now,
		random:      cfg.Random,
	}
	if cfg.Limits != nil {
		s.limits = *cfg.Limits
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Host != "" {
		s.httpsOnly = u.Scheme == "https"
		s.publicURL = strings.TrimSuffix(cfg.PublicURL, "/")
		// Behind a proxy that rewrites Host, the public origin is still ours.
		_ = s.crossOrigin.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	if s.csrf == nil {
		s.csrf = auth.NewCSRF(nil) // accepts no form: better than forms without protection
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	return s
}

// How pages authenticate (see docs/security.md): a page login creates a session
// exactly as an API login does, and its access token, issued to last as
// long as the session, travels in an HttpOnly, SameSite=Lax cookie (Secure
// over HTTPS). Every page request checks it as the API checks a bearer
// token, session and user included, so logging out or revoking a session
// takes effect at once. The API never reads the cookie. Every form that
// changes something carries a CSRF token bound to the session (or, before
// login, to a random cookie), and form posts from another origin are
// refused (Sec-Fetch-Site, Origin).

// CSP is the Content-Security-Policy of everything outside /api/:
// scripts, styles and everything else from this origin only, no inline
// script or style.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// Cookie names. Over HTTPS they get the __Host- prefix, which the browser
// accepts only with Secure, Path=/ and no Domain, so a sibling subdomain
// cannot plant them.
const (
	sessionCookie = "quill_session"
	csrfCookie    = "quill_csrf"
	csrfField     = "csrf_token"
)

var (
	errCSRF        = &httpx.HTTPError{Status: http.StatusForbidden, Code: "csrf_failed", Message: "This form has expired or did not come from this site. Go back, reload the page and try again."}
	errCrossOrigin = &httpx.HTTPError{Status: http.StatusForbidden, Code: "cross_origin", Message: "Forms may only be sent from this site."}
)

// pageFunc is a page handler. c is who is logged in, or nil.
type pageFunc func(w http.ResponseWriter, r *http.Request, c *app.Caller) error

// Page adapts a handler whose errors become HTML error pages.
func (s *Site) Page(h httpx.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.Error(w, r, err)
		}
	})
}

// Public serves a page anyone may see; c is nil for visitors.
func (s *Site) Public(h pageFunc) http.Handler {
	return s.sitePage(h, false, false)
}

// Member serves a page for logged-in users only; visitors are sent to
// the login page, and come back after logging in.
func (s *Site) Member(h pageFunc) http.Handler {
	return s.sitePage(h, true, false)
}

// MemberUpload is Member for a multipart upload that h reads itself,
// streaming: h must check the CSRF token in it (checkCSRF) before it
// changes anything.
func (s *Site) MemberUpload(h pageFunc) http.Handler {
	return s.sitePage(h, true, true)
}

type pageCallerKey struct{}

// sitePage finds who is logged in, and for a form post (any method but GET
// and HEAD) checks that it came from this site and, unless h reads the
// body itself, that it carries a valid CSRF token, before h runs.
func (s *Site) sitePage(h pageFunc, members, upload bool) http.Handler {
	return s.Page(func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.pageCaller(w, r)
		if err != nil {
			return err
		}
		r = r.WithContext(context.WithValue(r.Context(), pageCallerKey{}, c))
		if c != nil {
			// Pages that know who you are are for you alone.
			w.Header().Set("Cache-Control", "no-store")
		}
		w.Header().Add("Vary", "Cookie")
		if members && c == nil {
			next := "/login"
			if r.Method == http.MethodGet {
				next += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, next, http.StatusSeeOther)
			return nil
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := s.crossOrigin.Check(r); err != nil {
				return errCrossOrigin
			}
			if !upload {
				if _, err := httpx.ParseForm(w, r); err != nil {
					return err
				}
				if err := s.checkCSRF(r, c, r.PostForm.Get(csrfField)); err != nil {
					return err
				}
			}
		}
		return h(w, r, c)
	})
}

// secure reports whether cookies for r must be Secure: the request came
// over TLS, or the site's public URL is https.
func (s *Site) secure(r *http.Request) bool {
	return r.TLS != nil || s.httpsOnly
}

// cookieName is name as the cookie is called on r's connection.
func (s *Site) cookieName(r *http.Request, name string) string {
	if s.secure(r) {
		return "__Host-" + name
	}
	return name
}

// pageCaller returns who the session cookie says is logged in, or nil. A
// cookie that no longer works (logged out, revoked, expired) is removed.
func (s *Site) pageCaller(w http.ResponseWriter, r *http.Request) (*app.Caller, error) {
	ck, err := r.Cookie(s.cookieName(r, sessionCookie))
	if err != nil {
		return nil, nil
	}
	c, err := s.app.Authenticate(r.Context(), ck.Value)
	if blog.ErrorKind(err) == blog.Unauthenticated {
		s.clearSessionCookie(w, r)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// setSessionCookie logs the browser in to a session started for it
// (app.SessionStart.Browser): its cookie holds an access token that
// expires with the session.
func (s *Site) setSessionCookie(w http.ResponseWriter, r *http.Request, login *app.Login) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(r, sessionCookie),
		Value:    login.Access,
		Path:     "/",
		Expires:  login.AccessExpires,
		MaxAge:   int(login.AccessExpires.Sub(s.now()).Seconds()),
		HttpOnly: true,
		Secure:   s.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}

func (s *Site) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	s.clearCookie(w, r, sessionCookie)
}

// clearCookie deletes the site's cookie named name (before its __Host-
// prefix, see cookieName).
func (s *Site) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(r, name),
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   s.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// csrfToken is the token r's forms carry: bound to the session when
// someone is logged in, otherwise to a random cookie, set here if the
// browser has none yet. It is masked afresh for every page
// (auth.CSRF.MaskedToken), since pages are compressed.
func (s *Site) csrfToken(w http.ResponseWriter, r *http.Request, c *app.Caller) string {
	binding := ""
	if c != nil {
		binding = "session:" + c.Session.ID
	} else if ck, err := r.Cookie(s.cookieName(r, csrfCookie)); err == nil && ck.Value != "" {
		binding = "anon:" + ck.Value
	} else {
		var b [32]byte
		if _, err := io.ReadFull(s.random, b[:]); err != nil {
			return ""
		}
		value := base64.RawURLEncoding.EncodeToString(b[:])
		http.SetCookie(w, &http.Cookie{
			Name:     s.cookieName(r, csrfCookie),
			Value:    value,
			Path:     "/",
			HttpOnly: true,
			Secure:   s.secure(r),
			SameSite: http.SameSiteLaxMode,
		})
		binding = "anon:" + value
	}
	token, err := s.csrf.MaskedToken(binding, s.random)
	if err != nil {
		return ""
	}
	return token
}

// checkCSRF checks a posted form's token against the session, or against
// the pre-login cookie: a form shown before logging in (in another tab,
// say) stays good, and neither binding can be forged by another site.
func (s *Site) checkCSRF(r *http.Request, c *app.Caller, token string) error {
	if c != nil && s.csrf.Valid("session:"+c.Session.ID, token) {
		return nil
	}
	if ck, err := r.Cookie(s.cookieName(r, csrfCookie)); err == nil && ck.Value != "" && s.csrf.Valid("anon:"+ck.Value, token) {
		return nil
	}
	return errCSRF
}

// localPath returns next if it is a path on this site, else "/": a login
// must not be a way to send people elsewhere.
func localPath(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || next[0] != '/' || strings.HasPrefix(next, "//") ||
		strings.ContainsRune(next, '\\') || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

// seeOther redirects after a form post, so reloading does not post again.
func seeOther(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// view is what every page template gets.
type view struct {
	Title string
	Wide  bool       // the page needs the whole width (the docs)
	Me    *blog.User // who is logged in, or nil
	csrf  func() string
	Form  *form // the form being shown again with its errors, if any
	Data  any   // the page's own data
	Meta  meta  // what search engines, link previews and feed readers read (meta.go)
	// flash is the confirmation the page shows, if any; sectioned pages
	// (the account page) show each in its section.
	flash     *flash
	sectioned bool
	// Passkeys: the site can use them (not on an IP address), so the
	// pages offer them.
	Passkeys bool
}

// CSRF is the token the page's forms carry.
func (v view) CSRF() string { return v.csrf() }

// FlashIn is the confirmation to show in section ("": at the top of the
// page), or "".
func (v view) FlashIn(section string) string {
	if v.flash == nil {
		return ""
	}
	if v.flash.Section == section || (section == "" && !v.sectioned) {
		return v.flash.Message
	}
	return ""
}

// form is a submitted form shown again: the values to fill back in
// (never passwords: templates do not refill those) and the API's messages
// by field, "" for the form as a whole.
type form struct {
	ID     string // prefixes the ids of the inputs when a page has several forms
	Values url.Values
	Errors map[string]string
}

// Value is the submitted value of a field.
func (f *form) Value(name string) string {
	if f == nil {
		return ""
	}
	return f.Values.Get(name)
}

// Error is the message for a field, or "".
func (f *form) Error(name string) string {
	if f == nil {
		return ""
	}
	return f.Errors[name]
}

// fieldOf places the errors a field causes next to it.
var fieldOf = map[string]string{
	blog.ErrUsernameTaken.Code:       "username",
	blog.ErrEmailTaken.Code:          "email",
	blog.ErrWrongPassword.Code:       "current_password",
	blog.ErrNeedPassword.Code:        "current_password",
	blog.ErrInvalidReset.Code:        "token",
	blog.ErrInvalidVerification.Code: "token",
	blog.ErrBadCredentials.Code:      "",
	blog.ErrNoPicture.Code:           "file",
	blog.ErrInvalidOTP.Code:          "code",
}

// formFailure turns err into the form shown again with the API's status
// and the pages' words for what went wrong (words.go), by field; values
// are what was submitted. ok is false when err is not about what was
// submitted (it is then an error page).
func formFailure(err error, values url.Values) (status int, f *form, ok bool) {
	return formFailureOf("", err, values)
}

// formFailureOf is formFailure for a form of the given kind (a key of
// formFields, or "picture"), whose words may be its own ("Enter your
// username or email." on the login form).
func formFailureOf(kind string, err error, values url.Values) (status int, f *form, ok bool) {
	var e *blog.Error
	if !errors.As(err, &e) {
		return 0, nil, false
	}
	f = &form{Values: values, Errors: map[string]string{}}
	switch e.Kind {
	case blog.Unprocessable:
		for _, p := range e.Problems {
			field := ""
			if len(p.Loc) == 2 && p.Loc[0] == "body" {
				field = problemField(p)
			}
			f.add(field, problemWords(kind, p, values.Get(field)))
		}
	case blog.Invalid, blog.Unauthenticated, blog.TooManyRequests, blog.Unavailable:
		if e.Kind == blog.Unauthenticated && e.Code != blog.ErrBadCredentials.Code {
			return 0, nil, false
		}
		f.add(fieldOf[e.Code], codeWords(e.Code, e.Message, httpx.Status(e.Kind)))
	default:
		return 0, nil, false
	}
	return httpx.Status(e.Kind), f, true
}

// add records msg for field, after any message it has already.
func (f *form) add(field, msg string) {
	if old := f.Errors[field]; old != "" {
		if strings.Contains(old, msg) {
			return
		}
		msg = old + " " + msg
	}
	f.Errors[field] = msg
}

// pageFuncs are the helpers templates may call.
var pageFuncs = template.FuncMap{
	"date":     func(t time.Time) string { return t.UTC().Format("2 January 2006") },
	"time":     func(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") },
	"datetime": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"field":    field,
	"input":    newInput,
	"postHTML": postHTML,
	"static":   staticURL,
}

// pageTemplates are the page templates, each parsed with the layout.
var pageTemplates = func() map[string]*template.Template {
	names, err := fs.Glob(web.Templates, "templates/*.html")
	if err != nil {
		panic(err)
	}
	ts := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		ts[base] = template.Must(template.New("layout.html").Funcs(pageFuncs).
			ParseFS(web.Templates, "templates/layout.html", name))
	}
	return ts
}()

// render writes the named page. It renders into a buffer first, so a
// template failure is a clean error page rather than half a page.
func (s *Site) render(w http.ResponseWriter, r *http.Request, c *app.Caller, status int, name string, v view) error {
	t, ok := pageTemplates[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	if c != nil {
		v.Me = c.User
	}
	s.fillMeta(&v.Meta, r)
	v.Passkeys = s.app.PasskeysOff() == nil
	// The CSRF token, and the cookie it is bound to before login, are
	// made only for a page with a form.
	var csrf string
	v.csrf = func() string {
		if csrf == "" {
			csrf = s.csrfToken(w, r, c)
		}
		return csrf
	}
	v.flash = s.takeFlash(w, r)
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	if c != nil || csrf != "" || v.flash != nil {
		// A page that knows who you are, carries a token bound to your
		// browser, or confirms what you did, is for you alone: no cache
		// may keep it.
		w.Header().Set("Cache-Control", "no-store")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
	return nil
}

// errorView is the data of the error page.
type errorView struct {
	Status   int
	Heading  string
	Message  string
	NotFound bool // the page offers a search and the newest posts
}

// Error renders err as an HTML page with the status the API would use,
// in the pages' words, showing who is logged in as every page does.
func (s *Site) Error(w http.ResponseWriter, r *http.Request, err error) {
	var status int
	var msg string
	var he *httpx.HTTPError
	if errors.As(err, &he) {
		status, msg = he.Status, codeWords(he.Code, he.Message, he.Status)
	} else {
		e := httpx.Classify(s.logger, r, err)
		status = httpx.Status(e.Kind)
		msg = codeWords(e.Code, e.Message, status)
		if e.Kind == blog.Unprocessable && len(e.Problems) > 0 {
			msg = problemWords("", e.Problems[0], "")
		}
		httpx.SetRetryAfter(w.Header(), e.RetryAfter)
	}
	c, known := r.Context().Value(pageCallerKey{}).(*app.Caller)
	if !known && status != http.StatusInternalServerError && !strings.HasPrefix(r.URL.Path, "/static/") {
		c, _ = s.pageCaller(w, r)
	}
	if isUnverified(err) && c != nil {
		if err := s.renderUnverified(w, r, c); err == nil {
			return
		}
	}
	v := view{Title: heading(status), Data: errorView{Status: status, Heading: heading(status), Message: msg,
		NotFound: status == http.StatusNotFound}}
	if err := s.render(w, r, c, status, "error", v); err != nil {
		httpx.Log(s.logger, r).Error("render error page", "err", err)
		http.Error(w, msg, status)
	}
}
