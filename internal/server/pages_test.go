package server_test

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/quilltest"
	"github.com/quill-blog/quill/internal/server"
)

// The pages, through a real HTTP client with a cookie jar, as a browser
// without JavaScript would use them. The browser tests (cmd/quill) drive
// the same pages in Chromium.

const wantCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// visitor is a browser without JavaScript: it keeps cookies and does not
// follow redirects, so tests see them.
type visitor struct {
	t         *testing.T
	f         *fixture
	base      string
	client    *http.Client
	userAgent string // sent when set
}

func newVisitor(t *testing.T, f *fixture, srv *httptest.Server) *visitor {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{
		Transport:     srv.Client().Transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &visitor{t: t, f: f, base: srv.URL, client: client}
}

// pageServer serves f's handler over HTTP for visitors.
func pageServer(t *testing.T, f *fixture) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(f.handler)
	t.Cleanup(srv.Close)
	return srv
}

// do sends a request and checks what every page response has.
func (v *visitor) do(req *http.Request) (*http.Response, string) {
	v.t.Helper()
	if v.userAgent != "" {
		req.Header.Set("User-Agent", v.userAgent)
	}
	res, err := v.client.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	if got := res.Header.Get("Content-Security-Policy"); got != wantCSP && !strings.HasPrefix(req.URL.Path, "/api/") {
		v.t.Errorf("%s %s: Content-Security-Policy = %q, want %q", req.Method, req.URL.Path, got, wantCSP)
	}
	for _, secret := range []string{alicePassword, bobPassword, leakCanary} {
		if strings.Contains(string(body), secret) {
			v.t.Errorf("%s %s: the page contains the password %q", req.Method, req.URL.Path, secret)
		}
	}
	if res.StatusCode >= 500 {
		v.t.Errorf("%s %s = %d", req.Method, req.URL.Path, res.StatusCode)
	}
	return res, string(body)
}

func (v *visitor) get(path string) (*http.Response, string) {
	v.t.Helper()
	req, err := http.NewRequest("GET", v.base+v.f.expand(path), nil)
	if err != nil {
		v.t.Fatal(err)
	}
	return v.do(req)
}

// post submits a form as a browser does, from a page of this site.
func (v *visitor) post(path string, form url.Values, header ...string) (*http.Response, string) {
	v.t.Helper()
	req, err := http.NewRequest("POST", v.base+v.f.expand(path), strings.NewReader(form.Encode()))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", v.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	return v.do(req)
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf opens a page and returns the CSRF token of its forms.
func (v *visitor) csrf(path string) string {
	v.t.Helper()
	_, body := v.get(path)
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		v.t.Fatalf("GET %s: no CSRF token in the page", path)
	}
	return m[1]
}

// submit fills the form of the page at from and posts it to action.
func (v *visitor) submit(from, action string, kv ...string) (*http.Response, string) {
	v.t.Helper()
	form := url.Values{"csrf_token": {v.csrf(from)}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], v.f.expand(kv[i+1]))
	}
	return v.post(action, form)
}

// login logs the visitor in through the login page.
func (v *visitor) login(username, password string) {
	v.t.Helper()
	res, body := v.submit("/login", "/login", "username", username, "password", password)
	if res.StatusCode != http.StatusSeeOther {
		v.t.Fatalf("log in as %s = %d, want 303\n%s", username, res.StatusCode, body)
	}
}

func wantStatus(t *testing.T, what string, res *http.Response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Errorf("%s = %d, want %d", what, res.StatusCode, want)
	}
}

func wantRedirect(t *testing.T, what string, res *http.Response, to string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != to {
		t.Errorf("%s = %d to %q, want 303 to %q", what, res.StatusCode, res.Header.Get("Location"), to)
	}
}

// developerWords are the API's messages for programs, which pages must
// never show.
var developerWords = []string{"String should", "Field required", "Input should", "value is not a valid",
	"Validation failed", "already registered", "Incorrect username", "Invalid cursor", "Current password is",
	"Not Found<", "No profile picture", "File is not a", "Invalid or expired", "Too many failed login", "try again later"}

// noDeveloperWords fails if a page shows any of developerWords.
func noDeveloperWords(t *testing.T, what, body string) {
	t.Helper()
	for _, w := range developerWords {
		if strings.Contains(body, w) {
			t.Errorf("%s shows the API's words %q:\n%s", what, w, body)
		}
	}
}

func wantContains(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(body, want) {
			t.Errorf("%s does not contain %q:\n%s", what, want, body)
		}
	}
}

func TestPagesPublic(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))

	res, body := v.get("/")
	wantStatus(t, "GET /", res, http.StatusOK)
	wantContains(t, "the home page", body, "Alice again", "Bob builds", "Alice&#39;s first post", `href="/login"`)
	if strings.Contains(body, "csrf_token") {
		t.Errorf("the home page of a visitor has a form token")
	}
	if got := res.Header.Get("Cache-Control"); got == "no-store" {
		t.Errorf("a visitor's home page is no-store")
	}
	golden(t, "pages/home.html", []byte(body))

	_, body = v.get("/?limit=2")
	wantContains(t, "the first page of 2", body, "Alice again", "Bob builds", `data-load-more`)
	next := regexp.MustCompile(`href="(/\?cursor=[^"]+)" rel="next" class="older" data-load-more`).FindStringSubmatch(body)
	if next == nil {
		t.Fatalf("no link to older posts:\n%s", body)
	}
	res, body = v.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	wantStatus(t, "the next page", res, http.StatusOK)
	wantContains(t, "the next page", body, "Alice&#39;s first post")
	if strings.Contains(body, "Bob builds") || strings.Contains(body, "data-load-more") {
		t.Errorf("the last page repeats a post or links further:\n%s", body)
	}

	res, body = v.get("/posts/{bob_post}")
	wantStatus(t, "GET /posts/{bob_post}", res, http.StatusOK)
	wantContains(t, "a post", body, "Bob builds", "Can we fix it?", f.expand(`href="/users/{bob}/posts"`))
	if strings.Contains(body, "/edit") {
		t.Errorf("a visitor sees an edit link")
	}

	res, body = v.get("/users/{alice}/posts")
	wantStatus(t, "GET /users/{alice}/posts", res, http.StatusOK)
	wantContains(t, "a user's posts", body, "Posts by Alice", "Alice again", "Alice&#39;s first post")
	if strings.Contains(body, "Bob builds") {
		t.Errorf("Alice's page shows Bob's post")
	}

	for _, path := range []string{"/static/css/quill.css", "/static/js/quill.js", "/static/js/docs.js",
		"/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css", "/static/profile_pics/default.jpg", "/docs"} {
		res, _ := v.get(path)
		wantStatus(t, "GET "+path, res, http.StatusOK)
	}
}

func TestPageErrors(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))
	tests := []struct {
		path   string
		status int
		text   string
	}{
		{"/posts/999999", http.StatusNotFound, "This post does not exist. It may have been deleted."},
		{"/users/999999/posts", http.StatusNotFound, "There is no such author. The account may have been deleted."},
		// A path id that is no positive integer names no page.
		{"/posts/abc", http.StatusNotFound, "This post does not exist."},
		{"/posts/0", http.StatusNotFound, "This post does not exist."},
		{"/posts/-1", http.StatusNotFound, "This post does not exist."},
		{"/posts/+1", http.StatusNotFound, "This post does not exist."},
		{"/posts/1.0", http.StatusNotFound, "This post does not exist."},
		{"/posts/99999999999999999999", http.StatusNotFound, "This post does not exist."},
		{"/posts/%20{alice_post}", http.StatusNotFound, "This post does not exist."},
		{"/users/abc/posts", http.StatusNotFound, "There is no such author."},
		{"/users/0/posts", http.StatusNotFound, "There is no such author."},
		{"/?limit=1000", http.StatusUnprocessableEntity, "This link to a page of posts is not valid."},
		{"/?cursor=nonsense", http.StatusUnprocessableEntity, "This link to a page of posts is not valid."},
		{"/no/such/page", http.StatusNotFound, "There is no page at this address."},
		{"/static/nothing.css", http.StatusNotFound, "There is no page at this address."},
	}
	for _, tt := range tests {
		res, body := v.get(tt.path)
		wantStatus(t, "GET "+tt.path, res, tt.status)
		if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type = %q, want HTML", tt.path, ct)
		}
		wantContains(t, "GET "+tt.path, body, tt.text, `<a href="/login">Log in</a>`, `<a href="/">Go to the newest posts</a>`)
		if tt.status == http.StatusNotFound {
			// A way on: search (a plain GET form) and the newest posts.
			wantContains(t, "GET "+tt.path, body, "<h1>Page not found</h1>", `<form method="get" action="/search" role="search"`, `name="q"`)
		}
		noDeveloperWords(t, "GET "+tt.path, body)
	}
	_, body := v.get("/posts/999999")
	golden(t, "pages/notfound.html", []byte(body))

	res, _ := v.post("/posts/{alice_post}", url.Values{})
	wantStatus(t, "POST /posts/{alice_post}", res, http.StatusMethodNotAllowed)

	// Errors show who is logged in, as every page does, and so are for
	// that visitor alone: no cache may keep them.
	v.login("Alice", alicePassword)
	_, body = v.get("/posts/999999")
	wantContains(t, "an error page for Alice", body, `<span id="whoami">Alice</span>`)
	for _, rq := range []struct{ method, path string }{
		{"GET", "/posts/999999"}, {"GET", "/no/such/page"}, {"DELETE", "/posts/{alice_post}"}, {"GET", "/static/nothing.css"},
	} {
		req, _ := http.NewRequest(rq.method, v.base+f.expand(rq.path), nil)
		res, body := v.do(req)
		if !strings.Contains(body, `<span id="whoami">Alice</span>`) {
			continue // an error page that does not know the visitor
		}
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s %s for Alice (%d): Cache-Control = %q, want no-store", rq.method, rq.path, res.StatusCode, got)
		}
	}

	// The API keeps JSON.
	res, body = v.get("/api/posts/999999")
	if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("GET /api/posts/999999 = %d %s %s, want a 404 in JSON", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}

// TestPageCaching checks which pages a cache may keep: those that neither
// know the visitor nor carry a token bound to the browser.
func TestPageCaching(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))
	for _, path := range []string{"/", "/posts/{alice_post}", "/users/{alice}/posts", "/docs", "/posts/999999"} {
		res, _ := v.get(path)
		if got := res.Header.Get("Cache-Control"); got != "" {
			t.Errorf("GET %s by a visitor: Cache-Control = %q, want none", path, got)
		}
		if got := res.Header.Values("Set-Cookie"); len(got) > 0 {
			t.Errorf("GET %s by a visitor sets cookies %q, want none", path, got)
		}
	}
	for _, path := range []string{"/login", "/register", "/forgot-password", "/reset-password?token=" + strings.Repeat("A", 43)} {
		res, _ := v.get(path)
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s: Cache-Control = %q, want no-store (a form with a token bound to this browser)", path, got)
		}
	}
}

// TestPagesPostLifecycle is browser flow 1 without the browser: register,
// write, edit and delete a post, log out.
func TestPagesPostLifecycle(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	srv := pageServer(t, f)
	v := newVisitor(t, f, srv)

	res, _ := v.get("/account")
	wantRedirect(t, "GET /account logged out", res, "/login?next=%2Faccount")

	res, _ = v.submit("/register", "/register", "username", "carol", "email", "carol@example.com", "password", "a-long-passphrase-4")
	wantRedirect(t, "register", res, "/")
	_, body := v.get("/")
	wantContains(t, "the home page after registering", body, `<span id="whoami">carol</span>`, `action="/logout"`)

	res, body = v.submit("/posts/new", "/posts/new", "title", "Carol's post", "content", "Hello from Carol.")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/posts/") {
		t.Fatalf("publish = %d to %q, want 303 to the post\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	post := res.Header.Get("Location")
	_, body = v.get(post)
	wantContains(t, "the new post", body, "Carol&#39;s post", "Hello from Carol.", post+"/edit", post+"/delete")
	_, body = v.get("/")
	wantContains(t, "the home page", body, "Carol&#39;s post")

	res, _ = v.submit(post+"/edit", post+"/edit", "title", "Carol's edited post", "content", "Edited.")
	wantRedirect(t, "edit", res, post)
	_, body = v.get(post)
	wantContains(t, "the edited post", body, "Carol&#39;s edited post", "Edited.")

	res, body = v.submit(post+"/edit", post+"/edit", "title", "   ", "content", "")
	wantStatus(t, "an edit with empty fields", res, http.StatusUnprocessableEntity)
	wantContains(t, "the edit form shown again", body,
		`<p class="error" id="title-error">Give your post a title.</p>`,
		`<p class="error" id="content-error">Write something in your post.</p>`)
	noDeveloperWords(t, "the edit form shown again", body)

	res, _ = v.submit(post, post+"/delete")
	wantStatus(t, "delete", res, http.StatusSeeOther)
	res, _ = v.get(post)
	wantStatus(t, "the deleted post", res, http.StatusNotFound)

	// Logging out ends the session on the server: the old cookie is dead.
	cookies := v.client.Jar.Cookies(mustURL(t, v.base))
	res, _ = v.submit("/", "/logout")
	wantRedirect(t, "log out", res, "/")
	res, _ = v.get("/account")
	wantRedirect(t, "GET /account after logging out", res, "/login?next=%2Faccount")
	replay := newVisitor(t, f, srv)
	replay.client.Jar.SetCookies(mustURL(t, v.base), cookies)
	res, _ = replay.get("/account")
	wantRedirect(t, "GET /account with the cookie from before logging out", res, "/login?next=%2Faccount")
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPageForms(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))

	// The API's messages, next to their fields, never with a password.
	res, body := v.submit("/register", "/register", "username", "x y", "email", "nope", "password", leakCanary+strings.Repeat("x", 300))
	wantStatus(t, "register with bad fields", res, http.StatusUnprocessableEntity)
	wantContains(t, "the register form", body,
		`<p class="error" id="username-error">Use only letters, digits, _, - and . (no spaces).</p>`,
		`<p class="error" id="email-error">Enter an email address such as name@example.com.</p>`,
		`<p class="error" id="password-error">Use at most 256 characters.</p>`,
		`value="x y"`)
	noDeveloperWords(t, "the register form", body)
	res, body = v.submit("/register", "/register", "username", "ALICE", "email", "new@example.com", "password", "a-long-passphrase-4")
	wantStatus(t, "register a taken name", res, http.StatusBadRequest)
	wantContains(t, "the register form", body, `<p class="error" id="username-error">That username is taken, or looks too much like one that is. Choose another.</p>`)
	res, body = v.submit("/register", "/register", "username", "carol", "email", "carol@example.com", "password", "password123")
	wantStatus(t, "register with a common password", res, http.StatusUnprocessableEntity)
	wantContains(t, "the register form", body, "This password is too common")

	res, body = v.submit("/login", "/login", "username", "Alice", "password", leakCanary)
	wantStatus(t, "log in with a wrong password", res, http.StatusUnauthorized)
	wantContains(t, "the login form", body, "That username (or email) and password do not match an account.", `value="Alice"`)
	res, body = v.submit("/login", "/login", "username", "", "password", "")
	wantStatus(t, "log in with nothing", res, http.StatusUnprocessableEntity)
	wantContains(t, "the login form", body, `<p class="error" id="username-error">Enter your username or email.</p>`,
		`<p class="error" id="password-error">Enter your password.</p>`)

	// After logging in, the login page sends you on; next stays on this site.
	res, _ = v.submit("/login?next=/account", "/login", "username", "alice@EXAMPLE.com", "password", alicePassword, "next", "/account")
	wantRedirect(t, "log in with next", res, "/account")
	for _, next := range []string{"//evil.example/", "https://evil.example/", `/\evil.example`, "javascript:alert(1)"} {
		res, _ = v.get("/login?next=" + url.QueryEscape(next))
		wantRedirect(t, "GET /login?next="+next+" when logged in", res, "/")
	}

	// The account page.
	res, body = v.get("/account")
	wantStatus(t, "GET /account", res, http.StatusOK)
	wantContains(t, "the account page", body, `value="Alice"`, `value="alice@example.com"`, "this browser")
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("GET /account: Cache-Control = %q, want no-store", got)
	}
	res, body = v.submit("/account", "/account", "username", "Alice", "email", "alice@new.example", "current_password", "")
	wantStatus(t, "change the email without the password", res, http.StatusBadRequest)
	wantContains(t, "the account page", body, `<p class="error" id="current_password-error">Enter your current password to change your email.</p>`)
	res, body = v.submit("/account", "/account", "username", "Alice", "email", "alice@new.example", "current_password", leakCanary)
	wantStatus(t, "change the email with a wrong password", res, http.StatusBadRequest)
	wantContains(t, "the account page", body, `<p class="error" id="current_password-error">That is not your current password.</p>`)
	res, _ = v.submit("/account", "/account", "username", "Alicia", "email", "alice@new.example", "current_password", alicePassword)
	wantRedirect(t, "change the username and email", res, "/account#profile")
	_, body = v.get("/account")
	wantContains(t, "the account page", body, "Your profile is saved.", `<span id="whoami">Alicia</span>`, `value="alice@new.example"`)
	if code, _ := f.get(t, "/api/users/{alice}", nil); code != http.StatusOK {
		t.Errorf("GET /api/users/{alice} = %d", code)
	}

	// Someone else's post.
	res, _ = v.get("/posts/{bob_post}/edit")
	wantStatus(t, "GET another's post's edit form", res, http.StatusForbidden)
	res, _ = v.submit("/", "/posts/{bob_post}/delete")
	wantStatus(t, "delete another's post", res, http.StatusForbidden)
}

func TestPageSessions(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	srv := pageServer(t, f)
	first, second := newVisitor(t, f, srv), newVisitor(t, f, srv)
	first.login("Alice", alicePassword)
	second.login("alice@example.com", alicePassword)

	_, body := first.get("/account")
	// Alice's fixture API login, and the two browsers.
	if n := len(regexp.MustCompile(`<li[ >]`).FindAllString(body, -1)); n != 3 {
		t.Errorf("the account page lists %d sessions, want 3:\n%s", n, body)
	}
	ids := regexp.MustCompile(`action="/account/sessions/([^/]+)/delete#sessions"`).FindAllStringSubmatch(body, -1)
	if len(ids) != 2 {
		t.Fatalf("%d sessions can be ended, want 2 (not this browser's)", len(ids))
	}
	res, _ := first.submit("/account", "/account/sessions/delete-others")
	wantRedirect(t, "log out everywhere else", res, "/account#sessions")
	res, _ = second.get("/account")
	wantRedirect(t, "the other browser's next request", res, "/login?next=%2Faccount")
	f.wantStatus(t, "GET", "/api/users/me", f.as("alice"), http.StatusUnauthorized)
	res, _ = first.get("/account")
	wantStatus(t, "this browser", res, http.StatusOK)

	res, _ = first.submit("/account", "/account/sessions/not-a-session/delete")
	wantStatus(t, "end an unknown session", res, http.StatusNotFound)
	// Bob's session is not Alice's to end.
	bobSession := f.sessionOf(t, "bob")
	res, _ = first.submit("/account", "/account/sessions/"+bobSession+"/delete")
	wantStatus(t, "end another user's session", res, http.StatusNotFound)
	f.wantStatus(t, "GET", "/api/users/me", f.as("bob"), http.StatusOK)

	res, _ = first.submit("/account", "/account/delete")
	wantRedirect(t, "delete the account", res, "/")
	f.wantStatus(t, "GET", "/api/users/{alice}", nil, http.StatusNotFound)
}

// TestPageCSRF checks that every state-changing page refuses forms from
// elsewhere: without the token, with another session's token, or sent
// cross-origin.
func TestPageCSRF(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	srv := pageServer(t, f)
	alice, bob := newVisitor(t, f, srv), newVisitor(t, f, srv)
	alice.login("Alice", alicePassword)
	bob.login("bob", bobPassword)
	aliceToken, bobToken := alice.csrf("/account"), bob.csrf("/account")
	if aliceToken == bobToken {
		t.Fatalf("two sessions have the same CSRF token")
	}
	posts := []struct{ path, field, value string }{
		{"/posts/new", "title", "forged"},
		{"/posts/{alice_post}/edit", "title", "forged"},
		{"/posts/{alice_post}/delete", "", ""},
		{"/account", "username", "forged"},
		{"/account/sessions/delete-others", "", ""},
		{"/account/picture/delete", "", ""},
		{"/account/password", "new_password", "forged-passphrase-77"},
		{"/account/delete", "", ""},
		{"/logout", "", ""},
	}
	for _, p := range posts {
		form := func(token string) url.Values {
			v := url.Values{"content": {"forged"}}
			if p.field != "" {
				v.Set(p.field, p.value)
			}
			if token != "" {
				v.Set("csrf_token", token)
			}
			return v
		}
		attempts := []struct {
			name   string
			form   url.Values
			header []string
		}{
			{"without a token", form(""), nil},
			{"with another session's token", form(bobToken), nil},
			{"with a made-up token", form("AAAA"), nil},
			{"from another site", form(aliceToken), []string{"Sec-Fetch-Site", "cross-site"}},
			{"from a sibling site", form(aliceToken), []string{"Sec-Fetch-Site", "same-site"}},
			{"from another origin", form(aliceToken), []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}},
		}
		for _, a := range attempts {
			res, body := alice.post(p.path, a.form, a.header...)
			wantStatus(t, "POST "+p.path+" "+a.name, res, http.StatusForbidden)
			wantContains(t, "POST "+p.path+" "+a.name, body, "<h1>Not allowed</h1>")
		}
	}
	// Nothing happened.
	if _, body := alice.get("/posts/{alice_post}"); !strings.Contains(body, "Alice&#39;s first post") {
		t.Errorf("a forged form changed Alice's post")
	}
	if res, _ := alice.get("/account"); res.StatusCode != http.StatusOK {
		t.Errorf("a forged form logged Alice out or deleted her")
	}
	// Login forms are protected too (login CSRF).
	anon := newVisitor(t, f, srv)
	res, _ := anon.post("/login", url.Values{"username": {"bob"}, "password": {bobPassword}})
	wantStatus(t, "log in without a token", res, http.StatusForbidden)
	res, _ = anon.post("/register", url.Values{"username": {"mallory"}, "email": {"m@example.com"}, "password": {"a-long-passphrase-4"}})
	wantStatus(t, "register without a token", res, http.StatusForbidden)
	res, _ = anon.post("/forgot-password", url.Values{"email": {"alice@example.com"}})
	wantStatus(t, "ask for a reset link without a token", res, http.StatusForbidden)
	res, _ = anon.post("/reset-password", url.Values{"token": {"x"}, "new_password": {"a-long-passphrase-4"}})
	wantStatus(t, "reset without a token", res, http.StatusForbidden)

	// The legitimate form still works.
	res, _ = alice.post("/posts/{alice_post}/edit", url.Values{"csrf_token": {aliceToken}, "title": {"Fine"}, "content": {"Fine."}})
	wantStatus(t, "the real form", res, http.StatusSeeOther)
}

// TestAPIIgnoresCookie checks that the API is bearer-only: the pages'
// cookie authenticates nothing there, so the API needs no CSRF defence.
func TestAPIIgnoresCookie(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))
	v.login("Alice", alicePassword)
	res, _ := v.get("/api/users/me")
	wantStatus(t, "GET /api/users/me with only the page cookie", res, http.StatusUnauthorized)
	req, _ := http.NewRequest("POST", v.base+"/api/posts", strings.NewReader(`{"title":"t","content":"c"}`))
	req.Header.Set("Content-Type", "application/json")
	res, _ = v.do(req)
	wantStatus(t, "POST /api/posts with only the page cookie", res, http.StatusUnauthorized)
}

func TestPageCookies(t *testing.T) {
	for _, tt := range []struct {
		name       string
		publicURL  string
		tls        bool
		wantSecure bool
		wantName   string
	}{
		{"plain HTTP", "", false, false, "quill_session"},
		{"HTTPS", "", true, true, "__Host-quill_session"},
		{"HTTP behind an HTTPS proxy", "https://blog.example", false, true, "__Host-quill_session"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, testDBs()[0], quilltest.Options{Server: func(c *server.Config) { c.PublicURL = tt.publicURL }})
			srv := httptest.NewUnstartedServer(f.handler)
			if tt.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)
			v := newVisitor(t, f, srv)
			res, _ := v.submit("/login", "/login", "username", "Alice", "password", alicePassword)
			var session *http.Cookie
			for _, c := range res.Cookies() {
				if c.Name == tt.wantName {
					session = c
				}
			}
			if session == nil {
				t.Fatalf("login (%d) set no cookie %s: %v", res.StatusCode, tt.wantName, res.Header["Set-Cookie"])
			}
			if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure != tt.wantSecure || session.Path != "/" {
				t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Lax, Secure=%v, Path=/", session, tt.wantSecure)
			}
			// It lasts as long as the session.
			if got, want := session.MaxAge, int(quilltest.SessionTTL.Seconds()); got < want-1 || got > want {
				t.Errorf("session cookie Max-Age = %d, want %d", got, want)
			}
			if strings.Contains(res.Header.Get("Location"), session.Value) {
				t.Errorf("the token is in a URL")
			}
		})
	}
}

// upload posts a multipart form with fields and, unless data is nil, a
// file field, as the picture form does.
func (v *visitor) upload(action string, data []byte, kv ...string) (*http.Response, string) {
	v.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i := 0; i+1 < len(kv); i += 2 {
		_ = w.WriteField(kv[i], kv[i+1])
	}
	if data != nil {
		part, _ := w.CreateFormFile("file", "me.png")
		_, _ = part.Write(data)
	}
	_ = w.Close()
	req, err := http.NewRequest("POST", v.base+action, &b)
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return v.do(req)
}

func TestPagePicture(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))
	v.login("Alice", alicePassword)
	token := v.csrf("/account")

	res, body := v.upload("/account/picture", []byte("not a picture"), "csrf_token", token)
	wantStatus(t, "upload a text file", res, http.StatusBadRequest)
	wantContains(t, "the account page", body,
		`<p class="error" id="picture-file-error">That file is not a picture quill can read. Use a JPEG, PNG, GIF or WebP image.</p>`, `value="Alice"`)
	res, body = v.upload("/account/picture", nil, "csrf_token", token)
	wantStatus(t, "upload nothing", res, http.StatusUnprocessableEntity)
	wantContains(t, "the account page", body, `<p class="error" id="picture-file-error">Choose a picture to upload.</p>`)
	res, _ = v.upload("/account/picture", photoJPEG)
	wantStatus(t, "upload without a CSRF token", res, http.StatusForbidden)
	res, _ = v.upload("/account/picture", photoJPEG, "csrf_token", "forged")
	wantStatus(t, "upload with a forged token", res, http.StatusForbidden)
	res, body = v.submit("/account", "/account/picture/delete")
	wantStatus(t, "remove a picture there is not", res, http.StatusBadRequest)
	wantContains(t, "the account page", body, `<p class="error" id="picture-file-error">You have no picture to remove.</p>`)

	res, _ = v.upload("/account/picture", photoJPEG, "csrf_token", token)
	wantRedirect(t, "upload a picture", res, "/account#picture")
	_, body = v.get("/account")
	wantContains(t, "the account page", body, "Your new picture is saved.", `action="/account/picture/delete#picture"`)
	picture := regexp.MustCompile(`src="(/media/profile_pics/[0-9a-f]{32}\.jpg)"`).FindStringSubmatch(body)
	if picture == nil {
		t.Fatalf("the account page does not show the new picture:\n%s", body)
	}
	_, body = v.get("/posts/{alice_post}")
	wantContains(t, "Alice's post", body, picture[1])
	res, _ = v.get(picture[1])
	wantStatus(t, "GET "+picture[1], res, http.StatusOK)

	res, _ = v.submit("/account", "/account/picture/delete")
	wantRedirect(t, "remove the picture", res, "/account#picture")
	_, body = v.get("/posts/{alice_post}")
	if strings.Contains(body, picture[1]) {
		t.Errorf("Alice's post still shows her removed picture")
	}
}

func TestPagePasswordChange(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	srv := pageServer(t, f)
	v, other := newVisitor(t, f, srv), newVisitor(t, f, srv)
	v.login("Alice", alicePassword)
	other.login("Alice", alicePassword)

	res, body := v.submit("/account", "/account/password", "current_password", leakCanary, "new_password", "a-brand-new-passphrase-5")
	wantStatus(t, "change the password with a wrong current one", res, http.StatusBadRequest)
	wantContains(t, "the account page", body, `<p class="error" id="password-current_password-error">That is not your current password.</p>`)
	res, body = v.submit("/account", "/account/password", "current_password", alicePassword, "new_password", "password123")
	wantStatus(t, "change to a common password", res, http.StatusUnprocessableEntity)
	wantContains(t, "the account page", body, `<p class="error" id="password-new_password-error">This password is too common`)

	res, _ = v.submit("/account", "/account/password", "current_password", alicePassword, "new_password", "a-brand-new-passphrase-5")
	wantRedirect(t, "change the password", res, "/account#password")
	res, body = v.get("/account")
	wantStatus(t, "this browser after the change", res, http.StatusOK)
	wantContains(t, "the account page", body, "Your password is changed")
	res, _ = other.get("/account")
	wantRedirect(t, "the other browser after the change", res, "/login?next=%2Faccount")
	f.wantStatus(t, "GET", "/api/users/me", f.as("alice"), http.StatusUnauthorized)
	if !f.passwordWorks(t, "alice", "a-brand-new-passphrase-5") || f.passwordWorks(t, "alice", alicePassword) {
		t.Errorf("after the change the new password does not work, or the old one still does")
	}
}

func TestPageForgotReset(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))

	res, body := v.submit("/forgot-password", "/forgot-password", "email", "not-an-address")
	wantStatus(t, "ask with a malformed address", res, http.StatusUnprocessableEntity)
	wantContains(t, "the forgot page", body, `<p class="error" id="email-error">Enter an email address such as name@example.com.</p>`)
	for _, email := range []string{"nobody@example.com", "ALICE@example.com"} {
		res, _ = v.submit("/forgot-password", "/forgot-password", "email", email)
		wantRedirect(t, "ask for "+email, res, "/forgot-password?sent=1")
	}
	_, body = v.get("/forgot-password?sent=1")
	wantContains(t, "the forgot page", body, "If an account uses that email address, a link to reset its password is on its way.")
	f.waitLog(t, "password reset mail sent")
	tokens := f.mailedTokens()
	if len(tokens) != 1 {
		t.Fatalf("%d reset links were mailed, want 1 (for Alice only)", len(tokens))
	}

	res, body = v.get("/reset-password?token=" + tokens[0])
	wantStatus(t, "open the link", res, http.StatusOK)
	if got := res.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("the reset page's Referrer-Policy = %q, want no-referrer", got)
	}
	wantContains(t, "the reset page", body, `name="token" value="`+tokens[0]+`"`)
	token := v.csrf("/reset-password?token=" + tokens[0])
	post := func(resetToken, password string) (*http.Response, string) {
		return v.post("/reset-password", url.Values{"csrf_token": {token}, "token": {resetToken}, "new_password": {password}})
	}
	res, body = post(tokens[0], "short")
	wantStatus(t, "reset to a short password", res, http.StatusUnprocessableEntity)
	wantContains(t, "the reset page", body, `<p class="error" id="new_password-error">Use at least 8 characters.</p>`)
	res, body = post("not-the-token", "a-brand-new-passphrase-5")
	wantStatus(t, "reset with a bad token", res, http.StatusBadRequest)
	wantContains(t, "the reset page", body, `id="token-error">This link no longer works: it was used already, a newer one was sent, or it is over an hour old. <a href="/forgot-password">Ask for a new link</a>.`)

	res, _ = post(tokens[0], "a-brand-new-passphrase-5")
	wantRedirect(t, "reset", res, "/login")
	_, body = v.get("/login")
	wantContains(t, "the login page", body, "Your password has been reset.")
	v.login("alice@example.com", "a-brand-new-passphrase-5")
	f.wantStatus(t, "GET", "/api/users/me", f.as("alice"), http.StatusUnauthorized)

	res, _ = post(tokens[0], "another-new-passphrase-6")
	wantStatus(t, "reuse the link", res, http.StatusBadRequest)
}

// TestPageFieldLimits checks that forms tell the browser, and the reader,
// the limits the server holds them to before anything is sent, and that
// a form shown again puts the focus on the first field to fix.
func TestPageFieldLimits(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))

	_, body := v.get("/register")
	wantContains(t, "the register form", body,
		`<input id="username" name="username" type="text" autocomplete="username" required maxlength="50" aria-describedby="username-hint">`,
		`<p class="hint" id="username-hint">Up to 50 characters: letters, digits, _, - and .</p>`,
		`<input id="email" name="email" type="email" autocomplete="email" required maxlength="254" aria-describedby="email-hint">`,
		`<input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="256" aria-describedby="password-hint">`,
		`<p class="hint" id="password-hint">8 to 256 characters; not a common password, nor one containing your username or email.</p>`)
	if strings.Contains(body, "autofocus") {
		t.Errorf("a fresh form takes the focus")
	}
	_, body = v.get("/login")
	wantContains(t, "the login form", body,
		`<input id="username" name="username" type="text" autocomplete="username" required maxlength="254">`,
		`<input id="password" name="password" type="password" autocomplete="current-password" required>`)

	v.login("Alice", alicePassword)
	_, body = v.get("/posts/new")
	wantContains(t, "the post form", body,
		`<input id="title" name="title" type="text" autocomplete="off" required maxlength="100" aria-describedby="title-hint">`,
		`<p class="hint" id="title-hint">At most 100 characters.</p>`,
		`<textarea id="content" name="content" rows="12" required maxlength="50000" aria-describedby="content-hint">`,
		`images from other sites become links. At most 50,000 characters.</p>`)

	// Shown again: values kept, errors by field, the focus on the first
	// field to fix, which is described by its hint and its error.
	res, body := v.submit("/posts/new", "/posts/new", "title", "Fine title", "content", "")
	wantStatus(t, "a post without content", res, http.StatusUnprocessableEntity)
	wantContains(t, "the post form shown again", body,
		`<input id="title" name="title" type="text" autocomplete="off" value="Fine title" required maxlength="100" aria-describedby="title-hint">`,
		`<textarea id="content" name="content" rows="12" required maxlength="50000" aria-describedby="content-hint content-error" aria-invalid="true" autofocus>`,
		`<p class="error" id="content-error">Write something in your post.</p>`)
	if n := strings.Count(body, "autofocus"); n != 1 {
		t.Errorf("the post form shown again has %d autofocus, want 1", n)
	}
	// Content that starts with a line break keeps it (the browser drops
	// one line break after <textarea>).
	res, body = v.submit("/posts/new", "/posts/new", "title", strings.Repeat("x", 101), "content", "\nSecond line")
	wantStatus(t, "a post with a long title", res, http.StatusUnprocessableEntity)
	wantContains(t, "the post form shown again", body, "aria-describedby=\"content-hint\">\n\nSecond line</textarea>",
		`<p class="error" id="title-error">Keep the title to 100 characters or fewer.</p>`)
}

// TestPageFormsReportEverything checks that a form with a taken name and
// other faults reports them all at once, while the API keeps the
// tutorial's order: validation first (422), names once the rest is valid.
func TestPageFormsReportEverything(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))
	taken := `That username is taken, or looks too much like one that is. Choose another.`
	emailTaken := `An account already uses this email address. Log in, or reset its password if you forgot it.`

	res, body := v.submit("/register", "/register", "username", "ALICE", "email", "new@example.com", "password", "short")
	wantStatus(t, "register a taken name with a short password", res, http.StatusUnprocessableEntity)
	wantContains(t, "the register form", body,
		`<p class="error" id="username-error">`+taken+`</p>`,
		`<p class="error" id="password-error">Use at least 8 characters.</p>`)
	res, body = v.submit("/register", "/register", "username", "аlice", "email", "Bob@Example.com", "password", "short")
	wantStatus(t, "register a look-alike name and a taken email with a short password", res, http.StatusUnprocessableEntity)
	wantContains(t, "the register form", body,
		`<p class="error" id="username-error">`+taken+`</p>`,
		`<p class="error" id="email-error">`+emailTaken+`</p>`,
		`<p class="error" id="password-error">Use at least 8 characters.</p>`)
	res, body = v.submit("/register", "/register", "username", "alice!", "email", "alice@example.com", "password", "short")
	wantStatus(t, "register an invalid name, a taken email and a short password", res, http.StatusUnprocessableEntity)
	wantContains(t, "the register form", body,
		`<p class="error" id="username-error">Use only letters, digits, _, - and . (no spaces).</p>`,
		`<p class="error" id="email-error">`+emailTaken+`</p>`)
	noDeveloperWords(t, "the register form", body)

	// The API: the password problem alone, then the name.
	res, got := f.do(t, "POST", "/api/users", `{"username":"ALICE","email":"new@example.com","password":"short"}`, nil)
	if res.StatusCode != http.StatusUnprocessableEntity || strings.Contains(string(got), "username") {
		t.Errorf("POST /api/users with a taken name and a short password = %d %s, want 422 about the password only", res.StatusCode, got)
	}
	res, got = f.do(t, "POST", "/api/users", `{"username":"ALICE","email":"new@example.com","password":"a-long-passphrase-4"}`, nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(got), "username_taken") {
		t.Errorf("POST /api/users with a taken name = %d %s, want 400 username_taken", res.StatusCode, got)
	}

	// The profile form: renaming to a taken name with a bad email.
	v.login("bob", bobPassword)
	res, body = v.submit("/account", "/account", "username", "alice", "email", "bob@", "current_password", "")
	wantStatus(t, "rename to a taken name with a bad email", res, http.StatusUnprocessableEntity)
	wantContains(t, "the profile form", body,
		`<p class="error" id="username-error">`+taken+`</p>`,
		`<p class="error" id="email-error">Enter an email address such as name@example.com.</p>`)
	// One's own name, in another case, is no rename.
	res, body = v.submit("/account", "/account", "username", "BOB", "email", "bob@", "current_password", "")
	wantStatus(t, "change one's name's case with a bad email", res, http.StatusUnprocessableEntity)
	if strings.Contains(body, taken) {
		t.Errorf("one's own name is reported taken")
	}
}

var flashRE = regexp.MustCompile(`<p class="notice" role="status" id="flash">([^<]*)</p>`)

// flashOf follows a form's redirect and returns the confirmation the page
// shows, checking that it shows only once.
func (v *visitor) flashOf(what string, res *http.Response) string {
	v.t.Helper()
	if res.StatusCode != http.StatusSeeOther {
		v.t.Fatalf("%s = %d, want 303", what, res.StatusCode)
	}
	to, _, _ := strings.Cut(res.Header.Get("Location"), "#")
	page, body := v.get(to)
	m := flashRE.FindAllStringSubmatch(body, -1)
	if len(m) != 1 {
		v.t.Errorf("%s: the page it leads to, %s, shows %d confirmations, want 1", what, to, len(m))
		return ""
	}
	if got := page.Header.Get("Cache-Control"); got != "no-store" {
		v.t.Errorf("%s: the page with the confirmation has Cache-Control %q, want no-store", what, got)
	}
	if _, again := v.get(to); flashRE.MatchString(again) {
		v.t.Errorf("%s: the confirmation shows again on the next visit to %s", what, to)
	}
	return m[0][1]
}

// TestPageFlash checks that each change is confirmed on the page its
// redirect leads to, once, at the right place.
func TestPageFlash(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))

	res, _ := v.submit("/register", "/register", "username", "carol", "email", "carol@example.com", "password", "a-long-passphrase-4")
	if got := v.flashOf("register", res); got != "Welcome! Your account is ready, and you are logged in." {
		t.Errorf("after registering: %q", got)
	}
	res, _ = v.submit("/posts/new", "/posts/new", "title", "Carol's post", "content", "Hello.")
	post := res.Header.Get("Location")
	if got := v.flashOf("publish", res); got != "Your post is published." {
		t.Errorf("after publishing: %q", got)
	}
	res, _ = v.submit(post+"/edit", post+"/edit", "title", "Carol's post, edited", "content", "Hello again.")
	if got := v.flashOf("edit", res); got != "Your changes are saved." {
		t.Errorf("after editing: %q", got)
	}
	res, _ = v.submit(post, post+"/delete")
	if got := v.flashOf("delete", res); got != "Your post is deleted." {
		t.Errorf("after deleting: %q", got)
	}

	// On the account page each lands in its own section.
	for _, tt := range []struct {
		what, action, section, want string
		kv                          []string
	}{
		{"rename", "/account", "profile", "Your profile is saved.", []string{"username", "carol2", "email", "carol@example.com"}},
		{"change the password", "/account/password", "password", "Your password is changed; every other session is logged out.",
			[]string{"current_password", "a-long-passphrase-4", "new_password", "a-longer-passphrase-5"}},
		{"log out everywhere else", "/account/sessions/delete-others", "sessions", "Every other session is logged out.", nil},
	} {
		res, _ := v.submit("/account", tt.action, tt.kv...)
		if got := res.Header.Get("Location"); got != "/account#"+tt.section {
			t.Errorf("%s leads to %q, want /account#%s", tt.what, got, tt.section)
		}
		_, body := v.get("/account")
		start := strings.Index(body, `<section id="`+tt.section+`"`)
		end := strings.Index(body[start+1:], "<section") + start + 1
		if start < 0 || !strings.Contains(body[start:end], `<p class="notice" role="status" id="flash">`+tt.want+`</p>`) {
			t.Errorf("%s: the %s section does not confirm %q:\n%s", tt.what, tt.section, tt.want, body)
		}
		if n := strings.Count(body, `role="status"`); n != 1 {
			t.Errorf("%s: the account page has %d confirmations, want 1", tt.what, n)
		}
	}
	res, _ = v.upload("/account/picture", photoJPEG, "csrf_token", v.csrf("/account"))
	if res.Header.Get("Location") != "/account#picture" {
		t.Errorf("a picture upload leads to %q", res.Header.Get("Location"))
	}
	if _, body := v.get("/account"); !strings.Contains(body, `id="flash">Your new picture is saved.</p>`) {
		t.Errorf("the upload is not confirmed")
	}

	// A confirmation cookie this server did not sign shows nothing.
	u := mustURL(t, v.base)
	v.client.Jar.SetCookies(u, []*http.Cookie{{Name: "quill_flash", Value: "post-deleted.AAAA", Path: "/"}})
	if _, body := v.get("/"); flashRE.MatchString(body) {
		t.Errorf("a forged confirmation is shown")
	}
	v.client.Jar.SetCookies(u, []*http.Cookie{{Name: "quill_flash", Value: "no-such-key", Path: "/"}})
	if _, body := v.get("/"); flashRE.MatchString(body) {
		t.Errorf("an unknown confirmation is shown")
	}

	// Logging out is confirmed to a visitor; the page after is a cache's
	// again.
	res, _ = v.submit("/", "/logout")
	if got := v.flashOf("log out", res); got != "You are logged out." {
		t.Errorf("after logging out: %q", got)
	}
	page, _ := v.get("/")
	if page.Header.Get("Cache-Control") != "" || len(page.Header.Values("Set-Cookie")) > 0 {
		t.Errorf("the home page after the confirmation: Cache-Control %q, Set-Cookie %q", page.Header.Get("Cache-Control"), page.Header.Values("Set-Cookie"))
	}
}

// TestAccountFormsLandOnTheirSection checks that each form of the account
// page is sent to an address ending in its section, so that the page shown
// again after a failure opens at that section, with its message in view.
func TestAccountFormsLandOnTheirSection(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))
	v.login("Alice", alicePassword)
	f.uploadPicture(t, "alice", photoJPEG)
	_, body := v.get("/account")
	for _, action := range []string{`"/account#profile"`, `"/account/picture#picture"`, `"/account/picture/delete#picture"`,
		`"/account/password#password"`, `"/account/sessions/delete-others#sessions"`, `"/account/verify-email#profile"`,
		`"/account/passkeys#passkeys"`} {
		wantContains(t, "the account page", body, `action=`+action)
	}
	// But deleting the account, which leads away or to an error page, and
	// turning on two-factor login, which leads to its own page.
	for _, m := range regexp.MustCompile(`action="(/account[^"#]*)"`).FindAllStringSubmatch(body, -1) {
		if m[1] != "/account/delete" && m[1] != "/account/totp" {
			t.Errorf("the account form sent to %s has no section", m[1])
		}
	}
}

var (
	olderLink = regexp.MustCompile(`<a href="([^"]+)" rel="next" class="older" data-load-more>Older posts</a>`)
	newerLink = regexp.MustCompile(`<a href="([^"]+)" rel="prev" class="newer">Newer posts</a>`)
	postLink  = regexp.MustCompile(`<h2><a href="/posts/(\d+)">`)
)

// pageOfPosts opens a page of posts and returns its posts' ids and its
// links to older and newer posts ("" when it has none).
func (v *visitor) pageOfPosts(path string) (ids []string, older, newer string) {
	v.t.Helper()
	res, body := v.get(path)
	if res.StatusCode != http.StatusOK {
		v.t.Fatalf("GET %s = %d", path, res.StatusCode)
	}
	for _, m := range postLink.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	if m := olderLink.FindStringSubmatch(body); m != nil {
		older = html.UnescapeString(m[1])
	}
	if m := newerLink.FindStringSubmatch(body); m != nil {
		newer = html.UnescapeString(m[1])
	}
	return ids, older, newer
}

// TestPagesPaging checks that pages of posts are addressed by cursor in
// their URL, and that "Newer posts" goes back page by page to the first.
func TestPagesPaging(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))
	for i := range 22 {
		f.clock.Advance(time.Second)
		f.createPost(t, f.users["bob"].Token, fmt.Sprintf("Bob's post %d", i), "Hello.")
	}
	for _, first := range []string{"/", f.expand("/users/{bob}/posts"), "/?limit=7"} {
		t.Run(first, func(t *testing.T) {
			// Forwards, by the "Older posts" links.
			var pages [][]string
			var urls []string
			path := first
			for range 10 {
				ids, older, newer := v.pageOfPosts(path)
				if (newer == "") != (path == first) {
					t.Errorf("%s has a link to newer posts %q; want one on all but the first page", path, newer)
				}
				pages, urls = append(pages, ids), append(urls, path)
				if older == "" {
					break
				}
				if !strings.Contains(older, "cursor=") {
					t.Errorf("the link to older posts %q carries no cursor", older)
				}
				path = older
			}
			var all []string
			for _, p := range pages {
				all = append(all, p...)
			}
			if len(pages) < 3 || len(slices.Compact(slices.Clone(all))) != len(all) {
				t.Fatalf("pages %v: want 3 or more, no post twice", pages)
			}
			// Reloading a page shows the same page.
			if ids, _, _ := v.pageOfPosts(urls[1]); !slices.Equal(ids, pages[1]) {
				t.Errorf("reloading %s shows %v, first %v", urls[1], ids, pages[1])
			}
			// Back, by the "Newer posts" links: each page again, whole.
			_, _, newer := v.pageOfPosts(urls[len(urls)-1])
			for i := len(pages) - 2; i >= 1; i-- {
				if !strings.Contains(newer, "before=") {
					t.Fatalf("the link to newer posts %q carries no cursor", newer)
				}
				ids, older, next := v.pageOfPosts(newer)
				if !slices.Equal(ids, pages[i]) {
					t.Errorf("newer posts than page %d: %v, want page %d: %v", i+2, ids, i+1, pages[i])
				}
				if older == "" {
					t.Errorf("newer posts than page %d have no link to older posts", i+2)
				}
				newer = next
			}
			// The last step back is the first page, at its own URL.
			res, _ := v.get(newer)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != first {
				t.Errorf("GET %s (newer than page 2) = %d to %q, want 303 to %s", newer, res.StatusCode, res.Header.Get("Location"), first)
			}
		})
	}

	// Bad page links are a page that says so, in words.
	for _, path := range []string{"/?before=nonsense", "/?before=MTczNTY4OTYwMDAwMDAwMC4x&cursor=MTczNTY4OTYwMDAwMDAwMC4x", "/?before=MTczNTY4OTYwMDAwMDAwMC4x&skip=3"} {
		res, body := v.get(path)
		wantStatus(t, "GET "+path, res, http.StatusUnprocessableEntity)
		wantContains(t, "GET "+path, body, "This link to a page of posts is not valid.")
	}
	// Before a post older than all: the oldest, and a way to newer ones.
	ids, older, newer := v.pageOfPosts("/?before=" + (blog.Cursor{DatePosted: time.Unix(0, 0), ID: 1}).String())
	if len(ids) != 10 || older != "" || newer == "" {
		t.Errorf("before the start of time: %d posts, older %q, newer %q; want the 10 oldest, no older, a way to newer", len(ids), older, newer)
	}
	// After the last post: an empty page that says so, and a way back.
	_, body := v.get("/?cursor=" + (blog.Cursor{DatePosted: time.Unix(0, 0), ID: 1}).String())
	wantContains(t, "a page after the oldest post", body, `<p class="empty">No older posts.</p>`, `<a href="/" rel="prev" class="newer">Newer posts</a>`)
}

// TestPageSessionsList checks how the account page lists sessions: this
// browser's first, each client in a few words, times for the script to
// show in the reader's zone.
func TestPageSessionsList(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	srv := pageServer(t, f)
	const (
		firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
		iphone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	)
	phone := newVisitor(t, f, srv)
	phone.userAgent = iphone
	phone.login("Alice", alicePassword)
	f.clock.Advance(time.Hour)
	desk := newVisitor(t, f, srv)
	desk.userAgent = firefox
	desk.login("Alice", alicePassword)
	f.clock.Advance(time.Hour)
	// The phone's session is older than the desk's, and the fixture's
	// API login older still; the phone sees its own first all the same.
	_, body := phone.get("/account")
	items := regexp.MustCompile(`(?s)<li( class="current")?>(.*?)</li>`).FindAllStringSubmatch(body, -1)
	if len(items) != 3 {
		t.Fatalf("the account page lists %d sessions, want 3:\n%s", len(items), body)
	}
	if items[0][1] == "" || !strings.Contains(items[0][2], "<strong>Safari on iPhone</strong> <span class=\"badge\">this browser</span>") {
		t.Errorf("the first session listed is not this browser's:\n%s", items[0][0])
	}
	if !strings.Contains(items[1][2], "<strong>Firefox on Linux</strong>") || !strings.Contains(items[2][2], "<strong>Unknown browser</strong>") {
		t.Errorf("the other sessions are not Firefox on Linux, then the API login:\n%s\n%s", items[1][0], items[2][0])
	}
	for _, raw := range []string{"Mozilla", "Gecko", "AppleWebKit"} {
		if strings.Contains(body, raw) {
			t.Errorf("the account page shows the raw User-Agent (%q)", raw)
		}
	}
	times := regexp.MustCompile(`<time datetime="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)" data-local>(\d+ \w+ \d{4}, \d\d:\d\d UTC)</time>`).FindAllStringSubmatch(body, -1)
	if len(times) != 6 {
		t.Errorf("the sessions list has %d times for the script, want 6 (since and last used of 3):\n%s", len(times), body)
	}
	for _, m := range times {
		at, err := time.Parse(time.RFC3339, m[1])
		if err != nil || at.UTC().Format("2 Jan 2006, 15:04 UTC") != m[2] {
			t.Errorf("<time datetime=%q> says %q", m[1], m[2])
		}
	}
}
