package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// litestreamVersion is the Litestream that .ci/run installs and that the
// docs were checked with.
const litestreamVersion = "v0.5.18"

// The paths deploy/litestream.yml uses, which the test replaces.
const (
	exampleDatabase = "/var/lib/quill/blog.db"
	exampleReplica  = "/var/backups/quill/litestream"
)

// litestreamConfig writes deploy/litestream.yml, with the database and
// replica paths replaced, into dir and returns its path.
func litestreamConfig(tb testing.TB, dir, database, replica string) string {
	tb.Helper()
	example, err := os.ReadFile(filepath.Join(pkgDir, "..", "..", "deploy", "litestream.yml"))
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range []string{exampleDatabase, exampleReplica} {
		if !strings.Contains(string(example), p) {
			tb.Fatalf("deploy/litestream.yml no longer names %s", p)
		}
	}
	config := strings.NewReplacer(exampleDatabase, database, exampleReplica, replica).Replace(string(example))
	path := filepath.Join(dir, "litestream.yml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// startLitestream runs litestream replicate with config, its output in a
// log file, until the returned function stops it (SIGTERM: it syncs the
// replica one last time) and returns its log. When tb ends, one still
// running is killed.
func startLitestream(tb testing.TB, bin, config string) (stop func() string) {
	tb.Helper()
	logPath := filepath.Join(filepath.Dir(config), "litestream.log")
	logf, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "replicate", "-config", config)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	readLog := func() string {
		b, _ := os.ReadFile(logPath)
		return string(b)
	}
	stopped := false
	tb.Cleanup(func() {
		if !stopped {
			cmd.Process.Kill()
			<-done
		}
	})
	return func() string {
		tb.Helper()
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("litestream replicate ended with %v; its log:\n%s", err, readLog())
			}
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
			<-done
			tb.Errorf("litestream replicate did not stop within 2 minutes of SIGTERM; its log:\n%s", readLog())
		}
		return readLog()
	}
}

// litestreamRestore runs litestream restore with args.
func litestreamRestore(tb testing.TB, bin string, args ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin, append([]string{"restore"}, args...)...).CombinedOutput(); err != nil {
		tb.Fatalf("litestream restore %q: %v\n%s", args, err, out)
	}
}

// countPosts counts the posts in the SQLite file path.
func countPosts(tb testing.TB, path string) int {
	tb.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM posts`).Scan(&n); err != nil {
		tb.Fatalf("count the posts of %s: %v", path, err)
	}
	return n
}

// TestLitestream replicates quill's database with Litestream, configured
// by deploy/litestream.yml, to a directory while four clients write
// through the API, enough for the write-ahead log to pass 1000 pages
// (where SQLite's automatic checkpoint and Litestream's own both run).
// It checks that the replica keeps up while quill runs: a restore made
// after the last write, quill still running, has every post. Then it
// stops both, deletes the database, restores it with litestream restore,
// and starts quill on it: every acknowledged post is there and every
// writer logs in.
func TestLitestream(t *testing.T) {
	litestream := backupTool(t, "litestream", "go install github.com/benbjohnson/litestream/cmd/litestream@"+litestreamVersion)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	database := filepath.Join(dataDir, "blog.db")
	config := litestreamConfig(t, dir, database, filepath.Join(dir, "replica"))
	env := map[string]string{"DATABASE_URL": "sqlite:///" + database, "SECRET_KEY": testSecret, "RATE_LIMITS": "off"}
	bin := quillBinary(t)

	srv := launchInstance(t, "quill", bin, env)
	srv.waitReady(t)
	stopLitestream := startLitestream(t, litestream, config)

	// 8 KiB posts: 600 of them are some 1200 pages of log.
	w, stopWriters := startWriters(t, srv, 4, 8<<10)
	waitAcked(t, w, 600)
	stopWriters()
	written := len(w.acked)
	if len(w.attempted) != written {
		t.Fatalf("%d posts were sent, %d acknowledged", len(w.attempted), written)
	}

	// The replica catches up while quill runs.
	start := time.Now()
	var replicated int
	for i := 0; ; i++ {
		restored := filepath.Join(dir, fmt.Sprintf("caught-up-%d.db", i))
		litestreamRestore(t, litestream, "-config", config, "-o", restored, database)
		if replicated = countPosts(t, restored); replicated == written {
			break
		}
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("the replica holds %d of the %d posts 2 minutes after the last write", replicated, written)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("%d posts of 8 KiB written; the replica had them all %v after the last write",
		written, time.Since(start).Round(100*time.Millisecond))

	if err := srv.Stop(time.Minute); err != nil {
		t.Fatal(err)
	}
	log := stopLitestream()
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "level=ERROR") {
			t.Errorf("litestream logged an error: %s", line)
		}
	}

	// Lose the database, restore it from the replica, start quill on it.
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(database + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	litestreamRestore(t, litestream, "-config", config, database)
	restored := launchInstance(t, "restored", bin, env)
	restored.waitReady(t)
	titles := allPostTitles(t, restored)
	missing := 0
	for title := range w.acked {
		if !titles[title] {
			missing++
		}
	}
	if missing > 0 || len(titles) != written {
		t.Errorf("the database restored by Litestream has %d posts, %d of the %d acknowledged missing", len(titles), missing, written)
	}
	for i := range 4 {
		restored.login(t, fmt.Sprintf("writer%d", i), writerPassword)
	}
}
