package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/mail"
	"github.com/quill-blog/quill/internal/quilltest"
)

const (
	verifySubject  = "Confirm your email address"
	changedSubject = "Your email address was changed"
)

// forEachDBMailing runs test once per database, in parallel, on a quill
// whose mails land in box, with verified addresses required or not.
func forEachDBMailing(t *testing.T, requireVerified bool, test func(t *testing.T, q *quilltest.Quill, box *mailbox)) {
	t.Helper()
	for _, db := range quilltest.DBs() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			box := newMailbox()
			q := quilltest.New(t, db, quilltest.Options{App: func(c *app.Config) {
				c.Mailer = box
				c.RequireVerifiedEmail = requireVerified
			}})
			test(t, q, box)
		})
	}
}

// verifyToken waits for the next verification mail, checks it goes to
// to, and returns the token of its link.
func verifyToken(tb testing.TB, box *mailbox, to string) string {
	tb.Helper()
	m := box.next(tb, verifySubject)
	if m.To != to {
		tb.Errorf("verification mail to %q, want %q", m.To, to)
	}
	return linkToken(tb, m, "/verify-email?token=")
}

// user reads an account as stored.
func user(tb testing.TB, q *quilltest.Quill, id int64) *blog.User {
	tb.Helper()
	u, err := q.App.User(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

func TestRegistrationVerification(t *testing.T) {
	forEachDBMailing(t, false, func(t *testing.T, q *quilltest.Quill, box *mailbox) {
		ctx := t.Context()
		alice := register(t, q, "alice", "Alice@Example.com")
		if alice.EmailVerified() {
			t.Fatal("a new account is verified, want unverified")
		}
		m := box.next(t, verifySubject)
		for _, want := range []string{"Hello alice,", "alice@example.com", "within 24 hours", quilltest.PublicURL + "/verify-email?token="} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("verification mail lacks %q:\n%s", want, m.Text)
			}
		}
		token := linkToken(t, m, "/verify-email?token=")

		// Looking at the link changes nothing.
		link, err := q.App.CheckEmailLink(ctx, token)
		if err != nil || link.User.ID != alice.ID || link.Email != "alice@example.com" || link.Change {
			t.Fatalf("CheckEmailLink() = %+v, %v; want Alice's address", link, err)
		}
		if user(t, q, alice.ID).EmailVerified() {
			t.Fatal("verified by looking at the link")
		}
		for _, bad := range []string{"", "short", strings.Repeat("A", 43), token + "x"} {
			_, err := q.App.CheckEmailLink(ctx, bad)
			wantError(t, "CheckEmailLink(malformed)", err, blog.ErrInvalidVerification)
			_, err = q.App.VerifyEmail(ctx, app.EmailConfirmation{Token: bad})
			wantError(t, "VerifyEmail(malformed)", err, blog.ErrInvalidVerification)
		}
		_, err = q.App.VerifyEmail(ctx, app.EmailConfirmation{Problems: []blog.Problem{{Type: "missing", Loc: []any{"body", "token"}, Msg: "Field required"}}})
		wantKind(t, "VerifyEmail(no token)", err, blog.Unprocessable)

		q.Clock.Advance(time.Hour)
		u, err := q.App.VerifyEmail(ctx, app.EmailConfirmation{Token: token})
		if err != nil || !u.EmailVerified() || !u.EmailVerifiedAt.Equal(q.Clock.Now()) {
			t.Fatalf("VerifyEmail() = %+v, %v; want verified now", u, err)
		}
		if !user(t, q, alice.ID).EmailVerified() {
			t.Error("not verified as stored")
		}
		// The link works once.
		_, err = q.App.VerifyEmail(ctx, app.EmailConfirmation{Token: token})
		wantError(t, "VerifyEmail(again)", err, blog.ErrInvalidVerification)
		// Nothing more to send.
		_, err = q.App.SendVerification(ctx, logIn(t, q, "alice", alicePassword))
		wantError(t, "SendVerification(verified)", err, blog.ErrEmailVerified)
	})
}

func TestVerificationLinkExpires(t *testing.T) {
	forEachDBMailing(t, false, func(t *testing.T, q *quilltest.Quill, box *mailbox) {
		ctx := t.Context()
		register(t, q, "alice", "alice@example.com")
		token := verifyToken(t, box, "alice@example.com")
		q.Clock.Advance(blog.EmailVerifyTTL)
		_, err := q.App.CheckEmailLink(ctx, token)
		wantError(t, "CheckEmailLink(expired)", err, blog.ErrInvalidVerification)
		_, err = q.App.VerifyEmail(ctx, app.EmailConfirmation{Token: token})
		wantError(t, "VerifyEmail(expired)", err, blog.ErrInvalidVerification)
	})
}

func TestSendVerificationOncePerMinute(t *testing.T) {
	forEachDBMailing(t, false, func(t *testing.T, q *quilltest.Quill, box *mailbox) {
		ctx := t.Context()
		register(t, q, "alice", "alice@example.com")
		first := verifyToken(t, box, "alice@example.com")
		c := logIn(t, q, "alice", alicePassword)

		q.Clock.Advance(20 * time.Second)
		_, err := q.App.SendVerification(ctx, c)
		if e := wantKind(t, "SendVerification(20 s after the last)", err, blog.TooManyRequests); e != nil &&
			(e.Code != "verification_too_soon" || e.RetryAfter != 40*time.Second) {
			t.Errorf("SendVerification(20 s after the last) = %s, retry after %v; want verification_too_soon, 40s", e.Code, e.RetryAfter)
		}
		// Refused: the first link still works, nothing was sent.
		if _, err := q.App.CheckEmailLink(ctx, first); err != nil {
			t.Errorf("the first link after a refused request: %v", err)
		}

		q.Clock.Advance(40 * time.Second)
		to, err := q.App.SendVerification(ctx, c)
		if err != nil || to != "alice@example.com" {
			t.Fatalf("SendVerification(a minute after) = %q, %v", to, err)
		}
		second := verifyToken(t, box, "alice@example.com")
		// The new link voids the older.
		_, err = q.App.VerifyEmail(ctx, app.EmailConfirmation{Token: first})
		wantError(t, "VerifyEmail(the older link)", err, blog.ErrInvalidVerification)
		if _, err := q.App.VerifyEmail(ctx, app.EmailConfirmation{Token: second}); err != nil {
			t.Errorf("VerifyEmail(the newer link) = %v", err)
		}
	})
}

// TestEmailChangeAtOnce is a new address with verified addresses not
// required: it takes effect at once, unverified; its link verifies it; the
// old address is told, and its links, reset or verification, are void.
func TestEmailChangeAtOnce(t *testing.T) {
	forEachDBMailing(t, false, func(t *testing.T, q *quilltest.Quill, box *mailbox) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		old := verifyToken(t, box, "alice@example.com")
		if _, err := q.App.VerifyEmail(ctx, app.EmailConfirmation{Token: old}); err != nil {
			t.Fatal(err)
		}
		reset := q.NewResetToken(t, alice.ID)
		c := logIn(t, q, "alice", alicePassword)

		u, err := q.App.ChangeAccount(ctx, c, alice.ID, app.AccountChange{Email: ptr("Alice@New.example"), CurrentPassword: ptr(alicePassword)})
		if err != nil {
			t.Fatalf("ChangeAccount(new email) = %v", err)
		}
		if u.Email != "alice@new.example" || u.EmailVerified() || u.PendingEmail != "" {
			t.Fatalf("after the change: %+v, want alice@new.example, unverified, none pending", u)
		}
		token := verifyToken(t, box, "alice@new.example")
		notice := box.next(t, changedSubject)
		if notice.To != "alice@example.com" || !strings.Contains(notice.Text, "a***@new.example") || strings.Contains(notice.Text, "alice@new.example") {
			t.Errorf("change notice to %q:\n%s\nwant it to the old address, naming the new one masked", notice.To, notice.Text)
		}
		wantError(t, "ResetPassword(a link to the old address)", q.App.ResetPassword(ctx, app.PasswordReset{Token: reset, NewPassword: newPassword}), blog.ErrInvalidReset)
		logIn(t, q, "alice@new.example", alicePassword)

		if _, err := q.App.VerifyEmail(ctx, app.EmailConfirmation{Token: token}); err != nil {
			t.Fatalf("VerifyEmail(the new address) = %v", err)
		}
		if u := user(t, q, alice.ID); !u.EmailVerified() || u.Email != "alice@new.example" {
			t.Errorf("after confirming: %+v, want alice@new.example verified", u)
		}
		// Unverified accounts may write when verification is not required.
		if _, err := q.App.ChangeAccount(ctx, logIn(t, q, "alice", alicePassword), alice.ID,
			app.AccountChange{Email: ptr("alice@third.example"), CurrentPassword: ptr(alicePassword)}); err != nil {
			t.Fatal(err)
		}
		if _, err := q.App.CreatePost(ctx, logIn(t, q, "alice", alicePassword), app.PostInput{Title: ptr("T"), Content: ptr("C")}); err != nil {
			t.Errorf("CreatePost(unverified, not required) = %v", err)
		}
	})
}

// TestLinkBoundToItsAddress checks that a link confirms only the address
// it was sent to: once the account's address is another, it does nothing.
func TestLinkBoundToItsAddress(t *testing.T) {
	forEachDBMailing(t, false, func(t *testing.T, q *quilltest.Quill, box *mailbox) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		token := verifyToken(t, box, "alice@example.com")
		// The address changes behind the link's back (an older quill, an
		// operator's hand): the link is still stored.
		if _, err := q.SQL(t).ExecContext(ctx, `UPDATE users SET email = 'other@example.com' WHERE id = $1`, alice.ID); err != nil {
			t.Fatal(err)
		}
		_, err := q.App.CheckEmailLink(ctx, token)
		wantError(t, "CheckEmailLink(a link to the old address)", err, blog.ErrInvalidVerification)
		_, err = q.App.VerifyEmail(ctx, app.EmailConfirmation{Token: token})
		wantError(t, "VerifyEmail(a link to the old address)", err, blog.ErrInvalidVerification)
		if user(t, q, alice.ID).EmailVerified() {
			t.Error("the new address was verified by a link to the old one")
		}
	})
}

// TestEmailChangeOnceConfirmed is a new address with verified addresses
// required: it waits, pending, until its link is confirmed; meanwhile the
// account keeps its address, and an unverified account cannot write.
func TestEmailChangeOnceConfirmed(t *testing.T) {
	forEachDBMailing(t, true, func(t *testing.T, q *quilltest.Quill, box *mailbox) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		register(t, q, "bob", "bob@example.com")
		first := verifyToken(t, box, "alice@example.com")
		verifyToken(t, box, "bob@example.com")
		c := logIn(t, q, "alice", alicePassword)

		// Unverified: no writing.
		_, err := q.App.CreatePost(ctx, c, app.PostInput{Title: ptr("T"), Content: ptr("C")})
		wantError(t, "CreatePost(unverified)", err, blog.ErrEmailUnverified)
		_, err = q.App.PreviewPost(ctx, c, 0, "C")
		wantError(t, "PreviewPost(unverified)", err, blog.ErrEmailUnverified)
		wantError(t, "MayWrite(unverified)", q.App.MayWrite(c), blog.ErrEmailUnverified)
		if _, err := q.App.VerifyEmail(ctx, app.EmailConfirmation{Token: first}); err != nil {
			t.Fatal(err)
		}
		c = logIn(t, q, "alice", alicePassword)
		p, err := q.App.CreatePost(ctx, c, app.PostInput{Title: ptr("T"), Content: ptr("C")})
		if err != nil {
			t.Fatalf("CreatePost(verified) = %v", err)
		}
		reset := q.NewResetToken(t, alice.ID)

		// A taken address is refused at once.
		_, err = q.App.ChangeAccount(ctx, c, alice.ID, app.AccountChange{Email: ptr("BOB@example.com"), CurrentPassword: ptr(alicePassword)})
		wantError(t, "ChangeAccount(Bob's address)", err, blog.ErrEmailTaken)

		u, err := q.App.ChangeAccount(ctx, c, alice.ID, app.AccountChange{Username: ptr("Alice"), Email: ptr("alice@new.example"), CurrentPassword: ptr(alicePassword)})
		if err != nil {
			t.Fatalf("ChangeAccount(new email) = %v", err)
		}
		if u.Username != "Alice" || u.Email != "alice@example.com" || u.PendingEmail != "alice@new.example" || !u.EmailVerified() {
			t.Fatalf("after asking: %+v, want the old address kept, verified, the new one pending, the rename done", u)
		}
		token := verifyToken(t, box, "alice@new.example")
		// Still the old address's account meanwhile: it logs in, writes,
		// and its reset links work.
		c = logIn(t, q, "alice@example.com", alicePassword)
		if _, err := q.App.UpdatePost(ctx, c, p.ID, app.PostInput{Content: ptr("D")}); err != nil {
			t.Errorf("UpdatePost(while a change waits) = %v", err)
		}
		if _, err := q.App.LogIn(ctx, app.Credentials{Username: "alice@new.example", Password: alicePassword}, app.SessionStart{}); !errors.Is(err, blog.ErrBadCredentials) {
			t.Errorf("LogIn(the pending address) = %v, want ErrBadCredentials", err)
		}
		link, err := q.App.CheckEmailLink(ctx, token)
		if err != nil || !link.Change || link.Email != "alice@new.example" {
			t.Errorf("CheckEmailLink() = %+v, %v; want the change to alice@new.example", link, err)
		}
		// The pending address asked for again changes nothing, sends
		// nothing, and needs no password; a rename alone keeps it too.
		before := len(box.all())
		if u, err := q.App.ChangeAccount(ctx, c, alice.ID, app.AccountChange{Username: ptr("Alice2"), Email: ptr("alice@new.example")}); err != nil || u.PendingEmail != "alice@new.example" {
			t.Fatalf("ChangeAccount(the pending address again, renamed) = %+v, %v; want it still pending", u, err)
		}
		c = logIn(t, q, "alice@example.com", alicePassword)
		if u, err := q.App.ChangeAccount(ctx, c, alice.ID, app.AccountChange{Username: ptr("Alice3")}); err != nil || u.PendingEmail != "alice@new.example" {
			t.Fatalf("ChangeAccount(a rename alone) = %+v, %v; want the address still pending", u, err)
		}

		q.Clock.Advance(time.Minute)
		u, err = q.App.VerifyEmail(ctx, app.EmailConfirmation{Token: token})
		if err != nil {
			t.Fatalf("VerifyEmail(the pending address) = %v", err)
		}
		if u.Email != "alice@new.example" || u.PendingEmail != "" || !u.EmailVerifiedAt.Equal(q.Clock.Now()) {
			t.Errorf("after confirming: %+v, want the new address, verified now, none pending", u)
		}
		notice := box.next(t, changedSubject)
		if notice.To != "alice@example.com" || !strings.Contains(notice.Text, "a***@new.example") {
			t.Errorf("change notice to %q:\n%s\nwant it to the old address", notice.To, notice.Text)
		}
		var since []string
		for _, m := range box.all()[before:] {
			since = append(since, m.Subject)
		}
		if got, want := strings.Join(since, "|"), "Your username was changed|Your username was changed|"+changedSubject; got != want {
			t.Errorf("mails since asking again for the pending address: %q, want %q (the renames' and the change's notices)", got, want)
		}
		wantError(t, "ResetPassword(a link to the old address)", q.App.ResetPassword(ctx, app.PasswordReset{Token: reset, NewPassword: newPassword}), blog.ErrInvalidReset)
		logIn(t, q, "alice@new.example", alicePassword)
	})
}

func TestPendingEmailCalledOffOrTaken(t *testing.T) {
	forEachDBMailing(t, true, func(t *testing.T, q *quilltest.Quill, box *mailbox) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		verifyToken(t, box, "alice@example.com")
		c := logIn(t, q, "alice", alicePassword)
		change := func(email string) *blog.User {
			t.Helper()
			u, err := q.App.ChangeAccount(ctx, c, alice.ID, app.AccountChange{Email: ptr(email), CurrentPassword: ptr(alicePassword)})
			if err != nil {
				t.Fatalf("ChangeAccount(%s) = %v", email, err)
			}
			c.User = u
			return u
		}

		// Another pending address replaces the first, whose link dies.
		change("one@example.com")
		one := verifyToken(t, box, "one@example.com")
		change("two@example.com")
		two := verifyToken(t, box, "two@example.com")
		_, err := q.App.VerifyEmail(ctx, app.EmailConfirmation{Token: one})
		wantError(t, "VerifyEmail(a replaced pending address)", err, blog.ErrInvalidVerification)

		// The current address again calls the change off.
		if u := change("alice@example.com"); u.PendingEmail != "" {
			t.Errorf("after asking for the current address: pending %q, want none", u.PendingEmail)
		}
		_, err = q.App.VerifyEmail(ctx, app.EmailConfirmation{Token: two})
		wantError(t, "VerifyEmail(a called-off address)", err, blog.ErrInvalidVerification)

		// A pending address someone registers meanwhile cannot be
		// confirmed; nothing changes, and the link stays.
		change("three@example.com")
		three := verifyToken(t, box, "three@example.com")
		register(t, q, "carol", "three@example.com")
		_, err = q.App.VerifyEmail(ctx, app.EmailConfirmation{Token: three})
		wantError(t, "VerifyEmail(an address taken since)", err, blog.ErrEmailTaken)
		if u := user(t, q, alice.ID); u.Email != "alice@example.com" || u.PendingEmail != "three@example.com" {
			t.Errorf("after a refused confirmation: %+v, want nothing changed", u)
		}
		if _, err := q.App.CheckEmailLink(ctx, three); err != nil {
			t.Errorf("CheckEmailLink() after a refused confirmation = %v, want it kept", err)
		}
	})
}

// TestVerifyEmailIsOneTransaction makes the last step of a confirmed
// change fail: nothing changes, the link stays, and no notice goes out.
func TestVerifyEmailIsOneTransaction(t *testing.T) {
	forEachDBMailing(t, true, func(t *testing.T, q *quilltest.Quill, box *mailbox) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		verifyToken(t, box, "alice@example.com")
		c := logIn(t, q, "alice", alicePassword)
		if _, err := q.App.ChangeAccount(ctx, c, alice.ID, app.AccountChange{Email: ptr("new@example.com"), CurrentPassword: ptr(alicePassword)}); err != nil {
			t.Fatal(err)
		}
		token := verifyToken(t, box, "new@example.com")
		reset := q.NewResetToken(t, alice.ID)
		inject(t, q, "fail_reset_void", "password_resets",
			`CREATE TRIGGER fail_reset_void BEFORE DELETE ON password_resets BEGIN SELECT RAISE(ABORT, 'injected fault'); END`,
			`CREATE FUNCTION fail_reset_void() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$;
			 CREATE TRIGGER fail_reset_void BEFORE DELETE ON password_resets FOR EACH ROW EXECUTE FUNCTION fail_reset_void()`)
		if _, err := q.App.VerifyEmail(ctx, app.EmailConfirmation{Token: token}); err == nil {
			t.Fatal("VerifyEmail with a failing step = nil, want an error")
		}
		if u := user(t, q, alice.ID); u.Email != "alice@example.com" || u.PendingEmail != "new@example.com" {
			t.Errorf("after a failed confirmation: %+v, want nothing changed", u)
		}
		if _, err := q.App.CheckEmailLink(ctx, token); err != nil {
			t.Errorf("the link after a failed confirmation: %v, want it kept", err)
		}
		if err := q.App.ResetPassword(ctx, app.PasswordReset{Token: reset, NewPassword: newPassword}); err == nil {
			t.Error("ResetPassword() with the fault in place = nil; the fault did not fire")
		}
		q.Stop() // sends what was queued
		for _, m := range box.all() {
			if m.Subject == changedSubject {
				t.Errorf("a change notice went out for a change that did not happen:\n%s", m.Text)
			}
		}
	})
}

func TestMarkEmailVerified(t *testing.T) {
	forEachDBMailing(t, true, func(t *testing.T, q *quilltest.Quill, box *mailbox) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		token := verifyToken(t, box, "alice@example.com")
		if err := q.App.MarkEmailVerified(ctx, alice); err != nil {
			t.Fatalf("MarkEmailVerified() = %v", err)
		}
		if !user(t, q, alice.ID).EmailVerified() {
			t.Error("not verified")
		}
		_, err := q.App.CheckEmailLink(ctx, token)
		wantError(t, "CheckEmailLink() after MarkEmailVerified", err, blog.ErrInvalidVerification)
		stale := *alice
		stale.Email = "other@example.com"
		wantError(t, "MarkEmailVerified(an address the account no longer has)", q.App.MarkEmailVerified(ctx, &stale), blog.ErrInvalidVerification)
	})
}

// TestPasswordNotices checks that every way of changing a password tells
// the account's address, and that no notice holds a secret.
func TestPasswordNotices(t *testing.T) {
	forEachDBMailing(t, false, func(t *testing.T, q *quilltest.Quill, box *mailbox) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		c := logIn(t, q, "alice", alicePassword)
		secrets := []string{alicePassword, newPassword}

		if err := q.App.ChangePassword(ctx, c, app.PasswordChange{Current: alicePassword, New: newPassword}); err != nil {
			t.Fatal(err)
		}
		changed := box.next(t, "Your password was changed")

		reset := q.NewResetToken(t, alice.ID)
		secrets = append(secrets, reset, "reset-pass-phrase-3")
		if err := q.App.ResetPassword(ctx, app.PasswordReset{Token: reset, NewPassword: "reset-pass-phrase-3"}); err != nil {
			t.Fatal(err)
		}
		wasReset := box.next(t, "Your password was reset")

		u := user(t, q, alice.ID)
		secrets = append(secrets, "admin-set-phrase-4")
		if _, err := q.App.SetPassword(ctx, u, "admin-set-phrase-4"); err != nil {
			t.Fatal(err)
		}
		set := box.next(t, "Your password was set by the administrator")

		// PUT with a new password and a new address: both notices go to
		// the address the account had.
		c = logIn(t, q, "alice", "admin-set-phrase-4")
		if _, err := q.App.ChangeAccount(ctx, c, alice.ID, app.AccountChange{
			Username: ptr("alice"), Email: ptr("new@example.com"), Password: ptr("put-pass-phrase-5"), CurrentPassword: ptr("admin-set-phrase-4"),
		}); err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, "put-pass-phrase-5")
		put := box.next(t, "Your password was changed")

		// A rename is told too, naming both names.
		c = logIn(t, q, "alice", "put-pass-phrase-5")
		if _, err := q.App.ChangeAccount(ctx, c, alice.ID, app.AccountChange{Username: ptr("alicia")}); err != nil {
			t.Fatal(err)
		}
		renamed := box.next(t, "Your username was changed")
		if renamed.To != "new@example.com" || !strings.Contains(renamed.Text, "Old name:    alice\n  New name:    alicia\n") {
			t.Errorf("rename notice to %q:\n%s\nwant it to new@example.com, naming both names", renamed.To, renamed.Text)
		}
		// Keeping the name in a PUT tells nothing.
		c = logIn(t, q, "alicia", "put-pass-phrase-5")
		before := len(box.all())
		if _, err := q.App.ChangeAccount(ctx, c, alice.ID, app.AccountChange{Username: ptr("alicia"), Email: ptr("new@example.com")}); err != nil {
			t.Fatal(err)
		}
		q.Stop()
		if got := len(box.all()) - before; got != 0 {
			t.Errorf("%d mails after a PUT that changed nothing, want 0", got)
		}

		for _, m := range []mail.Message{changed, wasReset, set, put} {
			if m.To != "alice@example.com" {
				t.Errorf("%q went to %q, want alice@example.com", m.Subject, m.To)
			}
			for _, want := range []string{"Hello alice,", quilltest.PublicURL} {
				if !strings.Contains(m.Text, want) {
					t.Errorf("%q lacks %q:\n%s", m.Subject, want, m.Text)
				}
			}
			for _, s := range secrets {
				if strings.Contains(m.Text, s) {
					t.Errorf("%q holds a secret %q:\n%s", m.Subject, s, m.Text)
				}
			}
			if strings.Contains(m.Text, "token=") {
				t.Errorf("%q holds a link with a token:\n%s", m.Subject, m.Text)
			}
		}
	})
}

// failingMailer fails every mail.
type failingMailer struct{}

func (failingMailer) Send(context.Context, mail.Message) error {
	return errors.New("the mail server said no")
}

// TestMailFailureNeverFailsTheChange checks that a mail that cannot be
// sent is logged, and the change it tells of stands.
func TestMailFailureNeverFailsTheChange(t *testing.T) {
	q := quilltest.New(t, quilltest.SQLite, quilltest.Options{App: func(c *app.Config) { c.Mailer = failingMailer{} }})
	ctx := t.Context()
	register(t, q, "alice", "alice@example.com")
	c := logIn(t, q, "alice", alicePassword)
	if err := q.App.ChangePassword(ctx, c, app.PasswordChange{Current: alicePassword, New: newPassword}); err != nil {
		t.Fatalf("ChangePassword with the mail server failing = %v", err)
	}
	logIn(t, q, "alice", newPassword)
	q.Stop()
	logs := q.Logs.String()
	for _, want := range []string{"verification mail failed", "password change notice failed"} {
		if !strings.Contains(logs, want) || !strings.Contains(logs, "level=ERROR") {
			t.Errorf("the log does not say %q at level ERROR:\n%s", want, logs)
		}
	}
}

// TestSendQueuedMail checks that a command that runs no Run sends what
// it queued.
func TestSendQueuedMail(t *testing.T) {
	box := newMailbox()
	q := quilltest.New(t, quilltest.SQLite, quilltest.Options{App: func(c *app.Config) { c.Mailer = box }})
	q.Stop() // no worker from here on
	ctx := t.Context()
	alice := register(t, q, "alice", "alice@example.com")
	if _, err := q.App.SetPassword(ctx, alice, newPassword); err != nil {
		t.Fatal(err)
	}
	if got := len(box.all()); got != 0 {
		t.Fatalf("%d mails sent before SendQueuedMail, want 0", got)
	}
	q.App.SendQueuedMail(ctx)
	var subjects []string
	for _, m := range box.all() {
		subjects = append(subjects, m.Subject)
	}
	if want := []string{verifySubject, "Your password was set by the administrator"}; strings.Join(subjects, "|") != strings.Join(want, "|") {
		t.Errorf("sent %q, want %q", subjects, want)
	}
}
