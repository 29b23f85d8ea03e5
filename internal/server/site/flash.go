package site

import (
	"net/http"
	"strings"
)

// Confirmations after a form post. A change redirects (so that reloading
// does not post again) and the page it lands on says what was done: the
// redirect sets a short-lived cookie naming the confirmation, and the
// next page rendered shows it once (role="status") and deletes the
// cookie. The cookie holds a key of flashes, never text: nothing but
// quill's own sentences can be shown, and the key is signed so that a
// cookie planted by a sibling site is ignored.

const (
	flashCookie = "quill_flash"
	// flashMaxAge bounds how long a confirmation waits for its page, in
	// seconds: a redirect that never loaded does not confirm something
	// on a page visited later.
	flashMaxAge = 60
)

// flash is a confirmation. Section is the part of the account page it
// belongs to, where the redirect lands (its fragment); "" puts it at the
// top of the page.
type flash struct {
	Message string
	Section string
}

// flashes are the confirmations, by key.
var flashes = map[string]flash{
	"registered":           {Message: "Welcome! Your account is ready, and you are logged in."},
	"logged-out":           {Message: "You are logged out."},
	"post-published":       {Message: "Your post is published."},
	"post-saved":           {Message: "Your changes are saved."},
	"post-deleted":         {Message: "Your post is deleted."},
	"profile-saved":        {Message: "Your profile is saved.", Section: profileForm},
	"picture-saved":        {Message: "Your new picture is saved.", Section: pictureForm},
	"picture-removed":      {Message: "Your picture is removed.", Section: pictureForm},
	"password-changed":     {Message: "Your password is changed; every other session is logged out.", Section: passwordForm},
	"session-ended":        {Message: "That session is logged out.", Section: sessionsSection},
	"sessions-ended":       {Message: "Every other session is logged out.", Section: sessionsSection},
	"passkey-added":        {Message: "Your passkey is added, and a notice is on its way to your email address.", Section: passkeyListForm},
	"passkey-renamed":      {Message: "Your passkey is renamed.", Section: passkeyListForm},
	"passkey-removed":      {Message: "Your passkey is removed: it no longer logs in. A notice is on its way to your email address.", Section: passkeyListForm},
	"email-verified":       {Message: "Your email address is confirmed.", Section: profileForm},
	"email-verified-login": {Message: "Your email address is confirmed. Log in to go on."},
	"email-verified-other": {Message: "The address is confirmed for its account."},
	"verification-sent":    {Message: "A new link is on its way; it works for 24 hours.", Section: profileForm},
	"totp-off":             {Message: "Two-factor login is off: your password alone logs you in. A notice is on its way to your email address.", Section: twoFactorSection},
	"account-deleted":      {Message: "Your account is deleted, with its posts and picture."},
	"password-reset":       {Message: "Your password has been reset. Log in with the new one."},
}

// done redirects after a form post to the page at to, which then confirms
// the flash of key; a section flash lands on its section.
func (s *Site) done(w http.ResponseWriter, r *http.Request, to, key string) error {
	f, ok := flashes[key]
	if !ok {
		panic("site: no flash " + key) // a bug in a handler, caught by its tests
	}
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(r, flashCookie),
		Value:    key + "." + s.csrf.Token("flash:"+key),
		Path:     "/",
		MaxAge:   flashMaxAge,
		HttpOnly: true,
		Secure:   s.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
	if f.Section != "" {
		to += "#" + f.Section
	}
	return seeOther(w, r, to)
}

// takeFlash returns the confirmation r's cookie names, if any, and
// deletes the cookie: a confirmation shows once.
func (s *Site) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	ck, err := r.Cookie(s.cookieName(r, flashCookie))
	if err != nil {
		return nil
	}
	s.clearCookie(w, r, flashCookie)
	key, mac, _ := strings.Cut(ck.Value, ".")
	f, ok := flashes[key]
	if !ok || !s.csrf.Valid("flash:"+key, mac) {
		return nil
	}
	return &f
}
