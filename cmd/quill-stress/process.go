package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// buildQuill compiles cmd/quill into dir.
func buildQuill(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "quill")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/quill-blog/quill/cmd/quill").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build cmd/quill (run quill-stress from the repository): %v\n%s", err, out)
	}
	return bin, nil
}

// server is a running quill.
type server struct {
	cmd   *exec.Cmd
	url   string
	slots string // hash slots, as quill logs them
	done  chan error
}

var listening = regexp.MustCompile(`msg="quill is listening" url=(http://[0-9.:]+).*?(?: hash_slots=(\d+))?$`)

// startQuill runs bin serve in dir on a fresh database with Argon2 at
// memoryKiB and rate limits off, logging to dir/quill.log, and returns once
// it listens. Nothing of the caller's environment or .env is used.
func startQuill(ctx context.Context, bin, dir string, memoryKiB int, extraEnv []string) (*server, error) {
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"ADDR=127.0.0.1:0",
		"DATABASE_URL=sqlite:///" + filepath.Join(dir, "blog.db"),
		"SECRET_KEY=" + hex.EncodeToString(key[:]),
		"ARGON2_MEMORY_KIB=" + strconv.Itoa(memoryKiB),
		"RATE_LIMITS=off",
		"LOG_FORMAT=text",
	}
	cmd.Env = append(cmd.Env, extraEnv...)
	logf, err := os.Create(filepath.Join(dir, "quill.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start quill: %w", err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1)}
	urls := make(chan []string, 1)
	go func() {
		// Copy the log to the file, watching for the listening line.
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case urls <- m:
				default:
				}
			}
		}
		io.Copy(io.Discard, pipe)
	}()
	go func() { s.done <- cmd.Wait() }()
	select {
	case m := <-urls:
		s.url, s.slots = m[1], m[2]
		return s, nil
	case err := <-s.done:
		return nil, fmt.Errorf("quill exited at start-up (%v); see %s", err, filepath.Join(dir, "quill.log"))
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, errors.New("quill did not start listening within 60 s")
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// stop ends the server with SIGTERM, as an operator would.
func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
	}
}

// memory reads the process's peak and current resident set size (VmHWM,
// VmRSS) from /proc, in KiB; 0 where unavailable (not Linux).
func (s *server) memory() (peakKiB, currentKiB int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmHWM":
			peakKiB = kib
		case "VmRSS":
			currentKiB = kib
		}
	}
	return peakKiB, currentKiB
}
