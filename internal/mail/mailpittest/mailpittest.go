// Package mailpittest runs a real SMTP server for tests: mailpit
// (github.com/axllent/mailpit), installed with
//
//	go install github.com/axllent/mailpit@v1.33.1
//
// Start launches one on free ports of the loopback interface, and Messages
// reads what it received through its HTTP API. Tests that need it skip,
// saying how to install it, when the binary is not found.
package mailpittest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
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

// Options choose how the server behaves. The zero value is a plain SMTP
// server without TLS or authentication on 127.0.0.1.
type Options struct {
	Host string // address to listen on; default 127.0.0.1
	// Cert and Key are PEM files (see NewCert). With them the server offers
	// STARTTLS, or with ImplicitTLS speaks TLS from the first byte.
	Cert, Key       string
	RequireSTARTTLS bool
	ImplicitTLS     bool
	// Users, if set, are the only accepted AUTH credentials (user →
	// password). AcceptAnyAuth offers AUTH and takes any credentials.
	Users         map[string]string
	AcceptAnyAuth bool
	// AllowPlainAuth offers AUTH without TLS.
	AllowPlainAuth bool
}

// Server is a running mailpit.
type Server struct {
	SMTPAddr string // host:port of the SMTP listener
	api      string // base URL of the HTTP API
}

var binary = sync.OnceValue(func() string {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "mailpit")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return ""
})

// Start runs a mailpit for the rest of the test, or skips the test if
// mailpit is not installed.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	bin := binary()
	if bin == "" {
		tb.Skip("mailpit is not installed (not on PATH, nor in $(go env GOPATH)/bin); " +
			"install it with: go install github.com/axllent/mailpit@v1.33.1")
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	dir := tb.TempDir()
	var lastErr error
	// A free port found now may be taken before mailpit binds it; try again.
	for range 3 {
		s, err := start(tb, bin, dir, opts)
		if err == nil {
			return s
		}
		lastErr = err
	}
	tb.Fatalf("mailpit did not start: %v", lastErr)
	return nil
}

func start(tb testing.TB, bin, dir string, opts Options) (*Server, error) {
	smtpAddr, err := freeAddr(opts.Host)
	if err != nil {
		return nil, err
	}
	httpAddr, err := freeAddr(opts.Host)
	if err != nil {
		return nil, err
	}
	args := []string{
		"--database", filepath.Join(dir, fmt.Sprintf("mailpit-%d.db", time.Now().UnixNano())),
		"--smtp", smtpAddr, "--listen", httpAddr,
		"--disable-version-check", "--smtp-disable-rdns", "--quiet",
	}
	if opts.Cert != "" {
		args = append(args, "--smtp-tls-cert", opts.Cert, "--smtp-tls-key", opts.Key)
	}
	if opts.RequireSTARTTLS {
		args = append(args, "--smtp-require-starttls")
	}
	if opts.ImplicitTLS {
		args = append(args, "--smtp-require-tls")
	}
	if opts.AcceptAnyAuth {
		args = append(args, "--smtp-auth-accept-any")
	}
	if opts.AllowPlainAuth {
		args = append(args, "--smtp-auth-allow-insecure")
	}
	if len(opts.Users) > 0 {
		var b strings.Builder
		for u, p := range opts.Users {
			fmt.Fprintf(&b, "%s:%s\n", u, p)
		}
		file := filepath.Join(dir, "smtp-users")
		if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "--smtp-auth-file", file)
	}
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	s := &Server{SMTPAddr: smtpAddr, api: "http://" + httpAddr}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			return nil, fmt.Errorf("mailpit exited: %s", out.String())
		default:
		}
		if s.ready() {
			tb.Cleanup(stop)
			return s, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("mailpit not ready after 20 s: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ready reports whether both the API and the SMTP port answer.
func (s *Server) ready() bool {
	res, err := http.Get(s.api + "/api/v1/messages")
	if err != nil {
		return false
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return false
	}
	c, err := net.DialTimeout("tcp", s.SMTPAddr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func freeAddr(host string) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Address is a mailbox in a message.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Message is a received mail, as mailpit's API shows it.
type Message struct {
	ID         string    `json:"ID"`
	From       Address   `json:"From"`
	To         []Address `json:"To"`
	ReturnPath string    `json:"ReturnPath"`
	Subject    string    `json:"Subject"`
	Text       string    `json:"Text"` // decoded body
	Username   string    `json:"Username"`
}

// Messages returns every message received so far, oldest first, with its
// text.
func (s *Server) Messages(tb testing.TB) []Message {
	tb.Helper()
	var list struct {
		Messages []Message `json:"messages"`
	}
	s.get(tb, "/api/v1/messages", &list)
	out := make([]Message, 0, len(list.Messages))
	for i := len(list.Messages) - 1; i >= 0; i-- { // the API lists newest first
		var m Message
		s.get(tb, "/api/v1/message/"+list.Messages[i].ID, &m)
		out = append(out, m)
	}
	return out
}

// WaitMessages polls until at least n messages have arrived (for at most
// 10 s) and returns them all.
func (s *Server) WaitMessages(tb testing.TB, n int) []Message {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		msgs := s.Messages(tb)
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			tb.Fatalf("mailpit has %d messages after 10 s, want %d", len(msgs), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *Server) get(tb testing.TB, path string, v any) {
	tb.Helper()
	res, err := http.Get(s.api + path)
	if err != nil {
		tb.Fatalf("mailpit API: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("mailpit API GET %s: %s", path, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		tb.Fatalf("mailpit API GET %s: %v", path, err)
	}
}

// NewCert makes a self-signed certificate for localhost, 127.0.0.1 and
// 127.0.0.2, writes it and its key as PEM files in a temporary directory,
// and returns their paths and a pool that trusts it.
func NewCert(tb testing.TB) (certFile, keyFile string, roots *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "quill test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}
