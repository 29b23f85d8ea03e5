package quillproc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Memory returns the process's resident set size now and at its peak, in
// bytes, from /proc/PID/status (VmRSS and VmHWM). The peak is since the
// process started.
func (p *Process) Memory() (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid()))
	if err != nil {
		return 0, 0, err
	}
	return parseStatus(b)
}

// parseStatus reads VmRSS and VmHWM from a /proc/PID/status, in bytes.
func parseStatus(b []byte) (rss, peak int64, err error) {
	rss, peak = -1, -1
	for line := range strings.SplitSeq(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("malformed %s in /proc/PID/status: %q", name, value)
		}
		if name == "VmRSS" {
			rss = kib << 10
		} else {
			peak = kib << 10
		}
	}
	if rss < 0 || peak < 0 {
		return 0, 0, errors.New("no VmRSS or VmHWM in /proc/PID/status")
	}
	return rss, peak, nil
}

// CPUTime returns the CPU time, user and system, that all the threads of
// the process have used so far, from /proc/PID/stat, to the clock tick
// (10 ms).
func (p *Process) CPUTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid()))
	if err != nil {
		return 0, err
	}
	return parseStat(b)
}

// parseStat reads utime and stime from a /proc/PID/stat.
func parseStat(b []byte) (time.Duration, error) {
	// The command name, in parentheses, may hold spaces and parentheses:
	// fields count from the last ")". utime and stime are fields 14 and
	// 15 of the whole line, 12 and 13 after the name.
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
	const ticksPerSecond = 100 // USER_HZ, 100 on every Linux there is
	return time.Duration(utime+stime) * time.Second / ticksPerSecond, nil
}
