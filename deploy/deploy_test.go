package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/quill-blog/quill/internal/quillproc"
)

// requiredEnv makes a missing tool fail the tests instead of skipping
// them: CI sets QUILL_DEPLOY_TESTS=required, after installing the tools.
const requiredEnv = "QUILL_DEPLOY_TESTS"

// tool returns the path of the program name, which Debian's package pkg
// installs. Without it the test is skipped, or fails if the tools are
// required.
func tool(tb testing.TB, name, pkg string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv(requiredEnv) == "required" {
		tb.Fatalf("%s=required, but %s is missing (Debian: apt-get install %s): %v", requiredEnv, name, pkg, err)
	}
	tb.Skipf("this test needs %s (Debian: apt-get install %s): %v; %s=required makes its absence a failure", name, pkg, err, requiredEnv)
	return ""
}

// root is the folder of quill's go.mod.
func root(tb testing.TB) string {
	tb.Helper()
	dir, err := quillproc.ModuleRoot(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

// imageBuildFlags are the go build flags of deploy/build-image.sh, which
// also sets CGO_ENABLED=0. The tests build quill as it does (TestMain sets
// CGO_ENABLED=0), so that its build finds every package compiled already.
var imageBuildFlags = []string{"-trimpath", "-ldflags=-s -w"}

// quillBuild is the quill binary the tests run, built on first use.
var quillBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// quillBinary builds quill from this tree, once per test process, and
// returns its path.
func quillBinary(tb testing.TB) string {
	tb.Helper()
	quillBuild.once.Do(func() {
		quillBuild.dir, quillBuild.err = os.MkdirTemp("", "quill-deploy-test-")
		if quillBuild.err != nil {
			return
		}
		quillBuild.path = filepath.Join(quillBuild.dir, "quill")
		quillBuild.err = quillproc.Build(context.Background(), root(tb), quillBuild.path, imageBuildFlags...)
	})
	if quillBuild.err != nil {
		tb.Fatal(quillBuild.err)
	}
	return quillBuild.path
}

func TestMain(m *testing.M) {
	// The go commands the tests run, quillproc.Build's and build-image.sh's,
	// build without cgo; the other programs they run do not read it.
	os.Setenv("CGO_ENABLED", "0")
	code := m.Run()
	if quillBuild.dir != "" {
		os.RemoveAll(quillBuild.dir)
	}
	os.Exit(code)
}
