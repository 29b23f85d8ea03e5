package server

import (
	"io"
	"io/fs"
	"net/http"
	"strings"

	"github.com/quill-blog/quill/web"
)

// routes registers every route quill serves. It is the one place to read
// to know the whole HTTP surface.
func (s *Server) routes() {
	m := s.mux
	// api registers a route of the JSON API, which the OpenAPI document
	// must describe (a test compares the two).
	api := func(pattern string, h http.Handler) {
		s.apiPatterns = append(s.apiPatterns, pattern)
		m.Handle(pattern, h)
	}

	api("POST /api/users", s.handle(s.handleRegister))
	api("POST /api/users/token", s.handleOAuth(s.handleToken))
	api("POST /api/users/logout", s.authed(s.handleLogout))
	api("GET /api/users/me", s.authed(s.handleMe))
	api("GET /api/users/me/sessions", s.authed(s.handleSessions))
	api("DELETE /api/users/me/sessions/{session_id}", s.authed(s.handleDeleteSession))
	api("PATCH /api/users/me/password", s.authed(s.handleChangePassword))
	api("POST /api/users/forgot-password", s.handle(s.handleForgotPassword))
	api("POST /api/users/reset-password", s.handle(s.handleResetPassword))
	api("GET /api/users/{user_id}", s.handle(s.handleUser))
	api("PATCH /api/users/{user_id}", s.authed(s.handlePatchUser))
	api("PUT /api/users/{user_id}", s.authed(s.handlePutUser))
	api("DELETE /api/users/{user_id}", s.authed(s.handleDeleteUser))
	api("GET /api/users/{user_id}/posts", s.handle(s.handleUserPosts))
	api("PATCH /api/users/{user_id}/picture", s.authed(s.handlePatchPicture))
	api("DELETE /api/users/{user_id}/picture", s.authed(s.handleDeletePicture))

	api("GET /api/posts", s.handle(s.handlePosts))
	api("POST /api/posts", s.authed(s.handleCreatePost))
	api("GET /api/posts/{post_id}", s.handle(s.handlePost))
	api("PUT /api/posts/{post_id}", s.authed(s.handlePutPost))
	api("PATCH /api/posts/{post_id}", s.authed(s.handlePatchPost))
	api("DELETE /api/posts/{post_id}", s.authed(s.handleDeletePost))

	api("GET /health", http.HandlerFunc(s.handleHealth))

	// Pages: HTML forms that work without JavaScript, logged in by cookie
	// (see pages.go). Form posts are checked for origin and CSRF token.
	m.Handle("GET /{$}", s.publicPage(s.pagePosts))
	m.Handle("GET /posts/{post_id}", s.publicPage(s.pagePost))
	m.Handle("GET /users/{user_id}/posts", s.publicPage(s.pageUserPosts))
	m.Handle("GET /login", s.publicPage(s.pageLogin))
	m.Handle("POST /login", s.publicPage(s.pageLoginPost))
	m.Handle("GET /register", s.publicPage(s.pageRegister))
	m.Handle("POST /register", s.publicPage(s.pageRegisterPost))
	m.Handle("POST /logout", s.publicPage(s.pageLogout))
	m.Handle("GET /account", s.memberPage(s.pageAccount))
	m.Handle("POST /account", s.memberPage(s.pageUpdateProfile))
	m.Handle("POST /account/delete", s.memberPage(s.pageDeleteAccount))
	m.Handle("POST /account/picture", s.memberUpload(s.pageSetPicture))
	m.Handle("POST /account/picture/delete", s.memberPage(s.pageDeletePicture))
	m.Handle("POST /account/password", s.memberPage(s.pageChangePassword))
	m.Handle("POST /account/sessions/{session_id}/delete", s.memberPage(s.pageEndSession))
	m.Handle("POST /account/sessions/delete-others", s.memberPage(s.pageEndOtherSessions))
	m.Handle("GET /forgot-password", s.publicPage(s.pageForgot))
	m.Handle("POST /forgot-password", s.publicPage(s.pageForgotPost))
	m.Handle("GET /reset-password", s.publicPage(s.pageReset))
	m.Handle("POST /reset-password", s.publicPage(s.pageResetPost))
	m.Handle("GET /posts/new", s.memberPage(s.pageNewPost))
	m.Handle("POST /posts/new", s.memberPage(s.pageCreatePost))
	m.Handle("GET /posts/{post_id}/edit", s.memberPage(s.pageEditPost))
	m.Handle("POST /posts/{post_id}/edit", s.memberPage(s.pageUpdatePost))
	m.Handle("POST /posts/{post_id}/delete", s.memberPage(s.pageDeletePost))

	// Docs: the OpenAPI document and Swagger UI, all embedded.
	m.Handle("GET /openapi.json", http.HandlerFunc(s.handleOpenAPI))
	m.Handle("GET /docs", s.publicPage(s.pageDocs))

	static, _ := fs.Sub(web.Static, "static") // "static" is embedded: cannot fail
	m.Handle("GET /static/", s.page(s.staticFiles(static)))
	// ServeHTTP folds "/static/" to "/static"; unless that is registered,
	// the mux redirects it back to "/static/", forever. Nothing is listed.
	m.Handle("GET /static", s.page(func(http.ResponseWriter, *http.Request) error { return errNotFound }))
	m.Handle("GET /media/profile_pics/{name}", s.page(s.handlePicture))

	// Everything else: 404, or 405 with Allow when the path exists under
	// another method. JSON under /api/, an HTML page elsewhere.
	m.Handle("/", http.HandlerFunc(s.handleUnmatched))
}

// methods are the methods a route may be registered under, for Allow.
var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}

// handleUnmatched answers requests no route took. It runs only on error
// paths, so asking the mux about every method here costs the hot path
// nothing.
func (s *Server) handleUnmatched(w http.ResponseWriter, r *http.Request) {
	allow := s.allowedMethods(r)
	err := error(errNotFound)
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		err = errMethodNotAllowed
	}
	if isAPI(r.URL.Path) {
		s.apiError(w, r, err)
		return
	}
	s.pageError(w, r, err)
}

// allowedMethods lists the methods r's path is routed under.
func (s *Server) allowedMethods(r *http.Request) []string {
	var allow []string
	for _, m := range methods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	return allow
}

// staticFiles serves embedded files, with a cache header since they change
// only with the binary. Directories are not listed.
func (s *Server) staticFiles(fsys fs.FS) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		f, err := fsys.Open(name)
		if err != nil {
			return errNotFound
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil || info.IsDir() {
			return errNotFound
		}
		rs, ok := f.(io.ReadSeeker)
		if !ok {
			return errNotFound
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		http.ServeContent(w, r, name, info.ModTime(), rs)
		return nil
	}
}
