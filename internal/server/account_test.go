package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/quilltest"
)

// Scenarios and tests for the account lifecycle: refresh tokens, the
// sessions list, password change, and password reset by email.

const (
	newPassword    = "a-brand-new-passphrase-5"
	badRefresh     = `{"detail":"Invalid or expired refresh token","code":"invalid_refresh_token","error":"invalid_grant","error_description":"Invalid or expired refresh token"}`
	badReset       = `{"detail":"Invalid or expired reset token","code":"invalid_reset_token"}`
	forgotAccepted = `{"detail":"If an account uses that email address, a link to reset its password is on its way."}`
	// refreshGrace is the server's grace window for a retried refresh.
	refreshGrace = 10 * time.Second
)

// refreshForm is the refresh grant's form body. The token is not encoded,
// so placeholders such as {alice_refresh} work (tokens are base64url).
func refreshForm(token string) string {
	return "grant_type=refresh_token&refresh_token=" + token
}

// refresh uses a refresh token and returns the status and the new pair.
func (f *fixture) refresh(tb testing.TB, token string) (int, tokenPair) {
	tb.Helper()
	res, body := f.do(tb, "POST", "/api/users/token", refreshForm(token), http.Header{"Content-Type": {formURL}})
	var pair tokenPair
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &pair); err != nil {
			tb.Fatalf("refresh: body %s: %v", body, err)
		}
	}
	return res.StatusCode, pair
}

// mustRefresh uses a refresh token that must work, and returns the new
// pair.
func (f *fixture) mustRefresh(tb testing.TB, token string) tokenPair {
	tb.Helper()
	status, pair := f.refresh(tb, token)
	if status != http.StatusOK {
		tb.Fatalf("refresh = %d, want 200", status)
	}
	return pair
}

// newResetToken stores a reset token for a fixture user, as the mail
// worker would, and returns it.
func (f *fixture) newResetToken(tb testing.TB, name string) string {
	tb.Helper()
	return f.NewResetToken(tb, f.users[name].ID)
}

// waitLog waits until the server's log contains s, and fails the test if
// that does not happen in a few seconds (the mail worker runs beside the
// test).
func (ts *testServer) waitLog(tb testing.TB, s string) string {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		logs := ts.logs.String()
		if strings.Contains(logs, s) {
			return logs
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the log never said %q; it has:\n%s", s, logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var resetLink = regexp.MustCompile(regexp.QuoteMeta(testPublicURL) + `/reset-password\?token=([A-Za-z0-9_-]+)`)

// mailedTokens are the reset tokens in the links the development mailer
// has logged, oldest first.
func (ts *testServer) mailedTokens() []string {
	var tokens []string
	for _, m := range resetLink.FindAllStringSubmatch(ts.logs.String(), -1) {
		tokens = append(tokens, m[1])
	}
	return tokens
}

// passwordWorks reports whether a fixture user can log in with password.
func (f *fixture) passwordWorks(t *testing.T, name, password string) bool {
	t.Helper()
	return f.tryLogin(t, f.users[name].Username, password) == http.StatusOK
}

func accountScenarios() []apiScenario {
	token := `{"access_token":"<token>","token_type":"bearer","expires_in":1800,"refresh_token":"<token>"}`
	// The fixture logged in at 12:00 and is now at 12:04, having used
	// Alice's session at 12:01 and 12:03 (her posts) and using it again for
	// the listing itself.
	aliceSession := `{"id":"{alice_session}","created_at":"2026-03-01T12:00:00Z","last_used_at":"2026-03-01T12:04:00Z",` +
		`"expires_at":"2026-03-31T12:00:00Z","user_agent":"","ip":"192.0.2.1","current":true}`
	sessionNotFound := `{"detail":"Session not found","code":"session_not_found"}`
	changeBody := func(current, next string) string {
		b, _ := json.Marshal(map[string]string{"current_password": current, "new_password": next})
		return string(b)
	}
	resetBody := func(token, password string) string {
		b, _ := json.Marshal(map[string]string{"token": token, "new_password": password})
		return string(b)
	}
	// secondLogin logs Alice in again, as {alice_token2} on session
	// {alice_session2} with refresh token {alice_refresh2}.
	secondLogin := func(tb testing.TB, f *fixture) {
		f.clock.Advance(time.Minute)
		pair := f.loginPair(tb, "alice@example.com", alicePassword)
		f.set("alice_token2", pair.AccessToken)
		f.set("alice_refresh2", pair.RefreshToken)
		sessions, err := f.App.UserSessions(context.Background(), f.users["alice"].ID)
		if err != nil || len(sessions) != 2 {
			tb.Fatalf("Sessions(alice) = %v, %v; want two", sessions, err)
		}
		f.set("alice_session2", sessions[0].ID)
	}
	// sessionsLeft checks which of Alice's logins still work.
	sessionsLeft := func(t *testing.T, f *fixture, first, second int) {
		t.Helper()
		f.wantStatus(t, "GET", "/api/users/me", f.as("alice"), first)
		f.wantStatus(t, "GET", "/api/users/me", bearer(f.vars["alice_token2"]), second)
	}

	var rows []apiScenario

	// POST /api/users/token with grant_type=refresh_token.
	rows = append(rows, []apiScenario{
		{
			name: "refresh", method: "POST", path: "/api/users/token",
			body: refreshForm("{alice_refresh}"), headers: urlencoded,
			wantStatus: http.StatusOK, wantJSON: token,
			wantHeaders: map[string]string{"Cache-Control": "no-store"},
			after: func(t *testing.T, f *fixture, body []byte) {
				var pair tokenPair
				_ = json.Unmarshal(body, &pair)
				if pair.RefreshToken == f.users["alice"].Refresh {
					t.Error("refresh returned the refresh token it was given; want a new one")
				}
				// The same session: the list still has one, with the expiry
				// of the login (refreshing does not extend it).
				_, got := f.get(t, "/api/users/me/sessions", bearer(pair.AccessToken))
				want := decodeBody(t, []byte(f.expand("["+aliceSession+"]")))
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("sessions after a refresh (-want +got):\n%s", diff)
				}
				// The access token of the login works on.
				f.wantStatus(t, "GET", "/api/users/me", f.as("alice"), http.StatusOK)
				// The new refresh token works once more.
				f.mustRefresh(t, pair.RefreshToken)
			},
		},
		{
			name: "refresh with a multipart form", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				body, typ := multipartForm("grant_type", "refresh_token", "refresh_token", f.users["alice"].Refresh)
				f.set("mp_body", body)
				f.set("mp_type", typ)
			},
			body: "{mp_body}", headers: map[string]string{"Content-Type": "{mp_type}"},
			wantStatus: http.StatusOK, wantJSON: token,
		},
		{
			name: "refresh retried within the grace window", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				pair := f.mustRefresh(tb, f.users["alice"].Refresh)
				f.set("first_access", pair.AccessToken)
				f.set("first_refresh", pair.RefreshToken)
				f.clock.Advance(refreshGrace)
			},
			body: refreshForm("{alice_refresh}"), headers: urlencoded,
			wantStatus: http.StatusOK,
			wantJSON:   `{"access_token":"<token>","token_type":"bearer","expires_in":1790,"refresh_token":"<token>"}`,
			after: func(t *testing.T, f *fixture, body []byte) {
				// The very pair the first attempt got, 10 s closer to expiry.
				var pair tokenPair
				_ = json.Unmarshal(body, &pair)
				if want := (tokenPair{f.vars["first_access"], f.vars["first_refresh"]}); pair != want {
					t.Errorf("retried refresh = %+v, want the first attempt's %+v", pair, want)
				}
				f.wantStatus(t, "GET", "/api/users/me", bearer(f.vars["first_access"]), http.StatusOK)
				f.mustRefresh(t, f.vars["first_refresh"])
			},
		},
		{
			name: "refresh reused after the grace window", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				f.set("rotated", f.mustRefresh(tb, f.users["alice"].Refresh).RefreshToken)
				f.clock.Advance(refreshGrace + time.Second)
			},
			body: refreshForm("{alice_refresh}"), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badRefresh, wantHeaders: wantNotAuthn,
			after: func(t *testing.T, f *fixture, _ []byte) {
				// Reuse ends the whole session: its access token, and the
				// refresh token that replaced the reused one.
				f.wantStatus(t, "GET", "/api/users/me", f.as("alice"), http.StatusUnauthorized)
				if status, _ := f.refresh(t, f.vars["rotated"]); status != http.StatusUnauthorized {
					t.Errorf("refresh with the successor of a reused token = %d, want 401", status)
				}
				f.wantStatus(t, "GET", "/api/users/me", f.as("bob"), http.StatusOK)
				f.waitLog(t, "a used refresh token was presented again")
			},
		},
		{
			name: "refresh with a token two rotations old", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				f.mustRefresh(tb, f.mustRefresh(tb, f.users["alice"].Refresh).RefreshToken)
			},
			body: refreshForm("{alice_refresh}"), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badRefresh, wantHeaders: wantNotAuthn,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.wantStatus(t, "GET", "/api/users/me", f.as("alice"), http.StatusUnauthorized)
			},
		},
		{
			name: "refresh of one session leaves the others alone", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				secondLogin(tb, f)
				f.mustRefresh(tb, f.users["alice"].Refresh)
				f.clock.Advance(time.Minute)
			},
			body: refreshForm("{alice_refresh}"), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badRefresh,
			after: func(t *testing.T, f *fixture, _ []byte) {
				sessionsLeft(t, f, http.StatusUnauthorized, http.StatusOK)
				f.mustRefresh(t, f.vars["alice_refresh2"])
			},
		},
		{
			name: "refresh with garbage", method: "POST", path: "/api/users/token",
			body: refreshForm("garbage"), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badRefresh, wantHeaders: wantNotAuthn,
		},
		{
			name: "refresh with a token one character short", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				f.set("short", f.users["alice"].Refresh[:len(f.users["alice"].Refresh)-1])
			},
			body: refreshForm("{short}"), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badRefresh, wantHeaders: wantNotAuthn,
			after: func(t *testing.T, f *fixture, _ []byte) {
				// A bad token is not reuse: the session lives on.
				f.mustRefresh(t, f.users["alice"].Refresh)
			},
		},
		{
			name: "refresh with a token one character long", method: "POST", path: "/api/users/token",
			body: refreshForm("{alice_refresh}A"), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badRefresh,
		},
		{
			name: "refresh with a tampered token", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				// Swap a character somewhere in the secret for another
				// of the base64url alphabet: the token still decodes, so
				// it is its tag that fails, and it stays safe unencoded in
				// the form body. (Flipping bits instead turned '8' into
				// ';', which form parsing rejects: a 422 once in 64 runs.)
				b := []byte(f.users["alice"].Refresh)
				if b[40] == 'A' {
					b[40] = 'B'
				} else {
					b[40] = 'A'
				}
				f.set("tampered", string(b))
			},
			body: refreshForm("{tampered}"), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badRefresh,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.mustRefresh(t, f.users["alice"].Refresh)
			},
		},
		{
			name: "refresh with a token made with another key", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				other := auth.NewTokens([]byte("another-key-0123456789-abcdefghijklm"), time.Hour, f.clock.Now, nil)
				forged, err := other.NewRefresh(f.vars["alice_session"])
				if err != nil {
					tb.Fatal(err)
				}
				f.set("forged", forged)
			},
			body: refreshForm("{forged}"), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badRefresh,
			after: func(t *testing.T, f *fixture, _ []byte) {
				// Naming a session is not enough to end it.
				f.wantStatus(t, "GET", "/api/users/me", f.as("alice"), http.StatusOK)
			},
		},
		{
			name: "refresh with an access token", method: "POST", path: "/api/users/token",
			body: refreshForm("{alice_token}"), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badRefresh,
		},
		{
			name: "refresh without a refresh token", method: "POST", path: "/api/users/token",
			body: form("grant_type", "refresh_token"), headers: urlencoded,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: withOAuth(problem("missing", body("refresh_token"), "Field required"),
				"invalid_request", "refresh_token: Field required"),
		},
		{
			name: "refresh with an empty refresh token", method: "POST", path: "/api/users/token",
			body: refreshForm(""), headers: urlencoded,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: withOAuth(problem("missing", body("refresh_token"), "Field required"),
				"invalid_request", "refresh_token: Field required"),
		},
		{
			name: "refresh with NUL in the token", method: "POST", path: "/api/users/token",
			body: refreshForm("{alice_refresh}%00"), headers: urlencoded,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: withOAuth(problem("string_type", body("refresh_token"), "Input should be a valid string without NUL bytes"),
				"invalid_request", "refresh_token: Input should be a valid string without NUL bytes"),
		},
		{
			name: "refresh after logout", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				f.do(tb, "POST", "/api/users/logout", "", f.as("alice"))
			},
			body: refreshForm("{alice_refresh}"), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badRefresh,
		},
		{
			name: "refresh after the session expired", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				f.clock.Advance(quilltest.SessionTTL)
			},
			body: refreshForm("{alice_refresh}"), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badRefresh,
		},
		{
			name: "refresh just before the session expires", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				f.clock.Advance(quilltest.SessionTTL - 5*time.Minute)
			},
			body: refreshForm("{alice_refresh}"), headers: urlencoded,
			wantStatus: http.StatusOK,
			after: func(t *testing.T, f *fixture, body []byte) {
				var pair tokenPair
				_ = json.Unmarshal(body, &pair)
				f.clock.Advance(time.Minute + time.Second)
				if status, _ := f.refresh(t, pair.RefreshToken); status != http.StatusUnauthorized {
					t.Errorf("refresh after the login's expiry = %d, want 401: refreshing must not extend a session", status)
				}
			},
		},
		{
			name: "refresh after the user was deleted", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				f.do(tb, "DELETE", f.expand("/api/users/{alice}"), "", f.as("alice"))
			},
			body: refreshForm("{alice_refresh}"), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badRefresh,
		},
	}...)

	// GET /api/users/me/sessions and DELETE /api/users/me/sessions/{id}.
	rows = append(rows, []apiScenario{
		{
			name: "sessions", method: "GET", path: "/api/users/me/sessions", as: "alice",
			wantStatus: http.StatusOK, wantHeaders: noStoreHeader, wantJSON: "[" + aliceSession + "]",
		},
		{
			name: "sessions, newest first", method: "GET", path: "/api/users/me/sessions/", as: "alice",
			setup: func(tb testing.TB, f *fixture) {
				f.clock.Advance(10 * time.Minute)
				res, body := f.do(tb, "POST", "/api/users/token", form("username", "Alice", "password", alicePassword),
					http.Header{"Content-Type": {formURL}, "User-Agent": {"Firefox/140.0"}})
				if res.StatusCode != http.StatusOK {
					tb.Fatalf("login = %d %s", res.StatusCode, body)
				}
				sessions, _ := f.App.UserSessions(context.Background(), f.users["alice"].ID)
				f.set("alice_session2", sessions[0].ID)
			},
			wantStatus: http.StatusOK,
			wantJSON: `[{"id":"{alice_session2}","created_at":"2026-03-01T12:14:00Z","last_used_at":"2026-03-01T12:14:00Z",` +
				`"expires_at":"2026-03-31T12:14:00Z","user_agent":"Firefox/140.0","ip":"192.0.2.1","current":false},` +
				`{"id":"{alice_session}","created_at":"2026-03-01T12:00:00Z","last_used_at":"2026-03-01T12:14:00Z",` +
				`"expires_at":"2026-03-31T12:00:00Z","user_agent":"","ip":"192.0.2.1","current":true}]`,
		},
		{
			name: "sessions without a token", method: "GET", path: "/api/users/me/sessions",
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
		{
			name: "sessions with a bad token", method: "GET", path: "/api/users/me/sessions",
			headers:    map[string]string{"Authorization": "Bearer {alice_token}x"},
			wantStatus: http.StatusUnauthorized, wantJSON: badToken, wantHeaders: wantBadToken,
		},
		{
			name: "wrong method on sessions", method: "POST", path: "/api/users/me/sessions",
			wantStatus: http.StatusMethodNotAllowed, wantHeaders: map[string]string{"Allow": "GET, HEAD"},
		},
		{
			name: "end another session", method: "DELETE", path: "/api/users/me/sessions/{alice_session2}", as: "alice",
			setup:      secondLogin,
			wantStatus: http.StatusNoContent,
			after: func(t *testing.T, f *fixture, _ []byte) {
				sessionsLeft(t, f, http.StatusOK, http.StatusUnauthorized)
				if status, _ := f.refresh(t, f.vars["alice_refresh2"]); status != http.StatusUnauthorized {
					t.Errorf("refresh of an ended session = %d, want 401", status)
				}
			},
		},
		{
			name: "end the current session", method: "DELETE", path: "/api/users/me/sessions/{alice_session}", as: "alice",
			setup:      secondLogin,
			wantStatus: http.StatusNoContent,
			after: func(t *testing.T, f *fixture, _ []byte) {
				sessionsLeft(t, f, http.StatusUnauthorized, http.StatusOK)
			},
		},
		{
			name: "end someone else's session", method: "DELETE", path: "/api/users/me/sessions/{bob_session}", as: "alice",
			wantStatus: http.StatusNotFound, wantJSON: sessionNotFound,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.wantStatus(t, "GET", "/api/users/me", f.as("bob"), http.StatusOK)
			},
		},
		{
			name: "end a missing session", method: "DELETE", path: "/api/users/me/sessions/AAAAAAAAAAAAAAAAAAAAAA", as: "alice",
			wantStatus: http.StatusNotFound, wantJSON: sessionNotFound,
		},
		{
			name: "end a session with an over-long id", method: "DELETE", path: "/api/users/me/sessions/" + strings.Repeat("a", 65), as: "alice",
			wantStatus: http.StatusNotFound, wantJSON: sessionNotFound,
		},
		{
			name: "end a session twice", method: "DELETE", path: "/api/users/me/sessions/{alice_session2}", as: "alice",
			setup: func(tb testing.TB, f *fixture) {
				secondLogin(tb, f)
				f.do(tb, "DELETE", f.expand("/api/users/me/sessions/{alice_session2}"), "", f.as("alice"))
			},
			wantStatus: http.StatusNotFound, wantJSON: sessionNotFound,
		},
		{
			name: "end a session without a token", method: "DELETE", path: "/api/users/me/sessions/{alice_session}",
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.wantStatus(t, "GET", "/api/users/me", f.as("alice"), http.StatusOK)
			},
		},
	}...)

	// PATCH /api/users/me/password.
	rows = append(rows, []apiScenario{
		{
			name: "change password", method: "PATCH", path: "/api/users/me/password", as: "alice",
			setup: func(tb testing.TB, f *fixture) {
				secondLogin(tb, f)
				f.set("reset_token", f.newResetToken(tb, "alice"))
			},
			body:       changeBody(alicePassword, newPassword),
			wantStatus: http.StatusOK, wantJSON: `{"detail":"Password changed successfully"}`, wantHeaders: noStoreHeader,
			after: func(t *testing.T, f *fixture, _ []byte) {
				// Every other session ends; this one goes on.
				sessionsLeft(t, f, http.StatusOK, http.StatusUnauthorized)
				if status, _ := f.refresh(t, f.vars["alice_refresh2"]); status != http.StatusUnauthorized {
					t.Errorf("refresh of another session after a password change = %d, want 401", status)
				}
				f.mustRefresh(t, f.users["alice"].Refresh)
				if !f.passwordWorks(t, "alice", newPassword) || f.passwordWorks(t, "alice", alicePassword) {
					t.Error("after the change, want the new password to work and the old one not")
				}
				// A reset link from before the change is void.
				res, body := f.do(t, "POST", "/api/users/reset-password", resetBody(f.vars["reset_token"], "another-new-passphrase-6"), nil)
				if res.StatusCode != http.StatusBadRequest {
					t.Errorf("reset with a link from before the change = %d %s, want 400", res.StatusCode, body)
				}
				f.wantStatus(t, "GET", "/api/users/me", f.as("bob"), http.StatusOK)
			},
		},
		{
			name: "change password with a wrong current password", method: "PATCH", path: "/api/users/me/password", as: "alice",
			setup:      secondLogin,
			body:       changeBody(leakCanary, newPassword),
			wantStatus: http.StatusBadRequest, wantJSON: `{"detail":"Current password is incorrect","code":"wrong_password"}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				sessionsLeft(t, f, http.StatusOK, http.StatusOK)
				if !f.passwordWorks(t, "alice", alicePassword) {
					t.Error("the old password stopped working after a refused change")
				}
			},
		},
		{
			// A stolen session is no way to guess the password: wrong
			// current passwords count as failed logins of the account.
			name: "change password after five wrong current passwords", method: "PATCH", path: "/api/users/me/password", as: "alice",
			setup: func(tb testing.TB, f *fixture) {
				for range 5 {
					res, body := f.do(tb, "PATCH", "/api/users/me/password", changeBody("a wrong guess", newPassword), f.as("alice"))
					if res.StatusCode != http.StatusBadRequest {
						tb.Fatalf("a wrong current password = %d %s, want 400", res.StatusCode, body)
					}
				}
			},
			body:        changeBody(alicePassword, newPassword),
			wantStatus:  http.StatusTooManyRequests,
			wantJSON:    `{"detail":"Too many failed login attempts; try again later","code":"login_throttled"}`,
			wantHeaders: map[string]string{"Retry-After": "30"},
			after: func(t *testing.T, f *fixture, _ []byte) {
				// The login form waits too, under either of her names.
				for _, name := range []string{"Alice", "alice@example.com"} {
					if got := f.tryLogin(t, name, alicePassword); got != http.StatusTooManyRequests {
						t.Errorf("login as %s after five wrong current passwords = %d, want 429", name, got)
					}
				}
			},
		},
		{
			name: "change password with an empty current password", method: "PATCH", path: "/api/users/me/password", as: "alice",
			body:       changeBody("", newPassword),
			wantStatus: http.StatusBadRequest, wantJSON: `{"detail":"Current password is incorrect","code":"wrong_password"}`,
		},
		{
			name: "change password without the current password", method: "PATCH", path: "/api/users/me/password", as: "alice",
			body:       `{"new_password":"` + newPassword + `"}`,
			wantStatus: http.StatusUnprocessableEntity, wantJSON: problem("missing", body("current_password"), "Field required"),
		},
		{
			name: "change password without fields", method: "PATCH", path: "/api/users/me/password", as: "alice", body: `{}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problems(
				"missing", body("current_password"), "Field required",
				"missing", body("new_password"), "Field required"),
		},
		{
			name: "change password with null", method: "PATCH", path: "/api/users/me/password", as: "alice",
			body:       `{"current_password":"` + alicePassword + `","new_password":null}`,
			wantStatus: http.StatusUnprocessableEntity, wantJSON: problem("string_type", body("new_password"), "Input should be a valid string"),
		},
		{
			name: "change password to a short one", method: "PATCH", path: "/api/users/me/password", as: "alice",
			body:       changeBody(alicePassword, "short"),
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("string_too_short", body("new_password"), "String should have at least 8 characters"),
		},
		{
			name: "change password to a common one", method: "PATCH", path: "/api/users/me/password", as: "alice",
			body:       changeBody(alicePassword, "password123"),
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("value_error", body("new_password"), "This password is too common; choose one that is harder to guess"),
			after: func(t *testing.T, f *fixture, _ []byte) {
				if !f.passwordWorks(t, "alice", alicePassword) {
					t.Error("the old password stopped working after a refused change")
				}
			},
		},
		{
			name: "change password to one with the username", method: "PATCH", path: "/api/users/me/password", as: "alice",
			body:       changeBody(alicePassword, "i-am-ALICE-in-wonderland"),
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("value_error", body("new_password"), "Password must not contain your username"),
		},
		{
			name: "change password without a token", method: "PATCH", path: "/api/users/me/password",
			body:       changeBody(alicePassword, newPassword),
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
		{
			name: "change password with a form", method: "PATCH", path: "/api/users/me/password", as: "alice",
			body: form("current_password", alicePassword, "new_password", newPassword), headers: urlencoded,
			wantStatus: http.StatusUnsupportedMediaType,
		},
		{
			name: "wrong method on password", method: "POST", path: "/api/users/me/password",
			wantStatus: http.StatusMethodNotAllowed, wantHeaders: map[string]string{"Allow": "PATCH"},
		},
	}...)

	// POST /api/users/forgot-password.
	rows = append(rows, []apiScenario{
		{
			name: "forgot password", method: "POST", path: "/api/users/forgot-password",
			body:       `{"email":"alice@example.com"}`,
			wantStatus: http.StatusAccepted, wantJSON: forgotAccepted,
			after: func(t *testing.T, f *fixture, _ []byte) {
				logs := f.waitLog(t, "password reset mail sent")
				if !strings.Contains(logs, "to=alice@example.com") {
					t.Errorf("the development mail is not to alice@example.com:\n%s", logs)
				}
				tokens := f.mailedTokens()
				if len(tokens) != 1 {
					t.Fatalf("mailed reset links: %q, want one", tokens)
				}
				res, body := f.do(t, "POST", "/api/users/reset-password", resetBody(tokens[0], newPassword), nil)
				if res.StatusCode != http.StatusOK {
					t.Errorf("reset with the mailed token = %d %s, want 200", res.StatusCode, body)
				}
				if !f.passwordWorks(t, "alice", newPassword) {
					t.Error("the new password does not work after the reset")
				}
			},
		},
		{
			name: "forgot password for an address without an account", method: "POST", path: "/api/users/forgot-password",
			body:       `{"email":"nobody@example.com"}`,
			wantStatus: http.StatusAccepted, wantJSON: forgotAccepted,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.waitLog(t, "no mail sent")
				if tokens := f.mailedTokens(); len(tokens) != 0 {
					t.Errorf("mailed reset links %q for an address without an account", tokens)
				}
			},
		},
		{
			name: "forgot password with the address in another case", method: "POST", path: "/api/users/forgot-password",
			body:       `{"email":"Alice@EXAMPLE.com"}`,
			wantStatus: http.StatusAccepted, wantJSON: forgotAccepted,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.waitLog(t, "password reset mail sent")
			},
		},
		{
			name: "forgot password twice within a minute", method: "POST", path: "/api/users/forgot-password",
			setup: func(tb testing.TB, f *fixture) {
				f.do(tb, "POST", "/api/users/forgot-password", `{"email":"alice@example.com"}`, nil)
				f.clock.Advance(59 * time.Second)
			},
			body:       `{"email":"alice@example.com"}`,
			wantStatus: http.StatusAccepted, wantJSON: forgotAccepted,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.waitLog(t, "less than a minute ago")
				f.waitLog(t, "password reset mail sent")
				// A minute on, a new link replaces the first.
				f.clock.Advance(time.Second)
				f.do(t, "POST", "/api/users/forgot-password", `{"email":"alice@example.com"}`, nil)
				deadline := time.Now().Add(10 * time.Second)
				for len(f.mailedTokens()) < 2 && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				tokens := f.mailedTokens()
				if len(tokens) != 2 {
					t.Fatalf("mailed links: %q, want two", tokens)
				}
				res, _ := f.do(t, "POST", "/api/users/reset-password", resetBody(tokens[0], newPassword), nil)
				if res.StatusCode != http.StatusBadRequest {
					t.Errorf("reset with the first, replaced link = %d, want 400", res.StatusCode)
				}
				res, _ = f.do(t, "POST", "/api/users/reset-password", resetBody(tokens[1], newPassword), nil)
				if res.StatusCode != http.StatusOK {
					t.Errorf("reset with the newest link = %d, want 200", res.StatusCode)
				}
			},
		},
		{
			name: "forgot password with an invalid address", method: "POST", path: "/api/users/forgot-password",
			body:       `{"email":"not-an-address"}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("value_error", body("email"), "value is not a valid email address: an email address must have an @-sign"),
		},
		{
			name: "forgot password without an address", method: "POST", path: "/api/users/forgot-password", body: `{}`,
			wantStatus: http.StatusUnprocessableEntity, wantJSON: problem("missing", body("email"), "Field required"),
		},
		{
			name: "forgot password with a form", method: "POST", path: "/api/users/forgot-password",
			body: form("email", "alice@example.com"), headers: urlencoded,
			wantStatus: http.StatusUnsupportedMediaType,
		},
	}...)

	// POST /api/users/reset-password.
	withReset := func(tb testing.TB, f *fixture) {
		secondLogin(tb, f)
		f.set("reset_token", f.newResetToken(tb, "alice"))
	}
	rows = append(rows, []apiScenario{
		{
			name: "reset password", method: "POST", path: "/api/users/reset-password",
			setup:      withReset,
			body:       resetBody("{reset_token}", newPassword),
			wantStatus: http.StatusOK, wantJSON: `{"detail":"Password has been reset"}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				// Every session ends, with its refresh token.
				sessionsLeft(t, f, http.StatusUnauthorized, http.StatusUnauthorized)
				if status, _ := f.refresh(t, f.users["alice"].Refresh); status != http.StatusUnauthorized {
					t.Errorf("refresh after a reset = %d, want 401", status)
				}
				if !f.passwordWorks(t, "alice", newPassword) || f.passwordWorks(t, "alice", alicePassword) {
					t.Error("after the reset, want the new password to work and the old one not")
				}
				f.wantStatus(t, "GET", "/api/users/me", f.as("bob"), http.StatusOK)
			},
		},
		{
			name: "reset password with a used token", method: "POST", path: "/api/users/reset-password",
			setup: func(tb testing.TB, f *fixture) {
				withReset(tb, f)
				res, _ := f.do(tb, "POST", "/api/users/reset-password", f.expand(resetBody("{reset_token}", newPassword)), nil)
				if res.StatusCode != http.StatusOK {
					tb.Fatalf("first reset = %d", res.StatusCode)
				}
			},
			body:       resetBody("{reset_token}", "another-new-passphrase-6"),
			wantStatus: http.StatusBadRequest, wantJSON: badReset,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if !f.passwordWorks(t, "alice", newPassword) {
					t.Error("a second use of a reset token changed the password")
				}
			},
		},
		{
			name: "reset password just before the token expires", method: "POST", path: "/api/users/reset-password",
			setup: func(tb testing.TB, f *fixture) {
				withReset(tb, f)
				f.clock.Advance(time.Hour - time.Second)
			},
			body:       resetBody("{reset_token}", newPassword),
			wantStatus: http.StatusOK,
		},
		{
			name: "reset password with an expired token", method: "POST", path: "/api/users/reset-password",
			setup: func(tb testing.TB, f *fixture) {
				withReset(tb, f)
				f.clock.Advance(time.Hour)
			},
			body:       resetBody("{reset_token}", newPassword),
			wantStatus: http.StatusBadRequest, wantJSON: badReset,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if !f.passwordWorks(t, "alice", alicePassword) {
					t.Error("the old password stopped working after a refused reset")
				}
			},
		},
		{
			name: "reset password with a replaced token", method: "POST", path: "/api/users/reset-password",
			setup: func(tb testing.TB, f *fixture) {
				withReset(tb, f)
				f.set("newer_token", f.newResetToken(tb, "alice"))
			},
			body:       resetBody("{reset_token}", newPassword),
			wantStatus: http.StatusBadRequest, wantJSON: badReset,
			after: func(t *testing.T, f *fixture, _ []byte) {
				sessionsLeft(t, f, http.StatusOK, http.StatusOK)
				res, _ := f.do(t, "POST", "/api/users/reset-password", resetBody(f.vars["newer_token"], newPassword), nil)
				if res.StatusCode != http.StatusOK {
					t.Errorf("reset with the newer token = %d, want 200", res.StatusCode)
				}
			},
		},
		{
			name: "reset password with a token of the wrong length", method: "POST", path: "/api/users/reset-password",
			setup:      withReset,
			body:       resetBody("{reset_token}A", newPassword),
			wantStatus: http.StatusBadRequest, wantJSON: badReset,
		},
		{
			name: "reset password with an unknown token", method: "POST", path: "/api/users/reset-password",
			body:       resetBody(strings.Repeat("A", 43), newPassword),
			wantStatus: http.StatusBadRequest, wantJSON: badReset,
		},
		{
			name: "reset password with a token that is not base64url", method: "POST", path: "/api/users/reset-password",
			body:       resetBody(strings.Repeat("+", 43), newPassword),
			wantStatus: http.StatusBadRequest, wantJSON: badReset,
		},
		{
			name: "reset password with an empty token", method: "POST", path: "/api/users/reset-password",
			body:       resetBody("", newPassword),
			wantStatus: http.StatusBadRequest, wantJSON: badReset,
		},
		{
			name: "reset password with a common password", method: "POST", path: "/api/users/reset-password",
			setup:      withReset,
			body:       resetBody("{reset_token}", "password123"),
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("value_error", body("new_password"), "This password is too common; choose one that is harder to guess"),
			after: func(t *testing.T, f *fixture, _ []byte) {
				// Nothing changed: the sessions live, the token still works.
				sessionsLeft(t, f, http.StatusOK, http.StatusOK)
				res, _ := f.do(t, "POST", "/api/users/reset-password", resetBody(f.vars["reset_token"], newPassword), nil)
				if res.StatusCode != http.StatusOK {
					t.Errorf("reset after a refused password = %d, want 200", res.StatusCode)
				}
			},
		},
		{
			name: "reset password with the username in the password", method: "POST", path: "/api/users/reset-password",
			setup:      withReset,
			body:       resetBody("{reset_token}", "i-am-ALICE-in-wonderland"),
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("value_error", body("new_password"), "Password must not contain your username"),
		},
		{
			name: "reset password with a short password and a bad token", method: "POST", path: "/api/users/reset-password",
			body:       resetBody("nope", "short"),
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("string_too_short", body("new_password"), "String should have at least 8 characters"),
		},
		{
			name: "reset password without fields", method: "POST", path: "/api/users/reset-password", body: `{}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problems(
				"missing", body("token"), "Field required",
				"missing", body("new_password"), "Field required"),
		},
		{
			name: "reset password for a deleted user", method: "POST", path: "/api/users/reset-password",
			setup: func(tb testing.TB, f *fixture) {
				withReset(tb, f)
				f.do(tb, "DELETE", f.expand("/api/users/{alice}"), "", f.as("alice"))
			},
			body:       resetBody("{reset_token}", newPassword),
			wantStatus: http.StatusBadRequest, wantJSON: badReset,
		},
		{
			name: "reset password after a password change through PUT", method: "POST", path: "/api/users/reset-password",
			setup: func(tb testing.TB, f *fixture) {
				withReset(tb, f)
				put := `{"username":"Alice","email":"alice@example.com","password":"` + newPassword + `","current_password":"` + alicePassword + `"}`
				res, body := f.do(tb, "PUT", f.expand("/api/users/{alice}"), put, f.as("alice"))
				if res.StatusCode != http.StatusOK {
					tb.Fatalf("PUT = %d %s", res.StatusCode, body)
				}
			},
			body:       resetBody("{reset_token}", "another-new-passphrase-6"),
			wantStatus: http.StatusBadRequest, wantJSON: badReset,
		},
	}...)

	return rows
}

var noStoreHeader = map[string]string{"Cache-Control": "no-store"}

// TestStaleRequestCannotUndoPasswordChange holds a PATCH of the user open
// past authentication (as an attacker with a stolen token could, by sending
// the body slowly), changes the password meanwhile, then lets the PATCH
// finish: it must not write, so the old password stays dead.
func TestStaleRequestCannotUndoPasswordChange(t *testing.T) {
	for _, change := range []struct{ name, method, path, body string }{
		{"PUT user", "PUT", "/api/users/{id}", `{"username":"carol","email":"carol@example.com","password":"` + newPassword + `","current_password":"old-passphrase-for-c1"}`},
		{"PATCH me/password", "PATCH", "/api/users/me/password", `{"current_password":"old-passphrase-for-c1","new_password":"` + newPassword + `"}`},
	} {
		t.Run(change.name, func(t *testing.T) {
			ts := newTestServer(t)
			id := ts.register(t, "carol", "carol@example.com", "old-passphrase-for-c1")
			stolen := ts.login(t, "carol", "old-passphrase-for-c1")
			owner := ts.login(t, "carol", "old-passphrase-for-c1")
			path := strings.ReplaceAll(change.path, "{id}", strconv.FormatInt(id, 10))

			body, send := io.Pipe()
			req := httptest.NewRequest("PATCH", "/api/users/"+strconv.FormatInt(id, 10), body)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+stolen)
			rec := httptest.NewRecorder()
			done := make(chan struct{})
			go func() { ts.handler.ServeHTTP(rec, req); close(done) }()
			// Write returns once the handler, past authentication, reads.
			if _, err := send.Write([]byte(`{"email":"carol@example.com",`)); err != nil {
				t.Fatal(err)
			}

			res, got := ts.do(t, change.method, path, change.body, http.Header{"Authorization": {"Bearer " + owner}})
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s %s = %d %s, want 200", change.method, path, res.StatusCode, got)
			}
			send.Write([]byte(`"username":"mallory"}`))
			send.Close()
			<-done
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("stale PATCH finished with %d %s, want 401", rec.Code, rec.Body)
			}
			u, err := ts.App.User(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if u.Username != "carol" {
				t.Errorf("username after the stale PATCH = %q, want carol", u.Username)
			}
			for pw, want := range map[string]int{"old-passphrase-for-c1": http.StatusUnauthorized, newPassword: http.StatusOK} {
				res, _ := ts.do(t, "POST", "/api/users/token", url.Values{"username": {"carol"}, "password": {pw}}.Encode(),
					http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
				if res.StatusCode != want {
					t.Errorf("login with %q = %d, want %d", pw, res.StatusCode, want)
				}
			}
		})
	}
}
