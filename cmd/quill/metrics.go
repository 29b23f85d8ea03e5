package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/quill-blog/quill/internal/metrics"
)

// namedAddr is a listen address and the setting it comes from.
type namedAddr struct{ setting, addr string }

// publicAddrs are the addresses the public server listens on, each with
// its setting. METRICS_ADDR must differ from every one: a setting for
// another public listener is added here.
func publicAddrs(cfg config) []namedAddr {
	addrs := []namedAddr{{"ADDR", cfg.Addr}}
	if cfg.tls() {
		addrs = append(addrs, namedAddr{"HTTPS_ADDR", cfg.HTTPSAddr})
	}
	return addrs
}

// metricsAddr checks METRICS_ADDR against cfg's public addresses: the
// metrics always get a listener of their own.
func metricsAddr(addr string, cfg config) (string, error) {
	if addr == "" {
		return "", nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("METRICS_ADDR=%q is not a host:port address; set it like 127.0.0.1:9464, or leave it unset for no metrics", addr)
	}
	for _, p := range publicAddrs(cfg) {
		if samePort(addr, p.addr) {
			return "", fmt.Errorf("METRICS_ADDR=%q takes the port of %s=%q: metrics need a listener of their own, never the public one; set METRICS_ADDR to another port on localhost or a private network, such as 127.0.0.1:9464", addr, p.setting, p.addr)
		}
	}
	return addr, nil
}

// samePort reports whether listening on a and on b would contend for one
// port: the same port number (not 0, which picks a free one) on hosts
// that are the same, or of which one is every interface. "localhost" is
// taken to be 127.0.0.1 and ::1. What the check misses fails at listen
// time instead.
func samePort(a, b string) bool {
	ha, pa, err := net.SplitHostPort(a)
	if err != nil {
		return false
	}
	hb, pb, err := net.SplitHostPort(b)
	if err != nil {
		return false
	}
	na, erra := net.LookupPort("tcp", pa)
	nb, errb := net.LookupPort("tcp", pb)
	if erra != nil || errb != nil || na != nb || na == 0 {
		return false
	}
	aa, oka := hostAddrs(ha)
	ab, okb := hostAddrs(hb)
	if slices.ContainsFunc(aa, netip.Addr.IsUnspecified) || slices.ContainsFunc(ab, netip.Addr.IsUnspecified) {
		return true
	}
	if !oka || !okb {
		return strings.EqualFold(ha, hb) // a host name: only the same name is known to clash
	}
	for _, x := range aa {
		if slices.Contains(ab, x) {
			return true
		}
	}
	return false
}

// hostAddrs are the addresses a listen host stands for: "" every
// interface, "localhost" the loopback addresses, an IP itself; ok is false
// for another host name.
func hostAddrs(host string) (addrs []netip.Addr, ok bool) {
	switch {
	case host == "":
		return []netip.Addr{netip.IPv4Unspecified()}, true
	case strings.EqualFold(host, "localhost"):
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}, true
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return nil, false
	}
	return []netip.Addr{a.Unmap()}, true
}

// metricsServer serves m on a listener of its own, with the public
// server's timeouts.
func metricsServer(m *metrics.Metrics, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
}
