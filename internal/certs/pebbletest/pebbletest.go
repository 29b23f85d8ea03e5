// Package pebbletest runs pebble, Let's Encrypt's ACME test CA, for tests
// of quill's ACME client: pebble itself, and pebble-challtestsrv as the
// DNS server pebble asks, which resolves every name to 127.0.0.1, so the
// CA validates challenges on the ports the test names there.
//
// Both programs come from the pebble module at Version, installed with
// go install (as .ci/run does), which also leaves pebble's test
// certificates in the module cache: pebble serves its API with one, and
// clients trust pebble.minica.pem to talk to it.
package pebbletest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the pebble module the tests use; .ci/run installs it.
const Version = "v2.10.3"

// install is how to get pebble, for skip and failure messages.
const install = "go install github.com/letsencrypt/pebble/v2/cmd/pebble@" + Version +
	" github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@" + Version

// RequiredEnv, when set to "required", makes a missing pebble fail the
// test instead of skipping it; CI sets it.
const RequiredEnv = "QUILL_ACME_TESTS"

// Options say where the CA validates challenges, on 127.0.0.1.
type Options struct {
	HTTPPort string // HTTP-01
	TLSPort  string // TLS-ALPN-01
}

// CA is a running pebble.
type CA struct {
	// Directory is the ACME directory URL (ACME_CA).
	Directory string
	// RootFile is the PEM file of the root that signs pebble's own
	// HTTPS certificate (ACME_CA_ROOT).
	RootFile string

	mgmt    string // base URL of pebble's management interface
	client  *http.Client
	logFile string
}

type tools struct {
	pebble, challtestsrv, certs string
	err                         error
}

var find = sync.OnceValue(func() tools {
	gopath, modcache := "", ""
	if out, err := exec.Command("go", "env", "GOPATH", "GOMODCACHE").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) == 2 {
			gopath, modcache = lines[0], lines[1]
		}
	}
	look := func(name string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, dir := range filepath.SplitList(gopath) {
			if p := filepath.Join(dir, "bin", name); fileExists(p) {
				return p
			}
		}
		return ""
	}
	t := tools{
		pebble:       look("pebble"),
		challtestsrv: look("pebble-challtestsrv"),
		certs:        filepath.Join(modcache, "github.com", "letsencrypt", "pebble", "v2@"+Version, "test", "certs"),
	}
	switch {
	case t.pebble == "" || t.challtestsrv == "":
		t.err = fmt.Errorf("pebble and pebble-challtestsrv are not installed (not on PATH, nor in $(go env GOPATH)/bin); install them with: %s", install)
	case !fileExists(filepath.Join(t.certs, "pebble.minica.pem")):
		t.err = fmt.Errorf("pebble %s's test certificates are not in the module cache (%s); install pebble with: %s", Version, t.certs, install)
	}
	return t
})

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Start runs pebble and its DNS server for the rest of the test. Without
// them the test is skipped, or fails if QUILL_ACME_TESTS=required.
func Start(tb testing.TB, opts Options) *CA {
	tb.Helper()
	t := find()
	if t.err != nil {
		if os.Getenv(RequiredEnv) == "required" {
			tb.Fatalf("%s=required: %v", RequiredEnv, t.err)
		}
		tb.Skip(t.err)
	}
	dir := tb.TempDir()
	dns := freeAddr(tb)
	run(tb, dir, "pebble-challtestsrv", t.challtestsrv, nil,
		"-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
		"-dnsserver", dns, "-management", freeAddr(tb),
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "")
	waitTCP(tb, dns)

	ca := &CA{RootFile: filepath.Join(t.certs, "pebble.minica.pem")}
	listen, mgmt := freeAddr(tb), freeAddr(tb)
	var cfg struct {
		Pebble map[string]any `json:"pebble"`
	}
	cfg.Pebble = map[string]any{
		"listenAddress":                  listen,
		"managementListenAddress":        mgmt,
		"certificate":                    filepath.Join(t.certs, "localhost", "cert.pem"),
		"privateKey":                     filepath.Join(t.certs, "localhost", "key.pem"),
		"httpPort":                       atoi(tb, opts.HTTPPort),
		"tlsPort":                        atoi(tb, opts.TLSPort),
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
		"retryAfter":                     map[string]int{"authz": 1, "order": 1},
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "pebble.json")
	if err := os.WriteFile(cfgFile, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	// No random sleeps before validations, no nonces refused at random:
	// fast and the same every run.
	env := []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"}
	ca.logFile = run(tb, dir, "pebble", t.pebble, env, "-config", cfgFile, "-dnsserver", dns)

	roots := x509.NewCertPool()
	minica, err := os.ReadFile(ca.RootFile)
	if err != nil || !roots.AppendCertsFromPEM(minica) {
		tb.Fatalf("read %s: %v", ca.RootFile, err)
	}
	ca.client = &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, DisableKeepAlives: true},
		Timeout:   10 * time.Second,
	}
	_, port, _ := net.SplitHostPort(listen)
	ca.Directory = "https://localhost:" + port + "/dir"
	_, port, _ = net.SplitHostPort(mgmt)
	ca.mgmt = "https://localhost:" + port
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := ca.client.Get(ca.Directory)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("pebble did not answer %s within a minute (%v); its log:\n%s", ca.Directory, err, ca.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ca
}

// Root returns the root of the certificates pebble issues, which it makes
// anew at each start, from its management interface.
func (ca *CA) Root(tb testing.TB) *x509.Certificate {
	tb.Helper()
	res, err := ca.client.Get(ca.mgmt + "/roots/0")
	if err != nil {
		tb.Fatalf("fetch pebble's root: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		tb.Fatalf("fetch pebble's root: %d %v", res.StatusCode, err)
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		tb.Fatalf("pebble's /roots/0 is not a PEM certificate: %q", body)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		tb.Fatalf("pebble's root: %v", err)
	}
	return cert
}

// Log is what pebble has logged so far.
func (ca *CA) Log() string {
	b, _ := os.ReadFile(ca.logFile)
	return string(b)
}

// run starts a program whose output goes to dir/name.log, killed when the
// test ends, and returns the log's path.
func run(tb testing.TB, dir, name, bin string, env []string, args ...string) string {
	tb.Helper()
	logFile := filepath.Join(dir, name+".log")
	logf, err := os.Create(logFile)
	if err != nil {
		tb.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	tb.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if tb.Failed() {
			b, _ := os.ReadFile(logFile)
			tb.Logf("%s's log:\n%s", name, tailLines(string(b), 40))
		}
	})
	return logFile
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// freeAddr returns 127.0.0.1:PORT with a port that was free a moment ago.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitTCP waits until addr accepts connections.
func waitTCP(tb testing.TB, addr string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if ctx.Err() != nil {
			tb.Fatalf("nothing listens on %s after a minute: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func atoi(tb testing.TB, port string) int {
	tb.Helper()
	var n int
	if _, err := fmt.Sscanf(port, "%d", &n); err != nil || n <= 0 || n > 65535 {
		tb.Fatalf("port %q is not a port number", port)
	}
	return n
}
