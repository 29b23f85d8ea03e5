package deploy

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/quillproc"
)

// The address the Caddyfile names for quill, and its example domain.
const (
	caddyUpstream = "127.0.0.1:8000"
	caddyDomain   = "blog.example.com"
)

// clientIP is the loopback address the test's client connects from;
// Caddy's connections to quill come from 127.0.0.1.
var clientIP = net.IPv4(127, 0, 0, 2)

// TestCaddy runs the real quill behind Caddy configured by deploy/Caddyfile,
// with the settings the file tells quill to use, and checks what a user
// of the site gets: quill sees each client's own address, not Caddy's,
// and one a client forges in X-Forwarded-For is not believed; the pages'
// cookies are Secure with the __Host- prefix; logging in through the page
// form works through the proxy; plain HTTP is redirected to HTTPS.
//
// Caddy serves localhost in place of the example domain, with a
// certificate from its own local authority (the test's client trusts that
// authority alone), on free ports, with its storage in the test's folder
// and its admin endpoint off.
func TestCaddy(t *testing.T) {
	caddy := tool(t, "caddy", "caddy")
	if testing.Short() {
		t.Skip("builds quill and starts Caddy; skipped in -short mode")
	}
	dir := t.TempDir()
	httpsAddr, err := quillproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	httpAddr, err := quillproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, httpsPort, _ := net.SplitHostPort(httpsAddr)
	_, httpPort, _ := net.SplitHostPort(httpAddr)
	site := "https://localhost:" + httpsPort

	// quill, with the settings the Caddyfile's comment gives it.
	quillDir := filepath.Join(dir, "quill")
	if err := os.Mkdir(quillDir, 0o700); err != nil {
		t.Fatal(err)
	}
	q, err := quillproc.Start(context.Background(), quillproc.Config{
		Bin: quillBinary(t),
		Dir: quillDir,
		Env: []string{"PUBLIC_URL=" + site, "TRUSTED_PROXIES=127.0.0.1/32"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := q.Stop(time.Minute); err != nil {
			t.Error(err)
		}
		if strings.Contains(q.Log(), "panic") {
			t.Errorf("quill logged a panic:\n%s", q.LogTail(60))
		}
	})

	// Caddy, with deploy/Caddyfile behind test-only global options.
	shipped, err := os.ReadFile("Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{caddyDomain + " {", "reverse_proxy " + caddyUpstream + "\n"} {
		if n := bytes.Count(shipped, []byte(s)); n != 1 {
			t.Fatalf("deploy/Caddyfile has %q %d times, want once", s, n)
		}
	}
	siteBlock := bytes.Replace(shipped, []byte(caddyDomain+" {"), []byte("localhost {"), 1)
	siteBlock = bytes.Replace(siteBlock, []byte("reverse_proxy "+caddyUpstream), []byte("reverse_proxy "+q.Addr), 1)
	storage := filepath.Join(dir, "caddy")
	config := fmt.Sprintf(`{
	admin off
	storage file_system %s
	http_port %s
	https_port %s
	local_certs
	skip_install_trust
}

%s`, storage, httpPort, httpsPort, siteBlock)
	configPath := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "caddy.log")
	c := startCaddy(t, caddy, dir, configPath, logPath)
	client := caddyClient(t, c, storage)
	waitFor(t, c, client, site+"/health")

	t.Run("HTTP is redirected to HTTPS", func(t *testing.T) {
		// To the same host and path; the port is 443's, which is the
		// redirect's right target everywhere but in this test.
		res := do(t, client, http.MethodGet, "http://localhost:"+httpPort+"/login", nil, nil)
		loc, err := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusPermanentRedirect || err != nil || loc.Scheme != "https" || loc.Hostname() != "localhost" || loc.Path != "/login" {
			t.Errorf("GET http://localhost:%s/login = %s, Location %q; want 308 to https://localhost/login", httpPort, res.Status, res.Header.Get("Location"))
		}
	})

	// An account, made through the API.
	const username, email, password = "alice", "alice@example.com", "correct horse battery staple"
	body, _ := json.Marshal(map[string]string{"username": username, "email": email, "password": password})
	if res := do(t, client, http.MethodPost, site+"/api/users", bytes.NewReader(body), http.Header{"Content-Type": {"application/json"}}); res.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/users = %s, want 201 Created", res.Status)
	}

	t.Run("pages log in with __Host- cookies", func(t *testing.T) {
		res := do(t, client, http.MethodGet, site+"/login", nil, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /login = %s, want 200", res.Status)
		}
		if hsts := res.Header.Get("Strict-Transport-Security"); hsts != "max-age=31536000" {
			t.Errorf("GET /login: Strict-Transport-Security %q, want max-age=31536000", hsts)
		}
		m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(res.body)
		if m == nil {
			t.Fatalf("GET /login has no csrf_token field:\n%s", res.body)
		}
		form := url.Values{"csrf_token": {string(m[1])}, "next": {"/account"}, "username": {username}, "password": {password}}
		res = do(t, client, http.MethodPost, site+"/login", strings.NewReader(form.Encode()), http.Header{
			"Content-Type": {"application/x-www-form-urlencoded"},
			"Origin":       {site}, // as a browser sends it with a form
		})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
			t.Fatalf("POST /login = %s, Location %q; want 303 See Other to /account\n%s", res.Status, res.Header.Get("Location"), res.body)
		}
		var session *http.Cookie
		for _, c := range res.Cookies() {
			if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || c.Path != "/" || c.Domain != "" {
				t.Errorf("POST /login set cookie %q (Secure %v, Path %q, Domain %q), want the __Host- prefix, Secure, Path=/ and no Domain",
					c.Name, c.Secure, c.Path, c.Domain)
			}
			if c.Value != "" && c.MaxAge >= 0 {
				session = c
			}
		}
		if session == nil {
			t.Fatalf("POST /login set no cookie to keep; Set-Cookie: %q", res.Header.Values("Set-Cookie"))
		}
		res = do(t, client, http.MethodGet, site+"/account", nil, nil)
		if res.StatusCode != http.StatusOK || !bytes.Contains(res.body, []byte(email)) {
			t.Fatalf("GET /account with the cookie = %s, want 200 with the account's email\n%s", res.Status, res.body)
		}
		if !bytes.Contains(res.body, []byte(clientIP.String())) {
			t.Errorf("GET /account does not show this browser's session from %s\n%s", clientIP, res.body)
		}
	})

	t.Run("quill sees the client's address", func(t *testing.T) {
		form := url.Values{"username": {email}, "password": {password}}
		// A client may send any X-Forwarded-For; quill believes only the
		// entry Caddy adds.
		res := do(t, client, http.MethodPost, site+"/api/users/token", strings.NewReader(form.Encode()), http.Header{
			"Content-Type":    {"application/x-www-form-urlencoded"},
			"X-Forwarded-For": {"203.0.113.9"},
		})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("POST /api/users/token = %s, want 200\n%s", res.Status, res.body)
		}
		var token struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(res.body, &token); err != nil || token.AccessToken == "" {
			t.Fatalf("POST /api/users/token answered %s: %v", res.body, err)
		}
		res = do(t, client, http.MethodGet, site+"/api/users/me/sessions", nil, http.Header{"Authorization": {"Bearer " + token.AccessToken}})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/users/me/sessions = %s, want 200\n%s", res.Status, res.body)
		}
		var sessions []struct {
			IP      string `json:"ip"`
			Current bool   `json:"current"`
		}
		if err := json.Unmarshal(res.body, &sessions); err != nil {
			t.Fatalf("GET /api/users/me/sessions answered %s: %v", res.body, err)
		}
		if len(sessions) == 0 {
			t.Fatal("GET /api/users/me/sessions listed no session")
		}
		for _, s := range sessions {
			if s.IP != clientIP.String() {
				t.Errorf("a session (current: %v) is from %q, want %s, the client's address\n%s", s.Current, s.IP, clientIP, res.body)
			}
		}
	})
}

// caddyProcess is a caddy that startCaddy started.
type caddyProcess struct {
	logPath string
	done    chan struct{} // closed when it has exited
	err     error         // what cmd.Wait returned, once done is closed
}

// exited reports whether caddy has exited, with its log if it has.
func (c *caddyProcess) exited() (string, bool) {
	select {
	case <-c.done:
		return fmt.Sprintf("caddy exited (%v); its log:\n%s", c.err, readLog(c.logPath)), true
	default:
		return "", false
	}
}

// startCaddy runs caddy with the Caddyfile at configPath, its home and
// data in dir and its output in logPath. When t ends it is stopped with
// SIGTERM and must exit with status 0.
func startCaddy(t *testing.T, caddy, dir, configPath, logPath string) *caddyProcess {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(caddy, "run", "--config", configPath, "--adapter", "caddyfile")
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start caddy: %v", err)
	}
	c := &caddyProcess{logPath: logPath, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		if msg, ok := c.exited(); ok {
			t.Error(msg)
			return
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
			if c.err != nil {
				t.Errorf("caddy exited with %v after SIGTERM; its log:\n%s", c.err, readLog(logPath))
			}
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			<-c.done
			t.Errorf("caddy did not stop within a minute of SIGTERM; its log:\n%s", readLog(logPath))
		}
	})
	return c
}

// caddyClient returns an HTTP client that trusts only the root of Caddy's
// local authority (created in storage when Caddy starts), connects from
// clientIP and follows no redirect.
func caddyClient(t *testing.T, c *caddyProcess, storage string) *http.Client {
	t.Helper()
	rootPath := filepath.Join(storage, "pki", "authorities", "local", "root.crt")
	var pem []byte
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var err error
		if pem, err = os.ReadFile(rootPath); err == nil && len(pem) > 0 {
			break
		}
		if msg, ok := c.exited(); ok {
			t.Fatal(msg)
		}
		if time.Now().After(deadline) {
			t.Fatalf("Caddy made no local certificate authority at %s within a minute: %v; its log:\n%s", rootPath, err, readLog(c.logPath))
		}
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", rootPath)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: clientIP}, Timeout: 10 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:     dialer.DialContext,
			TLSClientConfig: &tls.Config{RootCAs: roots},
		},
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// waitFor polls url until it answers 200, for a minute at most.
func waitFor(t *testing.T, c *caddyProcess, client *http.Client, url string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if msg, ok := c.exited(); ok {
			t.Fatal(msg)
		}
		res, err := client.Get(url)
		if err != nil {
			last = err.Error()
			continue
		}
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			return
		}
		last = res.Status
	}
	t.Fatalf("GET %s did not answer 200 within a minute (last: %s); Caddy's log:\n%s", url, last, readLog(c.logPath))
}

// response is an answer with its body read.
type response struct {
	*http.Response
	body []byte
}

// do sends a request and reads the answer, failing t if it cannot.
func do(t *testing.T, client *http.Client, method, url string, body io.Reader, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return response{Response: res, body: b}
}

// readLog returns the file at path, for failure messages.
func readLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	return string(b)
}
