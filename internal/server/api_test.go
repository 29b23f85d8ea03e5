package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/quilltest"
	"github.com/quill-blog/quill/internal/server"
	"github.com/quill-blog/quill/internal/testclock"
)

// This file is the API contract (docs/api.md) as a table of scenarios, in the
// style of pocketbase's ApiScenario. Every scenario runs on a fresh server
// and database holding the same fixture (see newFixture), so rows may
// change state freely and run in parallel. To cover a new route, add rows to
// apiScenarios; use fixture names ({alice}, {bob_post}, …) instead of
// numbers, and a setup func for any extra state.

// testDB is a database the server tests run on.
type testDB = quilltest.DB

// testDBs lists the databases the suite runs on: SQLite, and PostgreSQL,
// which skips with a message unless QUILL_TEST_POSTGRES_URL is set.
func testDBs() []testDB { return quilltest.DBs() }

const (
	// testRemote is the client address of every request unless a scenario
	// says otherwise.
	testRemote = "192.0.2.1:1234"
	// testOrigin is the one origin CORS allows on test servers.
	testOrigin    = quilltest.Origin
	testPublicURL = quilltest.PublicURL
)

// testServer is quill in-process (package quilltest), with helpers to
// send it requests.
type testServer struct {
	*quilltest.Quill
	handler http.Handler
	clock   *testclock.Clock
	logs    *quilltest.Logs
	tokens  *auth.Tokens
}

// newTestServer returns a server on a new SQLite database.
func newTestServer(tb testing.TB) *testServer {
	tb.Helper()
	return newTestServerOn(tb, quilltest.SQLite)
}

// newTestServerOn returns a server on a new database of kind db.
func newTestServerOn(tb testing.TB, db testDB) *testServer {
	tb.Helper()
	return newTestServerWith(tb, db)
}

// newTestServerWith returns a server on a new database of kind db, with
// its configuration changed by opts.
func newTestServerWith(tb testing.TB, db testDB, opts ...quilltest.Options) *testServer {
	tb.Helper()
	q := quilltest.New(tb, db, opts...)
	return &testServer{Quill: q, handler: q.Handler, clock: q.Clock, logs: q.Logs, tokens: q.Tokens}
}

// stop ends the server's background work, writing what it holds.
func (ts *testServer) stop() { ts.Stop() }

// noLimits turns off the login throttle and the per-client allowances,
// for tests that send many requests from one client.
var noLimits = quilltest.Options{
	App:    func(c *app.Config) { c.ThrottleLogins = false },
	Server: func(c *server.Config) { c.DisableRateLimits = true },
}

// do sends one request and returns the response with its body read.
func (ts *testServer) do(tb testing.TB, method, path, body string, header http.Header) (*http.Response, []byte) {
	tb.Helper()
	return ts.doFrom(tb, testRemote, method, path, body, header)
}

// doFrom is do from the client address remote.
func (ts *testServer) doFrom(tb testing.TB, remote, method, path, body string, header http.Header) (*http.Response, []byte) {
	tb.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = remote
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		req.Header.Del(k)
		for _, v := range vs {
			if v != "" {
				req.Header.Add(k, v)
			}
		}
	}
	rec := httptest.NewRecorder()
	ts.handler.ServeHTTP(rec, req)
	res := rec.Result()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	checkResponse(tb, req, res, data) // every API response must match /openapi.json
	return res, data
}

// login uses the password grant and returns the access token.
func (ts *testServer) login(tb testing.TB, username, password string) string {
	tb.Helper()
	return ts.loginPair(tb, username, password).AccessToken
}

// tokenPair is the Token response.
type tokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// loginPair uses the password grant and returns both tokens.
func (ts *testServer) loginPair(tb testing.TB, username, password string) tokenPair {
	tb.Helper()
	form := url.Values{"username": {username}, "password": {password}}.Encode()
	res, body := ts.do(tb, "POST", "/api/users/token", form,
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("login(%q) = %d %s, want 200", username, res.StatusCode, body)
	}
	var tok tokenPair
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" || tok.RefreshToken == "" {
		tb.Fatalf("login(%q) body %s: no access_token or refresh_token (%v)", username, body, err)
	}
	return tok
}

// register creates an account through the API and returns its id.
func (ts *testServer) register(tb testing.TB, username, email, password string) int64 {
	tb.Helper()
	res, body := ts.do(tb, "POST", "/api/users", mustJSON(tb, map[string]string{
		"username": username, "email": email, "password": password,
	}), nil)
	if res.StatusCode != http.StatusCreated {
		tb.Fatalf("register(%q) = %d %s, want 201", username, res.StatusCode, body)
	}
	return idOf(tb, body)
}

// createPost publishes a post as the token's user and returns its id.
func (ts *testServer) createPost(tb testing.TB, token, title, content string) int64 {
	tb.Helper()
	res, body := ts.do(tb, "POST", "/api/posts", mustJSON(tb, map[string]string{"title": title, "content": content}),
		http.Header{"Authorization": {"Bearer " + token}})
	if res.StatusCode != http.StatusCreated {
		tb.Fatalf("createPost(%q) = %d %s, want 201", title, res.StatusCode, body)
	}
	return idOf(tb, body)
}

func idOf(tb testing.TB, body []byte) int64 {
	tb.Helper()
	var v struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.ID <= 0 {
		tb.Fatalf("no id in %s (%v)", body, err)
	}
	return v.ID
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// testUser is a fixture account.
type testUser struct {
	ID                        int64
	Username, Email, Password string
	Token                     string // from a password-grant login
	Refresh                   string // that login's refresh token
}

// Fixture passwords; the suite checks that no response or log line ever
// contains one of them, or leakCanary.
const (
	alicePassword = "wonderland-rabbit-hole-7"
	bobPassword   = "can-we-fix-it-yes-9"
	leakCanary    = "sekrit-value-123"
)

// fixture is what every scenario starts from: Alice and Bob, registered and
// logged in through the API, with posts created one minute apart, oldest
// first: alice_post, bob_post, alice_post2.
type fixture struct {
	*testServer
	users map[string]*testUser
	// vars are the placeholders expanded in paths, bodies, headers and
	// wanted bodies: {alice} is Alice's id, {alice_token} her token,
	// {alice_public} her UserPublic JSON, {alice_post} a post id, ….
	vars map[string]string
}

func newFixture(tb testing.TB, db testDB, opts ...quilltest.Options) *fixture {
	tb.Helper()
	f := &fixture{testServer: newTestServerWith(tb, db, opts...), users: map[string]*testUser{}, vars: map[string]string{}}
	f.addUser(tb, "alice", &testUser{Username: "Alice", Email: "alice@example.com", Password: alicePassword})
	f.addUser(tb, "bob", &testUser{Username: "bob", Email: "bob@example.com", Password: bobPassword})
	if f.App.RequiresVerifiedEmail() {
		// Only a verified account writes: the fixture's are (verify_test.go).
		f.markVerified(tb, "alice")
		f.markVerified(tb, "bob")
	}
	posts := []struct{ name, user, title, content string }{
		{"alice_post", "alice", "Alice's first post", "Hello from Alice."},
		{"bob_post", "bob", "Bob builds", "Can we fix it?"},
		{"alice_post2", "alice", "Alice again", "Down the rabbit hole."},
	}
	for _, p := range posts {
		f.clock.Advance(time.Minute)
		id := f.createPost(tb, f.users[p.user].Token, p.title, p.content)
		f.set(p.name, fmt.Sprint(id))
	}
	f.clock.Advance(time.Minute)
	return f
}

func (f *fixture) addUser(tb testing.TB, name string, u *testUser) {
	tb.Helper()
	u.ID = f.register(tb, u.Username, u.Email, u.Password)
	pair := f.loginPair(tb, u.Username, u.Password)
	u.Token, u.Refresh = pair.AccessToken, pair.RefreshToken
	f.users[name] = u
	f.set(name, fmt.Sprint(u.ID))
	f.set(name+"_token", u.Token)
	f.set(name+"_refresh", u.Refresh)
	f.set(name+"_session", f.sessionOf(tb, name))
	f.set(name+"_public", fmt.Sprintf(`{"id":%d,"username":%q,"image_file":null,"image_path":"/static/profile_pics/default.jpg"}`, u.ID, u.Username))
	f.set(name+"_private", fmt.Sprintf(`{"id":%d,"username":%q,"email":%q,"image_file":null,"image_path":"/static/profile_pics/default.jpg","email_verified":false,"pending_email":null}`, u.ID, u.Username, u.Email))
	f.set(name+"_me", fmt.Sprintf(`{"id":%d,"username":%q,"email":%q,"image_file":null,"image_path":"/static/profile_pics/default.jpg","email_verified":false,"pending_email":null,"totp_enabled":false}`, u.ID, u.Username, u.Email))
}

// set defines the placeholder {name}.
func (f *fixture) set(name, value string) { f.vars[name] = value }

// expand replaces every {name} placeholder in s.
func (f *fixture) expand(s string) string {
	pairs := make([]string, 0, 2*len(f.vars))
	for k, v := range f.vars {
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// as returns the Authorization header of a fixture user's token.
func (f *fixture) as(name string) http.Header {
	return http.Header{"Authorization": {"Bearer " + f.users[name].Token}}
}

// apiScenario is one request and what must come back.
type apiScenario struct {
	name    string
	method  string
	path    string            // placeholders expanded
	body    string            // raw; placeholders expanded. Content-Type defaults to application/json when set.
	headers map[string]string // request headers, placeholders expanded; "" removes a default
	as      string            // fixture user whose token is sent ("alice", "bob"); "" for none
	remote  string            // the client's address, "host:port"; testRemote when ""
	setup   func(tb testing.TB, f *fixture)

	wantStatus int
	// wantJSON is the exact body, compared as JSON after placeholders are
	// expanded in it and volatile fields of the response are normalised
	// (see normalise): write "<rfc3339>", "<token>" or "<cursor>" there.
	wantJSON     string
	wantContains []string          // substrings of the raw body
	wantHeaders  map[string]string // exact values, several lines joined by ", "; "" means absent
	after        func(t *testing.T, f *fixture, body []byte)
}

const (
	defaultImage = "/static/profile_pics/default.jpg"
	notAuthn     = `{"detail":"Not authenticated","code":"not_authenticated"}`
	badToken     = `{"detail":"Invalid authentication credentials","code":"invalid_token"}`
	badLogin     = `{"detail":"Incorrect username or password","code":"invalid_credentials","error":"invalid_grant","error_description":"Incorrect username or password"}`
	notFound     = `{"detail":"Not Found","code":"not_found"}`
	formURL      = "application/x-www-form-urlencoded"
)

var (
	wantNotAuthn = map[string]string{"WWW-Authenticate": "Bearer"}
	wantBadToken = map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`}
	urlencoded   = map[string]string{"Content-Type": formURL}
)

// withOAuth is body, a JSON error, with the fields the token endpoint adds:
// OAuth2's error code and error_description.
func withOAuth(body, code, description string) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		panic(err)
	}
	m["error"], m["error_description"] = code, description
	b, _ := json.Marshal(m)
	return string(b)
}

// problem is the 422 body of one validation problem.
func problem(typ string, loc []any, msg string) string {
	return problems(typ, loc, msg)
}

// problems is the 422 body of several problems, given as type, loc, msg
// triples.
func problems(triples ...any) string {
	type p struct {
		Type string `json:"type"`
		Loc  []any  `json:"loc"`
		Msg  string `json:"msg"`
	}
	var ps []p
	for i := 0; i+2 < len(triples); i += 3 {
		ps = append(ps, p{triples[i].(string), triples[i+1].([]any), triples[i+2].(string)})
	}
	b, _ := json.Marshal(map[string]any{"detail": ps, "code": "validation_error"})
	return string(b)
}

func body(field string) []any   { return []any{"body", field} }
func query(field string) []any  { return []any{"query", field} }
func pathLoc(name string) []any { return []any{"path", name} }

// multipartForm encodes fields as multipart/form-data with a fixed
// boundary.
func multipartForm(fields ...string) (body string, contentType string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.SetBoundary("quill-test-boundary")
	for i := 0; i+1 < len(fields); i += 2 {
		_ = w.WriteField(fields[i], fields[i+1])
	}
	_ = w.Close()
	return b.String(), w.FormDataContentType()
}

// emailOfLength is a valid address of n (250…256) characters: a 64-character
// local part and a domain of labels within 63 characters.
func emailOfLength(n int) string {
	local := strings.Repeat("a", 64)
	last := n - len(local) - len("@") - 2*len(strings.Repeat("b", 63)+".") - len(".com")
	return local + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", last) + ".com"
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func TestAPI(t *testing.T) {
	for _, db := range testDBs() {
		t.Run(db.Name, func(t *testing.T) {
			for _, sc := range apiScenarios() {
				t.Run(sc.method+" "+sc.name, func(t *testing.T) {
					t.Parallel()
					sc.run(t, newFixture(t, db))
				})
			}
		})
	}
}

// run sends the scenario's request to f and checks the response, then
// the properties every response has.
func (sc apiScenario) run(t *testing.T, f *fixture) {
	t.Helper()
	if sc.setup != nil {
		sc.setup(t, f)
	}
	header := http.Header{}
	if sc.as != "" {
		header = f.as(sc.as)
	}
	for k, v := range sc.headers {
		header.Set(k, f.expand(v))
	}
	path := f.expand(sc.path)
	remote := sc.remote
	if remote == "" {
		remote = testRemote
	}
	res, got := f.doFrom(t, remote, sc.method, path, f.expand(sc.body), header)

	if res.StatusCode != sc.wantStatus {
		t.Errorf("%s %s: status = %d, want %d; body %s", sc.method, path, res.StatusCode, sc.wantStatus, got)
	}
	if sc.wantJSON != "" {
		want := decodeBody(t, []byte(f.expand(sc.wantJSON)))
		if diff := cmp.Diff(want, normalise(decodeBody(t, got))); diff != "" {
			t.Errorf("%s %s: body mismatch (-want +got):\n%s\nbody: %s", sc.method, path, diff, got)
		}
	}
	for _, s := range sc.wantContains {
		if s = f.expand(s); !bytes.Contains(got, []byte(s)) {
			t.Errorf("%s %s: body %s does not contain %q", sc.method, path, got, s)
		}
	}
	for k, want := range sc.wantHeaders {
		// Header lines are read as one list (Vary is set in several places).
		if got := strings.Join(res.Header.Values(k), ", "); got != want {
			t.Errorf("%s %s: header %s = %q, want %q", sc.method, path, k, got, want)
		}
	}
	checkInvariants(t, f, sc.method, path, sc.as != "", res, got)
	if sc.after != nil && !t.Failed() {
		sc.after(t, f, got)
	}
}

// checkInvariants checks what holds for every response: no 500, the
// security headers, JSON error bodies with a detail and a code, no-store
// on authenticated responses, no password in any body or log line, and no
// error logged.
func checkInvariants(t *testing.T, f *fixture, method, path string, authenticated bool, res *http.Response, body []byte) {
	t.Helper()
	status := res.StatusCode
	if status >= 500 && status != http.StatusServiceUnavailable {
		t.Errorf("%s %s: status %d: the server is not broken", method, path, status)
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s %s: X-Content-Type-Options = %q, want nosniff", method, path, got)
	}
	if got := res.Header.Get("Referrer-Policy"); got == "" {
		t.Errorf("%s %s: no Referrer-Policy", method, path)
	}
	if authenticated && status != http.StatusUnauthorized {
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s %s: authenticated response has Cache-Control %q, want no-store", method, path, got)
		}
	}
	if status == http.StatusNoContent && len(body) != 0 {
		t.Errorf("%s %s: 204 with body %q", method, path, body)
	}
	if strings.HasPrefix(path, "/api") && status >= 400 {
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: error Content-Type = %q, want application/json", method, path, ct)
		}
		var e struct {
			Detail           any    `json:"detail"`
			Code             string `json:"code"`
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Detail == nil || e.Code == "" {
			t.Errorf("%s %s: error body %s lacks detail or code (%v)", method, path, body, err)
		}
		route, _, _ := strings.Cut(path, "?")
		switch {
		case method == http.MethodPost && strings.TrimSuffix(route, "/") == "/api/users/token":
			checkOAuthError(t, method+" "+path, body)
		case e.Error != "" || e.ErrorDescription != "":
			t.Errorf("%s %s: error body %s has OAuth2's fields, which only the token endpoint sends", method, path, body)
		}
	}
	logs := f.logs.String()
	for _, secret := range []string{alicePassword, bobPassword, leakCanary} {
		if bytes.Contains(body, []byte(secret)) {
			t.Errorf("%s %s: body contains the password %q: %s", method, path, secret, body)
		}
		if strings.Contains(logs, secret) {
			t.Errorf("%s %s: log contains the password %q", method, path, secret)
		}
	}
	if strings.Contains(logs, "level=ERROR") {
		t.Errorf("%s %s: the server logged an error:\n%s", method, path, logs)
	}
}

// oauthText is what RFC 6749 §5.2 allows in an error_description.
var oauthText = regexp.MustCompile(`^[\x20\x21\x23-\x5B\x5D-\x7E]+$`)

// checkOAuthError checks an error body of the token endpoint: beside
// detail and code, OAuth2's error and an error_description of RFC 6749's
// characters, the same text as detail when detail is a string.
func checkOAuthError(tb testing.TB, what string, body []byte) {
	tb.Helper()
	var e struct {
		Detail           any    `json:"detail"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" || !oauthText.MatchString(e.ErrorDescription) {
		tb.Errorf("%s: error body %s lacks OAuth2's error, or an error_description of RFC 6749's characters (%v)", what, body, err)
		return
	}
	if d, ok := e.Detail.(string); ok && d != e.ErrorDescription {
		tb.Errorf("%s: error_description = %q, want the detail, %q", what, e.ErrorDescription, d)
	}
}

func decodeBody(tb testing.TB, data []byte) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		tb.Fatalf("body is not JSON: %v\n%s", err, data)
	}
	return v
}

var rfc3339UTC = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)

// pictureName is the form of the random names of uploaded pictures.
var pictureName = regexp.MustCompile(`^[0-9a-f]{32}\.jpg$`)

// normalise replaces the values that differ from run to run, once they
// have the right form: RFC 3339 UTC times become "<rfc3339>", tokens
// "<token>", cursors "<cursor>" and picture names "<picture>". A value of the wrong form is kept, so
// the diff shows it.
func normalise(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			s, isString := x.(string)
			switch {
			case k == "date_posted" && isString && rfc3339UTC.MatchString(s):
				v[k] = "<rfc3339>"
			case (k == "access_token" || k == "refresh_token") && isString && len(s) >= 32:
				v[k] = "<token>"
			case k == "next_cursor" && isString && s != "":
				v[k] = "<cursor>"
			case k == "image_file" && isString && pictureName.MatchString(s):
				v[k] = "<picture>"
			case k == "image_path" && isString && pictureName.MatchString(strings.TrimPrefix(s, "/media/profile_pics/")):
				v[k] = "/media/profile_pics/<picture>"
			default:
				v[k] = normalise(x)
			}
		}
	case []any:
		for i := range v {
			v[i] = normalise(v[i])
		}
	}
	return v
}

// get fetches path and decodes the JSON body into a generic value.
func (f *fixture) get(t *testing.T, path string, header http.Header) (int, any) {
	t.Helper()
	res, body := f.do(t, "GET", f.expand(path), "", header)
	if len(body) == 0 {
		return res.StatusCode, nil
	}
	return res.StatusCode, decodeBody(t, body)
}

// wantStatus fetches path and checks the status.
func (f *fixture) wantStatus(t *testing.T, method, path string, header http.Header, want int) {
	t.Helper()
	res, body := f.do(t, method, f.expand(path), "", header)
	if res.StatusCode != want {
		t.Errorf("then %s %s = %d %s, want %d", method, f.expand(path), res.StatusCode, body, want)
	}
}

// tryLogin reports the status of a password-grant login.
func (f *fixture) tryLogin(t *testing.T, username, password string) int {
	t.Helper()
	res, _ := f.do(t, "POST", "/api/users/token", form("username", username, "password", password), http.Header{"Content-Type": {formURL}})
	return res.StatusCode
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

func apiScenarios() []apiScenario {
	const (
		tooBig = 1<<20 + 1
	)
	bigJSON := `{"title":"t","content":"` + strings.Repeat("a", tooBig) + `"}`
	mpLogin, mpType := multipartForm("username", "Alice", "password", alicePassword)
	mpBig, mpBigType := multipartForm("username", "Alice", "password", strings.Repeat("a", tooBig))
	loginTooLarge := `{"detail":"Request body too large","code":"request_too_large",` +
		`"error":"invalid_request","error_description":"Request body too large"}`
	alicePost := `{"id":{alice_post},"title":"Alice's first post","content":"Hello from Alice.","user_id":{alice},"author_id":{alice},"date_posted":"<rfc3339>","author":{alice_public},"content_html":"<p>Hello from Alice.</p>\n"}`
	bobPost := `{"id":{bob_post},"title":"Bob builds","content":"Can we fix it?","user_id":{bob},"author_id":{bob},"date_posted":"<rfc3339>","author":{bob_public},"content_html":"<p>Can we fix it?</p>\n"}`
	alicePost2 := `{"id":{alice_post2},"title":"Alice again","content":"Down the rabbit hole.","user_id":{alice},"author_id":{alice},"date_posted":"<rfc3339>","author":{alice_public},"content_html":"<p>Down the rabbit hole.</p>\n"}`
	token := `{"access_token":"<token>","token_type":"bearer","expires_in":1800,"refresh_token":"<token>"}`
	register := func(username, email, password string) string {
		b, _ := json.Marshal(map[string]string{"username": username, "email": email, "password": password})
		return string(b)
	}
	carol := func(password string) string { return register("carol", "carol@example.com", password) }
	noStore := map[string]string{"Cache-Control": "no-store"}

	var rows []apiScenario

	// POST /api/users: registration.
	rows = append(rows, []apiScenario{
		{
			name: "register", method: "POST", path: "/api/users",
			body:       register("Carol", "Carol@Example.COM", "a-long-passphrase-4"),
			wantStatus: http.StatusCreated,
			wantJSON:   `{"id":3,"username":"Carol","email":"carol@example.com","image_file":null,"image_path":"` + defaultImage + `","email_verified":false,"pending_email":null}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if got := f.tryLogin(t, "carol@example.com", "a-long-passphrase-4"); got != http.StatusOK {
					t.Errorf("login of the new account = %d, want 200", got)
				}
			},
		},
		{
			name: "register with a trailing slash", method: "POST", path: "/api/users/",
			body: carol("a-long-passphrase-4"), wantStatus: http.StatusCreated,
			wantHeaders: map[string]string{"Location": ""},
		},
		{
			name: "register keeps Unicode usernames, in NFC", method: "POST", path: "/api/users",
			body:       register("Zoe\u0308_δοκιμή-用户.1", "zoe@example.com", "a-long-passphrase-4"),
			wantStatus: http.StatusCreated,
			wantJSON:   `{"id":3,"username":"Zoë_δοκιμή-用户.1","email":"zoe@example.com","image_file":null,"image_path":"` + defaultImage + `","email_verified":false,"pending_email":null}`,
		},
		{
			name: "register with an internationalised email", method: "POST", path: "/api/users",
			body:       register("yonghu", "用户@例子.广告", "a-long-passphrase-4"),
			wantStatus: http.StatusCreated,
			wantJSON:   `{"id":3,"username":"yonghu","email":"用户@例子.广告","image_file":null,"image_path":"` + defaultImage + `","email_verified":false,"pending_email":null}`,
		},
		{
			name: "register with a password of 8 emoji", method: "POST", path: "/api/users",
			body: carol("🦊🐻🐼🐨🐯🦁🐮🐷"), wantStatus: http.StatusCreated,
		},
		{
			name: "register with a 256-character password", method: "POST", path: "/api/users",
			body: carol(strings.Repeat("é", 256)), wantStatus: http.StatusCreated,
			after: func(t *testing.T, f *fixture, _ []byte) {
				// Never truncated: one character less is another password.
				if got := f.tryLogin(t, "carol", strings.Repeat("é", 255)); got != http.StatusUnauthorized {
					t.Errorf("login with the password less its last character = %d, want 401", got)
				}
				if got := f.tryLogin(t, "carol", strings.Repeat("é", 256)); got != http.StatusOK {
					t.Errorf("login with the password = %d, want 200", got)
				}
			},
		},
		{
			name: "register ignores unknown fields and never stores them", method: "POST", path: "/api/users",
			body: `{"username":"carol","email":"carol@example.com","password":"a-long-passphrase-4",
				"id":999,"password_hash":"$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
				"image_file":"evil.jpg","is_admin":true}`,
			wantStatus: http.StatusCreated,
			wantJSON:   `{"id":3,"username":"carol","email":"carol@example.com","image_file":null,"image_path":"` + defaultImage + `","email_verified":false,"pending_email":null}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if got := f.tryLogin(t, "carol", "a-long-passphrase-4"); got != http.StatusOK {
					t.Errorf("login with the submitted password = %d, want 200 (password_hash must be ignored)", got)
				}
				if code, _ := f.get(t, "/api/users/999", nil); code != http.StatusNotFound {
					t.Errorf("GET /api/users/999 = %d, want 404 (id must be ignored)", code)
				}
			},
		},
		{
			name: "username taken", method: "POST", path: "/api/users",
			body: register("Alice", "other@example.com", "a-long-passphrase-4"), wantStatus: http.StatusBadRequest,
			wantJSON: `{"detail":"Username already registered","code":"username_taken"}`,
		},
		{
			name: "username taken in lower case", method: "POST", path: "/api/users",
			body: register("alice", "other@example.com", "a-long-passphrase-4"), wantStatus: http.StatusBadRequest,
			wantJSON: `{"detail":"Username already registered","code":"username_taken"}`,
		},
		{
			name: "username taken in upper case", method: "POST", path: "/api/users",
			body: register("ALICE", "other@example.com", "a-long-passphrase-4"), wantStatus: http.StatusBadRequest,
			wantJSON: `{"detail":"Username already registered","code":"username_taken"}`,
		},
		{
			name: "username taken in full width", method: "POST", path: "/api/users",
			body: register("Ａｌｉｃｅ", "other@example.com", "a-long-passphrase-4"), wantStatus: http.StatusBadRequest,
			wantJSON: `{"detail":"Username already registered","code":"username_taken"}`,
		},
		{
			// The tutorial checks the username first; its clients show that.
			name: "username and email both taken", method: "POST", path: "/api/users",
			body: register("ALICE", "alice@example.com", "a-long-passphrase-4"), wantStatus: http.StatusBadRequest,
			wantJSON: `{"detail":"Username already registered","code":"username_taken"}`,
		},
		{
			name: "username that looks like a taken one (Cyrillic а)", method: "POST", path: "/api/users",
			body: register("аlice", "other@example.com", "a-long-passphrase-4"), wantStatus: http.StatusBadRequest,
			wantJSON: `{"detail":"Username already registered","code":"username_taken"}`,
		},
		{
			name: "username that looks like a taken one (capital I for l)", method: "POST", path: "/api/users",
			body: register("AIice", "other@example.com", "a-long-passphrase-4"), wantStatus: http.StatusBadRequest,
			wantJSON: `{"detail":"Username already registered","code":"username_taken"}`,
		},
		{
			name: "email taken", method: "POST", path: "/api/users",
			body: register("carol", "alice@example.com", "a-long-passphrase-4"), wantStatus: http.StatusBadRequest,
			wantJSON: `{"detail":"Email already registered","code":"email_taken"}`,
		},
		{
			name: "email taken in another case", method: "POST", path: "/api/users",
			body: register("carol", "ALICE@Example.com", "a-long-passphrase-4"), wantStatus: http.StatusBadRequest,
			wantJSON: `{"detail":"Email already registered","code":"email_taken"}`,
		},
		{
			name: "register without fields", method: "POST", path: "/api/users", body: `{}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problems(
				"missing", body("username"), "Field required",
				"missing", body("email"), "Field required",
				"missing", body("password"), "Field required"),
		},
		{
			name: "register with fields of the wrong type", method: "POST", path: "/api/users",
			body:       `{"username":5,"email":null,"password":["sekrit-value-123"]}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problems(
				"string_type", body("username"), "Input should be a valid string",
				"string_type", body("email"), "Input should be a valid string",
				"string_type", body("password"), "Input should be a valid string"),
		},
		{
			name: "register with a short password", method: "POST", path: "/api/users",
			body: carol("sekrit"), wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("string_too_short", body("password"), "String should have at least 8 characters"),
		},
		{
			name: "register with 7 emoji is too short", method: "POST", path: "/api/users",
			body: carol("🦊🐻🐼🐨🐯🦁🐮"), wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("string_too_short", body("password"), "String should have at least 8 characters"),
		},
		{
			name: "register with a 257-character password", method: "POST", path: "/api/users",
			body: carol(strings.Repeat("é", 257)), wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("string_too_long", body("password"), "String should have at most 256 characters"),
		},
		{
			name: "register with a common password", method: "POST", path: "/api/users",
			body: carol("password123"), wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("value_error", body("password"), "This password is too common; choose one that is harder to guess"),
		},
		{
			name: "register with a common password in another case", method: "POST", path: "/api/users",
			body: carol("PASSWORD123"), wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("value_error", body("password"), "This password is too common; choose one that is harder to guess"),
		},
		{
			name: "register with the username in the password", method: "POST", path: "/api/users",
			body: register("Carol", "c@example.com", "my-name-is-CAROL-42"), wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("value_error", body("password"), "Password must not contain your username"),
		},
		{
			name: "register with the email's local part in the password", method: "POST", path: "/api/users",
			body: register("cj", "carol.jones@example.com", "hi-carol.jones-42"), wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("value_error", body("password"), "Password must not contain your email address"),
		},
		{
			name: "register never echoes a password", method: "POST", path: "/api/users",
			body:       register("x y", "not-an-email", leakCanary+strings.Repeat("x", 300)),
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problems(
				"string_pattern_mismatch", body("username"), "Username may contain only letters, digits, '_', '-' and '.'",
				"value_error", body("email"), "value is not a valid email address: an email address must have an @-sign",
				"string_too_long", body("password"), "String should have at most 256 characters"),
		},
		{
			name: "register never echoes a common-looking password", method: "POST", path: "/api/users",
			body: register("sekrit", "carol@example.com", leakCanary), wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("value_error", body("password"), "Password must not contain your username"),
		},
		{
			name: "username with an @", method: "POST", path: "/api/users",
			body: register("carol@home", "carol@example.com", "a-long-passphrase-4"), wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("string_pattern_mismatch", body("username"), "Username may contain only letters, digits, '_', '-' and '.'"),
		},
		{
			name: "username with a control character", method: "POST", path: "/api/users",
			body: register("carol\n", "carol@example.com", "a-long-passphrase-4"), wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("string_pattern_mismatch", body("username"), "Username may contain only letters, digits, '_', '-' and '.'"),
		},
		{
			name: "username of 51 characters", method: "POST", path: "/api/users",
			body: register(strings.Repeat("é", 51), "carol@example.com", "a-long-passphrase-4"), wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("string_too_long", body("username"), "String should have at most 50 characters"),
		},
		{
			name: "username of 50 characters", method: "POST", path: "/api/users",
			body: register(strings.Repeat("é", 50), "carol@example.com", "a-long-passphrase-4"), wantStatus: http.StatusCreated,
		},
		{
			name: "empty username", method: "POST", path: "/api/users",
			body: register("", "carol@example.com", "a-long-passphrase-4"), wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("string_too_short", body("username"), "String should have at least 1 character"),
		},
		{
			name: "quoted email", method: "POST", path: "/api/users",
			body: register("carol", `"carol jones"@example.com`, "a-long-passphrase-4"), wantStatus: http.StatusUnprocessableEntity,
			wantContains: []string{`"loc":["body","email"]`, `"type":"value_error"`},
		},
		{
			name: "email of 254 characters", method: "POST", path: "/api/users",
			body: register("carol", emailOfLength(254), "a-long-passphrase-4"), wantStatus: http.StatusCreated,
		},
		{
			name: "email of 255 characters", method: "POST", path: "/api/users",
			body: register("carol", emailOfLength(255), "a-long-passphrase-4"), wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("string_too_long", body("email"), "String should have at most 254 characters"),
		},
		{
			name: "NUL in a field", method: "POST", path: "/api/users",
			body: `{"username":"car\u0000ol","email":"carol@example.com","password":"a-long-passphrase-4"}`, wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("string_type", body("username"), "Input should be a valid string without NUL bytes"),
		},
		{
			name: "invalid UTF-8", method: "POST", path: "/api/users",
			body: "{\"username\":\"car\xffol\",\"email\":\"carol@example.com\",\"password\":\"a-long-passphrase-4\"}", wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("json_invalid", []any{"body"}, "Request body is not valid UTF-8"),
		},
		{
			name: "malformed JSON", method: "POST", path: "/api/users",
			body: `{"username":"carol",`, wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("json_invalid", []any{"body"}, "JSON decode error"),
		},
		{
			name: "empty body", method: "POST", path: "/api/users", headers: map[string]string{"Content-Type": "application/json"},
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("json_invalid", []any{"body"}, "JSON decode error"),
		},
		{
			name: "JSON after the object", method: "POST", path: "/api/users",
			body: register("carol", "carol@example.com", "a-long-passphrase-4") + `{}`, wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problem("json_invalid", []any{"body"}, "JSON decode error: data after the object"),
		},
		{
			name: "a JSON array", method: "POST", path: "/api/users", body: `[]`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("model_attributes_type", []any{"body"}, "Input should be a valid dictionary or object"),
		},
		{
			name: "JSON null", method: "POST", path: "/api/users", body: `null`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("model_attributes_type", []any{"body"}, "Input should be a valid dictionary or object"),
		},
		{
			name: "JSON with a charset", method: "POST", path: "/api/users",
			body: carol("a-long-passphrase-4"), headers: map[string]string{"Content-Type": "application/json; charset=utf-8"},
			wantStatus: http.StatusCreated,
		},
		{
			name: "a form is not JSON", method: "POST", path: "/api/users",
			body: form("username", "carol", "email", "carol@example.com", "password", "a-long-passphrase-4"), headers: urlencoded,
			wantStatus: http.StatusUnsupportedMediaType,
			wantJSON:   `{"detail":"Unsupported media type","code":"unsupported_media_type"}`,
		},
		{
			name: "text/plain is not JSON", method: "POST", path: "/api/users",
			body: carol("a-long-passphrase-4"), headers: map[string]string{"Content-Type": "text/plain"},
			wantStatus: http.StatusUnsupportedMediaType,
			wantJSON:   `{"detail":"Unsupported media type","code":"unsupported_media_type"}`,
		},
		{
			name: "body over 1 MiB", method: "POST", path: "/api/users", body: bigJSON,
			wantStatus: http.StatusRequestEntityTooLarge,
			wantJSON:   `{"detail":"Request body too large","code":"request_too_large"}`,
		},
	}...)

	// POST /api/users/token: the OAuth2 password grant.
	rows = append(rows, []apiScenario{
		{
			name: "login with the username", method: "POST", path: "/api/users/token",
			body: form("username", "Alice", "password", alicePassword), headers: urlencoded,
			wantStatus: http.StatusOK, wantJSON: token,
			wantHeaders: map[string]string{"Cache-Control": "no-store"},
			after: func(t *testing.T, f *fixture, body []byte) {
				var tok struct {
					AccessToken string `json:"access_token"`
				}
				_ = json.Unmarshal(body, &tok)
				f.wantStatus(t, "GET", "/api/users/me", bearer(tok.AccessToken), http.StatusOK)
			},
		},
		{
			name: "login with the username in another case and width", method: "POST", path: "/api/users/token",
			body: form("username", "ａＬｉＣｅ", "password", alicePassword), headers: urlencoded,
			wantStatus: http.StatusOK, wantJSON: token,
		},
		{
			name: "login with the email in any case", method: "POST", path: "/api/users/token",
			body: form("username", "ALICE@Example.COM", "password", alicePassword), headers: urlencoded,
			wantStatus: http.StatusOK, wantJSON: token,
		},
		{
			name: "login with grant_type=password", method: "POST", path: "/api/users/token",
			body: form("grant_type", "password", "username", "alice@example.com", "password", alicePassword), headers: urlencoded,
			wantStatus: http.StatusOK, wantJSON: token,
		},
		{
			name: "login with a multipart form", method: "POST", path: "/api/users/token",
			body: mpLogin, headers: map[string]string{"Content-Type": mpType},
			wantStatus: http.StatusOK, wantJSON: token,
			wantHeaders: map[string]string{"Cache-Control": "no-store"},
		},
		{
			name: "login with a trailing slash", method: "POST", path: "/api/users/token/",
			body: form("username", "Alice", "password", alicePassword), headers: urlencoded,
			wantStatus: http.StatusOK, wantJSON: token,
		},
		{
			name: "login with a wrong password", method: "POST", path: "/api/users/token",
			body: form("username", "Alice", "password", leakCanary), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badLogin, wantHeaders: wantNotAuthn,
		},
		{
			name: "login for an unknown user", method: "POST", path: "/api/users/token",
			body: form("username", "nobody", "password", leakCanary), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badLogin, wantHeaders: wantNotAuthn,
		},
		{
			name: "login for an unknown email", method: "POST", path: "/api/users/token",
			body: form("username", "nobody@example.com", "password", leakCanary), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badLogin, wantHeaders: wantNotAuthn,
		},
		{
			name: "login with a password in another case", method: "POST", path: "/api/users/token",
			body: form("username", "Alice", "password", strings.ToUpper(alicePassword)), headers: urlencoded,
			wantStatus: http.StatusUnauthorized, wantJSON: badLogin,
		},
		{
			name: "unsupported grant type", method: "POST", path: "/api/users/token",
			body: form("grant_type", "client_credentials", "username", "Alice", "password", alicePassword), headers: urlencoded,
			wantStatus: http.StatusBadRequest,
			wantJSON: `{"detail":"Unsupported grant type","code":"unsupported_grant_type",` +
				`"error":"unsupported_grant_type","error_description":"Unsupported grant type"}`,
		},
		{
			name: "login without fields", method: "POST", path: "/api/users/token", body: "", headers: urlencoded,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: withOAuth(problems(
				"missing", body("username"), "Field required",
				"missing", body("password"), "Field required"),
				"invalid_request", "username: Field required; password: Field required"),
		},
		{
			// net/http reads a form body only when it says it is one; as
			// in FastAPI, the fields are then missing.
			name: "login without a content type", method: "POST", path: "/api/users/token",
			body: form("username", "Alice", "password", alicePassword), headers: map[string]string{"Content-Type": ""},
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: withOAuth(problems(
				"missing", body("username"), "Field required",
				"missing", body("password"), "Field required"),
				"invalid_request", "username: Field required; password: Field required"),
		},
		{
			name: "login with NUL in the password", method: "POST", path: "/api/users/token",
			body: form("username", "Alice", "password", alicePassword+"\x00"), headers: urlencoded,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: withOAuth(problem("string_type", body("password"), "Input should be a valid string without NUL bytes"),
				"invalid_request", "password: Input should be a valid string without NUL bytes"),
		},
		{
			name: "login with invalid UTF-8", method: "POST", path: "/api/users/token",
			body: "username=Alice&password=%FF%FE", headers: urlencoded,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: withOAuth(problem("string_type", body("password"), "Input should be a valid string without NUL bytes"),
				"invalid_request", "password: Input should be a valid string without NUL bytes"),
		},
		{
			name: "login with a malformed form", method: "POST", path: "/api/users/token",
			body: "username=%zz", headers: urlencoded,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: withOAuth(problem("json_invalid", []any{"body"}, "Malformed form body"),
				"invalid_request", "body: Malformed form body"),
		},
		{
			name: "login with JSON", method: "POST", path: "/api/users/token",
			body:       `{"username":"Alice","password":"` + alicePassword + `"}`,
			wantStatus: http.StatusUnsupportedMediaType,
			wantJSON: `{"detail":"Unsupported media type","code":"unsupported_media_type",` +
				`"error":"invalid_request","error_description":"Unsupported media type"}`,
		},
		{
			name: "login form over 1 MiB", method: "POST", path: "/api/users/token",
			body: form("username", "Alice", "password", strings.Repeat("a", tooBig)), headers: urlencoded,
			wantStatus: http.StatusRequestEntityTooLarge, wantJSON: loginTooLarge,
		},
		{
			name: "login multipart form over 1 MiB", method: "POST", path: "/api/users/token",
			body: mpBig, headers: map[string]string{"Content-Type": mpBigType},
			wantStatus: http.StatusRequestEntityTooLarge, wantJSON: loginTooLarge,
		},
	}...)

	// Authentication failures, on GET /api/users/me.
	rows = append(rows, []apiScenario{
		{
			name: "me", method: "GET", path: "/api/users/me", as: "alice",
			wantStatus: http.StatusOK, wantHeaders: noStore,
			wantJSON: `{"id":{alice},"username":"Alice","email":"alice@example.com","image_file":null,"image_path":"` + defaultImage + `","email_verified":false,"pending_email":null,"totp_enabled":false}`,
		},
		{
			name: "me with a trailing slash", method: "GET", path: "/api/users/me/", as: "bob",
			wantStatus: http.StatusOK, wantJSON: `{bob_me}`,
		},
		{
			name: "me with the scheme in lower case", method: "GET", path: "/api/users/me",
			headers:    map[string]string{"Authorization": "bearer {alice_token}"},
			wantStatus: http.StatusOK, wantJSON: `{alice_me}`,
		},
		{
			name: "me with the scheme in upper case", method: "GET", path: "/api/users/me",
			headers:    map[string]string{"Authorization": "BEARER {alice_token}"},
			wantStatus: http.StatusOK, wantJSON: `{alice_me}`,
		},
		{
			name: "me without a token", method: "GET", path: "/api/users/me",
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
		{
			name: "me with Basic credentials", method: "GET", path: "/api/users/me",
			headers:    map[string]string{"Authorization": "Basic YWxpY2U6c2Vrcml0"},
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
		{
			name: "me with the token in the query string", method: "GET", path: "/api/users/me?access_token={alice_token}",
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
		{
			name: "me with a garbage token", method: "GET", path: "/api/users/me",
			headers:    map[string]string{"Authorization": "Bearer not.a.jwt"},
			wantStatus: http.StatusUnauthorized, wantJSON: badToken, wantHeaders: wantBadToken,
		},
		{
			name: "me with an empty token", method: "GET", path: "/api/users/me",
			headers:    map[string]string{"Authorization": "Bearer "},
			wantStatus: http.StatusUnauthorized, wantJSON: badToken, wantHeaders: wantBadToken,
		},
		{
			name: "me with a tampered token", method: "GET", path: "/api/users/me",
			headers:    map[string]string{"Authorization": "Bearer {alice_token}x"},
			wantStatus: http.StatusUnauthorized, wantJSON: badToken, wantHeaders: wantBadToken,
		},
		{
			name: "me with a token signed by another key", method: "GET", path: "/api/users/me",
			setup: func(tb testing.TB, f *fixture) {
				tokens := auth.NewTokens([]byte("another-key-0123456789-abcdefghijklm"), time.Hour, f.clock.Now, nil)
				sess := f.sessionOf(tb, "alice")
				tok, _, err := tokens.Issue(f.users["alice"].ID, sess)
				if err != nil {
					tb.Fatal(err)
				}
				f.set("forged", tok)
			},
			headers:    map[string]string{"Authorization": "Bearer {forged}"},
			wantStatus: http.StatusUnauthorized, wantJSON: badToken, wantHeaders: wantBadToken,
		},
		{
			name: "me with a token for an unknown session", method: "GET", path: "/api/users/me",
			setup: func(tb testing.TB, f *fixture) {
				tok, _, err := f.tokens.Issue(f.users["alice"].ID, "no-such-session")
				if err != nil {
					tb.Fatal(err)
				}
				f.set("forged", tok)
			},
			headers:    map[string]string{"Authorization": "Bearer {forged}"},
			wantStatus: http.StatusUnauthorized, wantJSON: badToken, wantHeaders: wantBadToken,
		},
		{
			name: "me with a token naming another user than its session's", method: "GET", path: "/api/users/me",
			setup: func(tb testing.TB, f *fixture) {
				tok, _, err := f.tokens.Issue(f.users["bob"].ID, f.sessionOf(tb, "alice"))
				if err != nil {
					tb.Fatal(err)
				}
				f.set("forged", tok)
			},
			headers:    map[string]string{"Authorization": "Bearer {forged}"},
			wantStatus: http.StatusUnauthorized, wantJSON: badToken, wantHeaders: wantBadToken,
		},
		{
			name: "me with an expired token", method: "GET", path: "/api/users/me", as: "alice",
			setup: func(tb testing.TB, f *fixture) {
				// Past the access token's life and the 60 s leeway, well
				// within the session's.
				f.clock.Advance(quilltest.AccessTTL + 2*time.Minute)
			},
			wantStatus: http.StatusUnauthorized, wantJSON: badToken, wantHeaders: wantBadToken,
		},
		{
			name: "me with a token within the clock-skew leeway", method: "GET", path: "/api/users/me", as: "alice",
			setup: func(tb testing.TB, f *fixture) {
				// The fixture's clock is already 4 minutes past the login.
				f.clock.Advance(quilltest.AccessTTL - 4*time.Minute + 30*time.Second)
			},
			wantStatus: http.StatusOK,
		},
		{
			name: "me after the session expired", method: "GET", path: "/api/users/me",
			setup: func(tb testing.TB, f *fixture) {
				sess := f.sessionOf(tb, "alice")
				f.clock.Advance(quilltest.SessionTTL)
				// A token issued now is fresh, but its session is over.
				tok, _, err := f.tokens.Issue(f.users["alice"].ID, sess)
				if err != nil {
					tb.Fatal(err)
				}
				f.set("fresh", tok)
			},
			headers:    map[string]string{"Authorization": "Bearer {fresh}"},
			wantStatus: http.StatusUnauthorized, wantJSON: badToken, wantHeaders: wantBadToken,
		},
		{
			name: "me after logout", method: "GET", path: "/api/users/me", as: "alice",
			setup: func(tb testing.TB, f *fixture) {
				res, body := f.do(tb, "POST", "/api/users/logout", "", f.as("alice"))
				if res.StatusCode != http.StatusNoContent {
					tb.Fatalf("logout = %d %s", res.StatusCode, body)
				}
			},
			wantStatus: http.StatusUnauthorized, wantJSON: badToken, wantHeaders: wantBadToken,
		},
		{
			name: "me after the user was deleted", method: "GET", path: "/api/users/me", as: "alice",
			setup: func(tb testing.TB, f *fixture) {
				res, body := f.do(tb, "DELETE", f.expand("/api/users/{alice}"), "", f.as("alice"))
				if res.StatusCode != http.StatusNoContent {
					tb.Fatalf("delete = %d %s", res.StatusCode, body)
				}
			},
			wantStatus: http.StatusUnauthorized, wantJSON: badToken, wantHeaders: wantBadToken,
		},
	}...)

	// POST /api/users/logout.
	rows = append(rows, []apiScenario{
		{
			name: "logout", method: "POST", path: "/api/users/logout", as: "alice",
			setup: func(tb testing.TB, f *fixture) {
				f.set("other_session", f.login(tb, "Alice", alicePassword))
			},
			wantStatus: http.StatusNoContent,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.wantStatus(t, "GET", "/api/users/me", f.as("alice"), http.StatusUnauthorized)
				// Only that session ends.
				f.wantStatus(t, "GET", "/api/users/me", bearer(f.vars["other_session"]), http.StatusOK)
				f.wantStatus(t, "GET", "/api/users/me", f.as("bob"), http.StatusOK)
			},
		},
		{
			name: "logout without a token", method: "POST", path: "/api/users/logout",
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
		{
			name: "logout twice", method: "POST", path: "/api/users/logout", as: "alice",
			setup: func(tb testing.TB, f *fixture) {
				f.do(tb, "POST", "/api/users/logout", "", f.as("alice"))
			},
			wantStatus: http.StatusUnauthorized, wantJSON: badToken, wantHeaders: wantBadToken,
		},
	}...)

	// GET /api/users/{id}.
	rows = append(rows, []apiScenario{
		{
			name: "user", method: "GET", path: "/api/users/{alice}",
			wantStatus: http.StatusOK,
			wantJSON:   `{"id":{alice},"username":"Alice","image_file":null,"image_path":"` + defaultImage + `"}`,
		},
		{
			name: "user with a trailing slash", method: "GET", path: "/api/users/{bob}/",
			wantStatus: http.StatusOK, wantJSON: `{bob_public}`,
		},
		{
			name: "missing user", method: "GET", path: "/api/users/999",
			wantStatus: http.StatusNotFound, wantJSON: `{"detail":"User not found","code":"user_not_found"}`,
		},
		{
			name: "user id at the int64 maximum", method: "GET", path: "/api/users/9223372036854775807",
			wantStatus: http.StatusNotFound, wantJSON: `{"detail":"User not found","code":"user_not_found"}`,
		},
	}...)
	for _, tc := range []struct{ id, typ, msg string }{
		{"abc", "int_parsing", "Input should be a valid integer"},
		{"1.5", "int_parsing", "Input should be a valid integer"},
		{"0", "greater_than", "Input should be greater than 0"},
		{"-1", "greater_than", "Input should be greater than 0"},
		{"9223372036854775808", "int_parsing", "Input should be a valid integer"},
		{"99999999999999999999999", "int_parsing", "Input should be a valid integer"},
	} {
		rows = append(rows,
			apiScenario{
				name: "user id " + tc.id, method: "GET", path: "/api/users/" + tc.id,
				wantStatus: http.StatusUnprocessableEntity, wantJSON: problem(tc.typ, pathLoc("user_id"), tc.msg),
			},
			apiScenario{
				name: "posts of user id " + tc.id, method: "GET", path: "/api/users/" + tc.id + "/posts",
				wantStatus: http.StatusUnprocessableEntity, wantJSON: problem(tc.typ, pathLoc("user_id"), tc.msg),
			},
			apiScenario{
				name: "user id " + tc.id, method: "PATCH", path: "/api/users/" + tc.id, as: "alice", body: `{}`,
				wantStatus: http.StatusUnprocessableEntity, wantJSON: problem(tc.typ, pathLoc("user_id"), tc.msg),
			},
			apiScenario{
				name: "user id " + tc.id, method: "DELETE", path: "/api/users/" + tc.id, as: "alice",
				wantStatus: http.StatusUnprocessableEntity, wantJSON: problem(tc.typ, pathLoc("user_id"), tc.msg),
			},
			apiScenario{
				name: "post id " + tc.id, method: "GET", path: "/api/posts/" + tc.id,
				wantStatus: http.StatusUnprocessableEntity, wantJSON: problem(tc.typ, pathLoc("post_id"), tc.msg),
			},
			apiScenario{
				name: "post id " + tc.id, method: "PUT", path: "/api/posts/" + tc.id, as: "alice", body: `{"title":"t","content":"c"}`,
				wantStatus: http.StatusUnprocessableEntity, wantJSON: problem(tc.typ, pathLoc("post_id"), tc.msg),
			},
			apiScenario{
				name: "post id " + tc.id, method: "DELETE", path: "/api/posts/" + tc.id, as: "alice",
				wantStatus: http.StatusUnprocessableEntity, wantJSON: problem(tc.typ, pathLoc("post_id"), tc.msg),
			},
		)
	}

	// PATCH and PUT /api/users/{id}.
	rows = append(rows, []apiScenario{
		{
			name: "change own username", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			body:       `{"username":"Alicia"}`,
			wantStatus: http.StatusOK,
			wantJSON:   `{"id":{alice},"username":"Alicia","email":"alice@example.com","image_file":null,"image_path":"` + defaultImage + `","email_verified":false,"pending_email":null}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if got := f.tryLogin(t, "alicia", alicePassword); got != http.StatusOK {
					t.Errorf("login with the new username = %d, want 200", got)
				}
				if got := f.tryLogin(t, "alice", alicePassword); got != http.StatusUnauthorized {
					t.Errorf("login with the old username = %d, want 401", got)
				}
			},
		},
		{
			name: "change own username to another case of it", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			body:       `{"username":"ALICE"}`,
			wantStatus: http.StatusOK,
			wantJSON:   `{"id":{alice},"username":"ALICE","email":"alice@example.com","image_file":null,"image_path":"` + defaultImage + `","email_verified":false,"pending_email":null}`,
		},
		{
			name: "change username to a taken one", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			body:       `{"username":"Ｂｏｂ"}`,
			wantStatus: http.StatusBadRequest, wantJSON: `{"detail":"Username already registered","code":"username_taken"}`,
		},
		{
			name: "change email without the current password", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			body:       `{"email":"alice@new.example"}`,
			wantStatus: http.StatusBadRequest,
			wantJSON:   `{"detail":"Current password is required to change the email or password","code":"current_password_required"}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if _, got := f.get(t, "/api/users/me", f.as("alice")); got.(map[string]any)["email"] != "alice@example.com" {
					t.Errorf("email after a refused change = %v, want unchanged", got)
				}
			},
		},
		{
			name: "change email with a wrong current password", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			body:       `{"email":"alice@new.example","current_password":"` + leakCanary + `"}`,
			wantStatus: http.StatusBadRequest,
			wantJSON:   `{"detail":"Current password is incorrect","code":"wrong_password"}`,
		},
		{
			name: "change email with the current password", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			body:       `{"email":"Alice@New.Example","current_password":"` + alicePassword + `"}`,
			wantStatus: http.StatusOK,
			wantJSON:   `{"id":{alice},"username":"Alice","email":"alice@new.example","image_file":null,"image_path":"` + defaultImage + `","email_verified":false,"pending_email":null}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if got := f.tryLogin(t, "alice@new.example", alicePassword); got != http.StatusOK {
					t.Errorf("login with the new email = %d, want 200", got)
				}
			},
		},
		{
			name: "change email to its own other case needs no password", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			body:       `{"email":"ALICE@example.com"}`,
			wantStatus: http.StatusOK, wantJSON: `{alice_private}`,
		},
		{
			name: "change email to a taken one", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			body:       `{"email":"BOB@example.com","current_password":"` + alicePassword + `"}`,
			wantStatus: http.StatusBadRequest, wantJSON: `{"detail":"Email already registered","code":"email_taken"}`,
		},
		{
			name: "patch with nothing", method: "PATCH", path: "/api/users/{alice}", as: "alice", body: `{}`,
			wantStatus: http.StatusOK, wantJSON: `{alice_private}`,
		},
		{
			name: "patch ignores unknown fields", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			body:       `{"id":{bob},"password_hash":"x","password":"` + leakCanary + `","image_file":"evil.jpg"}`,
			wantStatus: http.StatusOK, wantJSON: `{alice_private}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if got := f.tryLogin(t, "Alice", alicePassword); got != http.StatusOK {
					t.Errorf("login with the old password after a PATCH with password fields = %d, want 200", got)
				}
			},
		},
		{
			name: "patch with a null username", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			body:       `{"username":null}`,
			wantStatus: http.StatusUnprocessableEntity, wantJSON: problem("string_type", body("username"), "Input should be a valid string"),
		},
		{
			name: "patch with an invalid username", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			body:       `{"username":"al ice"}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("string_pattern_mismatch", body("username"), "Username may contain only letters, digits, '_', '-' and '.'"),
		},
		{
			name: "patch with NUL in the current password", method: "PATCH", path: "/api/users/{alice}", as: "alice",
			body:       `{"email":"alice@new.example","current_password":"` + alicePassword + `\u0000"}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("string_type", body("current_password"), "Input should be a valid string without NUL bytes"),
		},
		{
			name: "patch someone else", method: "PATCH", path: "/api/users/{bob}", as: "alice",
			body:       `{"username":"mallory"}`,
			wantStatus: http.StatusForbidden, wantJSON: `{"detail":"Not authorized to update this user","code":"forbidden"}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if _, got := f.get(t, "/api/users/{bob}", nil); got.(map[string]any)["username"] != "bob" {
					t.Errorf("Bob after Alice's PATCH = %v, want unchanged", got)
				}
			},
		},
		{
			// As in the tutorial: another id is 403 whether or not it exists.
			name: "patch a missing user", method: "PATCH", path: "/api/users/999", as: "alice",
			body:       `{"username":"mallory"}`,
			wantStatus: http.StatusForbidden, wantJSON: `{"detail":"Not authorized to update this user","code":"forbidden"}`,
		},
		{
			name: "patch without a token", method: "PATCH", path: "/api/users/{alice}", body: `{"username":"mallory"}`,
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
		{
			name: "patch with an invalid id and no token", method: "PATCH", path: "/api/users/abc", body: `{"username":"mallory"}`,
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn,
		},
		{
			name: "patch with malformed JSON", method: "PATCH", path: "/api/users/{alice}", as: "alice", body: `{"username":`,
			wantStatus: http.StatusUnprocessableEntity, wantJSON: problem("json_invalid", []any{"body"}, "JSON decode error"),
		},
		{
			name: "patch with text/plain", method: "PATCH", path: "/api/users/{alice}", as: "alice", body: `{}`,
			headers:    map[string]string{"Content-Type": "text/plain"},
			wantStatus: http.StatusUnsupportedMediaType,
		},
		{
			name: "put keeping the email and password", method: "PUT", path: "/api/users/{alice}", as: "alice",
			body:       `{"username":"Alicia","email":"alice@example.com"}`,
			wantStatus: http.StatusOK,
			wantJSON:   `{"id":{alice},"username":"Alicia","email":"alice@example.com","image_file":null,"image_path":"` + defaultImage + `","email_verified":false,"pending_email":null}`,
		},
		{
			name: "put a new password", method: "PUT", path: "/api/users/{alice}", as: "alice",
			setup: func(tb testing.TB, f *fixture) {
				f.set("other_session", f.login(tb, "Alice", alicePassword))
			},
			body:       `{"username":"Alice","email":"alice@example.com","password":"through-the-looking-glass-8","current_password":"` + alicePassword + `"}`,
			wantStatus: http.StatusOK, wantJSON: `{alice_private}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if got := f.tryLogin(t, "Alice", alicePassword); got != http.StatusUnauthorized {
					t.Errorf("login with the old password = %d, want 401", got)
				}
				if got := f.tryLogin(t, "Alice", "through-the-looking-glass-8"); got != http.StatusOK {
					t.Errorf("login with the new password = %d, want 200", got)
				}
				// Every other session ends; the one that made the change stays.
				f.wantStatus(t, "GET", "/api/users/me", bearer(f.vars["other_session"]), http.StatusUnauthorized)
				f.wantStatus(t, "GET", "/api/users/me", f.as("alice"), http.StatusOK)
			},
		},
		{
			name: "put a new password without the current one", method: "PUT", path: "/api/users/{alice}", as: "alice",
			body:       `{"username":"Alice","email":"alice@example.com","password":"through-the-looking-glass-8"}`,
			wantStatus: http.StatusBadRequest,
			wantJSON:   `{"detail":"Current password is required to change the email or password","code":"current_password_required"}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if got := f.tryLogin(t, "Alice", alicePassword); got != http.StatusOK {
					t.Errorf("login with the unchanged password = %d, want 200", got)
				}
			},
		},
		{
			name: "put a new password with a wrong current one", method: "PUT", path: "/api/users/{alice}", as: "alice",
			body:       `{"username":"Alice","email":"alice@example.com","password":"through-the-looking-glass-8","current_password":"` + bobPassword + `"}`,
			wantStatus: http.StatusBadRequest, wantJSON: `{"detail":"Current password is incorrect","code":"wrong_password"}`,
		},
		{
			name: "put a new email without the current password", method: "PUT", path: "/api/users/{alice}", as: "alice",
			body:       `{"username":"Alice","email":"alice@new.example"}`,
			wantStatus: http.StatusBadRequest,
			wantJSON:   `{"detail":"Current password is required to change the email or password","code":"current_password_required"}`,
		},
		{
			name: "put a common password", method: "PUT", path: "/api/users/{alice}", as: "alice",
			body:       `{"username":"Alice","email":"alice@example.com","password":"iloveyou","current_password":"` + alicePassword + `"}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("value_error", body("password"), "This password is too common; choose one that is harder to guess"),
		},
		{
			name: "put a password containing the username", method: "PUT", path: "/api/users/{alice}", as: "alice",
			body:       `{"username":"Alice","email":"alice@example.com","password":"i-am-alice-really","current_password":"` + alicePassword + `"}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("value_error", body("password"), "Password must not contain your username"),
		},
		{
			name: "put a short password", method: "PUT", path: "/api/users/{alice}", as: "alice",
			body:       `{"username":"Alice","email":"alice@example.com","password":"` + leakCanary[:7] + `","current_password":"` + alicePassword + `"}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("string_too_short", body("password"), "String should have at least 8 characters"),
		},
		{
			name: "put without the username and email", method: "PUT", path: "/api/users/{alice}", as: "alice", body: `{}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problems(
				"missing", body("username"), "Field required",
				"missing", body("email"), "Field required"),
		},
		{
			name: "put a taken username", method: "PUT", path: "/api/users/{alice}", as: "alice",
			body:       `{"username":"BOB","email":"alice@example.com"}`,
			wantStatus: http.StatusBadRequest, wantJSON: `{"detail":"Username already registered","code":"username_taken"}`,
		},
		{
			name: "put someone else", method: "PUT", path: "/api/users/{alice}", as: "bob",
			body:       `{"username":"mallory","email":"alice@example.com"}`,
			wantStatus: http.StatusForbidden, wantJSON: `{"detail":"Not authorized to update this user","code":"forbidden"}`,
		},
		{
			name: "put without a token", method: "PUT", path: "/api/users/{alice}",
			body:       `{"username":"mallory","email":"alice@example.com"}`,
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
	}...)

	// DELETE /api/users/{id}.
	rows = append(rows, []apiScenario{
		{
			name: "delete own account", method: "DELETE", path: "/api/users/{alice}", as: "alice",
			wantStatus: http.StatusNoContent,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.wantStatus(t, "GET", "/api/users/{alice}", nil, http.StatusNotFound)
				f.wantStatus(t, "GET", "/api/posts/{alice_post}", nil, http.StatusNotFound)
				f.wantStatus(t, "GET", "/api/users/{alice}/posts", nil, http.StatusNotFound)
				if got := f.tryLogin(t, "Alice", alicePassword); got != http.StatusUnauthorized {
					t.Errorf("login of the deleted account = %d, want 401", got)
				}
				_, page := f.get(t, "/api/posts", nil)
				if total := page.(map[string]any)["total"]; total != 1.0 {
					t.Errorf("total after deleting Alice = %v, want 1 (Bob's post)", total)
				}
			},
		},
		{
			name: "delete someone else", method: "DELETE", path: "/api/users/{bob}", as: "alice",
			wantStatus: http.StatusForbidden, wantJSON: `{"detail":"Not authorized to delete this user","code":"forbidden"}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.wantStatus(t, "GET", "/api/users/{bob}", nil, http.StatusOK)
			},
		},
		{
			name: "delete without a token", method: "DELETE", path: "/api/users/{alice}",
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
	}...)

	// Pages of posts: GET /api/posts and GET /api/users/{id}/posts.
	page := func(posts string, total, skip, limit int, hasMore bool) string {
		cursor := "null"
		if hasMore {
			cursor = `"<cursor>"`
		}
		return fmt.Sprintf(`{"posts":[%s],"total":%d,"skip":%d,"limit":%d,"has_more":%t,"next_cursor":%s}`,
			posts, total, skip, limit, hasMore, cursor)
	}
	// firstPage stores the next_cursor of path as {cursor}.
	firstPage := func(path string) func(tb testing.TB, f *fixture) {
		return func(tb testing.TB, f *fixture) {
			res, body := f.do(tb, "GET", f.expand(path), "", nil)
			var p struct {
				NextCursor *string `json:"next_cursor"`
			}
			if err := json.Unmarshal(body, &p); err != nil || res.StatusCode != http.StatusOK || p.NextCursor == nil {
				tb.Fatalf("GET %s = %d %s: no next_cursor", path, res.StatusCode, body)
			}
			f.set("cursor", url.QueryEscape(*p.NextCursor))
		}
	}
	rows = append(rows, []apiScenario{
		{
			name: "posts, newest first", method: "GET", path: "/api/posts",
			wantStatus: http.StatusOK, wantJSON: page(alicePost2+","+bobPost+","+alicePost, 3, 0, 10, false),
			wantContains: []string{`"date_posted":"2026-03-01T12:03:00Z"`},
		},
		{
			name: "posts with a trailing slash", method: "GET", path: "/api/posts/",
			wantStatus: http.StatusOK, wantJSON: page(alicePost2+","+bobPost+","+alicePost, 3, 0, 10, false),
		},
		{
			name: "posts, first page", method: "GET", path: "/api/posts?limit=2",
			wantStatus: http.StatusOK, wantJSON: page(alicePost2+","+bobPost, 3, 0, 2, true),
		},
		{
			name: "posts, second page by offset", method: "GET", path: "/api/posts?skip=2&limit=2",
			wantStatus: http.StatusOK, wantJSON: page(alicePost, 3, 2, 2, false),
		},
		{
			name: "posts, second page by cursor", method: "GET", path: "/api/posts?limit=2&cursor={cursor}",
			setup:      firstPage("/api/posts?limit=2"),
			wantStatus: http.StatusOK, wantJSON: page(alicePost, 3, 0, 2, false),
		},
		{
			name: "posts, cursor after the first post", method: "GET", path: "/api/posts?limit=1&cursor={cursor}",
			setup:      firstPage("/api/posts?limit=1"),
			wantStatus: http.StatusOK, wantJSON: page(bobPost, 3, 0, 1, true),
		},
		{
			name: "posts past the end", method: "GET", path: "/api/posts?skip=3",
			wantStatus: http.StatusOK, wantJSON: page("", 3, 3, 10, false),
		},
		{
			name: "posts with the largest skip", method: "GET", path: "/api/posts?skip=9223372036854775807",
			wantStatus: http.StatusOK, wantJSON: page("", 3, 9223372036854775807, 10, false),
		},
		{
			name: "posts with limit 100", method: "GET", path: "/api/posts?limit=100",
			wantStatus: http.StatusOK, wantJSON: page(alicePost2+","+bobPost+","+alicePost, 3, 0, 100, false),
		},
		{
			name: "posts with empty parameters", method: "GET", path: "/api/posts?skip=&limit=",
			wantStatus: http.StatusOK, wantJSON: page(alicePost2+","+bobPost+","+alicePost, 3, 0, 10, false),
		},
		{
			name: "user posts", method: "GET", path: "/api/users/{alice}/posts",
			wantStatus: http.StatusOK, wantJSON: page(alicePost2+","+alicePost, 2, 0, 10, false),
		},
		{
			name: "user posts with a trailing slash", method: "GET", path: "/api/users/{bob}/posts/",
			wantStatus: http.StatusOK, wantJSON: page(bobPost, 1, 0, 10, false),
		},
		{
			name: "user posts, first page", method: "GET", path: "/api/users/{alice}/posts?limit=1",
			wantStatus: http.StatusOK, wantJSON: page(alicePost2, 2, 0, 1, true),
		},
		{
			name: "user posts, second page by cursor", method: "GET", path: "/api/users/{alice}/posts?limit=1&cursor={cursor}",
			setup:      firstPage("/api/users/{alice}/posts?limit=1"),
			wantStatus: http.StatusOK, wantJSON: page(alicePost, 2, 0, 1, false),
		},
		{
			name: "posts of a user without posts", method: "GET", path: "/api/users/{carol}/posts",
			setup: func(tb testing.TB, f *fixture) {
				f.set("carol", fmt.Sprint(f.register(tb, "carol", "carol@example.com", "a-long-passphrase-4")))
			},
			wantStatus: http.StatusOK, wantJSON: page("", 0, 0, 10, false),
		},
		{
			name: "posts of a missing user", method: "GET", path: "/api/users/999/posts",
			wantStatus: http.StatusNotFound, wantJSON: `{"detail":"User not found","code":"user_not_found"}`,
		},
	}...)
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"skip=-1", problem("greater_than_equal", query("skip"), "Input should be greater than or equal to 0")},
		{"skip=abc", problem("int_parsing", query("skip"), "Input should be a valid integer")},
		{"skip=1.5", problem("int_parsing", query("skip"), "Input should be a valid integer")},
		{"skip=9223372036854775808", problem("int_parsing", query("skip"), "Input should be a valid integer")},
		{"limit=0", problem("greater_than_equal", query("limit"), "Input should be greater than or equal to 1")},
		{"limit=-5", problem("greater_than_equal", query("limit"), "Input should be greater than or equal to 1")},
		{"limit=101", problem("less_than_equal", query("limit"), "Input should be less than or equal to 100")},
		{"limit=99999999999999999999", problem("int_parsing", query("limit"), "Input should be a valid integer")},
		{"limit=ten", problem("int_parsing", query("limit"), "Input should be a valid integer")},
		{"cursor=", problem("value_error", query("cursor"), "Invalid cursor")},
		{"cursor=garbage", problem("value_error", query("cursor"), "Invalid cursor")},
		{"cursor=" + strings.Repeat("A", 100), problem("value_error", query("cursor"), "Invalid cursor")},
		{"skip=1&cursor={cursor}", problem("value_error", query("cursor"), "Use either skip or cursor, not both")},
		{"skip=-1&limit=0", problems(
			"greater_than_equal", query("skip"), "Input should be greater than or equal to 0",
			"greater_than_equal", query("limit"), "Input should be greater than or equal to 1")},
	} {
		for _, path := range []string{"/api/posts", "/api/users/{alice}/posts"} {
			rows = append(rows, apiScenario{
				name: path + "?" + tc.query, method: "GET", path: path + "?" + tc.query,
				setup:      firstPage("/api/posts?limit=1"),
				wantStatus: http.StatusUnprocessableEntity, wantJSON: tc.want,
			})
		}
	}

	// Posts: POST /api/posts, GET, PUT, PATCH and DELETE /api/posts/{id}.
	newPost := func(title, content string) string {
		return fmt.Sprintf(`{"id":4,"title":%q,"content":%q,"user_id":{alice},"author_id":{alice},"date_posted":"<rfc3339>","author":{alice_public},"content_html":%q}`,
			title, content, "<p>"+content+"</p>\n")
	}
	rows = append(rows, []apiScenario{
		{
			name: "create a post", method: "POST", path: "/api/posts", as: "alice",
			body:       `{"title":"Tea party","content":"Why is a raven like a writing-desk?"}`,
			wantStatus: http.StatusCreated, wantJSON: newPost("Tea party", "Why is a raven like a writing-desk?"),
			wantContains: []string{`"date_posted":"2026-03-01T12:04:00Z"`},
			after: func(t *testing.T, f *fixture, body []byte) {
				_, got := f.get(t, "/api/posts/4", nil)
				if diff := cmp.Diff(normalise(decodeBody(t, body)), normalise(got)); diff != "" {
					t.Errorf("GET of the created post differs from the POST's answer (-post +get):\n%s", diff)
				}
			},
		},
		{
			name: "create a post in Markdown: content stays the source, content_html is safe HTML", method: "POST", path: "/api/posts", as: "alice",
			body:       `{"title":"Markdown","content":"# Head\n\n*em* [ok](https://example.com) [bad](javascript:alert(1)) <script>x</script> ![pic](https://img.example/p.png)"}`,
			wantStatus: http.StatusCreated,
			wantJSON: fmt.Sprintf(`{"id":4,"title":"Markdown","content":%q,"user_id":{alice},"author_id":{alice},"date_posted":"<rfc3339>","author":{alice_public},"content_html":%q}`,
				"# Head\n\n*em* [ok](https://example.com) [bad](javascript:alert(1)) <script>x</script> ![pic](https://img.example/p.png)",
				"<h2>Head</h2>\n<p><em>em</em> <a href=\"https://example.com\" rel=\"nofollow ugc noopener\">ok</a> bad &lt;script&gt;x&lt;/script&gt; "+
					"<a class=\"image-link\" href=\"https://img.example/p.png\" rel=\"nofollow ugc noopener\">pic</a></p>\n"),
			after: func(t *testing.T, f *fixture, body []byte) {
				_, got := f.get(t, "/api/posts?limit=1", nil)
				posts := got.(map[string]any)["posts"].([]any)
				if diff := cmp.Diff(normalise(decodeBody(t, body)), normalise(posts[0])); diff != "" {
					t.Errorf("the page's copy of the post differs from the POST's answer (-post +page):\n%s", diff)
				}
			},
		},
		{
			name: "create a post with a trailing slash", method: "POST", path: "/api/posts/", as: "alice",
			body:       `{"title":"Tea party","content":"Late!"}`,
			wantStatus: http.StatusCreated, wantJSON: newPost("Tea party", "Late!"),
		},
		{
			name: "create a post ignores unknown fields", method: "POST", path: "/api/posts", as: "alice",
			body: `{"title":"Tea party","content":"Late!","id":1,"user_id":{bob},"author_id":{bob},
				"date_posted":"2000-01-01T00:00:00Z","author":{bob_public}}`,
			wantStatus: http.StatusCreated, wantJSON: newPost("Tea party", "Late!"),
			wantContains: []string{`"date_posted":"2026-03-01T12:04:00Z"`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				_, got := f.get(t, "/api/users/{bob}/posts", nil)
				if total := got.(map[string]any)["total"]; total != 1.0 {
					t.Errorf("Bob's posts after Alice posted as him: total %v, want 1", total)
				}
			},
		},
		{
			name: "create a post with a 100-character title", method: "POST", path: "/api/posts", as: "alice",
			body:       `{"title":"` + strings.Repeat("字", 100) + `","content":"c"}`,
			wantStatus: http.StatusCreated,
		},
		{
			name: "create a post with a 101-character title", method: "POST", path: "/api/posts", as: "alice",
			body:       `{"title":"` + strings.Repeat("字", 101) + `","content":"c"}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("string_too_long", body("title"), "String should have at most 100 characters"),
		},
		{
			name: "create a post with 50,001 characters of content", method: "POST", path: "/api/posts", as: "alice",
			body:       `{"title":"t","content":"` + strings.Repeat("a", 50_001) + `"}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("string_too_long", body("content"), "String should have at most 50000 characters"),
		},
		{
			name: "create a post with 50,000 characters of content", method: "POST", path: "/api/posts", as: "alice",
			body:       `{"title":"t","content":"` + strings.Repeat("a", 50_000) + `"}`,
			wantStatus: http.StatusCreated,
		},
		{
			name: "create a post with only spaces", method: "POST", path: "/api/posts", as: "alice",
			body:       `{"title":"   ","content":"\u3000\t\n"}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problems(
				"string_too_short", body("title"), "String should not be only whitespace",
				"string_too_short", body("content"), "String should not be only whitespace"),
		},
		{
			name: "create a post with empty fields", method: "POST", path: "/api/posts", as: "alice",
			body:       `{"title":"","content":""}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problems(
				"string_too_short", body("title"), "String should have at least 1 character",
				"string_too_short", body("content"), "String should have at least 1 character"),
		},
		{
			name: "create a post without fields", method: "POST", path: "/api/posts", as: "alice", body: `{}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON: problems(
				"missing", body("title"), "Field required",
				"missing", body("content"), "Field required"),
		},
		{
			name: "create a post with NUL", method: "POST", path: "/api/posts", as: "alice",
			body:       `{"title":"a\u0000b","content":"c"}`,
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("string_type", body("title"), "Input should be a valid string without NUL bytes"),
		},
		{
			name: "create a post with invalid UTF-8", method: "POST", path: "/api/posts", as: "alice",
			body:       "{\"title\":\"t\",\"content\":\"\xc3\x28\"}",
			wantStatus: http.StatusUnprocessableEntity,
			wantJSON:   problem("json_invalid", []any{"body"}, "Request body is not valid UTF-8"),
		},
		{
			name: "create a post with malformed JSON", method: "POST", path: "/api/posts", as: "alice",
			body:       `{"title":"t","content":"c"`,
			wantStatus: http.StatusUnprocessableEntity, wantJSON: problem("json_invalid", []any{"body"}, "JSON decode error"),
		},
		{
			name: "create a post with a form", method: "POST", path: "/api/posts", as: "alice",
			body: form("title", "t", "content", "c"), headers: urlencoded,
			wantStatus: http.StatusUnsupportedMediaType,
			wantJSON:   `{"detail":"Unsupported media type","code":"unsupported_media_type"}`,
		},
		{
			name: "create a post over 1 MiB", method: "POST", path: "/api/posts", as: "alice", body: bigJSON,
			wantStatus: http.StatusRequestEntityTooLarge,
			wantJSON:   `{"detail":"Request body too large","code":"request_too_large"}`,
		},
		{
			name: "create a post without a token", method: "POST", path: "/api/posts",
			body:       `{"title":"t","content":"c"}`,
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
		{
			name: "create a post without a token and with malformed JSON", method: "POST", path: "/api/posts", body: `{`,
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn,
		},
		{
			name: "post", method: "GET", path: "/api/posts/{alice_post}",
			wantStatus: http.StatusOK, wantJSON: alicePost,
			wantContains: []string{`"date_posted":"2026-03-01T12:01:00Z"`},
		},
		{
			name: "post with a trailing slash", method: "GET", path: "/api/posts/{bob_post}/",
			wantStatus: http.StatusOK, wantJSON: bobPost,
		},
		{
			name: "missing post", method: "GET", path: "/api/posts/999",
			wantStatus: http.StatusNotFound, wantJSON: `{"detail":"Post not found","code":"post_not_found"}`,
		},
		{
			name: "replace own post", method: "PUT", path: "/api/posts/{alice_post}", as: "alice",
			body:       `{"title":"New title","content":"New content"}`,
			wantStatus: http.StatusOK,
			wantJSON:   `{"id":{alice_post},"title":"New title","content":"New content","user_id":{alice},"author_id":{alice},"date_posted":"<rfc3339>","author":{alice_public},"content_html":"<p>New content</p>\n"}`,
			// The date a post was written does not change with edits.
			wantContains: []string{`"date_posted":"2026-03-01T12:01:00Z"`},
			after: func(t *testing.T, f *fixture, body []byte) {
				_, got := f.get(t, "/api/posts/{alice_post}", nil)
				if diff := cmp.Diff(decodeBody(t, body), got); diff != "" {
					t.Errorf("GET after PUT differs from the PUT's answer (-put +get):\n%s", diff)
				}
			},
		},
		{
			name: "replace a post without content", method: "PUT", path: "/api/posts/{alice_post}", as: "alice",
			body:       `{"title":"New title"}`,
			wantStatus: http.StatusUnprocessableEntity, wantJSON: problem("missing", body("content"), "Field required"),
		},
		{
			name: "replace someone else's post", method: "PUT", path: "/api/posts/{bob_post}", as: "alice",
			body:       `{"title":"Mine now","content":"x"}`,
			wantStatus: http.StatusForbidden, wantJSON: `{"detail":"Not authorized to update this post","code":"forbidden"}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				_, got := f.get(t, "/api/posts/{bob_post}", nil)
				if diff := cmp.Diff(decodeBody(t, []byte(f.expand(bobPost))), normalise(got)); diff != "" {
					t.Errorf("Bob's post after Alice's PUT (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "replace a missing post", method: "PUT", path: "/api/posts/999", as: "alice",
			body:       `{"title":"t","content":"c"}`,
			wantStatus: http.StatusNotFound, wantJSON: `{"detail":"Post not found","code":"post_not_found"}`,
		},
		{
			name: "replace a post without a token", method: "PUT", path: "/api/posts/{alice_post}",
			body:       `{"title":"t","content":"c"}`,
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
		{
			name: "replace a post with a bad token", method: "PUT", path: "/api/posts/{alice_post}",
			headers:    map[string]string{"Authorization": "Bearer {alice_token}x"},
			body:       `{"title":"t","content":"c"}`,
			wantStatus: http.StatusUnauthorized, wantJSON: badToken, wantHeaders: wantBadToken,
		},
		{
			name: "edit the title of own post", method: "PATCH", path: "/api/posts/{alice_post}", as: "alice",
			body:       `{"title":"Retitled"}`,
			wantStatus: http.StatusOK,
			wantJSON:   `{"id":{alice_post},"title":"Retitled","content":"Hello from Alice.","user_id":{alice},"author_id":{alice},"date_posted":"<rfc3339>","author":{alice_public},"content_html":"<p>Hello from Alice.</p>\n"}`,
		},
		{
			name: "edit the content of own post", method: "PATCH", path: "/api/posts/{alice_post}/", as: "alice",
			body:       `{"content":"Edited."}`,
			wantStatus: http.StatusOK,
			wantJSON:   `{"id":{alice_post},"title":"Alice's first post","content":"Edited.","user_id":{alice},"author_id":{alice},"date_posted":"<rfc3339>","author":{alice_public},"content_html":"<p>Edited.</p>\n"}`,
		},
		{
			name: "edit a post with nothing", method: "PATCH", path: "/api/posts/{alice_post}", as: "alice", body: `{}`,
			wantStatus: http.StatusOK, wantJSON: alicePost,
		},
		{
			name: "edit a post with null", method: "PATCH", path: "/api/posts/{alice_post}", as: "alice",
			body:       `{"title":null}`,
			wantStatus: http.StatusUnprocessableEntity, wantJSON: problem("string_type", body("title"), "Input should be a valid string"),
		},
		{
			name: "edit a post's author", method: "PATCH", path: "/api/posts/{alice_post}", as: "alice",
			body:       `{"user_id":{bob},"author_id":{bob},"id":999}`,
			wantStatus: http.StatusOK, wantJSON: alicePost,
		},
		{
			name: "edit someone else's post", method: "PATCH", path: "/api/posts/{bob_post}", as: "alice",
			body:       `{"title":"Mine now"}`,
			wantStatus: http.StatusForbidden, wantJSON: `{"detail":"Not authorized to update this post","code":"forbidden"}`,
		},
		{
			name: "edit a missing post", method: "PATCH", path: "/api/posts/999", as: "alice", body: `{"title":"t"}`,
			wantStatus: http.StatusNotFound, wantJSON: `{"detail":"Post not found","code":"post_not_found"}`,
		},
		{
			name: "edit a post without a token", method: "PATCH", path: "/api/posts/{alice_post}", body: `{"title":"t"}`,
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
		{
			name: "delete own post", method: "DELETE", path: "/api/posts/{alice_post}", as: "alice",
			wantStatus: http.StatusNoContent,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.wantStatus(t, "GET", "/api/posts/{alice_post}", nil, http.StatusNotFound)
				f.wantStatus(t, "DELETE", "/api/posts/{alice_post}", f.as("alice"), http.StatusNotFound)
			},
		},
		{
			name: "delete someone else's post", method: "DELETE", path: "/api/posts/{bob_post}", as: "alice",
			wantStatus: http.StatusForbidden, wantJSON: `{"detail":"Not authorized to delete this post","code":"forbidden"}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.wantStatus(t, "GET", "/api/posts/{bob_post}", nil, http.StatusOK)
			},
		},
		{
			name: "delete a missing post", method: "DELETE", path: "/api/posts/999", as: "alice",
			wantStatus: http.StatusNotFound, wantJSON: `{"detail":"Post not found","code":"post_not_found"}`,
		},
		{
			name: "delete a post without a token", method: "DELETE", path: "/api/posts/{alice_post}",
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
	}...)

	// Refresh tokens, sessions, password change and reset (account_test.go);
	// verified addresses (verify_test.go).
	rows = append(rows, accountScenarios()...)
	rows = append(rows, verifyScenarios()...)

	// Profile pictures: PATCH and DELETE /api/users/{id}/picture, and
	// GET /media/profile_pics/{name} (see pictures_test.go).
	rows = append(rows, pictureRows()...)

	// Health, static files, unknown paths and methods.
	rows = append(rows, []apiScenario{
		{
			name: "health", method: "GET", path: "/health",
			wantStatus: http.StatusOK, wantJSON: `{"status":"ok"}`,
		},
		{
			name: "health with a trailing slash", method: "GET", path: "/health/",
			wantStatus: http.StatusOK, wantJSON: `{"status":"ok"}`,
		},
		{
			name: "the default avatar", method: "GET", path: defaultImage,
			wantStatus: http.StatusOK, wantHeaders: map[string]string{"Content-Type": "image/jpeg"},
			after: func(t *testing.T, f *fixture, body []byte) {
				if !bytes.HasPrefix(body, []byte{0xFF, 0xD8, 0xFF}) {
					t.Errorf("%s is not a JPEG: % x…", defaultImage, body[:min(len(body), 8)])
				}
			},
		},
		{
			name: "a missing static file", method: "GET", path: "/static/profile_pics/nope.jpg",
			wantStatus: http.StatusNotFound, wantHeaders: map[string]string{"Content-Type": "text/html; charset=utf-8"},
		},
		{
			name: "the static directory", method: "GET", path: "/static/",
			wantStatus:  http.StatusNotFound,
			wantHeaders: map[string]string{"Location": "", "Content-Type": "text/html; charset=utf-8"},
		},
		{
			name: "the static directory without a slash", method: "GET", path: "/static",
			wantStatus:  http.StatusNotFound,
			wantHeaders: map[string]string{"Location": "", "Content-Type": "text/html; charset=utf-8"},
		},
		{
			name: "a static directory", method: "GET", path: "/static/profile_pics/",
			wantStatus: http.StatusNotFound, wantHeaders: map[string]string{"Location": ""},
		},
		{
			name: "unknown API path", method: "GET", path: "/api/nope",
			wantStatus: http.StatusNotFound, wantJSON: notFound, wantHeaders: map[string]string{"Allow": ""},
		},
		{
			name: "unknown API path under a route", method: "GET", path: "/api/posts/1/comments",
			wantStatus: http.StatusNotFound, wantJSON: notFound,
		},
		{
			name: "the API root", method: "GET", path: "/api",
			wantStatus: http.StatusNotFound, wantJSON: notFound,
		},
		{
			name: "unknown API path, POST", method: "POST", path: "/api/nope", body: `{}`,
			wantStatus: http.StatusNotFound, wantJSON: notFound,
		},
		{
			name: "unknown page", method: "GET", path: "/nope",
			wantStatus: http.StatusNotFound, wantHeaders: map[string]string{"Content-Type": "text/html; charset=utf-8"},
		},
		{
			name: "wrong method on /api/posts", method: "DELETE", path: "/api/posts",
			wantStatus: http.StatusMethodNotAllowed, wantJSON: `{"detail":"Method Not Allowed","code":"method_not_allowed"}`,
			wantHeaders: map[string]string{"Allow": "GET, HEAD, POST"},
		},
		{
			name: "wrong method with a trailing slash", method: "PUT", path: "/api/users/",
			wantStatus: http.StatusMethodNotAllowed, wantJSON: `{"detail":"Method Not Allowed","code":"method_not_allowed"}`,
			wantHeaders: map[string]string{"Allow": "POST"},
		},
		{
			// Not taken by GET /api/users/{user_id}: "token" names a route
			// of its own, which has no GET.
			name: "wrong method on the token endpoint", method: "GET", path: "/api/users/token",
			wantStatus: http.StatusMethodNotAllowed, wantJSON: `{"detail":"Method Not Allowed","code":"method_not_allowed"}`,
			wantHeaders: map[string]string{"Allow": "POST"},
		},
		{
			name: "wrong method on logout", method: "GET", path: "/api/users/logout",
			wantStatus: http.StatusMethodNotAllowed, wantJSON: `{"detail":"Method Not Allowed","code":"method_not_allowed"}`,
			wantHeaders: map[string]string{"Allow": "POST"},
		},
		{
			name: "HEAD on the token endpoint", method: "HEAD", path: "/api/users/token",
			wantStatus: http.StatusMethodNotAllowed, wantHeaders: map[string]string{"Allow": "POST"},
		},
		{
			name: "PATCH on forgot-password", method: "PATCH", path: "/api/users/forgot-password", body: `{}`,
			wantStatus: http.StatusMethodNotAllowed, wantHeaders: map[string]string{"Allow": "POST"},
		},
		{
			name: "wrong method on me", method: "POST", path: "/api/users/me",
			wantStatus:  http.StatusMethodNotAllowed,
			wantHeaders: map[string]string{"Allow": "GET, HEAD"},
		},
		{
			name: "PATCH on me is not PATCH of a user", method: "PATCH", path: "/api/users/me", body: `{}`,
			wantStatus:  http.StatusMethodNotAllowed,
			wantHeaders: map[string]string{"Allow": "GET, HEAD"},
		},
		{
			name: "wrong method on a post", method: "POST", path: "/api/posts/{alice_post}",
			wantStatus:  http.StatusMethodNotAllowed,
			wantHeaders: map[string]string{"Allow": "GET, HEAD, PUT, PATCH, DELETE"},
		},
		{
			name: "wrong method on user posts", method: "POST", path: "/api/users/{alice}/posts", body: `{}`,
			wantStatus:  http.StatusMethodNotAllowed,
			wantHeaders: map[string]string{"Allow": "GET, HEAD"},
		},
		{
			name: "wrong method on health", method: "POST", path: "/health",
			wantStatus: http.StatusMethodNotAllowed, wantHeaders: map[string]string{"Allow": "GET, HEAD"},
		},
	}...)

	return rows
}

// sessionOf returns the id of the user's fixture session.
func (f *fixture) sessionOf(tb testing.TB, name string) string {
	tb.Helper()
	sessions, err := f.App.UserSessions(context.Background(), f.users[name].ID)
	if err != nil || len(sessions) == 0 {
		tb.Fatalf("Sessions(%s) = %v, %v", name, sessions, err)
	}
	return sessions[len(sessions)-1].ID // the oldest: the fixture's login
}

// TestLoginFailuresAreIdentical checks that a wrong password and an
// unknown account cannot be told apart by the response.
func TestLoginFailuresAreIdentical(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	attempt := func(username string) (*http.Response, []byte) {
		return f.do(t, "POST", "/api/users/token", form("username", username, "password", leakCanary),
			http.Header{"Content-Type": {formURL}})
	}
	for _, tc := range []struct{ known, unknown string }{
		{"Alice", "nobody"},
		{"alice@example.com", "nobody@example.com"},
	} {
		knownRes, knownBody := attempt(tc.known)
		unknownRes, unknownBody := attempt(tc.unknown)
		if knownRes.StatusCode != http.StatusUnauthorized {
			t.Errorf("wrong password for %q: status %d, want 401", tc.known, knownRes.StatusCode)
		}
		if knownRes.StatusCode != unknownRes.StatusCode || !bytes.Equal(knownBody, unknownBody) {
			t.Errorf("wrong password for %q = %d %q; unknown %q = %d %q; want identical",
				tc.known, knownRes.StatusCode, knownBody, tc.unknown, unknownRes.StatusCode, unknownBody)
		}
		strip := func(h http.Header) http.Header {
			h = h.Clone()
			h.Del("X-Request-Id")
			return h
		}
		if diff := cmp.Diff(strip(knownRes.Header), strip(unknownRes.Header)); diff != "" {
			t.Errorf("headers differ between a wrong password and an unknown account (-wrong +unknown):\n%s", diff)
		}
	}
}

// TestRequestIDs checks that every response carries a request id and that
// ids differ.
func TestRequestIDs(t *testing.T) {
	ts := newTestServer(t)
	var ids []string
	for range 3 {
		res, _ := ts.do(t, "GET", "/health", "", nil)
		id := res.Header.Get("X-Request-Id")
		if id == "" || slices.Contains(ids, id) {
			t.Fatalf("X-Request-Id = %q after %q, want a new non-empty id", id, ids)
		}
		ids = append(ids, id)
	}
}

// TestDatabaseDown checks the only 5xx answers there are: /health says
// the database is unavailable, and other requests get a 500 that says
// nothing internal while the log says what happened.
func TestDatabaseDown(t *testing.T) {
	ts := newTestServer(t)
	ts.CloseDatabase()
	res, body := ts.do(t, "GET", "/health", "", nil)
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET /health with the database closed = %d %s, want 503", res.StatusCode, body)
	}
	want := map[string]any{"detail": "Database unavailable", "code": "database_unavailable"}
	if diff := cmp.Diff(want, decodeBody(t, body)); diff != "" {
		t.Errorf("GET /health body (-want +got):\n%s", diff)
	}
	if got := res.Header.Get("Retry-After"); got == "" {
		t.Errorf("GET /health with the database closed: no Retry-After")
	}

	res, body = ts.do(t, "GET", "/api/posts", "", nil)
	if res.StatusCode != http.StatusInternalServerError {
		t.Errorf("GET /api/posts with the database closed = %d %s, want 500", res.StatusCode, body)
	}
	want = map[string]any{"detail": "Internal server error", "code": "internal_error"}
	if diff := cmp.Diff(want, decodeBody(t, body)); diff != "" {
		t.Errorf("GET /api/posts body with the database closed (-want +got):\n%s", diff)
	}
	id := res.Header.Get("X-Request-Id")
	if logs := ts.logs.String(); !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "request_id="+id) {
		t.Errorf("the 500 was not logged as an error with request id %q:\n%s", id, logs)
	}
}

// TestConcurrentRegistration checks that when registrations of one name
// race, one wins and every other gets the 400 of a taken name, also when
// the race is lost inside the database.
func TestConcurrentRegistration(t *testing.T) {
	ts := newTestServer(t)
	names := []string{"Dave", "dave", "DAVE", "Ｄａｖｅ", "dAvE", "ｄａｖｅ", "DaVe", "davE"}
	statuses := make([]int, len(names))
	bodies := make([]string, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			res, body := ts.do(t, "POST", "/api/users", fmt.Sprintf(
				`{"username":%q,"email":"dave%d@example.com","password":"a-long-passphrase-4"}`, name, i), nil)
			statuses[i], bodies[i] = res.StatusCode, string(body)
		})
	}
	wg.Wait()
	won := 0
	for i, status := range statuses {
		switch {
		case status == http.StatusCreated:
			won++
		case status == http.StatusBadRequest && strings.Contains(bodies[i], `"code":"username_taken"`):
		default:
			t.Errorf("register %q = %d %s, want 201 or 400 username_taken", names[i], status, bodies[i])
		}
	}
	if won != 1 {
		t.Errorf("%d of %d registrations of one name succeeded, want 1", won, len(names))
	}
}
