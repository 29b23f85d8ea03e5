package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	serverDir := t.TempDir()
	p := serveBinary(t, serverDir, "SECRET_KEY="+testKey)
	_, port, err := net.SplitHostPort(p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"detail":"Database unavailable"}`, http.StatusServiceUnavailable)
	}))
	defer unavailable.Close()
	moved := httptest.NewServer(http.RedirectHandler(p.URL+"/health", http.StatusFound))
	defer moved.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	tests := []struct {
		name    string
		env     []string
		args    []string
		code    int
		wantOut string
		wantErr string
	}{
		{name: "ADDR", env: []string{"ADDR=" + p.Addr}, code: 0,
			wantOut: `^http://` + regexp.QuoteMeta(p.Addr) + `/health: healthy\n$`},
		{name: "ADDR that listens everywhere", env: []string{"ADDR=0.0.0.0:" + port}, code: 0,
			wantOut: `^http://127\.0\.0\.1:` + port + `/health: healthy\n$`},
		{name: "ADDR with no host", env: []string{"ADDR=:" + port}, code: 0,
			wantOut: `^http://127\.0\.0\.1:` + port + `/health: healthy\n$`},
		{name: "--url", args: []string{"--url", p.URL + "/health"}, code: 0, wantOut: `healthy`},
		{name: "--addr flag", args: []string{"--addr", p.Addr}, code: 0, wantOut: `healthy`},
		{name: "503", args: []string{"--url", unavailable.URL + "/health"}, code: 1,
			wantErr: `^quill: health check of http://127\.0\.0\.1:\d+/health: the server answered 503 Service Unavailable\n$`},
		{name: "a redirect is not followed", args: []string{"--url", moved.URL + "/health"}, code: 1,
			wantErr: `the server answered 302 Found`},
		{name: "nothing listening", env: []string{"ADDR=" + closedAddr}, code: 1,
			wantErr: `^quill: health check of http://` + regexp.QuoteMeta(closedAddr) + `/health failed: .*connection refused`},
		{name: "--url not http", args: []string{"--url", "ftp://127.0.0.1/health"}, code: 2,
			wantErr: `--url "ftp://127\.0\.0\.1/health" is not an http\(s\) URL`},
		{name: "--url without a host", args: []string{"--url", "/health"}, code: 2, wantErr: `is not an http\(s\) URL`},
		{name: "an argument", args: []string{"now"}, code: 2, wantErr: `health takes no arguments, got "now"`},
		{name: "bad configuration", env: []string{"ADDR=8000"}, code: 1, wantErr: `ADDR="8000" is not a host:port address`},
		{name: "help", args: []string{"--help"}, code: 0, wantErr: `(?s)^Usage: quill health \[flags\]\n.*-url`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			got := quillCmd(t, dir, tt.env, "", append([]string{"health"}, tt.args...)...)
			if got.code != tt.code {
				t.Fatalf("quill health %s exited %d, want %d\nstdout: %s\nstderr: %s",
					strings.Join(tt.args, " "), got.code, tt.code, got.stdout, got.stderr)
			}
			if tt.wantOut != "" && !regexp.MustCompile(tt.wantOut).MatchString(got.stdout) {
				t.Errorf("quill health stdout = %q, want match for %q", got.stdout, tt.wantOut)
			}
			if tt.wantErr != "" && !regexp.MustCompile(tt.wantErr).MatchString(got.stderr) {
				t.Errorf("quill health stderr = %q, want match for %q", got.stderr, tt.wantErr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("quill health left %s in its working directory, want nothing", filepath.Join(dir, entries[0].Name()))
			}
		})
	}
}

func TestHealthURL(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"127.0.0.1:8000", "http://127.0.0.1:8000/health"},
		{"0.0.0.0:8000", "http://127.0.0.1:8000/health"},
		{":8000", "http://127.0.0.1:8000/health"},
		{"[::]:8000", "http://[::1]:8000/health"},
		{"[::1]:8000", "http://[::1]:8000/health"},
		{"blog.internal:8000", "http://blog.internal:8000/health"},
		{"10.0.0.5:80", "http://10.0.0.5:80/health"},
	}
	for _, tt := range tests {
		if got := healthURL(tt.addr); got != tt.want {
			t.Errorf("healthURL(%q) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}
