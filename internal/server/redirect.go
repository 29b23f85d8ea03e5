package server

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// RedirectToHTTPS is the plain-HTTP side of a quill serving HTTPS: it
// sends every request to the same host, path and query over HTTPS on
// port, left out when it is 443. GET and HEAD get 301 Moved Permanently;
// other methods 308 Permanent Redirect, so a client that follows it
// repeats the request with its method and body instead of turning it into
// a GET. A request without a usable Host gets 400. It sets no HSTS: a
// browser ignores it over plain HTTP.
func RedirectToHTTPS(port string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target, ok := httpsURL(r, port)
		if !ok {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte("This site is served over HTTPS: ask for it by its name.\n"))
			return
		}
		status := http.StatusMovedPermanently
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			status = http.StatusPermanentRedirect
		}
		http.Redirect(w, r, target, status)
	})
}

// httpsURL is where r is sent: https://host[:port]/path?query, with r's
// host checked to be a domain name or an IP address, so the redirect can
// point nowhere else.
func httpsURL(r *http.Request, port string) (string, bool) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if !hostName(host) {
		a, err := netip.ParseAddr(host)
		if err != nil || a.Zone() != "" {
			return "", false
		}
		host = a.String()
	}
	hostport := host
	if port != "443" {
		hostport = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		hostport = "[" + host + "]"
	}
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	target := "https://" + hostport + path
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	// net/http refuses control characters in a request target; a query
	// that has them anyway is not sent back.
	if _, err := url.Parse(target); err != nil {
		return "", false
	}
	return target, true
}

// hostName reports whether s is a DNS name: dot-separated labels of
// letters, digits, hyphens and underscores, at most 253 bytes.
func hostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	// All digits and dots is an IPv4 address, or nothing: not a name.
	return strings.Trim(s, "0123456789.") != ""
}
