package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/quill-blog/quill/internal/server/httpx"
	"github.com/quill-blog/quill/internal/server/openapi"
)

// routes registers every route quill serves. It is the one place to read
// to know the whole HTTP surface.
func (s *Server) routes(openAPIDoc []byte) {
	m, a, p, f := s.mux, s.api, s.site, s.feeds
	// api registers a route of the JSON API, which the OpenAPI document
	// must describe (a test compares the two).
	api := func(pattern string, h http.Handler) {
		s.apiPatterns = append(s.apiPatterns, pattern)
		m.Handle(pattern, h)
	}

	api("POST /api/users", a.Public(a.Register))
	api("POST /api/users/token", a.OAuth(a.Token))
	api("POST /api/users/logout", a.Authed(a.Logout))
	api("GET /api/users/me", a.Authed(a.Me))
	api("GET /api/users/me/sessions", a.Authed(a.Sessions))
	api("DELETE /api/users/me/sessions/{session_id}", a.Authed(a.DeleteSession))
	api("PATCH /api/users/me/password", a.Authed(a.ChangePassword))
	api("GET /api/users/me/passkeys", a.Authed(a.Passkeys))
	api("POST /api/users/me/passkeys/registration", a.Authed(a.BeginPasskeyRegistration))
	api("POST /api/users/me/passkeys", a.Authed(a.CreatePasskey))
	api("PATCH /api/users/me/passkeys/{passkey_id}", a.Authed(a.RenamePasskey))
	api("DELETE /api/users/me/passkeys/{passkey_id}", a.Authed(a.DeletePasskey))
	api("POST /api/users/passkey-login", a.Public(a.BeginPasskeyLogin))
	api("POST /api/users/passkey-login/finish", a.Public(a.FinishPasskeyLogin))
	api("POST /api/users/me/totp", a.Authed(a.StartTOTP))
	api("POST /api/users/me/totp/confirm", a.Authed(a.ConfirmTOTP))
	api("DELETE /api/users/me/totp", a.Authed(a.DisableTOTP))
	api("POST /api/users/forgot-password", a.Public(a.ForgotPassword))
	api("POST /api/users/reset-password", a.Public(a.ResetPassword))
	api("POST /api/users/verify-email", a.Public(a.VerifyEmail))
	api("POST /api/users/me/verify-email", a.Authed(a.SendVerification))
	api("GET /api/users/{user_id}", a.Public(a.User))
	api("PATCH /api/users/{user_id}", a.Authed(a.PatchUser))
	api("PUT /api/users/{user_id}", a.Authed(a.PutUser))
	api("DELETE /api/users/{user_id}", a.Authed(a.DeleteUser))
	api("GET /api/users/{user_id}/posts", a.Public(a.UserPosts))
	api("PATCH /api/users/{user_id}/picture", a.Authed(a.SetPicture))
	api("DELETE /api/users/{user_id}/picture", a.Authed(a.DeletePicture))

	api("GET /api/posts", a.Public(a.Posts))
	api("POST /api/posts", a.Authed(a.CreatePost))
	api("GET /api/posts/{post_id}", a.Public(a.Post))
	api("PUT /api/posts/{post_id}", a.Authed(a.PutPost))
	api("PATCH /api/posts/{post_id}", a.Authed(a.PatchPost))
	api("DELETE /api/posts/{post_id}", a.Authed(a.DeletePost))

	api("GET /health", a.Public(a.Health))
	s.literalPathsOnly()

	// Pages: HTML forms that work without JavaScript, logged in by cookie
	// (see package site). Form posts are checked for origin and CSRF token.
	m.Handle("GET /{$}", p.Public(p.Home))
	m.Handle("GET /posts/{post_id}", p.Public(p.Post))
	m.Handle("GET /users/{user_id}/posts", p.Public(p.UserPosts))
	m.Handle("GET /search", p.Public(p.Search))
	m.Handle("GET /login", p.Public(p.Login))
	m.Handle("POST /login", p.Public(p.LoginPost))
	m.Handle("POST /login/passkey/options", p.Public(p.PasskeyLoginOptions))
	m.Handle("POST /login/passkey", p.Public(p.PasskeyLogin))
	m.Handle("GET /login/code", p.Public(p.LoginCode))
	m.Handle("POST /login/code", p.Public(p.LoginCodePost))
	m.Handle("GET /register", p.Public(p.Register))
	m.Handle("POST /register", p.Public(p.RegisterPost))
	m.Handle("POST /logout", p.Public(p.Logout))
	m.Handle("GET /account", p.Member(p.Account))
	m.Handle("POST /account", p.Member(p.UpdateProfile))
	m.Handle("POST /account/delete", p.Member(p.DeleteAccount))
	m.Handle("POST /account/picture", p.MemberUpload(p.SetPicture))
	m.Handle("POST /account/picture/delete", p.Member(p.DeletePicture))
	m.Handle("POST /account/password", p.Member(p.ChangePassword))
	m.Handle("POST /account/sessions/{session_id}/delete", p.Member(p.EndSession))
	m.Handle("POST /account/sessions/delete-others", p.Member(p.EndOtherSessions))
	m.Handle("POST /account/passkeys/options", p.Member(p.PasskeyOptions))
	m.Handle("POST /account/passkeys", p.Member(p.AddPasskey))
	m.Handle("POST /account/passkeys/{passkey_id}/rename", p.Member(p.RenamePasskey))
	m.Handle("POST /account/passkeys/{passkey_id}/delete", p.Member(p.RemovePasskey))
	m.Handle("POST /account/totp", p.Member(p.StartTOTP))
	m.Handle("GET /account/totp", p.Member(p.TOTPSetup))
	m.Handle("POST /account/totp/confirm", p.Member(p.ConfirmTOTP))
	m.Handle("POST /account/totp/disable", p.Member(p.DisableTOTP))
	m.Handle("GET /forgot-password", p.Public(p.Forgot))
	m.Handle("POST /forgot-password", p.Public(p.ForgotPost))
	m.Handle("GET /reset-password", p.Public(p.Reset))
	m.Handle("POST /reset-password", p.Public(p.ResetPost))
	m.Handle("GET /verify-email", p.Public(p.VerifyEmail))
	m.Handle("POST /verify-email", p.Public(p.VerifyEmailPost))
	m.Handle("POST /account/verify-email", p.Member(p.SendVerification))
	m.Handle("GET /posts/new", p.Member(p.NewPost))
	m.Handle("POST /posts/new", p.Member(p.CreatePost))
	m.Handle("GET /posts/{post_id}/edit", p.Member(p.EditPost))
	m.Handle("POST /posts/{post_id}/edit", p.Member(p.UpdatePost))
	m.Handle("POST /posts/{post_id}/delete", p.Member(p.DeletePost))
	m.Handle("POST /posts/preview", p.Member(p.PreviewNewPost))
	m.Handle("POST /posts/{post_id}/preview", p.Member(p.PreviewPost))

	// What programs read: feeds, the sitemap, robots.txt (package feeds),
	// and the icon browsers ask for. Errors are HTML pages.
	m.Handle("GET /feed.xml", p.Page(f.SiteAtom))
	m.Handle("GET /feed.json", p.Page(f.SiteJSON))
	m.Handle("GET /users/{user_id}/feed.xml", p.Page(f.AuthorAtom))
	m.Handle("GET /users/{user_id}/feed.json", p.Page(f.AuthorJSON))
	m.Handle("GET /robots.txt", p.Page(f.Robots))
	m.Handle("GET /sitemap.xml", p.Page(f.Sitemap))
	m.Handle("GET /sitemaps/pages.xml", p.Page(f.SitemapPages))
	m.Handle("GET /sitemaps/posts/{page}", p.Page(f.SitemapPosts))
	m.Handle("GET /sitemaps/authors/{page}", p.Page(f.SitemapAuthors))
	m.Handle("GET /favicon.ico", p.Page(p.Favicon()))
	// Which origins may use the site's passkeys (WebAuthn's Related Origin
	// Requests), when one is not under the relying party ID.
	m.Handle("GET /.well-known/webauthn", p.Page(p.RelatedOrigins))

	// Docs: the OpenAPI document and Swagger UI, all embedded.
	m.Handle("GET /openapi.json", openapi.Handler(openAPIDoc))
	m.Handle("GET /docs", p.Public(p.Docs))

	m.Handle("GET /static/", p.Page(p.Static()))
	// ServeHTTP folds "/static/" to "/static"; unless that is registered,
	// the mux redirects it back to "/static/", forever. Nothing is listed.
	m.Handle("GET /static", p.Page(func(http.ResponseWriter, *http.Request) error { return httpx.ErrNotFound }))
	m.Handle("GET /media/profile_pics/{name}", p.Page(p.Picture))

	// Everything else: 404, or 405 with Allow when the path exists under
	// another method. JSON under /api/, an HTML page elsewhere.
	m.Handle("/", http.HandlerFunc(s.unmatched))
}

// methods are the methods a route may be registered under, for Allow.
var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}

// literalPathsOnly makes an API path without wildcards answer only to its
// own methods. Without it, GET /api/users/token would be taken by
// GET /api/users/{user_id} (and answered 422, "token" is no id), and
// PATCH /api/users/me by PATCH /api/users/{user_id}; with it, each is 405
// with Allow, like any other path under a method it lacks.
func (s *Server) literalPathsOnly() {
	has := map[string][]string{} // literal path → its methods
	for _, pattern := range s.apiPatterns {
		method, path, _ := strings.Cut(pattern, " ")
		if !strings.Contains(path, "{") {
			has[path] = append(has[path], method)
		}
	}
	for path, own := range has {
		for _, m := range methods {
			if m == "HEAD" || slices.Contains(own, m) || (m == "GET" && slices.Contains(own, "HEAD")) {
				continue
			}
			probe, _ := http.NewRequest(m, path, nil)
			if _, pattern := s.mux.Handler(probe); pattern == "" || pattern == "/" {
				continue // nothing else takes it: the catch-all answers 405
			}
			s.mux.Handle(m+" "+path, http.HandlerFunc(s.unmatched))
			s.notAllowed[m+" "+path] = true
		}
	}
}

// unmatched answers requests no route took. It runs only on error paths,
// so asking the mux about every method here costs the hot path nothing.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	allow := s.allowedMethods(r)
	err := error(httpx.ErrNotFound)
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		err = httpx.ErrMethodNotAllowed
	}
	s.fail(w, r, err)
}

// allowedMethods lists the methods r's path is routed under, but for the
// 405 answers of literalPathsOnly.
func (s *Server) allowedMethods(r *http.Request) []string {
	var allow []string
	for _, m := range methods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" && !s.notAllowed[pattern] {
			allow = append(allow, m)
		}
	}
	return allow
}
