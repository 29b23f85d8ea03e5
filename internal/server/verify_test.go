package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/quilltest"
)

// Scenarios and tests for verified email addresses: the verification
// links, the new fields of UserPrivate, and email changes with
// REQUIRE_VERIFIED_EMAIL off (the default, in TestAPI) and on.

const (
	badVerification = `{"detail":"Invalid or expired verification link","code":"invalid_verification_token"}`
	emailUnverified = `{"detail":"Confirm your email address before you write: open the link we mailed you, or ask for a new one on your account page","code":"email_unverified"}`
)

// requireVerified turns REQUIRE_VERIFIED_EMAIL on.
var requireVerified = quilltest.Options{App: func(c *app.Config) { c.RequireVerifiedEmail = true }}

// verificationMail is a verification mail the development mailer logged:
// its recipient and its link's token.
var verificationMail = regexp.MustCompile(`to=(\S+) subject="Confirm your email address" text=".*?` +
	regexp.QuoteMeta(testPublicURL) + `/verify-email\?token=([A-Za-z0-9_-]{43})`)

// verifyToken waits for a verification mail to the address to, logged by
// the development mailer, and returns the token of the newest.
func (ts *testServer) verifyToken(tb testing.TB, to string) string {
	tb.Helper()
	return ts.nthVerifyToken(tb, to, 1)
}

// nthVerifyToken waits (for at most 10 s) until n verification mails to
// the address to have been logged, and returns the token of the newest.
func (ts *testServer) nthVerifyToken(tb testing.TB, to string, n int) string {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var tokens []string
		for _, m := range verificationMail.FindAllStringSubmatch(ts.logs.String(), -1) {
			if m[1] == to {
				tokens = append(tokens, m[2])
			}
		}
		if len(tokens) >= n {
			return tokens[len(tokens)-1]
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d verification mails to %s in the log, want %d:\n%s", len(tokens), to, n, ts.logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// verifications counts the verification mails to the address to logged so
// far.
func (ts *testServer) verifications(to string) int {
	n := 0
	for _, m := range verificationMail.FindAllStringSubmatch(ts.logs.String(), -1) {
		if m[1] == to {
			n++
		}
	}
	return n
}

// markVerified verifies a fixture user's address with its mailed link,
// and updates the {name_private} placeholder.
func (f *fixture) markVerified(tb testing.TB, name string) {
	tb.Helper()
	u := f.users[name]
	res, body := f.do(tb, "POST", "/api/users/verify-email", mustJSON(tb, map[string]string{"token": f.verifyToken(tb, u.Email)}), nil)
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("verify %s = %d %s", name, res.StatusCode, body)
	}
	f.set(name+"_private", privateJSON(u.ID, u.Username, u.Email, true, ""))
	f.set(name+"_me", meJSON(privateJSON(u.ID, u.Username, u.Email, true, "")))
}

// meJSON is GET /api/users/me's answer for the UserPrivate private of an
// account without two-factor login.
func meJSON(private string) string {
	return strings.TrimSuffix(private, "}") + `,"totp_enabled":false}`
}

// privateJSON is the UserPrivate of an account without a picture.
func privateJSON(id int64, username, email string, verified bool, pending string) string {
	p := "null"
	if pending != "" {
		p = fmt.Sprintf("%q", pending)
	}
	return fmt.Sprintf(`{"id":%d,"username":%q,"email":%q,"image_file":null,"image_path":%q,"email_verified":%t,"pending_email":%s}`,
		id, username, email, defaultImage, verified, p)
}

// verifyBody is the body of POST /api/users/verify-email.
func verifyBody(token string) string { return `{"token":"` + token + `"}` }

// wantMe checks GET /api/users/me for a fixture user, without two-factor
// login, whose UserPrivate is want.
func (f *fixture) wantMe(t *testing.T, name, want string) {
	t.Helper()
	_, got := f.get(t, "/api/users/me", f.as(name))
	if diff := cmpJSON(t, meJSON(f.expand(want)), got); diff != "" {
		t.Errorf("GET /api/users/me as %s (-want +got):\n%s", name, diff)
	}
}

func verifyScenarios() []apiScenario {
	verified := func(t *testing.T, f *fixture, _ []byte) {
		f.wantMe(t, "alice", privateJSON(f.users["alice"].ID, "Alice", "alice@example.com", true, ""))
	}
	withToken := func(tb testing.TB, f *fixture) { f.set("alice_verify", f.verifyToken(tb, "alice@example.com")) }
	sent := `{"detail":"A verification link is on its way to alice@example.com"}`

	var rows []apiScenario

	// POST /api/users/verify-email.
	rows = append(rows, []apiScenario{
		{
			name: "verify the address with the mailed link", method: "POST", path: "/api/users/verify-email",
			setup: withToken, body: verifyBody("{alice_verify}"),
			wantStatus: http.StatusOK, wantJSON: `{"detail":"Email address verified: alice@example.com"}`,
			after: func(t *testing.T, f *fixture, body []byte) {
				verified(t, f, body)
				// The link works once.
				res, got := f.do(t, "POST", "/api/users/verify-email", verifyBody(f.vars["alice_verify"]), nil)
				if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(got), "invalid_verification_token") {
					t.Errorf("the link again = %d %s, want 400 invalid_verification_token", res.StatusCode, got)
				}
				// Bob's is still unverified.
				f.wantMe(t, "bob", "{bob_private}")
			},
		},
		{
			name: "verify with a trailing slash", method: "POST", path: "/api/users/verify-email/",
			setup: withToken, body: verifyBody("{alice_verify}"), wantStatus: http.StatusOK,
		},
		{
			name: "verify with a token of the right form that is no link", method: "POST", path: "/api/users/verify-email",
			body: verifyBody(strings.Repeat("A", 43)), wantStatus: http.StatusBadRequest, wantJSON: badVerification,
			after: func(t *testing.T, f *fixture, _ []byte) { f.wantMe(t, "alice", "{alice_private}") },
		},
		{
			name: "verify with a malformed token", method: "POST", path: "/api/users/verify-email",
			body: verifyBody(leakCanary), wantStatus: http.StatusBadRequest, wantJSON: badVerification,
		},
		{
			name: "verify with an expired link", method: "POST", path: "/api/users/verify-email",
			setup: func(tb testing.TB, f *fixture) {
				withToken(tb, f)
				f.clock.Advance(24 * time.Hour)
			},
			body: verifyBody("{alice_verify}"), wantStatus: http.StatusBadRequest, wantJSON: badVerification,
		},
		{
			name: "verify with the link of a replaced address", method: "POST", path: "/api/users/verify-email",
			setup: func(tb testing.TB, f *fixture) {
				withToken(tb, f)
				res, body := f.do(tb, "PATCH", f.expand("/api/users/{alice}"), `{"email":"alice@new.example","current_password":"`+alicePassword+`"}`, f.as("alice"))
				if res.StatusCode != http.StatusOK {
					tb.Fatalf("PATCH email = %d %s", res.StatusCode, body)
				}
			},
			body: verifyBody("{alice_verify}"), wantStatus: http.StatusBadRequest, wantJSON: badVerification,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.wantMe(t, "alice", privateJSON(f.users["alice"].ID, "Alice", "alice@new.example", false, ""))
			},
		},
		{
			name: "verify without a token", method: "POST", path: "/api/users/verify-email", body: `{}`,
			wantStatus: http.StatusUnprocessableEntity, wantJSON: problem("missing", body("token"), "Field required"),
		},
		{
			name: "verify with a token that is not a string", method: "POST", path: "/api/users/verify-email", body: `{"token":43}`,
			wantStatus: http.StatusUnprocessableEntity, wantJSON: problem("string_type", body("token"), "Input should be a valid string"),
		},
		{
			name: "verify with a token holding a NUL", method: "POST", path: "/api/users/verify-email", body: `{"token":"a\u0000b"}`,
			wantStatus: http.StatusUnprocessableEntity,
		},
		{
			name: "verify with a form", method: "POST", path: "/api/users/verify-email",
			body: form("token", "x"), headers: urlencoded, wantStatus: http.StatusUnsupportedMediaType,
		},
		{
			name: "verify with a body that is not JSON", method: "POST", path: "/api/users/verify-email",
			body: `{"token":`, wantStatus: http.StatusUnprocessableEntity,
		},
		{
			name: "wrong method on verify-email", method: "GET", path: "/api/users/verify-email",
			wantStatus: http.StatusMethodNotAllowed, wantHeaders: map[string]string{"Allow": "POST"},
		},
	}...)

	// POST /api/users/me/verify-email.
	rows = append(rows, []apiScenario{
		{
			name: "send the link again", method: "POST", path: "/api/users/me/verify-email", as: "alice",
			setup:      withToken, // the registration's link
			wantStatus: http.StatusAccepted, wantJSON: sent, wantHeaders: noStoreHeader,
			after: func(t *testing.T, f *fixture, _ []byte) {
				first := f.vars["alice_verify"]
				second := f.nthVerifyToken(t, "alice@example.com", 2)
				if first == second {
					t.Fatal("no second verification mail")
				}
				// The new link voids the first.
				if res, _ := f.do(t, "POST", "/api/users/verify-email", verifyBody(first), nil); res.StatusCode != http.StatusBadRequest {
					t.Errorf("the first link after a new one = %d, want 400", res.StatusCode)
				}
				// Within a minute: 429, and nothing sent.
				f.clock.Advance(59 * time.Second)
				res, body := f.do(t, "POST", "/api/users/me/verify-email", "", f.as("alice"))
				if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "1" ||
					!strings.Contains(string(body), `"code":"verification_too_soon"`) {
					t.Errorf("again after 59 s = %d %s, Retry-After %q; want 429 verification_too_soon, 1", res.StatusCode, body, res.Header.Get("Retry-After"))
				}
				f.clock.Advance(time.Second)
				res, _ = f.do(t, "POST", "/api/users/me/verify-email", "", f.as("alice"))
				if res.StatusCode != http.StatusAccepted {
					t.Errorf("again after a minute = %d, want 202", res.StatusCode)
				}
			},
		},
		{
			name: "send the link again too soon", method: "POST", path: "/api/users/me/verify-email", as: "alice",
			setup: func(tb testing.TB, f *fixture) {
				f.do(tb, "POST", "/api/users/me/verify-email", "", f.as("alice"))
				f.clock.Advance(15 * time.Second)
			},
			wantStatus:  http.StatusTooManyRequests,
			wantJSON:    `{"detail":"A verification link was sent less than a minute ago; try again later","code":"verification_too_soon"}`,
			wantHeaders: map[string]string{"Retry-After": "45"},
		},
		{
			name: "send the link of a verified address", method: "POST", path: "/api/users/me/verify-email", as: "alice",
			setup:      func(tb testing.TB, f *fixture) { f.markVerified(tb, "alice") },
			wantStatus: http.StatusBadRequest,
			wantJSON:   `{"detail":"Your email address is already verified","code":"email_already_verified"}`,
		},
		{
			name: "send the link without a token", method: "POST", path: "/api/users/me/verify-email",
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
		{
			name: "wrong method on me/verify-email", method: "GET", path: "/api/users/me/verify-email",
			wantStatus: http.StatusMethodNotAllowed, wantHeaders: map[string]string{"Allow": "POST"},
		},
	}...)

	// A new address, REQUIRE_VERIFIED_EMAIL off: it takes effect at once,
	// unverified, and its link verifies it.
	rows = append(rows, []apiScenario{
		{
			name: "change email: unverified until its link", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			setup:      func(tb testing.TB, f *fixture) { f.markVerified(tb, "alice") },
			body:       `{"email":"alice@new.example","current_password":"` + alicePassword + `"}`,
			wantStatus: http.StatusOK,
			wantJSON:   `{"id":{alice},"username":"Alice","email":"alice@new.example","image_file":null,"image_path":"` + defaultImage + `","email_verified":false,"pending_email":null}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				res, body := f.do(t, "POST", "/api/users/verify-email", verifyBody(f.verifyToken(t, "alice@new.example")), nil)
				if res.StatusCode != http.StatusOK {
					t.Fatalf("verify the new address = %d %s", res.StatusCode, body)
				}
				f.wantMe(t, "alice", privateJSON(f.users["alice"].ID, "Alice", "alice@new.example", true, ""))
				logs := f.waitLog(t, "email change notice sent")
				if !strings.Contains(logs, `to=alice@example.com subject="Your email address was changed"`) {
					t.Errorf("no change notice to the old address in the log:\n%s", logs)
				}
			},
		},
		{
			name: "put keeping the email keeps it verified", method: "PUT", path: "/api/users/{alice}", as: "alice",
			setup:      func(tb testing.TB, f *fixture) { f.markVerified(tb, "alice") },
			body:       `{"username":"Alicia","email":"ALICE@example.com"}`,
			wantStatus: http.StatusOK,
			wantJSON:   `{"id":{alice},"username":"Alicia","email":"alice@example.com","image_file":null,"image_path":"` + defaultImage + `","email_verified":true,"pending_email":null}`,
		},
		{
			name: "an unverified account writes when verification is not required", method: "POST", path: "/api/posts", as: "bob",
			body: `{"title":"t","content":"c"}`, wantStatus: http.StatusCreated,
		},
	}...)
	return rows
}

// TestAPIRequireVerified runs the scenarios of a server with
// REQUIRE_VERIFIED_EMAIL on, on every database. Its fixture's Alice and
// Bob are verified; Carol, whom setups register, is not.
func TestAPIRequireVerified(t *testing.T) {
	for _, db := range testDBs() {
		t.Run(db.Name, func(t *testing.T) {
			for _, sc := range requireScenarios() {
				t.Run(sc.method+" "+sc.name, func(t *testing.T) {
					t.Parallel()
					sc.run(t, newFixture(t, db, requireVerified))
				})
			}
		})
	}
}

// unverify makes Alice's address unverified again, as if it had never
// been confirmed.
func unverify(tb testing.TB, f *fixture) {
	tb.Helper()
	if _, err := f.SQL(tb).ExecContext(context.Background(), `UPDATE users SET email_verified_at = NULL WHERE id = $1`, f.users["alice"].ID); err != nil {
		tb.Fatal(err)
	}
}

func requireScenarios() []apiScenario {
	pendingNew := func(f *fixture) string {
		return privateJSON(f.users["alice"].ID, "Alice", "alice@example.com", true, "alice@new.example")
	}
	askNew := func(tb testing.TB, f *fixture) {
		res, body := f.do(tb, "PATCH", f.expand("/api/users/{alice}"), `{"email":"alice@new.example","current_password":"`+alicePassword+`"}`, f.as("alice"))
		if res.StatusCode != http.StatusOK {
			tb.Fatalf("PATCH email = %d %s", res.StatusCode, body)
		}
	}
	return []apiScenario{
		{
			name: "the fixture's accounts are verified", method: "GET", path: "/api/users/me", as: "alice",
			wantStatus: http.StatusOK, wantJSON: "{alice_me}", wantContains: []string{`"email_verified":true`},
		},
		{
			name: "change email: it waits, pending", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			body:       `{"email":"Alice@New.example","current_password":"` + alicePassword + `"}`,
			wantStatus: http.StatusOK,
			wantJSON:   `{"id":{alice},"username":"Alice","email":"alice@example.com","image_file":null,"image_path":"` + defaultImage + `","email_verified":true,"pending_email":"alice@new.example"}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.wantMe(t, "alice", pendingNew(f))
				// Meanwhile the old address logs in, the new one does not.
				if got := f.tryLogin(t, "alice@new.example", alicePassword); got != http.StatusUnauthorized {
					t.Errorf("login by the pending address = %d, want 401", got)
				}
				res, body := f.do(t, "POST", "/api/users/verify-email", verifyBody(f.verifyToken(t, "alice@new.example")), nil)
				if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "alice@new.example") {
					t.Fatalf("confirm the new address = %d %s", res.StatusCode, body)
				}
				f.wantMe(t, "alice", privateJSON(f.users["alice"].ID, "Alice", "alice@new.example", true, ""))
				if got := f.tryLogin(t, "alice@new.example", alicePassword); got != http.StatusOK {
					t.Errorf("login by the confirmed address = %d, want 200", got)
				}
				logs := f.waitLog(t, "email change notice sent")
				if !strings.Contains(logs, `to=alice@example.com subject="Your email address was changed"`) {
					t.Errorf("no change notice to the old address in the log:\n%s", logs)
				}
			},
		},
		{
			name: "change email with put: the rename at once, the address pending", method: "PUT", path: "/api/users/{alice}", as: "alice",
			body:       `{"username":"Alicia","email":"alice@new.example","current_password":"` + alicePassword + `"}`,
			wantStatus: http.StatusOK,
			wantJSON:   `{"id":{alice},"username":"Alicia","email":"alice@example.com","image_file":null,"image_path":"` + defaultImage + `","email_verified":true,"pending_email":"alice@new.example"}`,
		},
		{
			name: "change email back to the current one calls the change off", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			setup:      askNew,
			body:       `{"email":"alice@example.com"}`,
			wantStatus: http.StatusOK, wantJSON: "{alice_private}",
			after: func(t *testing.T, f *fixture, _ []byte) {
				res, _ := f.do(t, "POST", "/api/users/verify-email", verifyBody(f.verifyToken(t, "alice@new.example")), nil)
				if res.StatusCode != http.StatusBadRequest {
					t.Errorf("the called-off address's link = %d, want 400", res.StatusCode)
				}
				f.wantMe(t, "alice", "{alice_private}")
			},
		},
		{
			name: "change email to a taken one", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			body:       `{"email":"bob@example.com","current_password":"` + alicePassword + `"}`,
			wantStatus: http.StatusBadRequest, wantJSON: `{"detail":"Email already registered","code":"email_taken"}`,
			after: func(t *testing.T, f *fixture, _ []byte) { f.wantMe(t, "alice", "{alice_private}") },
		},
		{
			name: "confirm a pending address taken since", method: "POST", path: "/api/users/verify-email",
			setup: func(tb testing.TB, f *fixture) {
				askNew(tb, f)
				f.set("alice_verify", f.verifyToken(tb, "alice@new.example"))
				f.register(tb, "carol", "alice@new.example", "a-long-passphrase-4")
			},
			body:       verifyBody("{alice_verify}"),
			wantStatus: http.StatusBadRequest, wantJSON: `{"detail":"Email already registered","code":"email_taken"}`,
			after: func(t *testing.T, f *fixture, _ []byte) { f.wantMe(t, "alice", pendingNew(f)) },
		},
		{
			name: "resend goes to the pending address", method: "POST", path: "/api/users/me/verify-email", as: "alice",
			setup: func(tb testing.TB, f *fixture) {
				askNew(tb, f)
				f.clock.Advance(time.Minute)
			},
			wantStatus: http.StatusAccepted, wantJSON: `{"detail":"A verification link is on its way to alice@new.example"}`,
		},
		{
			name: "an unverified account cannot write", method: "POST", path: "/api/posts", as: "alice",
			setup: unverify, body: `{"title":"t","content":"c"}`,
			wantStatus: http.StatusForbidden, wantJSON: emailUnverified,
		},
		{
			name: "an unverified account cannot replace its post", method: "PUT", path: "/api/posts/{alice_post}", as: "alice",
			setup: unverify, body: `{"title":"t","content":"c"}`,
			wantStatus: http.StatusForbidden, wantJSON: emailUnverified,
		},
		{
			name: "an unverified account cannot change its post", method: "PATCH", path: "/api/posts/{alice_post}", as: "alice",
			setup: unverify, body: `{"title":"t"}`,
			wantStatus: http.StatusForbidden, wantJSON: emailUnverified,
		},
		{
			name: "an unverified account may delete its post", method: "DELETE", path: "/api/posts/{alice_post}", as: "alice",
			setup: unverify, wantStatus: http.StatusNoContent,
		},
		{
			name: "a new account writes once verified", method: "POST", path: "/api/posts",
			setup: func(tb testing.TB, f *fixture) {
				f.addUser(tb, "carol", &testUser{Username: "carol", Email: "carol@example.com", Password: "a-long-passphrase-4"})
				res, _ := f.do(tb, "POST", "/api/posts", `{"title":"t","content":"c"}`, f.as("carol"))
				if res.StatusCode != http.StatusForbidden {
					tb.Fatalf("a post before verifying = %d, want 403", res.StatusCode)
				}
				f.markVerified(tb, "carol")
			},
			headers: map[string]string{"Authorization": "Bearer {carol_token}"},
			body:    `{"title":"t","content":"c"}`, wantStatus: http.StatusCreated,
		},
	}
}

// cmpJSON compares a wanted JSON text with a decoded body, after
// normalise, and returns the diff.
func cmpJSON(t *testing.T, want string, got any) string {
	t.Helper()
	return cmp.Diff(decodeBody(t, []byte(want)), normalise(got))
}

// FuzzVerifyEmailToken sends arbitrary tokens to the API route that
// confirms an address and to the page a link opens. Nothing may cause a
// 500 or a panic, and nothing but Alice's own token verifies her
// address.
func FuzzVerifyEmailToken(f *testing.F) {
	fx := newFixture(f, testDBs()[0], noLimits)
	aliceToken := fx.verifyToken(f, "alice@example.com")
	for _, seed := range []string{"", "x", strings.Repeat("A", 43), strings.Repeat("_", 43), aliceToken[:42] + "A", aliceToken + "=", "%00", "\u0000", "\xff"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		res, got := fx.do(t, "POST", "/api/users/verify-email", mustJSON(t, map[string]string{"token": token}), nil)
		checkFuzzReply(t, "POST /api/users/verify-email", res, got)
		page, _ := fx.do(t, "GET", "/verify-email?"+url.Values{"token": {token}}.Encode(), "", nil)
		if page.StatusCode >= 500 {
			t.Fatalf("GET /verify-email?token=%q = %d", token, page.StatusCode)
		}
		if token != aliceToken && res.StatusCode == http.StatusOK {
			t.Fatalf("the token %q, not Alice's, verified an address", token)
		}
	})
}
