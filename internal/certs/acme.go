package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// ACMEConfig says where an ACME's certificates come from.
type ACMEConfig struct {
	// Domains are the names to get certificates for: lower-case ASCII
	// host names, checked by the caller (TLS_DOMAINS).
	Domains []string
	// Directory is the CA's ACME directory URL (ACME_CA).
	Directory string
	// Roots are the CAs trusted when talking to the ACME server
	// (ACME_CA_ROOT); nil means the system's.
	Roots *x509.CertPool
	// Email is the account's contact address (ACME_EMAIL); optional.
	Email string
	// Cache keeps the account key, the certificates and the challenge
	// responses; every instance sharing it shares them.
	Cache autocert.Cache
	// Logger says what was obtained and what failed.
	Logger *slog.Logger
	// UserAgent names quill to the CA.
	UserAgent string
}

// ACME gets certificates for its domains from an ACME CA the first time
// they are needed (Run asks at start-up) and renews each in the
// background when a third of its lifetime, and at most 30 days, is left.
// Before renewing, an instance looks in the cache: if another instance
// sharing it has renewed already, it takes that certificate. It answers
// the TLS-ALPN-01 challenge in its TLS configuration and the HTTP-01
// challenge in HTTPHandler; the CA may check either on any instance
// sharing the cache.
type ACME struct {
	m       *autocert.Manager
	domains []string
	logger  *slog.Logger
}

// acmeTimeout bounds each request to the CA; autocert bounds the whole
// issuance (five minutes) and renewal (ten).
const acmeTimeout = 30 * time.Second

// NewACME returns the certificates cfg describes. By getting certificates
// from cfg.Directory, quill accepts that CA's terms of service: that is
// what setting TLS_DOMAINS means.
func NewACME(cfg ACMEConfig) *ACME {
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		TLSClientConfig:       &tls.Config{RootCAs: cfg.Roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   acmeTimeout,
		ResponseHeaderTimeout: acmeTimeout,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	allowed := make(map[string]bool, len(cfg.Domains))
	for _, d := range cfg.Domains {
		allowed[d] = true
	}
	return &ACME{
		m: &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			Cache:      cfg.Cache,
			HostPolicy: hostPolicy(allowed),
			Email:      cfg.Email,
			Client: &acme.Client{
				DirectoryURL: cfg.Directory,
				UserAgent:    cfg.UserAgent,
				HTTPClient:   &http.Client{Transport: transport, Timeout: 2 * acmeTimeout},
			},
		},
		domains: cfg.Domains,
		logger:  cfg.Logger,
	}
}

// hostPolicy allows the names in allowed, whatever their case, with or
// without a trailing dot or a port: an HTTP-01 request's Host carries the
// port when the challenge is not on 80.
func hostPolicy(allowed map[string]bool) autocert.HostPolicy {
	return func(_ context.Context, host string) error {
		name := host
		if h, _, err := net.SplitHostPort(host); err == nil {
			name = h
		}
		name = strings.ToLower(strings.TrimSuffix(name, "."))
		if !allowed[name] {
			return fmt.Errorf("no certificate is configured for %q", host)
		}
		return nil
	}
}

// TLSConfig returns the configuration of the HTTPS server: its
// certificates, HTTP/2, the TLS-ALPN-01 challenge, TLS 1.2 at least.
func (a *ACME) TLSConfig() *tls.Config {
	c := a.m.TLSConfig()
	c.MinVersion = tls.VersionTLS12
	return c
}

// HTTPHandler answers the HTTP-01 challenge, from any instance sharing
// the cache, and passes every other request to fallback.
func (a *ACME) HTTPHandler(fallback http.Handler) http.Handler {
	return a.m.HTTPHandler(fallback)
}

// CheckEvery is how often Run looks at the certificates after start-up.
const CheckEvery = 12 * time.Hour

// Run makes sure every domain has a certificate, from the cache or the
// CA, and logs each outcome: without it the first visitor would wait for
// the CA, and a CA that refuses would show only as failed handshakes. A
// domain that fails is tried again on the next handshake for it. Then,
// every CheckEvery until ctx ends, it logs an error for each certificate
// whose renewal is overdue (see Overdue): renewals fail silently
// otherwise, and are retried every half hour or so.
func (a *ACME) Run(ctx context.Context) {
	a.check(ctx, true)
	t := time.NewTicker(CheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.check(ctx, false)
		}
	}
}

// check gets each domain's certificate and logs it (at start-up) or logs
// it if its renewal is overdue.
func (a *ACME) check(ctx context.Context, startup bool) {
	for _, d := range a.domains {
		if ctx.Err() != nil {
			return
		}
		// An ECDSA certificate, which every client quill supports takes;
		// autocert gets an RSA one as well if an older client asks.
		cert, err := a.m.GetCertificate(&tls.ClientHelloInfo{
			ServerName:   d,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		})
		switch {
		case err != nil:
			a.logger.Error("cannot get a certificate; each HTTPS connection for the domain tries again",
				"domain", d, "err", err)
		case cert.Leaf == nil:
		case Overdue(cert.Leaf, time.Now()):
			a.logger.Error("the certificate has not been renewed: check that the CA can reach this server on port 80 or 443",
				"domain", d, "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
		case startup:
			a.logger.Info("certificate ready", "domain", d, "issuer", cert.Leaf.Issuer.String(),
				"not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
		}
	}
}

// Overdue reports whether a certificate should have been renewed by now:
// renewal starts when a third of its lifetime (at most 30 days) is left,
// so with half of that left it has failed for a while.
func Overdue(leaf *x509.Certificate, now time.Time) bool {
	window := min(leaf.NotAfter.Sub(leaf.NotBefore)/3, 30*24*time.Hour)
	return leaf.NotAfter.Sub(now) < window/2
}
