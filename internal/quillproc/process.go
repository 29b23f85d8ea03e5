package quillproc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// startTimeout bounds WaitReady: a quill that takes longer to start is
// broken, not slow.
const startTimeout = time.Minute

// logTailLines is how much of the log the errors of this package quote.
const logTailLines = 30

// Command returns the command that runs the quill binary bin with args in
// the folder dir, with env (KEY=VALUE) as its environment on top of PATH
// and HOME=dir. Nothing else of the caller's environment reaches it, so a
// DATABASE_URL of the developer's cannot leak in, and the ./.env it reads
// is dir's. Where env names a key twice, or names PATH or HOME, the later
// entry wins. ctx kills the process, as with exec.CommandContext.
func Command(ctx context.Context, bin, dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = environment(dir, env)
	return cmd
}

func environment(dir string, env []string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
}

// Config says how Launch runs a server.
type Config struct {
	// Bin is the quill binary, or another program that starts the way
	// quill serve does (see Launch).
	Bin string
	// Args are its arguments; none means serve.
	Args []string
	// Dir is its working directory and HOME: its ./.env and SQLite paths
	// like sqlite:///./blog.db are there.
	Dir string
	// Env is its environment (KEY=VALUE) on top of PATH, HOME and
	// ADDR=127.0.0.1:0, as for Command.
	Env []string
	// Name names the process in errors; "quill" if empty.
	Name string
	// LogFile is the file its standard output and error go to, created or
	// truncated; if empty, a new quill-*.log in Dir.
	LogFile string
}

// Process is a server Launch started.
type Process struct {
	Name    string // as in Config
	LogFile string // where its output goes

	// Set by WaitReady once it has returned nil.
	URL       string        // the base URL it serves, http://127.0.0.1:PORT
	Addr      string        // the host:port of URL
	HashSlots int           // its hash slots, as it logged them; 0 if it did not
	Ready     time.Duration // from its start to its first 200 from GET /health

	cmd     *exec.Cmd
	started time.Time
	done    chan struct{} // closed when it has exited
	err     error         // cmd.Wait's, once done is closed
}

// Launch starts the server cfg describes without waiting for it: several
// launched one after the other start at the same time. Call WaitReady
// before using it, and Stop when done with it.
//
// The program must do what quill serve does: listen on ADDR (127.0.0.1:0
// unless cfg.Env sets it), log the line "quill is listening" with the url
// it listens on, in slog's text or JSON format, and answer GET /health
// with 200 when it is ready.
func Launch(cfg Config) (*Process, error) {
	name := cfg.Name
	if name == "" {
		name = "quill"
	}
	args := cfg.Args
	if len(args) == 0 {
		args = []string{"serve"}
	}
	var logf *os.File
	var err error
	if cfg.LogFile == "" {
		logf, err = os.CreateTemp(cfg.Dir, "quill-*.log")
	} else {
		logf, err = os.Create(cfg.LogFile)
	}
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the process has its own descriptor
	// The process writes the file itself: nothing in this one copies its
	// output, so a long measurement costs the caller nothing.
	cmd := exec.Command(cfg.Bin, args...)
	cmd.Dir = cfg.Dir
	cmd.Env = environment(cfg.Dir, append([]string{"ADDR=127.0.0.1:0"}, cfg.Env...))
	cmd.Stdout, cmd.Stderr = logf, logf
	p := &Process{Name: name, LogFile: logf.Name(), cmd: cmd, done: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Start launches the server cfg describes and waits until it is ready, as
// Launch and WaitReady do. If it does not get ready, Start kills it and
// returns why.
func Start(ctx context.Context, cfg Config) (*Process, error) {
	p, err := Launch(cfg)
	if err != nil {
		return nil, err
	}
	if err := p.WaitReady(ctx); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// WaitReady waits until the process logs that it listens and then answers
// GET /health with 200, and sets URL, Addr, HashSlots and Ready. It gives up
// when the process exits, when ctx ends or after a minute, with an error
// that quotes the end of the log; it leaves the process as it is.
func (p *Process) WaitReady(ctx context.Context) error {
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	// A 1 ms poll: start-up to ready is one of quill-bench's figures.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	wait := func(what string) error {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited (%v) before %s; the end of its log:\n%s", p.Name, p.err, what, p.LogTail(logTailLines))
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to start: %w", p.Name, ctx.Err())
		case <-deadline.C:
			return fmt.Errorf("%s did not start within %v (%s); the end of its log:\n%s", p.Name, startTimeout, what, p.LogTail(logTailLines))
		case <-tick.C:
			return nil
		}
	}

	logf, err := os.Open(p.LogFile)
	if err != nil {
		return err
	}
	defer logf.Close()
	var scan lineScanner
	for {
		l, ok, err := scan.next(logf)
		if err != nil {
			return fmt.Errorf("read the log of %s: %w", p.Name, err)
		}
		if ok {
			p.URL, p.Addr, p.HashSlots = l.url, l.addr, l.hashSlots
			break
		}
		if err := wait("it logged that it listens"); err != nil {
			return err
		}
	}

	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true}, // no idle connection left behind
	}
	for {
		if healthy(ctx, client, p.URL) {
			p.Ready = time.Since(p.started)
			return nil
		}
		if err := wait("GET /health answered 200 at " + p.URL); err != nil {
			return err
		}
	}
}

// healthy reports whether GET base/health answers 200.
func healthy(ctx context.Context, client *http.Client, base string) bool {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/health", nil)
	if err != nil {
		return false
	}
	res, err := client.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// Stop ends the process as an operator would: SIGTERM, then SIGKILL if it
// is still running after grace. It returns nil if the process exited with
// status 0, now or before Stop was called; otherwise an error that says
// how it ended and quotes the end of its log.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM) // it may exit meanwhile
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-p.done:
		case <-timer.C:
			p.kill()
			return fmt.Errorf("%s did not stop within %v of SIGTERM and was killed; the end of its log:\n%s", p.Name, grace, p.LogTail(logTailLines))
		}
	}
	if p.err != nil {
		return fmt.Errorf("%s exited with %v; the end of its log:\n%s", p.Name, p.err, p.LogTail(logTailLines))
	}
	return nil
}

// kill ends the process with SIGKILL and waits for it.
func (p *Process) kill() {
	_ = p.cmd.Process.Kill() // it may have exited already
	<-p.done
}

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the process to exit and returns what exec.Cmd.Wait did:
// nil for status 0, an *exec.ExitError for another status or a signal.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// pid is the process id.
func (p *Process) pid() int { return p.cmd.Process.Pid }

// FreeAddr returns a 127.0.0.1 address whose port nothing listens on now,
// for a server that must know its address before it starts. Another
// process may take the port meanwhile; where that is not needed, let the
// server pick its port (ADDR=127.0.0.1:0, as Launch does).
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
