package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/certs/pebbletest"
	"github.com/quill-blog/quill/internal/quillproc"
	"github.com/quill-blog/quill/internal/sqlstore/sqltest"
)

// The ACME tests run the real binary against pebble, Let's Encrypt's test
// CA, on this machine: pebble's DNS server resolves every name to
// 127.0.0.1 and pebble validates challenges on the ports each test gives
// it, which are quill's. Whichever challenge a test is not about is
// pointed at a port where nothing listens, so only the one it is about
// can succeed.

// testDomain is the name the tests get certificates for.
const testDomain = "blog.quill.test"

// acmeEnv is the environment of a quill getting certificates from
// directory, listening on 127.0.0.1 at the two ports.
func acmeEnv(directory, rootFile, httpPort, httpsPort string, extra ...string) []string {
	return append([]string{
		"TLS_DOMAINS=" + testDomain,
		"ADDR=127.0.0.1:" + httpPort, "HTTPS_ADDR=127.0.0.1:" + httpsPort,
		"ACME_CA=" + directory, "ACME_CA_ROOT=" + rootFile, "ACME_EMAIL=admin@quill.test",
	}, extra...)
}

var certificateReadyRE = regexp.MustCompile(`msg="certificate ready" domain=` + regexp.QuoteMeta(testDomain))

// waitCertificate waits until p logs that it has a certificate, from the
// CA or the database, and fails if it logs that it cannot get one.
func waitCertificate(t *testing.T, p *quillproc.Process) {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for {
		log := p.Log()
		if certificateReadyRE.MatchString(log) {
			return
		}
		if strings.Contains(log, "cannot get a certificate") {
			t.Fatalf("%s could not get a certificate; the end of its log:\n%s", p.Name, p.LogTail(logTailLines))
		}
		select {
		case <-p.Done():
			t.Fatalf("%s exited (%v); the end of its log:\n%s", p.Name, p.Wait(), p.LogTail(logTailLines))
		case <-deadline:
			t.Fatalf("%s has no certificate after two minutes; the end of its log:\n%s", p.Name, p.LogTail(logTailLines))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// fetchHome gets https://testDomain/ from 127.0.0.1:httpsPort, trusting
// only root, and checks what a browser would see: 200 over HTTP/2 with
// HSTS, and a certificate for the domain chained to root. It returns the
// certificate.
func fetchHome(t *testing.T, root *x509.Certificate, httpsPort string) *x509.Certificate {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(root)
	var d net.Dialer
	client := &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, "127.0.0.1:"+httpsPort)
			},
		},
		Timeout: 30 * time.Second,
	}
	defer client.CloseIdleConnections()
	res, err := client.Get("https://" + testDomain + "/")
	if err != nil {
		t.Fatalf("GET https://%s/: %v", testDomain, err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("<html")) {
		t.Errorf("GET https://%s/ = %d %.200q, want the home page", testDomain, res.StatusCode, body)
	}
	if res.ProtoMajor != 2 {
		t.Errorf("GET https://%s/ over %s, want HTTP/2", testDomain, res.Proto)
	}
	if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("Strict-Transport-Security = %q", got)
	}
	chain := res.TLS.VerifiedChains[0]
	if !chain[len(chain)-1].Equal(root) {
		t.Errorf("the certificate chains to %s, want pebble's root", chain[len(chain)-1].Subject)
	}
	leaf := res.TLS.PeerCertificates[0]
	if err := leaf.VerifyHostname(testDomain); err != nil {
		t.Errorf("the certificate: %v", err)
	}
	return leaf
}

// checkRedirect checks that plain HTTP on httpPort sends a browser to
// HTTPS on httpsPort.
func checkRedirect(t *testing.T, httpPort, httpsPort string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://127.0.0.1:"+httpPort+"/posts?page=2", nil)
	req.Host = testDomain
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	want := "https://" + testDomain + ":" + httpsPort + "/posts?page=2"
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != want {
		t.Errorf("GET http://%s/posts?page=2 = %d to %q, want 301 to %q", testDomain, res.StatusCode, res.Header.Get("Location"), want)
	}
}

// TestACMEHTTP01 starts quill from an empty folder with TLS_DOMAINS: it
// gets a certificate by HTTP-01 (TLS-ALPN-01, which it tries first, fails:
// pebble checks it on a port where nothing listens), serves the site over
// HTTPS with it, and keeps it, sealed, in its database, where the next
// start finds it without the CA.
func TestACMEHTTP01(t *testing.T) {
	httpPort, httpsPort, nowhere := freePort(t), freePort(t), freePort(t)
	ca := pebbletest.Start(t, pebbletest.Options{HTTPPort: httpPort, TLSPort: nowhere})
	dir := t.TempDir()
	p := launchQuill(t, quillBinary(t), dir, "quill", acmeEnv(ca.Directory, ca.RootFile, httpPort, httpsPort)...)
	waitCertificate(t, p)
	if !strings.Contains(p.Log(), `msg="stored a new certificate" domain=`+testDomain) {
		t.Errorf("the new certificate was not logged:\n%s", p.LogTail(logTailLines))
	}
	root := ca.Root(t)
	first := fetchHome(t, root, httpsPort)
	checkRedirect(t, httpPort, httpsPort)
	if err := p.Stop(time.Minute); err != nil {
		t.Fatal(err)
	}

	// What was made: a SECRET_KEY in .env, the database, and in it the
	// account key and the certificate, sealed.
	if b, err := os.ReadFile(filepath.Join(dir, ".env")); err != nil || !bytes.HasPrefix(b, []byte("SECRET_KEY=")) {
		t.Errorf(".env = %q, %v; want the generated SECRET_KEY", b, err)
	}
	store := openStoreAt(t, "sqlite:///"+filepath.Join(dir, "blog.db"))
	for _, key := range []string{testDomain, "acme_account+key"} {
		data, ok, err := store.ACMEEntry(context.Background(), key)
		if err != nil || !ok {
			t.Errorf("acme_cache has no %q (%v)", key, err)
			continue
		}
		if bytes.Contains(data, []byte("PRIVATE KEY")) || bytes.Contains(data, []byte("CERTIFICATE")) {
			t.Errorf("acme_cache %q is stored in the clear", key)
		}
	}
	store.Close()

	// Restarted with the CA out of reach, it serves the same certificate.
	p = launchQuill(t, quillBinary(t), dir, "quill again",
		acmeEnv("https://localhost:"+nowhere+"/dir", ca.RootFile, httpPort, httpsPort)...)
	waitCertificate(t, p)
	if strings.Contains(p.Log(), "stored a new certificate") {
		t.Errorf("the restarted quill got a new certificate instead of the stored one:\n%s", p.LogTail(logTailLines))
	}
	if again := fetchHome(t, root, httpsPort); !again.Equal(first) {
		t.Errorf("after a restart quill serves certificate %v, want %v from the database", again.SerialNumber, first.SerialNumber)
	}
}

// TestACMETLSALPN01 gets the certificate by TLS-ALPN-01, on the HTTPS
// port; pebble checks HTTP-01 on a port where nothing listens.
func TestACMETLSALPN01(t *testing.T) {
	httpPort, httpsPort, nowhere := freePort(t), freePort(t), freePort(t)
	ca := pebbletest.Start(t, pebbletest.Options{HTTPPort: nowhere, TLSPort: httpsPort})
	dir := t.TempDir()
	env := acmeEnv(ca.Directory, ca.RootFile, httpPort, httpsPort)
	p := launchQuill(t, quillBinary(t), dir, "quill", env...)
	waitCertificate(t, p)
	fetchHome(t, ca.Root(t), httpsPort)
	checkRedirect(t, httpPort, httpsPort)
	// The container's health check, with the same settings, asks HTTPS.
	if r := quillCmd(t, dir, env, "", "health"); r.code != 0 {
		t.Errorf("quill health = exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}

// TestACMESharedPostgres runs instances on one PostgreSQL database, as
// behind a load balancer: the CA checks the HTTP-01 challenge of one
// instance on another, which answers it from the database, and a third
// instance serves the certificate the first got without asking the CA.
func TestACMESharedPostgres(t *testing.T) {
	databaseURL := sqltest.PostgresURL(t)
	env := func(directory, rootFile, httpPort, httpsPort string) []string {
		return acmeEnv(directory, rootFile, httpPort, httpsPort, "DATABASE_URL="+databaseURL, "SECRET_KEY="+testKey)
	}
	bHTTP, nowhere := freePort(t), freePort(t)
	ca := pebbletest.Start(t, pebbletest.Options{HTTPPort: bHTTP, TLSPort: nowhere})
	unreachable := "https://localhost:" + nowhere + "/dir"

	// b answers on the port the CA checks, but cannot reach the CA itself.
	b := launchQuill(t, quillBinary(t), t.TempDir(), "b", env(unreachable, ca.RootFile, bHTTP, freePort(t))...)
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(b.Log(), "quill is listening") {
		if time.Now().After(deadline) {
			t.Fatalf("b is not listening after a minute:\n%s", b.LogTail(logTailLines))
		}
		time.Sleep(20 * time.Millisecond)
	}
	aHTTPS := freePort(t)
	a := launchQuill(t, quillBinary(t), t.TempDir(), "a", env(ca.Directory, ca.RootFile, freePort(t), aHTTPS)...)
	waitCertificate(t, a)
	root := ca.Root(t)
	got := fetchHome(t, root, aHTTPS)

	cHTTPS := freePort(t)
	c := launchQuill(t, quillBinary(t), t.TempDir(), "c", env(unreachable, ca.RootFile, freePort(t), cHTTPS)...)
	waitCertificate(t, c)
	if shared := fetchHome(t, root, cHTTPS); !shared.Equal(got) {
		t.Errorf("instance c serves certificate %v, want a's %v from the database", shared.SerialNumber, got.SerialNumber)
	}
}
