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

	m.Handle("POST /api/users", s.handle(s.handleRegister))
	m.Handle("POST /api/users/token", s.handle(s.handleToken))
	m.Handle("POST /api/users/logout", s.authed(s.handleLogout))
	m.Handle("GET /api/users/me", s.authed(s.handleMe))
	m.Handle("GET /api/users/me/sessions", s.authed(s.handleSessions))
	m.Handle("DELETE /api/users/me/sessions/{session_id}", s.authed(s.handleDeleteSession))
	m.Handle("PATCH /api/users/me/password", s.authed(s.handleChangePassword))
	m.Handle("POST /api/users/forgot-password", s.handle(s.handleForgotPassword))
	m.Handle("POST /api/users/reset-password", s.handle(s.handleResetPassword))
	m.Handle("GET /api/users/{user_id}", s.handle(s.handleUser))
	m.Handle("PATCH /api/users/{user_id}", s.authed(s.handlePatchUser))
	m.Handle("PUT /api/users/{user_id}", s.authed(s.handlePutUser))
	m.Handle("DELETE /api/users/{user_id}", s.authed(s.handleDeleteUser))
	m.Handle("GET /api/users/{user_id}/posts", s.handle(s.handleUserPosts))
	m.Handle("PATCH /api/users/{user_id}/picture", s.authed(s.handlePatchPicture))
	m.Handle("DELETE /api/users/{user_id}/picture", s.authed(s.handleDeletePicture))

	m.Handle("GET /api/posts", s.handle(s.handlePosts))
	m.Handle("POST /api/posts", s.authed(s.handleCreatePost))
	m.Handle("GET /api/posts/{post_id}", s.handle(s.handlePost))
	m.Handle("PUT /api/posts/{post_id}", s.authed(s.handlePutPost))
	m.Handle("PATCH /api/posts/{post_id}", s.authed(s.handlePatchPost))
	m.Handle("DELETE /api/posts/{post_id}", s.authed(s.handleDeletePost))

	m.Handle("GET /health", http.HandlerFunc(s.handleHealth))

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
	var allow []string
	for _, m := range methods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
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
