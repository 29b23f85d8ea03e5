// Package quillproc builds the quill command and runs it as a process of
// its own, for the programs and tests that measure or exercise the real
// binary: cmd/quill-bench, cmd/quill-stress and cmd/quill's tests.
//
// A server it starts has an environment of the caller's choosing and
// nothing else (no DATABASE_URL or .env of the developer's leaks in),
// listens on a port the kernel picks, writes its log to a file the caller
// can read at any time, and is stopped the way an operator stops it. Its
// memory and CPU figures come from /proc, so they are Linux only.
package quillproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// modulePath is quill's module, which ModuleRoot looks for.
const modulePath = "github.com/quill-blog/quill"

// ModuleRoot returns the folder of quill's go.mod, found the way the go
// command finds it from the current directory. It is an error to call it
// outside the quill module.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("the current directory is in no Go module")
	}
	f, err := os.Open(mod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if path, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			if strings.Trim(strings.TrimSpace(path), `"`) != modulePath {
				return "", fmt.Errorf("%s is the go.mod of %s, not of %s", mod, path, modulePath)
			}
			return filepath.Dir(mod), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", mod, err)
	}
	return "", fmt.Errorf("%s has no module line", mod)
}

// Build compiles the quill command (./cmd/quill) of the module at root into
// the file out, as a user builds it. flags go to go build before the
// package, for example "-race" or "-tags=quillpprof". The go command runs
// with the caller's environment.
func Build(ctx context.Context, root, out string, flags ...string) error {
	out, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	args := append([]string{"build", "-o", out}, flags...)
	cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/quill")...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/quill: %v\n%s", err, b)
	}
	return nil
}

// BuildAt compiles ./cmd/quill as it was at the git revision rev of the
// repository at root into the file out, as Build does, from a copy of that
// revision's tree that it unpacks into dir (created if missing). The
// repository itself is left as it is: no checkout, no worktree.
func BuildAt(ctx context.Context, root, rev, dir, out string, flags ...string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	archive := exec.CommandContext(ctx, "git", "-C", root, "archive", "--format=tar", rev)
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", dir)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return err
	}
	untar.Stdin = pipe
	if err := archive.Start(); err != nil {
		return fmt.Errorf("git archive %s: %w", rev, err)
	}
	if b, err := untar.CombinedOutput(); err != nil {
		archive.Wait()
		return fmt.Errorf("unpack %s: %v: %s", rev, err, b)
	}
	if err := archive.Wait(); err != nil {
		return fmt.Errorf("git archive %s: %w", rev, err)
	}
	return Build(ctx, dir, out, flags...)
}
