package main

import (
	"bufio"
	"context"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestVersionLine(t *testing.T) {
	rev := "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
	info := func(version string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.26.10", Main: debug.Module{Path: "github.com/quill-blog/quill", Version: version}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"tagged", info("v1.2.0", "vcs", "git", "vcs.revision", rev, "vcs.modified", "false"), "quill v1.2.0 (commit 1a2b3c4d5e6f, go1.26.10)"},
		{"pseudo-version, dirty", info("v0.0.0-20261203172216-1a2b3c4d5e6f+dirty", "vcs.revision", rev, "vcs.modified", "true"),
			"quill v0.0.0-20261203172216-1a2b3c4d5e6f+dirty (commit 1a2b3c4d5e6f dirty, go1.26.10)"},
		{"no VCS", info("(devel)"), "quill (devel) (go1.26.10)"},
		{"no version", info(""), "quill (devel) (go1.26.10)"},
		{"short revision", info("(devel)", "vcs.revision", "abc"), "quill (devel) (commit abc, go1.26.10)"},
		{"no Go version", &debug.BuildInfo{Main: debug.Module{Version: "v1.0.0"}}, "quill v1.0.0"},
		{"no build information", nil, "quill (devel) (unknown build)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionLine(tt.info); got != tt.want {
				t.Errorf("versionLine() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestVersionCommand checks quill version and --version through run.
func TestVersionCommand(t *testing.T) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("the test binary has no build information")
	}
	want := versionLine(info) + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Chdir(t.TempDir())
			stdout, stderr, err := runQuill(t, nil, args...)
			if err != nil || stdout != want || stderr != "" {
				t.Errorf("quill %s = %v, stdout %q, stderr %q; want stdout %q", args, err, stdout, stderr, want)
			}
			if !strings.Contains(stdout, runtime.Version()) {
				t.Errorf("quill %s printed %q, without the Go version %s", args, stdout, runtime.Version())
			}
		})
	}
	_, _, err := runQuill(t, nil, "version", "now")
	if _, isUsage := err.(*usageError); !isUsage {
		t.Errorf("quill version now = %v, want a usage error", err)
	}
	stdout, _, _ := runQuill(t, nil, "--help")
	if !strings.Contains(stdout, "quill version") {
		t.Errorf("the usage text does not list quill version:\n%s", stdout)
	}
}

// TestVersionBinary checks that the real binary reports what the go
// command stamped into it: `go version -m` reads the same build
// information from the file.
func TestVersionBinary(t *testing.T) {
	bin := quillBinary(t)
	got := quillCmd(t, t.TempDir(), nil, "", "version")
	if got.code != 0 || got.stderr != "" {
		t.Fatalf("quill version: exit %d, stderr %q", got.code, got.stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	// The first line is "PATH: GOVERSION"; then tab-separated rows:
	// "mod PATH VERSION", "build KEY=VALUE".
	info := &debug.BuildInfo{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for first := true; sc.Scan(); first = false {
		line := sc.Text()
		if first {
			_, info.GoVersion, _ = strings.Cut(line, ": ")
			continue
		}
		f := strings.Split(strings.TrimSpace(line), "\t")
		switch {
		case len(f) >= 3 && f[0] == "mod":
			info.Main.Version = f[2]
		case len(f) >= 2 && f[0] == "build":
			if k, v, ok := strings.Cut(f[1], "="); ok {
				info.Settings = append(info.Settings, debug.BuildSetting{Key: k, Value: v})
			}
		}
	}
	if want := versionLine(info) + "\n"; got.stdout != want {
		t.Errorf("quill version printed %q; go version -m says %q", got.stdout, want)
	}
	if !strings.HasPrefix(got.stdout, "quill ") || strings.Count(got.stdout, "\n") != 1 {
		t.Errorf("quill version printed %q, want one line starting with quill", got.stdout)
	}
}
