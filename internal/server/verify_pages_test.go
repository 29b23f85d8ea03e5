package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The pages of verified addresses: the page a link opens, the account
// page's state and its button, and the page shown instead of a form for
// writing to an account that must confirm its address first.

func TestPageVerifyEmail(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))

	res, _ := v.submit("/register", "/register", "username", "carol", "email", "Carol@Example.com", "password", "a-long-passphrase-4")
	wantRedirect(t, "register", res, "/")
	_, body := v.get("/account")
	wantContains(t, "the account page", body, `id="email-unverified">Not verified</span> Open the link we mailed to carol@example.com`,
		`action="/account/verify-email#profile"`)
	token := f.verifyToken(t, "carol@example.com")

	// Opening the link shows what it confirms, and changes nothing.
	res, body = v.get("/verify-email?token=" + token)
	wantStatus(t, "open the link", res, http.StatusOK)
	if got := res.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("the verify page's Referrer-Policy = %q, want no-referrer", got)
	}
	wantContains(t, "the verify page", body, `Confirm that <strong>carol@example.com</strong> is the address of the account <strong>carol</strong>.`,
		`name="token" value="`+token+`"`, `id="verify-confirm"`)
	_, body = v.get("/account")
	wantContains(t, "the account page after opening the link", body, `id="email-unverified"`)

	// The button confirms it.
	res, _ = v.submit("/verify-email?token="+token, "/verify-email", "token", token)
	wantRedirect(t, "confirm", res, "/account#profile")
	_, body = v.get("/account")
	wantContains(t, "the account page", body, "Your email address is confirmed.", `id="email-verified">Verified</span> carol@example.com is confirmed.`)
	if strings.Contains(body, `id="verify-resend"`) {
		t.Error("the account page of a verified address offers to send a link")
	}
	// A page shown before, sending a link all the same: it says why not.
	res, body = v.submit("/account", "/account/verify-email")
	wantStatus(t, "send a link for a verified address", res, http.StatusBadRequest)
	wantContains(t, "the account page", body, "Your email address is confirmed already.")

	// Again: the link is used up.
	res, body = v.get("/verify-email?token=" + token)
	wantStatus(t, "open a used link", res, http.StatusBadRequest)
	wantContains(t, "the verify page", body, "This link no longer works", `<a href="/account#profile">Ask for a new one</a>`)
	res, body = v.submit("/verify-email?token="+token, "/verify-email", "token", token)
	wantStatus(t, "confirm a used link", res, http.StatusBadRequest)
	wantContains(t, "the verify page", body, "This link no longer works")
	for _, bad := range []string{"", "x", strings.Repeat("A", 43), "%00"} {
		res, _ := v.get("/verify-email?token=" + bad)
		wantStatus(t, "open the link "+bad, res, http.StatusBadRequest)
	}
	res, body = v.submit("/verify-email?token=x", "/verify-email")
	wantStatus(t, "confirm without a token", res, http.StatusUnprocessableEntity)
	wantContains(t, "the verify page", body, "This link is incomplete.")
	noDeveloperWords(t, "the verify page", body)

	// Without a CSRF token nothing is confirmed.
	res, _ = v.post("/verify-email", url.Values{"token": {token}})
	wantStatus(t, "confirm without a CSRF token", res, http.StatusForbidden)
}

// TestPageVerifyLoggedOut confirms a link in a browser that is not
// logged in: the login page says it is done.
func TestPageVerifyLoggedOut(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))
	token := f.verifyToken(t, "alice@example.com")
	res, _ := v.submit("/verify-email?token="+token, "/verify-email", "token", token)
	wantRedirect(t, "confirm", res, "/login")
	_, body := v.get("/login")
	wantContains(t, "the login page", body, `id="flash">Your email address is confirmed. Log in to go on.</p>`)
	f.wantMe(t, "alice", privateJSON(f.users["alice"].ID, "Alice", "alice@example.com", true, ""))
	// The access log names the page, never the link's query. (The
	// development mailer logs whole mails, links included.)
	var pages int
	for _, line := range strings.Split(f.logs.String(), "\n") {
		if strings.Contains(line, "path=/verify-email") {
			pages++
			if strings.Contains(line, token) {
				t.Errorf("the access log holds the link's token: %s", line)
			}
		}
	}
	if pages == 0 {
		t.Error("no access log line for /verify-email")
	}
}

func TestPageSendVerification(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))
	v.login("alice", alicePassword)
	before := f.verifications("alice@example.com")
	res, _ := v.submit("/account", "/account/verify-email")
	wantRedirect(t, "send the link again", res, "/account#profile")
	_, body := v.get("/account")
	wantContains(t, "the account page", body, "A new link is on its way; it works for 24 hours.")
	f.clock.Advance(10 * time.Second)
	res, body = v.submit("/account", "/account/verify-email")
	wantStatus(t, "send it again at once", res, http.StatusTooManyRequests)
	wantContains(t, "the account page", body, "A link was sent less than a minute ago. Wait a minute, then ask again.")
	f.nthVerifyToken(t, "alice@example.com", before+1)
	f.Stop() // sends whatever else was queued
	if got := f.verifications("alice@example.com") - before; got != 1 {
		t.Errorf("%d links mailed, want 1", got)
	}
}

// TestPagesRequireVerified: with REQUIRE_VERIFIED_EMAIL on, an unverified
// account is shown why it cannot write, and how to get a new link; a new
// address waits, pending, and the account page says so.
func TestPagesRequireVerified(t *testing.T) {
	f := newFixture(t, testDBs()[0], requireVerified)
	srv := pageServer(t, f)
	v := newVisitor(t, f, srv)
	unverify(t, f)
	v.login("alice", alicePassword)

	_, body := v.get("/account")
	wantContains(t, "the account page", body, "to confirm it; until then you cannot write posts.")
	for _, path := range []string{"/posts/new", "/posts/{alice_post}/edit"} {
		res, body := v.get(path)
		wantStatus(t, "GET "+path, res, http.StatusForbidden)
		wantContains(t, "GET "+path, body, "<h1>Confirm your email address first</h1>",
			"Confirm your email address before you write", `action="/account/verify-email#profile"`, "<strong>alice@example.com</strong>")
	}
	for _, path := range []string{"/posts/new", "/posts/{alice_post}/edit", "/posts/preview"} {
		res, body := v.submit("/account", path, "title", "T", "content", "C")
		wantStatus(t, "POST "+path, res, http.StatusForbidden)
		wantContains(t, "POST "+path, body, "<h1>Confirm your email address first</h1>")
	}
	_, posts := f.get(t, "/api/posts", nil)
	if total := posts.(map[string]any)["total"]; total != float64(3) {
		t.Errorf("posts after refused writes: %v, want 3", total)
	}
	// Deleting stays allowed.
	res, _ := v.submit("/posts/{alice_post}", "/posts/{alice_post}/delete")
	wantStatus(t, "delete a post", res, http.StatusSeeOther)

	// The button on the refusal page mails a link.
	f.clock.Advance(time.Minute)
	before := f.verifications("alice@example.com")
	res, _ = v.submit("/posts/new", "/account/verify-email")
	wantRedirect(t, "send the link from the refusal page", res, "/account#profile")
	token := f.nthVerifyToken(t, "alice@example.com", before+1)
	res, _ = v.submit("/verify-email?token="+token, "/verify-email", "token", token)
	wantRedirect(t, "confirm", res, "/account#profile")
	res, _ = v.get("/posts/new")
	wantStatus(t, "the new-post form once verified", res, http.StatusOK)

	// A new address waits for its link.
	res, _ = v.submit("/account", "/account", "username", "Alice", "email", "alice@new.example", "current_password", alicePassword)
	wantRedirect(t, "change the address", res, "/account#profile")
	_, body = v.get("/account")
	wantContains(t, "the account page", body, `id="email-pending">Your new address, <strong>alice@new.example</strong>, takes effect`,
		`Until then your address stays alice@example.com`, `id="email" name="email" type="email" autocomplete="email" value="alice@new.example"`, `id="verify-resend"`)
	// Saving the form as it is shown, renamed, needs no password and
	// keeps the address waiting.
	res, _ = v.submit("/account", "/account", "username", "Alicia", "email", "alice@new.example")
	wantRedirect(t, "rename while an address waits", res, "/account#profile")
	_, body = v.get("/account")
	wantContains(t, "the account page", body, `id="email-pending"`, `id="whoami">Alicia<`)
	token = f.verifyToken(t, "alice@new.example")
	res, body = v.get("/verify-email?token=" + token)
	wantStatus(t, "open the link", res, http.StatusOK)
	wantContains(t, "the verify page", body, "It replaces <strong>alice@example.com</strong> as the account's address.")
	res, _ = v.submit("/verify-email?token="+token, "/verify-email", "token", token)
	wantRedirect(t, "confirm the new address", res, "/account#profile")
	_, body = v.get("/account")
	wantContains(t, "the account page", body, `value="alice@new.example"`, `id="email-verified"`)
	if strings.Contains(body, `id="email-pending"`) {
		t.Error("the account page still shows a pending address")
	}
}

// TestPageVerifyOtherAccount confirms a link while logged in to another
// account: the address is confirmed, and the page does not say it is the
// visitor's.
func TestPageVerifyOtherAccount(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))
	v.login("bob", bobPassword)
	token := f.verifyToken(t, "alice@example.com")
	res, _ := v.submit("/verify-email?token="+token, "/verify-email", "token", token)
	wantRedirect(t, "confirm", res, "/")
	_, body := v.get("/")
	wantContains(t, "the home page", body, `id="flash">The address is confirmed for its account.</p>`)
	f.wantMe(t, "alice", privateJSON(f.users["alice"].ID, "Alice", "alice@example.com", true, ""))
}
