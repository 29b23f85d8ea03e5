package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/quillproc"
)

// Load shapes. Request-rate figures keep 16 connections busy: enough to
// saturate two cores with either server, few enough that the generator
// stays cheap. Hashing figures keep 8 requests in flight against quill's
// GOMAXPROCS hashing slots, so a slot never idles while a request does its
// database work, and nothing waits anywhere near the 2 s slot timeout.
const (
	rateConns  = 16
	hashConns  = 8
	writeConns = 16
	burstConns = 200
	settle     = 300 * time.Millisecond // between runs, for the last one's stragglers
)

// bench is one run of the program: its processes and its figures.
type bench struct {
	opts   options
	root   string
	tmp    string
	secret string
	out    io.Writer
	start  time.Time

	bin        string
	hash       string
	params     auth.Params
	small, big *dataset
	quill      *process // on the small database
	bare       *process
	before     *process // with -before: the older quill, on a copy of the small database
	oldToken   string
	procs      []*process
	token      string

	rows  []row
	runs  []string // every run's figures, for the record
	fsync time.Duration
}

// row is one line of the results table.
type row struct {
	figure, quill, baseline, ratio, target, verdict string
}

// measure is one run of a target or a baseline.
type measure struct {
	rate     float64 // per second
	p50, p99 time.Duration
	cpu      time.Duration // server CPU time per successful request, when known
	detail   string
}

func (m measure) String() string {
	s := fmt.Sprintf("%8.0f/s  p50 %-9s p99 %-9s", m.rate, ms(m.p50), ms(m.p99))
	if m.cpu > 0 {
		s += fmt.Sprintf(" cpu/req %-8s", us(m.cpu))
	}
	if m.detail != "" {
		s += "  " + m.detail
	}
	return s
}

func fromLoad(r loadResult) measure {
	m := measure{rate: r.rate(), p50: r.p(50), p99: r.p(99)}
	if r.failed > 0 {
		m.detail = fmt.Sprintf("statuses %v", r.statuses)
	}
	return m
}

// us formats a small duration in microseconds.
func us(d time.Duration) string { return fmt.Sprintf("%.1fµs", float64(d)/1e3) }

func ms(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0fms", float64(d)/1e6)
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	}
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.out, "[%5.1fs] "+format+"\n", append([]any{time.Since(b.start).Seconds()}, args...)...)
}

func (b *bench) stopAll() {
	for _, p := range b.procs {
		p.Stop(stopGrace)
	}
	b.procs = nil
}

func (b *bench) startQuill(ctx context.Context, d *dataset) (*process, error) {
	p, err := startQuill(ctx, "quill", b.bin, b.tmp, d.path, b.secret, b.opts.profile != "", b.opts.env)
	if err != nil {
		return nil, err
	}
	b.procs = append(b.procs, p)
	return p, nil
}

func (b *bench) stop(p *process) error {
	for i, q := range b.procs {
		if q == p {
			b.procs = append(b.procs[:i], b.procs[i+1:]...)
			break
		}
	}
	return p.Stop(stopGrace)
}

// run measures every figure the options ask for.
func (b *bench) run(ctx context.Context) error {
	b.bin = filepath.Join(b.tmp, "quill")
	b.logf("building quill")
	var flags []string
	if b.opts.profile != "" {
		flags = append(flags, "-tags=quillpprof") // the pprof endpoint: see cmd/quill/pprof.go
	}
	if err := quillproc.Build(ctx, b.root, b.bin, flags...); err != nil {
		return err
	}
	b.params = auth.DefaultParams // what quill uses with no ARGON2_* set
	hasher := auth.NewHasher(b.params, 1, time.Second, nil)
	var err error
	if b.hash, err = hasher.Hash(ctx, benchPassword); err != nil {
		return err
	}

	o := b.opts
	b.logf("seeding %d posts", o.smallPost)
	if b.small, err = seed(ctx, filepath.Join(b.tmp, "small.db"), o.smallPost, b.hash, b.out); err != nil {
		return err
	}
	if o.want("startup") || o.want("pages") || o.want("search") {
		b.logf("seeding %d posts", o.bigPosts)
		t := time.Now()
		if b.big, err = seed(ctx, filepath.Join(b.tmp, "big.db"), o.bigPosts, b.hash, b.out); err != nil {
			return err
		}
		b.runs = append(b.runs, fmt.Sprintf("seeding %d posts took %.1f s", o.bigPosts, time.Since(t).Seconds()))
	}

	if o.want("startup") {
		if err := b.figureStartup(ctx); err != nil {
			return err
		}
	}

	b.logf("starting quill on %d posts", o.smallPost)
	if b.quill, err = b.startQuill(ctx, b.small); err != nil {
		return err
	}
	if b.token, err = b.login(b.quill, 0); err != nil {
		return err
	}
	if o.before != "" {
		if err := b.startBefore(ctx); err != nil {
			return err
		}
	} else if o.want("me") || o.want("posts") {
		if err := b.startBare(ctx); err != nil {
			return err
		}
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"me", b.figureMe},
		{"posts", b.figurePosts},
		{"login", b.figureLogin},
		{"register", b.figureRegister},
		{"pages", b.figurePages},
		{"create", b.figureCreate},
		{"memory", b.figureMemory},
		{"search", b.figureSearch},
	}
	for _, s := range steps {
		if !o.want(s.name) {
			continue
		}
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

// login logs in as the i-th seeded author and returns the access token.
func (b *bench) login(p *process, i int) (string, error) {
	form := url.Values{"username": {authorName(i) + "@bench.example"}, "password": {benchPassword}}.Encode()
	status, body, err := call("POST", "http://"+p.Addr+"/api/users/token", "application/x-www-form-urlencoded", []byte(form))
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("login: status %d: %s", status, body)
	}
	_, rest, _ := strings.Cut(string(body), `"access_token":"`)
	token, _, _ := strings.Cut(rest, `"`)
	return token, nil
}

// startBare starts the baseline server, answering with the very bytes
// quill answers GET /api/users/me and GET /api/posts?limit=10 with.
func (b *bench) startBare(ctx context.Context) error {
	base := "http://" + b.quill.Addr
	_, me, err := call("GET", base+"/api/users/me", "", nil, "Authorization: Bearer "+b.token)
	if err != nil {
		return err
	}
	_, posts, err := call("GET", base+"/api/posts?limit=10", "", nil)
	if err != nil {
		return err
	}
	if b.bare, err = startBare(ctx, b.tmp, me, posts); err != nil {
		return err
	}
	b.procs = append(b.procs, b.bare)
	return nil
}

// startBefore builds quill at opts.before and starts it on a copy of the
// small database, for before/after comparisons in one run.
func (b *bench) startBefore(ctx context.Context) error {
	bin := filepath.Join(b.tmp, "quill-before")
	b.logf("building quill at %s", b.opts.before)
	if err := quillproc.BuildAt(ctx, b.root, b.opts.before, filepath.Join(b.tmp, "before-src"), bin); err != nil {
		return err
	}
	// The older quill may know an older schema: it makes its database
	// itself, and the seeded rows are copied into it.
	dbPath := filepath.Join(b.tmp, "before.db")
	migrate := quillproc.Command(ctx, bin, b.tmp, []string{"DATABASE_URL=sqlite:///" + dbPath, "SECRET_KEY=" + b.secret}, "migrate")
	if out, err := migrate.CombinedOutput(); err != nil {
		return fmt.Errorf("quill@%s migrate: %v\n%s", b.opts.before, err, out)
	}
	if err := copyRows(ctx, b.small.path, dbPath, "users", "posts"); err != nil {
		return fmt.Errorf("copy the seeded rows for quill@%s: %w", b.opts.before, err)
	}
	p, err := startQuill(ctx, "quill@"+b.opts.before, bin, b.tmp, dbPath, b.secret, false, nil)
	if err != nil {
		return err
	}
	b.procs = append(b.procs, p)
	b.before = p
	b.oldToken, err = b.login(p, 0)
	return err
}

// versus returns the baseline of a request-rate figure: the bare handler,
// or with -before the older quill (and its token).
func (b *bench) versus() (p *process, token, name string) {
	if b.before != nil {
		return b.before, b.oldToken, b.before.Name
	}
	return b.bare, b.token, "bare handler"
}

// runFunc measures one run of duration d.
type runFunc func(ctx context.Context, d time.Duration) (measure, error)

// alternate runs target and baseline in turn, opts.rounds times each,
// after a short warm-up of both. When profiling, the first target run is
// profiled into name.pprof.
func (b *bench) alternate(ctx context.Context, name string, d time.Duration, profiled *process, target, baseline runFunc) (ts, bs []measure, err error) {
	warm := min(d/3, time.Second)
	if _, err := target(ctx, warm); err != nil {
		return nil, nil, err
	}
	time.Sleep(settle)
	if _, err := baseline(ctx, warm); err != nil {
		return nil, nil, err
	}
	time.Sleep(settle)
	for i := range b.opts.rounds {
		var wg sync.WaitGroup
		if i == 0 && b.opts.profile != "" && profiled != nil && profiled.pprof != "" {
			wg.Go(func() { b.cpuProfile(profiled, name, d) })
		}
		t, err := target(ctx, d)
		wg.Wait()
		if err != nil {
			return nil, nil, err
		}
		time.Sleep(settle)
		bl, err := baseline(ctx, d)
		if err != nil {
			return nil, nil, err
		}
		time.Sleep(settle)
		b.logf("  %-10s quill %s", name, t)
		b.logf("  %-10s base  %s", name, bl)
		b.runs = append(b.runs, fmt.Sprintf("%s round %d: quill %s | baseline %s", name, i+1, t, bl))
		ts, bs = append(ts, t), append(bs, bl)
	}
	return ts, bs, nil
}

// cpuProfile saves a CPU profile of p, taken over d, as name.pprof.
func (b *bench) cpuProfile(p *process, name string, d time.Duration) {
	secs := max(int(d/time.Second), 1)
	status, body, err := call("GET", fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.pprof, secs), "", nil)
	if err != nil || status != http.StatusOK {
		b.logf("  profile %s failed: %v %d", name, err, status)
		return
	}
	path := filepath.Join(b.opts.profile, name+".pprof")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		b.logf("  profile %s: %v", name, err)
		return
	}
	b.logf("  profile written to %s", path)
}

func rates(ms []measure) []float64 {
	out := make([]float64, len(ms))
	for i, m := range ms {
		out[i] = m.rate
	}
	return out
}

func p50s(ms []measure) []float64 {
	out := make([]float64, len(ms))
	for i, m := range ms {
		out[i] = float64(m.p50)
	}
	return out
}

func medianMeasure(ms []measure) measure {
	var p50, p99, cpu []time.Duration
	for _, m := range ms {
		p50, p99, cpu = append(p50, m.p50), append(p99, m.p99), append(cpu, m.cpu)
	}
	return measure{rate: median(rates(ms)), p50: medianDuration(p50), p99: medianDuration(p99), cpu: medianDuration(cpu)}
}

// atLeast is the verdict on a ratio that must be at least goal.
func atLeast(ratio, goal float64) string {
	if ratio >= goal {
		return "met"
	}
	return fmt.Sprintf("**not met**: %.0f%% short", (goal-ratio)/goal*100)
}

// atMost is the verdict on a value that must be at most goal.
func atMost(v, goal float64) string {
	if v <= goal {
		return "met"
	}
	return fmt.Sprintf("**not met**: %.0f%% over", (v-goal)/goal*100)
}

// rateRow adds a row for a request-rate figure: quill's median rate
// against the baseline's, and the median of the pairwise ratios. The
// figure meets its target when that ratio is at least goal and, if cpuGoal
// is not 0, the ratio of CPU time per request at least cpuGoal.
func (b *bench) rateRow(figure, unit, baseName string, ts, bs []measure, goal, cpuGoal float64, target string) {
	t, bl := medianMeasure(ts), medianMeasure(bs)
	r := median(ratios(rates(ts), rates(bs)))
	quill := fmt.Sprintf("%.0f %s (p50 %s, p99 %s)", t.rate, unit, ms(t.p50), ms(t.p99))
	base := fmt.Sprintf("%s: %.0f %s", baseName, bl.rate, unit)
	if t.cpu > 0 {
		quill += fmt.Sprintf("; CPU %s/req", us(t.cpu))
	}
	if bl.cpu > 0 {
		base += fmt.Sprintf("; CPU %s/req", us(bl.cpu))
	}
	b.rows = append(b.rows, row{
		figure:   figure,
		quill:    quill,
		baseline: base,
		ratio:    fmt.Sprintf("%.2f", r),
		target:   target,
		verdict:  atLeast(r, goal),
	})
	if t.cpu > 0 && bl.cpu > 0 {
		// The same comparison in CPU time per request, which the machine's
		// other load disturbs less than it does rates.
		cpu := float64(bl.cpu) / float64(t.cpu)
		last := &b.rows[len(b.rows)-1]
		last.ratio += fmt.Sprintf(" (CPU: %.2f)", cpu)
		if cpuGoal > 0 && last.verdict == atLeast(goal, goal) {
			last.verdict = atLeast(cpu, cpuGoal)
		}
	}
	if b.before != nil {
		last := &b.rows[len(b.rows)-1]
		last.target, last.verdict = "after/before", ""
	}
}

// fixed sends the same request every time.
func fixed(req []byte) requestFunc { return func(int, int) []byte { return req } }

// rateRun drives p with conns connections for d, and measures p's CPU
// time per answered request: on a shared machine it drifts less than the
// rate does.
func rateRun(p *process, conns int, next requestFunc) runFunc {
	return func(ctx context.Context, d time.Duration) (measure, error) {
		cpu0, cerr := p.CPUTime()
		r, err := load(ctx, p.Addr, conns, d, 0, next)
		m := fromLoad(r)
		if cpu1, cerr1 := p.CPUTime(); cerr == nil && cerr1 == nil && r.ok > 0 {
			m.cpu = (cpu1 - cpu0) / time.Duration(r.ok)
		}
		return m, err
	}
}

// figureMe: GET /api/users/me with a valid token against the bare handler
// returning the same JSON.
func (b *bench) figureMe(ctx context.Context) error {
	b.logf("GET /api/users/me: quill vs a bare handler, %d connections", rateConns)
	vs, vsToken, vsName := b.versus()
	ts, bs, err := b.alternate(ctx, "me", b.opts.dur, b.quill,
		rateRun(b.quill, rateConns, fixed(get(b.quill.Addr, "/api/users/me", "Authorization: Bearer "+b.token))),
		rateRun(vs, rateConns, fixed(get(vs.Addr, "/api/users/me", "Authorization: Bearer "+vsToken))))
	if err != nil {
		return err
	}
	b.rateRow("`GET /api/users/me` with a valid token", "req/s", vsName, ts, bs, 0.6, 0.5, "≥ 0.6 (CPU ≥ 0.5)")
	return nil
}

// figurePosts: GET /api/posts?limit=10 against the bare handler returning
// the same JSON.
func (b *bench) figurePosts(ctx context.Context) error {
	b.logf("GET /api/posts?limit=10: quill vs a bare handler, %d connections", rateConns)
	vs, _, vsName := b.versus()
	ts, bs, err := b.alternate(ctx, "posts", b.opts.dur, b.quill,
		rateRun(b.quill, rateConns, fixed(get(b.quill.Addr, "/api/posts?limit=10"))),
		rateRun(vs, rateConns, fixed(get(vs.Addr, "/api/posts?limit=10"))))
	if err != nil {
		return err
	}
	b.rateRow("`GET /api/posts?limit=10`", "req/s", vsName, ts, bs, 0.45, 0, "≥ 0.45")
	return nil
}

// hashRate is the baseline of the hashing figures: raw Argon2id hashes per
// second at quill's parameters, one goroutine per core.
func (b *bench) hashRate(ctx context.Context, d time.Duration) (measure, error) {
	var (
		n    atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		lats []time.Duration
	)
	p := b.params
	cpu0 := selfCPU()
	start := time.Now()
	deadline := start.Add(d)
	for g := range runtime.NumCPU() {
		wg.Go(func() {
			salt := make([]byte, 16)
			salt[0] = byte(g)
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t := time.Now()
				argon2.IDKey([]byte(benchPassword), salt, p.Iterations, p.Memory, p.Parallelism, 32)
				mine = append(mine, time.Since(t))
				n.Add(1)
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	el := time.Since(start)
	sortDurations(lats)
	m := measure{rate: float64(n.Load()) / el.Seconds(), p50: percentile(lats, 50), p99: percentile(lats, 99)}
	if n.Load() > 0 {
		// This process does nothing else meanwhile: its CPU time is the
		// hashes'.
		m.cpu = (selfCPU() - cpu0) / time.Duration(n.Load())
	}
	return m, ctx.Err()
}

// selfCPU is the CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// figureLogin: logins/s with the correct password against raw hashes/s.
func (b *bench) figureLogin(ctx context.Context) error {
	b.logf("logins: quill (%d in flight) vs raw Argon2id m=%d t=%d p=%d, %d goroutines",
		hashConns, b.params.Memory, b.params.Iterations, b.params.Parallelism, runtime.NumCPU())
	reqs := make([][]byte, 16)
	for i := range reqs {
		form := url.Values{"username": {authorName(i) + "@bench.example"}, "password": {benchPassword}}.Encode()
		reqs[i] = post(b.quill.Addr, "/api/users/token", "application/x-www-form-urlencoded", []byte(form))
	}
	next := func(conn, n int) []byte { return reqs[(conn+n)%len(reqs)] }
	baseline, baseName := b.hashRate, "raw Argon2id"
	if b.before != nil {
		baseline, baseName = rateRun(b.before, hashConns, next), b.before.Name
	}
	ts, bs, err := b.alternate(ctx, "login", b.opts.hashDur, b.quill,
		rateRun(b.quill, hashConns, next), baseline)
	if err != nil {
		return err
	}
	b.rateRow("logins/s (correct password)", "/s", baseName, ts, bs, 0.95, 0, "≥ 0.95")
	return nil
}

// figureRegister: registrations/s against raw hashes/s.
func (b *bench) figureRegister(ctx context.Context) error {
	b.logf("registrations: quill (%d in flight) vs raw Argon2id", hashConns)
	var seq atomic.Int64
	next := func(conn, n int) []byte {
		name := fmt.Sprintf("reg%d", seq.Add(1))
		body := fmt.Sprintf(`{"username":%q,"email":"%s@bench.example","password":%q}`, name, name, benchPassword)
		return post(b.quill.Addr, "/api/users", "application/json", []byte(body))
	}
	baseline, baseName := b.hashRate, "raw Argon2id"
	if b.before != nil {
		baseline, baseName = rateRun(b.before, hashConns, next), b.before.Name
	}
	ts, bs, err := b.alternate(ctx, "register", b.opts.hashDur, b.quill,
		rateRun(b.quill, hashConns, next), baseline)
	if err != nil {
		return err
	}
	b.rateRow("registrations/s", "/s", baseName, ts, bs, 0.95, 0, "≥ 0.95")
	return nil
}
