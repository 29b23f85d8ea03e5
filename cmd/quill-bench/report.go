package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

func (b *bench) printReport() {
	fmt.Fprintf(b.out, "\n%s\n", b.table())
}

func (b *bench) table() string {
	var s strings.Builder
	s.WriteString("| figure | quill | baseline (same run) | ratio | target | verdict |\n")
	s.WriteString("|---|---|---|---|---|---|\n")
	dash := func(v string) string {
		if v == "" {
			return "—"
		}
		return v
	}
	for _, r := range b.rows {
		fmt.Fprintf(&s, "| %s | %s | %s | %s | %s | %s |\n",
			r.figure, r.quill, dash(r.baseline), dash(r.ratio), r.target, r.verdict)
	}
	return s.String()
}

// machine describes where the run happened.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%d cores (GOMAXPROCS %d), %s%s, %s %s/%s",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), model, kernel, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// commit names the checked-out commit, and whether the tree had changes.
func commit(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "log", "-1", "--format=%h %s").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}

// runsMarker is the line of docs/benchmarks.md under which runs are added,
// newest first.
const runsMarker = "<!-- quill-bench adds runs below this line, newest first -->"

// section is this run's part of docs/benchmarks.md.
func (b *bench) section() string {
	var s strings.Builder
	cmd := "go run ./cmd/quill-bench"
	if len(b.opts.args) > 0 {
		cmd += " " + strings.Join(b.opts.args, " ")
	}
	fmt.Fprintf(&s, "### Run of %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&s, "- command: `%s` (took %.0f s)\n", cmd, time.Since(b.start).Seconds())
	fmt.Fprintf(&s, "- commit: %s\n", commit(context.Background(), b.root))
	fmt.Fprintf(&s, "- machine: %s\n", machine())
	fmt.Fprintf(&s, "- load generator: quill-bench's own (HTTP/1.1 keep-alive, prebuilt requests), on the same machine\n")
	if b.opts.quick {
		s.WriteString("- **quick run**: fewer posts and rounds; a smoke test, not the figures of record\n")
	}
	fmt.Fprintf(&s, "- %d round(s) per figure, each target run followed by its baseline run\n\n", b.opts.rounds)
	s.WriteString(b.table())
	s.WriteString("\n<details><summary>every run</summary>\n\n```\n")
	for _, r := range b.runs {
		s.WriteString(r + "\n")
	}
	s.WriteString("```\n\n</details>\n\n")
	return s.String()
}

// record adds this run's section to the file at path, under runsMarker.
func (b *bench) record(path string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	doc := string(old)
	if !strings.Contains(doc, runsMarker) {
		if doc == "" {
			doc = "# quill benchmarks\n\nRun with `go run ./cmd/quill-bench`.\n\n## Runs\n\n"
		}
		doc = strings.TrimRight(doc, "\n") + "\n\n" + runsMarker + "\n"
	}
	i := strings.Index(doc, runsMarker) + len(runsMarker)
	doc = doc[:i] + "\n\n" + b.section() + strings.TrimLeft(doc[i:], "\n")
	return os.WriteFile(path, []byte(doc), 0o644)
}
