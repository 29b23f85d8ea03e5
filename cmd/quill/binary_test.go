package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/quillproc"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// The command-line tests run the real binary, built at most once per test
// process and kind (a build takes most of a minute).
var (
	binDir     string // the binaries; removed by TestMain
	pkgDir     string // cmd/quill, wherever a test has moved the process since
	plainQuill build
	raceQuill  build
)

// logTailLines is how much of a server's log a failure shows.
const logTailLines = 60

func TestMain(m *testing.M) {
	pkgDir, _ = os.Getwd()
	var err error
	if binDir, err = os.MkdirTemp("", "quill-test-bin-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// build is a quill binary built on first use.
type build struct {
	once sync.Once
	path string
	err  error
}

// binary builds quill from this tree into binDir/name with the go build
// flags, the first time, and returns its path.
func (b *build) binary(tb testing.TB, name string, flags ...string) string {
	tb.Helper()
	b.once.Do(func() {
		b.path = filepath.Join(binDir, name)
		b.err = quillproc.Build(context.Background(), filepath.Join(pkgDir, "..", ".."), b.path, flags...)
	})
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.path
}

// quillBinary returns the path of the quill binary built from this tree.
func quillBinary(tb testing.TB) string {
	tb.Helper()
	return plainQuill.binary(tb, "quill")
}

// raceableQuillBinary is quillBinary built with the race detector when the
// tests run with it, for tests where several processes share a database.
func raceableQuillBinary(tb testing.TB) string {
	tb.Helper()
	if !quillRace {
		return quillBinary(tb)
	}
	return raceQuill.binary(tb, "quill-race", "-race")
}

// result is what a run of the binary printed and its exit status.
type result struct {
	stdout, stderr string
	code           int
}

// quillCmd runs the binary in dir with args, stdin and a clean environment
// holding only env (and PATH, HOME): no configuration leaks in from the
// machine running the tests.
func quillCmd(tb testing.TB, dir string, env []string, stdin string, args ...string) result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := quillproc.Command(ctx, quillBinary(tb), dir, env, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		tb.Fatalf("run quill %s: %v", strings.Join(args, " "), err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// launchQuill runs bin serve in dir (its working directory: blog.db and
// .env live there), named name in failures, with env on top of a minimal
// environment (quillproc.Launch), and does not wait for it: several
// launched one after the other start at the same time; see waitReady.
// When tb ends, a server still running is stopped with SIGTERM and must
// exit with status 0 (one that has exited already was the test's to
// judge), and no server may have logged a panic.
func launchQuill(tb testing.TB, bin, dir, name string, env ...string) *quillproc.Process {
	tb.Helper()
	p, err := quillproc.Launch(quillproc.Config{Bin: bin, Dir: dir, Env: env, Name: name})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		select {
		case <-p.Done():
		default:
			if err := p.Stop(time.Minute); err != nil {
				tb.Error(err)
			}
		}
		switch {
		case strings.Contains(p.Log(), "panic"):
			tb.Errorf("%s logged a panic; the end of its log:\n%s", name, p.LogTail(logTailLines))
		case tb.Failed():
			tb.Logf("the end of %s's log:\n%s", name, p.LogTail(logTailLines))
		}
	})
	return p
}

// waitReady waits until p answers /health, failing tb if it does not.
func waitReady(tb testing.TB, p *quillproc.Process) {
	tb.Helper()
	if err := p.WaitReady(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// serveBinary runs quillBinary's serve in dir with env, as launchQuill
// does, and waits until it answers /health.
func serveBinary(tb testing.TB, dir string, env ...string) *quillproc.Process {
	tb.Helper()
	p := launchQuill(tb, quillBinary(tb), dir, "quill", env...)
	waitReady(tb, p)
	return p
}

// waitExit waits a minute at the most for p to exit and returns what
// quillproc.Process.Wait does.
func waitExit(tb testing.TB, p *quillproc.Process) error {
	tb.Helper()
	select {
	case <-p.Done():
		return p.Wait()
	case <-time.After(time.Minute):
		tb.Fatalf("%s did not exit; the end of its log:\n%s", p.Name, p.LogTail(logTailLines))
		return nil
	}
}

// openStoreAt opens the database at url for the test to inspect, closed
// when tb ends.
func openStoreAt(tb testing.TB, url string) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.Open(context.Background(), url, nil)
	if err != nil {
		tb.Fatalf("sqlstore.Open(%q) = %v", url, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
