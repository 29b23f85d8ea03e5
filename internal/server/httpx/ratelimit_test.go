package httpx

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/testclock"
)

var (
	clientA = netip.MustParsePrefix("192.0.2.1/32")
	clientB = netip.MustParsePrefix("2001:db8::/64")
)

func TestRateLimiterSlidingWindow(t *testing.T) {
	c := testclock.New()
	l := NewLimiter(3, time.Minute, 100, c.Now)
	want := func(client netip.Prefix, wait time.Duration) {
		t.Helper()
		if got := l.allow(client); got != wait {
			t.Fatalf("allow(%v) at +%v = %v, want %v", client, c.Now().Sub(testclock.Epoch), got, wait)
		}
	}
	want(clientA, 0) // +0s
	c.Advance(20 * time.Second)
	want(clientA, 0)              // +20s
	want(clientA, 0)              // +20s: the third
	want(clientA, 40*time.Second) // the +0s event leaves the window at +60s
	want(clientB, 0)              // others are not affected
	c.Advance(39 * time.Second)
	want(clientA, time.Second) // refused attempts were not counted
	c.Advance(time.Second)
	want(clientA, 0) // +60s: the first event has left
	want(clientA, 20*time.Second)
	c.Advance(20 * time.Second)
	want(clientA, 0)
	want(clientA, 0)
	want(clientA, 40*time.Second)
}

func TestRateLimiterConcurrent(t *testing.T) {
	c := testclock.New()
	l := NewLimiter(20, time.Minute, 100, c.Now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 100 {
		wg.Go(func() {
			if l.allow(clientA) == 0 {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 20 {
		t.Errorf("%d of 100 simultaneous events allowed, want 20", allowed)
	}
}

func TestRateLimiterMemoryBounded(t *testing.T) {
	c := testclock.New()
	l := NewLimiter(2, time.Minute, 50, c.Now)
	for i := range 1000 {
		client := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 32)
		if wait := l.allow(client); wait != 0 {
			t.Fatalf("allow(new client %v) = %v, want 0", client, wait)
		}
		if n := l.size(); n > 50 {
			t.Fatalf("after %d clients the limiter tracks %d, want at most 50", i+1, n)
		}
	}
	// Idle clients are forgotten once their events leave the window.
	c.Advance(time.Minute)
	l.allow(clientA)
	if n := l.size(); n != 1 {
		t.Errorf("a period later the limiter tracks %d clients, want 1", n)
	}
}

func TestLimitKey(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"192.0.2.1", "192.0.2.1/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
	}
	for _, tt := range tests {
		if got := limitKey(netip.MustParseAddr(tt.addr)); got.String() != tt.want {
			t.Errorf("limitKey(%s) = %v, want %s", tt.addr, got, tt.want)
		}
	}
	if got := limitKey(netip.Addr{}); got != (netip.Prefix{}) {
		t.Errorf("limitKey(invalid) = %v, want the zero Prefix", got)
	}
}
