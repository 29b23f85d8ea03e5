package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quill-blog/quill/internal/mail/mailpittest"
)

// TestUserCommandsMail runs the account commands with SMTP_URL set to a
// real SMTP server: a new account is mailed its link, a password set by
// the administrator is told, and verify-email marks the address
// verified.
func TestUserCommandsMail(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Start(t, mailpittest.Options{})
	dir := t.TempDir()
	dbURL := "sqlite:///" + filepath.Join(dir, "quill.db")
	env := []string{"DATABASE_URL=" + dbURL, "SMTP_URL=smtp://" + mp.SMTPAddr + "?starttls=never", "PUBLIC_URL=https://blog.example.com"}
	runSteps(t, dir, env, []cliStep{
		{name: "create", args: []string{"user", "create", "--username", "alice", "--email", "alice@example.com"},
			stdin: "correct horse battery staple\n", wantOut: `^created user 1 "alice" <alice@example\.com>\n$`, wantErr: `^$`},
		{name: "set-password", args: []string{"user", "set-password", "--id", "1"},
			stdin: "a brand new passphrase\n", wantOut: `^set the password of user 1`, wantErr: `^$`},
	})
	// Each command sent its mail before it exited.
	msgs := mp.Messages(t)
	var subjects []string
	for _, m := range msgs {
		subjects = append(subjects, m.Subject)
		if len(m.To) != 1 || m.To[0].Address != "alice@example.com" {
			t.Errorf("%q went to %v, want alice@example.com", m.Subject, m.To)
		}
		if strings.Contains(m.Text, "passphrase") || strings.Contains(m.Text, "staple") {
			t.Errorf("%q holds the password:\n%s", m.Subject, m.Text)
		}
	}
	if got, want := strings.Join(subjects, "|"), "Confirm your email address|Your password was set by the administrator"; got != want {
		t.Fatalf("mails %q, want %q", got, want)
	}
	if !strings.Contains(msgs[0].Text, "https://blog.example.com/verify-email?token=") {
		t.Errorf("the verification mail has no link to PUBLIC_URL:\n%s", msgs[0].Text)
	}

	runSteps(t, dir, env, []cliStep{
		{name: "verify-email", args: []string{"user", "verify-email", "--email", "ALICE@example.com"},
			wantOut: `^marked the address of user 1 "alice" <alice@example\.com> verified\n$`},
		{name: "verify-email again", args: []string{"user", "verify-email", "--id", "1"},
			wantOut: `^the address of user 1 "alice" <alice@example\.com> is verified already\n$`},
		{name: "verify-email, no such user", args: []string{"user", "verify-email", "--id", "2"},
			code: 1, wantErr: `^quill: no user with id 2\n$`},
		{name: "verify-email, no selector", args: []string{"user", "verify-email"},
			code: 2, wantErr: `needs exactly one of --username, --email or --id`},
	})
	u, err := openStoreAt(t, dbURL).User(context.Background(), 1)
	if err != nil || !u.EmailVerified() {
		t.Errorf("after verify-email: %+v, %v; want verified", u, err)
	}
}

// TestUserCommandsMailToStderr: without SMTP_URL, a command's mail is
// written to standard error, as serve writes it to its log.
func TestUserCommandsMailToStderr(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"DATABASE_URL=sqlite:///" + filepath.Join(dir, "quill.db")}
	runSteps(t, dir, env, []cliStep{
		{name: "create", args: []string{"user", "create", "--username", "alice", "--email", "alice@example.com"},
			stdin: "correct horse battery staple\n", wantOut: `^created user 1`,
			wantErr: `development mail \(no SMTP server configured; nothing was sent\)" to=alice@example.com subject="Confirm your email address"`},
	})
}
