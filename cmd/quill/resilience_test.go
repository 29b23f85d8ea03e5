package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/mail/mailpittest"
)

// These tests run the real quill binary (serveBinary, binary_test.go) as a
// server on a free port: what only a whole process can show (signals,
// kill -9, the HTTP server's own limits, what reaches its log).

func newSecretKey(t *testing.T) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// call sends a request and returns the status and body; a transport error
// is returned as such.
func call(client *http.Client, method, u, contentType, body string, header http.Header) (int, []byte, error) {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res.StatusCode, data, err
}

func registerBody(username, password string) string {
	b, _ := json.Marshal(map[string]string{"username": username, "email": username + "@example.com", "password": password})
	return string(b)
}

func loginBody(username, password string) string {
	return url.Values{"username": {username}, "password": {password}}.Encode()
}

const formType = "application/x-www-form-urlencoded"

// TestGracefulShutdown sends SIGTERM while a request is in flight: the
// server stops accepting connections, finishes that request, and exits 0.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := serveBinary(t, dir, "SECRET_KEY="+newSecretKey(t))

	conn, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := registerBody("carol", "a-long-passphrase-4")
	fmt.Fprintf(conn, "POST /api/users HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", p.Addr, len(body))
	// The handler asks for the body: the request is in flight.
	br := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("reading 100 Continue: %q, %v", line, err)
	}
	if _, err := br.ReadString('\n'); err != nil { // the blank line after it
		t.Fatal(err)
	}

	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The listener closes: new connections are refused.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.Addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("quill still accepts connections after SIGTERM:\n%s", p.Log())
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-p.Done():
		t.Fatalf("quill exited with a request in flight (%v):\n%s", p.Wait(), p.Log())
	default:
	}

	// The in-flight request completes.
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the response after SIGTERM: %v\n%s", err, p.Log())
	}
	got, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		t.Errorf("in-flight registration = %d %s, want 201", res.StatusCode, got)
	}
	if err := waitExit(t, p); err != nil {
		t.Errorf("quill exited with %v after SIGTERM, want status 0:\n%s", err, p.Log())
	}
	if !strings.Contains(p.Log(), "shutting down") {
		t.Errorf("no shutdown line in the log:\n%s", p.Log())
	}
}

// TestCrashSafety registers accounts from several goroutines, kills the
// server with SIGKILL in the middle, restarts it on the same database and
// checks that every registration that got 201 is there and can log in.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"SECRET_KEY=" + newSecretKey(t), "RATE_LIMITS=off"}
	p := serveBinary(t, dir, env...)

	const workers, enough = 4, 24
	type account struct{ username, password string }
	var (
		mu      sync.Mutex
		created []account
		wg      sync.WaitGroup
		killed  = make(chan struct{})
	)
	client := &http.Client{Timeout: 30 * time.Second}
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				a := account{fmt.Sprintf("user%d_%d", w, i), fmt.Sprintf("passphrase-%d-%d-xyzzy", w, i)}
				status, body, err := call(client, "POST", p.URL+"/api/users", "application/json", registerBody(a.username, a.password), nil)
				if err != nil {
					select {
					case <-killed: // the crash: this one's fate is unknown
						return
					default:
						t.Errorf("register %s: %v", a.username, err)
						return
					}
				}
				if status != http.StatusCreated {
					t.Errorf("register %s = %d %s, want 201", a.username, status, body)
					return
				}
				mu.Lock()
				created = append(created, a)
				n := len(created)
				mu.Unlock()
				if n == enough {
					// Mid-stream: the other workers have requests in flight.
					// (killed first: their errors are expected from now.)
					close(killed)
					p.Signal(syscall.SIGKILL)
				}
			}
		})
	}
	wg.Wait()
	var exit *exec.ExitError
	if err := waitExit(t, p); !errors.As(err, &exit) || exit.ExitCode() != -1 {
		t.Fatalf("quill ended with %v, want killed by a signal", err)
	}
	if t.Failed() {
		return
	}

	p = serveBinary(t, dir, env...)
	for _, a := range created {
		status, body, err := call(client, "POST", p.URL+"/api/users/token", formType, loginBody(a.username, a.password), nil)
		if err != nil || status != http.StatusOK {
			t.Errorf("after the crash, login as %s = %d %s %v, want 200", a.username, status, body, err)
		}
	}
	t.Logf("%d registrations got 201 before the kill; all of them survived", len(created))
}

// exchange writes raw to a new connection to addr and returns the status
// line of the reply, or "" if the server closed the connection without
// one. It fails if no answer comes within the deadline.
func exchange(t *testing.T, addr string, raw []string, pause time.Duration) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	for _, part := range raw {
		if _, err := io.WriteString(conn, part); err != nil {
			return "" // closed on us
		}
		time.Sleep(pause)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("no reply and no close within the deadline")
	}
	return strings.TrimSpace(line)
}

// TestHostileHTTP sends malformed HTTP to the real server: each gets a 4xx
// or a closed connection, never a 5xx, and the server keeps serving.
func TestHostileHTTP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := serveBinary(t, dir, "SECRET_KEY="+newSecretKey(t))
	host := "Host: " + p.Addr + "\r\n"
	big := strings.Repeat("a", 2<<20)
	tests := []struct {
		name  string
		raw   []string
		pause time.Duration // between the parts of raw
		want  string        // prefix of the status line; "" for a closed connection
	}{
		{"garbage request line", []string{"HELLO\r\n\r\n"}, 0, "HTTP/1.1 400"},
		{"no Host", []string{"GET /health HTTP/1.1\r\n\r\n"}, 0, "HTTP/1.1 400"},
		{"header too large", []string{"GET /health HTTP/1.1\r\n" + host + "X-Big: " + strings.Repeat("a", 200<<10) + "\r\n\r\n"}, 0, "HTTP/1.1 431"},
		{"many headers", []string{"GET /health HTTP/1.1\r\n" + host + strings.Repeat("X-A: b\r\n", 20000) + "\r\n"}, 0, "HTTP/1.1 431"},
		{"NUL in a header", []string{"GET /health HTTP/1.1\r\n" + host + "X-A: a\x00b\r\n\r\n"}, 0, "HTTP/1.1 400"},
		{"bad Content-Length", []string{"POST /api/users HTTP/1.1\r\n" + host + "Content-Length: abc\r\n\r\n"}, 0, "HTTP/1.1 400"},
		{"two Content-Lengths", []string{"POST /api/users HTTP/1.1\r\n" + host + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab"}, 0, "HTTP/1.1 400"},
		{"bad chunking", []string{"POST /api/users HTTP/1.1\r\n" + host + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"}, 0, "HTTP/1.1 4"},
		{"body too large", []string{"POST /api/users HTTP/1.1\r\n" + host + "Content-Type: application/json\r\nContent-Length: " + fmt.Sprint(len(big)) + "\r\n\r\n" + big}, 0, "HTTP/1.1 413"},
		{"form too large", []string{"POST /api/users/token HTTP/1.1\r\n" + host + "Content-Type: " + formType + "\r\nContent-Length: " + fmt.Sprint(len(big)) + "\r\n\r\n" + big}, 0, "HTTP/1.1 413"},
		{"invalid UTF-8 JSON", []string{"POST /api/users HTTP/1.1\r\n" + host + "Content-Type: application/json\r\nContent-Length: 5\r\n\r\n{\"\xff\"}"}, 0, "HTTP/1.1 422"},
		{"HTTP/2 preface on HTTP/1", []string{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}, 0, ""},
		{"TLS handshake", []string{"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"}, 0, "HTTP/1.1 400"},
		// Slow loris: the headers never end; the read-header timeout (5 s)
		// closes the connection.
		{"slow loris", []string{"GET /health HTTP/1.1\r\n", host, "X-A: 1\r\n", "X-B: 2\r\n", "X-C: 3\r\n", "X-D: 4\r\n", "X-E: 5\r\n", "X-F: 6\r\n", "X-G: 7\r\n"}, time.Second, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := exchange(t, p.Addr, tt.raw, tt.pause)
			if tt.want == "" && got != "" && !strings.HasPrefix(got, "HTTP/1.1 4") && !strings.HasPrefix(got, "HTTP/1.0 4") {
				t.Errorf("%s: reply %q, want a closed connection or a 4xx", tt.name, got)
			}
			if tt.want != "" && !strings.HasPrefix(got, tt.want) {
				t.Errorf("%s: reply %q, want %q…", tt.name, got, tt.want)
			}
		})
	}
	t.Cleanup(func() {
		// Still serving after all that.
		if status, body, err := call(http.DefaultClient, "GET", p.URL+"/health", "", "", nil); err != nil || status != http.StatusOK {
			t.Errorf("GET /health after hostile input = %d %s %v", status, body, err)
		}
		if strings.Contains(p.Log(), "level=ERROR") {
			t.Errorf("the server logged an error:\n%s", p.Log())
		}
	})
}

// TestLogsKeepSecrets runs a session of registrations, logins, failures,
// bad requests, a verified address and a password reset against the real
// server, then searches everything it logged for the passwords, tokens,
// hashes, verification and reset links and key that went by.
func TestLogsKeepSecrets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// With SMTP_URL set, the reset mail goes out by SMTP; unset, quill
	// writes mails to its log on purpose (development only).
	mp := mailpittest.Start(t, mailpittest.Options{})
	// No SECRET_KEY: quill generates one into .env, and must not log it.
	p := serveBinary(t, dir, "SMTP_URL=smtp://"+mp.SMTPAddr, "PUBLIC_URL=http://quill.test")
	client := &http.Client{Timeout: 30 * time.Second}
	secrets := map[string]string{}
	secret := func(name string) string {
		v := name + "-" + newSecretKey(t)[:16]
		secrets[name] = v
		return v
	}
	do := func(method, path, contentType, body string, header http.Header, want int) []byte {
		t.Helper()
		status, got, err := call(client, method, p.URL+path, contentType, body, header)
		if err != nil || status != want {
			t.Fatalf("%s %s = %d %s %v, want %d", method, path, status, got, err, want)
		}
		return got
	}

	alice := secret("first-password")
	do("POST", "/api/users", "application/json", registerBody("alice", alice), nil, http.StatusCreated)
	do("POST", "/api/users", "application/json", registerBody("bob", secret("second-password")), nil, http.StatusCreated)
	do("POST", "/api/users", "application/json", registerBody("carol", "carol-"+secret("contains-name")), nil, http.StatusUnprocessableEntity)
	do("POST", "/api/users", "application/json", `{"username":"dave","email":"dave@example.com","password":"`+secret("nul-password")+`\u0000"}`, nil, http.StatusUnprocessableEntity)
	do("POST", "/api/users", "application/json", `{"username":"erin","email":"erin@example.com","password":"`+secret("truncated-json"), nil, http.StatusUnprocessableEntity)
	do("POST", "/api/users", "application/json", registerBody("alice", secret("duplicate")), nil, http.StatusBadRequest)

	var tok struct{ AccessToken, RefreshToken string }
	body := do("POST", "/api/users/token", formType, loginBody("alice", alice), nil, http.StatusOK)
	if err := json.Unmarshal(body, &struct {
		AccessToken  *string `json:"access_token"`
		RefreshToken *string `json:"refresh_token"`
	}{&tok.AccessToken, &tok.RefreshToken}); err != nil || tok.AccessToken == "" {
		t.Fatalf("token response %s: %v", body, err)
	}
	secrets["access token"] = tok.AccessToken
	secrets["access token signature"] = tok.AccessToken[strings.LastIndexByte(tok.AccessToken, '.')+1:]
	secrets["refresh token"] = tok.RefreshToken

	// Bob's account is throttled; Alice's stays open for the changes below.
	wrong := secret("wrong-password")
	for range 5 {
		do("POST", "/api/users/token", formType, loginBody("bob", wrong), nil, http.StatusUnauthorized)
	}
	do("POST", "/api/users/token", formType, loginBody("bob", wrong), nil, http.StatusTooManyRequests)
	do("POST", "/api/users/token", formType, loginBody("nobody@example.com", secret("unknown-user-password")), nil, http.StatusUnauthorized)
	do("POST", "/api/users/token?password="+secret("query-password")+"&access_token="+secret("query-token"), formType,
		loginBody("carol@example.com", secret("form-password")), nil, http.StatusUnauthorized)
	do("POST", "/api/users/token", formType, "username=bob&password="+secret("bad-utf8")+"%FF", nil, http.StatusUnprocessableEntity)

	auth := http.Header{"Authorization": {"Bearer " + tok.AccessToken}}
	do("GET", "/api/users/me", "", "", auth, http.StatusOK)
	do("GET", "/api/users/me", "", "", http.Header{"Authorization": {"Bearer " + secret("forged-token")}}, http.StatusUnauthorized)
	newPassword := secret("new-password")
	var me struct{ ID int64 }
	json.Unmarshal(do("GET", "/api/users/me", "", "", auth, http.StatusOK), &me)
	do("PUT", fmt.Sprintf("/api/users/%d", me.ID), "application/json",
		fmt.Sprintf(`{"username":"alice","email":"alice@example.com","password":%q,"current_password":%q}`, newPassword, alice), auth, http.StatusOK)
	do("PATCH", fmt.Sprintf("/api/users/%d", me.ID), "application/json",
		fmt.Sprintf(`{"email":"alice2@example.com","current_password":%q}`, secret("wrong-current")), auth, http.StatusBadRequest)

	// Alice's verification link, used.
	verify := regexp.MustCompile(`http://quill\.test/verify-email\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(
		waitMail(t, mp, "alice@example.com", "Confirm your email address").Text)
	if verify == nil {
		t.Fatal("no verification link in Alice's mail")
	}
	secrets["verification link"], secrets["verification token"] = verify[0], verify[1]
	do("POST", "/api/users/verify-email", "application/json", fmt.Sprintf(`{"token":%q}`, verify[1]), nil, http.StatusOK)

	do("POST", "/api/users/forgot-password", "application/json", `{"email":"alice@example.com"}`, nil, http.StatusAccepted)
	reset := waitMail(t, mp, "alice@example.com", "Reset your password")
	link := regexp.MustCompile(`http://quill\.test/reset-password\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(reset.Text)
	if link == nil {
		t.Fatalf("no reset link in the mail:\n%s", reset.Text)
	}
	secrets["reset link"], secrets["reset token"] = link[0], link[1]
	do("POST", "/api/users/reset-password", "application/json",
		fmt.Sprintf(`{"token":%q,"new_password":%q}`, link[1], secret("reset-password")), nil, http.StatusOK)
	do("POST", "/api/users/reset-password", "application/json",
		fmt.Sprintf(`{"token":%q,"new_password":%q}`, link[1]+"x", secret("reset-again")), nil, http.StatusBadRequest)

	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(t, p); err != nil {
		t.Fatalf("quill exited with %v", err)
	}
	dotenv, err := os.ReadFile(filepath.Join(dir, ".env"))
	if err != nil {
		t.Fatal(err)
	}
	key, ok := strings.CutPrefix(strings.TrimSpace(string(dotenv)), "SECRET_KEY=")
	if !ok || len(key) < 32 {
		t.Fatalf(".env = %q, want a generated SECRET_KEY", dotenv)
	}
	secrets["SECRET_KEY"] = key
	secrets["a password hash"] = "$argon2"

	logs := p.Log()
	if !strings.Contains(logs, "path=/api/users/token") {
		t.Fatalf("the log has no access lines; nothing was checked:\n%s", logs)
	}
	for name, v := range secrets {
		if strings.Contains(logs, v) || strings.Contains(logs, url.QueryEscape(v)) {
			t.Errorf("the log contains the %s %q", name, v)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", logs)
	}
}
