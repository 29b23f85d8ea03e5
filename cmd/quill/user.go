package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore"
)

const userUsage = `Usage: quill user COMMAND [flags]

Administer accounts in the database DATABASE_URL names.

Commands:
  create --username U --email E                    create an account
  set-password (--username U | --email E | --id N) set a new password; ends every session and reset link
  delete (--username U | --email E | --id N)       delete an account with its posts and sessions
  sessions (--username U | --email E | --id N)     list the account's sessions
  sessions --revoke-all (…)                        end every session of the account

Passwords are never flags: they are read from a prompt that does not echo,
or, when standard input is not a terminal, from its first line.

Run "quill user COMMAND --help" for a command's flags.
`

// user runs the account administration commands.
func user(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{"user needs a command: create, set-password, delete or sessions"}
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
	}
	return &usageError{fmt.Sprintf("unknown user command %q; use create, set-password, delete or sessions", cmd)}
}

func userCreate(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var username, email string
	cfg, fs, err := loadCommandConfig(command{
		name:  "user create",
		args:  " --username U --email E",
		about: "Creates an account. The password is read from a prompt, or from the first line of standard input.",
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
	u := &blog.User{Username: v.Username(username), Email: v.Email(email)}
	if err := problems(v); err != nil {
		return err
	}

	store, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer store.Close()
	// Say so before asking for a password that would be wasted.
	if _, err := store.UserByLogin(ctx, blog.LoginKey(u.Username)); err == nil {
		return fmt.Errorf("username %q is already registered", u.Username)
	}
	if _, err := store.UserByLogin(ctx, u.Email); err == nil {
		return fmt.Errorf("email %s is already registered", u.Email)
	}

	if u.PasswordHash, err = newPasswordHash(ctx, cfg, stdin, stderr, u); err != nil {
		return err
	}
	if err := store.CreateUser(ctx, u); err != nil {
		switch {
		case errors.Is(err, blog.ErrUsernameTaken):
			return fmt.Errorf("username %q is already registered", u.Username)
		case errors.Is(err, blog.ErrEmailTaken):
			return fmt.Errorf("email %s is already registered", u.Email)
		}
		return err
	}
	fmt.Fprintf(stdout, "created user %s\n", describe(u))
	return nil
}

func userSetPassword(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var sel selector
	cfg, store, u, err := openAccount(ctx, &sel, command{
		name:  "user set-password",
		args:  " (--username U | --email E | --id N)",
		about: "Sets a new password and ends every session of the account. The password is read from a prompt, or from the first line of standard input.",
		flags: sel.define,
	}, args, getenv, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	hash, err := newPasswordHash(ctx, cfg, stdin, stderr, u)
	if err != nil {
		return err
	}
	active, err := store.Sessions(ctx, u.ID, time.Now())
	if err != nil {
		return err
	}
	// One transaction: the hash, every session and any reset link.
	err = store.SetPassword(ctx, u.ID, u.PasswordHash, hash, "")
	switch {
	case errors.Is(err, blog.ErrInvalidToken):
		return fmt.Errorf("the password of user %s changed while you typed; nothing was changed, try again", describe(u))
	case errors.Is(err, blog.ErrUserNotFound):
		return fmt.Errorf("user %s was deleted while you typed", describe(u))
	case err != nil:
		return err
	}
	// An account locked out by failed logins opens again.
	for _, key := range []string{blog.LoginKey(u.Username), u.Email} {
		if err := store.ClearLoginFailures(ctx, key); err != nil {
			return fmt.Errorf("the password is set, but clearing failed logins failed: %w", err)
		}
	}
	fmt.Fprintf(stdout, "set the password of user %s and ended %s\n", describe(u), count(len(active), "session"))
	return nil
}

func userDelete(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var sel selector
	_, store, u, err := openAccount(ctx, &sel, command{
		name:  "user delete",
		args:  " (--username U | --email E | --id N)",
		about: "Deletes an account with its posts, picture and sessions. There is no undo.",
		flags: sel.define,
	}, args, getenv, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	page, err := store.Posts(ctx, u.ID, blog.PageRequest{Limit: 1})
	if err != nil {
		return err
	}
	if err := store.DeleteUser(ctx, u.ID); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "deleted user %s with %s\n", describe(u), count(page.Total, "post"))
	return nil
}

func userSessions(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		sel       selector
		revokeAll bool
	)
	_, store, u, err := openAccount(ctx, &sel, command{
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
	defer store.Close()
	if revokeAll {
		ended, err := endSessions(ctx, store, u.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "ended %s of user %s\n", count(ended, "session"), describe(u))
		return nil
	}
	sessions, err := store.Sessions(ctx, u.ID, time.Now())
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

// endSessions ends every session of the user and says how many were active.
func endSessions(ctx context.Context, store *sqlstore.Store, userID int64) (int, error) {
	active, err := store.Sessions(ctx, userID, time.Now())
	if err != nil {
		return 0, err
	}
	if err := store.DeleteSessions(ctx, userID, ""); err != nil {
		return 0, err
	}
	return len(active), nil
}

// selector names one account by exactly one of --username, --email, --id.
// openAccount does what every command acting on one account starts with:
// it reads the configuration (cmd's flags include sel's), checks that sel
// names exactly one account, opens the store and finds the account. The
// caller closes the store.
func openAccount(ctx context.Context, sel *selector, cmd command, args []string, getenv func(string) string, stderr io.Writer) (config, *sqlstore.Store, *blog.User, error) {
	cfg, fs, err := loadCommandConfig(cmd, args, getenv, stderr)
	if err != nil {
		return cfg, nil, nil, err
	}
	if err := sel.check(fs); err != nil {
		return cfg, nil, nil, err
	}
	store, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return cfg, nil, nil, err
	}
	u, err := sel.find(ctx, store)
	if err != nil {
		store.Close()
		return cfg, nil, nil, err
	}
	return cfg, store, u, nil
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
func (s *selector) find(ctx context.Context, store *sqlstore.Store) (*blog.User, error) {
	var (
		u    *blog.User
		err  error
		what string
	)
	switch {
	case s.id != 0:
		u, err = store.User(ctx, s.id)
		what = fmt.Sprintf("id %d", s.id)
	case s.email != "":
		email := strings.ToLower(strings.TrimSpace(s.email))
		if !strings.Contains(email, "@") {
			return nil, fmt.Errorf("%q is not an email address", s.email)
		}
		u, err = store.UserByLogin(ctx, email)
		what = "email " + email
	default:
		if strings.Contains(s.username, "@") {
			return nil, fmt.Errorf("%q is not a username (usernames have no @); use --email", s.username)
		}
		u, err = store.UserByLogin(ctx, blog.LoginKey(s.username))
		what = fmt.Sprintf("username %q", s.username)
	}
	if errors.Is(err, blog.ErrUserNotFound) {
		return nil, fmt.Errorf("no user with %s", what)
	}
	return u, err
}

// newPasswordHash reads a new password for u, checks it as the API does
// (length, then the strength policy) and hashes it with the configured
// Argon2 parameters.
func newPasswordHash(ctx context.Context, cfg config, stdin io.Reader, stderr io.Writer, u *blog.User) (string, error) {
	pw, err := readPassword(stdin, stderr)
	if err != nil {
		return "", err
	}
	var v blog.Validator
	pw = v.Password("password", pw)
	if err := problems(v); err != nil {
		return "", err
	}
	if msg := auth.NewPolicy().Check(pw, u.Username, u.Email); msg != "" {
		return "", fmt.Errorf("invalid password: %s", msg)
	}
	hasher := auth.NewHasher(cfg.Argon2, 1, hashWait, rand.Reader)
	return hasher.Hash(ctx, pw)
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
func problems(v blog.Validator) error {
	if len(v.Problems) == 0 {
		return nil
	}
	msgs := make([]string, len(v.Problems))
	for i, p := range v.Problems {
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
