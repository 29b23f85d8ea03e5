package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logFlushEvery bounds how long a log line waits in logBuffer before it is
// written.
const logFlushEvery = 100 * time.Millisecond

// logBufferSize is how much logBuffer holds before it writes at once.
const logBufferSize = 64 << 10

// logBuffer gathers the server's log lines and writes them in batches:
// every logFlushEvery, when logBufferSize is reached, at once for a line
// of level WARN or above (urgentHandler), and when run ends. The access
// log writes a line per request, and a write system call per line would
// cost the server a good part of what a fast request costs. Lines written
// just before a crash that kills the process may be lost, up to
// logFlushEvery of them.
type logBuffer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

func newLogBuffer(w io.Writer) *logBuffer {
	return &logBuffer{w: w, buf: make([]byte, 0, logBufferSize)}
}

// Write keeps p, one log record, to be written with the others.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) >= logBufferSize {
		b.flushLocked()
	}
	return len(p), nil
}

// Flush writes what is held.
func (b *logBuffer) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *logBuffer) flushLocked() {
	if len(b.buf) == 0 {
		return
	}
	// A log that cannot be written has nowhere to report that.
	_, _ = b.w.Write(b.buf)
	b.buf = b.buf[:0]
}

// run flushes every logFlushEvery until ctx ends, then once more.
func (b *logBuffer) run(ctx context.Context) {
	t := time.NewTicker(logFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.Flush()
		case <-ctx.Done():
			b.Flush()
			return
		}
	}
}

// urgentHandler writes records of level WARN and above through to the log
// at once, with what was held before them.
type urgentHandler struct {
	slog.Handler
	logs *logBuffer
}

func (h urgentHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.logs.Flush()
	}
	return err
}

func (h urgentHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return urgentHandler{h.Handler.WithAttrs(attrs), h.logs}
}

func (h urgentHandler) WithGroup(name string) slog.Handler {
	return urgentHandler{h.Handler.WithGroup(name), h.logs}
}
