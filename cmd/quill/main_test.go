package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/quilltest"
)

// testKey is a valid SECRET_KEY for tests that do not exercise key
// generation.
const testKey = "3f1c9a7e5b2d4068a1f3c5e7092b4d6f8a0c2e4f6a8b0d2e4f6a8c0e2a4c6e8f"

// envFunc is a getenv over a fixed map.
func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// runQuill runs quill to completion with args and env in the current
// directory and returns its error, stdout and stderr.
func runQuill(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut quilltest.Logs
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = run(ctx, args, envFunc(env), strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// quillServer is `quill serve` running in a goroutine.
type quillServer struct {
	URL  string
	logs *quilltest.Logs
	stop func() error // cancels run's context and returns what run returned
}

// listeningRE finds the listening URL in a text or JSON log.
var listeningRE = regexp.MustCompile(`msg="quill is listening" url=(http://\S+)|"msg":"quill is listening","url":"(http://[^"]+)"`)

// startQuill runs `quill serve --addr 127.0.0.1:0 args…` in the current
// directory, waits until it answers /health and returns it. It is stopped
// when the test ends if the test has not stopped it.
func startQuill(t *testing.T, env map[string]string, args ...string) *quillServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &quilltest.Logs{}
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), envFunc(env), strings.NewReader(""), io.Discard, logs)
	}()
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

	// The log says where it listens; then /health says it is ready.
	deadline := time.Now().Add(30 * time.Second)
	var base string
	for base == "" {
		if m := listeningRE.FindStringSubmatch(logs.String()); m != nil {
			base = m[1] + m[2]
			break
		}
		select {
		case err := <-errc:
			t.Fatalf("run returned %v before listening; log:\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q line in the log within 30 s:\n%s", "quill is listening", logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for {
		res, err := http.Get(base + "/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s/health did not answer 200 within 30 s (last error %v)", base, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return &quillServer{URL: base, logs: logs, stop: stop}
}

// call sends a request and returns the status and the decoded JSON body
// (nil when empty).
func (s *quillServer) call(t *testing.T, method, path, contentType, body, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s %s: body %q is not a JSON object: %v", method, path, data, err)
		}
	}
	return res.StatusCode, v
}

func (s *quillServer) mustCall(t *testing.T, want int, method, path, contentType, body, token string) map[string]any {
	t.Helper()
	status, v := s.call(t, method, path, contentType, body, token)
	if status != want {
		t.Fatalf("%s %s = %d %v, want %d", method, path, status, v, want)
	}
	return v
}

var dotenvKeyRE = regexp.MustCompile(`^SECRET_KEY=([0-9a-f]{64})\n$`)

// TestServe is the end-to-end test: quill serve with no configuration at
// all, through run, in an empty directory.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	env := map[string]string{ // no SECRET_KEY; Argon2 at the floor
		"ARGON2_MEMORY_KIB": "19456", "ARGON2_ITERATIONS": "2", "ARGON2_PARALLELISM": "1",
	}

	first := startQuill(t, env)

	dotenv, err := os.ReadFile(".env")
	if err != nil {
		t.Fatalf("serve without SECRET_KEY wrote no .env: %v", err)
	}
	m := dotenvKeyRE.FindSubmatch(dotenv)
	if m == nil {
		t.Fatalf(".env = %q, want one line SECRET_KEY=<64 hex digits>", dotenv)
	}
	key := string(m[1])
	if fi, err := os.Stat(".env"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf(".env mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if !strings.Contains(first.logs.String(), "generated a new SECRET_KEY") {
		t.Errorf("the log does not say a key was generated:\n%s", first.logs)
	}
	if strings.Contains(first.logs.String(), key) {
		t.Errorf("the log contains the generated key")
	}
	if _, err := os.Stat("blog.db"); err != nil {
		t.Errorf("no ./blog.db: %v", err)
	}

	const password = "a-long-passphrase-for-e2e"
	user := first.mustCall(t, http.StatusCreated, "POST", "/api/users", "application/json",
		`{"username":"Alice","email":"Alice@Example.com","password":"`+password+`"}`, "")
	if user["email"] != "alice@example.com" || user["username"] != "Alice" {
		t.Errorf("registered user = %v", user)
	}
	tok := first.mustCall(t, http.StatusOK, "POST", "/api/users/token", "application/x-www-form-urlencoded",
		url.Values{"username": {"alice@example.com"}, "password": {password}}.Encode(), "")
	token, _ := tok["access_token"].(string)
	if token == "" || tok["token_type"] != "bearer" {
		t.Fatalf("token response = %v", tok)
	}
	me := first.mustCall(t, http.StatusOK, "GET", "/api/users/me", "", "", token)
	if me["id"] != user["id"] || me["email"] != "alice@example.com" {
		t.Errorf("me = %v, want the registered user %v", me, user)
	}
	post := first.mustCall(t, http.StatusCreated, "POST", "/api/posts", "application/json",
		`{"title":"Hello","content":"First post."}`, token)
	list := first.mustCall(t, http.StatusOK, "GET", "/api/posts", "", "", "")
	posts, _ := list["posts"].([]any)
	if list["total"] != 1.0 || len(posts) != 1 || posts[0].(map[string]any)["id"] != post["id"] {
		t.Errorf("GET /api/posts = %v, want the one post %v", list, post)
	}

	if err := first.stop(); err != nil {
		t.Fatalf("run after cancellation = %v, want nil (graceful shutdown)", err)
	}

	// A second start reuses the key in .env: the first run's token still
	// works, and the data is still there.
	second := startQuill(t, env)
	if again, _ := os.ReadFile(".env"); !bytes.Equal(again, dotenv) {
		t.Errorf(".env after the second start = %q, want unchanged %q", again, dotenv)
	}
	if strings.Contains(second.logs.String(), "generated a new SECRET_KEY") {
		t.Errorf("the second start generated another key:\n%s", second.logs)
	}
	me2 := second.mustCall(t, http.StatusOK, "GET", "/api/users/me", "", "", token)
	if me2["id"] != user["id"] {
		t.Errorf("me on the second run = %v, want %v", me2, user)
	}
	second.mustCall(t, http.StatusOK, "GET", "/api/posts/"+jsonNumber(post["id"]), "", "", "")
	if err := second.stop(); err != nil {
		t.Fatalf("second run after cancellation = %v, want nil", err)
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestServeAppendsToDotenv checks that a generated key is appended to an
// existing .env without disturbing it.
func TestServeAppendsToDotenv(t *testing.T) {
	t.Chdir(t.TempDir())
	// The tutorial's .env is usually world-readable; once it holds our key
	// it must not be.
	if err := os.WriteFile(".env", []byte("# settings\nLOG_FORMAT=json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(".env", 0o644); err != nil { // past the umask
		t.Fatal(err)
	}
	s := startQuill(t, nil)
	if !strings.HasPrefix(strings.TrimSpace(s.logs.String()), "{") {
		t.Errorf("LOG_FORMAT=json from .env not used; log:\n%s", s.logs)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(".env")
	if !regexp.MustCompile(`^# settings\nLOG_FORMAT=json\nSECRET_KEY=[0-9a-f]{64}\n$`).Match(got) {
		t.Errorf(".env = %q, want the old lines and then SECRET_KEY=…", got)
	}
	if info, err := os.Stat(".env"); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf(".env mode = %v (%v), want 0600", info.Mode().Perm(), err)
	}
}

// TestStartupErrors checks that bad configuration stops run with one
// line naming the problem, exit status 1.
func TestStartupErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	tests := []struct {
		name   string
		env    map[string]string
		dotenv string
		args   []string
		want   []string // substrings of the message
		secret string   // must not appear in the message
	}{
		{name: "short SECRET_KEY", env: map[string]string{"SECRET_KEY": "short-but-secret"},
			want: []string{"SECRET_KEY", "fewer than 32", "quill secret"}, secret: "short-but-secret"},
		{name: "placeholder SECRET_KEY", env: map[string]string{"SECRET_KEY": "changethis"},
			want: []string{"SECRET_KEY", "placeholder"}, secret: "changethis"},
		{name: "tutorial placeholder SECRET_KEY", env: map[string]string{"SECRET_KEY": "your_super_secret_key_here_generate_a_long_one"},
			want: []string{"SECRET_KEY", "placeholder"}, secret: "your_super_secret_key_here_generate_a_long_one"},
		{name: "repeated-character SECRET_KEY", env: map[string]string{"SECRET_KEY": strings.Repeat("a", 64)},
			want: []string{"SECRET_KEY"}, secret: strings.Repeat("a", 64)},
		{name: "ALGORITHM RS256", env: map[string]string{"ALGORITHM": "RS256"}, want: []string{"ALGORITHM", "HS256"}},
		{name: "ALGORITHM none", env: map[string]string{"ALGORITHM": "none"}, want: []string{"ALGORITHM", "HS256"}},
		{name: "Argon2 memory below the floor", env: map[string]string{"ARGON2_MEMORY_KIB": "1024"},
			want: []string{"1024", "ARGON2_MEMORY_KIB=19456"}},
		{name: "Argon2 iterations below the floor", env: map[string]string{"ARGON2_ITERATIONS": "1"},
			want: []string{"iterations", "ARGON2_ITERATIONS=2"}},
		{name: "Argon2 memory not a number", env: map[string]string{"ARGON2_MEMORY_KIB": "lots"},
			want: []string{"ARGON2_MEMORY_KIB", "lots"}},
		{name: "DATABASE_URL scheme", env: map[string]string{"DATABASE_URL": "mysql://user:pw@db/blog"},
			want: []string{"DATABASE_URL", "sqlite://"}, secret: "pw@db"},
		{name: "DATABASE_URL directory missing", env: map[string]string{"DATABASE_URL": "sqlite:///no/such/dir/blog.db"},
			want: []string{"database", "does not exist"}},
		{name: "PostgreSQL without SECRET_KEY", env: map[string]string{"SECRET_KEY": "", "DATABASE_URL": "postgres://db/blog"},
			want: []string{"SECRET_KEY is not set"}},
		{name: "ACCESS_TOKEN_EXPIRE_MINUTES", env: map[string]string{"ACCESS_TOKEN_EXPIRE_MINUTES": "0"},
			want: []string{"ACCESS_TOKEN_EXPIRE_MINUTES"}},
		{name: "ADDR without a port", env: map[string]string{"ADDR": "localhost"}, want: []string{"ADDR", "host:port"}},
		{name: "port in use", env: map[string]string{"ADDR": busy.Addr().String()},
			want: []string{"cannot listen on " + busy.Addr().String(), "ADDR"}},
		{name: "LOG_FORMAT", env: map[string]string{"LOG_FORMAT": "xml"}, want: []string{"LOG_FORMAT"}},
		{name: "RATE_LIMITS", env: map[string]string{"RATE_LIMITS": "maybe"}, want: []string{"RATE_LIMITS"}},
		{name: "REQUIRE_VERIFIED_EMAIL", env: map[string]string{"REQUIRE_VERIFIED_EMAIL": "yes"}, want: []string{"REQUIRE_VERIFIED_EMAIL", "on or off"}},
		{name: "malformed .env", dotenv: "SECRET_KEY\n", want: []string{".env line 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if tt.dotenv != "" {
				if err := os.WriteFile(".env", []byte(tt.dotenv), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			env := map[string]string{"SECRET_KEY": testKey}
			for k, v := range tt.env {
				env[k] = v
			}
			_, _, err := runQuill(t, env, append([]string{"serve"}, tt.args...)...)
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
			if tt.secret != "" && strings.Contains(msg, tt.secret) {
				t.Errorf("error %q repeats the secret %q", msg, tt.secret)
			}
			var stderr bytes.Buffer
			if code := exitCode(err, &stderr); code != 1 {
				t.Errorf("exitCode(%v) = %d, want 1", err, code)
			}
			if got := stderr.String(); got != "quill: "+msg+"\n" {
				t.Errorf("exitCode printed %q, want one line %q", got, "quill: "+msg+"\n")
			}
		})
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // substring of stdout or stderr
	}{
		{name: "--help", args: []string{"--help"}, wantCode: 0, wantOut: "Usage:"},
		{name: "-h", args: []string{"-h"}, wantCode: 0, wantOut: "Usage:"},
		{name: "help", args: []string{"help"}, wantCode: 0, wantOut: "quill migrate"},
		{name: "serve --help", args: []string{"serve", "--help"}, wantCode: 0, wantOut: "-secret-key"},
		{name: "migrate --help", args: []string{"migrate", "--help"}, wantCode: 0, wantOut: "[up|status]"},
		{name: "secret --help", args: []string{"secret", "--help"}, wantCode: 0, wantOut: "SECRET_KEY"},
		{name: "health --help", args: []string{"health", "--help"}, wantCode: 0, wantOut: "-url"},
		{name: "unknown flag", args: []string{"--bogus"}, wantCode: 2, wantOut: "bogus"},
		{name: "unknown serve flag", args: []string{"serve", "--bogus=1"}, wantCode: 2, wantOut: "bogus"},
		{name: "flag without a value", args: []string{"serve", "--addr"}, wantCode: 2, wantOut: "addr"},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantOut: `unknown command "frobnicate"`},
		{name: "serve with an argument", args: []string{"serve", "now"}, wantCode: 2, wantOut: "serve takes no arguments"},
		{name: "unknown migrate action", args: []string{"migrate", "sideways"}, wantCode: 2, wantOut: "sideways"},
		{name: "migrate with two actions", args: []string{"migrate", "up", "status"}, wantCode: 2, wantOut: "one argument"},
		{name: "secret with an argument", args: []string{"secret", "x"}, wantCode: 2, wantOut: "no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			stdout, stderr, err := runQuill(t, map[string]string{"SECRET_KEY": testKey}, tt.args...)
			var exitOut bytes.Buffer
			if code := exitCode(err, &exitOut); code != tt.wantCode {
				t.Errorf("exit code of quill %q = %d (%v), want %d", tt.args, code, err, tt.wantCode)
			}
			all := stdout + stderr + exitOut.String()
			if !strings.Contains(all, tt.wantOut) {
				t.Errorf("quill %q printed %q, want it to mention %q", tt.args, all, tt.wantOut)
			}
			if tt.wantCode == 2 && strings.Count(exitOut.String(), "\n") != 1 {
				t.Errorf("usage error printed %q, want one line", exitOut.String())
			}
			if _, err := os.Stat("blog.db"); err == nil {
				t.Errorf("quill %q created blog.db", tt.args)
			}
		})
	}
}

func TestSecret(t *testing.T) {
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}\n$`)
	var keys []string
	for range 2 {
		stdout, _, err := runQuill(t, nil, "secret")
		if err != nil {
			t.Fatalf("quill secret = %v", err)
		}
		if !hex64.MatchString(stdout) {
			t.Fatalf("quill secret printed %q, want 64 hex digits and a newline", stdout)
		}
		if err := checkSecret(strings.TrimSpace(stdout)); err != nil {
			t.Errorf("quill secret printed a key SECRET_KEY refuses: %v", err)
		}
		keys = append(keys, stdout)
	}
	if keys[0] == keys[1] {
		t.Errorf("quill secret printed %q twice", keys[0])
	}
}

func TestMigrate(t *testing.T) {
	t.Chdir(t.TempDir())
	env := map[string]string{}

	stdout, _, err := runQuill(t, env, "migrate", "status")
	if err != nil {
		t.Fatalf("migrate status on a new database = %v", err)
	}
	if !regexp.MustCompile(`(?m)^0001\s+\S+\s+pending$`).MatchString(stdout) {
		t.Errorf("migrate status on a new database:\n%s\nwant 0001 pending", stdout)
	}

	stdout, _, err = runQuill(t, env, "migrate", "up")
	if err != nil {
		t.Fatalf("migrate up = %v", err)
	}
	if !regexp.MustCompile(`^applied [1-9][0-9]* migration\(s\); the database is up to date\n$`).MatchString(stdout) {
		t.Errorf("migrate up printed %q", stdout)
	}

	stdout, _, err = runQuill(t, env, "migrate", "status")
	if err != nil {
		t.Fatalf("migrate status = %v", err)
	}
	if strings.Contains(stdout, "pending") || !regexp.MustCompile(`(?m)^0001\s+\S+\s+\d{4}-\d\d-\d\dT`).MatchString(stdout) {
		t.Errorf("migrate status after up:\n%s\nwant every migration applied", stdout)
	}

	// Again, and with the default action: nothing left to do.
	for _, args := range [][]string{{"migrate", "up"}, {"migrate"}} {
		stdout, _, err = runQuill(t, env, args...)
		if err != nil || stdout != "applied 0 migration(s); the database is up to date\n" {
			t.Errorf("quill %q on a migrated database = %v, %q", args, err, stdout)
		}
	}
	if _, err := os.Stat(".env"); err == nil {
		t.Errorf("migrate wrote a .env")
	}
}

// TestConfigPrecedence checks that .env is overridden by the environment,
// and the environment by flags. ADDR and SECRET_KEY are checked by every
// command, so `migrate status` shows which value won without serving.
func TestConfigPrecedence(t *testing.T) {
	tests := []struct {
		name    string
		dotenv  string
		env     map[string]string
		args    []string
		wantErr string // "" for success
	}{
		{name: ".env is read", dotenv: "ADDR=from-dotenv\n", wantErr: `ADDR="from-dotenv"`},
		{name: "the environment beats .env", dotenv: "ADDR=from-dotenv\n",
			env: map[string]string{"ADDR": "from-env"}, wantErr: `ADDR="from-env"`},
		{name: "flags beat the environment", dotenv: "ADDR=from-dotenv\n",
			env: map[string]string{"ADDR": "from-env"}, args: []string{"--addr", "from-flag"}, wantErr: `ADDR="from-flag"`},
		{name: "a good flag beats bad values", dotenv: "ADDR=from-dotenv\n",
			env: map[string]string{"ADDR": "from-env"}, args: []string{"--addr=127.0.0.1:9"}},
		{name: "a placeholder key in .env", dotenv: "SECRET_KEY=changethis\n", wantErr: "placeholder"},
		{name: "a good key in the environment beats .env", dotenv: "SECRET_KEY=changethis\n",
			env: map[string]string{"SECRET_KEY": testKey}},
		{name: "a bad key flag beats a good .env", dotenv: "SECRET_KEY=" + testKey + "\n",
			args: []string{"--secret-key", "short"}, wantErr: "fewer than 32"},
		{name: ".env comments, blank lines, export and quotes",
			dotenv: "# quill\n\nexport ADDR=\"quoted addr\"\nLOG_FORMAT=text # a comment\n", wantErr: `ADDR="quoted addr"`},
		{name: ".env single quotes", dotenv: "ADDR='single quoted'\n", wantErr: `ADDR="single quoted"`},
		{name: ".env comment after a value", dotenv: "ADDR=plain # note\n", wantErr: `ADDR="plain"`},
		{name: ".env comment after a quoted value", dotenv: "ADDR=\"quoted # not a comment\" # note\n", wantErr: `ADDR="quoted # not a comment"`},
		{name: ".env quoted key with a comment", dotenv: "SECRET_KEY='changethis' # from the tutorial\n", wantErr: "placeholder"},
		{name: "an empty environment value does not override .env", dotenv: "ADDR=from-dotenv\n",
			env: map[string]string{"ADDR": ""}, wantErr: `ADDR="from-dotenv"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if err := os.WriteFile(".env", []byte(tt.dotenv), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := runQuill(t, tt.env, append([]string{"migrate"}, append(tt.args, "status")...)...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("quill migrate %q = %v, want success", tt.args, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("quill migrate %q = %v, want an error mentioning %s", tt.args, err, tt.wantErr)
			}
		})
	}
}

// TestServeFlagsBeatEnvironment checks precedence on a running server:
// the listening address comes from the flag.
func TestServeFlagsBeatEnvironment(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile(".env", []byte("ADDR=256.0.0.1:1\nSECRET_KEY="+testKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startQuill(t, map[string]string{"ADDR": "also-not-an-address"}) // startQuill passes --addr 127.0.0.1:0
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("listening on %s, want the --addr flag's 127.0.0.1", s.URL)
	}
	if err := s.stop(); err != nil {
		t.Errorf("run after cancellation = %v", err)
	}
}
