package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/passkey"
	"github.com/quill-blog/quill/internal/passkey/passkeytest"
	"github.com/quill-blog/quill/internal/quilltest"
)

// The passkey routes of the API, with a software authenticator
// (passkeytest) in the browser's place.

// ceremony is the first step of a passkey ceremony, as the API answers it.
type ceremony struct {
	CeremonyID string          `json:"ceremony_id"`
	Options    json.RawMessage `json:"options"`
	ExpiresAt  string          `json:"expires_at"`
}

// post sends a JSON body and decodes a JSON answer into out, failing
// unless the status is want.
func (f *fixture) post(tb testing.TB, path, body string, header http.Header, want int, out any) {
	tb.Helper()
	res, got := f.do(tb, "POST", f.expand(path), body, header)
	if res.StatusCode != want {
		tb.Fatalf("POST %s = %d %s, want %d", path, res.StatusCode, got, want)
	}
	if out != nil {
		if err := json.Unmarshal(got, out); err != nil {
			tb.Fatalf("POST %s: %v\n%s", path, err, got)
		}
	}
}

// addPasskey adds a passkey made by a new authenticator to the fixture
// user's account through the API, and returns the authenticator and the
// passkey's id.
func (f *fixture) addPasskey(tb testing.TB, user string) (*passkeytest.Authenticator, int64) {
	tb.Helper()
	auth := passkeytest.New(testPublicURL)
	var c ceremony
	f.post(tb, "/api/users/me/passkeys/registration", mustJSON(tb, map[string]string{"current_password": f.users[user].Password}),
		f.as(user), http.StatusOK, &c)
	res, err := auth.Create(c.Options)
	if err != nil {
		tb.Fatalf("the authenticator refused the options: %v\n%s", err, c.Options)
	}
	var p struct{ ID int64 }
	f.post(tb, "/api/users/me/passkeys", fmt.Sprintf(`{"ceremony_id":%q,"credential":%s}`, c.CeremonyID, res), f.as(user), http.StatusCreated, &p)
	return auth, p.ID
}

// passkeyAnswer begins a login naming username ("" for none) and returns
// the ceremony id and auth's answer.
func (f *fixture) passkeyAnswer(tb testing.TB, auth *passkeytest.Authenticator, username string) (string, string) {
	tb.Helper()
	body := ""
	if username != "" {
		body = mustJSON(tb, map[string]string{"username": username})
	}
	var c ceremony
	f.post(tb, "/api/users/passkey-login", body, nil, http.StatusOK, &c)
	res, err := auth.Get(c.Options)
	if err != nil {
		tb.Fatalf("the authenticator refused the options: %v\n%s", err, c.Options)
	}
	return c.CeremonyID, string(res)
}

// withPasskey is a setup that gives Alice a passkey ({alice_passkey}) and
// begins a login answered by it ({login_ceremony}, {login_answer}).
func withPasskey(tb testing.TB, f *fixture) {
	auth, id := f.addPasskey(tb, "alice")
	f.set("alice_passkey", fmt.Sprint(id))
	c, answer := f.passkeyAnswer(tb, auth, "")
	f.set("login_ceremony", c)
	f.set("login_answer", answer)
}

// aCeremony is a ceremony id of the right form that no ceremony has.
const aCeremony = "AAAAAAAAAAAAAAAAAAAAAA"

func TestAPIPasskeys(t *testing.T) {
	for _, db := range testDBs() {
		t.Run(db.Name, func(t *testing.T) {
			for _, sc := range passkeyScenarios() {
				t.Run(sc.method+" "+sc.name, func(t *testing.T) {
					t.Parallel()
					sc.run(t, newFixture(t, db))
				})
			}
		})
	}
}

func passkeyScenarios() []apiScenario {
	passkeyRefused := `{"detail":"The passkey was not accepted","code":"passkey_refused"}`
	ceremonyInvalid := `{"detail":"This passkey request has expired or was already used; start again","code":"passkey_ceremony_invalid"}`
	return []apiScenario{
		{name: "list, none", method: "GET", path: "/api/users/me/passkeys", as: "alice", wantStatus: 200, wantJSON: `[]`},
		{name: "list, not logged in", method: "GET", path: "/api/users/me/passkeys", wantStatus: 401, wantJSON: notAuthn, wantHeaders: wantNotAuthn},
		{
			name: "list", method: "GET", path: "/api/users/me/passkeys", as: "alice", setup: withPasskey, wantStatus: 200,
			after: func(t *testing.T, f *fixture, body []byte) {
				var keys []map[string]any
				if err := json.Unmarshal(body, &keys); err != nil || len(keys) != 1 {
					t.Fatalf("GET /api/users/me/passkeys = %s, want one passkey", body)
				}
				k := keys[0]
				if fmt.Sprint(k["id"]) != f.vars["alice_passkey"] || k["name"] != "Passkey 1" || k["provider"] != nil ||
					k["synced"] != false || k["last_used_at"] != nil || len(k["credential_id"].(string)) != 43 {
					t.Errorf("the passkey is %v", k)
				}
				if _, ok := k["public_key"]; ok {
					t.Error("the list shows the public key")
				}
			},
		},
		{name: "list, someone else's are not shown", method: "GET", path: "/api/users/me/passkeys", as: "bob", setup: withPasskey, wantStatus: 200, wantJSON: `[]`},
		{
			name: "begin adding", method: "POST", path: "/api/users/me/passkeys/registration", as: "alice",
			body: `{"current_password":"` + alicePassword + `"}`, wantStatus: 200,
			wantHeaders: map[string]string{"Cache-Control": "no-store"},
			after: func(t *testing.T, f *fixture, body []byte) {
				var c struct {
					CeremonyID string `json:"ceremony_id"`
					Options    struct {
						RP        struct{ ID, Name string }
						User      struct{ ID, Name string }
						Challenge string
						Selection struct {
							ResidentKey      string
							UserVerification string
						} `json:"authenticatorSelection"`
						Attestation string
					}
				}
				if err := json.Unmarshal(body, &c); err != nil {
					t.Fatal(err)
				}
				o := c.Options
				if len(c.CeremonyID) != 22 || o.RP.ID != "quill.test" || o.RP.Name != "quill" || o.User.Name != "Alice" ||
					len(o.User.ID) != 43 || len(o.Challenge) != 43 || o.Selection.ResidentKey != "required" ||
					o.Selection.UserVerification != "required" || o.Attestation != "none" {
					t.Errorf("the registration options are %s", body)
				}
			},
		},
		{
			name: "begin adding, wrong password", method: "POST", path: "/api/users/me/passkeys/registration", as: "alice",
			body: `{"current_password":"` + leakCanary + `"}`, wantStatus: 400,
			wantJSON: `{"detail":"Current password is incorrect","code":"wrong_password"}`,
		},
		{
			name: "begin adding, no password", method: "POST", path: "/api/users/me/passkeys/registration", as: "alice", body: `{}`,
			wantStatus: 422, wantJSON: problem("missing", []any{"body", "current_password"}, "Field required"),
		},
		{
			name: "begin adding, not logged in", method: "POST", path: "/api/users/me/passkeys/registration",
			body: `{"current_password":"x"}`, wantStatus: 401, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
		{
			name: "finish adding, an unknown ceremony", method: "POST", path: "/api/users/me/passkeys", as: "alice",
			body: `{"ceremony_id":"` + aCeremony + `","credential":{"id":"x"}}`, wantStatus: 400, wantJSON: ceremonyInvalid,
		},
		{
			name: "finish adding, fields missing or of the wrong type", method: "POST", path: "/api/users/me/passkeys", as: "alice",
			body: `{"ceremony_id":7,"credential":"{}","name":false}`, wantStatus: 422,
			wantJSON: problems(
				"string_type", []any{"body", "ceremony_id"}, "Input should be a valid string",
				"model_attributes_type", []any{"body", "credential"}, "Input should be a valid dictionary or object of at most 64 KiB",
				"string_type", []any{"body", "name"}, "Input should be a valid string"),
		},
		{
			name: "finish adding, a name too long", method: "POST", path: "/api/users/me/passkeys", as: "alice",
			body: `{"ceremony_id":"` + aCeremony + `","credential":{},"name":"` + strings.Repeat("x", 65) + `"}`, wantStatus: 422,
			wantJSON: problem("string_too_long", []any{"body", "name"}, "String should have at most 64 characters"),
		},
		{
			name: "rename", method: "PATCH", path: "/api/users/me/passkeys/{alice_passkey}", as: "alice", setup: withPasskey,
			body: `{"name":" My phone "}`, wantStatus: 200, wantContains: []string{`"name":"My phone"`, `"id":{alice_passkey}`},
		},
		{
			name: "rename someone else's", method: "PATCH", path: "/api/users/me/passkeys/{alice_passkey}", as: "bob", setup: withPasskey,
			body: `{"name":"mine"}`, wantStatus: 404, wantJSON: `{"detail":"Passkey not found","code":"passkey_not_found"}`,
		},
		{
			name: "rename, blank", method: "PATCH", path: "/api/users/me/passkeys/{alice_passkey}", as: "alice", setup: withPasskey,
			body: `{"name":" "}`, wantStatus: 422, wantJSON: problem("string_too_short", []any{"body", "name"}, "String should have at least 1 character"),
		},
		{
			name: "rename, not an id", method: "PATCH", path: "/api/users/me/passkeys/x", as: "alice",
			body: `{"name":"a"}`, wantStatus: 422, wantJSON: problem("int_parsing", []any{"path", "passkey_id"}, "Input should be a valid integer"),
		},
		{
			name: "remove", method: "DELETE", path: "/api/users/me/passkeys/{alice_passkey}", as: "alice", setup: withPasskey, wantStatus: 204,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.wantStatus(t, "DELETE", "/api/users/me/passkeys/{alice_passkey}", f.as("alice"), 404)
				res, body := f.do(t, "POST", "/api/users/passkey-login/finish",
					f.expand(`{"ceremony_id":"{login_ceremony}","credential":{login_answer}}`), nil)
				if res.StatusCode != 401 {
					t.Errorf("a login with the removed passkey = %d %s, want 401", res.StatusCode, body)
				}
			},
		},
		{
			name: "remove someone else's", method: "DELETE", path: "/api/users/me/passkeys/{alice_passkey}", as: "bob", setup: withPasskey,
			wantStatus: 404, wantJSON: `{"detail":"Passkey not found","code":"passkey_not_found"}`,
		},
		{
			name: "begin a login, no body", method: "POST", path: "/api/users/passkey-login", wantStatus: 200,
			wantHeaders: map[string]string{"Cache-Control": "no-store"},
			after: func(t *testing.T, f *fixture, body []byte) {
				var c struct{ Options map[string]any }
				if err := json.Unmarshal(body, &c); err != nil || c.Options["rpId"] != "quill.test" ||
					c.Options["userVerification"] != "required" || c.Options["allowCredentials"] != nil {
					t.Errorf("the login options are %s, want a discoverable login", body)
				}
			},
		},
		{
			name: "begin a login, naming an account", method: "POST", path: "/api/users/passkey-login", setup: withPasskey,
			body: `{"username":"alice@example.com"}`, wantStatus: 200, wantContains: []string{`"allowCredentials":[{"type":"public-key","id":"`},
		},
		{
			name: "begin a login, naming nobody", method: "POST", path: "/api/users/passkey-login",
			body: `{"username":"nobody"}`, wantStatus: 200, wantContains: []string{`"allowCredentials":[{"type":"public-key","id":"`},
		},
		{
			name: "begin a login, a name that is not text", method: "POST", path: "/api/users/passkey-login",
			body: `{"username":["alice"]}`, wantStatus: 422, wantJSON: problem("string_type", []any{"body", "username"}, "Input should be a valid string"),
		},
		{
			name: "log in", method: "POST", path: "/api/users/passkey-login/finish", setup: withPasskey,
			body: `{"ceremony_id":"{login_ceremony}","credential":{login_answer}}`, wantStatus: 200,
			wantJSON:    `{"access_token":"<token>","token_type":"bearer","expires_in":1800,"refresh_token":"<token>"}`,
			wantHeaders: map[string]string{"Cache-Control": "no-store"},
			after: func(t *testing.T, f *fixture, body []byte) {
				var tok tokenPair
				if err := json.Unmarshal(body, &tok); err != nil {
					t.Fatal(err)
				}
				if code, me := f.get(t, "/api/users/me", bearer(tok.AccessToken)); code != 200 || me.(map[string]any)["username"] != "Alice" {
					t.Errorf("GET /api/users/me with the passkey login's token = %d %v, want Alice", code, me)
				}
				// The same answer again: the ceremony is used up.
				res, got := f.do(t, "POST", "/api/users/passkey-login/finish", f.expand(`{"ceremony_id":"{login_ceremony}","credential":{login_answer}}`), nil)
				if res.StatusCode != 400 {
					t.Errorf("the same answer again = %d %s, want 400", res.StatusCode, got)
				}
			},
		},
		{
			name: "log in, an answer that does not verify", method: "POST", path: "/api/users/passkey-login/finish", setup: withPasskey,
			body:       `{"ceremony_id":"{login_ceremony}","credential":{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}}`,
			wantStatus: 401, wantJSON: passkeyRefused, wantHeaders: wantNotAuthn,
		},
		{
			name: "log in, an unknown ceremony", method: "POST", path: "/api/users/passkey-login/finish",
			body: `{"ceremony_id":"` + aCeremony + `","credential":{}}`, wantStatus: 400, wantJSON: ceremonyInvalid,
		},
		{
			name: "log in, no fields", method: "POST", path: "/api/users/passkey-login/finish", body: `{}`, wantStatus: 422,
			wantJSON: problems("missing", []any{"body", "ceremony_id"}, "Field required", "missing", []any{"body", "credential"}, "Field required"),
		},
		{name: "begin a login with GET", method: "GET", path: "/api/users/passkey-login", wantStatus: 405, wantHeaders: map[string]string{"Allow": "POST"}},
	}
}

// TestPasskeyLoginsShareTheLoginAllowance checks that a passkey login
// counts against the client's allowance of logins as a password login
// does, and that an account throttled for wrong passwords still logs in
// with its passkey, which clears the count.
func TestPasskeyLoginsShareTheLoginAllowance(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	auth, _ := f.addPasskey(t, "alice")
	for range 5 {
		f.tryLogin(t, "Alice", "wrong")
	}
	if code := f.tryLogin(t, "Alice", alicePassword); code != 429 {
		t.Fatalf("a login after five failures = %d, want 429", code)
	}
	c, answer := f.passkeyAnswer(t, auth, "alice")
	f.post(t, "/api/users/passkey-login/finish", fmt.Sprintf(`{"ceremony_id":%q,"credential":%s}`, c, answer), nil, 200, nil)
	if code := f.tryLogin(t, "Alice", alicePassword); code != 200 {
		t.Errorf("a password login after the passkey login = %d, want 200: the count is cleared", code)
	}
	// Fill the rest of the minute's allowance with passkey logins.
	for i := 0; ; i++ {
		res, _ := f.do(t, "POST", "/api/users/passkey-login", "", nil)
		if res.StatusCode == 429 {
			break
		}
		if res.StatusCode != 200 || i == 60 {
			t.Fatalf("passkey login %d: POST /api/users/passkey-login = %d, want 200 and, within 60, 429", i, res.StatusCode)
		}
	}
	if code := f.tryLogin(t, "bob", bobPassword); code != 429 {
		t.Errorf("a password login once passkey logins used the allowance = %d, want 429", code)
	}
}

// TestPagePasskeys follows what web/static/js/passkeys.js does on the
// account and login pages, with a visitor and a software authenticator.
func TestPagePasskeys(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	srv := pageServer(t, f)
	v := newVisitor(t, f, srv)
	v.login("Alice", alicePassword)
	_, page := v.get("/account")
	wantContains(t, "the account page", page, `<section id="passkeys"`, "You have no passkey yet.", `src="/static/js/passkeys.js?v=`,
		`<button type="submit">Add a passkey</button>`)

	// Without the script the form has no answer in it.
	token := v.csrf("/account")
	res, body := v.post("/account/passkeys", url.Values{"csrf_token": {token}, "current_password": {alicePassword}, "name": {"Phone"}})
	wantStatus(t, "adding a passkey without the script", res, http.StatusBadRequest)
	wantContains(t, "the page", body, "adding one needs JavaScript", `value="Phone"`)

	// The options need the password and the form's token.
	res, body = v.post("/account/passkeys/options", url.Values{"csrf_token": {token}, "current_password": {"wrong"}})
	if res.StatusCode != 400 || !strings.Contains(body, `"code":"wrong_password"`) {
		t.Errorf("options with a wrong password = %d %s, want 400 wrong_password", res.StatusCode, body)
	}
	res, _ = v.post("/account/passkeys/options", url.Values{"current_password": {alicePassword}})
	wantStatus(t, "options without the CSRF token", res, http.StatusForbidden)
	res, body = v.post("/account/passkeys/options", url.Values{"csrf_token": {token}, "current_password": {alicePassword}})
	var c ceremony
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" || json.Unmarshal([]byte(body), &c) != nil {
		t.Fatalf("options = %d %s", res.StatusCode, body)
	}
	auth := passkeytest.New(testPublicURL)
	answer, err := auth.Create(c.Options)
	if err != nil {
		t.Fatal(err)
	}
	res, _ = v.post("/account/passkeys", url.Values{"csrf_token": {token}, "ceremony_id": {c.CeremonyID}, "credential": {string(answer)}, "name": {""}})
	wantRedirect(t, "adding a passkey", res, "/account#passkeys")
	_, page = v.get("/account")
	wantContains(t, "the account page", page, "Your passkey is added", `<strong class="passkey-name">Passkey 1</strong>`, "never used")
	id := regexp.MustCompile(`action="/account/passkeys/(\d+)/rename#passkeys"`).FindStringSubmatch(page)
	if id == nil {
		t.Fatalf("no rename form on the account page:\n%s", page)
	}

	// Renaming: a bad name shows on the page; a good one is saved.
	res, body = v.post("/account/passkeys/"+id[1]+"/rename", url.Values{"csrf_token": {token}, "name": {" "}})
	wantStatus(t, "renaming to a blank", res, http.StatusUnprocessableEntity)
	wantContains(t, "the page", body, "Give the passkey a name.")
	res, _ = v.post("/account/passkeys/"+id[1]+"/rename", url.Values{"csrf_token": {token}, "name": {"My phone"}})
	wantRedirect(t, "renaming", res, "/account#passkeys")
	res, _ = v.post("/account/passkeys/x/rename", url.Values{"csrf_token": {token}, "name": {"x"}})
	wantStatus(t, "renaming passkey x", res, http.StatusNotFound)

	// Logging in with it, from another browser, without a name and with one.
	for _, name := range []string{"", "Alice"} {
		other := newVisitor(t, f, srv)
		_, login := other.get("/login?next=/account")
		wantContains(t, "the login page", login, `id="passkey-login"`, "Log in with a passkey")
		loginToken := other.csrf("/login")
		res, body := other.post("/login/passkey/options", url.Values{"csrf_token": {loginToken}, "username": {name}})
		var lc ceremony
		if res.StatusCode != 200 || json.Unmarshal([]byte(body), &lc) != nil {
			t.Fatalf("login options = %d %s", res.StatusCode, body)
		}
		answer, err := auth.Get(lc.Options)
		if err != nil {
			t.Fatal(err)
		}
		res, _ = other.post("/login/passkey", url.Values{"csrf_token": {loginToken}, "ceremony_id": {lc.CeremonyID},
			"credential": {string(answer)}, "next": {"/account"}})
		wantRedirect(t, "logging in with a passkey naming "+name, res, "/account")
		if res, _ := other.get("/account"); res.StatusCode != 200 {
			t.Errorf("the account page after a passkey login = %d, want 200", res.StatusCode)
		}
		// The answer again: the ceremony is used up.
		res, body = other.post("/login/passkey", url.Values{"csrf_token": {loginToken}, "ceremony_id": {lc.CeremonyID},
			"credential": {string(answer)}})
		wantStatus(t, "the same answer again", res, http.StatusBadRequest)
		wantContains(t, "the login page", body, "This passkey request has expired or was already used. Start again.")
	}
	_, page = v.get("/account")
	wantContains(t, "the account page", page, "My phone", "last used")

	// Removing it: a login with it is refused on the login page.
	res, _ = v.post("/account/passkeys/"+id[1]+"/delete", url.Values{"csrf_token": {token}})
	wantRedirect(t, "removing", res, "/account#passkeys")
	other := newVisitor(t, f, srv)
	loginToken := other.csrf("/login")
	_, body = other.post("/login/passkey/options", url.Values{"csrf_token": {loginToken}})
	var lc ceremony
	if err := json.Unmarshal([]byte(body), &lc); err != nil {
		t.Fatal(err)
	}
	answer, _ = auth.Get(lc.Options)
	res, body = other.post("/login/passkey", url.Values{"csrf_token": {loginToken}, "ceremony_id": {lc.CeremonyID}, "credential": {string(answer)}})
	wantStatus(t, "logging in with a removed passkey", res, http.StatusUnauthorized)
	wantContains(t, "the login page", body, "That passkey was not accepted")
	res, _ = v.post("/account/passkeys/"+id[1]+"/delete", url.Values{"csrf_token": {token}})
	wantStatus(t, "removing it again", res, http.StatusNotFound)

	// Only when an origin needs it is there a related origins document.
	res, _ = v.get("/.well-known/webauthn")
	wantStatus(t, "GET /.well-known/webauthn", res, http.StatusNotFound)
}

func TestPageRelatedOrigins(t *testing.T) {
	f := newFixture(t, testDBs()[0], quilltest.Options{App: func(c *app.Config) {
		c.Passkeys = passkey.Config{ID: "quill.test", Origins: []string{"http://quill.test", "https://quill.example"}}
	}})
	v := newVisitor(t, f, pageServer(t, f))
	res, body := v.get("/.well-known/webauthn")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" ||
		body != `{"origins":["http://quill.test","https://quill.example"]}` {
		t.Errorf("GET /.well-known/webauthn = %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}

func TestPagesWithoutPasskeys(t *testing.T) {
	f := newFixture(t, testDBs()[0], quilltest.Options{App: func(c *app.Config) { c.PublicURL = "http://192.0.2.7:8000" }})
	v := newVisitor(t, f, pageServer(t, f))
	_, login := v.get("/login")
	if strings.Contains(login, "passkey") {
		t.Errorf("the login page offers passkeys where they cannot work:\n%s", login)
	}
	v.login("Alice", alicePassword)
	_, page := v.get("/account")
	if strings.Contains(page, `id="passkeys"`) {
		t.Errorf("the account page offers passkeys where they cannot work:\n%s", page)
	}
}
