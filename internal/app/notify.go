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
	noticeTwoFactorOff                  // two-factor login was turned off
	noticeEmailChanged                  // the account's address changed; sent to the old one
	noticeUsernameChanged               // the account's username changed
)

// notify queues the notice kind to u's address. It is the one way a
// notice is sent: call it after the change's transaction has committed,
// so that no notice tells of a change that did not happen; it never fails
// the change (a mail that cannot be queued or sent is logged).
func (a *App) notify(ctx context.Context, u *blog.User, kind notice) {
	a.notifyAt(ctx, u, u.Email, kind, "")
}

// notifyEmailChanged tells old, the account as it was, that its address
// is now newEmail: the notice goes to the old address.
func (a *App) notifyEmailChanged(ctx context.Context, old *blog.User, newEmail string) {
	a.notifyAt(ctx, old, old.Email, noticeEmailChanged, newEmail)
}

// notifyAt queues the notice kind about u to the address to; detail is
// the new address of noticeEmailChanged, the old name of
// noticeUsernameChanged.
func (a *App) notifyAt(ctx context.Context, u *blog.User, to string, kind notice, detail string) {
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
	noticeTwoFactorOff:    {"Two-factor login was turned off", "two-factor notice"},
	noticeEmailChanged:    {"Your email address was changed", "email change notice"},
	noticeUsernameChanged: {"Your username was changed", "username change notice"},
}

// noticeText is the body of the notice kind about u.
func (a *App) noticeText(u *blog.User, kind notice, detail string) string {
	when := a.now().UTC().Format("2 January 2006 at 15:04 UTC")
	site := a.publicURL
	var what, ifNot string
	switch kind {
	case noticePasswordChanged:
		what = fmt.Sprintf(`the password of your account at %s was changed on %s, by someone
logged in to it who knew the old password. Every other session of the
account was logged out.`, site, when)
		ifNot = fmt.Sprintf(`If it was not you, someone else knows your password and has changed
it. Ask for a reset link at once, and then see where your account is
logged in:

%s/forgot-password
%s/account`, site, site)
	case noticePasswordReset:
		what = fmt.Sprintf(`the password of your account at %s was reset on %s, with a link
mailed to this address. Every session of the account was logged out.`, site, when)
		ifNot = fmt.Sprintf(`If it was not you, someone can read this mailbox: secure it (change
its password), then ask for a reset link yourself:

%s/forgot-password`, site)
	case noticePasswordSet:
		what = fmt.Sprintf(`the password of your account at %s was set by the site's
administrator on %s. Every session of the account was logged out.`, site, when)
		ifNot = `If you did not ask for it, write to the site's administrator.`
	case noticePasskeyAdded:
		what = fmt.Sprintf(`a passkey was added to your account at %s on %s. It can log in to
your account without the password.`, site, when)
		ifNot = fmt.Sprintf(`If it was not you, someone else has your account: ask for a password
reset link at once, then remove the passkey on your account page:

%s/forgot-password
%s/account`, site, site)
	case noticeTwoFactorOff:
		what = fmt.Sprintf(`two-factor login was turned off for your account at %s on %s.
From now on the password alone logs in.`, site, when)
		ifNot = fmt.Sprintf(`If it was not you, someone else has your account: ask for a password
reset link at once, then turn two-factor login on again on your account
page:

%s/forgot-password
%s/account`, site, site)
	case noticeEmailChanged:
		what = fmt.Sprintf(`the email address of your account at %s was changed on %s, from
this address to %s. Mail for the account, password reset links
included, now goes there; links sent here before no longer work.`, site, when, maskEmail(detail))
		ifNot = fmt.Sprintf(`If it was not you, someone who knows your password has changed it.
Log in, put your address back and change your password on your account
page; if you cannot log in, write to the site's administrator:

%s/account`, site)
	case noticeUsernameChanged:
		what = fmt.Sprintf(`the username of your account at %s was changed on %s, from
%s to %s. Log in with the new name, or with your email address.`, site, when, detail, u.Username)
		ifNot = fmt.Sprintf(`If it was not you, someone else has your account: ask for a password
reset link at once, then see where your account is logged in:

%s/forgot-password
%s/account`, site, site)
	}
	return fmt.Sprintf(`Hello %s,

%s

If that was you, there is nothing more to do.

%s
`, u.Username, what, ifNot)
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
