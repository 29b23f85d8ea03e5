package server_test

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/quilltest"
	"github.com/quill-blog/quill/internal/sqlstore/sqltest"
)

// TestPostgresUnavailable checks what clients get while the database is
// gone: 503 with Retry-After and the one JSON body, never a 500, on every
// kind of route; and that the same server answers normally once the
// database is back.
func TestPostgresUnavailable(t *testing.T) {
	t.Parallel()
	proxy, url := sqltest.NewProxy(t, sqltest.PostgresURL(t))
	f := newFixture(t, quilltest.DB{Name: "postgres", URL: func(testing.TB) string { return url }})
	requests := []struct {
		method, path, body string
		header             http.Header
		wantUp             int
	}{
		{"GET", "/api/posts", "", nil, http.StatusOK},
		{"GET", f.expand("/api/posts/{alice_post}"), "", nil, http.StatusOK},
		{"GET", f.expand("/api/users/{alice}"), "", nil, http.StatusOK},
		{"GET", "/api/users/me", "", f.as("alice"), http.StatusOK},
		{"POST", "/api/posts", `{"title":"t","content":"c"}`, f.as("alice"), http.StatusCreated},
		{"POST", "/api/users", `{"username":"carol","email":"carol@example.com","password":"a long passphrase 42"}`, nil, http.StatusCreated},
		{"POST", "/api/users/token", form("username", "Alice", "password", alicePassword), http.Header{"Content-Type": {formURL}}, http.StatusOK},
		{"GET", "/health", "", nil, http.StatusOK},
	}

	proxy.Cut()
	for _, rq := range requests {
		res, body := f.do(t, rq.method, rq.path, rq.body, rq.header)
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s %s with the database gone = %d %s, want 503", rq.method, rq.path, res.StatusCode, body)
			continue
		}
		want := map[string]any{"detail": "Database unavailable", "code": "database_unavailable"}
		if rq.path == "/api/users/token" {
			want["error"], want["error_description"] = "temporarily_unavailable", "Database unavailable"
		}
		if diff := cmp.Diff(want, decodeBody(t, body)); diff != "" {
			t.Errorf("%s %s with the database gone: body (-want +got):\n%s", rq.method, rq.path, diff)
		}
		if got := res.Header.Get("Retry-After"); got != "5" {
			t.Errorf("%s %s with the database gone: Retry-After = %q, want 5", rq.method, rq.path, got)
		}
	}
	if logs := f.logs.String(); strings.Contains(logs, "request failed") || !strings.Contains(logs, "database unavailable") {
		t.Errorf("log while the database was gone: want warnings about it and no failed requests; got:\n%s", logs)
	}

	proxy.Restore()
	for _, rq := range requests {
		if res, body := f.do(t, rq.method, rq.path, rq.body, rq.header); res.StatusCode != rq.wantUp {
			t.Errorf("%s %s with the database back = %d %s, want %d", rq.method, rq.path, res.StatusCode, body, rq.wantUp)
		}
	}
}

// TestSQLiteLocked checks that a write that cannot get the SQLite file's
// lock within the busy timeout (another process holds it) is a 503, while
// reads go on.
func TestSQLiteLocked(t *testing.T) {
	t.Parallel()
	url := quilltest.SQLite.URL(t)
	f := newFixture(t, quilltest.DB{Name: "sqlite", URL: func(testing.TB) string { return url }})
	ctx := context.Background()
	other, err := sql.Open("sqlite", strings.TrimPrefix(url, "sqlite:///"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}

	res, body := f.do(t, "POST", "/api/posts", `{"title":"t","content":"c"}`, f.as("alice"))
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("POST /api/posts with the file locked = %d %s (Retry-After %q), want 503 with Retry-After",
			res.StatusCode, body, res.Header.Get("Retry-After"))
	}
	if res, body := f.do(t, "GET", "/api/posts", "", nil); res.StatusCode != http.StatusOK {
		t.Errorf("GET /api/posts with the file locked for writing = %d %s, want 200", res.StatusCode, body)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if res, body := f.do(t, "POST", "/api/posts", `{"title":"t","content":"c"}`, f.as("alice")); res.StatusCode != http.StatusCreated {
		t.Errorf("POST /api/posts after the lock was released = %d %s, want 201", res.StatusCode, body)
	}
}
