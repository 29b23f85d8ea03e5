package main

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/quill-blog/quill/internal/quilltest"
)

func TestLogBuffer(t *testing.T) {
	var out quilltest.Logs
	logs := newLogBuffer(&out)
	logger := slog.New(urgentHandler{slog.NewTextHandler(logs, nil), logs})

	logger.Info("request", "path", "/a")
	if got := out.String(); got != "" {
		t.Errorf("an INFO line reached the log before a flush: %q", got)
	}
	logger.Warn("something is off")
	if got := out.String(); !strings.Contains(got, "path=/a") || !strings.Contains(got, "something is off") {
		t.Errorf("after a WARN the log is %q, want both lines, in order", got)
	}
	if strings.Index(out.String(), "path=/a") > strings.Index(out.String(), "something is off") {
		t.Errorf("lines out of order: %q", out.String())
	}
	logger.With("request_id", "x").Error("broken")
	if !strings.Contains(out.String(), "request_id=x msg=broken") && !strings.Contains(out.String(), "msg=broken request_id=x") {
		t.Errorf("an ERROR through With did not reach the log at once: %q", out.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		logs.run(ctx)
	}()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 1000 {
				logger.Info("request", "worker", i)
			}
		})
	}
	wg.Wait()
	cancel()
	<-done
	if n := strings.Count(out.String(), "msg=request worker="); n != 8000 {
		t.Errorf("after run ends, %d request lines are in the log, want 8000", n)
	}
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if !strings.HasPrefix(line, "time=") {
			t.Fatalf("a torn line: %q", line)
		}
	}
}
