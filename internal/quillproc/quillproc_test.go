package quillproc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for quill: run with FAKE_QUILL
// set, it is a server that starts the way quill serve does (see fakeQuill).
func TestMain(m *testing.M) {
	if mode := os.Getenv("FAKE_QUILL"); mode != "" {
		if err := fakeQuill(mode); err != nil {
			fmt.Fprintln(os.Stderr, "fake quill:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakeQuill listens on ADDR, logs quill's listening line in LOG_FORMAT
// and answers /health until SIGTERM. mode "exit" fails before it listens;
// "stubborn" ignores SIGTERM.
func fakeQuill(mode string) error {
	if mode == "exit" {
		return errors.New("no database")
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	ln, err := net.Listen("tcp", os.Getenv("ADDR"))
	if err != nil {
		return err
	}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if os.Getenv("LOG_FORMAT") == "json" {
		h = slog.NewJSONHandler(os.Stderr, nil)
	}
	slog.New(h).Info("quill is listening", "url", "http://"+ln.Addr().String(), "database", "sqlite", "hash_slots", 3)
	fmt.Println("HOME=" + os.Getenv("HOME") + " DATABASE_URL=" + os.Getenv("DATABASE_URL"))
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for range stop {
		if mode != "stubborn" {
			return nil
		}
	}
	return nil
}

func TestStartStop(t *testing.T) {
	t.Setenv("DATABASE_URL", "sqlite:///./leaked.db") // must not reach the process
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			p, err := Start(t.Context(), Config{Bin: os.Args[0], Dir: dir, Env: []string{"FAKE_QUILL=serve", "LOG_FORMAT=" + format}})
			if err != nil {
				t.Fatalf("Start = %v", err)
			}
			defer p.Stop(time.Minute)
			if !strings.HasPrefix(p.URL, "http://127.0.0.1:") || p.URL != "http://"+p.Addr {
				t.Errorf("URL, Addr = %q, %q, want http://127.0.0.1:PORT and 127.0.0.1:PORT", p.URL, p.Addr)
			}
			if p.HashSlots != 3 || p.Ready <= 0 || p.Name != "quill" {
				t.Errorf("HashSlots, Ready, Name = %d, %v, %q, want 3, > 0, quill", p.HashSlots, p.Ready, p.Name)
			}
			if filepath.Dir(p.LogFile) != dir {
				t.Errorf("LogFile = %s, want a file in %s", p.LogFile, dir)
			}
			res, err := http.Get(p.URL + "/health")
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("GET /health = %v, %v", res, err)
			}
			res.Body.Close()
			if rss, peak, err := p.Memory(); err != nil || rss <= 0 || peak < rss {
				t.Errorf("Memory() = %d, %d, %v, want 0 < rss ≤ peak", rss, peak, err)
			}
			if _, err := p.CPUTime(); err != nil {
				t.Errorf("CPUTime() = %v", err)
			}
			if err := p.Stop(time.Minute); err != nil {
				t.Errorf("Stop = %v, want nil", err)
			}
			if err := p.Stop(time.Minute); err != nil {
				t.Errorf("Stop again = %v, want nil", err)
			}
			if got, want := p.Log(), "HOME="+dir+" DATABASE_URL=\n"; !strings.Contains(got, want) {
				t.Errorf("Log() = %q, want it to contain %q: only Env, PATH, HOME=Dir and ADDR reach the process", got, want)
			}
		})
	}
}

func TestStartFails(t *testing.T) {
	_, err := Start(t.Context(), Config{Bin: os.Args[0], Dir: t.TempDir(), Name: "early", Env: []string{"FAKE_QUILL=exit"}})
	if err == nil || !strings.Contains(err.Error(), "early exited") || !strings.Contains(err.Error(), "no database") {
		t.Errorf("Start of a server that exits = %v, want an error naming it and quoting its log", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = Start(ctx, Config{Bin: os.Args[0], Dir: t.TempDir(), Env: []string{"FAKE_QUILL=serve"}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Start with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestStopKills(t *testing.T) {
	p, err := Start(t.Context(), Config{Bin: os.Args[0], Dir: t.TempDir(), Env: []string{"FAKE_QUILL=stubborn"}})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Stop(200 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "did not stop") {
		t.Errorf("Stop of a server that ignores SIGTERM = %v, want an error", err)
	}
	var exit *exec.ExitError
	if err := p.Wait(); !errors.As(err, &exit) || exit.ExitCode() != -1 {
		t.Errorf("Wait after Stop = %v, want killed by a signal", err)
	}
}

func TestParseListening(t *testing.T) {
	tests := []struct {
		name string
		line string
		want listening
		ok   bool
	}{
		{"text", `time=2025-01-02T03:04:05.000Z level=INFO msg="quill is listening" url=http://127.0.0.1:41234 database=sqlite hash_slots=2`,
			listening{"http://127.0.0.1:41234", "127.0.0.1:41234", 2}, true},
		{"json", `{"time":"2025-01-02T03:04:05Z","level":"INFO","msg":"quill is listening","url":"http://127.0.0.1:8000","database":"postgres","hash_slots":16}`,
			listening{"http://127.0.0.1:8000", "127.0.0.1:8000", 16}, true},
		{"no hash slots", `level=INFO msg="quill is listening" url=http://127.0.0.1:8000`, listening{"http://127.0.0.1:8000", "127.0.0.1:8000", 0}, true},
		{"other order, quoted url", `msg="quill is listening" hash_slots=4 url="http://[::1]:8000"`, listening{"http://[::1]:8000", "[::1]:8000", 4}, true},
		{"text before the keys", `2025/01/02 03:04:05 msg="quill is listening" url=http://127.0.0.1:9 database=sqlite`, listening{"http://127.0.0.1:9", "127.0.0.1:9", 0}, true},
		{"carriage return", "level=INFO msg=\"quill is listening\" url=http://127.0.0.1:9\r", listening{"http://127.0.0.1:9", "127.0.0.1:9", 0}, true},
		{"other message", `level=INFO msg="quill is starting" url=http://127.0.0.1:9`, listening{}, false},
		{"message in a value", `level=INFO msg=request path="msg=\"quill is listening\" url=http://127.0.0.1:9"`, listening{}, false},
		{"no url", `level=INFO msg="quill is listening" database=sqlite`, listening{}, false},
		{"no port", `level=INFO msg="quill is listening" url=http://127.0.0.1`, listening{}, false},
		{"https", `level=INFO msg="quill is listening" url=https://127.0.0.1:9`, listening{}, false},
		{"broken json", `{"msg":"quill is listening","url":"http://127.0.0.1:9"`, listening{}, false},
		{"unterminated quote", `level=INFO msg="quill is listening url=http://127.0.0.1:9`, listening{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseListening(tt.line)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseListening(%q) = %+v, %v, want %+v, %v", tt.line, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\tquill\nVmPeak:\t 1300000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t7\n"
	rss, peak, err := parseStatus([]byte(status))
	if rss != 10<<20 || peak != 20<<20 || err != nil {
		t.Errorf("parseStatus = %d, %d, %v, want %d, %d, nil", rss, peak, err, 10<<20, 20<<20)
	}
	if _, _, err := parseStatus([]byte("Name:\tquill\nVmRSS:\t10240 kB\n")); err == nil {
		t.Error("parseStatus without VmHWM: no error")
	}
}

func TestParseStat(t *testing.T) {
	// A command name with a space and a parenthesis; utime 150, stime 50.
	stat := "4242 (qu) ill) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 7 0 100 0 0"
	got, err := parseStat([]byte(stat))
	if got != 2*time.Second || err != nil {
		t.Errorf("parseStat = %v, %v, want 2s, nil", got, err)
	}
	if _, err := parseStat([]byte("4242 (quill) S 1")); err == nil {
		t.Error("parseStat of a short line: no error")
	}
}

func TestLogTail(t *testing.T) {
	dir := t.TempDir()
	p := &Process{LogFile: filepath.Join(dir, "quill.log")}
	var b strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	if err := os.WriteFile(p.LogFile, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := p.LogTail(3), "line 9997\nline 9998\nline 9999\n"; got != want {
		t.Errorf("LogTail(3) = %q, want %q", got, want)
	}
	if got := p.LogTail(1 << 20); !strings.HasPrefix(got, "line ") || len(got) > 64<<10 {
		t.Errorf("LogTail(many) starts %q and has %d bytes, want whole lines of the last 64 KiB", got[:20], len(got))
	}
}
