package server

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/quill-blog/quill/web"
)

// page adapts a page handler: its errors become HTML error pages.
func (s *Server) page(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.pageError(w, r, err)
		}
	})
}

var errorPage = template.Must(template.ParseFS(web.Templates, "templates/error.html"))

// pageError renders err as an HTML page with the status the API would use.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong on our side."
	var he *httpError
	if errors.As(err, &he) {
		status, msg = he.status, he.message
	} else {
		e := s.classify(r, err)
		status, msg = statusOf[e.Kind], e.Message
		setRetryAfter(w.Header(), e.RetryAfter)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	w.WriteHeader(status)
	_ = errorPage.Execute(w, struct {
		Status         int
		Title, Message string
	}{status, http.StatusText(status), msg})
}
