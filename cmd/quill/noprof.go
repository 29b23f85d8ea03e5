//go:build !quillpprof

package main

import "log/slog"

// startProfiler does nothing: see pprof.go, built only with -tags
// quillpprof for cmd/quill-bench.
func startProfiler(func(string) string, *slog.Logger) {}
