package httpx

import (
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// Per-client allowances: how many of the requests that cost the most, or
// that send mail, one client may make in a minute.
const (
	loginsPerMinute        = 60
	registrationsPerMinute = 20
	// resetRequestsPerMinute caps requests for a password reset link,
	// each of which may send a mail.
	resetRequestsPerMinute = 10
	// maxLimitedClients bounds a Limiter's memory: 10,000 clients of at
	// most 60 timestamps each is under 6 MB.
	maxLimitedClients = 10_000
)

// Allowances are the per-client limits the API and the site share: a
// client that logs in through one has that much less through the other.
// A nil *Allowances, or a nil Limiter in it, allows everything.
type Allowances struct {
	Logins, Registrations, ResetRequests *Limiter
}

// NewAllowances returns the allowances quill enforces, counted on now.
func NewAllowances(now func() time.Time) *Allowances {
	return &Allowances{
		Logins:        NewLimiter(loginsPerMinute, time.Minute, maxLimitedClients, now),
		Registrations: NewLimiter(registrationsPerMinute, time.Minute, maxLimitedClients, now),
		ResetRequests: NewLimiter(resetRequestsPerMinute, time.Minute, maxLimitedClients, now),
	}
}

// Limiter allows each client at most limit events in any span of
// period: a sliding log of the times of its recent events. It lives in the
// process's memory, so with several instances each allows that much (a
// client behind a load balancer gets at most instances × limit).
//
// Memory is bounded: clients with no event in the last period are forgotten
// (swept once a period), and when maxClients are tracked all the same, one
// is dropped to make room. That favours the dropped client, never refuses a
// new one.
type Limiter struct {
	limit      int
	period     time.Duration
	maxClients int
	now        func() time.Time

	mu        sync.Mutex
	clients   map[netip.Prefix][]int64 // event times, unix ns, oldest first
	lastSweep time.Time
}

func NewLimiter(limit int, period time.Duration, maxClients int, now func() time.Time) *Limiter {
	return &Limiter{
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
func (l *Limiter) allow(client netip.Prefix) (wait time.Duration) {
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
func (l *Limiter) sweep(horizon int64) {
	for k, events := range l.clients {
		if len(events) == 0 || events[len(events)-1] <= horizon {
			delete(l.clients, k)
		}
	}
}

// size is the number of clients tracked, for tests.
func (l *Limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// Allow counts a request of r's client against l, or returns the 429 when
// the client has used up its allowance. A nil l allows everything.
func (c *Clients) Allow(r *http.Request, l *Limiter) error {
	if l == nil {
		return nil
	}
	if wait := l.allow(limitKey(c.Addr(r))); wait > 0 {
		return blog.RateLimited(wait)
	}
	return nil
}
