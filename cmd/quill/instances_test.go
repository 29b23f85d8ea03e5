package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/quillproc"
)

// These helpers run the real quill binary, built by the test, as separate
// processes: several instances on one database, as in production behind a
// load balancer.

// instance is a running quill process, one of several on a database.
type instance struct {
	*quillproc.Process
}

// launchInstance runs bin serve with env in a new working folder, as
// launchQuill does: it does not wait (see waitReady), and it is stopped
// and checked when tb ends.
func launchInstance(tb testing.TB, name, bin string, env map[string]string) *instance {
	tb.Helper()
	var kv []string
	for k, v := range env {
		kv = append(kv, k+"="+v)
	}
	return &instance{launchQuill(tb, bin, tb.TempDir(), name, kv...)}
}

// waitReady waits until in answers /health.
func (in *instance) waitReady(tb testing.TB) {
	tb.Helper()
	waitReady(tb, in.Process)
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
		tb.Fatalf("%s %s on %s: %v", method, path, in.Name, err)
	}
	return status, data
}

// try is call without the test: for goroutines.
func (in *instance) try(ctx context.Context, method, path, body string, header http.Header) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, in.URL+path, strings.NewReader(body))
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
		tb.Fatalf("register %q on %s = %d %s, want 201", username, in.Name, status, data)
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
		tb.Fatalf("login %q on %s = %d %s, want 200", username, in.Name, status, data)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(data, &tok); err != nil || tok.AccessToken == "" {
		tb.Fatalf("login %q on %s: no token in %s", username, in.Name, data)
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
