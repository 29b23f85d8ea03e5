package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/quill-blog/quill/internal/auth"
)

// Two-factor login through the API: the routes under /api/users/me/totp
// and the token endpoint's otp, as scenarios on the fixture (api_test.go).

// codeNow is the TOTP code of secret at the fixture's time.
func (f *fixture) codeNow(tb testing.TB, secret string) string {
	tb.Helper()
	code, err := totp.GenerateCode(secret, f.clock.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return code
}

// enableTOTP turns two-factor login on for a fixture user through the
// API, and sets {name_totp_secret}, {name_code} (a current code, unused)
// and {name_recovery0} … {name_recovery9}.
func (f *fixture) enableTOTP(tb testing.TB, name string) {
	tb.Helper()
	res, body := f.do(tb, "POST", "/api/users/me/totp", "", f.as(name))
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("POST /api/users/me/totp = %d %s", res.StatusCode, body)
	}
	var e struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Secret == "" {
		tb.Fatalf("POST /api/users/me/totp: no secret in %s", body)
	}
	res, body = f.do(tb, "POST", "/api/users/me/totp/confirm", mustJSON(tb, map[string]string{"current_password": f.users[name].Password, "code": f.codeNow(tb, e.Secret)}), f.as(name))
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("POST /api/users/me/totp/confirm = %d %s", res.StatusCode, body)
	}
	var rc struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	if err := json.Unmarshal(body, &rc); err != nil || len(rc.RecoveryCodes) != 10 {
		tb.Fatalf("POST /api/users/me/totp/confirm: %s, want ten recovery codes", body)
	}
	// The confirming code is spent; the next step's is not.
	f.clock.Advance(auth.TOTPPeriod)
	f.set(name+"_totp_secret", e.Secret)
	f.set(name+"_code", f.codeNow(tb, e.Secret))
	for i, c := range rc.RecoveryCodes {
		f.set(name+"_recovery"+string(rune('0'+i)), c)
	}
}

// startTOTP starts an enrolment for a fixture user and sets
// {name_pending_secret} and {name_pending_code}.
func (f *fixture) startTOTP(tb testing.TB, name string) {
	tb.Helper()
	res, body := f.do(tb, "POST", "/api/users/me/totp", "", f.as(name))
	var e struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(body, &e); err != nil || res.StatusCode != http.StatusOK {
		tb.Fatalf("POST /api/users/me/totp = %d %s", res.StatusCode, body)
	}
	f.set(name+"_pending_secret", e.Secret)
	f.set(name+"_pending_code", f.codeNow(tb, e.Secret))
}

// meTOTP reports what GET /api/users/me says of totp_enabled.
func (f *fixture) meTOTP(t *testing.T, name string) bool {
	t.Helper()
	res, body := f.do(t, "GET", "/api/users/me", "", f.as(name))
	var m struct {
		TOTP *bool `json:"totp_enabled"`
	}
	if err := json.Unmarshal(body, &m); err != nil || res.StatusCode != http.StatusOK || m.TOTP == nil {
		t.Fatalf("GET /api/users/me = %d %s, want totp_enabled", res.StatusCode, body)
	}
	return *m.TOTP
}

// tokenWith posts a password grant with otp and returns the status.
func (f *fixture) tokenWith(t *testing.T, username, password, otp string) int {
	t.Helper()
	res, _ := f.do(t, "POST", "/api/users/token", form("username", username, "password", password, "otp", f.expand(otp)),
		http.Header{"Content-Type": {formURL}})
	return res.StatusCode
}

func totpScenarios() []apiScenario {
	noStore := map[string]string{"Cache-Control": "no-store"}
	on := func(tb testing.TB, f *fixture) { f.enableTOTP(tb, "alice") }
	pending := func(tb testing.TB, f *fixture) { f.startTOTP(tb, "alice") }
	const (
		otpRequired = `{"detail":"Two-factor login is on: enter the code from your authenticator app, or a recovery code","code":"otp_required",` +
			`"error":"invalid_grant","error_description":"Two-factor login is on: enter the code from your authenticator app, or a recovery code"}`
		badOTPLogin = `{"detail":"Incorrect or already used code","code":"invalid_otp","error":"invalid_grant","error_description":"Incorrect or already used code"}`
		badOTP      = `{"detail":"Incorrect or already used code","code":"invalid_otp"}`
		totpOn      = `{"detail":"Two-factor login is already on; turn it off first","code":"totp_enabled"}`
		totpOff     = `{"detail":"Two-factor login is not on","code":"totp_not_enabled"}`
		notStarted  = `{"detail":"Two-factor login is not being set up; start again","code":"totp_not_started"}`
		wrongPW     = `{"detail":"Current password is incorrect","code":"wrong_password"}`
	)
	// login is Alice's password grant with otp, which may be a
	// placeholder: it is put in as it is, so write it URL-encoded.
	login := func(otp string) string { return form("username", "Alice", "password", alicePassword) + "&otp=" + otp }
	return []apiScenario{
		// Enrolment.
		{
			name: "start", method: "POST", path: "/api/users/me/totp", as: "alice",
			wantStatus: http.StatusOK, wantHeaders: noStore,
			after: func(t *testing.T, f *fixture, body []byte) {
				var e struct {
					Secret string `json:"secret"`
					URI    string `json:"otpauth_uri"`
				}
				if err := json.Unmarshal(body, &e); err != nil {
					t.Fatal(err)
				}
				u, err := url.Parse(e.URI)
				if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/quill.test:Alice" {
					t.Errorf("otpauth_uri = %q, want otpauth://totp/quill.test:Alice?…", e.URI)
				}
				q := u.Query()
				if q.Get("secret") != e.Secret || q.Get("issuer") != "quill.test" || q.Get("digits") != "6" ||
					q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
					t.Errorf("otpauth_uri = %q: want the secret, issuer quill.test, 6 digits, 30 s, SHA1", e.URI)
				}
				// Nothing is asked at login until the code confirms it.
				if got := f.tryLogin(t, "Alice", alicePassword); got != http.StatusOK {
					t.Errorf("login with an enrolment pending = %d, want 200", got)
				}
				if f.meTOTP(t, "alice") {
					t.Errorf("totp_enabled with an enrolment pending = true")
				}
			},
		},
		{
			name: "start without a token", method: "POST", path: "/api/users/me/totp",
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
		{
			name: "start again replaces a pending secret", method: "POST", path: "/api/users/me/totp", as: "alice", setup: pending,
			wantStatus: http.StatusOK,
			after: func(t *testing.T, f *fixture, body []byte) {
				if strings.Contains(string(body), f.vars["alice_pending_secret"]) {
					t.Errorf("starting again gave the same secret")
				}
				res, got := f.do(t, "POST", "/api/users/me/totp/confirm", `{"current_password":"`+alicePassword+`","code":"`+f.vars["alice_pending_code"]+`"}`, f.as("alice"))
				if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(got), "invalid_otp") {
					t.Errorf("confirm with the replaced secret's code = %d %s, want 400 invalid_otp", res.StatusCode, got)
				}
			},
		},
		{
			name: "start when on", method: "POST", path: "/api/users/me/totp", as: "alice", setup: on,
			wantStatus: http.StatusBadRequest, wantJSON: totpOn,
		},
		{
			name: "confirm", method: "POST", path: "/api/users/me/totp/confirm", as: "alice", setup: pending,
			body:       `{"current_password":"` + alicePassword + `","code":"{alice_pending_code}"}`,
			wantStatus: http.StatusOK, wantHeaders: noStore,
			after: func(t *testing.T, f *fixture, body []byte) {
				var rc struct {
					Codes []string `json:"recovery_codes"`
				}
				if err := json.Unmarshal(body, &rc); err != nil || len(rc.Codes) != 10 {
					t.Fatalf("recovery codes: %s", body)
				}
				if !f.meTOTP(t, "alice") {
					t.Errorf("totp_enabled after confirming = false")
				}
				if got := f.tryLogin(t, "Alice", alicePassword); got != http.StatusUnauthorized {
					t.Errorf("login without a code after confirming = %d, want 401", got)
				}
				if got := f.tokenWith(t, "Alice", alicePassword, rc.Codes[9]); got != http.StatusOK {
					t.Errorf("login with a recovery code = %d, want 200", got)
				}
				// Bob is not concerned.
				if got := f.tryLogin(t, "bob", bobPassword); got != http.StatusOK {
					t.Errorf("bob's login = %d, want 200", got)
				}
			},
		},
		{
			name: "confirm with a wrong code", method: "POST", path: "/api/users/me/totp/confirm", as: "alice", setup: pending,
			body: `{"current_password":"` + alicePassword + `","code":"000000"}`, wantStatus: http.StatusBadRequest, wantJSON: badOTP,
		},
		{
			name: "confirm with a wrong password", method: "POST", path: "/api/users/me/totp/confirm", as: "alice", setup: pending,
			body:       `{"current_password":"` + leakCanary + `","code":"{alice_pending_code}"}`,
			wantStatus: http.StatusBadRequest, wantJSON: wrongPW,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if f.meTOTP(t, "alice") {
					t.Errorf("a confirmation with a wrong password turned two-factor login on")
				}
			},
		},
		{
			name: "confirm with a recovery-code shape", method: "POST", path: "/api/users/me/totp/confirm", as: "alice", setup: pending,
			body:       `{"current_password":"` + alicePassword + `","code":"abcd-efgh-ijkl-mnop-qrst-uvwx"}`,
			wantStatus: http.StatusBadRequest, wantJSON: badOTP,
		},
		{
			name: "confirm with nothing started", method: "POST", path: "/api/users/me/totp/confirm", as: "alice",
			body:       `{"current_password":"` + alicePassword + `","code":"123456"}`,
			wantStatus: http.StatusBadRequest, wantJSON: notStarted,
		},
		{
			name: "confirm when on", method: "POST", path: "/api/users/me/totp/confirm", as: "alice", setup: on,
			body:       `{"current_password":"` + alicePassword + `","code":"{alice_code}"}`,
			wantStatus: http.StatusBadRequest, wantJSON: totpOn,
		},
		{
			name: "confirm with nothing", method: "POST", path: "/api/users/me/totp/confirm", as: "alice", setup: pending,
			body: `{}`, wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problems("missing", body("current_password"), "Field required", "missing", body("code"), "Field required"),
		},
		{
			name: "confirm with a number", method: "POST", path: "/api/users/me/totp/confirm", as: "alice", setup: pending,
			body:       `{"current_password":"` + alicePassword + `","code":123456}`,
			wantStatus: http.StatusUnprocessableEntity, wantJSON: problem("string_type", body("code"), "Input should be a valid string"),
		},
		{
			name: "confirm without a token", method: "POST", path: "/api/users/me/totp/confirm",
			body: `{"current_password":"x","code":"123456"}`, wantStatus: http.StatusUnauthorized, wantJSON: notAuthn,
		},

		// Turning it off.
		{
			name: "turn off with a code", method: "DELETE", path: "/api/users/me/totp", as: "alice", setup: on,
			body:       `{"current_password":"` + alicePassword + `","code":"{alice_code}"}`,
			wantStatus: http.StatusNoContent,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if f.meTOTP(t, "alice") {
					t.Errorf("totp_enabled after turning it off = true")
				}
				if got := f.tryLogin(t, "Alice", alicePassword); got != http.StatusOK {
					t.Errorf("login without a code after turning it off = %d, want 200", got)
				}
				if got := f.tokenWith(t, "Alice", alicePassword, "{alice_recovery0}"); got != http.StatusOK {
					t.Errorf("login with a stray old recovery code after turning it off = %d, want 200 (ignored)", got)
				}
			},
		},
		{
			name: "turn off with a recovery code", method: "DELETE", path: "/api/users/me/totp", as: "alice", setup: on,
			body:       `{"current_password":"` + alicePassword + `","code":"{alice_recovery4}"}`,
			wantStatus: http.StatusNoContent,
		},
		{
			name: "turn off with a wrong password", method: "DELETE", path: "/api/users/me/totp", as: "alice", setup: on,
			body:       `{"current_password":"` + leakCanary + `","code":"{alice_code}"}`,
			wantStatus: http.StatusBadRequest, wantJSON: wrongPW,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if !f.meTOTP(t, "alice") {
					t.Errorf("a refused turn-off turned it off")
				}
			},
		},
		{
			name: "turn off with a wrong code", method: "DELETE", path: "/api/users/me/totp", as: "alice", setup: on,
			body:       `{"current_password":"` + alicePassword + `","code":"000000"}`,
			wantStatus: http.StatusBadRequest, wantJSON: badOTP,
		},
		{
			name: "turn off when off", method: "DELETE", path: "/api/users/me/totp", as: "alice",
			body:       `{"current_password":"` + alicePassword + `","code":"123456"}`,
			wantStatus: http.StatusBadRequest, wantJSON: totpOff,
		},
		{
			name: "turn off with nothing", method: "DELETE", path: "/api/users/me/totp", as: "alice", setup: on,
			body:       `{}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problems("missing", body("current_password"), "Field required", "missing", body("code"), "Field required"),
		},
		{
			name: "turn off as a form", method: "DELETE", path: "/api/users/me/totp", as: "alice", setup: on,
			body: "current_password=x&code=1", headers: urlencoded, wantStatus: http.StatusUnsupportedMediaType,
		},
		{
			name: "turn off without a token", method: "DELETE", path: "/api/users/me/totp",
			body: `{"current_password":"x","code":"123456"}`, wantStatus: http.StatusUnauthorized, wantJSON: notAuthn,
		},
		{
			name: "GET is not a route", method: "GET", path: "/api/users/me/totp",
			wantStatus: http.StatusMethodNotAllowed, wantHeaders: map[string]string{"Allow": "POST, DELETE"},
		},

		// The token endpoint.
		{
			name: "login without the code", method: "POST", path: "/api/users/token", setup: on,
			body: form("username", "Alice", "password", alicePassword), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: otpRequired, wantHeaders: wantNotAuthn,
		},
		{
			name: "login with an empty code", method: "POST", path: "/api/users/token", setup: on,
			body: login(""), headers: urlencoded, wantStatus: http.StatusUnauthorized, wantJSON: otpRequired,
		},
		{
			name: "login with a wrong code", method: "POST", path: "/api/users/token", setup: on,
			body: login("000000"), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badOTPLogin, wantHeaders: wantNotAuthn,
		},
		{
			name: "login with a malformed code", method: "POST", path: "/api/users/token", setup: on,
			body: login("12345x"), headers: urlencoded, wantStatus: http.StatusUnauthorized, wantJSON: badOTPLogin,
		},
		{
			name: "login with a code and a wrong password", method: "POST", path: "/api/users/token", setup: on,
			body: form("username", "Alice", "password", leakCanary) + "&otp={alice_code}", headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badLogin,
		},
		{
			name: "login with the code", method: "POST", path: "/api/users/token", setup: on,
			body: login("{alice_code}"), headers: urlencoded,
			wantStatus: http.StatusOK, wantHeaders: noStore,
			wantJSON: `{"access_token":"<token>","token_type":"bearer","expires_in":1800,"refresh_token":"<token>"}`,
			after: func(t *testing.T, f *fixture, body []byte) {
				// Used once, even inside its time window.
				if got := f.tokenWith(t, "Alice", alicePassword, "{alice_code}"); got != http.StatusUnauthorized {
					t.Errorf("the same code again = %d, want 401", got)
				}
				// The session refreshes without a code.
				var tok tokenPair
				if err := json.Unmarshal(body, &tok); err != nil {
					t.Fatal(err)
				}
				res, got := f.do(t, "POST", "/api/users/token", form("grant_type", "refresh_token", "refresh_token", tok.RefreshToken),
					http.Header{"Content-Type": {formURL}})
				if res.StatusCode != http.StatusOK {
					t.Errorf("refresh of a session started with a code = %d %s, want 200", res.StatusCode, got)
				}
			},
		},
		{
			name: "login with the code typed with a space", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				on(tb, f)
				c := f.vars["alice_code"]
				f.set("alice_code_spaced", c[:3]+"+"+c[3:]) // a space, URL-encoded
			},
			body: login("{alice_code_spaced}"), headers: urlencoded, wantStatus: http.StatusOK,
		},
		{
			name: "login with a code as multipart", method: "POST", path: "/api/users/token", setup: on,
			body:    "--b\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nAlice\r\n--b\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n" + alicePassword + "\r\n--b\r\nContent-Disposition: form-data; name=\"otp\"\r\n\r\n{alice_code}\r\n--b--\r\n",
			headers: map[string]string{"Content-Type": "multipart/form-data; boundary=b"}, wantStatus: http.StatusOK,
		},
		{
			name: "login with a recovery code, once", method: "POST", path: "/api/users/token", setup: on,
			body: login("{alice_recovery2}"), headers: urlencoded, wantStatus: http.StatusOK,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if got := f.tokenWith(t, "Alice", alicePassword, "{alice_recovery2}"); got != http.StatusUnauthorized {
					t.Errorf("the same recovery code again = %d, want 401", got)
				}
				if got := f.tokenWith(t, "Alice", alicePassword, "{alice_recovery3}"); got != http.StatusOK {
					t.Errorf("another recovery code = %d, want 200", got)
				}
			},
		},
		{
			name: "login with bob's recovery code", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) { on(tb, f); f.enableTOTP(tb, "bob") },
			body:  login("{bob_recovery0}"), headers: urlencoded, wantStatus: http.StatusUnauthorized, wantJSON: badOTPLogin,
		},
		{
			name: "login with a code that is not text", method: "POST", path: "/api/users/token", setup: on,
			body: login("1234%0056"), headers: urlencoded, wantStatus: http.StatusUnprocessableEntity,
		},
		{
			name: "login without two-factor login ignores a code", method: "POST", path: "/api/users/token",
			body: form("username", "bob", "password", bobPassword, "otp", "not a code"), headers: urlencoded,
			wantStatus: http.StatusOK,
		},
		{
			name: "wrong codes are throttled as wrong passwords", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				on(tb, f)
				for range 5 {
					res, body := f.do(tb, "POST", "/api/users/token", login("000000"), http.Header{"Content-Type": {formURL}})
					if res.StatusCode != http.StatusUnauthorized {
						tb.Fatalf("login with a wrong code = %d %s, want 401", res.StatusCode, body)
					}
				}
			},
			body:       login("{alice_code}"),
			headers:    urlencoded,
			wantStatus: http.StatusTooManyRequests,
			wantJSON: `{"detail":"Too many failed login attempts; try again later","code":"login_throttled",` +
				`"error":"temporarily_unavailable","error_description":"Too many failed login attempts; try again later"}`,
		},
		{
			name: "me says two-factor login is on", method: "GET", path: "/api/users/me", as: "alice", setup: on,
			wantStatus: http.StatusOK,
			wantJSON:   `{"id":{alice},"username":"Alice","email":"alice@example.com","image_file":null,"image_path":"` + defaultImage + `","email_verified":false,"pending_email":null,"totp_enabled":true}`,
		},
	}
}

func TestTOTPAPI(t *testing.T) {
	for _, db := range testDBs() {
		t.Run(db.Name, func(t *testing.T) {
			for _, sc := range totpScenarios() {
				t.Run(sc.method+" "+sc.name, func(t *testing.T) {
					t.Parallel()
					sc.run(t, newFixture(t, db))
				})
			}
		})
	}
}

// FuzzTokenOTP sends arbitrary codes with Alice's right password, her
// account having two-factor login on. Nothing may cause a 500 or a panic,
// and only a code that is hers gets in.
func FuzzTokenOTP(f *testing.F) {
	for _, seed := range []string{"", "123456", "123 456", " ", "abcd-efgh-ijkl-mnop-qrst-uvwx", "ABCDEFGHIJKLMNOPQRSTUVWX",
		"1234567", "\x00", "\xff", strings.Repeat("9", 100), "１２３４５６", "-- --"} {
		f.Add(seed)
	}
	fx := newFixture(f, testDBs()[0], noLimits)
	fx.enableTOTP(f, "alice")
	f.Fuzz(func(t *testing.T, otp string) {
		res, got := fx.do(t, "POST", "/api/users/token", form("username", "Alice", "password", alicePassword, "otp", otp),
			http.Header{"Content-Type": {formURL}})
		checkFuzzReply(t, "POST /api/users/token", res, got)
		if res.StatusCode >= 400 {
			checkOAuthError(t, "POST /api/users/token", got)
		}
		switch res.StatusCode {
		case http.StatusOK:
			// Only her codes of the steps around now, or her recovery codes.
			code, ok := auth.ParseOTP(otp)
			valid := false
			for _, d := range []time.Duration{-auth.TOTPPeriod, 0, auth.TOTPPeriod} {
				c, err := totp.GenerateCode(fx.vars["alice_totp_secret"], fx.clock.Now().Add(d))
				valid = valid || (err == nil && code.Kind == auth.OTPTOTP && c == code.Code)
			}
			for i := range 10 {
				rc, _ := auth.ParseOTP(fx.vars[fmt.Sprintf("alice_recovery%d", i)])
				valid = valid || (code.Kind == auth.OTPRecovery && rc.Code == code.Code)
			}
			if !ok || !valid {
				t.Errorf("login with otp %q succeeded", otp)
			}
		case http.StatusUnauthorized, http.StatusUnprocessableEntity:
		default:
			t.Errorf("login with otp %q = %d %s, want 200, 401 or 422", otp, res.StatusCode, got)
		}
	})
}
