package server_test

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/quill-blog/quill/internal/quilltest"
	"github.com/quill-blog/quill/internal/server"
)

// observed is one call of Config.ObserveRequest.
type observed struct {
	Route, Method string
	Status        int
}

// TestObserveRequest checks what the server reports of each request for
// metrics: the route is the registered pattern's path or a fixed word,
// never the request's path.
func TestObserveRequest(t *testing.T) {
	var (
		mu  sync.Mutex
		got []observed
	)
	q := quilltest.New(t, quilltest.SQLite, quilltest.Options{Server: func(c *server.Config) {
		c.ObserveRequest = func(route, method string, status int, elapsed time.Duration) {
			if elapsed < 0 {
				t.Errorf("ObserveRequest(%s %s) elapsed = %v, want no less than 0", method, route, elapsed)
			}
			mu.Lock()
			defer mu.Unlock()
			got = append(got, observed{route, method, status})
		}
	}})
	tests := []struct {
		name   string
		method string
		target string
		header map[string]string
		want   observed
	}{
		{"a literal route", "GET", "/health", nil, observed{"/health", "GET", 200}},
		{"not logged in", "GET", "/api/users/me", nil, observed{"/api/users/me", "GET", 401}},
		{"a wildcard: the pattern, not the id", "GET", "/api/users/12345", nil, observed{"/api/users/{user_id}", "GET", 404}},
		{"a wildcard with a query string", "GET", "/api/users/7/posts?limit=1", nil, observed{"/api/users/{user_id}/posts", "GET", 404}},
		{"a trailing slash", "GET", "/api/posts/", nil, observed{"/api/posts", "GET", 200}},
		{"HEAD on a GET route", "HEAD", "/api/posts", nil, observed{"/api/posts", "HEAD", 200}},
		{"a page", "GET", "/posts/99", nil, observed{"/posts/{post_id}", "GET", 404}},
		{"the home page", "GET", "/", nil, observed{"/{$}", "GET", 200}},
		{"a static file", "GET", "/static/css/quill.css", nil, observed{"/static/", "GET", 200}},
		{"no such page", "GET", "/wp-login.php", nil, observed{server.RouteUnmatched, "GET", 404}},
		{"no such API path", "GET", "/api/secret-admin", nil, observed{server.RouteUnmatched, "GET", 404}},
		{"a literal path under another method", "PATCH", "/api/users/me", nil, observed{server.RouteUnmatched, "PATCH", 405}},
		{"a path under another method", "DELETE", "/api/posts", nil, observed{server.RouteUnmatched, "DELETE", 405}},
		{"an unknown method", "BREW", "/api/posts", nil, observed{server.RouteUnmatched, "BREW", 405}},
		{"a CORS preflight", "OPTIONS", "/api/posts", map[string]string{
			"Origin": quilltest.Origin, "Access-Control-Request-Method": "POST",
		}, observed{server.RoutePreflight, "OPTIONS", 204}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			req := httptest.NewRequest(tt.method, tt.target, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			q.Handler.ServeHTTP(rec, req)
			if rec.Code != tt.want.Status {
				t.Fatalf("%s %s = %d, want %d", tt.method, tt.target, rec.Code, tt.want.Status)
			}
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff([]observed{tt.want}, got); diff != "" {
				t.Errorf("%s %s: ObserveRequest calls (-want +got):\n%s", tt.method, tt.target, diff)
			}
		})
	}
}
