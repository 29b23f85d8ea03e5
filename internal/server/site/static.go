package site

import (
	"bytes"
	"encoding/hex"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// maxPictureName is the longest name looked up; quill's own names are 36
// characters, and imported ones are kept as they were.
const maxPictureName = 255

// Picture serves a profile picture from the database, so every instance
// serves every picture: GET /media/profile_pics/{name}. A name always
// means the same bytes (a new picture gets a new name), so the response
// may be cached for a year and revalidated by ETag. Errors are HTML pages,
// as for every path outside /api/.
func (s *Site) Picture(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	// No stored name has invalid UTF-8 or a NUL, and PostgreSQL refuses to
	// even compare such text: it never reaches the store.
	if name == "" || len(name) > maxPictureName || !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
		return blog.ErrPictureNotFound
	}
	data, created, err := s.app.Picture(r.Context(), name)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+hex.EncodeToString([]byte(name))+`"`)
	// ServeContent answers If-None-Match (304), If-Modified-Since, HEAD
	// and Range requests.
	http.ServeContent(w, r, "", created, bytes.NewReader(data))
	return nil
}

// Docs serves Swagger UI on the OpenAPI document: GET /docs.
func (s *Site) Docs(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	return s.render(w, r, c, http.StatusOK, "docs", view{Title: "API docs", Wide: true})
}

// Favicon serves the icon browsers ask for at /favicon.ico whatever a
// page links: web/static/favicon.ico, as /static/ serves it.
func (s *Site) Favicon() httpx.HandlerFunc {
	static := s.Static()
	return func(w http.ResponseWriter, r *http.Request) error {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/static/favicon.ico"
		return static(w, r2)
	}
}
