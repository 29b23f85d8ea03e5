package httpx

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	s := NewClients([]netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("2001:db8:ffff::/48"),
	})
	tests := []struct {
		name   string
		remote string
		xff    []string // X-Forwarded-For headers, in order
		want   string
	}{
		{"no proxy", "203.0.113.9:5555", nil, "203.0.113.9"},
		{"untrusted peer's header is ignored", "203.0.113.9:5555", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted peer", "10.0.0.2:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"trusted peer without header", "10.0.0.2:80", nil, "10.0.0.2"},
		{"two trusted hops", "10.0.0.2:80", []string{"198.51.100.1, 10.0.0.3"}, "198.51.100.1"},
		{"spoofed entries left of the client", "10.0.0.2:80", []string{"1.1.1.1, 8.8.8.8, 198.51.100.1"}, "198.51.100.1"},
		{"spoofed trusted-looking entry", "10.0.0.2:80", []string{"10.9.9.9, 198.51.100.1"}, "198.51.100.1"},
		{"all hops trusted", "10.0.0.2:80", []string{"10.1.1.1, 10.0.0.3"}, "10.1.1.1"},
		{"garbage after trusted hops", "10.0.0.2:80", []string{"not-an-ip, 10.0.0.3"}, "10.0.0.3"},
		{"garbage left of the client", "10.0.0.2:80", []string{"<script>, 198.51.100.1"}, "198.51.100.1"},
		{"several headers", "10.0.0.2:80", []string{"1.1.1.1", "198.51.100.1, 10.0.0.3"}, "198.51.100.1"},
		{"entries with ports", "10.0.0.2:80", []string{"198.51.100.1:4711"}, "198.51.100.1"},
		{"empty entries", "10.0.0.2:80", []string{" , 198.51.100.1 ,, "}, "198.51.100.1"},
		{"IPv6 peer", "[2001:db8::1]:443", []string{"198.51.100.1"}, "2001:db8::1"},
		{"trusted IPv6 proxy", "[2001:db8:ffff::1]:443", []string{"2001:db8:1::7"}, "2001:db8:1::7"},
		{"IPv6 entry with port", "10.0.0.2:80", []string{"[2001:db8:1::7]:8080"}, "2001:db8:1::7"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.2]:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped entry", "10.0.0.2:80", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"zone dropped", "[fe80::1%eth0]:80", nil, "fe80::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.Addr(r); got.String() != tt.want {
				t.Errorf("Addr(RemoteAddr %s, X-Forwarded-For %q) = %v, want %s", tt.remote, tt.xff, got, tt.want)
			}
		})
	}
}

func TestClientIPUnparsablePeer(t *testing.T) {
	s := NewClients(nil)
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "@unix-socket"
	if got := s.IP(r); got != "@unix-socket" {
		t.Errorf("IP(RemoteAddr @unix-socket) = %q, want it as is", got)
	}
	if got := s.Addr(r); got.IsValid() {
		t.Errorf("Addr(RemoteAddr @unix-socket) = %v, want invalid", got)
	}
}

// FuzzClientAddr feeds arbitrary X-Forwarded-For values from a trusted
// proxy: never a panic, and the answer is always an address the request
// named, never a trusted one while an untrusted one was to its right.
func FuzzClientAddr(f *testing.F) {
	f.Add("198.51.100.1")
	f.Add("1.1.1.1, 10.0.0.3")
	f.Add("[2001:db8::1]:80, ,garbage")
	f.Add(",,,")
	f.Add("::ffff:10.0.0.1%eth0")
	s := NewClients([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	f.Fuzz(func(t *testing.T, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.0.0.2:80"
		r.Header.Set("X-Forwarded-For", xff)
		got := s.Addr(r)
		if !got.IsValid() {
			t.Fatalf("Addr(X-Forwarded-For %q) = invalid, want an address", xff)
		}
		if got.Zone() != "" || got.Is4In6() {
			t.Errorf("Addr(X-Forwarded-For %q) = %v, want an unmapped address without zone", xff, got)
		}
	})
}
