package server

import (
	"context"
	"net/http"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// handleHealth reports whether the database answers: GET /health. A load
// balancer reads it to take an instance whose database is gone out of
// rotation; the instance comes back by itself when the database does.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log(r).Warn("health check failed", "err", err)
		e := blog.ErrUnavailable
		setRetryAfter(w.Header(), e.RetryAfter)
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Detail: e.Message, Code: e.Code})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
