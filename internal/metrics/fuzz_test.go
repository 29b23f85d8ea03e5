package metrics

import (
	"strconv"
	"testing"
	"time"
)

// FuzzRequest feeds Request what a client controls, its method (and,
// through the handlers, the status), and checks that the label values
// stay in their fixed sets, so no client can add series of its own.
func FuzzRequest(f *testing.F) {
	for _, seed := range []struct {
		method string
		status int
	}{{"GET", 200}, {"BREW", 405}, {"get", 0}, {"", -1}, {"\xff", 1 << 20}} {
		f.Add(seed.method, seed.status, int64(time.Millisecond))
	}
	methods := map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true, "other": true}
	f.Fuzz(func(t *testing.T, method string, status int, elapsed int64) {
		m := New(nil)
		m.Request("unmatched", method, status, time.Duration(elapsed))
		mfs, err := m.registry.Gather()
		if err != nil {
			t.Fatalf("Gather() after Request(%q, %d) = %v", method, status, err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "quill_http_requests_total" {
				continue
			}
			if len(mf.GetMetric()) != 1 {
				t.Fatalf("one request made %d series", len(mf.GetMetric()))
			}
			for _, l := range mf.GetMetric()[0].GetLabel() {
				switch v := l.GetValue(); l.GetName() {
				case "method":
					if !methods[v] {
						t.Errorf("Request(%q) has method label %q", method, v)
					}
				case "status":
					if n, err := strconv.Atoi(v); v != "other" && (err != nil || n < 100 || n > 599) {
						t.Errorf("Request(status %d) has status label %q", status, v)
					}
				}
			}
		}
	})
}
