package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// figureSearch: on the large database, a search for a word in 1% of the
// posts against the first page of posts, one request at a time,
// alternating, with quill's CPU time per request beside each; then,
// reported, a word in 0.1% of the posts and a word in every post (which
// ranks only the newest blog.MaxSearchResults), to show how the cost
// grows with the posts a search ranks.
func (b *bench) figureSearch(ctx context.Context) error {
	big, err := b.startQuill(ctx, b.big)
	if err != nil {
		return err
	}
	defer b.stop(big)
	const first = "/api/posts?limit=10"
	searches := []struct {
		name, path string
		total      int64
		capped     bool
	}{
		{"1% of the posts", "/api/posts?limit=10&q=" + searchWord, int64(b.big.posts / searchEvery), false},
		{"0.1% of the posts", "/api/posts?limit=10&q=" + rareWord, int64(b.big.posts / rareEvery), false},
		{"every post", "/api/posts?limit=10&q=seeded", min(int64(b.big.posts), blog.MaxSearchResults), b.big.posts > blog.MaxSearchResults},
	}
	for _, s := range searches {
		if err := checkSearch(big, s.path, s.total, s.capped); err != nil {
			return err
		}
	}

	b.logf("search for a word in 1%% of %s posts vs the first page, p50, one request at a time", count(b.big.posts))
	ts, bs, err := b.alternate(ctx, "search", b.opts.dur, big,
		cpuLatencyRun(big, get(big.Addr, searches[0].path)),
		cpuLatencyRun(big, get(big.Addr, first)))
	if err != nil {
		return err
	}
	t, bl := medianMeasure(ts), medianMeasure(bs)
	r := median(ratios(p50s(ts), p50s(bs)))
	verdict := atMost(r, 2)
	if abs := atMost(float64(t.p50), float64(20*time.Millisecond)); abs != "met" {
		verdict = "p50 " + abs + "; ratio " + verdict
	}
	b.rows = append(b.rows, row{
		figure:   fmt.Sprintf("search for a word in 1%% of the posts (%s matches) p50, %s posts", count(int(searches[0].total)), count(b.big.posts)),
		quill:    fmt.Sprintf("%s (p99 %s); CPU %s/req", ms(t.p50), ms(t.p99), ms(t.cpu)),
		baseline: fmt.Sprintf("first page: %s (p99 %s); CPU %s/req", ms(bl.p50), ms(bl.p99), ms(bl.cpu)),
		ratio:    fmt.Sprintf("%.2f (CPU: %.0f)", r, float64(t.cpu)/float64(bl.cpu)),
		target:   "≤ 20 ms and ≤ 2 × the first page",
		verdict:  verdict,
	})

	for _, s := range searches[1:] {
		b.logf("search for a word in %s (%d ranked), p50, one request at a time", s.name, s.total)
		m, err := cpuLatencyRun(big, get(big.Addr, s.path))(ctx, b.opts.dur)
		if err != nil {
			return err
		}
		b.logf("  %-10s quill %s", "search", m)
		b.runs = append(b.runs, fmt.Sprintf("search for a word in %s: %s", s.name, m))
		figure := fmt.Sprintf("search for a word in %s (%s matches) p50, %s posts", s.name, count(int(s.total)), count(b.big.posts))
		if s.capped {
			figure = fmt.Sprintf("search for a word in every post (the newest %s ranked) p50, %s posts", count(int(s.total)), count(b.big.posts))
		}
		b.rows = append(b.rows, row{
			figure:  figure,
			quill:   fmt.Sprintf("%s (p99 %s); CPU %s/req", ms(m.p50), ms(m.p99), ms(m.cpu)),
			target:  "report",
			verdict: "reported",
		})
	}
	return nil
}

// cpuLatencyRun is latencyRun with p's CPU time per request: on a shared
// machine the latency of one request swings with everyone else's load,
// its CPU time much less.
func cpuLatencyRun(p *process, req []byte) runFunc {
	return func(ctx context.Context, d time.Duration) (measure, error) {
		cpu0, cerr := p.CPUTime()
		r, err := load(ctx, p.Addr, 1, d, 0, fixed(req))
		if err == nil && r.failed > 0 {
			err = fmt.Errorf("%s: statuses %v", p.Addr, r.statuses)
		}
		m := fromLoad(r)
		if cpu1, cerr1 := p.CPUTime(); cerr == nil && cerr1 == nil && r.ok > 0 {
			m.cpu = (cpu1 - cpu0) / time.Duration(r.ok)
		}
		return m, err
	}
}

// checkSearch fails unless a search of p at path answers 200 with total
// want and total_capped capped: the figure measures what it says.
func checkSearch(p *process, path string, want int64, capped bool) error {
	status, body, err := call("GET", "http://"+p.Addr+path, "", nil)
	if err != nil {
		return err
	}
	var page struct {
		Total       int64 `json:"total"`
		TotalCapped bool  `json:"total_capped"`
		Posts       []any `json:"posts"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &page) != nil || page.Total != want || page.TotalCapped != capped || len(page.Posts) == 0 {
		return fmt.Errorf("GET %s = %d %.300s: want total %d, total_capped %t", path, status, body, want, capped)
	}
	return nil
}
