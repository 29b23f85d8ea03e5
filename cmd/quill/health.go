package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// healthTimeout bounds one health check: connecting, the request and the
// answer. A server that takes longer is not healthy.
const healthTimeout = 5 * time.Second

// health asks a running server whether it is healthy: GET /health on the
// address ADDR names (or on --url), exit status 0 for a 200 and 1 for
// anything else. It is the health check of the container image, which
// has no other HTTP client; it opens no database.
func health(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var rawURL string
	cfg, fs, err := loadCommandConfig(command{
		name:  "health",
		about: "Asks the server at ADDR (or --url) for GET /health: exit status 0 if it answers 200, 1 otherwise.",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&rawURL, "url", "", "the health URL to ask, such as http://127.0.0.1:8000/health (default: /health on ADDR)")
		},
	}, args, getenv, stderr)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("health takes no arguments, got %q", fs.Arg(0))}
	}
	target := healthURL(cfg.Addr)
	// With TLS, ADDR only redirects: ask HTTPS_ADDR. The certificate is
	// not checked: the question is whether this server answers, not
	// whether its certificate is trusted here, and nothing secret is sent.
	var tlsConfig *tls.Config
	if cfg.tls() {
		target = "https://" + strings.TrimPrefix(healthURL(cfg.HTTPSAddr), "http://")
		tlsConfig = &tls.Config{InsecureSkipVerify: true}
		if len(cfg.TLSDomains) > 0 {
			tlsConfig.ServerName = cfg.TLSDomains[0] // ACME serves names it knows only
		}
	}
	if rawURL != "" {
		u, err := url.Parse(rawURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &usageError{fmt.Sprintf("--url %q is not an http(s) URL such as http://127.0.0.1:8000/health", rawURL)}
		}
		target, tlsConfig = u.String(), nil
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true, TLSClientConfig: tlsConfig},
		// A redirect is an answer other than 200, not a place to go.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("health check of %s failed: %v", target, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("health check of %s: the server answered %s", target, res.Status)
	}
	fmt.Fprintf(stdout, "%s: healthy\n", target)
	return nil
}

// healthURL is the /health URL of a server listening on addr, a host:port
// that parseConfig has checked. An address that listens everywhere
// (0.0.0.0, [::] or no host) is asked on its loopback address.
func healthURL(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.Is4() && ip.IsUnspecified()) {
		host = "127.0.0.1"
	} else if err == nil && ip.IsUnspecified() {
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/health"
}
