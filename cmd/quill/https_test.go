package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/certs/certstest"
	"github.com/quill-blog/quill/internal/quilltest"
)

// freePort returns a port on 127.0.0.1 that was free a moment ago, for
// settings that cannot say "any free port" (the ACME tests' CA connects
// to fixed ports), or for checking that a port is free again.
func freePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// TestHTTPSStartupErrors checks that each bad HTTPS setting stops start-up
// with one line naming it, before anything listens or is written.
func TestHTTPSStartupErrors(t *testing.T) {
	ca := certstest.NewCA(t)
	good := ca.Issue(t, "localhost")
	other := ca.Issue(t, "localhost")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	tests := []struct {
		name  string
		env   map[string]string
		files map[string][]byte // written into the working directory
		want  []string
		// listensFirst: the error comes from listening, after the
		// database was opened.
		listensFirst bool
	}{
		{name: "unreadable certificate file", env: map[string]string{"TLS_CERT_FILE": "missing.pem", "TLS_KEY_FILE": "key.pem"},
			files: map[string][]byte{"key.pem": good.Key}, want: []string{"TLS_CERT_FILE=missing.pem", "no such file"}},
		{name: "unreadable key file", env: map[string]string{"TLS_CERT_FILE": "cert.pem", "TLS_KEY_FILE": "missing.pem"},
			files: map[string][]byte{"cert.pem": good.Cert}, want: []string{"TLS_KEY_FILE=missing.pem", "no such file"}},
		{name: "certificate file not PEM", env: map[string]string{"TLS_CERT_FILE": "cert.pem", "TLS_KEY_FILE": "key.pem"},
			files: map[string][]byte{"cert.pem": []byte("not a certificate"), "key.pem": good.Key}, want: []string{"TLS_CERT_FILE=cert.pem", "no PEM certificate"}},
		{name: "key of another certificate", env: map[string]string{"TLS_CERT_FILE": "cert.pem", "TLS_KEY_FILE": "key.pem"},
			files: map[string][]byte{"cert.pem": good.Cert, "key.pem": other.Key}, want: []string{"TLS_KEY_FILE=key.pem", "not the private key of the certificate in cert.pem"}},
		{name: "certificate without key", env: map[string]string{"TLS_CERT_FILE": "cert.pem"},
			files: map[string][]byte{"cert.pem": good.Cert}, want: []string{"TLS_CERT_FILE", "TLS_KEY_FILE is not"}},
		{name: "key without certificate", env: map[string]string{"TLS_KEY_FILE": "key.pem"}, want: []string{"TLS_KEY_FILE", "TLS_CERT_FILE is not"}},
		{name: "domains and certificate files", env: map[string]string{"TLS_DOMAINS": "blog.example.com", "TLS_CERT_FILE": "cert.pem", "TLS_KEY_FILE": "key.pem"},
			files: map[string][]byte{"cert.pem": good.Cert, "key.pem": good.Key}, want: []string{"TLS_DOMAINS and TLS_CERT_FILE are both set"}},
		{name: "domain with a scheme", env: map[string]string{"TLS_DOMAINS": "https://blog.example.com"}, want: []string{"TLS_DOMAINS", `"https://blog.example.com"`, "without scheme"}},
		{name: "domain with a path", env: map[string]string{"TLS_DOMAINS": "blog.example.com/blog"}, want: []string{"TLS_DOMAINS", "without scheme, port or path"}},
		{name: "domain with a port", env: map[string]string{"TLS_DOMAINS": "blog.example.com:443"}, want: []string{"TLS_DOMAINS", "port"}},
		{name: "second domain bad", env: map[string]string{"TLS_DOMAINS": "blog.example.com, bad domain.example.com"}, want: []string{"TLS_DOMAINS", `"bad domain.example.com"`}},
		{name: "wildcard domain", env: map[string]string{"TLS_DOMAINS": "*.example.com"}, want: []string{"TLS_DOMAINS", "wildcard", "DNS-01"}},
		{name: "IP address as domain", env: map[string]string{"TLS_DOMAINS": "192.0.2.1"}, want: []string{"TLS_DOMAINS", "IP address"}},
		{name: "single-label domain", env: map[string]string{"TLS_DOMAINS": "localhost"}, want: []string{"TLS_DOMAINS", `"localhost"`}},
		{name: "ACME_CA not https", env: map[string]string{"TLS_DOMAINS": "blog.example.com", "ACME_CA": "http://ca.example/directory"}, want: []string{"ACME_CA", "https URL"}},
		{name: "ACME_CA not a URL", env: map[string]string{"TLS_DOMAINS": "blog.example.com", "ACME_CA": "ca.example/directory"}, want: []string{"ACME_CA"}},
		{name: "ACME_CA garbage", env: map[string]string{"TLS_DOMAINS": "blog.example.com", "ACME_CA": "https://%zz"}, want: []string{"ACME_CA"}},
		{name: "unreadable ACME_CA_ROOT", env: map[string]string{"TLS_DOMAINS": "blog.example.com", "ACME_CA_ROOT": "roots.pem"}, want: []string{"ACME_CA_ROOT=roots.pem", "cannot read"}},
		{name: "ACME_CA_ROOT without a certificate", env: map[string]string{"TLS_DOMAINS": "blog.example.com", "ACME_CA_ROOT": "roots.pem"},
			files: map[string][]byte{"roots.pem": good.Key}, want: []string{"ACME_CA_ROOT=roots.pem", "no PEM certificate"}},
		{name: "ACME_EMAIL", env: map[string]string{"TLS_DOMAINS": "blog.example.com", "ACME_EMAIL": "Admin <admin@example.com>"}, want: []string{"ACME_EMAIL"}},
		{name: "HTTPS_ADDR equal to ADDR", env: map[string]string{"TLS_DOMAINS": "blog.example.com", "ADDR": "127.0.0.1:8443", "HTTPS_ADDR": "127.0.0.1:8443"}, want: []string{"HTTPS_ADDR", "ADDR"}},
		{name: "HTTPS_ADDR on every address, ADDR's port", env: map[string]string{"TLS_DOMAINS": "blog.example.com", "ADDR": "127.0.0.1:8443", "HTTPS_ADDR": ":8443"}, want: []string{"HTTPS_ADDR", "ADDR"}},
		{name: "HTTPS_ADDR with TLS by default on :80's", env: map[string]string{"TLS_DOMAINS": "blog.example.com", "ADDR": "", "HTTPS_ADDR": ":80"}, want: []string{"HTTPS_ADDR", "ADDR"}},
		{name: "METRICS_ADDR on HTTPS_ADDR's port", env: map[string]string{"TLS_CERT_FILE": "cert.pem", "TLS_KEY_FILE": "key.pem", "HTTPS_ADDR": "127.0.0.1:8443", "METRICS_ADDR": ":8443"},
			want: []string{"METRICS_ADDR", "HTTPS_ADDR"}},
		{name: "HTTPS_ADDR without a port", env: map[string]string{"HTTPS_ADDR": "blog.example.com"}, want: []string{"HTTPS_ADDR", "host:port"}},
		{name: "HTTPS_ADDR in use", env: map[string]string{"TLS_CERT_FILE": "cert.pem", "TLS_KEY_FILE": "key.pem", "HTTPS_ADDR": busy.Addr().String()},
			files: map[string][]byte{"cert.pem": good.Cert, "key.pem": good.Key}, want: []string{"cannot listen on " + busy.Addr().String(), "HTTPS_ADDR"}, listensFirst: true},
		{name: "ADDR in use with TLS", env: map[string]string{"TLS_CERT_FILE": "cert.pem", "TLS_KEY_FILE": "key.pem", "ADDR": busy.Addr().String()},
			files: map[string][]byte{"cert.pem": good.Cert, "key.pem": good.Key}, want: []string{"cannot listen on " + busy.Addr().String(), "ADDR"}, listensFirst: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			for name, data := range tt.files {
				certstest.WriteFile(t, name, data)
			}
			// Free ports unless the case sets them: afterwards, both must
			// be free again.
			env := map[string]string{"ADDR": "127.0.0.1:" + freePort(t), "HTTPS_ADDR": "127.0.0.1:" + freePort(t)}
			for k, v := range tt.env {
				env[k] = v
			}
			_, _, err := runQuill(t, env, "serve")
			if err == nil {
				t.Fatalf("run(serve) with %v = nil, want an error", tt.env)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q spans several lines", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if code := exitCode(err, io.Discard); code != 1 {
				t.Errorf("exitCode(%v) = %d, want 1", err, code)
			}
			for _, addr := range []string{env["ADDR"], env["HTTPS_ADDR"]} {
				if addr == busy.Addr().String() || !strings.HasPrefix(addr, "127.0.0.1:") {
					continue
				}
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					t.Errorf("%s is not free after the failed start: %v", addr, err)
					continue
				}
				ln.Close()
			}
			if !tt.listensFirst {
				for _, f := range []string{"blog.db", ".env"} {
					if _, err := os.Stat(f); err == nil {
						t.Errorf("the failed start wrote %s", f)
					}
				}
			}
		})
	}
}

func TestDomainName(t *testing.T) {
	for in, want := range map[string]string{
		"blog.example.com":      "blog.example.com",
		"Blog.Example.COM":      "blog.example.com",
		"blog.example.com.":     "blog.example.com",
		"bücher.example":        "xn--bcher-kva.example",
		"xn--bcher-kva.example": "xn--bcher-kva.example",
		"a-b.example.org":       "a-b.example.org",
	} {
		if got, err := domainName(in); err != nil || got != want {
			t.Errorf("domainName(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "example", "https://blog.example.com", "blog.example.com/x", "blog.example.com:443",
		"*.example.com", "192.0.2.1", "::1", "[::1]", "bad domain.example", "-bad.example.com", "a..b.example", strings.Repeat("a", 64) + ".example"} {
		if got, err := domainName(in); err == nil {
			t.Errorf("domainName(%q) = %q, want an error", in, got)
		}
	}
}

// TestDefaultsWithTLS checks what TLS changes in the other settings'
// defaults: ADDR becomes :80, PUBLIC_URL https://, and without TLS nothing
// changes.
func TestDefaultsWithTLS(t *testing.T) {
	base := func(extra map[string]string) map[string]string {
		v := map[string]string{}
		for _, s := range settings {
			v[s.env] = s.def
		}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	tests := []struct {
		name                string
		values              map[string]string
		wantAddr, wantHTTPS string
		wantPublic          string
	}{
		{"no TLS", base(nil), "127.0.0.1:8000", ":443", "http://127.0.0.1:8000"},
		{"ACME", base(map[string]string{"TLS_DOMAINS": "Blog.Example.com,www.example.com"}), ":80", ":443", "https://blog.example.com"},
		{"ACME on another port", base(map[string]string{"TLS_DOMAINS": "blog.example.com", "HTTPS_ADDR": ":8443", "ADDR": ":8080"}), ":8080", ":8443", "https://blog.example.com:8443"},
		{"ACME with PUBLIC_URL", base(map[string]string{"TLS_DOMAINS": "blog.example.com", "PUBLIC_URL": "https://www.example.com/"}), ":80", ":443", "https://www.example.com"},
		{"files: PUBLIC_URL from the certificate", base(map[string]string{"TLS_CERT_FILE": "c", "TLS_KEY_FILE": "k"}), ":80", ":443", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(tt.values)
			if err != nil {
				t.Fatalf("parseConfig() = %v", err)
			}
			if cfg.Addr != tt.wantAddr || cfg.HTTPSAddr != tt.wantHTTPS || cfg.PublicURL != tt.wantPublic {
				t.Errorf("ADDR, HTTPS_ADDR, PUBLIC_URL = %q, %q, %q; want %q, %q, %q", cfg.Addr, cfg.HTTPSAddr, cfg.PublicURL, tt.wantAddr, tt.wantHTTPS, tt.wantPublic)
			}
		})
	}
}

// tlsQuill is quill serve with TLS running in a goroutine.
type tlsQuill struct {
	HTTPS, HTTP string // https://127.0.0.1:PORT and http://127.0.0.1:PORT
	logs        *quilltest.Logs
	stop        func() error
}

var tlsListeningRE = regexp.MustCompile(`msg="quill is listening" url=(https://\S+) redirect_url=(http://\S+)`)

// startTLSQuill runs quill serve with env and waits until it logs that
// it listens.
func startTLSQuill(t *testing.T, env map[string]string) *tlsQuill {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &quilltest.Logs{}
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, []string{"serve"}, envFunc(env), strings.NewReader(""), io.Discard, logs) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-errc:
			case <-time.After(30 * time.Second):
				runErr = errors.New("run did not return within 30 s of cancellation")
			}
		})
		return runErr
	}
	t.Cleanup(func() { stop() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := tlsListeningRE.FindStringSubmatch(logs.String()); m != nil {
			return &tlsQuill{HTTPS: m[1], HTTP: m[2], logs: logs, stop: stop}
		}
		select {
		case err := <-errc:
			t.Fatalf("run returned %v before listening; log:\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no HTTPS %q line in the log within 30 s:\n%s", "quill is listening", logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServeCertificateFiles serves HTTPS with certificate files through
// run: HTTP/2, TLS 1.2 at least, HSTS, Secure __Host- cookies, and the
// plain-HTTP side redirecting.
func TestServeCertificateFiles(t *testing.T) {
	t.Chdir(t.TempDir())
	ca := certstest.NewCA(t)
	pair := ca.Issue(t, "localhost", "127.0.0.1")
	certFile, keyFile := pair.Write(t, ".")
	q := startTLSQuill(t, map[string]string{
		"SECRET_KEY": testKey, "ADDR": "127.0.0.1:0", "HTTPS_ADDR": "127.0.0.1:0",
		"TLS_CERT_FILE": certFile, "TLS_KEY_FILE": keyFile,
	})
	if !strings.Contains(q.logs.String(), "public_url=https://localhost:0") {
		t.Errorf("PUBLIC_URL is not taken from the certificate's name and HTTPS_ADDR's port:\n%s", q.logs)
	}
	_, httpsPort, _ := net.SplitHostPort(strings.TrimPrefix(q.HTTPS, "https://"))

	client := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}, ForceAttemptHTTP2: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	defer client.CloseIdleConnections()
	base := "https://localhost:" + httpsPort
	for _, path := range []string{"/health", "/", "/login", "/api/posts"} {
		res, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s%s: %v", base, path, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, res.StatusCode)
		}
		if res.ProtoMajor != 2 {
			t.Errorf("GET %s over %s, want HTTP/2", path, res.Proto)
		}
		if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("GET %s: Strict-Transport-Security = %q", path, got)
		}
		if res.TLS.Version < tls.VersionTLS12 || res.TLS.PeerCertificates[0].SerialNumber.Cmp(pair.Leaf.SerialNumber) != 0 {
			t.Errorf("GET %s: TLS version %x, certificate serial %v; want 1.2 or later and the one in TLS_CERT_FILE", path, res.TLS.Version, res.TLS.PeerCertificates[0].SerialNumber)
		}
		if path == "/login" {
			cookies := res.Cookies()
			if len(cookies) == 0 {
				t.Errorf("GET /login set no cookie")
			}
			for _, c := range cookies {
				if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure {
					t.Errorf("cookie %q Secure %v, want __Host- and Secure", c.Name, c.Secure)
				}
			}
		}
	}

	// TLS 1.1 is refused.
	conn, err := tls.Dial("tcp", strings.TrimPrefix(q.HTTPS, "https://"), &tls.Config{RootCAs: ca.Pool, ServerName: "localhost", MaxVersion: tls.VersionTLS11})
	if err == nil {
		conn.Close()
		t.Errorf("a TLS 1.1 handshake succeeded")
	}

	// Plain HTTP redirects, to the host asked for, on HTTPS_ADDR's port.
	req, _ := http.NewRequest("GET", q.HTTP+"/posts/7?x=1", nil)
	req.Host = "localhost"
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if want := "https://localhost:" + httpsPort + "/posts/7?x=1"; res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != want {
		t.Errorf("GET http://localhost/posts/7?x=1 = %d to %q, want 301 to %q", res.StatusCode, res.Header.Get("Location"), want)
	}
	if got := res.Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("the plain-HTTP redirect sets Strict-Transport-Security %q", got)
	}
	res, err = client.Post(q.HTTP+"/api/users/token", "application/x-www-form-urlencoded", strings.NewReader("username=a&password=b"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusPermanentRedirect {
		t.Errorf("POST over plain HTTP = %d, want 308", res.StatusCode)
	}
	// quill health asks HTTPS_ADDR, not the redirecting ADDR.
	health := map[string]string{"SECRET_KEY": testKey, "HTTPS_ADDR": "127.0.0.1:" + httpsPort, "ADDR": strings.TrimPrefix(q.HTTP, "http://"),
		"TLS_CERT_FILE": certFile, "TLS_KEY_FILE": keyFile}
	if stdout, _, err := runQuill(t, health, "health"); err != nil || !strings.Contains(stdout, "https://127.0.0.1:"+httpsPort+"/health: healthy") {
		t.Errorf("quill health with TLS = %v, %q; want https://127.0.0.1:%s/health healthy", err, stdout, httpsPort)
	}
	if err := q.stop(); err != nil {
		t.Errorf("run after cancellation = %v", err)
	}
}

// TestServeACMEWithoutCA checks the wiring of TLS_DOMAINS without a CA to
// talk to (the pebble tests get certificates): quill starts, says it
// cannot get a certificate, redirects plain HTTP, answers an unknown
// HTTP-01 challenge with 404 and a challenge for another host with 403,
// and refuses handshakes for names it does not serve.
func TestServeACMEWithoutCA(t *testing.T) {
	t.Chdir(t.TempDir())
	ca := certstest.NewCA(t)
	certstest.WriteFile(t, "roots.pem", ca.PEM)
	q := startTLSQuill(t, map[string]string{
		"SECRET_KEY": testKey, "ADDR": "127.0.0.1:0", "HTTPS_ADDR": "127.0.0.1:0",
		"TLS_DOMAINS": "blog.example.com", "ACME_CA": "https://127.0.0.1:" + freePort(t) + "/dir", "ACME_CA_ROOT": "roots.pem",
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(q.logs.String(), "cannot get a certificate") {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", "cannot get a certificate", q.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(q.logs.String(), "public_url=https://blog.example.com:0") {
		t.Errorf("PUBLIC_URL is not https://TLS_DOMAINS[0]:port:\n%s", q.logs)
	}

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 30 * time.Second}
	for _, tc := range []struct {
		host, path string
		want       int
	}{
		{"blog.example.com", "/", http.StatusMovedPermanently},
		{"blog.example.com", "/.well-known/acme-challenge/unknown-token", http.StatusNotFound},
		{"other.example.com", "/.well-known/acme-challenge/unknown-token", http.StatusForbidden},
		{"blog.example.com", "/.well-known/acme-challenge/" + strings.Repeat("%ff", 400), http.StatusNotFound},
	} {
		req, _ := http.NewRequest("GET", q.HTTP+tc.path, nil)
		req.Host = tc.host
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("GET http://%s%s = %d %q, want %d", tc.host, tc.path[:min(len(tc.path), 60)], res.StatusCode, body, tc.want)
		}
		if bytes.Contains(body, []byte("sql")) || bytes.Contains(body, []byte("database")) {
			t.Errorf("GET http://%s%s tells about the database: %q", tc.host, tc.path[:min(len(tc.path), 60)], body)
		}
	}
	for _, name := range []string{"other.example.com", ""} {
		conn, err := tls.Dial("tcp", strings.TrimPrefix(q.HTTPS, "https://"), &tls.Config{ServerName: name, InsecureSkipVerify: true})
		if err == nil {
			conn.Close()
			t.Errorf("a handshake for %q succeeded", name)
		}
	}
	if err := q.stop(); err != nil {
		t.Errorf("run after cancellation = %v", err)
	}
}
