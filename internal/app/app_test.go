package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/mail"
	"github.com/quill-blog/quill/internal/quilltest"
)

// The use cases, against the real databases: every test runs on SQLite,
// and on PostgreSQL when QUILL_TEST_POSTGRES_URL is set.

const (
	alicePassword = "wonderland-rabbit-hole-7"
	newPassword   = "looking-glass-chess-42"
)

// forEachDB runs test once per database, in parallel.
func forEachDB(t *testing.T, test func(t *testing.T, q *quilltest.Quill)) {
	t.Helper()
	for _, db := range quilltest.DBs() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			test(t, quilltest.New(t, db))
		})
	}
}

// register creates an account with a valid password and returns it.
func register(tb testing.TB, q *quilltest.Quill, username, email string) *blog.User {
	tb.Helper()
	u, err := q.App.Register(context.Background(), app.Registration{Username: username, Email: email, Password: alicePassword})
	if err != nil {
		tb.Fatalf("Register(%q) = %v", username, err)
	}
	return u
}

// logIn logs in and returns the caller that the access token stands for.
func logIn(tb testing.TB, q *quilltest.Quill, username, password string) *app.Caller {
	tb.Helper()
	ctx := context.Background()
	login, err := q.App.LogIn(ctx, app.Credentials{Username: username, Password: password}, app.SessionStart{})
	if err != nil {
		tb.Fatalf("LogIn(%q) = %v", username, err)
	}
	c, err := q.App.Authenticate(ctx, login.Access)
	if err != nil {
		tb.Fatalf("Authenticate() after LogIn = %v", err)
	}
	return c
}

// wantError fails unless err is want (errors.Is), naming what was done.
func wantError(tb testing.TB, what string, err, want error) {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Errorf("%s = %v, want %v", what, err, want)
	}
}

// wantKind fails unless err is a *blog.Error of kind k.
func wantKind(tb testing.TB, what string, err error, k blog.Kind) *blog.Error {
	tb.Helper()
	var e *blog.Error
	if !errors.As(err, &e) || e.Kind != k {
		tb.Errorf("%s = %v, want an error of kind %d", what, err, k)
		return nil
	}
	return e
}

func ptr(s string) *string { return &s }

// inject puts a fault in q's database: a trigger named name on table,
// which the use case's own statements fire, created by the statements of
// q's dialect. It is dropped when tb ends (PostgreSQL test schemas are
// reused).
func inject(tb testing.TB, q *quilltest.Quill, name, table, sqlite, postgres string) {
	tb.Helper()
	query, drop := postgres, `DROP TRIGGER `+name+` ON `+table+`; DROP FUNCTION `+name+`()`
	if strings.HasPrefix(q.URL, "sqlite:") {
		query, drop = sqlite, `DROP TRIGGER `+name
	}
	db := q.SQL(tb)
	if _, err := db.ExecContext(context.Background(), query); err != nil {
		tb.Fatalf("inject a fault: %v", err)
	}
	tb.Cleanup(func() {
		if _, err := db.ExecContext(context.Background(), drop); err != nil {
			tb.Errorf("remove the fault: %v", err)
		}
	})
}

func TestRegisterNamesTheUsernameFirst(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		register(t, q, "alice", "alice@example.com")
		_, err := q.App.Register(t.Context(), app.Registration{Username: "ALICE", Email: "Alice@Example.com", Password: newPassword})
		wantError(t, "Register(a taken username and a taken email)", err, blog.ErrUsernameTaken)
		_, err = q.App.Register(t.Context(), app.Registration{Username: "carol", Email: "alice@example.com", Password: newPassword})
		wantError(t, "Register(a taken email)", err, blog.ErrEmailTaken)
	})
}

func TestLookAlikeUsernamesAreTaken(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		register(t, q, "admin", "admin@example.com")
		for i, name := range []string{"аdmin", "ΑDMIN", "ᴀdmin", "ａｄｍｉｎ", "adm1n", "Admin"} {
			email := fmt.Sprintf("other%d@example.com", i)
			_, err := q.App.Register(ctx, app.Registration{Username: name, Email: email, Password: newPassword})
			wantError(t, "Register("+name+")", err, blog.ErrUsernameTaken)
		}
		bob := register(t, q, "bob", "bob@example.com")
		c := logIn(t, q, "bob", alicePassword)
		_, err := q.App.ChangeAccount(ctx, c, bob.ID, app.AccountChange{Username: ptr("аdmin")})
		wantError(t, "ChangeAccount(rename to a look-alike)", err, blog.ErrUsernameTaken)
		// Bob may change the case of his own name, and keep it.
		if u, err := q.App.ChangeAccount(ctx, c, bob.ID, app.AccountChange{Username: ptr("Bob")}); err != nil || u.Username != "Bob" {
			t.Errorf("ChangeAccount(Bob) = %v, %v, want Bob", u, err)
		}
		if err := q.App.CheckAvailable(ctx, "ΑDMIN", "new@example.com"); !errors.Is(err, blog.ErrUsernameTaken) {
			t.Errorf("CheckAvailable(ΑDMIN) = %v, want ErrUsernameTaken", err)
		}
	})
}

func TestWrongCurrentPasswordIsThrottled(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		c := logIn(t, q, "alice", alicePassword)
		for i := range blog.FreeLoginFailures {
			err := q.App.ChangePassword(ctx, c, app.PasswordChange{Current: "a wrong guess", New: newPassword})
			wantError(t, "ChangePassword(wrong current password) #"+string(rune('1'+i)), err, blog.ErrWrongPassword)
		}
		// The next guess waits, right or wrong, and so does a login by
		// either of the account's names: they count as failed logins.
		err := q.App.ChangePassword(ctx, c, app.PasswordChange{Current: alicePassword, New: newPassword})
		if e := wantKind(t, "ChangePassword after five wrong guesses", err, blog.TooManyRequests); e != nil && e.Code != "login_throttled" {
			t.Errorf("ChangePassword after five wrong guesses: code %q, want login_throttled", e.Code)
		}
		_, err = q.App.ChangeAccount(ctx, c, alice.ID, app.AccountChange{Email: ptr("new@example.com"), CurrentPassword: ptr(alicePassword)})
		wantKind(t, "ChangeAccount(new email) after five wrong guesses", err, blog.TooManyRequests)
		for _, name := range []string{"alice", "ALICE@example.com"} {
			_, err := q.App.LogIn(ctx, app.Credentials{Username: name, Password: alicePassword}, app.SessionStart{})
			wantKind(t, "LogIn("+name+") after five wrong guesses", err, blog.TooManyRequests)
		}
		// Once the wait is over, the right password works and clears it.
		q.Clock.Advance(blog.MaxLoginDelay)
		if err := q.App.ChangePassword(ctx, c, app.PasswordChange{Current: alicePassword, New: newPassword}); err != nil {
			t.Fatalf("ChangePassword after the wait = %v", err)
		}
		logIn(t, q, "alice", newPassword)
	})
}

func TestEmailChangeVoidsResetLinks(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		token := q.NewResetToken(t, alice.ID)
		c := logIn(t, q, "alice", alicePassword)
		if _, err := q.App.ChangeAccount(ctx, c, alice.ID, app.AccountChange{Email: ptr("alice@new.example"), CurrentPassword: ptr(alicePassword)}); err != nil {
			t.Fatalf("ChangeAccount(new email) = %v", err)
		}
		err := q.App.ResetPassword(ctx, app.PasswordReset{Token: token, NewPassword: newPassword})
		wantError(t, "ResetPassword(a link mailed to the old address)", err, blog.ErrInvalidReset)
		// A rename alone leaves a link be.
		token = q.NewResetToken(t, alice.ID)
		if _, err := q.App.ChangeAccount(ctx, c, alice.ID, app.AccountChange{Username: ptr("alice2")}); err != nil {
			t.Fatal(err)
		}
		if err := q.App.ResetPassword(ctx, app.PasswordReset{Token: token, NewPassword: newPassword}); err != nil {
			t.Errorf("ResetPassword after a rename = %v, want nil", err)
		}
	})
}

func TestNewPasswordConsequences(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		here := logIn(t, q, "alice", alicePassword)
		elsewhere := logIn(t, q, "alice", alicePassword)
		token := q.NewResetToken(t, alice.ID)
		// A failed login by the email leaves a count the change clears.
		_, err := q.App.LogIn(ctx, app.Credentials{Username: "alice@example.com", Password: "wrong"}, app.SessionStart{})
		wantError(t, "LogIn(wrong password)", err, blog.ErrBadCredentials)

		if _, err := q.App.ChangeAccount(ctx, here, alice.ID, app.AccountChange{
			Username: ptr("alice"), Email: ptr("alice@example.com"), Password: ptr(newPassword), CurrentPassword: ptr(alicePassword),
		}); err != nil {
			t.Fatalf("ChangeAccount(new password) = %v", err)
		}
		if _, err := q.App.Authenticate(ctx, accessOf(t, q, here)); err != nil {
			t.Errorf("the session that changed the password: Authenticate = %v, want it kept", err)
		}
		sessions, err := q.App.Sessions(ctx, here)
		if err != nil || len(sessions) != 1 || sessions[0].ID != here.Session.ID {
			t.Errorf("Sessions() after the change = %v, %v, want only this one", sessions, err)
		}
		if _, err := q.App.Authenticate(ctx, accessOf(t, q, elsewhere)); !errors.Is(err, blog.ErrInvalidToken) {
			t.Errorf("another session after the change: Authenticate = %v, want ErrInvalidToken", err)
		}
		err = q.App.ResetPassword(ctx, app.PasswordReset{Token: token, NewPassword: "yet-another-pass-99"})
		wantError(t, "ResetPassword(a link from before the change)", err, blog.ErrInvalidReset)
		// Five failed logins by the email would now block it had the
		// change not cleared the count: four more still pass.
		for range blog.FreeLoginFailures - 1 {
			_, err := q.App.LogIn(ctx, app.Credentials{Username: "alice@example.com", Password: "wrong"}, app.SessionStart{})
			wantError(t, "LogIn(wrong password)", err, blog.ErrBadCredentials)
		}
		logIn(t, q, "alice@example.com", newPassword)
	})
}

// accessOf issues a fresh access token for c's session, as a refresh
// would.
func accessOf(tb testing.TB, q *quilltest.Quill, c *app.Caller) string {
	tb.Helper()
	token, _, err := q.Tokens.Issue(c.User.ID, c.Session.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return token
}

func TestAccountChangeIsOneTransaction(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		c := logIn(t, q, "alice", alicePassword)
		q.NewResetToken(t, alice.ID)
		// Voiding the reset links, one of the last steps of a new
		// password, fails.
		inject(t, q, "fail_reset_delete", "password_resets",
			`CREATE TRIGGER fail_reset_delete BEFORE DELETE ON password_resets BEGIN SELECT RAISE(ABORT, 'injected fault'); END`,
			`CREATE FUNCTION fail_reset_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$;
			 CREATE TRIGGER fail_reset_delete BEFORE DELETE ON password_resets FOR EACH ROW EXECUTE FUNCTION fail_reset_delete()`)
		_, err := q.App.ChangeAccount(ctx, c, alice.ID, app.AccountChange{
			Username: ptr("alice-renamed"), Email: ptr("alice@example.com"), Password: ptr(newPassword), CurrentPassword: ptr(alicePassword),
		})
		if err == nil {
			t.Fatal("ChangeAccount with a failing step = nil, want an error")
		}
		u, err := q.App.User(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.Username != "alice" || u.PasswordHash != alice.PasswordHash {
			t.Errorf("after a failed change the account is %q with hash changed %t, want nothing changed",
				u.Username, u.PasswordHash != alice.PasswordHash)
		}
	})
}

func TestLoginRacingAccountDeletion(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		register(t, q, "alice", "alice@example.com")
		// The account goes between the password check and the session's
		// creation: here, inside the login's own transaction, when it
		// clears the login failure count.
		inject(t, q, "delete_during_login", "login_failures",
			`CREATE TRIGGER delete_during_login AFTER DELETE ON login_failures BEGIN DELETE FROM users; END`,
			`CREATE FUNCTION delete_during_login() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM users; RETURN NULL; END $$;
			 CREATE TRIGGER delete_during_login AFTER DELETE ON login_failures FOR EACH STATEMENT EXECUTE FUNCTION delete_during_login()`)
		_, err := q.App.LogIn(t.Context(), app.Credentials{Username: "alice", Password: alicePassword}, app.SessionStart{})
		wantError(t, "LogIn to an account deleted meanwhile", err, blog.ErrBadCredentials)
	})
}

func TestLoginNeverAnswersServerErrorsWhileDeleting(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		for i := range 20 {
			name := "user" + string(rune('a'+i))
			u := register(t, q, name, name+"@example.com")
			c := logIn(t, q, name, alicePassword)
			var wg sync.WaitGroup
			wg.Go(func() {
				if err := q.App.DeleteAccount(ctx, c, u.ID); err != nil {
					t.Errorf("DeleteAccount = %v", err)
				}
			})
			_, err := q.App.LogIn(ctx, app.Credentials{Username: name, Password: alicePassword}, app.SessionStart{})
			wg.Wait()
			if err != nil && !errors.Is(err, blog.ErrBadCredentials) {
				t.Errorf("LogIn racing DeleteAccount = %v, want success or ErrBadCredentials", err)
			}
		}
	})
}

func TestStaleRequestCannotUndoPasswordChange(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		stale := logIn(t, q, "alice", alicePassword)
		fresh := logIn(t, q, "alice", alicePassword)
		if err := q.App.ChangePassword(ctx, fresh, app.PasswordChange{Current: alicePassword, New: newPassword}); err != nil {
			t.Fatal(err)
		}
		// stale was authenticated before the change: it must not write.
		_, err := q.App.ChangeAccount(ctx, stale, alice.ID, app.AccountChange{Username: ptr("mallory")})
		wantError(t, "ChangeAccount by a request authenticated before the change", err, blog.ErrInvalidToken)
	})
}

func TestAdminSetPassword(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		logIn(t, q, "alice", alicePassword)
		logIn(t, q, "alice", alicePassword)
		token := q.NewResetToken(t, alice.ID)
		for range blog.FreeLoginFailures + 1 {
			q.App.LogIn(ctx, app.Credentials{Username: "alice", Password: "wrong"}, app.SessionStart{})
		}
		ended, err := q.App.SetPassword(ctx, alice, newPassword)
		if err != nil || ended != 2 {
			t.Fatalf("SetPassword() = %d, %v, want 2 sessions ended", ended, err)
		}
		wantError(t, "ResetPassword after SetPassword", q.App.ResetPassword(ctx, app.PasswordReset{Token: token, NewPassword: "another-one-77"}), blog.ErrInvalidReset)
		logIn(t, q, "alice", newPassword) // not throttled any more
		_, err = q.App.SetPassword(ctx, alice, "yet-another-pass-99")
		wantError(t, "SetPassword with a user read before the last change", err, blog.ErrInvalidToken)
		var v *blog.Error
		if _, err := q.App.SetPassword(ctx, &blog.User{ID: alice.ID, Username: "alice", Email: "alice@example.com"}, "short"); !errors.As(err, &v) || v.Kind != blog.Unprocessable {
			t.Errorf("SetPassword(short) = %v, want a validation error", err)
		}
	})
}

func TestRegisterAndLogInIsOneTransaction(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		inject(t, q, "fail_session", "sessions",
			`CREATE TRIGGER fail_session BEFORE INSERT ON sessions BEGIN SELECT RAISE(ABORT, 'injected fault'); END`,
			`CREATE FUNCTION fail_session() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$;
			 CREATE TRIGGER fail_session BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION fail_session()`)
		if _, err := q.App.RegisterAndLogIn(ctx, app.Registration{Username: "alice", Email: "alice@example.com", Password: alicePassword}, app.SessionStart{}); err == nil {
			t.Fatal("RegisterAndLogIn with a failing session = nil, want an error")
		}
		if err := q.App.CheckAvailable(ctx, "alice", "alice@example.com"); err != nil {
			t.Errorf("CheckAvailable after a failed registration = %v, want the names free", err)
		}
	})
}

func TestImportedLookAlikesAreReported(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		register(t, q, "admin", "admin@example.com")
		results, err := q.App.ImportUsers(ctx, []blog.User{
			{ID: 100, Username: "аdmin", Email: "a@example.com", PasswordHash: "h"},
			{ID: 101, Username: "carol", Email: "c@example.com", PasswordHash: "h"},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if results[0].Outcome != blog.RowUsernameTaken || results[0].Holder != 1 {
			t.Errorf("ImportUsers(аdmin) = %+v, want the username taken by user 1", results[0])
		}
		if results[1].Outcome != blog.RowInserted {
			t.Errorf("ImportUsers(carol) = %+v, want inserted", results[1])
		}
	})
}

func TestResetPasswordConsequences(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		bob := register(t, q, "bob", "bob@example.com")
		logIn(t, q, "alice", alicePassword)
		bobs := logIn(t, q, "bob", alicePassword)
		token := q.NewResetToken(t, alice.ID)
		for range blog.FreeLoginFailures + 1 {
			q.App.LogIn(ctx, app.Credentials{Username: "alice@example.com", Password: "wrong"}, app.SessionStart{})
		}
		if err := q.App.ResetPassword(ctx, app.PasswordReset{Token: token, NewPassword: newPassword}); err != nil {
			t.Fatalf("ResetPassword() = %v", err)
		}
		if sessions := q.StoredSessions(t, alice.ID); len(sessions) != 0 {
			t.Errorf("Alice's sessions after a reset = %v, want none", sessions)
		}
		if _, err := q.App.Authenticate(ctx, accessOf(t, q, bobs)); err != nil {
			t.Errorf("Bob's session after Alice's reset: %v, want it kept", err)
		}
		wantError(t, "ResetPassword(the same link again)", q.App.ResetPassword(ctx, app.PasswordReset{Token: token, NewPassword: "another-one-77"}), blog.ErrInvalidReset)
		logIn(t, q, "alice@example.com", newPassword) // the throttle is cleared
		if sessions := q.StoredSessions(t, bob.ID); len(sessions) != 1 {
			t.Errorf("Bob's sessions after Alice's reset = %d, want 1", len(sessions))
		}
	})
}

// mailbox keeps the mails an App sends.
type mailbox struct {
	mu    sync.Mutex
	mail  []mail.Message
	taken int // mails that next has returned or passed over
	sent  chan struct{}
}

func newMailbox() *mailbox { return &mailbox{sent: make(chan struct{}, 1000)} }

func (m *mailbox) Send(_ context.Context, msg mail.Message) error {
	m.mu.Lock()
	m.mail = append(m.mail, msg)
	m.mu.Unlock()
	m.sent <- struct{}{}
	return nil
}

// next waits for the next mail with the subject, passing over the others,
// and returns it.
func (m *mailbox) next(tb testing.TB, subject string) mail.Message {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for {
		m.mu.Lock()
		for m.taken < len(m.mail) {
			msg := m.mail[m.taken]
			m.taken++
			if msg.Subject == subject {
				m.mu.Unlock()
				return msg
			}
		}
		m.mu.Unlock()
		select {
		case <-m.sent:
		case <-deadline:
			tb.Fatalf("no mail %q within 10 s", subject)
		}
	}
}

// all returns every mail sent so far.
func (m *mailbox) all() []mail.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mail.Message(nil), m.mail...)
}

// nextToken waits for the next reset mail and returns the token in it.
func (m *mailbox) nextToken(tb testing.TB) string {
	tb.Helper()
	return linkToken(tb, m.next(tb, "Reset your password"), "/reset-password?token=")
}

// linkToken returns the token of the link to path in msg.
func linkToken(tb testing.TB, msg mail.Message, path string) string {
	tb.Helper()
	_, after, ok := strings.Cut(msg.Text, path)
	if !ok || len(after) < 43 {
		tb.Fatalf("no link to %s in the mail:\n%s", path, msg.Text)
	}
	return after[:43]
}

func TestNewResetMailVoidsTheOlder(t *testing.T) {
	box := newMailbox()
	q := quilltest.New(t, quilltest.SQLite, quilltest.Options{App: func(c *app.Config) { c.Mailer = box }})
	ctx := t.Context()
	register(t, q, "alice", "alice@example.com")
	ask := func() {
		if err := q.App.RequestPasswordReset(ctx, app.ResetRequest{Email: "Alice@Example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	ask()
	first := box.nextToken(t)
	q.Clock.Advance(2 * time.Minute) // an address is mailed at most once a minute
	ask()
	second := box.nextToken(t)
	wantError(t, "ResetPassword(the first link)", q.App.ResetPassword(ctx, app.PasswordReset{Token: first, NewPassword: newPassword}), blog.ErrInvalidReset)
	if err := q.App.ResetPassword(ctx, app.PasswordReset{Token: second, NewPassword: newPassword}); err != nil {
		t.Errorf("ResetPassword(the second link) = %v", err)
	}
}
