package certs

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/certs/certstest"
	"github.com/quill-blog/quill/internal/quilltest"
	"github.com/quill-blog/quill/internal/testclock"
)

func TestLoadFilesErrors(t *testing.T) {
	ca := certstest.NewCA(t)
	good := ca.Issue(t, "blog.example.com")
	other := ca.Issue(t, "blog.example.com")
	chain := ca.Issue(t, "blog.example.com")
	chain.Cert = append(chain.Cert, ca.PEM...)

	tests := []struct {
		name       string
		cert, key  []byte
		noCert     bool // the certificate file does not exist
		dirKey     bool // the key path is a folder
		wantKey    bool // the error is the key file's
		wantInText string
	}{
		{name: "good", cert: good.Cert, key: good.Key},
		{name: "with its chain", cert: chain.Cert, key: chain.Key},
		{name: "missing certificate file", noCert: true, key: good.Key, wantInText: "no such file"},
		{name: "unreadable key file", cert: good.Cert, dirKey: true, wantKey: true, wantInText: "is a directory"},
		{name: "certificate file not PEM", cert: []byte("hello"), key: good.Key, wantInText: "no PEM certificate"},
		{name: "certificate file empty", cert: nil, key: good.Key, wantInText: "no PEM certificate"},
		{name: "certificate that does not parse", cert: []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), key: good.Key, wantInText: "does not parse"},
		{name: "files swapped", cert: good.Key, key: good.Cert, wantInText: "swapped"},
		{name: "key of another certificate", cert: good.Cert, key: other.Key, wantKey: true, wantInText: "not the private key of the certificate"},
		{name: "key file not PEM", cert: good.Cert, key: []byte("not a key"), wantKey: true, wantInText: "not the private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
			if !tt.noCert {
				certstest.WriteFile(t, certFile, tt.cert)
			}
			if tt.dirKey {
				if err := os.Mkdir(keyFile, 0o700); err != nil {
					t.Fatal(err)
				}
			} else {
				certstest.WriteFile(t, keyFile, tt.key)
			}
			f, err := LoadFiles(certFile, keyFile, slog.New(slog.NewTextHandler(&quilltest.Logs{}, nil)), nil)
			if tt.wantInText == "" {
				if err != nil {
					t.Fatalf("LoadFiles() = %v", err)
				}
				if got := f.Leaf().DNSNames; len(got) != 1 || got[0] != "blog.example.com" {
					t.Errorf("Leaf().DNSNames = %v", got)
				}
				return
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("LoadFiles() = %v, want a *FileError", err)
			}
			wantPath := certFile
			if tt.wantKey {
				wantPath = keyFile
			}
			if fe.Key != tt.wantKey || fe.Path != wantPath {
				t.Errorf("FileError{Path: %q, Key: %v}, want the %s file", fe.Path, fe.Key, map[bool]string{false: "certificate", true: "key"}[tt.wantKey])
			}
			if msg := err.Error(); !strings.Contains(msg, tt.wantInText) || !strings.HasPrefix(msg, wantPath+": ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line starting with the path and mentioning %q", msg, tt.wantInText)
			}
		})
	}
}

// TestFilesReload checks that changed files are served after ReloadEvery,
// not before; that a bad new pair keeps the old certificate and is
// logged once; and that fixing it is picked up.
func TestFilesReload(t *testing.T) {
	ca := certstest.NewCA(t)
	dir := t.TempDir()
	first := ca.Issue(t, "blog.example.com")
	certFile, keyFile := first.Write(t, dir)
	clock := testclock.New()
	logs := &quilltest.Logs{}
	f, err := LoadFiles(certFile, keyFile, slog.New(slog.NewTextHandler(logs, nil)), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	// The files' times are set explicitly so each version differs
	// whatever the file system's resolution.
	version := time.Now()
	write := func(p certstest.Pair) {
		t.Helper()
		p.Write(t, dir)
		version = version.Add(time.Second)
		for _, file := range []string{certFile, keyFile} {
			if err := os.Chtimes(file, version, version); err != nil {
				t.Fatal(err)
			}
		}
	}
	serving := func(want certstest.Pair, when string) {
		t.Helper()
		got, err := f.GetCertificate(&tls.ClientHelloInfo{ServerName: "blog.example.com"})
		if err != nil {
			t.Fatalf("%s: GetCertificate() = %v", when, err)
		}
		if got.Leaf.SerialNumber.Cmp(want.Leaf.SerialNumber) != 0 {
			t.Errorf("%s: serving serial %v, want %v", when, got.Leaf.SerialNumber, want.Leaf.SerialNumber)
		}
	}

	serving(first, "at start")
	second := ca.Issue(t, "blog.example.com")
	write(second)
	clock.Advance(ReloadEvery - time.Millisecond)
	serving(first, "changed, before ReloadEvery")
	clock.Advance(time.Millisecond)
	serving(second, "changed, at ReloadEvery")
	if !strings.Contains(logs.String(), "reloaded the certificate") {
		t.Errorf("the reload was not logged:\n%s", logs)
	}

	// A certificate whose key is not written yet: the old one stays, and
	// the error is logged once however many handshakes see it.
	third := ca.Issue(t, "blog.example.com")
	half := third
	half.Key = second.Key
	write(half)
	for range 3 {
		clock.Advance(ReloadEvery)
		serving(second, "after a bad pair")
	}
	if n := strings.Count(logs.String(), "cannot load the changed certificate files"); n != 1 {
		t.Errorf("the bad pair was logged %d times, want once:\n%s", n, logs)
	}
	write(third)
	clock.Advance(ReloadEvery)
	serving(third, "after the key was written")

	// Files that vanish (being replaced): the old certificate stays.
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		clock.Advance(ReloadEvery)
		serving(third, "key file missing")
	}
	if n := strings.Count(logs.String(), "cannot look at the certificate files"); n != 1 {
		t.Errorf("the missing file was logged %d times, want once:\n%s", n, logs)
	}
	fourth := ca.Issue(t, "blog.example.com")
	write(fourth)
	clock.Advance(ReloadEvery)
	serving(fourth, "files back")
}

func TestFilesWarnsOutsideValidity(t *testing.T) {
	ca := certstest.NewCA(t)
	for name, tc := range map[string]struct {
		from, to time.Duration
		want     string
	}{
		"expired":       {-48 * time.Hour, -time.Hour, "has expired"},
		"not yet valid": {time.Hour, 48 * time.Hour, "not valid yet"},
	} {
		t.Run(name, func(t *testing.T) {
			p := ca.IssueFor(t, time.Now().Add(tc.from), time.Now().Add(tc.to), "blog.example.com")
			certFile, keyFile := p.Write(t, t.TempDir())
			logs := &quilltest.Logs{}
			if _, err := LoadFiles(certFile, keyFile, slog.New(slog.NewTextHandler(logs, nil)), nil); err != nil {
				t.Fatalf("LoadFiles() = %v, want the certificate served all the same", err)
			}
			if !strings.Contains(logs.String(), tc.want) {
				t.Errorf("log %q does not say the certificate %s", logs, tc.want)
			}
		})
	}
}
