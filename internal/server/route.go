package server

import (
	"net/http"
	"strings"
)

// Route labels that are no pattern of routes.go.
const (
	// RouteUnmatched is the route of a request no route took: a 404, a
	// 405, a redirect the mux made, a malformed request line.
	RouteUnmatched = "unmatched"
	// RoutePreflight is the route of a CORS preflight the server answered
	// itself.
	RoutePreflight = "preflight"
)

// routeLabel names the route that answered r, for metrics: the path of
// the pattern routes.go registered (GET /api/users/{user_id} is
// "/api/users/{user_id}"; the method is a label of its own), never r's
// path, so there are only as many as there are routes. Call it after the
// mux has served r: the mux sets r.Pattern.
func (s *Server) routeLabel(r *http.Request, preflight bool) string {
	switch {
	case preflight:
		return RoutePreflight
	case r.Pattern == "" || r.Pattern == "/" || s.notAllowed[r.Pattern]:
		return RouteUnmatched
	}
	if _, path, ok := strings.Cut(r.Pattern, " "); ok {
		return path
	}
	return r.Pattern
}
