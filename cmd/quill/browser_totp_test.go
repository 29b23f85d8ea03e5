package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/quill-blog/quill/internal/auth"
)

// authenticator is the app on a phone in the browser tests: it reads the
// secret from the page and makes codes with pquerna/otp. It never shows
// a code of a step at or before one already used, as the server would
// refuse it: the next code is that of the current step, or of the step
// after the last used (one step ahead is accepted).
type authenticator struct {
	t      *testing.T
	secret string
	last   int64 // step of the last code used
}

func (a *authenticator) code() string {
	a.t.Helper()
	step := max(auth.TOTPStep(time.Now()), a.last+1)
	a.last = step
	code, err := totp.GenerateCode(a.secret, time.Unix(step*int64(auth.TOTPPeriod/time.Second), 0))
	if err != nil {
		a.t.Fatal(err)
	}
	return code
}

// browserTwoFactor turns on two-factor login from the account page (the
// QR code, the key read from the page into an authenticator, a first
// code, the recovery codes), logs out, logs in with the password and
// then a code; logs in once with a recovery code, and sees the same
// recovery code refused the second time. axe-core checks each of its
// pages.
func browserTwoFactor(t *testing.T, base string) {
	axe := requireAxe(t)
	const password = "a long passphrase 47"
	register(t, base, "heidi", "heidi@example.com", password)
	b := newBrowser(t, base)
	b.open("/login")
	b.do("log in", append(fill("#username", "heidi", "#password", password),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#whoami")))...)

	b.open("/account")
	b.do("turn on two-factor login",
		chromedp.Click(chromedp.CSS("#totp-start")),
		chromedp.WaitVisible(chromedp.CSS("#totp-qr")))
	if w, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.getElementById("totp-qr").naturalWidth`)); err != nil || w < 100 {
		t.Errorf("the QR code's natural width = %d (%v): it did not load", w, err)
	}
	b.screenshot("totp-setup")
	b.checkA11y("the two-factor setup page", axe)
	app := &authenticator{t: t, secret: strings.ReplaceAll(b.text("#totp-secret"), " ", "")}
	b.do("confirm with a first code", append(fill("#code", app.code(), "#current_password", password),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#recovery-codes")))...)
	codes, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#recovery-codes code"), c => c.textContent)`))
	if err != nil || len(codes) != 10 {
		t.Fatalf("the recovery codes page shows %q (%v), want ten codes", codes, err)
	}
	b.screenshot("totp-recovery-codes")
	b.checkA11y("the recovery codes page", axe)
	b.do("back to the account page",
		chromedp.Click(chromedp.CSS("#recovery-done")),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/account/totp/disable#two-factor"]`)))
	if got := b.text("#totp-state"); !strings.HasPrefix(got, "On:") {
		t.Errorf("the account page says %q, want two-factor login on", got)
	}
	b.checkA11y("the account page with two-factor login on", axe)

	logOut := func(what string) {
		t.Helper()
		b.do(what,
			chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
			chromedp.WaitVisible(chromedp.CSS(`header a[href="/login"]`)))
	}
	logIn := func(what, code string) {
		t.Helper()
		b.open("/login")
		b.do(what+": the password", append(fill("#username", "heidi", "#password", password),
			chromedp.Click(chromedp.CSS("main form button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("#otp")))...)
		if n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("input[type=password]").length`)); err != nil || n != 0 {
			t.Errorf("%s: the code step has %d password fields (%v), want none", what, n, err)
		}
		b.do(what+": the code", append(fill("#otp", code),
			chromedp.Click(chromedp.CSS("main form button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("#whoami, #otp-error")))...)
	}

	logOut("log out")
	logIn("log in with a code from the app", app.code())
	b.wantText("#whoami", "heidi")
	logOut("log out again")
	logIn("log in with a recovery code", codes[0])
	b.wantText("#whoami", "heidi")
	logOut("log out once more")
	logIn("log in with the same recovery code", codes[0])
	b.wantText("#otp-error", "That code is wrong, or was used already. Enter the current code from your app, or an unused recovery code.")
	b.screenshot("totp-recovery-code-used")
	b.checkA11y("the code step with its error", axe)
}
