package metrics

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/testclock"
)

// sources are Sources with fixed answers and a session count that counts
// its calls.
type sources struct {
	calls atomic.Int64
	mu    sync.Mutex
	n     int64
	err   error
}

func (s *sources) liveSessions(context.Context) (int64, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, s.err
}

func (s *sources) set(n int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n, s.err = n, err
}

func newWatched(t *testing.T) (*Metrics, *sources, *testclock.Clock) {
	t.Helper()
	m := New(nil)
	src := &sources{n: 3}
	clock := testclock.New()
	m.Watch(Sources{
		LiveSessions:   src.liveSessions,
		ResetMailQueue: func() (int, int) { return 7, 100 },
		Pools: func() (read, write sql.DBStats) {
			return sql.DBStats{MaxOpenConnections: 4, OpenConnections: 3, InUse: 1, Idle: 2, WaitCount: 5, WaitDuration: 1500 * time.Millisecond},
				sql.DBStats{MaxOpenConnections: 1, OpenConnections: 1, Idle: 1}
		},
		Now: clock.Now,
	})
	return m, src, clock
}

// families gathers m's metrics by name.
func families(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := m.registry.Gather()
	if err != nil {
		t.Fatalf("Gather() = %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// value is the value of the series of family name with labels, and
// whether there is one.
func value(t *testing.T, m *Metrics, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mf, ok := families(t, m)[name]
	if !ok {
		return 0, false
	}
series:
	for _, s := range mf.GetMetric() {
		got := map[string]string{}
		for _, l := range s.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if len(got) != len(labels) {
			continue
		}
		for k, v := range labels {
			if got[k] != v {
				continue series
			}
		}
		switch {
		case s.Counter != nil:
			return s.GetCounter().GetValue(), true
		case s.Gauge != nil:
			return s.GetGauge().GetValue(), true
		case s.Histogram != nil:
			return float64(s.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func wantValue(t *testing.T, m *Metrics, name string, labels map[string]string, want float64) {
	t.Helper()
	got, ok := value(t, m, name, labels)
	if !ok {
		t.Errorf("%s%v: no such series", name, labels)
	} else if got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func TestRequest(t *testing.T) {
	m := New(nil)
	m.Request("/api/users/{user_id}", "GET", 200, 3*time.Millisecond)
	m.Request("/api/users/{user_id}", "GET", 200, 4*time.Millisecond)
	m.Request("/api/users/{user_id}", "HEAD", 404, time.Millisecond)
	m.Request("unmatched", "BREW", 405, time.Millisecond)
	m.Request("unmatched", "PROPFIND", 405, time.Millisecond)
	m.Request("unmatched", "get", 405, time.Millisecond)
	m.Request("/health", "GET", 0, time.Millisecond)
	m.Request("/health", "GET", 1000, time.Millisecond)

	const requests, durations = "quill_http_requests_total", "quill_http_request_duration_seconds"
	wantValue(t, m, requests, map[string]string{"route": "/api/users/{user_id}", "method": "GET", "status": "200"}, 2)
	wantValue(t, m, requests, map[string]string{"route": "/api/users/{user_id}", "method": "HEAD", "status": "404"}, 1)
	// Methods outside the known set, lower case included, are one label.
	wantValue(t, m, requests, map[string]string{"route": "unmatched", "method": "other", "status": "405"}, 3)
	// So are statuses that are none.
	wantValue(t, m, requests, map[string]string{"route": "/health", "method": "GET", "status": "other"}, 2)
	wantValue(t, m, durations, map[string]string{"route": "/api/users/{user_id}", "method": "GET"}, 2)
	wantValue(t, m, durations, map[string]string{"route": "unmatched", "method": "other"}, 3)
	if n := testutil.CollectAndCount(m.requests); n != 4 {
		t.Errorf("request series = %d, want 4", n)
	}

	for _, s := range families(t, m)[durations].GetMetric() {
		labels := map[string]string{}
		for _, l := range s.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["route"] == "/api/users/{user_id}" && labels["method"] == "GET" {
			if sum := s.GetHistogram().GetSampleSum(); math.Abs(sum-0.007) > 1e-12 {
				t.Errorf("duration sum of the two GETs = %v, want 0.007", sum)
			}
		}
	}
}

func TestMethodLabel(t *testing.T) {
	for _, method := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		if got := methodLabel(method); got != method {
			t.Errorf("methodLabel(%q) = %q, want it kept", method, got)
		}
	}
	for _, method := range []string{"", "get", "CONNECT", "TRACE", "BREW", strings.Repeat("X", 1000), "GET\x00"} {
		if got := methodLabel(method); got != "other" {
			t.Errorf("methodLabel(%q) = %q, want other", method, got)
		}
	}
}

func TestHashSlotWait(t *testing.T) {
	m := New(nil)
	m.HashSlotWait(0, false)
	m.HashSlotWait(30*time.Millisecond, false)
	m.HashSlotWait(2*time.Second, true)
	wantValue(t, m, "quill_hash_slot_wait_seconds", map[string]string{}, 3)
	wantValue(t, m, "quill_hash_busy_total", map[string]string{}, 1)
}

func TestOutcomes(t *testing.T) {
	m := New(nil)
	// Every outcome is there from the start, at zero, so rate() sees
	// the first one.
	for _, o := range app.LoginOutcomes() {
		wantValue(t, m, "quill_logins_total", map[string]string{"outcome": string(o)}, 0)
	}
	for _, o := range app.ResetMailOutcomes() {
		wantValue(t, m, "quill_reset_mails_total", map[string]string{"outcome": string(o)}, 0)
	}
	m.Login(app.LoginOK)
	m.Login(app.LoginThrottled)
	m.Login(app.LoginThrottled)
	m.Login("made up") // not an outcome: no series
	m.ResetMail(app.ResetMailFailed)
	m.ResetMail("made up")
	wantValue(t, m, "quill_logins_total", map[string]string{"outcome": "ok"}, 1)
	wantValue(t, m, "quill_logins_total", map[string]string{"outcome": "throttled"}, 2)
	wantValue(t, m, "quill_reset_mails_total", map[string]string{"outcome": "failed"}, 1)
	if n, want := len(families(t, m)["quill_logins_total"].GetMetric()), len(app.LoginOutcomes()); n != want {
		t.Errorf("login series = %d, want %d", n, want)
	}
	if n, want := len(families(t, m)["quill_reset_mails_total"].GetMetric()), len(app.ResetMailOutcomes()); n != want {
		t.Errorf("reset mail series = %d, want %d", n, want)
	}
}

func TestWatch(t *testing.T) {
	m, _, _ := newWatched(t)
	wantValue(t, m, "quill_sessions_active", map[string]string{}, 3)
	wantValue(t, m, "quill_reset_mail_queue_length", map[string]string{}, 7)
	wantValue(t, m, "quill_reset_mail_queue_capacity", map[string]string{}, 100)
	read, write := map[string]string{"pool": "read"}, map[string]string{"pool": "write"}
	wantValue(t, m, "quill_db_max_open_connections", read, 4)
	wantValue(t, m, "quill_db_open_connections", read, 3)
	wantValue(t, m, "quill_db_in_use_connections", read, 1)
	wantValue(t, m, "quill_db_idle_connections", read, 2)
	wantValue(t, m, "quill_db_waits_total", read, 5)
	wantValue(t, m, "quill_db_wait_duration_seconds_total", read, 1.5)
	wantValue(t, m, "quill_db_max_open_connections", write, 1)
	wantValue(t, m, "quill_db_in_use_connections", write, 0)

	// A second Watch does nothing (registering twice would panic).
	m.Watch(Sources{})
	wantValue(t, m, "quill_sessions_active", map[string]string{}, 3)
}

func TestSessionsAreCached(t *testing.T) {
	m, src, clock := newWatched(t)
	wantValue(t, m, "quill_sessions_active", map[string]string{}, 3)
	src.set(4, nil)
	for range 10 {
		wantValue(t, m, "quill_sessions_active", map[string]string{}, 3)
	}
	if n := src.calls.Load(); n != 1 {
		t.Errorf("11 scrapes within %v counted the sessions %d times, want 1", sessionsTTL, n)
	}
	clock.Advance(sessionsTTL)
	wantValue(t, m, "quill_sessions_active", map[string]string{}, 4)
	if n := src.calls.Load(); n != 2 {
		t.Errorf("after %v: %d counts, want 2", sessionsTTL, n)
	}

	// Concurrent scrapes share one count.
	clock.Advance(sessionsTTL)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := m.registry.Gather(); err != nil {
				t.Errorf("Gather() = %v", err)
			}
		})
	}
	wg.Wait()
	if n := src.calls.Load(); n != 3 {
		t.Errorf("8 concurrent scrapes: %d counts in all, want 3", n)
	}

	// A clock that went back does not keep a count forever.
	clock.Set(clock.Now().Add(-time.Hour))
	wantValue(t, m, "quill_sessions_active", map[string]string{}, 4)
	if n := src.calls.Load(); n != 4 {
		t.Errorf("after the clock went back: %d counts, want 4", n)
	}
}

func TestSessionsCountFails(t *testing.T) {
	m, src, clock := newWatched(t)
	src.set(0, errors.New("database unavailable"))
	if _, ok := value(t, m, "quill_sessions_active", map[string]string{}); ok {
		t.Error("quill_sessions_active is served though the count failed")
	}
	// The rest is served all the same.
	wantValue(t, m, "quill_reset_mail_queue_length", map[string]string{}, 7)
	// The failure is cached too: a database that is away is not asked at
	// every scrape.
	value(t, m, "quill_sessions_active", map[string]string{})
	if n := src.calls.Load(); n != 1 {
		t.Errorf("two scrapes after a failure counted %d times, want 1", n)
	}
	src.set(2, nil)
	clock.Advance(sessionsTTL)
	wantValue(t, m, "quill_sessions_active", map[string]string{}, 2)
}

func TestHandler(t *testing.T) {
	m, _, _ := newWatched(t)
	m.Request("/api/posts", "GET", 200, time.Millisecond)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()

	get := func(method, path string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(body)
	}
	res, body := get("GET", "/metrics")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics = %d %q, want 200 in the text format", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`quill_http_requests_total{method="GET",route="/api/posts",status="200"} 1`,
		"# TYPE quill_http_request_duration_seconds histogram",
		"quill_sessions_active 3",
		`quill_logins_total{outcome="bad_credentials"} 0`,
		"# TYPE go_goroutines gauge",
		"# TYPE process_resident_memory_bytes gauge",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /metrics has no line %q", want)
		}
	}
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{"POST", "/metrics", http.StatusMethodNotAllowed},
		{"GET", "/", http.StatusNotFound},
		{"GET", "/debug/pprof/", http.StatusNotFound},
	} {
		if res, _ := get(tt.method, tt.path); res.StatusCode != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, res.StatusCode, tt.want)
		}
	}
}

// The metrics pass Prometheus' own lint (the rules promtool check metrics
// applies): names, units, help texts, counters ending in _total.
func TestLint(t *testing.T) {
	m, _, _ := newWatched(t)
	m.Request("/api/posts", "GET", 200, time.Millisecond)
	m.HashSlotWait(time.Millisecond, true)
	problems, err := testutil.GatherAndLint(m.registry)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(0, len(problems)); diff != "" {
		t.Errorf("lint problems: %+v", problems)
	}
}

// BenchmarkRequest is the cost Metrics adds to each request.
func BenchmarkRequest(b *testing.B) {
	m := New(nil)
	for b.Loop() {
		m.Request("/api/users/me", "GET", 200, 3*time.Millisecond)
	}
}

// BenchmarkRequestParallel is BenchmarkRequest from every processor at
// once, on one series: the contended case.
func BenchmarkRequestParallel(b *testing.B) {
	m := New(nil)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Request("/api/users/me", "GET", 200, 3*time.Millisecond)
		}
	})
}
