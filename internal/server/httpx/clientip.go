package httpx

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// Clients tells who sent a request: the peer, or behind trusted proxies
// the client they name. It is safe for concurrent use.
type Clients struct {
	trusted []netip.Prefix
}

// NewClients returns Clients that believe the X-Forwarded-For of the
// peers in trusted (TRUSTED_PROXIES) only.
func NewClients(trusted []netip.Prefix) *Clients {
	return &Clients{trusted: slices.Clone(trusted)}
}

// Addr is the address of the client that sent r: the peer's, unless
// the peer is a trusted proxy (TRUSTED_PROXIES). Then it is the right-most
// address in X-Forwarded-For that is not a trusted proxy: each proxy
// appends the peer it saw, so everything left of that address may have been
// written by the client itself. The result is invalid only when the peer's
// address cannot be parsed.
func (c *Clients) Addr(r *http.Request) netip.Addr {
	client := peerAddr(r)
	if !c.trustedProxy(client) {
		return client
	}
	hops := r.Header.Values("X-Forwarded-For") // several headers read as one list
	for i := len(hops) - 1; i >= 0; i-- {
		list := hops[i]
		for list != "" {
			var hop string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				list, hop = list[:j], list[j+1:]
			} else {
				list, hop = "", list
			}
			if strings.TrimSpace(hop) == "" {
				continue
			}
			a, ok := parseHop(hop)
			if !ok {
				// A trusted proxy writes addresses; this came from further
				// left, which nobody vouches for.
				return client
			}
			client = a
			if !c.trustedProxy(a) {
				return a
			}
		}
	}
	return client
}

// IP is Addr as text, for the session list; the peer's own words when
// they are not an address.
func (c *Clients) IP(r *http.Request) string {
	if a := c.Addr(r); a.IsValid() {
		return a.String()
	}
	return r.RemoteAddr
}

// trustedProxy reports whether a is in TRUSTED_PROXIES.
func (c *Clients) trustedProxy(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr is the address of the connection's other end.
func peerAddr(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	a, _ := netip.ParseAddr(r.RemoteAddr)
	return a.Unmap().WithZone("")
}

// parseHop parses one X-Forwarded-For entry: an address, possibly with a
// port ("192.0.2.1:8080", "[2001:db8::1]:443").
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// limitKey is what per-client limits count by: the address for IPv4, the
// /64 network for IPv6, since one subscriber usually gets a whole /64 and
// could otherwise pick a fresh address for every request.
func limitKey(a netip.Addr) netip.Prefix {
	switch {
	case a.Is4():
		return netip.PrefixFrom(a, 32)
	case a.Is6():
		p, _ := a.Prefix(64)
		return p
	}
	return netip.Prefix{} // unknown peers share one allowance
}
