package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/passkey/passkeytest"
	"github.com/quill-blog/quill/internal/quilltest"
)

// The passkey ceremonies, driven by a software authenticator
// (passkeytest) in place of a browser.

// gpm is the AAGUID Google Password Manager reports.
var gpm = [16]byte{0xea, 0x9b, 0x8d, 0x66, 0x4d, 0x01, 0x1d, 0x21, 0x3c, 0xe4, 0xb6, 0xb4, 0x8c, 0xb5, 0x75, 0xd4}

// newAuthenticator is an authenticator on the test site's pages.
func newAuthenticator() *passkeytest.Authenticator { return passkeytest.New(quilltest.PublicURL) }

// addPasskey adds a passkey made by auth to c's account, named name ("":
// quill's choice).
func addPasskey(tb testing.TB, q *quilltest.Quill, c *app.Caller, auth *passkeytest.Authenticator, name string) *blog.Passkey {
	tb.Helper()
	ctx := context.Background()
	opts, err := q.App.BeginPasskeyRegistration(ctx, c, app.PasskeyStart{CurrentPassword: alicePassword})
	if err != nil {
		tb.Fatalf("BeginPasskeyRegistration() = %v", err)
	}
	res, err := auth.Create(opts.Options)
	if err != nil {
		tb.Fatalf("the authenticator refused the options: %v", err)
	}
	in := app.NewPasskey{CeremonyID: opts.CeremonyID, Credential: res}
	if name != "" {
		in.Name = &name
	}
	p, err := q.App.FinishPasskeyRegistration(ctx, c, in)
	if err != nil {
		tb.Fatalf("FinishPasskeyRegistration() = %v", err)
	}
	return p
}

// passkeyLogin logs in with auth's passkey, naming username if it is not
// "", and returns the result.
func passkeyLogin(tb testing.TB, q *quilltest.Quill, auth *passkeytest.Authenticator, username string) (*app.Login, error) {
	tb.Helper()
	ctx := context.Background()
	opts, err := q.App.BeginPasskeyLogin(ctx, app.PasskeyLoginStart{Username: username})
	if err != nil {
		tb.Fatalf("BeginPasskeyLogin(%q) = %v", username, err)
	}
	res, err := auth.Get(opts.Options)
	if err != nil {
		tb.Fatalf("the authenticator refused the options: %v", err)
	}
	return q.App.FinishPasskeyLogin(ctx, app.PasskeyAssertion{CeremonyID: opts.CeremonyID, Credential: res}, app.SessionStart{})
}

func TestPasskeyRegistrationAndLogin(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		alice := register(t, q, "alice", "alice@example.com")
		c := logIn(t, q, "alice", alicePassword)

		// Adding a passkey needs the password.
		_, err := q.App.BeginPasskeyRegistration(ctx, c, app.PasskeyStart{})
		wantKind(t, "BeginPasskeyRegistration(no password)", err, blog.Unprocessable)
		_, err = q.App.BeginPasskeyRegistration(ctx, c, app.PasskeyStart{CurrentPassword: "a wrong guess"})
		wantError(t, "BeginPasskeyRegistration(a wrong password)", err, blog.ErrWrongPassword)

		auth := newAuthenticator()
		first := addPasskey(t, q, c, auth, "")
		if first.Name != "Passkey 1" || first.UserID != alice.ID || first.SignCount != 0 || !first.LastUsedAt.IsZero() {
			t.Errorf("the first passkey = %+v, want Passkey 1 of alice's, never used", first)
		}
		synced := newAuthenticator()
		synced.AAGUID, synced.Synced = gpm, true
		second := addPasskey(t, q, c, synced, "")
		// The options exclude the account's passkeys: an authenticator
		// holding one makes no second.
		opts, err := q.App.BeginPasskeyRegistration(ctx, c, app.PasskeyStart{CurrentPassword: alicePassword})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := synced.Create(opts.Options); err == nil {
			t.Error("an authenticator holding a passkey of the account made another")
		}
		third := addPasskey(t, q, c, newAuthenticator(), "  Work laptop ")
		if second.Name != "Google Password Manager" || !second.Synced() || third.Name != "Work laptop" || first.Synced() {
			t.Errorf("passkeys named %q (synced %t) and %q, want the provider's name and the one given", second.Name, second.Synced(), third.Name)
		}
		keys, err := q.App.Passkeys(ctx, c)
		if err != nil || len(keys) != 3 || keys[0].ID != first.ID || keys[2].ID != third.ID {
			t.Fatalf("Passkeys() = %+v, %v, want the three, oldest first", keys, err)
		}

		// Five wrong passwords: the account's names are throttled.
		for range blog.FreeLoginFailures {
			q.App.LogIn(ctx, app.Credentials{Username: "alice", Password: "wrong"}, app.SessionStart{})
		}
		_, err = q.App.LogIn(ctx, app.Credentials{Username: "alice", Password: alicePassword}, app.SessionStart{})
		wantKind(t, "LogIn after five failures", err, blog.TooManyRequests)

		// A passkey logs in anyway, without a name and with either of them,
		// and clears the count.
		q.Clock.Advance(time.Minute)
		for _, name := range []string{"", "alice", "ALICE@example.com"} {
			login, err := passkeyLogin(t, q, auth, name)
			if err != nil {
				t.Fatalf("passkey login naming %q = %v", name, err)
			}
			if login.User.ID != alice.ID || login.Refresh == "" {
				t.Errorf("passkey login naming %q = user %d, want alice with tokens", name, login.User.ID)
			}
			if _, err := q.App.Authenticate(ctx, login.Access); err != nil {
				t.Errorf("the passkey login's access token: %v", err)
			}
		}
		logIn(t, q, "alice", alicePassword) // no longer throttled

		keys, _ = q.App.Passkeys(ctx, c)
		if keys[0].SignCount != 3 || !keys[0].LastUsedAt.Equal(q.Clock.Now().UTC().Truncate(time.Microsecond)) {
			t.Errorf("after three logins the passkey is %+v, want count 3 and used now", keys[0])
		}
		// Synced passkeys report 0 every time: no regression.
		for range 2 {
			if _, err := passkeyLogin(t, q, synced, ""); err != nil {
				t.Errorf("login with a synced passkey = %v", err)
			}
		}
	})
}

func TestPasskeyCeremoniesAreUsedOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		register(t, q, "alice", "alice@example.com")
		c := logIn(t, q, "alice", alicePassword)
		auth := newAuthenticator()
		addPasskey(t, q, c, auth, "")

		opts, err := q.App.BeginPasskeyLogin(ctx, app.PasskeyLoginStart{})
		if err != nil {
			t.Fatal(err)
		}
		res, _ := auth.Get(opts.Options)
		in := app.PasskeyAssertion{CeremonyID: opts.CeremonyID, Credential: res}
		if _, err := q.App.FinishPasskeyLogin(ctx, in, app.SessionStart{}); err != nil {
			t.Fatal(err)
		}
		_, err = q.App.FinishPasskeyLogin(ctx, in, app.SessionStart{})
		wantError(t, "FinishPasskeyLogin(the same ceremony again)", err, blog.ErrPasskeyCeremony)

		// The same answer to a new ceremony answers the wrong challenge.
		opts, _ = q.App.BeginPasskeyLogin(ctx, app.PasskeyLoginStart{})
		_, err = q.App.FinishPasskeyLogin(ctx, app.PasskeyAssertion{CeremonyID: opts.CeremonyID, Credential: res}, app.SessionStart{})
		wantError(t, "FinishPasskeyLogin(a replayed answer)", err, blog.ErrPasskeyRefused)
		if !strings.Contains(q.Logs.String(), "passkey login refused") {
			t.Errorf("a refused passkey login was not logged:\n%s", q.Logs.String())
		}
		// That failure used the ceremony up too.
		res, _ = auth.Get(opts.Options)
		_, err = q.App.FinishPasskeyLogin(ctx, app.PasskeyAssertion{CeremonyID: opts.CeremonyID, Credential: res}, app.SessionStart{})
		wantError(t, "FinishPasskeyLogin(after a failed try)", err, blog.ErrPasskeyCeremony)

		// A ceremony waits five minutes at most.
		opts, _ = q.App.BeginPasskeyLogin(ctx, app.PasskeyLoginStart{})
		res, _ = auth.Get(opts.Options)
		q.Clock.Advance(5 * time.Minute)
		_, err = q.App.FinishPasskeyLogin(ctx, app.PasskeyAssertion{CeremonyID: opts.CeremonyID, Credential: res}, app.SessionStart{})
		wantError(t, "FinishPasskeyLogin(expired)", err, blog.ErrPasskeyCeremony)

		for _, id := range []string{"", "short", strings.Repeat("A", 22) + "=", "not base64url!!!!!!!!!"} {
			_, err = q.App.FinishPasskeyLogin(ctx, app.PasskeyAssertion{CeremonyID: id, Credential: res}, app.SessionStart{})
			wantError(t, "FinishPasskeyLogin(ceremony "+id+")", err, blog.ErrPasskeyCeremony)
		}
	})
}

func TestPasskeyRegistrationIsTheSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		register(t, q, "alice", "alice@example.com")
		register(t, q, "bob", "bob@example.com")
		here := logIn(t, q, "alice", alicePassword)
		there := logIn(t, q, "alice", alicePassword)
		bob := logIn(t, q, "bob", alicePassword)
		auth := newAuthenticator()
		begin := func() (*app.PasskeyOptions, json.RawMessage) {
			opts, err := q.App.BeginPasskeyRegistration(ctx, here, app.PasskeyStart{CurrentPassword: alicePassword})
			if err != nil {
				t.Fatal(err)
			}
			res, err := auth.Create(opts.Options)
			if err != nil {
				t.Fatal(err)
			}
			return opts, res
		}
		for name, other := range map[string]*app.Caller{"another session of the account": there, "another account": bob} {
			opts, res := begin()
			_, err := q.App.FinishPasskeyRegistration(ctx, other, app.NewPasskey{CeremonyID: opts.CeremonyID, Credential: res})
			wantError(t, "FinishPasskeyRegistration(by "+name+")", err, blog.ErrPasskeyCeremony)
		}
		// Logging out ends the ceremonies the session began.
		opts, res := begin()
		if err := q.App.LogOut(ctx, here); err != nil {
			t.Fatal(err)
		}
		_, err := q.App.FinishPasskeyRegistration(ctx, here, app.NewPasskey{CeremonyID: opts.CeremonyID, Credential: res})
		wantError(t, "FinishPasskeyRegistration(after logging out)", err, blog.ErrPasskeyCeremony)
		if keys, _ := q.App.Passkeys(ctx, there); len(keys) != 0 {
			t.Errorf("passkeys after failed registrations: %+v", keys)
		}
	})
}

func TestPasskeyRegistrationRefusals(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		register(t, q, "alice", "alice@example.com")
		c := logIn(t, q, "alice", alicePassword)
		finish := func(auth *passkeytest.Authenticator, name *string) error {
			t.Helper()
			opts, err := q.App.BeginPasskeyRegistration(ctx, c, app.PasskeyStart{CurrentPassword: alicePassword})
			if err != nil {
				t.Fatal(err)
			}
			res, err := auth.Create(opts.Options)
			if err != nil {
				t.Fatal(err)
			}
			_, err = q.App.FinishPasskeyRegistration(ctx, c, app.NewPasskey{CeremonyID: opts.CeremonyID, Credential: res, Name: name})
			return err
		}
		noUV := newAuthenticator()
		noUV.NoUserVerification = true
		wantError(t, "FinishPasskeyRegistration(without user verification)", finish(noUV, nil), blog.ErrPasskeyInvalid)
		phish := passkeytest.New("http://quill.test.evil.example")
		phish.Origin = "http://evil.example"
		opts, _ := q.App.BeginPasskeyRegistration(ctx, c, app.PasskeyStart{CurrentPassword: alicePassword})
		if _, err := phish.Create(opts.Options); err == nil {
			t.Error("an authenticator on another site made a passkey for quill.test")
		}
		long := strings.Repeat("n", blog.MaxPasskeyName+1)
		wantKind(t, "FinishPasskeyRegistration(a name too long)", finish(newAuthenticator(), &long), blog.Unprocessable)
		control := "tab\there"
		wantKind(t, "FinishPasskeyRegistration(a name with a tab)", finish(newAuthenticator(), &control), blog.Unprocessable)

		// An account may have MaxPasskeys.
		for range blog.MaxPasskeys {
			addPasskey(t, q, c, newAuthenticator(), "")
		}
		_, err := q.App.BeginPasskeyRegistration(ctx, c, app.PasskeyStart{CurrentPassword: alicePassword})
		wantError(t, "BeginPasskeyRegistration(at the limit)", err, blog.ErrTooManyPasskeys)
		keys, _ := q.App.Passkeys(ctx, c)
		if len(keys) != blog.MaxPasskeys || keys[blog.MaxPasskeys-1].Name != "Passkey 20" {
			t.Errorf("%d passkeys, the last %q, want 20, the last Passkey 20", len(keys), keys[len(keys)-1].Name)
		}
	})
}

func TestPasskeyLoginRefusals(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		register(t, q, "alice", "alice@example.com")
		register(t, q, "bob", "bob@example.com")
		alice := logIn(t, q, "alice", alicePassword)
		bob := logIn(t, q, "bob", alicePassword)
		auth := newAuthenticator()
		p := addPasskey(t, q, alice, auth, "")
		bobs := newAuthenticator()
		addPasskey(t, q, bob, bobs, "")

		// A key that was made for quill.test but never registered.
		stranger := newAuthenticator()
		strangerOpts, _ := q.App.BeginPasskeyRegistration(ctx, alice, app.PasskeyStart{CurrentPassword: alicePassword})
		stranger.Create(strangerOpts.Options)
		_, err := passkeyLogin(t, q, stranger, "")
		wantError(t, "login with a passkey never registered", err, blog.ErrPasskeyRefused)

		// Bob's passkey, for a ceremony naming alice.
		opts, _ := q.App.BeginPasskeyLogin(ctx, app.PasskeyLoginStart{Username: "alice"})
		res, err := bobs.Sign(opts.Options, bobs.Keys()[0])
		if err != nil {
			t.Fatal(err)
		}
		_, err = q.App.FinishPasskeyLogin(ctx, app.PasskeyAssertion{CeremonyID: opts.CeremonyID, Credential: res}, app.SessionStart{})
		wantError(t, "login naming alice with bob's passkey", err, blog.ErrPasskeyRefused)

		// A counter that goes back is refused, and logged with the
		// credential id; the stored count stays.
		if _, err := passkeyLogin(t, q, auth, ""); err != nil {
			t.Fatal(err)
		}
		auth.Keys()[0].SetCount(0)
		_, err = passkeyLogin(t, q, auth, "")
		wantError(t, "login with a counter gone back", err, blog.ErrPasskeyRefused)
		credID := base64.RawURLEncoding.EncodeToString(p.CredentialID)
		if logs := q.Logs.String(); !strings.Contains(logs, "signature counter went back") || !strings.Contains(logs, credID) {
			t.Errorf("the regression was not logged with credential id %s:\n%s", credID, logs)
		}
		keys, _ := q.App.Passkeys(ctx, alice)
		if keys[0].SignCount != 1 {
			t.Errorf("after a regression the stored count is %d, want 1", keys[0].SignCount)
		}

		// A removed passkey logs in no more.
		auth.Keys()[0].SetCount(5)
		if err := q.App.RemovePasskey(ctx, alice, p.ID); err != nil {
			t.Fatal(err)
		}
		_, err = passkeyLogin(t, q, auth, "")
		wantError(t, "login with a removed passkey", err, blog.ErrPasskeyRefused)
		// And alice has none now, so naming her gets a made-up id.
		if _, err := q.App.BeginPasskeyLogin(ctx, app.PasskeyLoginStart{Username: "alice"}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPasskeyLoginByNameTellsNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		register(t, q, "alice", "alice@example.com")
		register(t, q, "bob", "bob@example.com")
		addPasskey(t, q, logIn(t, q, "alice", alicePassword), newAuthenticator(), "")
		allowed := func(name string) []string {
			t.Helper()
			opts, err := q.App.BeginPasskeyLogin(ctx, app.PasskeyLoginStart{Username: name})
			if err != nil {
				t.Fatalf("BeginPasskeyLogin(%q) = %v", name, err)
			}
			var o map[string]any
			if err := json.Unmarshal(opts.Options, &o); err != nil {
				t.Fatal(err)
			}
			var ids []string
			list, _ := o["allowCredentials"].([]any)
			for _, c := range list {
				c := c.(map[string]any)
				if len(c) != 2 || c["type"] != "public-key" {
					t.Errorf("BeginPasskeyLogin(%q) lists %v, want only type and id", name, c)
				}
				ids = append(ids, c["id"].(string))
			}
			return append(ids, strings.Join(slices.Sorted(maps.Keys(o)), ","))
		}
		alice, bob, nobody := allowed("alice"), allowed("bob"), allowed("nobody")
		if len(alice) != 2 || len(bob) != 2 || len(nobody) != 2 {
			t.Fatalf("naming alice, bob (no passkey) and nobody list %q, %q, %q, want one id each", alice, bob, nobody)
		}
		if alice[1] != bob[1] || bob[1] != nobody[1] {
			t.Errorf("the options' fields differ: %q, %q, %q", alice[1], bob[1], nobody[1])
		}
		if diff := cmp.Diff(nobody, allowed("NOBODY")); diff != "" {
			t.Errorf("naming nobody twice lists different ids (-first +second):\n%s", diff)
		}
		if bob[0] == nobody[0] || len(bob[0]) != len(alice[0]) {
			t.Errorf("made-up ids %q and %q: want one per name, as long as a real one", bob[0], nobody[0])
		}
	})
}

func TestPasskeyRenameAndRemove(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		register(t, q, "alice", "alice@example.com")
		register(t, q, "bob", "bob@example.com")
		alice := logIn(t, q, "alice", alicePassword)
		bob := logIn(t, q, "bob", alicePassword)
		p := addPasskey(t, q, alice, newAuthenticator(), "")
		got, err := q.App.RenamePasskey(ctx, alice, p.ID, app.PasskeyRename{Name: " Phone "})
		if err != nil || got.Name != "Phone" || got.ID != p.ID {
			t.Errorf("RenamePasskey(Phone) = %+v, %v", got, err)
		}
		_, err = q.App.RenamePasskey(ctx, alice, p.ID, app.PasskeyRename{Name: "   "})
		wantKind(t, "RenamePasskey(blank)", err, blog.Unprocessable)
		_, err = q.App.RenamePasskey(ctx, bob, p.ID, app.PasskeyRename{Name: "Mine"})
		wantError(t, "RenamePasskey(someone else's)", err, blog.ErrPasskeyNotFound)
		wantError(t, "RemovePasskey(someone else's)", q.App.RemovePasskey(ctx, bob, p.ID), blog.ErrPasskeyNotFound)
		// The last passkey may go: the account has its password.
		if err := q.App.RemovePasskey(ctx, alice, p.ID); err != nil {
			t.Fatalf("RemovePasskey(the last) = %v", err)
		}
		wantError(t, "RemovePasskey(again)", q.App.RemovePasskey(ctx, alice, p.ID), blog.ErrPasskeyNotFound)
		logIn(t, q, "alice", alicePassword)
	})
}

func TestPasskeyNotices(t *testing.T) {
	box := newMailbox()
	q := quilltest.New(t, quilltest.SQLite, quilltest.Options{App: func(c *app.Config) { c.Mailer = box }})
	ctx := t.Context()
	register(t, q, "alice", "alice@example.com")
	c := logIn(t, q, "alice", alicePassword)
	p := addPasskey(t, q, c, newAuthenticator(), "Phone")
	added := box.next(t, "A passkey was added to your account")
	if added.To != "alice@example.com" || added.Subject != "A passkey was added to your account" ||
		!strings.Contains(added.Text, "Phone") || !strings.Contains(added.Text, quilltest.PublicURL+"/account") {
		t.Errorf("the mail after adding a passkey:\n%+v", added)
	}
	if err := q.App.RemovePasskey(ctx, c, p.ID); err != nil {
		t.Fatal(err)
	}
	removed := box.next(t, "A passkey was removed from your account")
	if removed.To != "alice@example.com" || removed.Subject != "A passkey was removed from your account" || !strings.Contains(removed.Text, "Phone") {
		t.Errorf("the mail after removing a passkey:\n%+v", removed)
	}
}

func TestPasskeyLoginIsOneTransaction(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		register(t, q, "alice", "alice@example.com")
		c := logIn(t, q, "alice", alicePassword)
		auth := newAuthenticator()
		addPasskey(t, q, c, auth, "")
		inject(t, q, "fail_session", "sessions",
			`CREATE TRIGGER fail_session BEFORE INSERT ON sessions BEGIN SELECT RAISE(ABORT, 'injected fault'); END`,
			`CREATE FUNCTION fail_session() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$;
			 CREATE TRIGGER fail_session BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION fail_session()`)
		if _, err := passkeyLogin(t, q, auth, ""); err == nil {
			t.Fatal("a passkey login whose session cannot be stored = nil, want an error")
		}
		keys, _ := q.App.Passkeys(ctx, c)
		if keys[0].SignCount != 0 || !keys[0].LastUsedAt.IsZero() {
			t.Errorf("after a failed login the passkey is %+v, want it unused", keys[0])
		}
	})
}

func TestPasskeysOff(t *testing.T) {
	q := quilltest.New(t, quilltest.SQLite, quilltest.Options{App: func(c *app.Config) { c.PublicURL = "http://192.0.2.7:8000" }})
	ctx := t.Context()
	if err := q.App.PasskeysOff(); err == nil {
		t.Error("PasskeysOff() on an IP address = nil, want the reason")
	}
	register(t, q, "alice", "alice@example.com")
	c := logIn(t, q, "alice", alicePassword)
	_, err := q.App.BeginPasskeyRegistration(ctx, c, app.PasskeyStart{CurrentPassword: alicePassword})
	wantError(t, "BeginPasskeyRegistration(passkeys off)", err, blog.ErrPasskeysOff)
	_, err = q.App.BeginPasskeyLogin(ctx, app.PasskeyLoginStart{})
	wantError(t, "BeginPasskeyLogin(passkeys off)", err, blog.ErrPasskeysOff)
	if keys, err := q.App.Passkeys(ctx, c); err != nil || len(keys) != 0 {
		t.Errorf("Passkeys(passkeys off) = %v, %v, want an empty list", keys, err)
	}
}
