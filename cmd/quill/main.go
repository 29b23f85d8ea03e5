// Command quill is a blog server: the JSON API of the FastAPI blog
// tutorial, server-rendered pages and OpenAPI docs in one binary.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errHelp means --help was asked for and printed: exit status 0.
var errHelp = errors.New("help requested")

// exitCode prints err, if any, as one line and maps it to the exit status:
// 0 ok, 1 failure, 2 usage.
func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "quill: %s (see quill --help)\n", ue.msg)
		return 2
	default:
		fmt.Fprintf(stderr, "quill: %s\n", err)
		return 1
	}
}

const usage = `quill is a blog server.

Usage:
  quill [serve] [flags]               run the server (the default)
  quill migrate [up|status]           apply or list database migrations
  quill secret                        print a new random SECRET_KEY
  quill user create --username U --email E
                                      create an account (the password is prompted for)
  quill user set-password (--username U | --email E | --id N)
                                      set a new password; ends the account's sessions
  quill user delete (--username U | --email E | --id N)
                                      delete an account with its posts
  quill user sessions [--revoke-all] (--username U | --email E | --id N)
                                      list, or end, the account's sessions
  quill user verify-email (--username U | --email E | --id N)
                                      mark the account's address verified
  quill user factors (--username U | --email E | --id N)
                                      list the account's second factors and passkeys
  quill user reset-2fa (--username U | --email E | --id N)
                                      remove them; ends the account's sessions
  quill import-fastapi PATH [--media DIR] [--on-conflict=skip|rename]
                                      import the FastAPI blog tutorial's database
  quill health [--url URL]            exit 0 if the server at ADDR answers /health with 200
  quill version                       print the version, commit and Go version (also --version)
  quill backup FILE                   write a checked copy of the SQLite database, while it is in use
  quill restore FILE                  replace the SQLite database with a backup (quill stopped)

Run "quill COMMAND --help" for a command's flags.
`

// run is the whole program; main only adds the process's environment and
// exit status, so tests call run directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprint(stdout, usage)
		return errHelp
	} else if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		return version(args[1:], stdout, stderr)
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "secret":
		return secret(args, stdout, stderr)
	case "user":
		return user(ctx, args, getenv, stdin, stdout, stderr)
	case "import-fastapi":
		return importFastAPI(ctx, args, getenv, stdout, stderr)
	case "health":
		return health(ctx, args, getenv, stdout, stderr)
	case "version":
		return version(args, stdout, stderr)
	case "backup":
		return backup(ctx, args, getenv, stdout, stderr)
	case "restore":
		return restore(ctx, args, getenv, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return &usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}
