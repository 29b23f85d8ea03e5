// Command quill-bench measures quill's hot paths against baselines run on
// the same machine in the same run, and records the figures in
// docs/benchmarks.md.
//
// It builds the real quill binary, seeds SQLite databases (10,000 and
// 1,000,000 posts) through internal/sqlstore, starts quill on them with
// RATE_LIMITS=off and drives it with its own keep-alive HTTP load
// generator. Target and baseline runs alternate (A B A B …) so both see the
// same noise, and each figure is reported as the median of the pairwise
// ratios. See docs/benchmarks.md for what each figure means.
//
// Usage:
//
//	go run ./cmd/quill-bench            # full run, about 4 minutes on 2 cores
//	go run ./cmd/quill-bench -quick     # smaller and shorter, under a minute
//	go run ./cmd/quill-bench -profile DIR -only me,posts
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/quill-blog/quill/internal/quillproc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "quill-bench: %v\n", err)
		os.Exit(1)
	}
}

// options are the command line's settings.
type options struct {
	quick     bool
	bigPosts  int
	smallPost int
	rounds    int           // A B pairs per figure
	dur       time.Duration // one request-rate run
	hashDur   time.Duration // one login, registration or hash-rate run
	out       string        // the file to add the run to (docs/benchmarks.md); "" for none
	profile   string        // directory for CPU profiles of quill, or ""
	keep      bool
	before    string   // a git revision to compare with instead of the baselines
	env       []string // KEY=VALUE settings of the quill measured (not of -before's)
	only      map[string]bool
	args      []string
}

// figureNames lists the groups of figures, in the order they run.
var figureNames = []string{"startup", "me", "posts", "login", "register", "pages", "create", "memory", "search"}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	o := options{args: args}
	fs := flag.NewFlagSet("quill-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.quick, "quick", false, "a smaller, shorter run (100,000 posts, one round): a smoke test, not the figures of record")
	fs.StringVar(&o.out, "out", "docs/benchmarks.md", "file to add this run's section to (\"\" for none)")
	fs.StringVar(&o.profile, "profile", "", "write CPU profiles of quill, one per figure, to this directory (builds quill with -tags quillpprof; the run is not recorded)")
	fs.StringVar(&o.before, "before", "", "compare with quill built at this git revision instead of the usual baselines (me, posts, login, register; the run is not recorded)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory with the databases and logs")
	fs.Func("env", "KEY=VALUE: a setting of the quill measured, not of -before's (repeatable; the run is not recorded)", func(kv string) error {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("%q is not KEY=VALUE", kv)
		}
		o.env = append(o.env, kv)
		return nil
	})
	only := fs.String("only", "", "comma-separated figures to run, of "+strings.Join(figureNames, ","))
	fs.IntVar(&o.bigPosts, "posts", 1_000_000, "posts in the large database")
	rounds := fs.Int("rounds", 0, "target/baseline pairs per figure (default 3, or 1 with -quick)")
	dur := fs.Duration("dur", 0, "length of one request-rate run (default 3s, or 1s with -quick)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.smallPost, o.rounds, o.dur, o.hashDur = 10_000, 3, 3*time.Second, 4*time.Second
	if o.quick {
		if !flagSet(fs, "posts") {
			o.bigPosts = 100_000
		}
		o.rounds, o.dur, o.hashDur = 1, time.Second, 1500*time.Millisecond
	}
	if *rounds > 0 {
		o.rounds = *rounds
	}
	if *dur > 0 {
		o.dur = *dur
	}
	if *only != "" {
		o.only = map[string]bool{}
		for _, n := range strings.Split(*only, ",") {
			if !contains(figureNames, n) {
				return o, fmt.Errorf("-only: unknown figure %q; use some of %s", n, strings.Join(figureNames, ","))
			}
			o.only[n] = true
		}
	}
	if o.profile != "" || o.only != nil || o.before != "" || o.env != nil || *rounds > 0 || *dur > 0 {
		o.out = "" // not a full run of record
	}
	return o, nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func (o options) want(name string) bool { return o.only == nil || o.only[name] }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "bare" {
		return runBare(ctx, args[1:])
	}
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	root, err := quillproc.ModuleRoot(ctx)
	if err != nil {
		return fmt.Errorf("run quill-bench inside the quill module (go run ./cmd/quill-bench): %w", err)
	}
	tmp, err := os.MkdirTemp("", "quill-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(stdout, "keeping %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return err
		}
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	b := &bench{
		opts:   o,
		root:   root,
		tmp:    tmp,
		secret: hex.EncodeToString(secret),
		out:    stdout,
		start:  time.Now(),
	}
	defer b.stopAll()
	if err := b.run(ctx); err != nil {
		return err
	}
	b.printReport()
	if o.out != "" {
		path := o.out
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		if err := b.record(path); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nrecorded in %s\n", path)
	}
	return nil
}
