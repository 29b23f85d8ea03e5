package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore"
)

func TestUserFactorsCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbURL := "sqlite:///" + filepath.Join(dir, "quill.db")
	env := []string{"DATABASE_URL=" + dbURL}
	runSteps(t, dir, env, []cliStep{
		{name: "create", args: []string{"user", "create", "--username", "alice", "--email", "alice@example.com"},
			stdin: "correct horse battery staple\n", wantOut: `^created user 1`},
		{name: "factors, none", args: []string{"user", "factors", "--username", "alice"},
			wantOut: `^TOTP of user 1 "alice" <alice@example\.com>: off\npasskeys of user 1 "alice" <alice@example\.com>: none\n$`},
		{name: "reset-2fa, none", args: []string{"user", "reset-2fa", "--id", "1"},
			wantOut: `^removed no second factor of user 1 "alice" <alice@example\.com> and ended 0 sessions\n$`},
		{name: "factors, no such user", args: []string{"user", "factors", "--email", "nobody@example.com"},
			code: 1, wantErr: `^quill: no user with email nobody@example\.com\n$`},
		{name: "reset-2fa, no selector", args: []string{"user", "reset-2fa"},
			code: 2, wantErr: `needs exactly one of --username, --email or --id`},
		{name: "factors help", args: []string{"user", "factors", "--help"}, wantErr: `^Usage: quill user factors`},
		{name: "reset-2fa help", args: []string{"user", "reset-2fa", "--help"}, wantErr: `^Usage: quill user reset-2fa`},
	})

	// The factor as the application layer stores it (the commands never
	// open the sealed secret, so any bytes do here).
	store := openStoreAt(t, dbURL)
	ctx := context.Background()
	started := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	write := func(fn func(tx *sqlstore.Tx) error) {
		t.Helper()
		if err := store.Write(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	write(func(tx *sqlstore.Tx) error { return tx.StartTOTP(ctx, 1, []byte("sealed"), started) })
	runSteps(t, dir, env, []cliStep{
		{name: "factors, pending", args: []string{"user", "factors", "--id", "1"},
			wantOut: `^TOTP of user 1 "alice" <alice@example\.com>: pending since 2026-03-01T12:00:00Z \(not confirmed: logins do not ask for a code\)\npasskeys of user 1 "alice" <alice@example\.com>: none\n$`},
	})
	write(func(tx *sqlstore.Tx) error {
		if err := tx.ConfirmTOTP(ctx, 1, []byte("sealed"), 10, started.Add(time.Minute)); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, 1, [][]byte{[]byte("a"), []byte("b"), []byte("c")}, started); err != nil {
			return err
		}
		for i, name := range []string{"Phone", "Laptop"} {
			p := &blog.Passkey{UserID: 1, Name: name, CredentialID: []byte{byte(i)}, PublicKey: []byte("key")}
			if err := tx.CreatePasskey(ctx, p); err != nil {
				return err
			}
		}
		for _, id := range []string{"s1", "s2"} {
			now := time.Now()
			sess := &blog.Session{ID: id, UserID: 1, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := tx.CreateSession(ctx, sess, []byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	runSteps(t, dir, env, []cliStep{
		{name: "factors, on", args: []string{"user", "factors", "--email", "ALICE@example.com"},
			wantOut: `^TOTP of user 1 "alice" <alice@example\.com>: on since 2026-03-01T12:01:00Z, 3 recovery codes left\n` +
				`passkey 1 of user 1 "alice" <alice@example\.com>: "Phone", added \S+Z, never used\n` +
				`passkey 2 of user 1 "alice" <alice@example\.com>: "Laptop", added \S+Z, never used\n$`},
		{name: "reset-2fa", args: []string{"user", "reset-2fa", "--username", "ALICE"},
			wantOut: `^removed TOTP, 3 recovery codes and 2 passkeys of user 1 "alice" <alice@example\.com> and ended 2 sessions\n$`},
		{name: "factors, after reset", args: []string{"user", "factors", "--id", "1"},
			wantOut: `^TOTP of user 1 "alice" <alice@example\.com>: off\npasskeys of user 1 "alice" <alice@example\.com>: none\n$`},
	})
}
