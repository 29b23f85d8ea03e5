// Command quill-stress measures how quill holds up when logins pile up:
// it builds and starts the real quill binary with
// Argon2 at 64 MiB, then
//
//   - measures GET /api/users/me throughput with no logins running;
//   - runs 200 clients that log in back to back (more than the hash slots
//     can take) while measuring /api/users/me again, and reports the status
//     mix of the logins and the peak resident memory of the quill process
//     (VmHWM);
//   - times 200 logins for unknown accounts against 200 with a wrong
//     password, one at a time, and compares the medians; and likewise 200
//     with a wrong password for an account still on a legacy hash, the
//     FastAPI tutorial's (pwdlib's Argon2id at 64 MiB, t=3, p=4), which it
//     brings in before the server starts as an operator would: a tutorial
//     database holding it, imported with quill import-fastapi.
//
// Run it from the repository: go run ./cmd/quill-stress. It prints a
// Markdown report for docs/reliability.md. Rate limits are off in the server it
// starts (RATE_LIMITS=off): every client here is 127.0.0.1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "quill-stress:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	quill     string        // a quill binary to run instead of building one
	memoryKiB int           // ARGON2_MEMORY_KIB for the server
	logins    int           // concurrent login clients
	duration  time.Duration // how long each throughput phase lasts
	readers   int           // concurrent /api/users/me clients
	tries     int           // logins per kind in the timing comparison
	env       []string      // extra KEY=VALUE settings for the server
}

// envFlag collects repeated -env KEY=VALUE flags.
type envFlag []string

func (e *envFlag) String() string { return strings.Join(*e, " ") }

func (e *envFlag) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quill-stress", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.quill, "quill", "", "path of a quill binary (default: go build ./cmd/quill)")
	fs.IntVar(&o.memoryKiB, "argon2-memory", 65536, "ARGON2_MEMORY_KIB of the server")
	fs.IntVar(&o.logins, "logins", 200, "concurrent login clients")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each throughput phase")
	fs.IntVar(&o.readers, "readers", 4, "concurrent GET /api/users/me clients")
	fs.IntVar(&o.tries, "tries", 200, "logins of each kind in the timing comparison")
	fs.Var((*envFlag)(&o.env), "env", "extra `KEY=VALUE` for the server's environment, such as GOMEMLIMIT=160MiB (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	rep, err := stress(ctx, o, stderr)
	if err != nil {
		return err
	}
	rep.write(stdout, o, args)
	return nil
}
