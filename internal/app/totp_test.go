package app_test

import (
	"context"
	"encoding/base32"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/quilltest"
)

// noThrottle turns the login throttle off.
var noThrottle = quilltest.Options{App: func(c *app.Config) { c.ThrottleLogins = false }}

// forEachDBWith is forEachDB with opts.
func forEachDBWith(t *testing.T, opts quilltest.Options, test func(t *testing.T, q *quilltest.Quill)) {
	t.Helper()
	for _, db := range quilltest.DBs() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			test(t, quilltest.New(t, db, opts))
		})
	}
}

// codeAt is the TOTP code of secret (base32) at t, as an authenticator
// app would show it.
func codeAt(tb testing.TB, secret string, t time.Time) string {
	tb.Helper()
	code, err := totp.GenerateCode(secret, t)
	if err != nil {
		tb.Fatalf("totp.GenerateCode() = %v", err)
	}
	return code
}

// turnOnTOTP turns two-factor login on for c's user and returns the
// secret and the recovery codes. The clock moves on to the next time
// step, so the code it used is not the current one.
func turnOnTOTP(tb testing.TB, q *quilltest.Quill, c *app.Caller) (secret string, recovery []string) {
	tb.Helper()
	ctx := context.Background()
	e, err := q.App.StartTOTP(ctx, c)
	if err != nil {
		tb.Fatalf("StartTOTP() = %v", err)
	}
	recovery, err = q.App.ConfirmTOTP(ctx, c, app.TOTPConfirm{CurrentPassword: alicePassword, Code: codeAt(tb, e.Secret, q.Clock.Now())})
	if err != nil {
		tb.Fatalf("ConfirmTOTP() = %v", err)
	}
	q.Clock.Advance(auth.TOTPPeriod)
	return e.Secret, recovery
}

// logInWith logs in with a password and a code.
func logInWith(q *quilltest.Quill, username, password, otp string) error {
	_, err := q.App.LogIn(context.Background(), app.Credentials{Username: username, Password: password, OTP: otp}, app.SessionStart{})
	return err
}

func TestTOTPEnrolment(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		register(t, q, "alice", "alice@example.com")
		c := logIn(t, q, "alice", alicePassword)

		if _, err := q.App.ConfirmTOTP(ctx, c, app.TOTPConfirm{CurrentPassword: alicePassword, Code: "123456"}); err != blog.ErrTOTPNotStarted {
			t.Errorf("ConfirmTOTP() before StartTOTP = %v, want %v", err, blog.ErrTOTPNotStarted)
		}
		first, err := q.App.StartTOTP(ctx, c)
		if err != nil {
			t.Fatalf("StartTOTP() = %v", err)
		}
		u, err := url.Parse(first.URI)
		if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/quill.test:alice" ||
			u.Query().Get("secret") != first.Secret || u.Query().Get("issuer") != "quill.test" {
			t.Errorf("StartTOTP() URI = %s, want otpauth://totp/quill.test:alice?secret=%s&issuer=quill.test…", first.URI, first.Secret)
		}
		if len(first.Secret) != 32 {
			t.Errorf("StartTOTP() secret %q has %d characters, want 32 (160 bits)", first.Secret, len(first.Secret))
		}
		// Pending: logins need no code yet.
		logIn(t, q, "alice", alicePassword)
		if on, err := q.App.TOTPEnabled(ctx, c.User.ID); on || err != nil {
			t.Errorf("TOTPEnabled() while pending = %v, %v, want false", on, err)
		}
		// Starting again replaces the pending secret: the first one's
		// code confirms nothing.
		second, err := q.App.StartTOTP(ctx, c)
		if err != nil {
			t.Fatalf("StartTOTP() again = %v", err)
		}
		if second.Secret == first.Secret {
			t.Fatalf("StartTOTP() twice gave one secret")
		}
		if p, err := q.App.PendingTOTP(ctx, c); err != nil || *p != *second {
			t.Errorf("PendingTOTP() = %+v, %v, want %+v", p, err, second)
		}
		now := q.Clock.Now()
		if codeAt(t, first.Secret, now) != codeAt(t, second.Secret, now) {
			_, err = q.App.ConfirmTOTP(ctx, c, app.TOTPConfirm{CurrentPassword: alicePassword, Code: codeAt(t, first.Secret, now)})
			wantError(t, "ConfirmTOTP(the replaced secret's code)", err, blog.ErrInvalidOTP)
		}
		for _, code := range []string{"", "12345", "abc", codeAt(t, second.Secret, now.Add(2*auth.TOTPPeriod))} {
			_, err = q.App.ConfirmTOTP(ctx, c, app.TOTPConfirm{CurrentPassword: alicePassword, Code: code})
			if code == "" {
				wantKind(t, "ConfirmTOTP(no code)", err, blog.Unprocessable)
				continue
			}
			wantError(t, fmt.Sprintf("ConfirmTOTP(%q)", code), err, blog.ErrInvalidOTP)
		}
		// The password too: a stolen session cannot put its own factor on
		// the account. A wrong one counts as a failed login.
		_, err = q.App.ConfirmTOTP(ctx, c, app.TOTPConfirm{Code: codeAt(t, second.Secret, now)})
		if e := wantKind(t, "ConfirmTOTP(no password)", err, blog.Unprocessable); e != nil && len(e.Problems) != 1 {
			t.Errorf("ConfirmTOTP(no password) problems = %v, want current_password's", e.Problems)
		}
		for i := range blog.FreeLoginFailures {
			_, err = q.App.ConfirmTOTP(ctx, c, app.TOTPConfirm{CurrentPassword: fmt.Sprint("a wrong guess ", i), Code: codeAt(t, second.Secret, now)})
			wantError(t, "ConfirmTOTP(wrong password)", err, blog.ErrWrongPassword)
		}
		_, err = q.App.ConfirmTOTP(ctx, c, app.TOTPConfirm{CurrentPassword: alicePassword, Code: codeAt(t, second.Secret, now)})
		wantKind(t, "ConfirmTOTP(right password) after five wrong ones", err, blog.TooManyRequests)
		if on, _ := q.App.TOTPEnabled(ctx, c.User.ID); on {
			t.Fatalf("a refused ConfirmTOTP turned it on")
		}
		q.Clock.Advance(blog.MaxLoginDelay)
		now = q.Clock.Now()
		recovery, err := q.App.ConfirmTOTP(ctx, c, app.TOTPConfirm{CurrentPassword: alicePassword, Code: codeAt(t, second.Secret, now)})
		if err != nil {
			t.Fatalf("ConfirmTOTP() = %v", err)
		}
		if len(recovery) != blog.RecoveryCodes {
			t.Errorf("ConfirmTOTP() gave %d recovery codes, want %d", len(recovery), blog.RecoveryCodes)
		}
		seen := map[string]bool{}
		for _, rc := range recovery {
			if otp, ok := auth.ParseOTP(rc); !ok || otp.Kind != auth.OTPRecovery || seen[rc] {
				t.Errorf("recovery code %q is not a recovery code, or repeated", rc)
			}
			seen[rc] = true
		}
		if on, err := q.App.TOTPEnabled(ctx, c.User.ID); !on || err != nil {
			t.Errorf("TOTPEnabled() once confirmed = %v, %v, want true", on, err)
		}
		_, err = q.App.StartTOTP(ctx, c)
		wantError(t, "StartTOTP() when on", err, blog.ErrTOTPEnabled)
		_, err = q.App.PendingTOTP(ctx, c)
		wantError(t, "PendingTOTP() when on", err, blog.ErrTOTPEnabled)
		_, err = q.App.ConfirmTOTP(ctx, c, app.TOTPConfirm{CurrentPassword: alicePassword, Code: codeAt(t, second.Secret, now)})
		wantError(t, "ConfirmTOTP() when on", err, blog.ErrTOTPEnabled)

		// The code that confirmed is spent: it does not log in.
		wantError(t, "LogIn(the confirming code)", logInWith(q, "alice", alicePassword, codeAt(t, second.Secret, now)), blog.ErrBadOTP)
	})
}

func TestTOTPLogin(t *testing.T) {
	// Many failures in a row: TestWrongCodesAreThrottled has the throttle.
	forEachDBWith(t, noThrottle, func(t *testing.T, q *quilltest.Quill) {
		register(t, q, "alice", "alice@example.com")
		register(t, q, "bob", "bob@example.com")
		secret, _ := turnOnTOTP(t, q, logIn(t, q, "alice", alicePassword))
		step := func(n int) time.Time { return q.Clock.Now().Add(time.Duration(n) * auth.TOTPPeriod) }

		wantError(t, "LogIn(no code)", logInWith(q, "alice", alicePassword, ""), blog.ErrOTPRequired)
		wantError(t, "LogIn(blank code)", logInWith(q, "alice", alicePassword, "   "), blog.ErrOTPRequired)
		wantError(t, "LogIn(wrong password, right code)", logInWith(q, "alice", "a wrong guess", codeAt(t, secret, step(0))), blog.ErrBadCredentials)
		for _, code := range []string{"000000", "12345", "not a code", codeAt(t, secret, step(2)), codeAt(t, secret, step(-2))} {
			if code == codeAt(t, secret, step(0)) {
				continue // a wrong code that happens to be right is no test
			}
			wantError(t, fmt.Sprintf("LogIn(code %q)", code), logInWith(q, "alice", alicePassword, code), blog.ErrBadOTP)
		}
		// Bob has no second factor: whatever he sends as a code is ignored.
		if err := logInWith(q, "bob", alicePassword, "000000"); err != nil {
			t.Errorf("LogIn(bob, a stray code) = %v, want nil", err)
		}

		now := codeAt(t, secret, step(0))
		if err := logInWith(q, "alice", alicePassword, now); err != nil {
			t.Fatalf("LogIn(the current code) = %v", err)
		}
		// Replay, even inside its time window.
		wantError(t, "LogIn(the same code again)", logInWith(q, "alice", alicePassword, now), blog.ErrBadOTP)

		// One step of skew either way is accepted, moving forward only.
		q.Clock.Advance(3 * auth.TOTPPeriod)
		if err := logInWith(q, "alice", alicePassword, codeAt(t, secret, step(-1))); err != nil {
			t.Errorf("LogIn(a code one step old) = %v", err)
		}
		if err := logInWith(q, "alice", alicePassword, codeAt(t, secret, step(1))); err != nil {
			t.Errorf("LogIn(a code one step ahead) = %v", err)
		}
		// The current step is before the last one used now.
		wantError(t, "LogIn(a code older than the last used)", logInWith(q, "alice", alicePassword, codeAt(t, secret, step(0))), blog.ErrBadOTP)
	})
}

func TestTOTPRefreshNeedsNoCode(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		register(t, q, "alice", "alice@example.com")
		secret, _ := turnOnTOTP(t, q, logIn(t, q, "alice", alicePassword))
		login, err := q.App.LogIn(ctx, app.Credentials{Username: "alice", Password: alicePassword, OTP: codeAt(t, secret, q.Clock.Now())}, app.SessionStart{})
		if err != nil {
			t.Fatal(err)
		}
		q.Clock.Advance(time.Hour)
		if _, err := q.App.Refresh(ctx, login.Refresh); err != nil {
			t.Errorf("Refresh() of a session started with a code = %v", err)
		}
	})
}

func TestRecoveryCodes(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		register(t, q, "alice", "alice@example.com")
		register(t, q, "bob", "bob@example.com")
		_, recovery := turnOnTOTP(t, q, logIn(t, q, "alice", alicePassword))
		_, bobs := turnOnTOTP(t, q, logIn(t, q, "bob", alicePassword))

		wantError(t, "LogIn(alice, bob's recovery code)", logInWith(q, "alice", alicePassword, bobs[0]), blog.ErrBadOTP)
		// Typed in upper case with spaces, it is the same code.
		typed := strings.ToUpper(strings.ReplaceAll(recovery[0], "-", " "))
		if err := logInWith(q, "alice", alicePassword, typed); err != nil {
			t.Fatalf("LogIn(a recovery code) = %v", err)
		}
		wantError(t, "LogIn(the same recovery code again)", logInWith(q, "alice", alicePassword, recovery[0]), blog.ErrBadOTP)
		f, err := q.App.SecondFactors(ctx, mustFind(t, q, "alice").ID)
		if err != nil || f.RecoveryCodesLeft != blog.RecoveryCodes-1 || !f.TOTP.Enabled() {
			t.Errorf("SecondFactors() = %+v, %v, want TOTP on and %d codes left", f, err, blog.RecoveryCodes-1)
		}
	})
}

func mustFind(tb testing.TB, q *quilltest.Quill, username string) *blog.User {
	tb.Helper()
	u, err := q.App.FindUser(context.Background(), app.Selector{Username: username})
	if err != nil {
		tb.Fatalf("FindUser(%q) = %v", username, err)
	}
	return u
}

func TestDisableTOTP(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		register(t, q, "alice", "alice@example.com")
		c := logIn(t, q, "alice", alicePassword)
		err := q.App.DisableTOTP(ctx, c, app.TOTPDisable{CurrentPassword: alicePassword, Code: "123456"})
		wantError(t, "DisableTOTP() when off", err, blog.ErrTOTPDisabled)
		secret, recovery := turnOnTOTP(t, q, c)

		err = q.App.DisableTOTP(ctx, c, app.TOTPDisable{})
		if e := wantKind(t, "DisableTOTP(nothing)", err, blog.Unprocessable); e != nil && len(e.Problems) != 2 {
			t.Errorf("DisableTOTP(nothing) problems = %v, want current_password and code", e.Problems)
		}
		err = q.App.DisableTOTP(ctx, c, app.TOTPDisable{CurrentPassword: "a wrong guess", Code: codeAt(t, secret, q.Clock.Now())})
		wantError(t, "DisableTOTP(wrong password)", err, blog.ErrWrongPassword)
		err = q.App.DisableTOTP(ctx, c, app.TOTPDisable{CurrentPassword: alicePassword, Code: "000000"})
		wantError(t, "DisableTOTP(wrong code)", err, blog.ErrInvalidOTP)
		if on, _ := q.App.TOTPEnabled(ctx, c.User.ID); !on {
			t.Fatalf("a refused DisableTOTP turned it off")
		}
		// A recovery code does it.
		if err := q.App.DisableTOTP(ctx, c, app.TOTPDisable{CurrentPassword: alicePassword, Code: recovery[3]}); err != nil {
			t.Fatalf("DisableTOTP(a recovery code) = %v", err)
		}
		if on, _ := q.App.TOTPEnabled(ctx, c.User.ID); on {
			t.Errorf("TOTPEnabled() after DisableTOTP = true")
		}
		logIn(t, q, "alice", alicePassword)
		f, err := q.App.SecondFactors(ctx, c.User.ID)
		if err != nil || f.TOTP != nil || f.RecoveryCodesLeft != 0 {
			t.Errorf("SecondFactors() after DisableTOTP = %+v, %v, want none", f, err)
		}
		// And it can be turned on again, with a new secret.
		again, _ := turnOnTOTP(t, q, c)
		if again == secret {
			t.Errorf("turning TOTP on again reused the old secret")
		}
	})
}

// TestTOTPSecretSealed reads the row as the database holds it: the
// secret is nowhere in it, in any spelling.
func TestTOTPSecretSealed(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		bob := register(t, q, "bob", "bob@example.com")
		secret, recovery := turnOnTOTP(t, q, logIn(t, q, "alice", alicePassword))
		raw, ok := auth.ParseOTP(recovery[0])
		if !ok {
			t.Fatal("not a recovery code")
		}

		db := q.SQL(t)
		var sealed []byte
		if err := db.QueryRowContext(ctx, `SELECT secret FROM totp_factors WHERE user_id = $1`, alice.ID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		secretBytes := mustBase32(t, secret)
		for _, s := range []string{secret, strings.ToLower(secret), string(secretBytes)} {
			if strings.Contains(string(sealed), s) {
				t.Errorf("totp_factors.secret holds the secret in the clear")
			}
		}
		rows, err := db.QueryContext(ctx, `SELECT code_hash FROM recovery_codes WHERE user_id = $1`, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var h []byte
			if err := rows.Scan(&h); err != nil {
				t.Fatal(err)
			}
			n++
			if strings.Contains(string(h), raw.Code) || strings.Contains(string(h), recovery[0]) {
				t.Errorf("recovery_codes holds a code in the clear")
			}
		}
		rows.Close()
		if n != blog.RecoveryCodes {
			t.Errorf("recovery_codes has %d rows for alice, want %d", n, blog.RecoveryCodes)
		}

		// The sealed secret is bound to its account: moved to bob, it
		// opens for nobody, and bob's login refuses alice's codes.
		_, bobRecovery := turnOnTOTP(t, q, logIn(t, q, "bob", alicePassword))
		if _, err := db.ExecContext(ctx, `UPDATE totp_factors SET secret = $1 WHERE user_id = $2`, sealed, bob.ID); err != nil {
			t.Fatal(err)
		}
		wantError(t, "LogIn(bob, alice's code after her secret was copied to his row)",
			logInWith(q, "bob", alicePassword, codeAt(t, secret, q.Clock.Now())), blog.ErrBadOTP)
		if !strings.Contains(q.Logs.String(), "does not open") {
			t.Errorf("a secret that does not open was not logged")
		}
		// Recovery codes still let bob in.
		if err := logInWith(q, "bob", alicePassword, bobRecovery[0]); err != nil {
			t.Errorf("LogIn(bob, a recovery code) with an unreadable secret = %v", err)
		}
	})
}

func mustBase32(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestWrongCodesAreThrottled checks that a right password with wrong
// codes counts as failed logins, and that asking for a code does not
// clear the count.
func TestWrongCodesAreThrottled(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		register(t, q, "alice", "alice@example.com")
		secret, _ := turnOnTOTP(t, q, logIn(t, q, "alice", alicePassword))
		for i := range blog.FreeLoginFailures {
			otp := "000000"
			if i%2 == 1 {
				otp = "" // a right password alone clears nothing
			}
			err := logInWith(q, "alice", alicePassword, otp)
			if err != blog.ErrBadOTP && err != blog.ErrOTPRequired {
				t.Fatalf("LogIn(right password, code %q) #%d = %v, want invalid_otp or otp_required", otp, i+1, err)
			}
		}
		err := logInWith(q, "alice", alicePassword, codeAt(t, secret, q.Clock.Now()))
		if e := wantKind(t, "LogIn(the right code) after five failures", err, blog.TooManyRequests); e != nil && e.Code != "login_throttled" {
			t.Errorf("code %q, want login_throttled", e.Code)
		}
		q.Clock.Advance(blog.MaxLoginDelay)
		if err := logInWith(q, "alice", alicePassword, codeAt(t, secret, q.Clock.Now())); err != nil {
			t.Fatalf("LogIn(the right code) once the wait is over = %v", err)
		}
		// Success cleared the count: five more failures are free again.
		for range blog.FreeLoginFailures - 1 {
			wantError(t, "LogIn(wrong code)", logInWith(q, "alice", alicePassword, "000000"), blog.ErrBadOTP)
		}
	})
}

// TestConcurrentLoginsOneCode sends one code in several logins at once:
// exactly one gets in.
func TestConcurrentLoginsOneCode(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		register(t, q, "alice", "alice@example.com")
		secret, _ := turnOnTOTP(t, q, logIn(t, q, "alice", alicePassword))
		code := codeAt(t, secret, q.Clock.Now())
		const n = 4
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			ok, used int
		)
		for range n {
			wg.Go(func() {
				err := logInWith(q, "alice", alicePassword, code)
				mu.Lock()
				defer mu.Unlock()
				switch err {
				case nil:
					ok++
				case blog.ErrBadOTP:
					used++
				default:
					t.Errorf("LogIn() = %v", err)
				}
			})
		}
		wg.Wait()
		if ok != 1 || used != n-1 {
			t.Errorf("%d logins with one code: %d got in and %d were refused, want 1 and %d", n, ok, used, n-1)
		}
	})
}

func TestLogInInTwoSteps(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		register(t, q, "alice", "alice@example.com")
		register(t, q, "bob", "bob@example.com")
		c := logIn(t, q, "alice", alicePassword)
		secret, recovery := turnOnTOTP(t, q, c)
		begin := func(name, password string) *app.Challenge {
			t.Helper()
			login, ch, err := q.App.BeginLogIn(ctx, app.Credentials{Username: name, Password: password}, app.SessionStart{})
			if err != nil || login != nil || ch == nil {
				t.Fatalf("BeginLogIn(%s) = %v, %v, %v, want a challenge", name, login, ch, err)
			}
			return ch
		}
		finish := func(ch *app.Challenge, otp string) (*app.Login, error) {
			return q.App.FinishLogIn(ctx, app.SecondStep{Challenge: ch.Token, OTP: otp}, app.SessionStart{})
		}

		// Without two-factor login, the first step logs in.
		login, ch, err := q.App.BeginLogIn(ctx, app.Credentials{Username: "bob", Password: alicePassword}, app.SessionStart{})
		if err != nil || login == nil || ch != nil {
			t.Fatalf("BeginLogIn(bob) = %v, %v, %v, want a login", login, ch, err)
		}
		_, _, err = q.App.BeginLogIn(ctx, app.Credentials{Username: "alice", Password: "a wrong guess"}, app.SessionStart{})
		wantError(t, "BeginLogIn(wrong password)", err, blog.ErrBadCredentials)

		ch = begin("alice", alicePassword)
		if want := q.Clock.Now().Add(5 * time.Minute); ch.Expires.After(want) || ch.Expires.Before(want.Add(-time.Second)) {
			t.Errorf("challenge expires at %v, want five minutes on, %v", ch.Expires, want)
		}
		_, err = finish(ch, "")
		wantKind(t, "FinishLogIn(no code)", err, blog.Unprocessable)
		_, err = finish(ch, "000000")
		wantError(t, "FinishLogIn(wrong code)", err, blog.ErrBadOTP)
		_, err = finish(&app.Challenge{Token: ch.Token[:len(ch.Token)-2] + "AA"}, codeAt(t, secret, q.Clock.Now()))
		wantError(t, "FinishLogIn(a forged challenge)", err, blog.ErrInvalidChallenge)
		// A wrong code leaves the challenge usable; the right one logs in.
		login, err = finish(ch, codeAt(t, secret, q.Clock.Now()))
		if err != nil || login.User.Username != "alice" {
			t.Fatalf("FinishLogIn(the right code) = %v, %v", login, err)
		}
		if _, err := q.App.Authenticate(ctx, login.Access); err != nil {
			t.Errorf("Authenticate(FinishLogIn's token) = %v", err)
		}
		// Single use, even with a fresh code.
		_, err = finish(ch, recovery[0])
		wantError(t, "FinishLogIn(a used challenge)", err, blog.ErrInvalidChallenge)

		// Expired after five minutes.
		ch = begin("alice", alicePassword)
		q.Clock.Advance(5*time.Minute + time.Second)
		_, err = finish(ch, codeAt(t, secret, q.Clock.Now()))
		wantError(t, "FinishLogIn(an expired challenge)", err, blog.ErrInvalidChallenge)

		// A new password voids the challenges issued before it.
		ch = begin("alice", alicePassword)
		if err := q.App.ChangePassword(ctx, logInWithCode(t, q, secret), app.PasswordChange{Current: alicePassword, New: newPassword}); err != nil {
			t.Fatal(err)
		}
		q.Clock.Advance(auth.TOTPPeriod)
		_, err = finish(ch, codeAt(t, secret, q.Clock.Now()))
		wantError(t, "FinishLogIn(a challenge from before a new password)", err, blog.ErrInvalidChallenge)

		// The code step is throttled like the password step, and counts
		// with it: the password step counted one failure until a code
		// completes the login.
		ch = begin("alice", newPassword)
		for i := range blog.FreeLoginFailures - 1 {
			_, err = finish(ch, "000000")
			if err != blog.ErrBadOTP {
				t.Fatalf("FinishLogIn(wrong code) #%d = %v", i+1, err)
			}
		}
		_, err = finish(ch, codeAt(t, secret, q.Clock.Now()))
		wantKind(t, "FinishLogIn(right code) after four wrong ones", err, blog.TooManyRequests)
	})
}

// logInWithCode logs alice in with the current code, then moves the clock
// to the next step.
func logInWithCode(tb testing.TB, q *quilltest.Quill, secret string) *app.Caller {
	tb.Helper()
	ctx := context.Background()
	login, err := q.App.LogIn(ctx, app.Credentials{Username: "alice", Password: alicePassword, OTP: codeAt(tb, secret, q.Clock.Now())}, app.SessionStart{})
	if err != nil {
		tb.Fatalf("LogIn(alice, code) = %v", err)
	}
	q.Clock.Advance(auth.TOTPPeriod)
	c, err := q.App.Authenticate(ctx, login.Access)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestResetSecondFactors(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		secret, _ := turnOnTOTP(t, q, logIn(t, q, "alice", alicePassword))
		login, err := q.App.LogIn(ctx, app.Credentials{Username: "alice", Password: alicePassword, OTP: codeAt(t, secret, q.Clock.Now())}, app.SessionStart{})
		if err != nil {
			t.Fatal(err)
		}
		// Locked out: five wrong codes.
		for range blog.FreeLoginFailures {
			logInWith(q, "alice", alicePassword, "000000")
		}
		r, err := q.App.ResetSecondFactors(ctx, alice.ID)
		if err != nil || !r.TOTP || r.RecoveryCodes != blog.RecoveryCodes || r.Sessions != 2 {
			t.Fatalf("ResetSecondFactors() = %+v, %v, want TOTP, %d codes, 2 sessions", r, err, blog.RecoveryCodes)
		}
		if _, err := q.App.Authenticate(ctx, login.Access); err == nil {
			t.Errorf("a session outlived ResetSecondFactors")
		}
		// The password alone works at once.
		logIn(t, q, "alice", alicePassword)
		r, err = q.App.ResetSecondFactors(ctx, alice.ID)
		if err != nil || r.TOTP || r.RecoveryCodes != 0 || r.Sessions != 1 {
			t.Errorf("ResetSecondFactors() again = %+v, %v, want nothing but the new session", r, err)
		}
		_, err = q.App.ResetSecondFactors(ctx, alice.ID+100)
		wantError(t, "ResetSecondFactors(no such user)", err, blog.ErrUserNotFound)
		_, err = q.App.SecondFactors(ctx, alice.ID+100)
		wantError(t, "SecondFactors(no such user)", err, blog.ErrUserNotFound)
	})
}

// TestCodeSpentOnlyWithTheSession makes the session's creation, the last
// step of a login, fail: the code, the recovery code and the challenge
// are spent only with a session, in one transaction.
func TestCodeSpentOnlyWithTheSession(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		register(t, q, "alice", "alice@example.com")
		secret, recovery := turnOnTOTP(t, q, logIn(t, q, "alice", alicePassword))
		code := codeAt(t, secret, q.Clock.Now())
		_, ch, err := q.App.BeginLogIn(ctx, app.Credentials{Username: "alice", Password: alicePassword}, app.SessionStart{})
		if err != nil || ch == nil {
			t.Fatalf("BeginLogIn() = %v, %v", ch, err)
		}
		t.Run("fault", func(t *testing.T) {
			inject(t, q, "fail_session_insert", "sessions",
				`CREATE TRIGGER fail_session_insert BEFORE INSERT ON sessions BEGIN SELECT RAISE(ABORT, 'injected fault'); END`,
				`CREATE FUNCTION fail_session_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$;
				 CREATE TRIGGER fail_session_insert BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION fail_session_insert()`)
			for _, otp := range []string{code, recovery[0]} {
				if err := logInWith(q, "alice", alicePassword, otp); err == nil {
					t.Errorf("LogIn(%q) with a failing session insert = nil", otp)
				}
			}
			if _, err := q.App.FinishLogIn(ctx, app.SecondStep{Challenge: ch.Token, OTP: recovery[1]}, app.SessionStart{}); err == nil {
				t.Errorf("FinishLogIn() with a failing session insert = nil")
			}
		})
		if err := logInWith(q, "alice", alicePassword, code); err != nil {
			t.Errorf("LogIn(the code of a failed login) = %v, want it unspent", err)
		}
		if err := logInWith(q, "alice", alicePassword, recovery[0]); err != nil {
			t.Errorf("LogIn(the recovery code of a failed login) = %v, want it unspent", err)
		}
		if _, err := q.App.FinishLogIn(ctx, app.SecondStep{Challenge: ch.Token, OTP: recovery[1]}, app.SessionStart{}); err != nil {
			t.Errorf("FinishLogIn(the challenge of a failed login) = %v, want it unused", err)
		}
	})
}

// TestTwoFactorOffNotice checks that the account's address is told when
// two-factor login goes off, by its owner or by the administrator.
func TestTwoFactorOffNotice(t *testing.T) {
	box := newMailbox()
	q := quilltest.New(t, quilltest.SQLite, quilltest.Options{App: func(c *app.Config) { c.Mailer = box }})
	ctx := t.Context()
	register(t, q, "alice", "alice@example.com")
	c := logIn(t, q, "alice", alicePassword)
	_, recovery := turnOnTOTP(t, q, c)
	if err := q.App.DisableTOTP(ctx, c, app.TOTPDisable{CurrentPassword: alicePassword, Code: recovery[0]}); err != nil {
		t.Fatal(err)
	}
	m := box.next(t, "Two-factor login was turned off")
	if m.To != "alice@example.com" || !strings.Contains(m.Text, "the password alone logs in") {
		t.Errorf("the notice:\n%+v", m)
	}
	turnOnTOTP(t, q, c)
	addPasskey(t, q, c, newAuthenticator(), "Phone")
	if _, err := q.App.ResetSecondFactors(ctx, c.User.ID); err != nil {
		t.Fatal(err)
	}
	box.next(t, "Two-factor login was turned off")
	if m := box.next(t, "A passkey was removed from your account"); !strings.Contains(m.Text, "Phone") || !strings.Contains(m.Text, "administrator") {
		t.Errorf("the passkey notice after a reset:\n%s", m.Text)
	}
}
