package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// writerPassword is the password of the writers' accounts.
const writerPassword = "granite-meadow-compass-58"

// writer is a client writing posts through the API, and what it was told.
type writer struct {
	content   string // of every post
	mu        sync.Mutex
	attempted map[string]bool      // every title it sent
	acked     map[string]time.Time // titles answered 201, with when the answer was read
}

func newWriter(contentBytes int) *writer {
	line := "A line of a post written while a backup runs. "
	return &writer{
		content:   strings.Repeat(line, contentBytes/len(line)+1)[:contentBytes],
		attempted: map[string]bool{},
		acked:     map[string]time.Time{},
	}
}

// write posts titles name-0, name-1, … as the user with token through in
// until ctx ends, recording each attempt and each 201. Any other answer
// fails tb.
func (w *writer) write(ctx context.Context, tb testing.TB, in *instance, name, token string) {
	for i := 0; ctx.Err() == nil; i++ {
		title := fmt.Sprintf("%s-%d", name, i)
		body, _ := json.Marshal(map[string]string{"title": title, "content": w.content})
		w.mu.Lock()
		w.attempted[title] = true
		w.mu.Unlock()
		status, data, err := in.try(context.WithoutCancel(ctx), "POST", "/api/posts", string(body), bearer(token))
		if err != nil || status != http.StatusCreated {
			tb.Errorf("POST /api/posts %q = %d %s, %v; want 201", title, status, data, err)
			return
		}
		w.mu.Lock()
		w.acked[title] = time.Now()
		w.mu.Unlock()
	}
}

// ackedBefore counts the titles acknowledged before t.
func (w *writer) ackedBefore(t time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, at := range w.acked {
		if at.Before(t) {
			n++
		}
	}
	return n
}

// startWriters registers n users through in and starts a writer for each,
// all recording into one writer, posting contentBytes of content at a
// time; stop ends them and waits.
func startWriters(tb testing.TB, in *instance, n, contentBytes int) (w *writer, stop func()) {
	tb.Helper()
	w = newWriter(contentBytes)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range n {
		name := fmt.Sprintf("writer%d", i)
		in.register(tb, name, name+"@example.com", writerPassword)
		token := in.login(tb, name, writerPassword)
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.write(ctx, tb, in, name, token)
		}()
	}
	return w, func() {
		cancel()
		wg.Wait()
	}
}

// allPostTitles lists the titles of every post in, a page of 100 at a
// time by cursor.
func allPostTitles(tb testing.TB, in *instance) map[string]bool {
	tb.Helper()
	titles := map[string]bool{}
	cursor := ""
	for {
		path := "/api/posts?limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		status, data := in.call(tb, "GET", path, "", nil)
		if status != http.StatusOK {
			tb.Fatalf("GET %s = %d %s", path, status, data)
		}
		var page struct {
			Posts []struct {
				Title string `json:"title"`
			} `json:"posts"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(data, &page); err != nil {
			tb.Fatalf("GET %s: %v", path, err)
		}
		for _, p := range page.Posts {
			titles[p.Title] = true
		}
		if page.NextCursor == nil || len(page.Posts) == 0 {
			return titles
		}
		cursor = *page.NextCursor
	}
}

// waitAcked waits until w has n acknowledged posts.
func waitAcked(tb testing.TB, w *writer, n int) {
	tb.Helper()
	waitFor(tb, fmt.Sprintf("%d posts written", n), 2*time.Minute, func() bool { return w.ackedBefore(time.Now().Add(time.Hour)) >= n })
}

// TestBackupUnderLoad runs the real binary with four clients writing
// posts through the API and takes a backup with quill backup meanwhile;
// then it stops the server, puts the backup in place with quill restore,
// starts a server on it and checks that every post acknowledged before
// the backup began is there, and nothing that was never sent.
func TestBackupUnderLoad(t *testing.T) {
	dir := t.TempDir()
	backupFile := filepath.Join(dir, "backup.db")
	env := map[string]string{
		"DATABASE_URL": "sqlite:///" + filepath.Join(dir, "blog.db"),
		"SECRET_KEY":   testSecret,
		"RATE_LIMITS":  "off",
	}
	envList := []string{"DATABASE_URL=" + env["DATABASE_URL"], "SECRET_KEY=" + testSecret}
	bin := quillBinary(t)
	srv := launchInstance(t, "quill", bin, env)
	srv.waitReady(t)

	w, stopWriters := startWriters(t, srv, 4, 2000)
	waitAcked(t, w, 200)
	begun := time.Now()
	res := quillCmd(t, dir, envList, "", "backup", backupFile)
	ended := time.Now()
	if res.code != 0 {
		stopWriters()
		t.Fatalf("quill backup while four clients write = exit %d: %s", res.code, res.stderr)
	}
	m := wroteRE.FindStringSubmatch(res.stdout)
	if m == nil {
		stopWriters()
		t.Fatalf("quill backup printed %q", res.stdout)
	}
	// The writers go on after the backup for a while.
	waitAcked(t, w, w.ackedBefore(ended)+100)
	stopWriters()

	before := w.ackedBefore(begun)
	during := w.ackedBefore(ended) - before
	inBackup, _ := strconv.Atoi(m[4])
	t.Logf("posts acknowledged before the backup began: %d, while it ran: %d, in the backup: %d, after it: %d",
		before, during, inBackup, len(w.acked)-before-during)
	if inBackup < before || inBackup > len(w.attempted) {
		t.Errorf("the backup holds %d posts: %d were acknowledged before it began, %d were sent in all", inBackup, before, len(w.attempted))
	}
	if err := srv.Stop(time.Minute); err != nil {
		t.Fatal(err)
	}

	res = quillCmd(t, dir, envList, "", "restore", backupFile)
	if res.code != 0 {
		t.Fatalf("quill restore = exit %d: %s", res.code, res.stderr)
	}
	restored := launchInstance(t, "restored", bin, env)
	restored.waitReady(t)
	titles := allPostTitles(t, restored)
	if len(titles) != inBackup {
		t.Errorf("the restored database has %d posts; quill backup said %d", len(titles), inBackup)
	}
	missing := 0
	for title, at := range w.acked {
		if at.Before(begun) && !titles[title] {
			missing++
			if missing <= 5 {
				t.Errorf("post %q, acknowledged %v before the backup began, is not in the restored database", title, begun.Sub(at))
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of the %d posts acknowledged before the backup began are missing", missing, before)
	}
	for title := range titles {
		if !w.attempted[title] {
			t.Errorf("the restored database has a post %q that was never sent", title)
		}
	}
	// Every writer logs in on the restored database.
	for i := range 4 {
		restored.login(t, fmt.Sprintf("writer%d", i), writerPassword)
	}
}

// requireBackupTools names the variable that CI sets: then a missing
// pg_dump, pg_restore or litestream fails the tests that run them
// instead of skipping them.
const requireBackupTools = "QUILL_REQUIRE_BACKUP_TOOLS"

// backupTool returns the path of an outside program a test runs: found on
// PATH, in Debian's PostgreSQL directories (/usr/lib/postgresql/N/bin,
// the newest N first) or in Go's bin directory. When it is missing the
// test is skipped with a message saying how to install it (install),
// unless QUILL_REQUIRE_BACKUP_TOOLS is set.
func backupTool(tb testing.TB, name, install string) string {
	tb.Helper()
	var dirs []string
	if pg, _ := filepath.Glob("/usr/lib/postgresql/*/bin"); len(pg) > 0 {
		slices.SortFunc(pg, func(a, b string) int { return pgVersion(b) - pgVersion(a) })
		dirs = append(dirs, pg...)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, d := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	// Debian's /usr/bin/pg_dump is a wrapper that needs a cluster of the
	// package's own: the versioned directories come first.
	for _, d := range dirs {
		if p := filepath.Join(d, name); isExecutable(p) {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	msg := name + " is not installed (" + install + ")"
	if os.Getenv(requireBackupTools) != "" {
		tb.Fatalf("%s, and %s is set", msg, requireBackupTools)
	}
	tb.Skip(msg + ": skipping")
	return ""
}

// pgVersion is the number N of a /usr/lib/postgresql/N/bin directory.
func pgVersion(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
