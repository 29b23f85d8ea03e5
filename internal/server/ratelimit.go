package server

import (
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// Per-client allowances (SPEC §6).
const (
	loginsPerMinute        = 60
	registrationsPerMinute = 20
	// resetRequestsPerMinute caps POST /api/users/forgot-password, each of
	// which may send a mail (SPEC §3 lists its 429 without a figure).
	resetRequestsPerMinute = 10
	// maxLimitedClients bounds a rateLimiter's memory: 10,000 clients of at
	// most 60 timestamps each is under 6 MB.
	maxLimitedClients = 10_000
	// loginFailureRetention is how long the login failure count of a key
	// is kept after its last failure: far beyond blog.MaxLoginDelay, so
	// forgetting it only gives a key that has been quiet for a day its
	// free attempts back.
	loginFailureRetention = 24 * time.Hour
)

// rateLimiter allows each client at most limit events in any span of
// period: a sliding log of the times of its recent events. It lives in the
// process's memory, so with several instances each allows that much (a
// client behind a load balancer gets at most instances × limit).
//
// Memory is bounded: clients with no event in the last period are forgotten
// (swept once a period), and when maxClients are tracked all the same, one
// is dropped to make room. That favours the dropped client, never refuses a
// new one.
type rateLimiter struct {
	limit      int
	period     time.Duration
	maxClients int
	now        func() time.Time

	mu        sync.Mutex
	clients   map[netip.Prefix][]int64 // event times, unix ns, oldest first
	lastSweep time.Time
}

func newRateLimiter(limit int, period time.Duration, maxClients int, now func() time.Time) *rateLimiter {
	return &rateLimiter{
		limit:      limit,
		period:     period,
		maxClients: maxClients,
		now:        now,
		clients:    make(map[netip.Prefix][]int64),
		lastSweep:  now(),
	}
}

// allow records an event for client and returns 0, or, when client has had
// limit events in the last period, records nothing and returns how long
// until it may have another. Refused attempts are not counted, so a client
// that keeps trying is not shut out for longer.
func (l *rateLimiter) allow(client netip.Prefix) (wait time.Duration) {
	now := l.now()
	t := now.UnixNano()
	horizon := t - l.period.Nanoseconds()

	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.period || now.Before(l.lastSweep) {
		l.sweep(horizon)
		l.lastSweep = now
	}
	events, known := l.clients[client]
	i := 0
	for i < len(events) && events[i] <= horizon {
		i++
	}
	events = events[:copy(events, events[i:])]
	if len(events) >= l.limit {
		l.clients[client] = events
		return time.Duration(events[0] - horizon)
	}
	if !known && len(l.clients) >= l.maxClients {
		l.sweep(horizon)
		for k := range l.clients {
			if len(l.clients) < l.maxClients {
				break
			}
			delete(l.clients, k)
		}
	}
	l.clients[client] = append(events, t)
	return 0
}

// sweep forgets the clients whose last event is at or before horizon.
func (l *rateLimiter) sweep(horizon int64) {
	for k, events := range l.clients {
		if len(events) == 0 || events[len(events)-1] <= horizon {
			delete(l.clients, k)
		}
	}
}

// size is the number of clients tracked, for tests.
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// allow counts a request of r's client against l, or returns the 429 when
// the client has used up its allowance. A nil l allows everything.
func (s *Server) allow(r *http.Request, l *rateLimiter) error {
	if l == nil {
		return nil
	}
	if wait := l.allow(limitKey(s.clientAddr(r))); wait > 0 {
		return blog.RateLimited(wait)
	}
	return nil
}
