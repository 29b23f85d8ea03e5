package app

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/mail"
)

// Notices: mails that tell an account's owner of a change that matters to
// its security, whoever made it, so that a change they did not make does
// not go unnoticed. They hold no secret (no token, no password, no link
// that does anything by itself), only what changed, when, and where to
// act.

// notice is a kind of notice.
type notice int

// The notices.
const (
	noticePasswordChanged notice = iota // by the user, who gave the current one
	noticePasswordReset                 // with a link mailed to the account
	noticePasswordSet                   // by an administrator (quill user set-password)
	noticePasskeyAdded                  // a passkey can now log in to the account
	noticePasskeyRemoved                // a passkey no longer logs in
	noticeTwoFactorOff                  // two-factor login was turned off
	noticeEmailChanged                  // the account's address changed; sent to the old one
	noticeUsernameChanged               // the account's username changed
)

// noticeDetail is what a notice names besides the site and the time.
type noticeDetail struct {
	newEmail string // noticeEmailChanged: the new address, masked in the mail
	oldName  string // noticeUsernameChanged
	passkey  string // noticePasskeyAdded, noticePasskeyRemoved: its name
	client   string // where the change was made from, when known
}

// notify queues the notice kind to u's address. It is the one way a
// notice is sent: call it after the change's transaction has committed,
// so that no notice tells of a change that did not happen; it never fails
// the change (a mail that cannot be queued or sent is logged).
func (a *App) notify(ctx context.Context, u *blog.User, kind notice) {
	a.notifyAt(ctx, u, u.Email, kind, noticeDetail{})
}

// notifyEmailChanged tells old, the account as it was, that its address
// is now newEmail: the notice goes to the old address.
func (a *App) notifyEmailChanged(ctx context.Context, old *blog.User, newEmail string) {
	a.notifyAt(ctx, old, old.Email, noticeEmailChanged, noticeDetail{newEmail: newEmail})
}

// notifyPasskey tells c's address that the passkey p was added or
// removed (kind), by c's session.
func (a *App) notifyPasskey(ctx context.Context, c *Caller, kind notice, p *blog.Passkey) {
	a.notifyAt(ctx, c.User, c.User.Email, kind, noticeDetail{passkey: p.Name, client: clientOf(c.Session)})
}

// notifyAt queues the notice kind about u to the address to.
func (a *App) notifyAt(ctx context.Context, u *blog.User, to string, kind notice, detail noticeDetail) {
	subject, what := noticeSubjects[kind].subject, noticeSubjects[kind].what
	a.queueMail(ctx, outMail{
		msg:    mail.Message{To: to, Subject: subject, Text: a.noticeText(u, kind, detail)},
		what:   what,
		userID: u.ID,
	})
}

// noticeSubjects are each notice's subject, and its name in the logs.
var noticeSubjects = map[notice]struct{ subject, what string }{
	noticePasswordChanged: {"Your password was changed", "password change notice"},
	noticePasswordReset:   {"Your password was reset", "password reset notice"},
	noticePasswordSet:     {"Your password was set by the administrator", "password set notice"},
	noticePasskeyAdded:    {"A passkey was added to your account", "passkey notice"},
	noticePasskeyRemoved:  {"A passkey was removed from your account", "passkey notice"},
	noticeTwoFactorOff:    {"Two-factor login was turned off", "two-factor notice"},
	noticeEmailChanged:    {"Your email address was changed", "email change notice"},
	noticeUsernameChanged: {"Your username was changed", "username change notice"},
}

// noticeText is the body of the notice kind about u: what happened, the
// facts on lines of their own, what it did, and what to do if it was not
// the account's owner.
func (a *App) noticeText(u *blog.User, kind notice, detail noticeDetail) string {
	site := a.publicURL
	var (
		what, did, ifNot string
		facts            [][2]string
	)
	stolen := fmt.Sprintf(`If it was not you, someone else has your account: ask for a password
reset link at once, then see where your account is logged in:

  %s/forgot-password
  %s/account`, site, site)
	switch kind {
	case noticePasswordChanged:
		what = "The password of your account was changed, by someone logged in to it\nwho knew the old password."
		did = "Every other session of the account was logged out."
		ifNot = stolen
	case noticePasswordReset:
		what = "The password of your account was reset, with a link mailed to this\naddress."
		did = "Every session of the account was logged out."
		ifNot = fmt.Sprintf(`If it was not you, someone can read this mailbox: secure it (change
its password), then ask for a reset link yourself:

  %s/forgot-password`, site)
	case noticePasswordSet:
		what = "The password of your account was set by the site's administrator."
		did = "Every session of the account was logged out."
		ifNot = "If you did not ask for it, write to the site's administrator."
	case noticePasskeyAdded:
		what = "A passkey was added to your account."
		facts = append(facts, [2]string{"Passkey", detail.passkey})
		did = "It can log in to your account without the password."
		ifNot = stolen + "\n\nand remove the passkey there."
	case noticePasskeyRemoved:
		what = "A passkey was removed from your account."
		facts = append(facts, [2]string{"Passkey", detail.passkey})
		did = "It can no longer log in to your account."
		ifNot = stolen
	case noticeTwoFactorOff:
		what = "Two-factor login was turned off for your account."
		did = "From now on the password alone logs in."
		ifNot = stolen + "\n\nand turn two-factor login on again there."
	case noticeEmailChanged:
		what = "The email address of your account was changed, from this address to\nanother."
		facts = append(facts, [2]string{"New address", maskEmail(detail.newEmail)})
		did = "Mail for the account, password reset links included, now goes there;\nlinks sent here before no longer work."
		ifNot = fmt.Sprintf(`If it was not you, someone who knows your password has changed it.
Log in, put your address back and change your password on your account
page; if you cannot log in, write to the site's administrator:

  %s/account`, site)
	case noticeUsernameChanged:
		what = "The username of your account was changed."
		facts = append(facts, [2]string{"Old name", detail.oldName}, [2]string{"New name", u.Username})
		did = "Log in with the new name, or with your email address."
		ifNot = stolen
	}
	facts = append([][2]string{{"Site", site}, {"When", a.now().UTC().Format("2 January 2006 at 15:04 UTC")}}, facts...)
	if detail.client != "" {
		facts = append(facts, [2]string{"From", detail.client})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\n%s\n\n", u.Username, what)
	for _, f := range facts {
		fmt.Fprintf(&b, "  %-12s %s\n", f[0]+":", f[1])
	}
	fmt.Fprintf(&b, "\n%s\n\nIf that was you, there is nothing more to do.\n\n%s\n", did, ifNot)
	return b.String()
}

// maskEmail hides most of an address's local part (n***@example.com): a
// notice to an old address names the new one enough to be recognised,
// without handing it whole to whoever reads the old mailbox now.
func maskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return "***"
	}
	first, _ := utf8.DecodeRuneInString(email)
	return string(first) + "***" + email[at:]
}
