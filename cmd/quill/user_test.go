package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// cliStep is one run of the binary and what it must print and return. An
// empty want matches anything; wantOut and wantErr are matched against the
// whole of stdout and stderr as regular expressions.
type cliStep struct {
	name    string
	args    []string
	stdin   string
	code    int
	wantOut string
	wantErr string
}

func runSteps(t *testing.T, dir string, env []string, steps []cliStep) {
	t.Helper()
	for _, st := range steps {
		got := quillCmd(t, dir, env, st.stdin, st.args...)
		if got.code != st.code {
			t.Errorf("%s: quill %s exited %d, want %d\nstdout: %s\nstderr: %s",
				st.name, strings.Join(st.args, " "), got.code, st.code, got.stdout, got.stderr)
			continue
		}
		if st.wantOut != "" && !regexp.MustCompile(st.wantOut).MatchString(got.stdout) {
			t.Errorf("%s: quill %s stdout = %q, want match for %q", st.name, strings.Join(st.args, " "), got.stdout, st.wantOut)
		}
		if st.wantErr != "" && !regexp.MustCompile(st.wantErr).MatchString(got.stderr) {
			t.Errorf("%s: quill %s stderr = %q, want match for %q", st.name, strings.Join(st.args, " "), got.stderr, st.wantErr)
		}
	}
}

func TestUserCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbURL := "sqlite:///" + filepath.Join(dir, "quill.db")
	env := []string{"DATABASE_URL=" + dbURL}
	const pw = "correct horse battery staple\n"

	runSteps(t, dir, env, []cliStep{
		{name: "create", args: []string{"user", "create", "--username", "alice", "--email", "Alice@Example.com"}, stdin: pw,
			wantOut: `^created user 1 "alice" <alice@example\.com>\n$`},
		{name: "create, flags after an argument-less command", args: []string{"user", "create", "--email=bob@example.com", "--username=Bob"},
			stdin: "crlf terminated phrase\r\n", wantOut: `^created user 2 "Bob" <bob@example\.com>\n$`},
		{name: "create, username taken in another case", args: []string{"user", "create", "--username", "ALICE", "--email", "a2@example.com"},
			stdin: pw, code: 1, wantErr: `^quill: username "ALICE" is already registered \(or one that looks the same\)\n$`},
		{name: "create, email taken", args: []string{"user", "create", "--username", "alice2", "--email", "ALICE@example.com"},
			stdin: pw, code: 1, wantErr: `^quill: email alice@example\.com is already registered\n$`},
		{name: "create, short password", args: []string{"user", "create", "--username", "carol", "--email", "carol@example.com"},
			stdin: "short\n", code: 1, wantErr: `^quill: invalid password: String should have at least 8 characters\n$`},
		{name: "create, common password", args: []string{"user", "create", "--username", "carol", "--email", "carol@example.com"},
			stdin: "password1\n", code: 1, wantErr: `^quill: invalid password: This password is too common`},
		{name: "create, password holds the username", args: []string{"user", "create", "--username", "carol", "--email", "c@example.com"},
			stdin: "carol's own secret\n", code: 1, wantErr: `^quill: invalid password: Password must not contain your username\n$`},
		{name: "create, no password on stdin", args: []string{"user", "create", "--username", "carol", "--email", "carol@example.com"},
			code: 1, wantErr: `^quill: no password: type it at the prompt, or give it as one line on standard input\n$`},
		{name: "create, invalid username and email", args: []string{"user", "create", "--username", "carol smith", "--email", "carol"},
			stdin: pw, code: 1, wantErr: `^quill: invalid username: Username may contain only .*; invalid email: value is not a valid email address: an email address must have an @-sign\n$`},
		{name: "create, missing email", args: []string{"user", "create", "--username", "carol"}, stdin: pw,
			code: 2, wantErr: `^quill: user create needs --username and --email \(see quill --help\)\n$`},
		{name: "create, password flag", args: []string{"user", "create", "--username", "carol", "--email", "carol@example.com", "--password", "x"},
			code: 2, wantErr: `flag provided but not defined: -password`},
		{name: "create, stray argument", args: []string{"user", "create", "--username", "carol", "--email", "carol@example.com", "extra"},
			code: 2, wantErr: `user create takes no arguments, got "extra"`},

		{name: "set-password by username in another case", args: []string{"user", "set-password", "--username", "ALICE"},
			stdin: "a brand new passphrase\n", wantOut: `^set the password of user 1 "alice" <alice@example\.com> and ended 0 sessions\n$`},
		{name: "set-password, weak", args: []string{"user", "set-password", "--id", "1"}, stdin: "12345678\n",
			code: 1, wantErr: `invalid password: This password is too common`},
		{name: "set-password, no such user", args: []string{"user", "set-password", "--email", "nobody@example.com"}, stdin: pw,
			code: 1, wantErr: `^quill: no user with email nobody@example\.com\n$`},
		{name: "set-password, two selectors", args: []string{"user", "set-password", "--id", "1", "--username", "alice"},
			code: 2, wantErr: `needs exactly one of --username, --email or --id`},
		{name: "set-password, no selector", args: []string{"user", "set-password"},
			code: 2, wantErr: `needs exactly one of --username, --email or --id`},
		{name: "set-password, id zero", args: []string{"user", "set-password", "--id", "0"},
			code: 2, wantErr: `--id must be a positive number`},
		{name: "set-password, id not a number", args: []string{"user", "set-password", "--id", "one"},
			code: 2, wantErr: `invalid value "one" for flag -id`},
		{name: "set-password, email given as username", args: []string{"user", "set-password", "--username", "alice@example.com"},
			code: 1, wantErr: `is not a username \(usernames have no @\); use --email`},
	})

	// The new password works and was hashed with the configured parameters.
	store := openStoreAt(t, dbURL)
	ctx := context.Background()
	alice, err := store.User(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	hasher := auth.NewHasher(auth.DefaultParams, 1, time.Second, nil)
	if ok, rehash, err := hasher.Verify(ctx, "a brand new passphrase", alice.PasswordHash); !ok || rehash || err != nil {
		t.Errorf("Verify(new password) = %t, %t, %v; want true, false, nil", ok, rehash, err)
	}
	bob, err := store.User(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := hasher.Verify(ctx, "crlf terminated phrase", bob.PasswordHash); !ok {
		t.Errorf("the password read from a CRLF-terminated line does not verify without its line ending")
	}

	// Sessions: listed, then ended.
	now := time.Now()
	for _, id := range []string{"session-one", "session-two"} {
		sess := &blog.Session{ID: id, UserID: 1, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour), IP: "192.0.2.1", UserAgent: "curl"}
		if err := store.Write(ctx, func(tx *sqlstore.Tx) error { return tx.CreateSession(ctx, sess, []byte(id)) }); err != nil {
			t.Fatal(err)
		}
	}
	runSteps(t, dir, env, []cliStep{
		{name: "sessions", args: []string{"user", "sessions", "--email", "alice@example.com"},
			wantOut: `(?s)^ID +CREATED +LAST USED +EXPIRES +IP +USER AGENT\nsession-(one|two) .*192\.0\.2\.1 +curl\nsession-(one|two) .*\n$`},
		{name: "revoke all", args: []string{"user", "sessions", "--revoke-all", "--id", "1"},
			wantOut: `^ended 2 sessions of user 1 "alice" <alice@example\.com>\n$`},
		{name: "sessions, none left", args: []string{"user", "sessions", "--id", "1"},
			wantOut: `^user 1 "alice" <alice@example\.com> has no active sessions\n$`},
	})
	sess := &blog.Session{ID: "session-three", UserID: 1, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := store.Write(ctx, func(tx *sqlstore.Tx) error { return tx.CreateSession(ctx, sess, []byte("three")) }); err != nil {
		t.Fatal(err)
	}
	if err := store.Write(ctx, func(tx *sqlstore.Tx) error {
		return tx.CreatePost(ctx, &blog.Post{Title: "t", Content: "c", AuthorID: 1})
	}); err != nil {
		t.Fatal(err)
	}
	runSteps(t, dir, env, []cliStep{
		{name: "set-password ends sessions", args: []string{"user", "set-password", "--id", "1"}, stdin: "yet another passphrase",
			wantOut: `^set the password of user 1 "alice" <alice@example\.com> and ended 1 session\n$`},
		{name: "delete", args: []string{"user", "delete", "--email", "ALICE@example.com"},
			wantOut: `^deleted user 1 "alice" <alice@example\.com> with 1 post\n$`},
		{name: "delete again", args: []string{"user", "delete", "--email", "alice@example.com"},
			code: 1, wantErr: `^quill: no user with email alice@example\.com\n$`},
		{name: "delete by width-folded username", args: []string{"user", "delete", "--username", "ＢＯＢ"},
			wantOut: `^deleted user 2 "Bob" <bob@example\.com> with 0 posts\n$`},
	})
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"DATABASE_URL=sqlite:///" + filepath.Join(dir, "quill.db")}
	runSteps(t, dir, env, []cliStep{
		{name: "help", args: []string{"--help"}, wantOut: `(?s)quill user create --username U --email E.*quill import-fastapi PATH`},
		{name: "user help", args: []string{"user", "--help"}, wantOut: `^Usage: quill user COMMAND`},
		{name: "user create help", args: []string{"user", "create", "--help"}, wantErr: `(?s)^Usage: quill user create \[flags\] --username U --email E\n.*-username`},
		{name: "user set-password help", args: []string{"user", "set-password", "-h"}, wantErr: `^Usage: quill user set-password`},
		{name: "user delete help", args: []string{"user", "delete", "--help"}, wantErr: `^Usage: quill user delete`},
		{name: "user sessions help", args: []string{"user", "sessions", "--help"}, wantErr: `(?s)^Usage: quill user sessions.*-revoke-all`},
		{name: "user verify-email help", args: []string{"user", "verify-email", "--help"}, wantErr: `(?s)^Usage: quill user verify-email.*vouch`},
		{name: "import help", args: []string{"import-fastapi", "--help"}, wantErr: `(?s)^Usage: quill import-fastapi \[flags\] PATH\n.*-on-conflict`},
		{name: "migrate help", args: []string{"migrate", "--help"}, wantErr: `^Usage: quill migrate`},
		{name: "secret help", args: []string{"secret", "--help"}, wantErr: `^Usage: quill secret`},
		{name: "user without command", args: []string{"user"}, code: 2,
			wantErr: `^quill: user needs a command: create, set-password, delete, sessions, verify-email, factors or reset-2fa \(see quill --help\)\n$`},
		{name: "user unknown command", args: []string{"user", "rename"}, code: 2, wantErr: `unknown user command "rename"`},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, wantErr: `unknown command "frobnicate"`},
		{name: "secret", args: []string{"secret"}, wantOut: `^[0-9a-f]{64}\n$`},
		{name: "secret with an argument", args: []string{"secret", "x"}, code: 2, wantErr: `secret takes no arguments`},
		{name: "migrate status before", args: []string{"migrate", "status"}, wantOut: `(?m)^VERSION +NAME +APPLIED\n0001 +init +pending$`},
		{name: "migrate", args: []string{"migrate"}, wantOut: `^applied [1-9][0-9]* migration\(s\); the database is up to date\n$`},
		{name: "migrate status, flag after the action", args: []string{"migrate", "status", "--log-format", "json"},
			wantOut: `(?m)^0001 +init +\d{4}-`},
		{name: "bad config", args: []string{"user", "delete", "--id", "1", "--algorithm", "RS256"}, code: 1,
			wantErr: `^quill: ALGORITHM="RS256" is not supported`},
	})
}
