package server_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/quill-blog/quill/internal/quilltest"
	"github.com/quill-blog/quill/internal/server"
)

// TestHTTPS checks what quill adds over TLS: HSTS on every response, and
// the site's cookies Secure with the __Host- prefix, even though the
// public URL is http; and that neither happens over plain HTTP.
func TestHTTPS(t *testing.T) {
	q := quilltest.New(t, quilltest.SQLite)
	tlsSrv := httptest.NewTLSServer(q.Handler)
	defer tlsSrv.Close()
	plainSrv := httptest.NewServer(q.Handler)
	defer plainSrv.Close()

	get := func(client *http.Client, u string) *http.Response {
		t.Helper()
		res, err := client.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		res.Body.Close()
		return res
	}
	for _, path := range []string{"/", "/login", "/health", "/api/posts", "/no-such-page", "/static/css/site.css"} {
		res := get(tlsSrv.Client(), tlsSrv.URL+path)
		if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("HTTPS GET %s (%d): Strict-Transport-Security = %q, want max-age=31536000", path, res.StatusCode, got)
		}
		res = get(plainSrv.Client(), plainSrv.URL+path)
		if got := res.Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("HTTP GET %s: Strict-Transport-Security = %q, want none over plain HTTP", path, got)
		}
	}

	// The login page sets the pre-login CSRF cookie.
	res := get(tlsSrv.Client(), tlsSrv.URL+"/login")
	cookies := res.Cookies()
	if len(cookies) == 0 {
		t.Fatal("GET /login over HTTPS set no cookie")
	}
	for _, c := range cookies {
		if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || c.Path != "/" || c.Domain != "" {
			t.Errorf("cookie over HTTPS = %q (Secure %v, Path %q, Domain %q), want __Host-…, Secure, Path=/, no Domain", c.Name, c.Secure, c.Path, c.Domain)
		}
	}
	for _, c := range get(plainSrv.Client(), plainSrv.URL+"/login").Cookies() {
		if strings.HasPrefix(c.Name, "__Host-") || c.Secure {
			t.Errorf("cookie over plain HTTP with an http public URL = %q, Secure %v; want neither prefix nor Secure", c.Name, c.Secure)
		}
	}
}

func TestRedirectToHTTPS(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		host       string
		target     string // request target
		port       string
		wantStatus int
		wantLoc    string
	}{
		{"GET on 443", "GET", "blog.example.com", "/posts/1?page=2", "443", 301, "https://blog.example.com/posts/1?page=2"},
		{"port dropped", "GET", "blog.example.com:80", "/", "443", 301, "https://blog.example.com/"},
		{"other port", "GET", "blog.example.com:8080", "/login", "8443", 301, "https://blog.example.com:8443/login"},
		{"HEAD", "HEAD", "blog.example.com", "/", "443", 301, "https://blog.example.com/"},
		{"POST keeps its method", "POST", "blog.example.com", "/api/users/token", "443", 308, "https://blog.example.com/api/users/token"},
		{"DELETE", "DELETE", "blog.example.com", "/api/posts/3", "443", 308, "https://blog.example.com/api/posts/3"},
		{"escaped path", "GET", "blog.example.com", "/a%20b/%2F?q=%C3%A9", "443", 301, "https://blog.example.com/a%20b/%2F?q=%C3%A9"},
		{"double slash stays a path", "GET", "blog.example.com", "//evil.example/x", "443", 301, "https://blog.example.com//evil.example/x"},
		{"IPv4", "GET", "192.0.2.1:80", "/", "443", 301, "https://192.0.2.1/"},
		{"IPv6", "GET", "[2001:db8::1]:80", "/", "443", 301, "https://[2001:db8::1]/"},
		{"IPv6 other port", "GET", "[2001:db8::1]", "/", "8443", 301, "https://[2001:db8::1]:8443/"},
		{"upper case kept", "GET", "Blog.Example.com", "/", "443", 301, "https://Blog.Example.com/"},
		{"no host", "GET", "", "/", "443", 400, ""},
		{"host with a userinfo", "GET", "evil.example@blog.example.com", "/", "443", 400, ""},
		{"host with a path", "GET", "evil.example/x", "/", "443", 400, ""},
		{"IPv6 zone", "GET", "[fe80::1%25eth0]", "/", "443", 400, ""},
	}
	h := server.RedirectToHTTPS
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "http://placeholder"+tt.target, strings.NewReader("body"))
			r.Host = tt.host
			w := httptest.NewRecorder()
			h(tt.port).ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Fatalf("%s http://%s%s = %d, want %d", tt.method, tt.host, tt.target, w.Code, tt.wantStatus)
			}
			if got := w.Header().Get("Location"); got != tt.wantLoc {
				t.Errorf("Location = %q, want %q", got, tt.wantLoc)
			}
			if got := w.Header().Get("Strict-Transport-Security"); got != "" {
				t.Errorf("a plain-HTTP redirect sets Strict-Transport-Security %q", got)
			}
		})
	}
}

// FuzzRedirectToHTTPS checks that any Host and path get a redirect to
// https on the same host and path, or 400, and never a panic.
func FuzzRedirectToHTTPS(f *testing.F) {
	f.Add("blog.example.com", "/posts/1", "page=2")
	f.Add("[::1]:80", "/", "")
	f.Add("a@b", "//x", "%zz")
	f.Add("xn--bcher-kva.example", "/%2e%2e/", "a=b&c")
	h := server.RedirectToHTTPS("443")
	f.Fuzz(func(t *testing.T, host, path, query string) {
		r := httptest.NewRequest("GET", "http://placeholder/", nil)
		r.Host = host
		r.URL.Path = path
		r.URL.RawPath = ""
		r.URL.RawQuery = query
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusBadRequest:
			return
		case http.StatusMovedPermanently:
		default:
			t.Fatalf("Host %q path %q: status %d", host, path, w.Code)
		}
		loc, err := url.Parse(w.Header().Get("Location"))
		if err != nil {
			t.Fatalf("Host %q path %q: Location %q does not parse: %v", host, path, w.Header().Get("Location"), err)
		}
		if loc.Scheme != "https" || loc.Port() != "" || loc.User != nil {
			t.Fatalf("Host %q: Location %q is not https on the default port", host, loc)
		}
		want := host
		if h, _, err := splitHost(host); err == nil {
			want = h
		}
		if !strings.EqualFold(loc.Hostname(), strings.Trim(want, "[]")) && !sameAddr(loc.Hostname(), strings.Trim(want, "[]")) {
			t.Fatalf("Host %q: Location %q names host %q", host, loc, loc.Hostname())
		}
		wantPath := path
		if !strings.HasPrefix(wantPath, "/") {
			wantPath = "/" + wantPath
		}
		if loc.Path != wantPath {
			t.Fatalf("path %q: Location %q has path %q", path, loc, loc.Path)
		}
	})
}

func splitHost(hostport string) (string, string, error) { return net.SplitHostPort(hostport) }

// sameAddr reports whether a and b are the same IP address written two
// ways (the redirect writes addresses in their canonical form).
func sameAddr(a, b string) bool {
	x, err1 := netip.ParseAddr(a)
	y, err2 := netip.ParseAddr(b)
	return err1 == nil && err2 == nil && x == y
}
