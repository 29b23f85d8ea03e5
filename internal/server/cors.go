package server

import (
	"net/http"
	"strings"
)

// CORS: only the origins in CORS_ORIGINS may call the API from a
// browser, matched exactly; any other Origin gets no CORS headers at all,
// so the browser withholds the response. The API authenticates with bearer
// tokens, not cookies, so credentials are never allowed.
const (
	corsAllowHeaders  = "Authorization, Content-Type"
	corsExposeHeaders = "Retry-After, WWW-Authenticate, X-Request-Id"
	corsMaxAge        = "600" // seconds a browser may cache a preflight answer
)

// cors adds the CORS headers to API responses and answers preflight
// requests, reporting whether it did (then the request is done).
func (s *Server) cors(w http.ResponseWriter, r *http.Request) (answered bool) {
	if len(s.corsOrigins) == 0 || !isAPI(r.URL.Path) {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if _, ok := s.corsOrigins[origin]; !ok {
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		return false
	}
	// A preflight: say which methods the path has. A path with none is
	// left to the router, for its 404.
	allow := s.allowedMethods(r)
	if len(allow) == 0 {
		return false
	}
	h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
	h.Set("Access-Control-Allow-Methods", strings.Join(allow, ", "))
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
	return true
}
