package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
)

// These helpers run the real quill binary, built by the test, as separate
// processes: several instances on one database, as in production behind a
// load balancer.

// buildRaceableQuill builds the quill binary into a temporary folder, with
// the race detector when the tests run with it, and returns its path.
func buildRaceableQuill(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "quill")
	args := []string{"build", "-o", bin}
	if quillRace {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// instance is a running quill process.
type instance struct {
	name string
	url  string // http://127.0.0.1:port
	cmd  *exec.Cmd
	logs *lockedBuffer
	done chan struct{} // closed when the process has exited
	urls chan string   // the URL, once it listens
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listening = regexp.MustCompile(`msg="quill is listening" url=(http://\S+)`)

// launchInstance runs bin serve with env (and ADDR=127.0.0.1:0) in a new
// working folder, and stops it when tb ends, checking that it exits cleanly
// and never panicked. It does not wait (see waitReady): several instances
// launched one after the other start at once.
func launchInstance(tb testing.TB, name, bin string, env map[string]string) *instance {
	tb.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Dir = tb.TempDir() // its own ./.env, none of the developer's
	cmd.Env = []string{"ADDR=127.0.0.1:0", "PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	in := &instance{name: name, cmd: cmd, logs: &lockedBuffer{}, done: make(chan struct{}), urls: make(chan string, 1)}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout = in.logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(in.logs, line)
			if m := listening.FindStringSubmatch(line); m != nil {
				in.urls <- m[1]
			}
		}
		io.Copy(in.logs, stderr)
		cmd.Wait()
		close(in.done)
	}()
	tb.Cleanup(func() { in.stop(tb) })
	return in
}

// waitReady waits until in listens.
func (in *instance) waitReady(tb testing.TB) {
	tb.Helper()
	select {
	case in.url = <-in.urls:
	case <-in.done:
		tb.Fatalf("%s exited at start-up:\n%s", in.name, in.logs)
	case <-time.After(time.Minute):
		tb.Fatalf("%s did not start listening within a minute:\n%s", in.name, in.logs)
	}
}

// stop sends SIGTERM and checks that the instance exits with status 0 and
// logged no panic.
func (in *instance) stop(tb testing.TB) {
	tb.Helper()
	select {
	case <-in.done:
	default:
		in.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-in.done:
		case <-time.After(time.Minute):
			in.cmd.Process.Kill()
			<-in.done
			tb.Errorf("%s did not stop within a minute of SIGTERM", in.name)
		}
	}
	if code := in.cmd.ProcessState.ExitCode(); code != 0 {
		tb.Errorf("%s exited with status %d, want 0", in.name, code)
	}
	if logs := in.logs.String(); strings.Contains(logs, "panic") || tb.Failed() {
		tb.Logf("%s's log:\n%s", in.name, tail(logs, 60))
		if strings.Contains(logs, "panic") {
			tb.Errorf("%s logged a panic", in.name)
		}
	}
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// client is an HTTP client for tests: bounded in time, no keep-alive
// surprises across instances.
var client = &http.Client{Timeout: time.Minute}

// call sends a request to in and returns the status and body. A transport
// error (the instance died, or hung) fails tb.
func (in *instance) call(tb testing.TB, method, path, body string, header http.Header) (int, []byte) {
	tb.Helper()
	status, data, err := in.try(context.Background(), method, path, body, header)
	if err != nil {
		tb.Fatalf("%s %s on %s: %v", method, path, in.name, err)
	}
	return status, data
}

// try is call without the test: for goroutines.
func (in *instance) try(ctx context.Context, method, path, body string, header http.Header) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, in.url+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res.StatusCode, data, err
}

// bearer is the Authorization header for token.
func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// formHeader is the header of a urlencoded form body.
var formHeader = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

// register creates an account through in and returns its id.
func (in *instance) register(tb testing.TB, username, email, password string) int64 {
	tb.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "email": email, "password": password})
	status, data := in.call(tb, "POST", "/api/users", string(body), nil)
	if status != http.StatusCreated {
		tb.Fatalf("register %q on %s = %d %s, want 201", username, in.name, status, data)
	}
	var u struct{ ID int64 }
	if err := json.Unmarshal(data, &u); err != nil {
		tb.Fatal(err)
	}
	return u.ID
}

// login logs in through in and returns the access token.
func (in *instance) login(tb testing.TB, username, password string) string {
	tb.Helper()
	form := url.Values{"username": {username}, "password": {password}}.Encode()
	status, data := in.call(tb, "POST", "/api/users/token", form, formHeader)
	if status != http.StatusOK {
		tb.Fatalf("login %q on %s = %d %s, want 200", username, in.name, status, data)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(data, &tok); err != nil || tok.AccessToken == "" {
		tb.Fatalf("login %q on %s: no token in %s", username, in.name, data)
	}
	return tok.AccessToken
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, deadline time.Duration, cond func() bool) {
	tb.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			tb.Fatalf("%s: not within %v", what, deadline)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// grepLines is the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
