package metrics

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const (
	// sessionsTTL is how long a count of the live sessions is served
	// before the database is asked again: however often, and by however
	// many, /metrics is scraped, the count costs one query per sessionsTTL.
	sessionsTTL = 5 * time.Second
	// sessionsTimeout bounds the count's query.
	sessionsTimeout = 3 * time.Second
)

// sessionsCollector serves quill_sessions_active from a cached count.
type sessionsCollector struct {
	desc   *prometheus.Desc
	count  func(context.Context) (int64, error)
	now    func() time.Time
	logger *slog.Logger

	// mu is held across the query, so concurrent scrapes share one.
	mu      sync.Mutex
	counted time.Time // when n or err was found; zero before the first
	n       int64
	err     error
}

func (c *sessionsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect sends the count, asking the database only when the cached one is
// sessionsTTL old. When the count failed (the database is away), the
// metric is left out of the scrape until the next try: a stale number
// would look current.
func (c *sessionsCollector) Collect(ch chan<- prometheus.Metric) {
	n, err := c.get()
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}

func (c *sessionsCollector) get() (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.counted.IsZero() && now.Sub(c.counted) < sessionsTTL && !now.Before(c.counted) {
		return c.n, c.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), sessionsTimeout)
	defer cancel()
	c.n, c.err = c.count(ctx)
	c.counted = now
	if c.err != nil {
		c.logger.Warn("metrics: could not count the live sessions; quill_sessions_active is left out", "err", c.err)
	}
	return c.n, c.err
}

// poolsCollector serves the statistics of the database's connection
// pools, read when scraped.
type poolsCollector struct {
	stats                                           func() (read, write sql.DBStats)
	maxOpen, open, inUse, idle, waits, waitDuration *prometheus.Desc
}

func newPoolsCollector(stats func() (read, write sql.DBStats)) *poolsCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(namespace+"_db_"+name, help, []string{"pool"}, nil)
	}
	return &poolsCollector{
		stats:        stats,
		maxOpen:      desc("max_open_connections", "Most connections the pool may open."),
		open:         desc("open_connections", "Connections open, in use or idle."),
		inUse:        desc("in_use_connections", "Connections in use."),
		idle:         desc("idle_connections", "Connections idle."),
		waits:        desc("waits_total", "Times a query waited for a connection because every one allowed was in use."),
		waitDuration: desc("wait_duration_seconds_total", "Time spent waiting for a connection."),
	}
}

func (c *poolsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.maxOpen, c.open, c.inUse, c.idle, c.waits, c.waitDuration} {
		ch <- d
	}
}

func (c *poolsCollector) Collect(ch chan<- prometheus.Metric) {
	read, write := c.stats()
	for _, p := range []struct {
		name  string
		stats sql.DBStats
	}{{"read", read}, {"write", write}} {
		s := p.stats
		ch <- prometheus.MustNewConstMetric(c.maxOpen, prometheus.GaugeValue, float64(s.MaxOpenConnections), p.name)
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(s.OpenConnections), p.name)
		ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(s.InUse), p.name)
		ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.Idle), p.name)
		ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(s.WaitCount), p.name)
		ch <- prometheus.MustNewConstMetric(c.waitDuration, prometheus.CounterValue, s.WaitDuration.Seconds(), p.name)
	}
}
