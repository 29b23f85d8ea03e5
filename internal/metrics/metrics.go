// Package metrics keeps quill's metrics in a Prometheus registry of its
// own and serves them in Prometheus' text format. The composition root
// (cmd/quill) wires it in: a Metrics is the app's Observer, the Hasher's
// slot observer and the server's request observer, and reads the store
// and the app when scraped. Nothing else imports Prometheus.
//
// Every label value comes from a fixed set or from the route patterns the
// server registered, never from a request's path or any other input, so
// the number of series is bounded whatever clients send.
package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/quill-blog/quill/internal/app"
)

// namespace prefixes the name of every quill metric.
const namespace = "quill"

// Buckets of the histograms, in seconds. A request to the API takes
// milliseconds, a login tens of milliseconds (Argon2id at the floor) and
// anything slower is queuing; a wait for a hash slot is bounded by the
// server's wait (2 s), past which the answer is busy.
var (
	requestBuckets  = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	hashWaitBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2}
)

// Metrics is quill's metrics. Create it with New; it is safe for
// concurrent use.
type Metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	hashWaits prometheus.Histogram
	hashBusy  prometheus.Counter
	logins    map[app.LoginOutcome]prometheus.Counter
	mails     map[app.ResetMailOutcome]prometheus.Counter
	logger    *slog.Logger
	// statuses are the label values of HTTP statuses 100 to 599, so that
	// a request's status costs no allocation.
	statuses [600]string
	watched  sync.Once
}

// New returns Metrics with the Go runtime and process collectors and
// quill's counters and histograms registered, all at zero. logger gets
// the errors of collecting and serving; nil discards them.
func New(logger *slog.Logger) *Metrics {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its answer, by route pattern and method.",
			Buckets: requestBuckets,
		}, []string{"route", "method"}),
		hashWaits: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "hash", Name: "slot_wait_seconds",
			Help:    "Time a password hash or check waited for a hashing slot (0 when one was free), including the waits that ended busy.",
			Buckets: hashWaitBuckets,
		}),
		hashBusy: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "hash", Name: "busy_total",
			Help: "Password hashes or checks turned away because no hashing slot freed up in time (answered 503 busy).",
		}),
		logins: map[app.LoginOutcome]prometheus.Counter{},
		mails:  map[app.ResetMailOutcome]prometheus.Counter{},
		logger: logger,
	}
	for code := 100; code < len(m.statuses); code++ {
		m.statuses[code] = strconv.Itoa(code)
	}
	logins := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "logins_total",
		Help: "Password logins, by outcome: ok, bad_credentials, otp_required, bad_otp, throttled, busy, invalid or error.",
	}, []string{"outcome"})
	for _, o := range app.LoginOutcomes() {
		m.logins[o] = logins.WithLabelValues(string(o))
	}
	mails := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "reset_mails", Name: "total",
		Help: "Well-formed requests for a password reset mail, by outcome: sent, no_account, failed, dropped (queue full) or repeated (ignored).",
	}, []string{"outcome"})
	for _, o := range app.ResetMailOutcomes() {
		m.mails[o] = mails.WithLabelValues(string(o))
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.durations, m.hashWaits, m.hashBusy, logins, mails,
	)
	return m
}

// Request counts one HTTP request: route is the path of the pattern that
// answered it or a fixed word (server.Config.ObserveRequest's contract),
// method any method (those outside a fixed set count as "other").
func (m *Metrics) Request(route, method string, status int, elapsed time.Duration) {
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, m.statusLabel(status)).Inc()
	m.durations.WithLabelValues(route, method).Observe(elapsed.Seconds())
}

// methodLabel is method if it is one quill routes or CORS asks about, and
// "other" for any other, so that clients cannot add series.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodHead:
		return http.MethodHead
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodPatch:
		return http.MethodPatch
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodOptions:
		return http.MethodOptions
	}
	return "other"
}

// statusLabel is the decimal status, or "other" outside 100-599.
func (m *Metrics) statusLabel(status int) string {
	if status < 100 || status >= len(m.statuses) {
		return "other"
	}
	return m.statuses[status]
}

// HashSlotWait counts one wait for a hashing slot: for
// auth.Hasher.ObserveSlots.
func (m *Metrics) HashSlotWait(waited time.Duration, busy bool) {
	m.hashWaits.Observe(waited.Seconds())
	if busy {
		m.hashBusy.Inc()
	}
}

// Login counts a password login: Metrics is an app.Observer.
func (m *Metrics) Login(o app.LoginOutcome) {
	if c, ok := m.logins[o]; ok {
		c.Inc()
	}
}

// ResetMail counts a reset mail request's outcome: Metrics is an
// app.Observer.
func (m *Metrics) ResetMail(o app.ResetMailOutcome) {
	if c, ok := m.mails[o]; ok {
		c.Inc()
	}
}

// Sources are what Metrics reads when scraped.
type Sources struct {
	// LiveSessions counts the unexpired sessions (app.App.LiveSessions).
	// It is called at most once per sessionsTTL, whatever the scrapes.
	LiveSessions func(ctx context.Context) (int64, error)
	// ResetMailQueue is the reset mail queue's length and capacity
	// (app.App.ResetMailQueue).
	ResetMailQueue func() (length, capacity int)
	// Pools are the statistics of the database's read and write pools
	// (sqlstore.Store.PoolStats).
	Pools func() (read, write sql.DBStats)
	// Now is the clock of the session count's cache; optional, time.Now.
	Now func() time.Time
}

// Watch registers the metrics read from src at each scrape. Call it once,
// when the app and the store exist (the app needs Metrics first, as its
// Observer); later calls do nothing.
func (m *Metrics) Watch(src Sources) {
	m.watched.Do(func() {
		now := src.Now
		if now == nil {
			now = time.Now
		}
		m.registry.MustRegister(
			&sessionsCollector{
				desc: prometheus.NewDesc(namespace+"_sessions_active",
					"Sessions (logins) that have not expired, of every user; read from the database at most every "+sessionsTTL.String()+".", nil, nil),
				count: src.LiveSessions, now: now, logger: m.logger,
			},
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: namespace, Subsystem: "reset_mail_queue", Name: "length",
				Help: "Password reset mails waiting to be sent.",
			}, func() float64 { n, _ := src.ResetMailQueue(); return float64(n) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: namespace, Subsystem: "reset_mail_queue", Name: "capacity",
				Help: "Password reset mails that may wait at most; past that, requests are dropped.",
			}, func() float64 { _, c := src.ResetMailQueue(); return float64(c) }),
			newPoolsCollector(src.Pools),
		)
	})
}

// Handler serves the metrics at GET /metrics and nothing else (404). It
// belongs on a listener of its own, never the public one.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog: errorLog{m.logger},
		// A collector that fails leaves its metrics out of the scrape
		// (and says so in the log); the others are still served.
		ErrorHandling: promhttp.ContinueOnError,
		// Scrapes are few: past 4 at once the answer is 503 at once, so
		// a flood of them cannot pile up collections.
		MaxRequestsInFlight: 4,
		Timeout:             scrapeTimeout,
		Registry:            m.registry,
	}))
	return mux
}

// scrapeTimeout bounds a scrape: past it the answer is 503.
const scrapeTimeout = 10 * time.Second

// errorLog is promhttp's logger on slog.
type errorLog struct{ logger *slog.Logger }

func (e errorLog) Println(v ...any) { e.logger.Warn("metrics: " + fmt.Sprint(v...)) }
