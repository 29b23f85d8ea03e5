package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestSamePort(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"127.0.0.1:8000", "127.0.0.1:8000", true},
		{"127.0.0.1:8000", "127.0.0.1:8001", false},
		{"127.0.0.1:8000", "127.0.0.2:8000", false},
		{"localhost:8000", "127.0.0.1:8000", true},
		{"LOCALHOST:8000", "[::1]:8000", true},
		{"localhost:8000", "127.0.0.2:8000", false},
		{"localhost:8000", "10.0.0.5:8000", false},
		{":8000", "127.0.0.1:8000", true},
		{"0.0.0.0:8000", "10.0.0.5:8000", true},
		{"[::]:8000", "127.0.0.1:8000", true},
		{"10.0.0.5:8000", "[::]:8000", true},
		{"[::ffff:10.0.0.5]:8000", "10.0.0.5:8000", true},
		{"blog.internal:8000", "blog.internal:8000", true},
		{"blog.internal:8000", ":8000", true},
		{"blog.internal:8000", "127.0.0.1:8000", false}, // unknown without a lookup: left to listen
		{"127.0.0.1:http", "127.0.0.1:80", true},
		{"127.0.0.1:0", "127.0.0.1:0", false}, // each gets a free port
		{"127.0.0.1:no-such-service", "127.0.0.1:8000", false},
		{"no port", "127.0.0.1:8000", false},
	}
	for _, tt := range tests {
		if got := samePort(tt.a, tt.b); got != tt.want {
			t.Errorf("samePort(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := samePort(tt.b, tt.a); got != tt.want {
			t.Errorf("samePort(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

// freeAddr is a 127.0.0.1 address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestMetricsStartupErrors checks that a METRICS_ADDR that cannot be the
// metrics' own listener stops start-up with one line naming it, and
// leaves nothing listening.
func TestMetricsStartupErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)

	tests := []struct {
		name    string
		metrics string
		want    []string
	}{
		{"the public address", addr, []string{"METRICS_ADDR", "ADDR=" + strconv.Quote(addr), "a listener of their own", "localhost or a private network"}},
		{"the public port on every interface", ":" + port, []string{"METRICS_ADDR", "ADDR="}},
		{"the public port on localhost", "localhost:" + port, []string{"METRICS_ADDR", "ADDR="}},
		{"not host:port", "9464", []string{"METRICS_ADDR", "host:port"}},
		{"in use", busy.Addr().String(), []string{"cannot listen on " + busy.Addr().String(), "METRICS_ADDR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			_, _, err := runQuill(t, map[string]string{"SECRET_KEY": testKey, "ADDR": addr, "METRICS_ADDR": tt.metrics}, "serve")
			if err == nil {
				t.Fatalf("run(serve) with METRICS_ADDR=%s = nil, want an error", tt.metrics)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q spans several lines", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			// Nothing is left listening on the public address.
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatalf("after the failed start, %s is still taken: %v", addr, err)
			}
			ln.Close()
		})
	}
}

// TestMetricsOff checks that without METRICS_ADDR nothing is served, and
// that /metrics is never on the public listener.
func TestMetricsOff(t *testing.T) {
	t.Chdir(t.TempDir())
	s := startQuill(t, map[string]string{"SECRET_KEY": testKey})
	status, _, err := call(http.DefaultClient, "GET", s.URL+"/metrics", "", "", nil)
	if err != nil || status != http.StatusNotFound {
		t.Errorf("GET /metrics on the public listener = %d, %v, want 404", status, err)
	}
	if strings.Contains(s.logs.String(), "serving metrics") {
		t.Errorf("metrics served without METRICS_ADDR:\n%s", s.logs)
	}
}

// TestCollectorSettingsOfTheOperator checks that GOGC and GOMEMLIMIT, when
// set, win over the collector settings quill applies on its own.
func TestCollectorSettingsOfTheOperator(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped in -short mode")
	}
	p := serveBinary(t, t.TempDir(), "SECRET_KEY="+newSecretKey(t), "METRICS_ADDR=127.0.0.1:0", "GOGC=150", "GOMEMLIMIT=300MiB")
	m := metricsURLRE.FindStringSubmatch(p.Log())
	if m == nil {
		t.Fatalf("no %q line in the log:\n%s", "serving metrics", p.Log())
	}
	body, families := scrape(t, &http.Client{Timeout: 30 * time.Second}, m[1])
	for name, want := range map[string]float64{"go_gc_gogc_percent": 150, "go_gc_gomemlimit_bytes": 300 << 20} {
		if got, ok := sample(families, name); !ok || got != want {
			t.Errorf("%s = %v (found: %t), want %v; the scrape:\n%s", name, got, ok, want, body)
		}
	}
}

// metricsURLRE finds the metrics URL in the log.
var metricsURLRE = regexp.MustCompile(`msg="serving metrics" url=(http://\S+)`)

// TestMetrics runs the real binary with METRICS_ADDR, makes the requests
// an operator wants to see (a registration, a login, failed and throttled
// ones, reads, 404s, a reset mail), scrapes /metrics and checks the
// series and their values, then has Prometheus' promtool lint the scrape.
func TestMetrics(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped in -short mode")
	}
	dir := t.TempDir()
	// GOGC and GOMEMLIMIT unset, whatever the tests' environment holds:
	// the collector settings are quill's own.
	p := serveBinary(t, dir, "SECRET_KEY="+newSecretKey(t), "METRICS_ADDR=127.0.0.1:0", "GOGC=", "GOMEMLIMIT=")
	m := metricsURLRE.FindStringSubmatch(p.Log())
	if m == nil {
		t.Fatalf("no %q line in the log:\n%s", "serving metrics", p.Log())
	}
	metricsURL := m[1]
	if !strings.HasSuffix(metricsURL, "/metrics") {
		t.Fatalf("metrics URL %q does not end in /metrics", metricsURL)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	do := func(want int, method, path, contentType, body, token string) []byte {
		t.Helper()
		var h http.Header
		if token != "" {
			h = http.Header{"Authorization": {"Bearer " + token}}
		}
		status, got, err := call(client, method, p.URL+path, contentType, body, h)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		if status != want {
			t.Fatalf("%s %s = %d %s, want %d", method, path, status, got, want)
		}
		return got
	}

	const password = "a-long-passphrase-for-metrics"
	do(http.StatusCreated, "POST", "/api/users", "application/json", registerBody("alice", password), "")
	tok := do(http.StatusOK, "POST", "/api/users/token", formType, loginBody("alice", password), "")
	token := regexp.MustCompile(`"access_token":"([^"]+)"`).FindSubmatch(tok)
	if token == nil {
		t.Fatalf("no access token in %s", tok)
	}
	do(http.StatusOK, "GET", "/api/users/me", "", "", string(token[1]))
	do(http.StatusOK, "GET", "/api/posts?limit=5", "", "", "")
	const failures = 5 // blog.FreeLoginFailures: the next attempt is throttled
	for range failures {
		do(http.StatusUnauthorized, "POST", "/api/users/token", formType, loginBody("alice", "a wrong guess"), "")
	}
	do(http.StatusTooManyRequests, "POST", "/api/users/token", formType, loginBody("alice", password), "")
	do(http.StatusNotFound, "GET", "/api/users/12345", "", "", "")
	do(http.StatusNotFound, "GET", "/no-such-page-xyzzy", "", "", "")
	do(http.StatusNotFound, "GET", "/metrics", "", "", "") // never on the public listener
	do(http.StatusAccepted, "POST", "/api/users/forgot-password", "application/json", `{"email":"alice@example.com"}`, "")

	// The reset mail goes out in the background (to the log, without
	// SMTP_URL); scrape until it is counted.
	var (
		body     []byte
		families map[string]*dto.MetricFamily
	)
	deadline := time.Now().Add(30 * time.Second)
	for {
		body, families = scrape(t, client, metricsURL)
		if v, _ := sample(families, "quill_reset_mails_total", "outcome", "sent"); v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("quill_reset_mails_total{outcome=\"sent\"} is not 1 after 30 s; the scrape:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	exactly := []struct {
		name   string
		labels []string // name, value, …
		want   float64
	}{
		{"quill_http_requests_total", []string{"route", "/api/users", "method", "POST", "status", "201"}, 1},
		{"quill_http_requests_total", []string{"route", "/api/users/token", "method", "POST", "status", "200"}, 1},
		{"quill_http_requests_total", []string{"route", "/api/users/token", "method", "POST", "status", "401"}, failures},
		{"quill_http_requests_total", []string{"route", "/api/users/token", "method", "POST", "status", "429"}, 1},
		{"quill_http_requests_total", []string{"route", "/api/users/me", "method", "GET", "status", "200"}, 1},
		{"quill_http_requests_total", []string{"route", "/api/posts", "method", "GET", "status", "200"}, 1},
		{"quill_http_requests_total", []string{"route", "/api/users/{user_id}", "method", "GET", "status", "404"}, 1},
		{"quill_http_requests_total", []string{"route", "unmatched", "method", "GET", "status", "404"}, 2},
		{"quill_http_requests_total", []string{"route", "/api/users/forgot-password", "method", "POST", "status", "202"}, 1},
		{"quill_http_request_duration_seconds", []string{"route", "/api/users/token", "method", "POST"}, failures + 2},
		{"quill_logins_total", []string{"outcome", "ok"}, 1},
		{"quill_logins_total", []string{"outcome", "bad_credentials"}, failures},
		{"quill_logins_total", []string{"outcome", "throttled"}, 1},
		{"quill_logins_total", []string{"outcome", "busy"}, 0},
		{"quill_logins_total", []string{"outcome", "error"}, 0},
		{"quill_reset_mails_total", []string{"outcome", "failed"}, 0},
		{"quill_reset_mail_queue_length", nil, 0},
		{"quill_reset_mail_queue_capacity", nil, 100},
		{"quill_sessions_active", nil, 1},
		{"quill_hash_busy_total", nil, 0},
		{"quill_db_max_open_connections", []string{"pool", "write"}, 1}, // SQLite's one writer
		{"go_gc_gogc_percent", nil, collectorPercent},
		{"go_gc_gomemlimit_bytes", nil, collectorLimit},
	}
	for _, e := range exactly {
		got, ok := sample(families, e.name, e.labels...)
		if !ok {
			t.Errorf("%s%v: no such series", e.name, e.labels)
		} else if got != e.want {
			t.Errorf("%s%v = %v, want %v", e.name, e.labels, got, e.want)
		}
	}
	atLeast := []struct {
		name   string
		labels []string
		min    float64
	}{
		{"quill_http_requests_total", []string{"route", "/health", "method", "GET", "status", "200"}, 1},
		// The registration's hash and the checks of every login that was
		// not throttled.
		{"quill_hash_slot_wait_seconds", nil, 2 + failures},
		{"quill_db_open_connections", []string{"pool", "read"}, 1},
		{"quill_db_open_connections", []string{"pool", "write"}, 1},
		{"quill_db_max_open_connections", []string{"pool", "read"}, 1},
		{"go_goroutines", nil, 1},
		{"process_resident_memory_bytes", nil, 1},
		{"process_start_time_seconds", nil, 1},
	}
	for _, e := range atLeast {
		got, ok := sample(families, e.name, e.labels...)
		if !ok {
			t.Errorf("%s%v: no such series", e.name, e.labels)
		} else if got < e.min {
			t.Errorf("%s%v = %v, want at least %v", e.name, e.labels, got, e.min)
		}
	}
	if sum := histogramSum(families, "quill_http_request_duration_seconds", "route", "/api/users/token", "method", "POST"); sum <= 0 {
		t.Errorf("the durations of the logins add up to %v, want more than 0", sum)
	}

	// Labels come from route patterns and fixed sets: nothing of what the
	// requests held (paths, ids, names) is in the scrape.
	for _, leak := range []string{"xyzzy", "12345", "alice", "a wrong guess", "limit=5"} {
		if bytes.Contains(body, []byte(leak)) {
			t.Errorf("the scrape holds %q from a request", leak)
		}
	}
	methods := map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true, "other": true}
	for _, name := range []string{"quill_http_requests_total", "quill_http_request_duration_seconds"} {
		for _, s := range families[name].GetMetric() {
			for _, l := range s.GetLabel() {
				v := l.GetValue()
				switch l.GetName() {
				case "route":
					if !strings.HasPrefix(v, "/") && v != "unmatched" && v != "preflight" {
						t.Errorf("%s has route %q, neither a pattern nor a fixed word", name, v)
					}
				case "method":
					if !methods[v] {
						t.Errorf("%s has method %q outside the fixed set", name, v)
					}
				case "status":
					if n, err := strconv.Atoi(v); err != nil || n < 100 || n > 599 {
						t.Errorf("%s has status %q", name, v)
					}
				}
			}
		}
	}

	// The metrics listener serves /metrics and nothing else.
	if status, _, err := call(client, "GET", strings.TrimSuffix(metricsURL, "/metrics")+"/api/posts", "", "", nil); err != nil || status != http.StatusNotFound {
		t.Errorf("GET /api/posts on the metrics listener = %d, %v, want 404", status, err)
	}

	// docs/deployment.md names every quill metric there is, and no other.
	documented := map[string]bool{}
	for _, name := range regexp.MustCompile(`\bquill_[a-z_]+[a-z]`).FindAllString(monitoringDocs(t), -1) {
		documented[strings.TrimSuffix(name, "_bucket")] = true
	}
	for name := range families {
		if strings.HasPrefix(name, "quill_") && !documented[name] {
			t.Errorf("%s is served but not in docs/deployment.md#monitoring", name)
		}
	}
	for name := range documented {
		if families[name] == nil {
			t.Errorf("docs/deployment.md#monitoring names %s, which is not served", name)
		}
	}

	t.Run("promtool check metrics", func(t *testing.T) {
		promtool := promtoolPath(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(body)
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) != 0 {
			t.Errorf("promtool check metrics = %v, want success and no output; it said:\n%s", err, out)
		}
	})
}

// monitoringDocs is the Monitoring section of docs/deployment.md.
func monitoringDocs(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pkgDir, "..", "..", "docs", "deployment.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Monitoring\n")
	if !ok {
		t.Fatal("docs/deployment.md has no Monitoring section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	return section
}

// TestMonitoringDocsExamples checks the scrape configuration and the
// alert rules docs/deployment.md gives, with promtool.
func TestMonitoringDocsExamples(t *testing.T) {
	t.Parallel()
	promtool := promtoolPath(t)
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(monitoringDocs(t), -1)
	if len(blocks) != 2 {
		t.Fatalf("the Monitoring section has %d YAML blocks, want 2: the scrape configuration, the rules", len(blocks))
	}
	dir := t.TempDir()
	config := blocks[0][1] + "rule_files:\n  - rules.yml\n"
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(blocks[1][1]), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// check config checks the rule files it names too.
	cmd := exec.CommandContext(ctx, promtool, "check", "config", "prometheus.yml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check config on the documented scrape configuration and rules: %v\n%s", err, out)
	}
}

// promtoolPath finds Prometheus' promtool, or skips the test without it
// unless QUILL_REQUIRE_PROMTOOL is set (as CI sets it), when it fails.
func promtoolPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		msg := "promtool is not on PATH (Debian: apt-get install --no-install-recommends prometheus)"
		if os.Getenv("QUILL_REQUIRE_PROMTOOL") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// scrape gets the metrics at u and parses them.
func scrape(t *testing.T, client *http.Client, u string) ([]byte, map[string]*dto.MetricFamily) {
	t.Helper()
	res, err := client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s", u, res.StatusCode, body)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the scrape is not in Prometheus' text format: %v\n%s", err, body)
	}
	return body, families
}

// series finds the series of family name whose labels are exactly labels
// (name, value, …).
func series(families map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
next:
	for _, s := range families[name].GetMetric() {
		if len(s.GetLabel()) != len(want) {
			continue
		}
		for _, l := range s.GetLabel() {
			if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
				continue next
			}
		}
		return s
	}
	return nil
}

// sample is the value of a series: a counter's or gauge's value, a
// histogram's count.
func sample(families map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	s := series(families, name, labels...)
	switch {
	case s == nil:
		return 0, false
	case s.Counter != nil:
		return s.GetCounter().GetValue(), true
	case s.Gauge != nil:
		return s.GetGauge().GetValue(), true
	case s.Histogram != nil:
		return float64(s.GetHistogram().GetSampleCount()), true
	case s.Untyped != nil:
		return s.GetUntyped().GetValue(), true
	}
	return 0, false
}

func histogramSum(families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	return series(families, name, labels...).GetHistogram().GetSampleSum()
}
