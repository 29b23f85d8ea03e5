package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	pathpkg "path"
	"strings"
	"testing"
)

// TestMalformedRequests sends requests no client should send: each must
// get a clear 4xx with a JSON error body and change nothing. (The HTTP
// layer's own limits, on headers and on slow clients, are tested against
// the real binary in cmd/quill.)
func TestMalformedRequests(t *testing.T) {
	const mib = 1 << 20
	validRegister := `{"username":"carol","email":"carol@example.com","password":"a-long-passphrase-4"}`
	tests := []struct {
		name, method, path, contentType, body string
		as                                    string // "alice" sends her token
		want                                  int
	}{
		{"truncated JSON", "POST", "/api/users", "application/json", validRegister[:40], "", 422},
		{"empty JSON body", "POST", "/api/users", "application/json", "", "", 422},
		{"JSON array", "POST", "/api/users", "application/json", `[1,2,3]`, "", 422},
		{"JSON string", "POST", "/api/users", "application/json", `"x"`, "", 422},
		{"JSON null", "POST", "/api/users", "application/json", `null`, "", 422},
		{"two JSON objects", "POST", "/api/users", "application/json", validRegister + validRegister, "", 422},
		{"invalid UTF-8 in JSON", "POST", "/api/users", "application/json", `{"username":"caro` + "\xff" + `l","email":"carol@example.com","password":"a-long-passphrase-4"}`, "", 422},
		{"invalid UTF-8 outside strings", "POST", "/api/users", "application/json", "\xfe\xff" + validRegister, "", 422},
		{"UTF-16 body", "POST", "/api/users", "application/json", "\xff\xfe{\x00}\x00", "", 422},
		{"escaped NUL in JSON", "POST", "/api/users", "application/json", `{"username":"car\u0000ol","email":"carol@example.com","password":"a-long-passphrase-4"}`, "", 422},
		{"raw NUL in JSON", "POST", "/api/users", "application/json", "{\"username\":\"car\x00ol\"}", "", 422},
		{"lone surrogate escape", "POST", "/api/posts", "application/json", `{"title":"\ud800","content":"x"}`, "alice", 201},
		{"deeply nested JSON", "POST", "/api/users", "application/json", strings.Repeat("[", 100000) + strings.Repeat("]", 100000), "", 422},
		{"deeply nested field", "POST", "/api/posts", "application/json", `{"title":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `,"content":"x"}`, "alice", 422},
		{"huge number", "POST", "/api/posts", "application/json", `{"title":1e999999,"content":"x"}`, "alice", 422},
		{"wrong type", "POST", "/api/posts", "application/json", `{"title":{"$gt":""},"content":["x"]}`, "alice", 422},
		{"JSON too large", "POST", "/api/users", "application/json", `{"username":"` + strings.Repeat("a", mib) + `"}`, "", 413},
		{"JSON as text/plain", "POST", "/api/users", "text/plain", validRegister, "", 415},
		{"JSON as a form", "POST", "/api/users", "application/x-www-form-urlencoded", validRegister, "", 415},
		{"JSON with a broken content type", "POST", "/api/users", "application/json; charset", validRegister, "", 415},
		{"JSON as XML", "POST", "/api/posts", "application/xml", `<post/>`, "alice", 415},
		{"form as JSON", "POST", "/api/users/token", "application/json", `{"username":"alice","password":"x"}`, "", 415},
		{"form as text/plain", "POST", "/api/users/token", "text/plain", "username=alice&password=x", "", 415},
		{"form with invalid UTF-8", "POST", "/api/users/token", "application/x-www-form-urlencoded", "username=al%FFice&password=a-long-passphrase-4", "", 422},
		{"form with NUL", "POST", "/api/users/token", "application/x-www-form-urlencoded", "username=alice%00&password=a-long-passphrase-4", "", 422},
		{"form with a bad escape", "POST", "/api/users/token", "application/x-www-form-urlencoded", "username=%zz&password=x", "", 422},
		{"form too large", "POST", "/api/users/token", "application/x-www-form-urlencoded", "username=alice&password=" + strings.Repeat("a", mib), "", 413},
		{"multipart without boundary", "POST", "/api/users/token", "multipart/form-data", "--x\r\n", "", 422},
		{"truncated multipart", "POST", "/api/users/token", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice", "", 422},
		{"multipart too large", "POST", "/api/users/token", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n" + strings.Repeat("a", mib) + "\r\n--x--\r\n", "", 413},
		{"path id overflows int64", "GET", "/api/posts/9223372036854775808", "", "", "", 422},
		{"path id negative", "GET", "/api/posts/-1", "", "", "", 422},
		{"path id zero", "GET", "/api/users/0", "", "", "", 422},
		{"path id hex", "GET", "/api/posts/0x10", "", "", "", 422},
		{"path id with NUL", "GET", "/api/posts/1%00", "", "", "", 422},
		{"path id in Arabic digits", "GET", "/api/posts/%D9%A1", "", "", "", 422},
		{"cursor garbage", "GET", "/api/posts?cursor=%FF%00", "", "", "", 422},
		{"cursor too long", "GET", "/api/posts?cursor=" + strings.Repeat("A", 10000), "", "", "", 422},
		{"skip overflows", "GET", "/api/posts?skip=99999999999999999999", "", "", "", 422},
		{"limit with NUL", "GET", "/api/posts?limit=1%00", "", "", "", 422},
		{"query with invalid UTF-8", "GET", "/api/posts?skip=%FF", "", "", "", 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, testDBs()[0], noLimits)
			header := http.Header{"Content-Type": {tt.contentType}}
			if tt.as != "" {
				header = f.as(tt.as)
				header.Set("Content-Type", tt.contentType)
			}
			before := snapshot(t, f)
			res, body := f.do(t, tt.method, tt.path, tt.body, header)
			if res.StatusCode != tt.want {
				t.Errorf("%s %s (%s) = %d, want %d; body %.300s", tt.method, tt.path, tt.name, res.StatusCode, tt.want, body)
			}
			checkInvariants(t, f, tt.method, tt.path, tt.as != "", res, body)
			if tt.want >= 400 {
				if after := snapshot(t, f); after != before {
					t.Errorf("%s %s (%s) changed the data:\nbefore %s\nafter  %s", tt.method, tt.path, tt.name, before, after)
				}
			}
		})
	}
}

// snapshot is what the API shows of the fixture's data: the users and the
// posts.
func snapshot(t *testing.T, f *fixture) string {
	t.Helper()
	var b bytes.Buffer
	for _, path := range []string{"/api/posts?limit=100", "/api/users/{alice}", "/api/users/{bob}", "/api/users/3"} {
		res, body := f.do(t, "GET", f.expand(path), "", nil)
		b.WriteString(res.Status)
		b.Write(body)
	}
	return b.String()
}

// FuzzJSONBody sends arbitrary bodies to the routes that read JSON. Nothing
// may cause a 500 or a panic, and every error is JSON with a code.
func FuzzJSONBody(f *testing.F) {
	routes := []struct{ method, path, as string }{
		{"POST", "/api/users", ""},
		{"POST", "/api/posts", "alice"},
		{"PUT", "/api/posts/{alice_post}", "alice"},
		{"PATCH", "/api/posts/{alice_post}", "alice"},
		{"PATCH", "/api/users/{alice}", "alice"},
		{"PUT", "/api/users/{alice}", "alice"},
		{"POST", "/api/users/me/passkeys/registration", "alice"},
		{"POST", "/api/users/me/passkeys", "alice"},
		{"PATCH", "/api/users/me/passkeys/1", "alice"},
		{"POST", "/api/users/passkey-login", ""},
		{"POST", "/api/users/passkey-login/finish", ""},
		{"POST", "/api/users/me/totp/confirm", "alice"},
		{"DELETE", "/api/users/me/totp", "alice"},
	}
	for i, seed := range []string{
		`{"username":"carol","email":"carol@example.com","password":"a-long-passphrase-4"}`,
		`{"title":"t","content":"c"}`,
		`{"title":null}`,
		`{"username":"ａｌｉｃｅ"}`,
		`{"email":"x@y.z","current_password":"` + alicePassword + `"}`,
		`{"username":"Alice","email":"alice@example.com","password":"another-passphrase-5","current_password":"` + alicePassword + `"}`,
		`{"title":"\ud800\udc00","content":"\u0000"}`,
		`{"current_password":"` + alicePassword + `","code":"123456"}`,
		`{"current_password":"` + alicePassword + `","code":"abcd-efgh-ijkl-mnop-qrst-uvwx"}`,
		`{"a":1e400}`,
		`[`,
		`{"current_password":"` + alicePassword + `"}`,
		`{"ceremony_id":"AAAAAAAAAAAAAAAAAAAAAA","credential":{"id":"AA","response":{}},"name":"Phone"}`,
		`{"name":"\u0007"}`,
		`{"username":"Alice"}`,
		`{"ceremony_id":"AAAAAAAAAAAAAAAAAAAAAA","credential":{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":""}}}`,
	} {
		f.Add(uint8(i), []byte(seed))
	}
	fx := newFixture(f, testDBs()[0], noLimits)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := routes[int(route)%len(routes)]
		header := http.Header{"Content-Type": {"application/json"}}
		if r.as != "" {
			header = fx.as(r.as)
			header.Set("Content-Type", "application/json")
		}
		path := fx.expand(r.path)
		res, got := fx.do(t, r.method, path, string(body), header)
		checkFuzzReply(t, r.method+" "+path, res, got)
	})
}

// FuzzTokenForm sends arbitrary form bodies, urlencoded or multipart, to
// the token endpoint.
func FuzzTokenForm(f *testing.F) {
	mp, mpType := multipartForm("username", "Alice", "password", alicePassword)
	f.Add(formURL, "username=Alice&password="+url.QueryEscape(alicePassword))
	f.Add(formURL, "grant_type=password&username=alice%40example.com&password=x")
	f.Add(formURL, "grant_type=refresh_token&refresh_token=abc")
	f.Add(formURL, "username=a&username=b&password=%zz")
	f.Add(mpType, mp)
	f.Add("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--x--")
	f.Add("", "username=Alice")
	fx := newFixture(f, testDBs()[0], noLimits)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		res, got := fx.do(t, "POST", "/api/users/token", body, http.Header{"Content-Type": {contentType}})
		checkFuzzReply(t, "POST /api/users/token", res, got)
		if res.StatusCode >= 400 {
			checkOAuthError(t, "POST /api/users/token", got)
		}
		if res.StatusCode == http.StatusOK && !strings.Contains(body, url.QueryEscape(alicePassword)) && !strings.Contains(body, alicePassword) &&
			!strings.Contains(body, url.QueryEscape(bobPassword)) && !strings.Contains(body, bobPassword) {
			t.Errorf("login without a fixture password succeeded: %q", body)
		}
	})
}

// FuzzPathID puts arbitrary text where the routes take an id.
func FuzzPathID(f *testing.F) {
	for _, seed := range []string{"1", "0", "-1", "9223372036854775807", "9223372036854775808", "1e3", " 1", "١", "\x00", "%", "../1"} {
		f.Add(seed)
	}
	fx := newFixture(f, testDBs()[0])
	f.Fuzz(func(t *testing.T, id string) {
		for _, path := range []string{"/api/posts/%s", "/api/users/%s", "/api/users/%s/posts"} {
			// An id that makes "//" or a dot segment makes another path,
			// which the router cleans with a redirect, as any path.
			if unescaped := strings.Replace(path, "%s", id, 1); pathpkg.Clean(unescaped) != unescaped {
				continue
			}
			path = strings.Replace(path, "%s", url.PathEscape(id), 1)
			res, got := fx.do(t, "GET", path, "", nil)
			checkFuzzReply(t, "GET "+path, res, got)
		}
	})
}

// checkFuzzReply checks what every reply to fuzzed input must be: not a
// server error, and, for an error, JSON with a detail and a code.
func checkFuzzReply(t *testing.T, what string, res *http.Response, body []byte) {
	t.Helper()
	if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("%s = %d %s", what, res.StatusCode, body)
	}
	if res.StatusCode >= 400 {
		var e struct {
			Detail any    `json:"detail"`
			Code   string `json:"code"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Detail == nil || e.Code == "" {
			t.Fatalf("%s = %d with body %q: want JSON with detail and code", what, res.StatusCode, body)
		}
	}
	// An error never repeats what a request sent, so it never holds a
	// password. A success may: it carries stored data (a name, a title),
	// which an earlier input of the same fuzzing run may have set to a
	// password's text.
	if res.StatusCode >= 400 {
		for _, secret := range []string{alicePassword, bobPassword} {
			if bytes.Contains(body, []byte(secret)) {
				t.Fatalf("%s = %d: the error contains a password: %s", what, res.StatusCode, body)
			}
		}
	}
}
