package main

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/quill-blog/quill/internal/quillproc"
)

// browserPasskeys is the passkeys flow, with Chromium's virtual
// authenticator (DevTools' WebAuthn domain) in the place of a phone or a
// security key: add a passkey on the account page, log out, log in with it
// without typing a name and after typing one, rename it, remove it; a
// login with it then fails. quill runs on 127.0.0.1 with the default
// PUBLIC_URL and the browser opens it as localhost: browsers allow no
// passkey on an IP address, and quill makes "localhost" the relying party
// of a loopback address.
func browserPasskeys(t *testing.T) {
	axe := requireAxe(t)
	addr, err := quillproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	startBinary(t, "ADDR="+addr)
	_, port, _ := net.SplitHostPort(addr)
	base := "http://localhost:" + port
	register(t, base, "pat", "pat@example.com", "a long passphrase 49")

	b := newBrowser(t, base)
	authenticator := b.virtualAuthenticator()
	b.open("/login")
	b.do("log in with the password", append(fill("#username", "pat", "#password", "a long passphrase 49"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#whoami")))...)

	// 1. Add a passkey.
	b.open("/account")
	b.wantText("#no-passkeys", "You have no passkey yet.")
	b.wantText("#passkey-add button[type=submit]", "Add a passkey")
	b.do("add a passkey", append(fill("#passkey-current_password", "a long passphrase 49"),
		chromedp.Click(chromedp.CSS("#passkey-add button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("p.notice")))...)
	b.wantText("p.notice", "Your passkey is added, and a notice is on its way to your email address.")
	b.wantText(".passkeys .passkey-name", "Passkey 1")
	b.checkA11y("the account page with a passkey", axe)
	if n := len(b.credentials(authenticator)); n != 1 {
		t.Fatalf("the virtual authenticator holds %d passkeys, want 1", n)
	}

	// 2. Log out; 3. log in with it, without a name and with one.
	for _, name := range []string{"", "pat"} {
		b.do("log out",
			chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
			chromedp.WaitVisible(chromedp.CSS(`header a[href="/login"]`)))
		b.open("/login?next=/account")
		steps := []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS("#passkey-login-button"))}
		if name != "" {
			steps = append(steps, fill("#username", name)...)
		}
		b.do("log in with the passkey, naming "+name, append(steps,
			chromedp.Click(chromedp.CSS("#passkey-login-button")),
			chromedp.WaitVisible(chromedp.CSS("#whoami")))...)
		b.wantText("#whoami", "pat")
		if got := b.location(); got != "/account" {
			t.Errorf("after the passkey login the browser is at %s, want /account", got)
		}
	}
	b.open("/account")
	if got := b.text(".passkeys small"); !strings.Contains(got, "last used") {
		t.Errorf("the passkey shows %q, want when it was last used", got)
	}

	// 4. Rename it.
	b.do("rename it",
		chromedp.Clear(chromedp.CSS(".passkeys form.rename input[name=name]")),
		chromedp.SendKeys(chromedp.CSS(".passkeys form.rename input[name=name]"), "My laptop"),
		chromedp.Click(chromedp.CSS(".passkeys form.rename button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("p.notice")))
	b.wantText("p.notice", "Your passkey is renamed.")
	b.wantText(".passkeys .passkey-name", "My laptop")
	b.screenshot("passkeys")

	// 5. Remove it; a login with it then fails.
	b.do("remove it",
		chromedp.Click(chromedp.CSS(`.passkeys form[action$="/delete#passkeys"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#no-passkeys")))
	b.wantText("p.notice", "Your passkey is removed: it no longer logs in. A notice is on its way to your email address.")
	b.do("log out",
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`header a[href="/login"]`)))
	b.open("/login")
	b.do("log in with the removed passkey",
		chromedp.WaitVisible(chromedp.CSS("#passkey-login-button")),
		chromedp.Click(chromedp.CSS("#passkey-login-button")),
		chromedp.WaitVisible(chromedp.CSS("#passkey-login .form-error")))
	b.wantText("#passkey-login .form-error", "That passkey was not accepted. Log in with your password, or try another passkey.")
	if got := b.pageStatus(); got != 401 {
		t.Errorf("the refused passkey login answered %d, want 401", got)
	}
	b.do("still logged out", chromedp.WaitVisible(chromedp.CSS(`header a[href="/login"]`)))
	b.screenshot("passkey-refused")
	b.checkA11y("the login page with a refused passkey", axe)
}

// virtualAuthenticator gives the tab a platform authenticator that keeps
// discoverable passkeys and verifies its user at once, as a phone would
// after a fingerprint, and returns its id.
func (b *browser) virtualAuthenticator() webauthn.AuthenticatorID {
	b.t.Helper()
	id, err := chromedp.Run(b.ctx, func(ctx context.Context, t *chromedp.Target) (webauthn.AuthenticatorID, error) {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return "", err
		}
		res, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol:                    webauthn.AuthenticatorProtocolCtap2,
				Ctap2version:                webauthn.Ctap2versionCtap21,
				Transport:                   webauthn.AuthenticatorTransportInternal,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			},
		})
		return res.AuthenticatorID, err
	})
	if err != nil {
		b.t.Fatalf("add a virtual authenticator: %v", err)
	}
	return id
}

// credentials are the passkeys the virtual authenticator id holds.
func (b *browser) credentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	b.t.Helper()
	creds, err := chromedp.Run(b.ctx, func(ctx context.Context, t *chromedp.Target) ([]*webauthn.Credential, error) {
		res, err := cdp.Call(ctx, t, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		return res.Credentials, err
	})
	if err != nil {
		b.t.Fatalf("read the virtual authenticator's passkeys: %v", err)
	}
	return creds
}
