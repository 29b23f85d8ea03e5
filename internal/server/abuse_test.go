package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/quilltest"
	"github.com/quill-blog/quill/internal/server"
)

// The abuse scenarios (throttling, per-client allowances, CORS), run
// like apiScenarios on a fresh fixture each. Test servers allow CORS for
// testOrigin and trust the proxies in quilltest.Proxies (198.51.100.0/24).

func TestAPIAbuse(t *testing.T) {
	for _, db := range testDBs() {
		t.Run(db.Name, func(t *testing.T) {
			for _, sc := range abuseScenarios() {
				t.Run(sc.method+" "+sc.name, func(t *testing.T) {
					t.Parallel()
					sc.run(t, newFixture(t, db))
				})
			}
		})
	}
}

const (
	throttled        = `{"detail":"Too many failed login attempts; try again later","code":"login_throttled","error":"temporarily_unavailable","error_description":"Too many failed login attempts; try again later"}`
	rateLimited      = `{"detail":"Too many requests; try again later","code":"rate_limited"}`
	loginRateLimited = `{"detail":"Too many requests; try again later","code":"rate_limited","error":"temporarily_unavailable","error_description":"Too many requests; try again later"}`
)

// loginFrom tries a password-grant login from the client address remote
// and returns the status and Retry-After.
func (f *fixture) loginFrom(t *testing.T, remote, username, password string, header http.Header) (int, string) {
	t.Helper()
	h := http.Header{"Content-Type": {formURL}}
	for k, v := range header {
		h[k] = v
	}
	res, _ := f.doFrom(t, remote, "POST", "/api/users/token", form("username", username, "password", password), h)
	return res.StatusCode, res.Header.Get("Retry-After")
}

// wantLogin checks the status (and, for 429, the Retry-After seconds) of a
// login from testRemote.
func (f *fixture) wantLogin(t *testing.T, username, password string, status int, retryAfter string) {
	t.Helper()
	got, ra := f.loginFrom(t, testRemote, username, password, nil)
	if got != status || ra != retryAfter {
		t.Errorf("login as %q at +%v = %d, Retry-After %q; want %d, %q", username,
			f.clock.Now().Sub(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), got, ra, status, retryAfter)
	}
}

// failLogins makes n failed logins as username.
func failLogins(username string, n int) func(testing.TB, *fixture) {
	return func(tb testing.TB, f *fixture) {
		t := tb.(*testing.T)
		for range n {
			f.wantLogin(t, username, leakCanary, http.StatusUnauthorized, "")
		}
	}
}

func abuseScenarios() []apiScenario {
	login := func(username, password string) string { return form("username", username, "password", password) }
	first := fmt.Sprint(int(blog.FirstLoginDelay.Seconds()))

	var rows []apiScenario

	// The login throttle, per login key, in the database.
	rows = append(rows, []apiScenario{
		{
			name: "five failures cost nothing", method: "POST", path: "/api/users/token",
			setup:   failLogins("Alice", blog.FreeLoginFailures-1),
			body:    login("Alice", alicePassword),
			headers: urlencoded, wantStatus: http.StatusOK, wantJSON: `{"access_token":"<token>","token_type":"bearer","expires_in":1800,"refresh_token":"<token>"}`,
		},
		{
			name: "after five failures even the right password waits", method: "POST", path: "/api/users/token",
			setup: failLogins("Alice", blog.FreeLoginFailures),
			body:  login("Alice", alicePassword), headers: urlencoded,
			wantStatus: http.StatusTooManyRequests, wantJSON: throttled,
			wantHeaders: map[string]string{"Retry-After": first},
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.clock.Advance(blog.FirstLoginDelay - time.Second)
				f.wantLogin(t, "Alice", alicePassword, http.StatusTooManyRequests, "1")
				f.clock.Advance(time.Second)
				// No lockout: after the delay the right password works, and
				// the success resets the count.
				f.wantLogin(t, "Alice", alicePassword, http.StatusOK, "")
				failLogins("Alice", blog.FreeLoginFailures)(t, f)
				f.wantLogin(t, "Alice", leakCanary, http.StatusTooManyRequests, first)
			},
		},
		{
			name: "an unknown account is throttled the same way", method: "POST", path: "/api/users/token",
			setup: failLogins("nobody", blog.FreeLoginFailures),
			body:  login("nobody", leakCanary), headers: urlencoded,
			wantStatus: http.StatusTooManyRequests, wantJSON: throttled,
			wantHeaders: map[string]string{"Retry-After": first},
		},
		{
			name: "an unknown email is throttled the same way", method: "POST", path: "/api/users/token",
			setup: failLogins("nobody@example.com", blog.FreeLoginFailures),
			body:  login("nobody@example.com", leakCanary), headers: urlencoded,
			wantStatus: http.StatusTooManyRequests, wantJSON: throttled,
			wantHeaders: map[string]string{"Retry-After": first},
		},
		{
			name: "the delay doubles with each failure; refused attempts do not count", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				t := tb.(*testing.T)
				failLogins("Alice", blog.FreeLoginFailures)(t, f)
				f.clock.Advance(blog.FirstLoginDelay)
				f.wantLogin(t, "Alice", leakCanary, http.StatusUnauthorized, "") // the sixth
			},
			body: login("Alice", leakCanary), headers: urlencoded,
			wantStatus: http.StatusTooManyRequests, wantJSON: throttled,
			wantHeaders: map[string]string{"Retry-After": fmt.Sprint(int(blog.LoginDelay(6).Seconds()))},
			after: func(t *testing.T, f *fixture, _ []byte) {
				left := blog.LoginDelay(6)
				for left > 5*time.Second {
					f.clock.Advance(5 * time.Second)
					left -= 5 * time.Second
					f.wantLogin(t, "Alice", leakCanary, http.StatusTooManyRequests, fmt.Sprint(int(left.Seconds())))
				}
				f.clock.Advance(left)
				f.wantLogin(t, "Alice", alicePassword, http.StatusOK, "")
			},
		},
		{
			name: "the delay is capped", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				t := tb.(*testing.T)
				for range 20 {
					f.wantLogin(t, "Alice", leakCanary, http.StatusUnauthorized, "")
					f.clock.Advance(blog.MaxLoginDelay)
				}
				f.wantLogin(t, "Alice", leakCanary, http.StatusUnauthorized, "")
			},
			body: login("Alice", alicePassword), headers: urlencoded,
			wantStatus: http.StatusTooManyRequests, wantJSON: throttled,
			wantHeaders: map[string]string{"Retry-After": fmt.Sprint(int(blog.MaxLoginDelay.Seconds()))},
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.clock.Advance(blog.MaxLoginDelay)
				f.wantLogin(t, "Alice", alicePassword, http.StatusOK, "")
			},
		},
		{
			name: "the throttle counts by the normalised name", method: "POST", path: "/api/users/token",
			setup: func(tb testing.TB, f *fixture) {
				t := tb.(*testing.T)
				for _, name := range []string{"alice", "ALICE", " Alice ", "ａｌｉｃｅ", "AlIcE"} {
					f.wantLogin(t, name, leakCanary, http.StatusUnauthorized, "")
				}
			},
			body: login("Ａｌｉｃｅ", alicePassword), headers: urlencoded,
			wantStatus: http.StatusTooManyRequests, wantJSON: throttled,
		},
		{
			name: "email and username are counted apart; a success clears both", method: "POST", path: "/api/users/token",
			setup: failLogins("Alice@Example.com", blog.FreeLoginFailures),
			body:  login("alice", alicePassword), headers: urlencoded,
			wantStatus: http.StatusOK,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.wantLogin(t, "alice@example.com", alicePassword, http.StatusOK, "")
			},
		},
		{
			name: "other accounts are not throttled", method: "POST", path: "/api/users/token",
			setup: failLogins("Alice", blog.FreeLoginFailures),
			body:  login("bob", bobPassword), headers: urlencoded,
			wantStatus: http.StatusOK,
		},
		{
			name: "a throttled login costs no hash", method: "POST", path: "/api/users/token",
			setup: failLogins("Alice", blog.FreeLoginFailures),
			// An unparseable stored hash would fail quietly; what shows that
			// no hash ran is that the throttled reply comes before the
			// password is even looked at: a wrong one gets the same 429.
			body: login("Alice", "x"), headers: urlencoded,
			wantStatus: http.StatusTooManyRequests, wantJSON: throttled,
		},
	}...)

	// Per-client allowances, in memory.
	tooManyLogins := func(remote string, xff string) func(testing.TB, *fixture) {
		return func(tb testing.TB, f *fixture) {
			t := tb.(*testing.T)
			h := http.Header{}
			if xff != "" {
				h.Set("X-Forwarded-For", xff)
			}
			for i := range 60 {
				// Missing passwords: each counts without touching the
				// database or a hash slot.
				h.Set("Content-Type", formURL)
				res, body := f.doFrom(t, remote, "POST", "/api/users/token", form("username", fmt.Sprint("user", i)), h)
				if res.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("login %d from %s = %d %s, want 422", i, remote, res.StatusCode, body)
				}
			}
		}
	}
	rows = append(rows, []apiScenario{
		{
			name: "61st login from one client in a minute", method: "POST", path: "/api/users/token",
			setup: tooManyLogins(testRemote, ""),
			body:  login("Alice", alicePassword), headers: urlencoded,
			wantStatus: http.StatusTooManyRequests, wantJSON: loginRateLimited,
			wantHeaders: map[string]string{"Retry-After": "60"},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if got, _ := f.loginFrom(t, "192.0.2.2:1234", "Alice", alicePassword, nil); got != http.StatusOK {
					t.Errorf("login from another client = %d, want 200", got)
				}
				f.clock.Advance(59 * time.Second)
				f.wantLogin(t, "Alice", alicePassword, http.StatusTooManyRequests, "1")
				f.clock.Advance(time.Second)
				f.wantLogin(t, "Alice", alicePassword, http.StatusOK, "")
			},
		},
		{
			name: "21st registration from one client in a minute", method: "POST", path: "/api/users",
			setup: func(tb testing.TB, f *fixture) {
				for i := range 20 {
					res, body := f.do(tb, "POST", "/api/users", `{}`, nil)
					if res.StatusCode != http.StatusUnprocessableEntity {
						tb.Fatalf("registration %d = %d %s, want 422", i, res.StatusCode, body)
					}
				}
			},
			body:       `{"username":"carol","email":"carol@example.com","password":"a-long-passphrase-4"}`,
			wantStatus: http.StatusTooManyRequests, wantJSON: rateLimited,
			wantHeaders: map[string]string{"Retry-After": "60"},
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.clock.Advance(time.Minute)
				res, body := f.do(t, "POST", "/api/users", `{"username":"carol","email":"carol@example.com","password":"a-long-passphrase-4"}`, nil)
				if res.StatusCode != http.StatusCreated {
					t.Errorf("registration a minute later = %d %s, want 201", res.StatusCode, body)
				}
			},
		},
		{
			name: "11th password reset request from one client in a minute", method: "POST", path: "/api/users/forgot-password",
			setup: func(tb testing.TB, f *fixture) {
				for i := range 10 {
					res, body := f.do(tb, "POST", "/api/users/forgot-password", `{}`, nil)
					if res.StatusCode != http.StatusUnprocessableEntity {
						tb.Fatalf("request %d = %d %s, want 422", i, res.StatusCode, body)
					}
				}
			},
			body:       `{"email":"alice@example.com"}`,
			wantStatus: http.StatusTooManyRequests, wantJSON: rateLimited,
			wantHeaders: map[string]string{"Retry-After": "60"},
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.clock.Advance(time.Minute)
				res, body := f.do(t, "POST", "/api/users/forgot-password", `{"email":"alice@example.com"}`, nil)
				if res.StatusCode != http.StatusAccepted {
					t.Errorf("a minute later = %d %s, want 202", res.StatusCode, body)
				}
			},
		},
		{
			name: "logins and registrations have separate allowances", method: "POST", path: "/api/users",
			setup:      tooManyLogins(testRemote, ""),
			body:       `{"username":"carol","email":"carol@example.com","password":"a-long-passphrase-4"}`,
			wantStatus: http.StatusCreated,
		},
		{
			name: "behind a trusted proxy the client is the forwarded address", method: "POST", path: "/api/users/token",
			setup:  tooManyLogins("198.51.100.7:4000", "203.0.113.5"),
			remote: "198.51.100.7:4000", headers: map[string]string{"Content-Type": formURL, "X-Forwarded-For": "203.0.113.6"},
			body:       login("Alice", alicePassword),
			wantStatus: http.StatusOK,
			after: func(t *testing.T, f *fixture, _ []byte) {
				xff := http.Header{"X-Forwarded-For": {"203.0.113.5"}}
				if got, _ := f.loginFrom(t, "198.51.100.7:4000", "Alice", alicePassword, xff); got != http.StatusTooManyRequests {
					t.Errorf("login for the limited client through the proxy = %d, want 429", got)
				}
				xff = http.Header{"X-Forwarded-For": {"10.1.1.1, 203.0.113.5"}}
				if got, _ := f.loginFrom(t, "198.51.100.8:4000", "Alice", alicePassword, xff); got != http.StatusTooManyRequests {
					t.Errorf("login for the limited client with a spoofed entry prepended = %d, want 429", got)
				}
			},
		},
		{
			name: "an untrusted peer cannot choose its address", method: "POST", path: "/api/users/token",
			setup:      tooManyLogins(testRemote, "203.0.113.5"),
			headers:    map[string]string{"Content-Type": formURL, "X-Forwarded-For": "203.0.113.99"},
			body:       login("Alice", alicePassword),
			wantStatus: http.StatusTooManyRequests, wantJSON: loginRateLimited,
		},
		{
			name: "an IPv6 client is counted by its /64", method: "POST", path: "/api/users/token",
			setup:  tooManyLogins("[2001:db8:1:2::1]:1234", ""),
			remote: "[2001:db8:1:2:ffff::77]:1234", headers: urlencoded,
			body:       login("Alice", alicePassword),
			wantStatus: http.StatusTooManyRequests, wantJSON: loginRateLimited,
		},
	}...)

	// CORS: only testOrigin, matched exactly.
	cors := func(origin string) map[string]string { return map[string]string{"Origin": origin} }
	preflight := func(origin, method string) map[string]string {
		return map[string]string{"Origin": origin, "Access-Control-Request-Method": method,
			"Access-Control-Request-Headers": "authorization, content-type"}
	}
	noCORS := map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": "",
		"Access-Control-Allow-Credentials": "", "Vary": "Accept-Encoding, Origin"}
	rows = append(rows, []apiScenario{
		{
			name: "CORS preflight from the allowed origin", method: "OPTIONS", path: "/api/posts",
			headers: preflight(testOrigin, "POST"), wantStatus: http.StatusNoContent,
			wantHeaders: map[string]string{
				"Access-Control-Allow-Origin":      testOrigin,
				"Access-Control-Allow-Methods":     "GET, HEAD, POST",
				"Access-Control-Allow-Headers":     "Authorization, Content-Type",
				"Access-Control-Max-Age":           "600",
				"Access-Control-Allow-Credentials": "",
				"Vary":                             "Accept-Encoding, Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
			},
		},
		{
			name: "CORS preflight for a post, with a trailing slash", method: "OPTIONS", path: "/api/posts/{alice_post}/",
			headers: preflight(testOrigin, "DELETE"), wantStatus: http.StatusNoContent,
			wantHeaders: map[string]string{
				"Access-Control-Allow-Origin":  testOrigin,
				"Access-Control-Allow-Methods": "GET, HEAD, PUT, PATCH, DELETE",
			},
		},
		{
			name: "CORS preflight for the token endpoint", method: "OPTIONS", path: "/api/users/token",
			headers: preflight(testOrigin, "POST"), wantStatus: http.StatusNoContent,
			// Only its own method: /api/users/{user_id} does not take it.
			wantHeaders: map[string]string{"Access-Control-Allow-Origin": testOrigin, "Access-Control-Allow-Methods": "POST"},
		},
		{
			name: "CORS preflight from another origin gets no CORS headers", method: "OPTIONS", path: "/api/posts",
			headers: preflight("https://evil.example", "POST"), wantStatus: http.StatusMethodNotAllowed,
			wantJSON: `{"detail":"Method Not Allowed","code":"method_not_allowed"}`, wantHeaders: noCORS,
		},
		{
			name: "CORS preflight for an unknown path", method: "OPTIONS", path: "/api/nothing",
			headers: preflight(testOrigin, "GET"), wantStatus: http.StatusNotFound, wantJSON: notFound,
			wantHeaders: map[string]string{"Access-Control-Allow-Methods": ""},
		},
		{
			name: "OPTIONS that is not a preflight", method: "OPTIONS", path: "/api/posts",
			headers: cors(testOrigin), wantStatus: http.StatusMethodNotAllowed,
			wantHeaders: map[string]string{"Allow": "GET, HEAD, POST", "Access-Control-Allow-Methods": ""},
		},
		{
			name: "CORS request from the allowed origin", method: "GET", path: "/api/posts/{alice_post}",
			headers: cors(testOrigin), wantStatus: http.StatusOK,
			wantHeaders: map[string]string{
				"Access-Control-Allow-Origin":      testOrigin,
				"Access-Control-Expose-Headers":    "Retry-After, WWW-Authenticate, X-Request-Id",
				"Access-Control-Allow-Credentials": "",
				"Vary":                             "Accept-Encoding, Origin",
			},
		},
		{
			name: "CORS on an authenticated request", method: "GET", path: "/api/users/me", as: "alice",
			headers: cors(testOrigin), wantStatus: http.StatusOK, wantJSON: `{alice_me}`,
			wantHeaders: map[string]string{"Access-Control-Allow-Origin": testOrigin, "Cache-Control": "no-store"},
		},
		{
			name: "CORS on an error", method: "GET", path: "/api/users/me",
			headers: cors(testOrigin), wantStatus: http.StatusUnauthorized, wantJSON: notAuthn,
			wantHeaders: map[string]string{"Access-Control-Allow-Origin": testOrigin},
		},
		{
			name: "no CORS without Origin", method: "GET", path: "/api/posts/{alice_post}",
			wantStatus:  http.StatusOK,
			wantHeaders: noCORS,
		},
		{
			name: "no CORS on pages and static files", method: "GET", path: "/static/profile_pics/default.jpg",
			headers: cors(testOrigin), wantStatus: http.StatusOK,
			wantHeaders: map[string]string{"Access-Control-Allow-Origin": "", "Vary": ""},
		},
	}...)
	for _, origin := range []string{
		"https://evil.example",
		"https://app.example.com.evil.example",
		"https://evil.example/https://app.example.com",
		"http://app.example.com",
		"https://app.example.com:8443",
		"https://APP.example.com",
		"https://app.example.com/",
		"null",
		"*",
		strings.ToUpper(testOrigin),
	} {
		rows = append(rows, apiScenario{
			name: "CORS origin must match exactly: " + origin, method: "GET", path: "/api/posts/{alice_post}",
			headers: cors(origin), wantStatus: http.StatusOK, wantHeaders: noCORS,
		})
	}
	return rows
}

// TestNoCORSOrigins checks that a server without CORS_ORIGINS sends no
// CORS headers at all, and answers no preflight.
func TestNoCORSOrigins(t *testing.T) {
	ts := newTestServerWith(t, testDBs()[0], quilltest.Options{Server: func(c *server.Config) { c.CORSOrigins = nil }})
	for _, method := range []string{"GET", "OPTIONS"} {
		res, _ := ts.do(t, method, "/api/posts", "", http.Header{
			"Origin": {testOrigin}, "Access-Control-Request-Method": {"POST"},
		})
		for k := range res.Header {
			if strings.HasPrefix(k, "Access-Control-") || (k == "Vary" && strings.Contains(strings.Join(res.Header[k], ","), "Origin")) {
				t.Errorf("%s /api/posts without CORS_ORIGINS: header %s: %q", method, k, res.Header[k])
			}
		}
		if method == "OPTIONS" && res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("OPTIONS /api/posts without CORS_ORIGINS = %d, want 405", res.StatusCode)
		}
	}
}

// TestRateLimitsOff checks that RATE_LIMITS=off lifts both the per-client
// allowances and the login throttle.
func TestRateLimitsOff(t *testing.T) {
	ts := newTestServerWith(t, testDBs()[0], noLimits)
	f := &fixture{testServer: ts}
	for i := range 25 {
		res, body := ts.do(t, "POST", "/api/users", fmt.Sprintf(`{"username":"user%d","email":"user%d@example.com","password":"a-long-passphrase-4"}`, i, i), nil)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("registration %d = %d %s, want 201", i, res.StatusCode, body)
		}
	}
	for range 70 {
		f.wantLogin(t, "user0", leakCanary, http.StatusUnauthorized, "")
	}
	f.wantLogin(t, "user0", "a-long-passphrase-4", http.StatusOK, "")
}

// TestPagesThrottled checks that the login, register and forgot-password
// pages count against the same throttles as the API: they share its code,
// and a browser form must not be a way around them.
func TestPagesThrottled(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	srv := pageServer(t, f)
	v := newVisitor(t, f, srv)

	for range blog.FreeLoginFailures {
		res, _ := v.submit("/login", "/login", "username", "Alice", "password", leakCanary)
		wantStatus(t, "a wrong password on the login page", res, http.StatusUnauthorized)
	}
	res, body := v.submit("/login", "/login", "username", "Alice", "password", alicePassword)
	wantStatus(t, "the right password after five failures", res, http.StatusTooManyRequests)
	wantContains(t, "the login page", body, "Too many wrong passwords for this account. Wait a few minutes, then try again.")
	if got, _ := f.loginFrom(t, testRemote, "Alice", alicePassword, nil); got != http.StatusTooManyRequests {
		t.Errorf("API login after five failures on the page = %d, want 429 (one count)", got)
	}

	for range registrationsPerMinute {
		res, _ := v.submit("/register", "/register", "username", "carol", "email", "not-an-address", "password", "a-long-passphrase-4")
		wantStatus(t, "a bad registration form", res, http.StatusUnprocessableEntity)
	}
	res, _ = v.submit("/register", "/register", "username", "carol", "email", "carol@example.com", "password", "a-long-passphrase-4")
	wantStatus(t, "the 21st registration in a minute", res, http.StatusTooManyRequests)
	if got := res.Header.Get("Retry-After"); got != "60" {
		t.Errorf("the 21st registration: Retry-After = %q, want 60", got)
	}

	for range resetRequestsPerMinute {
		res, _ := v.submit("/forgot-password", "/forgot-password", "email", "alice@example.com")
		wantStatus(t, "a reset request", res, http.StatusSeeOther)
	}
	res, _ = v.submit("/forgot-password", "/forgot-password", "email", "alice@example.com")
	wantStatus(t, "the 11th reset request in a minute", res, http.StatusTooManyRequests)
}

// The allowances, as the server package states them.
const (
	registrationsPerMinute = 20
	resetRequestsPerMinute = 10
)
