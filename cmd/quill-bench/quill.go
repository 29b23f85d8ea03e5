package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// buildQuill compiles ./cmd/quill of the module at root into out, as a user
// would build it (with the pprof endpoint only when profiling; see
// cmd/quill/pprof.go).
func buildQuill(ctx context.Context, root, out string, profiling bool) error {
	args := []string{"build", "-o", out}
	if profiling {
		args = append(args, "-tags", "quillpprof")
	}
	args = append(args, "./cmd/quill")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/quill: %v\n%s", err, b)
	}
	return nil
}

// buildQuillAt compiles ./cmd/quill as it was at the git revision rev into
// out, from a copy of that revision's tree under dir.
func buildQuillAt(ctx context.Context, root, rev, dir, out string) error {
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
		return fmt.Errorf("unpack %s: %v: %s", rev, err, b)
	}
	if err := archive.Wait(); err != nil {
		return fmt.Errorf("git archive %s: %w", rev, err)
	}
	return buildQuill(ctx, dir, out, false)
}

// process is a server the bench started: quill, or the bare baseline.
type process struct {
	name    string
	cmd     *exec.Cmd
	addr    string // host:port it listens on
	pprof   string // host:port of its pprof endpoint, or ""
	logPath string
	ready   time.Duration // from exec to the first good answer
	done    chan error
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// quillEnv is the whole environment quill runs with: nothing is inherited
// from the caller's, so a DATABASE_URL or .env of theirs cannot leak in.
func quillEnv(addr, dbPath, secret, pprofAddr string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"ADDR=" + addr,
		"DATABASE_URL=sqlite:///" + dbPath, // dbPath is absolute: sqlite:////abs/path
		"SECRET_KEY=" + secret,
		"RATE_LIMITS=off",
		"LOG_FORMAT=text",
	}
	if pprofAddr != "" {
		env = append(env, "QUILL_PPROF_ADDR="+pprofAddr)
	}
	return env
}

// startQuill runs the quill binary on the database at dbPath (absolute),
// in dir, and waits until /health answers 200.
func startQuill(ctx context.Context, bin, dir, dbPath, secret string, profiling bool) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var pprofAddr string
	if profiling {
		if pprofAddr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = quillEnv(addr, dbPath, secret, pprofAddr)
	p := &process{name: "quill", cmd: cmd, addr: addr, pprof: pprofAddr}
	return p, p.start(ctx, filepath.Join(dir, "quill-"+strconv.Itoa(os.Getpid())+"-"+strings.ReplaceAll(addr, ":", "_")+".log"), "/health")
}

// startBare runs this program as the bare baseline server, answering
// GET /api/users/me and GET /api/posts with the given bodies.
func startBare(ctx context.Context, dir string, me, posts []byte) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	mePath, postsPath := filepath.Join(dir, "me.json"), filepath.Join(dir, "posts.json")
	if err := os.WriteFile(mePath, me, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(postsPath, posts, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "bare", addr, mePath, postsPath)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	p := &process{name: "bare", cmd: cmd, addr: addr}
	return p, p.start(ctx, filepath.Join(dir, "bare.log"), "/api/users/me")
}

func (p *process) start(ctx context.Context, logPath, readyPath string) error {
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own descriptor
	p.logPath = logPath
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.done = make(chan error, 1)
	start := time.Now()
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	probe := get(p.addr, readyPath)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if ok := probeOnce(p.addr, probe); ok {
			p.ready = time.Since(start)
			return nil
		}
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("%s exited before it was ready (%v); its log:\n%s", p.name, err, p.logTail())
		case <-ctx.Done():
			p.stop()
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return fmt.Errorf("%s not ready after a minute; its log:\n%s", p.name, p.logTail())
		}
	}
}

// probeOnce reports whether a request on a new connection gets a 200.
func probeOnce(addr string, req []byte) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(req); err != nil {
		return false
	}
	status, err := readResponse(bufio.NewReader(c))
	return err == nil && status == http.StatusOK
}

// stop asks the process to shut down (SIGTERM) and waits, killing it
// after 15 s.
func (p *process) stop() error {
	if p == nil || p.cmd.Process == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
				return nil // the bare server has no shutdown of its own
			}
			return fmt.Errorf("%s exited with %v; its log:\n%s", p.name, err, p.logTail())
		}
		return nil
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("%s did not stop within 15 s of SIGTERM", p.name)
	}
}

func (p *process) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// memory returns the process's resident set now and at its peak, in bytes,
// from /proc/PID/status (VmRSS and VmHWM).
func (p *process) memory() (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	field := func(name string) int64 {
		i := bytes.Index(b, []byte(name+":"))
		if i < 0 {
			return -1
		}
		line, _, _ := bytes.Cut(b[i+len(name)+1:], []byte("\n"))
		kb, _ := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(line), []byte(" kB"))), 10, 64)
		return kb << 10
	}
	rss, peak = field("VmRSS"), field("VmHWM")
	if rss < 0 || peak < 0 {
		return 0, 0, fmt.Errorf("no VmRSS/VmHWM in /proc/%d/status", p.cmd.Process.Pid)
	}
	return rss, peak, nil
}

// runBare is the baseline server: a bare net/http handler that writes a
// fixed JSON body, the least any Go server answering the same bytes does.
func runBare(args []string) error {
	if len(args) != 3 {
		return errors.New("usage: quill-bench bare ADDR ME.json POSTS.json")
	}
	me, err := os.ReadFile(args[1])
	if err != nil {
		return err
	}
	posts, err := os.ReadFile(args[2])
	if err != nil {
		return err
	}
	fixed := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/users/me", fixed(me))
	mux.Handle("GET /api/posts", fixed(posts))
	return http.ListenAndServe(args[0], mux)
}

// cpuTime returns the CPU time (user and system, all threads) the process
// has used so far, from /proc/PID/stat, to clock-tick precision.
func (p *process) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields count from
	// the last ")". utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("malformed /proc/PID/stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed /proc/PID/stat")
	}
	const ticksPerSecond = 100 // USER_HZ, 100 on every Linux quill-bench runs on
	return time.Duration(utime+stime) * time.Second / ticksPerSecond, nil
}
