package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
)

// The administration of second factors: quill user factors lists an
// account's, quill user reset-2fa removes them for a user who lost them.

// factorLines are the lines of quill user factors, one function per kind
// of factor, each printing one line per factor of its kind (or one saying
// there is none).
var factorLines = []func(u *blog.User, f *app.SecondFactors) []string{
	totpLines,
	passkeyLines,
}

// totpLines describes the account's authenticator app.
func totpLines(u *blog.User, f *app.SecondFactors) []string {
	state := "off"
	switch t := f.TOTP; {
	case t.Enabled():
		state = fmt.Sprintf("on since %s, %s left", t.ConfirmedAt.Format(time.RFC3339), count(f.RecoveryCodesLeft, "recovery code"))
	case t != nil:
		state = fmt.Sprintf("pending since %s (not confirmed: logins do not ask for a code)", t.CreatedAt.Format(time.RFC3339))
	}
	return []string{fmt.Sprintf("TOTP of user %s: %s", describe(u), state)}
}

// passkeyLines describes the account's passkeys, one a line.
func passkeyLines(u *blog.User, f *app.SecondFactors) []string {
	if len(f.Passkeys) == 0 {
		return []string{fmt.Sprintf("passkeys of user %s: none", describe(u))}
	}
	lines := make([]string, len(f.Passkeys))
	for i, p := range f.Passkeys {
		used := "never used"
		if !p.LastUsedAt.IsZero() {
			used = "last used " + p.LastUsedAt.UTC().Format(time.RFC3339)
		}
		lines[i] = fmt.Sprintf("passkey %d of user %s: %q, added %s, %s", p.ID, describe(u), p.Name, p.CreatedAt.UTC().Format(time.RFC3339), used)
	}
	return lines
}

func userFactors(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var sel selector
	quill, done, u, err := openAccount(ctx, &sel, command{
		name:  "user factors",
		args:  " (--username U | --email E | --id N)",
		about: "Lists the account's second factors, its authenticator app (TOTP) and recovery codes, and its passkeys.",
		flags: sel.define,
	}, args, getenv, stderr)
	if err != nil {
		return err
	}
	defer done()
	f, err := quill.SecondFactors(ctx, u.ID)
	if errors.Is(err, blog.ErrUserNotFound) {
		return fmt.Errorf("user %s was deleted meanwhile", describe(u))
	}
	if err != nil {
		return err
	}
	for _, lines := range factorLines {
		for _, l := range lines(u, f) {
			fmt.Fprintln(stdout, l)
		}
	}
	return nil
}

func userReset2FA(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var sel selector
	quill, done, u, err := openAccount(ctx, &sel, command{
		name: "user reset-2fa",
		args: " (--username U | --email E | --id N)",
		about: "Removes every second factor of the account (its authenticator app and recovery codes) and its passkeys, " +
			"for a user who lost them, and ends its sessions: the password alone logs in until the user turns two-factor login on again.",
		flags: sel.define,
	}, args, getenv, stderr)
	if err != nil {
		return err
	}
	defer done()
	r, err := quill.ResetSecondFactors(ctx, u.ID)
	if errors.Is(err, blog.ErrUserNotFound) {
		return fmt.Errorf("user %s was deleted meanwhile", describe(u))
	}
	if err != nil {
		return err
	}
	var removed []string
	if r.TOTP {
		removed = append(removed, "TOTP")
	}
	if r.RecoveryCodes > 0 {
		removed = append(removed, count(r.RecoveryCodes, "recovery code"))
	}
	if r.Passkeys > 0 {
		removed = append(removed, count(r.Passkeys, "passkey"))
	}
	what := "no second factor"
	if len(removed) > 0 {
		what = strings.Join(removed[:len(removed)-1], ", ")
		if what != "" {
			what += " and "
		}
		what += removed[len(removed)-1]
	}
	fmt.Fprintf(stdout, "removed %s of user %s and ended %s\n", what, describe(u), count(r.Sessions, "session"))
	return nil
}
