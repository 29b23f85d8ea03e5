package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"

	"github.com/quill-blog/quill/internal/certs"
	"github.com/quill-blog/quill/internal/server"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// tlsFiles is what serve reads for HTTPS before anything listens or is
// written, so that a bad file stops start-up with nothing done.
type tlsFiles struct {
	pair  *certs.Files   // TLS_CERT_FILE and TLS_KEY_FILE, or nil
	roots *x509.CertPool // ACME_CA_ROOT, or nil for the system's
}

// readTLSFiles reads the files the HTTPS settings name, and sets
// cfg.PublicURL from the certificate if TLS_CERT_FILE is used and
// PUBLIC_URL is not set. Without TLS it returns nil.
func readTLSFiles(cfg *config, logger *slog.Logger) (*tlsFiles, error) {
	var f tlsFiles
	switch {
	case cfg.TLSCertFile != "":
		pair, err := certs.LoadFiles(cfg.TLSCertFile, cfg.TLSKeyFile, logger, nil)
		if err != nil {
			var fe *certs.FileError
			if errors.As(err, &fe) {
				setting := "TLS_CERT_FILE"
				if fe.Key {
					setting = "TLS_KEY_FILE"
				}
				return nil, fmt.Errorf("%s=%s: %v", setting, fe.Path, fe.Err)
			}
			return nil, err
		}
		f.pair = pair
		if cfg.PublicURL == "" {
			name, err := certName(pair.Leaf())
			if err != nil {
				return nil, err
			}
			cfg.PublicURL = "https://" + withPort(name, cfg.HTTPSAddr)
		}
	case len(cfg.TLSDomains) > 0 && cfg.ACMECARoot != "":
		pem, err := os.ReadFile(cfg.ACMECARoot)
		if err != nil {
			return nil, fmt.Errorf("ACME_CA_ROOT=%s: cannot read it: %v", cfg.ACMECARoot, unwrapPathError(err))
		}
		f.roots = x509.NewCertPool()
		if !f.roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ACME_CA_ROOT=%s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", cfg.ACMECARoot)
		}
	case len(cfg.TLSDomains) == 0:
		return nil, nil
	}
	return &f, nil
}

// certName is the name PUBLIC_URL takes from a certificate: its first
// DNS name that is not a wildcard, else its first IP address.
func certName(leaf *x509.Certificate) (string, error) {
	for _, n := range leaf.DNSNames {
		if !strings.HasPrefix(n, "*") {
			return n, nil
		}
	}
	if len(leaf.IPAddresses) > 0 {
		return leaf.IPAddresses[0].String(), nil
	}
	return "", errors.New("PUBLIC_URL is not set and the certificate in TLS_CERT_FILE names no host to take it from: set PUBLIC_URL, like https://blog.example.com")
}

// front is where quill listens: ADDR alone; or with TLS, HTTPS on
// HTTPS_ADDR and, on ADDR, redirects to it and ACME's HTTP-01 challenge.
type front struct {
	main  *http.Server // the site: on ADDR, or with TLS on HTTPS_ADDR
	plain *http.Server // with TLS: redirects and challenges on ADDR; else nil
	acme  *certs.ACME  // with TLS_DOMAINS; else nil

	mainLn, plainLn net.Listener
}

// listen opens the listeners cfg names; with TLS, HTTPS_ADDR first. On
// error nothing is left open.
func listen(cfg config) (*front, error) {
	if !cfg.tls() {
		ln, err := listenOn(cfg.Addr, "ADDR (--addr)")
		if err != nil {
			return nil, err
		}
		return &front{mainLn: ln}, nil
	}
	httpsLn, err := listenOn(cfg.HTTPSAddr, "HTTPS_ADDR (--https-addr)")
	if err != nil {
		return nil, err
	}
	plainLn, err := listenOn(cfg.Addr, "ADDR (--addr)")
	if err != nil {
		httpsLn.Close()
		return nil, err
	}
	return &front{mainLn: httpsLn, plainLn: plainLn}, nil
}

func listenOn(addr, setting string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	hint := "stop whatever uses that address or set " + setting + " to another"
	if errors.Is(err, syscall.EACCES) {
		hint = "ports below 1024 need root or the CAP_NET_BIND_SERVICE capability (see docs/deployment.md), or set " + setting + " to a port above 1023"
	}
	return nil, fmt.Errorf("cannot listen on %s: %v; %s", addr, unwrapOpError(err), hint)
}

// close closes the listeners; after start, the servers' Shutdown does.
func (f *front) close() {
	f.mainLn.Close()
	if f.plainLn != nil {
		f.plainLn.Close()
	}
}

// setUp makes the servers: handler on the main listener, and with TLS the
// certificates (from files, or by ACME with the cache in store) and the
// plain-HTTP side.
func (f *front) setUp(cfg config, files *tlsFiles, store *sqlstore.Store, logger *slog.Logger, handler http.Handler) error {
	f.main = newHTTPServer(handler, logger)
	if f.plainLn == nil {
		return nil
	}
	_, port, err := net.SplitHostPort(f.mainLn.Addr().String())
	if err != nil {
		return err
	}
	plain := server.RedirectToHTTPS(port)
	var tlsConfig *tls.Config
	if files.pair != nil {
		tlsConfig = files.pair.TLSConfig()
	} else {
		cache, err := certs.NewCache(store, []byte(cfg.SecretKey), logger, nil)
		if err != nil {
			return err
		}
		f.acme = certs.NewACME(certs.ACMEConfig{
			Domains:   cfg.TLSDomains,
			Directory: cfg.ACMECA,
			Roots:     files.roots,
			Email:     cfg.ACMEEmail,
			Cache:     cache,
			Logger:    logger,
			UserAgent: "quill/" + buildVersion(),
		})
		tlsConfig = f.acme.TLSConfig()
		plain = f.acme.HTTPHandler(plain)
	}
	f.main.TLSConfig = tlsConfig
	f.plain = newHTTPServer(plain, logger)
	return nil
}

// logListening logs where quill listens.
func (f *front) logListening(logger *slog.Logger, attrs ...any) {
	if f.plain == nil {
		logger.Info("quill is listening", append([]any{"url", "http://" + f.mainLn.Addr().String()}, attrs...)...)
		return
	}
	logger.Info("quill is listening", append([]any{"url", "https://" + f.mainLn.Addr().String(),
		"redirect_url", "http://" + f.plainLn.Addr().String()}, attrs...)...)
}

// start serves until shutdown; a server that stops by itself sends its
// error to errc, which has room for two. With ACME it gets the
// certificates that are missing and watches their renewals, in the
// background, until ctx ends.
func (f *front) start(ctx context.Context, errc chan<- error) {
	if f.plain == nil {
		go func() { errc <- f.main.Serve(f.mainLn) }()
		return
	}
	// ServeTLS adds HTTP/2 to the configuration's protocols.
	go func() { errc <- f.main.ServeTLS(f.mainLn, "", "") }()
	go func() { errc <- f.plain.Serve(f.plainLn) }()
	if f.acme != nil {
		go f.acme.Run(ctx)
	}
}

// shutdown stops the servers, finishing in-flight requests until ctx ends.
func (f *front) shutdown(ctx context.Context) error {
	var err error
	if f.plain != nil {
		err = f.plain.Shutdown(ctx)
	}
	return errors.Join(err, f.main.Shutdown(ctx))
}

// unwrapPathError drops the path an *os.PathError repeats, since the
// message names the file already.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
