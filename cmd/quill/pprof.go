//go:build quillpprof

package main

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
)

// startProfiler serves net/http/pprof on QUILL_PPROF_ADDR, for
// cmd/quill-bench's -profile. It exists only in binaries built with
// -tags quillpprof: the product never serves profiles.
func startProfiler(getenv func(string) string, logger *slog.Logger) {
	addr := getenv("QUILL_PPROF_ADDR")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		logger.Warn("serving pprof (a -tags quillpprof build)", "addr", addr)
		if err := http.ListenAndServe(addr, mux); err != nil {
			logger.Error("pprof", "err", err)
		}
	}()
}
