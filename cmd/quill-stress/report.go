package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// write prints the report as Markdown, for docs/reliability.md.
func (r *report) write(w io.Writer, o options, args []string) {
	mib := func(kib int64) string {
		if kib == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.0f MiB", float64(kib)/1024)
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	command := "go run ./cmd/quill-stress"
	if len(args) > 0 {
		command += " " + strings.Join(args, " ")
	}
	fmt.Fprintf(w, "### quill-stress, %s\n\n", r.date.Format("2006-01-02"))
	fmt.Fprintf(w, "Command: `%s`. Machine: %s/%s, %d CPUs (%s), %s.\n\n",
		command, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runtime.Version())
	extra := ""
	if len(o.env) > 0 {
		extra = ", " + strings.Join(o.env, ", ")
	}
	fmt.Fprintf(w, "Server: hash slots %s, ARGON2_MEMORY_KIB=%d (t=2, p=1), RATE_LIMITS=off%s, SQLite. Load generator on the same machine; load average %s at the start, %s at the end.\n\n",
		r.slots, o.memoryKiB, extra, r.loadBefore, r.loadAfter)

	fmt.Fprintln(w, "| measurement | figure |")
	fmt.Fprintln(w, "|---|---|")
	fmt.Fprintf(w, "| peak RSS of quill (VmHWM) before the login flood | %s |\n", mib(r.peakBefore))
	fmt.Fprintf(w, "| peak RSS of quill (VmHWM) after %d clients logged in for %v | %s (RSS at the end %s) |\n", o.logins, o.duration, mib(r.peakAfter), mib(r.rssAfter))
	codes := make([]int, 0, len(r.loginStatus))
	total := r.loginErrors
	for code, n := range r.loginStatus {
		codes = append(codes, code)
		total += n
	}
	slices.Sort(codes)
	var mix []string
	for _, code := range codes {
		mix = append(mix, fmt.Sprintf("%d × %d", r.loginStatus[code], code))
	}
	if r.loginErrors > 0 {
		mix = append(mix, fmt.Sprintf("%d × transport error", r.loginErrors))
	}
	fmt.Fprintf(w, "| logins sent during the flood (%.1f s) | %d: %s |\n", r.floodLength.Seconds(), total, strings.Join(mix, ", "))
	fmt.Fprintf(w, "| successful login latency during the flood, p50 / p99 | %s / %s |\n", ms(percentile(r.loginLatency, 50)), ms(percentile(r.loginLatency, 99)))
	me := func(s readStats) string {
		return fmt.Sprintf("%.0f req/s (p50 %s, p99 %s; %d failed)", s.perSecond(), ms(percentile(s.latency, 50)), ms(percentile(s.latency, 99)), s.failed)
	}
	fmt.Fprintf(w, "| GET /api/users/me, %d clients, no logins | %s |\n", o.readers, me(r.meIdle))
	fmt.Fprintf(w, "| GET /api/users/me, %d clients, during the flood | %s: %.0f%% of the above |\n", o.readers, me(r.meBusy), 100*r.meBusy.perSecond()/r.meIdle.perSecond())
	u, wr := percentile(r.unknown, 50), percentile(r.wrong, 50)
	fmt.Fprintf(w, "| median login, unknown account (%d tries) | %s |\n", len(r.unknown), ms(u))
	fmt.Fprintf(w, "| median login, wrong password (%d tries) | %s |\n", len(r.wrong), ms(wr))
	fmt.Fprintf(w, "| difference of the medians (target within 10%%) | %+.1f%% |\n", 100*(float64(u)-float64(wr))/float64(wr))
	l := percentile(r.legacyWrong, 50)
	fmt.Fprintf(w, "| median login, wrong password, account on a legacy hash (Argon2id m=%d, t=%d, p=%d; imported by import-fastapi) (%d tries) | %s |\n",
		legacyMemoryKiB, legacyPasses, legacyLanes, len(r.legacyWrong), ms(l))
	fmt.Fprintf(w, "| ratio of the medians, unknown account / wrong password | %.2f |\n", float64(u)/float64(wr))
	fmt.Fprintf(w, "| ratio of the medians, unknown account / wrong password on the legacy hash | %.2f |\n", float64(u)/float64(l))
}

// loadAverage is the 1-minute load average, from /proc/loadavg.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	one, _, _ := strings.Cut(string(data), " ")
	return one
}

// cpuModel names the processor, from /proc/cpuinfo where there is one.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown CPU"
}
