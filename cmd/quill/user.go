package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/mail"
)

const userUsage = `Usage: quill user COMMAND [flags]

Administer accounts in the database DATABASE_URL names.

Commands:
  create --username U --email E                    create an account; its address is mailed a link to confirm it
  set-password (--username U | --email E | --id N) set a new password; ends every session and reset link
  delete (--username U | --email E | --id N)       delete an account with its posts and sessions
  sessions (--username U | --email E | --id N)     list the account's sessions
  sessions --revoke-all (…)                        end every session of the account
  verify-email (--username U | --email E | --id N) mark the account's address verified, vouching for it
  factors (--username U | --email E | --id N)      list the account's second factors (TOTP, recovery codes) and passkeys
  reset-2fa (--username U | --email E | --id N)    remove them, for a user who lost them; ends every session

Passwords are never flags: they are read from a prompt that does not echo,
or, when standard input is not a terminal, from its first line.

Mail (a new account's link, the notice of a new password) goes through
SMTP_URL's server; when it is unset, it is written to standard error.

Run "quill user COMMAND --help" for a command's flags.
`

// user runs the account administration commands.
func user(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{"user needs a command: create, set-password, delete, sessions, verify-email, factors or reset-2fa"}
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, userUsage)
		return errHelp
	case "create":
		return userCreate(ctx, args, getenv, stdin, stdout, stderr)
	case "set-password":
		return userSetPassword(ctx, args, getenv, stdin, stdout, stderr)
	case "delete":
		return userDelete(ctx, args, getenv, stdout, stderr)
	case "sessions":
		return userSessions(ctx, args, getenv, stdout, stderr)
	case "verify-email":
		return userVerifyEmail(ctx, args, getenv, stdout, stderr)
	case "factors":
		return userFactors(ctx, args, getenv, stdout, stderr)
	case "reset-2fa":
		return userReset2FA(ctx, args, getenv, stdout, stderr)
	}
	return &usageError{fmt.Sprintf("unknown user command %q; use create, set-password, delete, sessions, verify-email, factors or reset-2fa", cmd)}
}

func userCreate(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var username, email string
	cfg, fs, err := loadCommandConfig(command{
		name:  "user create",
		args:  " --username U --email E",
		about: "Creates an account, and mails its address a link to confirm it. The password is read from a prompt, or from the first line of standard input.",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&username, "username", "", "the new account's username (required)")
			fs.StringVar(&email, "email", "", "the new account's email address (required)")
		},
	}, args, getenv, stderr)
	if err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if username == "" || email == "" {
		return &usageError{"user create needs --username and --email"}
	}
	var v blog.Validator
	username, email = v.Username(username), v.Email(email)
	if err := problems(v.Problems); err != nil {
		return err
	}

	quill, done, err := openMailingApp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer done()
	// Say so before asking for a password that would be wasted.
	if err := quill.CheckAvailable(ctx, username, email); err != nil {
		return taken(err, username, email)
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	u, err := quill.Register(ctx, app.Registration{Username: username, Email: email, Password: password})
	if err != nil {
		return taken(err, username, email)
	}
	fmt.Fprintf(stdout, "created user %s\n", describe(u))
	return nil
}

// taken says which name is taken, or what else is wrong with a new
// account.
func taken(err error, username, email string) error {
	var e *blog.Error
	switch {
	case errors.Is(err, blog.ErrUsernameTaken):
		return fmt.Errorf("username %q is already registered (or one that looks the same)", username)
	case errors.Is(err, blog.ErrEmailTaken):
		return fmt.Errorf("email %s is already registered", email)
	case errors.As(err, &e) && e.Kind == blog.Unprocessable:
		return problems(e.Problems)
	}
	return err
}

func userSetPassword(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var sel selector
	quill, done, u, err := openAccount(ctx, &sel, command{
		name:  "user set-password",
		args:  " (--username U | --email E | --id N)",
		about: "Sets a new password and ends every session of the account, whose address is told. The password is read from a prompt, or from the first line of standard input.",
		flags: sel.define,
	}, args, getenv, stderr)
	if err != nil {
		return err
	}
	defer done()
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	// One transaction: the hash, every session, any reset link, and the
	// login throttle of the account (one locked out by failed logins
	// opens again).
	ended, err := quill.SetPassword(ctx, u, password)
	var e *blog.Error
	switch {
	case errors.Is(err, blog.ErrInvalidToken):
		return fmt.Errorf("the password of user %s changed while you typed; nothing was changed, try again", describe(u))
	case errors.Is(err, blog.ErrUserNotFound):
		return fmt.Errorf("user %s was deleted while you typed", describe(u))
	case errors.As(err, &e) && e.Kind == blog.Unprocessable:
		return problems(e.Problems)
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "set the password of user %s and ended %s\n", describe(u), count(ended, "session"))
	return nil
}

func userDelete(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var sel selector
	quill, done, u, err := openAccount(ctx, &sel, command{
		name:  "user delete",
		args:  " (--username U | --email E | --id N)",
		about: "Deletes an account with its posts, picture and sessions. There is no undo.",
		flags: sel.define,
	}, args, getenv, stderr)
	if err != nil {
		return err
	}
	defer done()
	posts, err := quill.DeleteUser(ctx, u.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "deleted user %s with %s\n", describe(u), count(posts, "post"))
	return nil
}

func userSessions(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		sel       selector
		revokeAll bool
	)
	quill, done, u, err := openAccount(ctx, &sel, command{
		name:  "user sessions",
		args:  " [--revoke-all] (--username U | --email E | --id N)",
		about: "Lists the account's active sessions, or with --revoke-all ends them all: every token of the account stops working at once.",
		flags: func(fs *flag.FlagSet) {
			sel.define(fs)
			fs.BoolVar(&revokeAll, "revoke-all", false, "end every session of the account")
		},
	}, args, getenv, stderr)
	if err != nil {
		return err
	}
	defer done()
	if revokeAll {
		ended, err := quill.EndSessions(ctx, u.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "ended %s of user %s\n", count(ended, "session"), describe(u))
		return nil
	}
	sessions, err := quill.UserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	if len(sessions) == 0 {
		fmt.Fprintf(stdout, "user %s has no active sessions\n", describe(u))
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tLAST USED\tEXPIRES\tIP\tUSER AGENT")
	for _, s := range sessions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.CreatedAt.Format(time.RFC3339),
			s.LastUsedAt.Format(time.RFC3339), s.ExpiresAt.Format(time.RFC3339), s.IP, strings.ToValidUTF8(s.UserAgent, "?"))
	}
	return tw.Flush()
}

// userVerifyEmail marks an account's address verified.
func userVerifyEmail(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var sel selector
	quill, done, u, err := openAccount(ctx, &sel, command{
		name:  "user verify-email",
		args:  " (--username U | --email E | --id N)",
		about: "Marks the account's address verified, as if its owner had opened the link mailed to it: you vouch for the address.",
		flags: sel.define,
	}, args, getenv, stderr)
	if err != nil {
		return err
	}
	defer done()
	if u.EmailVerified() {
		fmt.Fprintf(stdout, "the address of user %s is verified already\n", describe(u))
		return nil
	}
	err = quill.MarkEmailVerified(ctx, u)
	if errors.Is(err, blog.ErrInvalidVerification) {
		return fmt.Errorf("the address of user %s changed meanwhile; nothing was changed, try again", describe(u))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "marked the address of user %s verified\n", describe(u))
	return nil
}

// openApp opens the database cfg names and returns the application layer
// on it for one command, and the function that closes it. Hashing gets
// one slot: a command hashes one password at most.
func openApp(ctx context.Context, cfg config) (*app.App, func(), error) {
	return openMailingApp(ctx, cfg, nil)
}

// openMailingApp is openApp for a command that may mail (a new account's
// verification link, a password notice): through SMTP_URL's server, or,
// when it is unset, written to stderr. Its done function sends what was
// queued before it closes the database; a mail that fails is reported on
// stderr and fails nothing. With stderr nil, no mail is sent.
func openMailingApp(ctx context.Context, cfg config, stderr io.Writer) (*app.App, func(), error) {
	var (
		logger *slog.Logger
		mailer app.Mailer
	)
	if stderr != nil {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		mailer = mail.NewLog(slog.New(slog.NewTextHandler(stderr, nil)))
		if cfg.SMTPURL != "" {
			var err error
			if mailer, err = newMailer(cfg, logger); err != nil {
				return nil, nil, err
			}
		}
	}
	store, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	quill := newApp(cfg, store, logger, 1, mailer)
	return quill, func() {
		if stderr != nil {
			quill.SendQueuedMail(context.WithoutCancel(ctx))
		}
		store.Close()
	}, nil
}

// selector names one account by exactly one of --username, --email, --id.
// openAccount does what every command acting on one account starts with:
// it reads the configuration (cmd's flags include sel's), checks that sel
// names exactly one account, opens the database and finds the account.
// The caller calls done when it is finished.
func openAccount(ctx context.Context, sel *selector, cmd command, args []string, getenv func(string) string, stderr io.Writer) (quill *app.App, done func(), u *blog.User, err error) {
	cfg, fs, err := loadCommandConfig(cmd, args, getenv, stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := sel.check(fs); err != nil {
		return nil, nil, nil, err
	}
	if quill, done, err = openMailingApp(ctx, cfg, stderr); err != nil {
		return nil, nil, nil, err
	}
	if u, err = sel.find(ctx, quill); err != nil {
		done()
		return nil, nil, nil, err
	}
	return quill, done, u, nil
}

type selector struct {
	username, email string
	id              int64
}

func (s *selector) define(fs *flag.FlagSet) {
	fs.StringVar(&s.username, "username", "", "the account's username (case and width do not matter)")
	fs.StringVar(&s.email, "email", "", "the account's email address")
	fs.Int64Var(&s.id, "id", 0, "the account's id")
}

// check reports a usage error unless exactly one of the flags was given
// and there are no arguments.
func (s *selector) check(fs *flag.FlagSet) error {
	if err := noArgs(fs); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if n := btoi(given["username"]) + btoi(given["email"]) + btoi(given["id"]); n != 1 {
		return &usageError{fmt.Sprintf("%s needs exactly one of --username, --email or --id", strings.TrimPrefix(fs.Name(), "quill "))}
	}
	if given["id"] && s.id < 1 {
		return &usageError{"--id must be a positive number"}
	}
	if (given["username"] && s.username == "") || (given["email"] && s.email == "") {
		return &usageError{"--username and --email need a value"}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// find returns the account, or an error naming what was looked for.
func (s *selector) find(ctx context.Context, quill *app.App) (*blog.User, error) {
	var what string
	switch {
	case s.id != 0:
		what = fmt.Sprintf("id %d", s.id)
	case s.email != "":
		email := strings.ToLower(strings.TrimSpace(s.email))
		if !strings.Contains(email, "@") {
			return nil, fmt.Errorf("%q is not an email address", s.email)
		}
		what = "email " + email
	default:
		if strings.Contains(s.username, "@") {
			return nil, fmt.Errorf("%q is not a username (usernames have no @); use --email", s.username)
		}
		what = fmt.Sprintf("username %q", s.username)
	}
	u, err := quill.FindUser(ctx, app.Selector{ID: s.id, Username: s.username, Email: s.email})
	if errors.Is(err, blog.ErrUserNotFound) {
		return nil, fmt.Errorf("no user with %s", what)
	}
	return u, err
}

// maxPasswordLine bounds what is read as a password line: the longest
// password (256 code points of up to 4 bytes) and a line ending.
const maxPasswordLine = 4*blog.MaxPassword + 2

// readPassword asks for a password twice without echo when stdin is a
// terminal; otherwise it reads the first line of stdin, so scripts can pipe
// one in. A password is never a flag: flags end up in shell history and in
// the process list.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		ask := func(prompt string) (string, error) {
			fmt.Fprint(stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(stderr)
			if err != nil {
				return "", fmt.Errorf("read password: %w", err)
			}
			return string(b), nil
		}
		pw, err := ask("New password: ")
		if err != nil {
			return "", err
		}
		again, err := ask("Repeat the password: ")
		if err != nil {
			return "", err
		}
		if pw != again {
			return "", errors.New("the passwords differ; nothing was changed")
		}
		return pw, nil
	}
	line, err := bufio.NewReaderSize(io.LimitReader(stdin, maxPasswordLine+1), maxPasswordLine+1).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	if len(line) > maxPasswordLine {
		return "", errors.New("the password line on standard input is too long")
	}
	if line == "" {
		return "", errors.New("no password: type it at the prompt, or give it as one line on standard input")
	}
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r"), nil
}

// problems turns validation problems into one error naming each field.
func problems(ps []blog.Problem) error {
	if len(ps) == 0 {
		return nil
	}
	msgs := make([]string, len(ps))
	for i, p := range ps {
		field := "value"
		if len(p.Loc) > 0 {
			field = fmt.Sprint(p.Loc[len(p.Loc)-1])
		}
		msgs[i] = "invalid " + field + ": " + p.Msg
	}
	return errors.New(strings.Join(msgs, "; "))
}

// noArgs reports a usage error if a command that takes only flags got an
// argument.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("%s takes no arguments, got %q", strings.TrimPrefix(fs.Name(), "quill "), fs.Arg(0))}
	}
	return nil
}

// describe names an account in messages: 7 "alice" <alice@example.com>.
func describe(u *blog.User) string {
	return fmt.Sprintf("%d %q <%s>", u.ID, u.Username, u.Email)
}

// count is "1 post", "3 posts".
func count[N int | int64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
