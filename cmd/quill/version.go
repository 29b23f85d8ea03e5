package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version prints what `quill version` and `quill --version` print.
func version(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quill version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: quill version\n\nPrints quill's version, the commit it was built from and the Go version, on one line.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return &usageError{"version takes no arguments"}
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(info))
	return nil
}

// buildVersion is the module version quill was built as: a tag, a
// pseudo-version made from the commit, or "(devel)".
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" {
		return "(devel)"
	}
	return info.Main.Version
}

// versionLine is `quill VERSION (commit REV[ dirty], GOVERSION)`: the
// module version ("(devel)" when the go command stamped none), the first
// 12 digits of the VCS revision, "dirty" when the tree had changes, and
// the Go version; the commit is left out when the build has none (go
// build -buildvcs=false, or outside a repository).
func versionLine(info *debug.BuildInfo) string {
	if info == nil {
		return "quill (devel) (unknown build)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	var parts []string
	if rev != "" {
		c := "commit " + rev[:min(len(rev), 12)]
		if dirty {
			c += " dirty"
		}
		parts = append(parts, c)
	}
	if info.GoVersion != "" {
		parts = append(parts, info.GoVersion)
	}
	if len(parts) == 0 {
		return "quill " + v
	}
	return "quill " + v + " (" + strings.Join(parts, ", ") + ")"
}
