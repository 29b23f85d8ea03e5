package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/sqlstore/sqltest"
)

// testCluster is a PostgreSQL cluster of the test's own, made with
// scripts/pg-test-cluster.sh, that the test may stop and start.
type testCluster struct {
	dir, url string
}

// cluster runs scripts/pg-test-cluster.sh with args.
func cluster(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := exec.Command(filepath.Join("..", "..", "scripts", "pg-test-cluster.sh"), args...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		tb.Fatalf("pg-test-cluster.sh %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

// newTestCluster starts a private cluster, destroyed when tb ends. It needs
// what the shared test server needs: PostgreSQL installed, which
// QUILL_TEST_POSTGRES_URL being set is taken to mean.
func newTestCluster(tb testing.TB) *testCluster {
	tb.Helper()
	sqltest.ServerURL(tb) // skips without PostgreSQL
	c := &testCluster{}
	for _, line := range strings.Split(cluster(tb, "start"), "\n") {
		if v, ok := strings.CutPrefix(line, "export QUILL_TEST_POSTGRES_URL="); ok {
			c.url = strings.Trim(v, "'")
		}
		if v, ok := strings.CutPrefix(line, "export QUILL_TEST_POSTGRES_DIR="); ok {
			c.dir = strings.Trim(v, "'")
		}
	}
	if c.url == "" || c.dir == "" {
		tb.Fatal("pg-test-cluster.sh start printed no URL or folder")
	}
	tb.Cleanup(func() { cluster(tb, "destroy", c.dir) })
	return c
}

// TestPostgresOutage stops PostgreSQL under load from two instances: while
// it is down every request gets 503 (never a 500, never a dropped
// connection), /health says so, and when it is back both instances serve
// again without a restart, every post they acknowledged still there.
func TestPostgresOutage(t *testing.T) {
	pg := newTestCluster(t)
	bin := raceableQuillBinary(t)
	a := launchInstance(t, "A", bin, instanceEnv(pg.url))
	b := launchInstance(t, "B", bin, instanceEnv(pg.url))
	a.waitReady(t)
	b.waitReady(t)
	instances := []*instance{a, b}
	const password = "violet-harbour-lantern-93"
	a.register(t, "writer", "writer@example.com", password)
	token := a.login(t, "writer", password)

	// The load: workers post without pause through both instances until
	// told to stop, and keep what each answer said.
	var (
		mu       sync.Mutex
		acked    = map[int64]string{} // post id → title, for every 201
		status   = map[string]int{}   // "A 503" → count
		failures []string             // anything but 201 and 503
		total    atomic.Int64
	)
	counted := func(key string) int {
		mu.Lock()
		defer mu.Unlock()
		return status[key]
	}
	// Requests in flight when the load stops are finished, not cut off.
	var stopped atomic.Bool
	var wg sync.WaitGroup
	stop := func() {
		stopped.Store(true)
		wg.Wait()
	}
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stopped.Load() && i < 100_000; i++ {
				in := instances[(w+i)%2]
				title := fmt.Sprintf("w%d-%d", w, i)
				body := fmt.Sprintf(`{"title":%q,"content":"load"}`, title)
				code, data, err := in.try(context.Background(), "POST", "/api/posts", body, bearer(token))
				total.Add(1)
				mu.Lock()
				switch {
				case err != nil:
					failures = append(failures, fmt.Sprintf("%s: %v", in.Name, err))
				case code == http.StatusCreated:
					var p struct{ ID int64 }
					json.Unmarshal(data, &p)
					acked[p.ID] = title
				case code != http.StatusServiceUnavailable:
					failures = append(failures, fmt.Sprintf("%s: %d %s", in.Name, code, data))
				}
				status[fmt.Sprint(in.Name, " ", code)]++
				mu.Unlock()
			}
		})
	}
	defer stop()

	waitFor(t, "posts acknowledged before the outage", time.Minute, func() bool {
		return counted("A 201") >= 20 && counted("B 201") >= 20
	})

	cluster(t, "crash", pg.dir) // every backend quits at once
	waitFor(t, "503s from both instances", time.Minute, func() bool {
		return counted("A 503") >= 5 && counted("B 503") >= 5
	})
	for _, in := range instances {
		if code, body := in.call(t, "GET", "/health", "", nil); code != http.StatusServiceUnavailable {
			t.Errorf("GET /health on %s with PostgreSQL down = %d %s, want 503", in.Name, code, body)
		}
	}
	upBefore := map[string]int{"A": counted("A 201"), "B": counted("B 201")}

	cluster(t, "start", pg.dir)
	for _, in := range instances {
		waitFor(t, in.Name+"'s /health back to 200", time.Minute, func() bool {
			code, _, err := in.try(context.Background(), "GET", "/health", "", nil)
			return err == nil && code == http.StatusOK
		})
	}
	waitFor(t, "posts acknowledged after the outage", time.Minute, func() bool {
		return counted("A 201") >= upBefore["A"]+20 && counted("B 201") >= upBefore["B"]+20
	})
	stop()

	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d requests: %v", total.Load(), status)
	for _, f := range failures[:min(len(failures), 20)] {
		t.Errorf("answer other than 201 or 503: %s", f)
	}
	// Every acknowledged post is there, whichever instance is asked.
	for id, title := range acked {
		in := instances[id%2]
		code, data := in.call(t, "GET", fmt.Sprintf("/api/posts/%d", id), "", nil)
		if code != http.StatusOK || !strings.Contains(string(data), fmt.Sprintf(`"title":%q`, title)) {
			t.Errorf("acknowledged post %d (%s) on %s = %d %s, want it", id, title, in.Name, code, data)
		}
	}
	for _, in := range instances {
		if logs := in.Log(); strings.Contains(logs, "request failed") {
			t.Errorf("%s logged a failed request (a 500):\n%s", in.Name, grepLines(logs, "request failed"))
		}
	}
}
