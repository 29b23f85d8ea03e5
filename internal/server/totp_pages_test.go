package server_test

import (
	"bytes"
	"encoding/base64"
	"html"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/pquerna/otp/totp"

	"github.com/quill-blog/quill/internal/auth"
)

var (
	qrImage       = regexp.MustCompile(`<img id="totp-qr" class="qr" src="data:image/png;base64,([A-Za-z0-9+/=&#;]+)"`)
	secretText    = regexp.MustCompile(`<code id="totp-secret" class="secret">([A-Z2-7 ]+)</code>`)
	recoveryCode  = regexp.MustCompile(`<li><code>([a-z2-7-]+)</code></li>`)
	challengeSent = regexp.MustCompile(`name="challenge" value="([^"]+)"`)
)

// readQR decodes the PNG of a data: URL's base64 as a phone's scanner
// would.
func readQR(t *testing.T, b64 string) string {
	t.Helper()
	data, err := base64.StdEncoding.DecodeString(html.UnescapeString(b64))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the QR code is no PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the QR code does not decode: %v", err)
	}
	return res.GetText()
}

// loginWithCode logs the visitor in in two steps and returns the code
// step's response.
func (v *visitor) loginWithCode(username, password, code string) (*http.Response, string) {
	v.t.Helper()
	res, body := v.submit("/login", "/login", "username", username, "password", password, "next", "/account")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `action="/login/code"`) {
		v.t.Fatalf("log in as %s = %d, want 200 and the code step\n%s", username, res.StatusCode, body)
	}
	return v.postCode(body, code)
}

// postCode sends code from the code step's page body.
func (v *visitor) postCode(page, code string) (*http.Response, string) {
	v.t.Helper()
	ch, tok := challengeSent.FindStringSubmatch(page), csrfInput.FindStringSubmatch(page)
	if ch == nil || tok == nil {
		v.t.Fatalf("no challenge or CSRF token in the code step:\n%s", page)
	}
	return v.post("/login/code", url.Values{"csrf_token": {tok[1]}, "challenge": {html.UnescapeString(ch[1])},
		"next": {"/account"}, "otp": {code}})
}

func TestPageTOTP(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	srv := pageServer(t, f)
	v := newVisitor(t, f, srv)
	v.login("Alice", alicePassword)

	_, body := v.get("/account")
	wantContains(t, "the account page", body, `<section id="two-factor"`, `id="totp-start"`, "Off: your password alone")
	res, _ := v.get("/account/totp")
	wantRedirect(t, "the setup page with nothing started", res, "/account#two-factor")

	res, _ = v.submit("/account", "/account/totp")
	wantRedirect(t, "turn on", res, "/account/totp")
	res, body = v.get("/account/totp")
	wantStatus(t, "the setup page", res, http.StatusOK)
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("the setup page: Cache-Control = %q, want no-store", got)
	}
	if got := res.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("the setup page: Referrer-Policy = %q, want no-referrer", got)
	}
	qr, text := qrImage.FindStringSubmatch(body), secretText.FindStringSubmatch(body)
	if qr == nil || text == nil {
		t.Fatalf("the setup page has no QR code or no secret:\n%s", body)
	}
	secret := strings.ReplaceAll(text[1], " ", "")
	uri, err := url.Parse(readQR(t, qr[1]))
	if err != nil || uri.Scheme != "otpauth" || uri.Path != "/quill.test:Alice" || uri.Query().Get("secret") != secret {
		t.Fatalf("the QR code reads %v, want otpauth://totp/quill.test:Alice?secret=%s…", uri, secret)
	}

	code := func() string {
		c, err := totp.GenerateCode(secret, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	res, body = v.submit("/account/totp", "/account/totp/confirm", "current_password", alicePassword, "code", "000000")
	wantStatus(t, "confirm with a wrong code", res, http.StatusBadRequest)
	wantContains(t, "the setup page", body, `<p class="error" id="code-error">That code is wrong, or was used already. Enter the current code from your app, or an unused recovery code.</p>`, `id="totp-qr"`)
	res, body = v.submit("/account/totp", "/account/totp/confirm", "current_password", leakCanary, "code", code())
	wantStatus(t, "confirm with a wrong password", res, http.StatusBadRequest)
	wantContains(t, "the setup page", body, `<p class="error" id="current_password-error">That is not your current password.</p>`)
	res, body = v.submit("/account/totp", "/account/totp/confirm", "current_password", alicePassword, "code", code())
	wantStatus(t, "confirm", res, http.StatusOK)
	codes := recoveryCode.FindAllStringSubmatch(body, -1)
	if len(codes) != 10 {
		t.Fatalf("the recovery codes page shows %d codes, want 10:\n%s", len(codes), body)
	}
	wantContains(t, "the recovery codes page", body, `href="/account#two-factor"`)
	_, body = v.get("/account")
	wantContains(t, "the account page", body, "On: logging in needs", `action="/account/totp/disable#two-factor"`)
	res, _ = v.get("/account/totp")
	wantRedirect(t, "the setup page once on", res, "/account#two-factor")
	res, _ = v.submit("/account", "/account/totp")
	wantRedirect(t, "turn on when on", res, "/account#two-factor")
	f.clock.Advance(auth.TOTPPeriod)

	// Logging in: the password, then the code; the password is not
	// asked again.
	other := newVisitor(t, f, srv)
	res, body = other.submit("/login", "/login", "username", "Alice", "password", alicePassword)
	wantStatus(t, "the password step", res, http.StatusOK)
	wantContains(t, "the code step", body, `<h1>Two-factor login</h1>`, `autocomplete="one-time-code"`)
	if strings.Contains(body, `name="password"`) || len(res.Cookies()) > 0 && strings.Contains(res.Header.Get("Set-Cookie"), "quill_session") {
		t.Errorf("the code step asks for the password again, or logged in already")
	}
	res, page := other.postCode(body, "000000")
	wantStatus(t, "a wrong code", res, http.StatusUnauthorized)
	wantContains(t, "the code step", page, `<p class="error" id="otp-error">That code is wrong, or was used already. Enter the current code from your app, or an unused recovery code.</p>`)
	res, _ = other.postCode(page, code())
	wantRedirect(t, "the right code", res, "/account")
	res, _ = other.get("/account")
	wantStatus(t, "the account page after logging in with a code", res, http.StatusOK)
	// The challenge works once.
	res, page = other.postCode(body, codes[0][1])
	wantStatus(t, "a used challenge", res, http.StatusUnauthorized)
	wantContains(t, "the login page", page, "This login took too long, or was finished already. Log in again.", `action="/login"`)

	// A recovery code, once.
	third := newVisitor(t, f, srv)
	res, _ = third.loginWithCode("alice@example.com", alicePassword, strings.ToUpper(codes[1][1]))
	wantRedirect(t, "a recovery code", res, "/account")
	fourth := newVisitor(t, f, srv)
	res, _ = fourth.loginWithCode("Alice", alicePassword, codes[1][1])
	wantStatus(t, "the same recovery code again", res, http.StatusUnauthorized)
	res, _ = fourth.get("/login/code")
	wantRedirect(t, "GET /login/code", res, "/login")

	// Turning it off: the password and a code.
	res, body = v.submit("/account", "/account/totp/disable", "current_password", alicePassword, "code", "000000")
	wantStatus(t, "turn off with a wrong code", res, http.StatusBadRequest)
	wantContains(t, "the account page", body, `<p class="error" id="totp-code-error">That code is wrong, or was used already. Enter the current code from your app, or an unused recovery code.</p>`, "<details open>")
	res, body = v.submit("/account", "/account/totp/disable", "current_password", leakCanary, "code", codes[2][1])
	wantStatus(t, "turn off with a wrong password", res, http.StatusBadRequest)
	wantContains(t, "the account page", body, `<p class="error" id="totp-current_password-error">That is not your current password.</p>`)
	res, _ = v.submit("/account", "/account/totp/disable", "current_password", alicePassword, "code", codes[2][1])
	wantRedirect(t, "turn off", res, "/account#two-factor")
	_, body = v.get("/account")
	wantContains(t, "the account page", body, `id="flash">Two-factor login is off: your password alone logs you in.`, "Off: your password alone")
	noDeveloperWords(t, "the account page", body)
	res, _ = v.submit("/account", "/account/totp/disable", "current_password", alicePassword, "code", codes[3][1])
	wantRedirect(t, "turn off when off", res, "/account#two-factor")
	newVisitor(t, f, srv).login("Alice", alicePassword) // the password alone, again
}
