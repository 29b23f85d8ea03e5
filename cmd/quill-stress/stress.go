package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/quill-blog/quill/internal/quillproc"
)

// report is what one run measured.
type report struct {
	date                  time.Time
	loadBefore, loadAfter string // 1-minute load averages
	slots                 string // the server's hash slots
	peakBefore            int64  // VmHWM, KiB, before the login flood
	peakAfter             int64  // VmHWM, KiB, after it
	rssAfter              int64  // VmRSS, KiB, after it

	meIdle, meBusy readStats       // GET /api/users/me without and with the flood
	loginStatus    map[int]int     // status → count, during the flood
	loginErrors    int             // transport errors during the flood
	loginLatency   []time.Duration // of the 200s, sorted
	floodLength    time.Duration

	// The timing comparison, sorted: logins for unknown accounts, with a
	// wrong password for an account on a current hash, and with a wrong
	// password for the account on a legacy hash.
	unknown, wrong, legacyWrong []time.Duration
}

// readStats is a throughput measurement.
type readStats struct {
	ok, failed int
	elapsed    time.Duration
	latency    []time.Duration // sorted
}

func (r readStats) perSecond() float64 { return float64(r.ok) / r.elapsed.Seconds() }

const (
	username = "stress"
	password = "correct-horse-battery-9"
)

// stress runs every phase against a fresh quill and returns the figures.
func stress(ctx context.Context, o options, log io.Writer) (*report, error) {
	dir, err := os.MkdirTemp("", "quill-stress-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := o.quill
	if bin == "" {
		fmt.Fprintln(log, "building quill…")
		root, err := quillproc.ModuleRoot(ctx)
		if err != nil {
			return nil, fmt.Errorf("run quill-stress from the repository: %w", err)
		}
		bin = filepath.Join(dir, "quill")
		if err := quillproc.Build(ctx, root, bin); err != nil {
			return nil, err
		}
	}
	env := serverEnv(dir, o)
	fmt.Fprintln(log, "importing an account on a legacy hash with quill import-fastapi…")
	if err := importLegacy(ctx, bin, dir, env); err != nil {
		return nil, err
	}
	srv, err := quillproc.Start(ctx, quillproc.Config{Bin: bin, Dir: dir, Env: env, LogFile: filepath.Join(dir, "quill.log")})
	if err != nil {
		return nil, err
	}
	defer srv.Stop(30 * time.Second)

	client := &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			MaxIdleConns:        o.logins + o.readers + 16,
			MaxIdleConnsPerHost: o.logins + o.readers + 16,
			DisableCompression:  true,
		},
	}
	c := &caller{client: client, base: srv.URL}
	if status, body, err := c.post("/api/users", "application/json",
		fmt.Sprintf(`{"username":%q,"email":"someone@example.com","password":%q}`, username, password)); err != nil || status != http.StatusCreated {
		return nil, fmt.Errorf("register: %d %s %v", status, body, err)
	}
	token, err := c.login(username, password)
	if err != nil {
		return nil, err
	}
	rep := &report{date: time.Now().UTC(), loginStatus: map[int]int{}, loadBefore: loadAverage(), slots: "unknown"}
	if srv.HashSlots > 0 {
		rep.slots = strconv.Itoa(srv.HashSlots)
	}

	fmt.Fprintf(log, "GET /api/users/me for %v with no logins…\n", o.duration)
	rep.meIdle = c.readMe(ctx, token, o.readers, o.duration)
	rep.peakBefore, _ = memoryKiB(srv)

	fmt.Fprintf(log, "%d clients logging in for %v, GET /api/users/me meanwhile…\n", o.logins, o.duration)
	c.flood(ctx, rep, o, token)
	rep.peakAfter, rep.rssAfter = memoryKiB(srv)

	fmt.Fprintf(log, "timing %d unknown-account, %d wrong-password and %d legacy-hash wrong-password logins…\n", o.tries, o.tries, o.tries)
	for i := range o.tries {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Interleaved, so drift in the machine's load hits all alike, and
		// in each of the six orders in turn, so each kind follows each
		// other kind equally often (and none always pays for, say, the
		// garbage of another).
		type login struct {
			user string
			into *[]time.Duration
		}
		unknown, wrong, legacy := login{fmt.Sprint("nobody", i), &rep.unknown}, login{username, &rep.wrong}, login{legacyUsername, &rep.legacyWrong}
		orders := [][]login{
			{unknown, wrong, legacy}, {wrong, legacy, unknown}, {legacy, unknown, wrong},
			{unknown, legacy, wrong}, {legacy, wrong, unknown}, {wrong, unknown, legacy},
		}
		for _, kind := range orders[i%len(orders)] {
			start := time.Now()
			status, body, err := c.post("/api/users/token", "application/x-www-form-urlencoded",
				url.Values{"username": {kind.user}, "password": {"not-the-password"}}.Encode())
			if err != nil || status != http.StatusUnauthorized {
				return nil, fmt.Errorf("timing login as %s: %d %s %v", kind.user, status, body, err)
			}
			*kind.into = append(*kind.into, time.Since(start))
		}
	}
	slices.Sort(rep.unknown)
	slices.Sort(rep.wrong)
	slices.Sort(rep.legacyWrong)
	rep.loadAfter = loadAverage()
	return rep, nil
}

// serverEnv is the server's environment on top of PATH, HOME and ADDR
// (quillproc.Launch): a fresh database in dir, Argon2 at o.memoryKiB,
// rate limits off, text logs, then o.env. Nothing of the caller's
// environment or .env is used.
func serverEnv(dir string, o options) []string {
	var key [32]byte
	rand.Read(key[:]) // never fails: it crashes the program instead
	env := []string{
		"DATABASE_URL=sqlite:///" + filepath.Join(dir, "blog.db"),
		"SECRET_KEY=" + hex.EncodeToString(key[:]),
		"ARGON2_MEMORY_KIB=" + strconv.Itoa(o.memoryKiB),
		"RATE_LIMITS=off",
		"LOG_FORMAT=text",
	}
	return append(env, o.env...)
}

// memoryKiB reads the server's peak and current resident set size (VmHWM,
// VmRSS), in KiB; 0 where unavailable (not Linux).
func memoryKiB(srv *quillproc.Process) (peak, current int64) {
	rss, hwm, err := srv.Memory()
	if err != nil {
		return 0, 0
	}
	return hwm >> 10, rss >> 10
}

// caller sends requests to the server.
type caller struct {
	client *http.Client
	base   string
}

func (c *caller) do(req *http.Request) (int, []byte, error) {
	res, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, body, err
}

func (c *caller) post(path, contentType, body string) (int, []byte, error) {
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	return c.do(req)
}

func (c *caller) login(user, pw string) (string, error) {
	status, body, err := c.post("/api/users/token", "application/x-www-form-urlencoded",
		url.Values{"username": {user}, "password": {pw}}.Encode())
	if err != nil || status != http.StatusOK {
		return "", fmt.Errorf("login: %d %s %v", status, body, err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	return tok.AccessToken, nil
}

// readMe runs n clients that GET /api/users/me back to back for d.
func (c *caller) readMe(ctx context.Context, token string, n int, d time.Duration) readStats {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var st readStats
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Go(func() {
			var lat []time.Duration
			ok, failed := 0, 0
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/api/users/me", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				t := time.Now()
				status, _, err := c.do(req)
				switch {
				case ctx.Err() != nil:
				case err == nil && status == http.StatusOK:
					ok++
					lat = append(lat, time.Since(t))
				default:
					failed++
				}
			}
			mu.Lock()
			st.ok += ok
			st.failed += failed
			st.latency = append(st.latency, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	st.elapsed = time.Since(start)
	slices.Sort(st.latency)
	return st
}

// flood runs o.logins clients that log in back to back for o.duration
// while o.readers clients read /api/users/me, and records both.
func (c *caller) flood(ctx context.Context, rep *report, o options, token string) {
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	form := url.Values{"username": {username}, "password": {password}}.Encode()
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	gate := make(chan struct{})
	for range o.logins {
		wg.Go(func() {
			<-gate
			for ctx.Err() == nil {
				t := time.Now()
				// The last request of each client may outlive the phase:
				// it is not cancelled, so its status counts.
				status, _, err := c.post("/api/users/token", "application/x-www-form-urlencoded", form)
				mu.Lock()
				if err != nil {
					rep.loginErrors++
				} else {
					rep.loginStatus[status]++
					if status == http.StatusOK {
						rep.loginLatency = append(rep.loginLatency, time.Since(t))
					}
				}
				mu.Unlock()
			}
		})
	}
	close(gate)
	rep.meBusy = c.readMe(ctx, token, o.readers, o.duration)
	wg.Wait()
	rep.floodLength = time.Since(start)
	slices.Sort(rep.loginLatency)
}

// percentile returns the p-th percentile (0–100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}
