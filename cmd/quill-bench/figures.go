package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"
)

func sortDurations(ds []time.Duration) { slices.Sort(ds) }

// latencyRun sends requests one at a time for d: the latency of a page
// with nothing else in the way.
func latencyRun(addr string, req []byte) runFunc {
	return func(ctx context.Context, d time.Duration) (measure, error) {
		r, err := load(ctx, addr, 1, d, 0, fixed(req))
		if err == nil && r.failed > 0 {
			err = fmt.Errorf("%s: statuses %v", addr, r.statuses)
		}
		return fromLoad(r), err
	}
}

// figureStartup: start-up to ready on the existing large database, the
// median of several starts. Ready is the first 200 from /health.
func (b *bench) figureStartup(ctx context.Context) error {
	n := 5
	if b.opts.quick {
		n = 2
	}
	b.logf("start-up to ready on %d posts, %d times", b.big.posts, n)
	var ready []time.Duration
	for range n {
		p, err := b.startQuill(ctx, b.big)
		if err != nil {
			return err
		}
		ready = append(ready, p.Ready)
		if err := b.stop(p); err != nil {
			return err
		}
	}
	sortDurations(ready)
	med := medianDuration(ready)
	b.logf("  start-up %v, median %s", ready, ms(med))
	b.runs = append(b.runs, fmt.Sprintf("start-up to ready: %v", ready))
	b.rows = append(b.rows, row{
		figure:  fmt.Sprintf("start-up to ready, %s posts", count(b.big.posts)),
		quill:   fmt.Sprintf("%s (median of %d; max %s)", ms(med), n, ms(ready[len(ready)-1])),
		target:  "≤ 300 ms",
		verdict: atMost(float64(med), float64(300*time.Millisecond)),
	})
	return nil
}

// count formats n with thousands separators.
func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// figurePages: the first page and a cursor page 90% deep, p50 with the
// large database against the same with the small one; then skip=N/2.
func (b *bench) figurePages(ctx context.Context) error {
	big, err := b.startQuill(ctx, b.big)
	if err != nil {
		return err
	}
	defer b.stop(big)
	d := b.opts.dur / 2
	for _, pg := range []struct {
		name, figure string
		path         func(*dataset) string
	}{
		{"first", "first page", func(*dataset) string { return "/api/posts?limit=10" }},
		{"cursor90", "cursor page 90% deep", func(ds *dataset) string {
			return "/api/posts?limit=10&cursor=" + ds.cursorAt(ds.posts*9/10)
		}},
	} {
		b.logf("%s, p50: %s posts vs %s posts, one request at a time", pg.figure, count(b.big.posts), count(b.small.posts))
		ts, bs, err := b.alternate(ctx, pg.name, d, big,
			latencyRun(big.Addr, get(big.Addr, pg.path(b.big))),
			latencyRun(b.quill.Addr, get(b.quill.Addr, pg.path(b.small))))
		if err != nil {
			return err
		}
		t, bl := medianMeasure(ts), medianMeasure(bs)
		r := median(ratios(p50s(ts), p50s(bs)))
		b.rows = append(b.rows, row{
			figure:   fmt.Sprintf("%s p50, %s posts", pg.figure, count(b.big.posts)),
			quill:    fmt.Sprintf("%s (p99 %s)", ms(t.p50), ms(t.p99)),
			baseline: fmt.Sprintf("%s posts: %s (p99 %s)", count(b.small.posts), ms(bl.p50), ms(bl.p99)),
			ratio:    fmt.Sprintf("%.2f", r),
			target:   "≤ 1.5",
			verdict:  atMost(r, 1.5),
		})
	}

	skip := b.big.posts / 2
	n := 20
	if b.opts.quick {
		n = 5
	}
	b.logf("skip=%d, p50 of %d requests", skip, n)
	req := get(big.Addr, fmt.Sprintf("/api/posts?limit=10&skip=%d", skip))
	if _, err := load(ctx, big.Addr, 1, 0, 1, fixed(req)); err != nil { // warm-up
		return err
	}
	r, err := load(ctx, big.Addr, 1, 0, n, fixed(req))
	if err != nil {
		return err
	}
	if r.failed > 0 {
		return fmt.Errorf("skip=%d: statuses %v", skip, r.statuses)
	}
	b.logf("  skip       p50 %s p99 %s", ms(r.p(50)), ms(r.p(99)))
	b.runs = append(b.runs, fmt.Sprintf("skip=%d: %d requests, p50 %s, max %s", skip, n, ms(r.p(50)), ms(r.p(100))))
	b.rows = append(b.rows, row{
		figure:  fmt.Sprintf("`skip=%d` page p50, %s posts", skip, count(b.big.posts)),
		quill:   fmt.Sprintf("%s (max %s)", ms(r.p(50)), ms(r.p(100))),
		target:  "report; `cursor` is the scalable way",
		verdict: "reported",
	})
	return nil
}

// figureCreate: posts created per second with synchronous=FULL, beside
// the cost of one fsync on the same disk.
func (b *bench) figureCreate(ctx context.Context) error {
	f, err := fsyncCost(b.tmp, b.opts.dur/2)
	if err != nil {
		return err
	}
	b.fsync = f.p50
	b.logf("fsync after a 4 KiB write in %s: p50 %s p99 %s (%.0f/s)", b.tmp, ms(f.p50), ms(f.p99), f.rate)
	b.logf("posts created: %d connections", writeConns)
	auth := "Authorization: Bearer " + b.token
	body := []byte(`{"title":"A post from the benchmark","content":"` + lorem[0] + `"}`)
	req := post(b.quill.Addr, "/api/posts", "application/json", body, auth)
	var ms_ []measure
	for range b.opts.rounds {
		m, err := rateRun(b.quill, writeConns, fixed(req))(ctx, b.opts.dur)
		if err != nil {
			return err
		}
		if m.detail != "" {
			return fmt.Errorf("create posts: %s", m.detail)
		}
		b.logf("  create     quill %s", m)
		b.runs = append(b.runs, fmt.Sprintf("create: %s", m))
		ms_ = append(ms_, m)
		time.Sleep(settle)
	}
	m := medianMeasure(ms_)
	b.rows = append(b.rows, row{
		figure:   "posts created/s, `synchronous=FULL`",
		quill:    fmt.Sprintf("%.0f /s (p50 %s, p99 %s)", m.rate, ms(m.p50), ms(m.p99)),
		baseline: fmt.Sprintf("fsync per commit: p50 %s (%.0f fsyncs/s)", ms(f.p50), f.rate),
		ratio:    fmt.Sprintf("%.2f", m.rate/f.rate),
		target:   "report, with the fsync cost",
		verdict:  "reported",
	})
	return nil
}

// fsyncCost writes 4 KiB and fsyncs, over and over for d, in dir: what a
// WAL commit with synchronous=FULL waits for at least. Like SQLite's WAL,
// which is overwritten from its start after each checkpoint, it writes
// over a file that already exists (4 MiB, the default checkpoint size),
// so the fsync is of data, not of a growing file's metadata.
func fsyncCost(dir string, d time.Duration) (measure, error) {
	path := filepath.Join(dir, "fsync.test")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	if err != nil {
		return measure{}, err
	}
	defer os.Remove(path)
	defer f.Close()
	const size = 4 << 20
	buf := make([]byte, 4096)
	if _, err := f.Write(make([]byte, size)); err != nil {
		return measure{}, err
	}
	if err := f.Sync(); err != nil {
		return measure{}, err
	}
	var lats []time.Duration
	start := time.Now()
	for off := int64(0); time.Since(start) < d || len(lats) < 10; off = (off + int64(len(buf))) % size {
		t := time.Now()
		if _, err := f.WriteAt(buf, off); err != nil {
			return measure{}, err
		}
		if err := f.Sync(); err != nil {
			return measure{}, err
		}
		lats = append(lats, time.Since(t))
	}
	el := time.Since(start)
	sortDurations(lats)
	return measure{rate: float64(len(lats)) / el.Seconds(), p50: percentile(lats, 50), p99: percentile(lats, 99)}, nil
}

// figureMemory: RSS of a fresh quill once started, and its peak under 200
// concurrent logins.
func (b *bench) figureMemory(ctx context.Context) error {
	p, err := b.startQuill(ctx, b.small)
	if err != nil {
		return err
	}
	defer b.stop(p)
	time.Sleep(time.Second)
	idle, _, err := p.Memory()
	if err != nil {
		return err
	}
	b.logf("idle RSS after start-up: %.1f MiB", mib(idle))
	b.logf("%d concurrent logins", burstConns)
	reqs := make([][]byte, 16)
	for i := range reqs {
		form := "username=" + authorName(i) + "%40bench.example&password=" + url.QueryEscape(benchPassword)
		reqs[i] = post(p.Addr, "/api/users/token", "application/x-www-form-urlencoded", []byte(form))
	}
	r, err := load(ctx, p.Addr, burstConns, 0, burstConns, func(conn, n int) []byte { return reqs[conn%len(reqs)] })
	if err != nil {
		return err
	}
	rss, peak, err := p.Memory()
	if err != nil {
		return err
	}
	slots := b.quillProcs()
	limit := int64(slots)*int64(b.params.Memory)<<10 + 100<<20
	b.logf("  peak RSS %.1f MiB (now %.1f MiB); statuses %v; limit %.0f MiB", mib(peak), mib(rss), r.statuses, mib(limit))
	b.runs = append(b.runs, fmt.Sprintf("memory: idle %.1f MiB; %d concurrent logins: statuses %v, peak %.1f MiB",
		mib(idle), burstConns, r.statuses, mib(peak)))
	b.rows = append(b.rows,
		row{
			figure:  "idle RSS after start-up",
			quill:   fmt.Sprintf("%.1f MiB", mib(idle)),
			target:  "≤ 30 MiB",
			verdict: atMost(mib(idle), 30),
		},
		row{
			figure: fmt.Sprintf("peak RSS under %d concurrent logins", burstConns),
			quill:  fmt.Sprintf("%.1f MiB (answers: %s)", mib(peak), statusList(r.statuses)),
			baseline: fmt.Sprintf("%d slots × %d MiB Argon2 + 100 MiB = %.0f MiB",
				slots, b.params.Memory>>10, mib(limit)),
			target:  "≤ slots × Argon2 memory + 100 MiB",
			verdict: atMost(float64(peak), float64(limit)),
		})
	return nil
}

// quillProcs is quill's GOMAXPROCS, hence its number of hashing slots: the
// bench gives it the whole machine, as it has.
func (b *bench) quillProcs() int { return runtime.GOMAXPROCS(0) }

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func statusList(m map[int]int) string {
	var keys []int
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%d× %d", m[k], k)
	}
	return s
}
