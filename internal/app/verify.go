package app

import (
	"context"
	"fmt"
	"time"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/mail"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// Verified email addresses. A link goes to an account's address when the
// account is made and when its address changes, and again when the user
// asks (at most once per blog.EmailVerifyEvery). Opening the link shows a
// page; confirming there (a POST) verifies the address the link was sent
// to, if it is still the account's, or, with RequireVerifiedEmail, makes
// the account's pending address its address.

// emailLink is a verification link being made: its token, for the mail,
// and the record to store in the transaction that makes it needed.
type emailLink struct {
	token string
	rec   sqlstore.EmailVerification
}

// newEmailLink makes a link for the address email, valid from now for
// blog.EmailVerifyTTL. Its UserID is set when the account is known.
func (a *App) newEmailLink(userID int64, email string) (*emailLink, error) {
	token, hash, err := auth.NewOpaqueToken(a.random)
	if err != nil {
		return nil, err
	}
	now := a.now()
	return &emailLink{token: token, rec: sqlstore.EmailVerification{
		UserID: userID, TokenHash: hash, Email: email, CreatedAt: now, ExpiresAt: now.Add(blog.EmailVerifyTTL),
	}}, nil
}

// put stores l in tx as its account's one link, replacing the older.
func (l *emailLink) put(ctx context.Context, tx *sqlstore.Tx) error {
	_, _, err := tx.PutEmailVerification(ctx, &l.rec, time.Time{})
	return err
}

// sendEmailLink queues the mail with link l to u's owner.
func (a *App) sendEmailLink(ctx context.Context, u *blog.User, l *emailLink) {
	a.queueMail(ctx, outMail{msg: a.verificationMail(u.Username, l), what: "verification mail", userID: u.ID})
}

// verificationMail is the mail with the link.
func (a *App) verificationMail(username string, l *emailLink) mail.Message {
	link := a.publicURL + "/verify-email?token=" + l.token
	return mail.Message{
		To:      l.rec.Email,
		Subject: "Confirm your email address",
		Text: fmt.Sprintf(`Hello %s,

to confirm that %s is the address of your account at
%s, open this link within %d hours and press the button on
the page it opens:

%s

The link works once. If you did not make an account there, nor change
its address to this one, ignore this mail: the address stays
unconfirmed.
`, username, l.rec.Email, a.publicURL, int(blog.EmailVerifyTTL.Hours()), link),
	}
}

// EmailLink is what a verification link would confirm: the address, and
// the account as it is now.
type EmailLink struct {
	User  *blog.User
	Email string
	// Change is true when the address is the account's pending one:
	// confirming it makes it the account's address.
	Change bool
}

// CheckEmailLink returns what the link with token would confirm, and
// changes nothing: the page a link opens shows it, and confirms only
// when its button is pressed (a POST), since mail scanners open links.
// Anything but a live link for the account's address or its pending one
// is blog.ErrInvalidVerification.
func (a *App) CheckEmailLink(ctx context.Context, token string) (*EmailLink, error) {
	if !isOpaqueToken(token) {
		return nil, blog.ErrInvalidVerification
	}
	u, email, err := a.store.EmailVerificationUser(ctx, auth.HashOpaque(token), a.now())
	if err != nil {
		return nil, err
	}
	switch email {
	case u.Email:
		return &EmailLink{User: u, Email: email}, nil
	case u.PendingEmail:
		return &EmailLink{User: u, Email: email, Change: true}, nil
	}
	return nil, blog.ErrInvalidVerification
}

// EmailConfirmation is the token of a verification link, confirmed.
// Problems are those an adapter found reading the request.
type EmailConfirmation struct {
	Token    string
	Problems []blog.Problem
}

// VerifyEmail confirms the address a link was sent to, in one
// transaction: the link is used up, and if the address is still the
// account's, it is verified; if it is the account's pending address, it
// becomes the account's address, verified, every password reset link is
// void (they went to the old address), and after the change the old
// address is told. A link for any other address, or one that is used,
// expired or unknown, is blog.ErrInvalidVerification; a pending address
// another account has taken since is blog.ErrEmailTaken. Either changes
// nothing. It returns the account as it is now.
func (a *App) VerifyEmail(ctx context.Context, in EmailConfirmation) (*blog.User, error) {
	v := blog.Validator{Problems: in.Problems}
	if err := v.Err("token"); err != nil {
		return nil, err
	}
	if !isOpaqueToken(in.Token) {
		return nil, blog.ErrInvalidVerification
	}
	hash := auth.HashOpaque(in.Token)
	var old, saved *blog.User
	var changed bool
	err := a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		now := a.now()
		userID, email, err := tx.TakeEmailVerification(ctx, hash, now)
		if err != nil {
			return err
		}
		if old, err = tx.User(ctx, userID); err != nil {
			return err
		}
		var ok bool
		changed = false
		switch {
		case email == old.Email:
			ok, err = tx.MarkEmailVerified(ctx, userID, email, now)
		case email == old.PendingEmail:
			changed = true
			if ok, err = tx.ConfirmPendingEmail(ctx, userID, email, now); ok && err == nil {
				// Whoever holds the old mailbox must not keep a way in.
				err = tx.DeletePasswordResets(ctx, userID)
			}
		}
		if err != nil {
			return err
		}
		if !ok {
			return blog.ErrInvalidVerification
		}
		saved, err = tx.User(ctx, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if changed {
		a.notifyEmailChanged(ctx, old, saved.Email)
	}
	a.log(ctx).Info("email address verified", "user_id", saved.ID, "changed", changed)
	return saved, nil
}

// SendVerification sends the caller a new link: to the pending address if
// there is one, else to the account's address unless it is verified
// (blog.ErrEmailVerified). The link replaces the older one. An account is
// sent one at most every blog.EmailVerifyEvery: sooner is
// blog.TooSoonToVerify, which says how long to wait, and changes nothing.
// It returns the address the link goes to.
func (a *App) SendVerification(ctx context.Context, c *Caller) (string, error) {
	u := c.User
	to := u.PendingEmail
	if to == "" {
		if u.EmailVerified() {
			return "", blog.ErrEmailVerified
		}
		to = u.Email
	}
	link, err := a.newEmailLink(u.ID, to)
	if err != nil {
		return "", err
	}
	var last time.Time
	err = a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		last = time.Time{}
		ok, at, err := tx.PutEmailVerification(ctx, &link.rec, link.rec.CreatedAt.Add(-blog.EmailVerifyEvery))
		if err == nil && !ok {
			last = at
		}
		return err
	})
	if err != nil {
		return "", err
	}
	if !last.IsZero() {
		return "", blog.TooSoonToVerify(last.Add(blog.EmailVerifyEvery).Sub(link.rec.CreatedAt))
	}
	a.sendEmailLink(ctx, u, link)
	return to, nil
}

// MarkEmailVerified marks u's address verified, as an administrator
// vouching for it (quill user verify-email), and voids its link. An
// address verified already keeps the time it was. If u's address changed
// since u was read, nothing changes and the error is
// blog.ErrInvalidVerification.
func (a *App) MarkEmailVerified(ctx context.Context, u *blog.User) error {
	return a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		ok, err := tx.MarkEmailVerified(ctx, u.ID, u.Email, a.now())
		if err != nil {
			return err
		}
		if !ok {
			return blog.ErrInvalidVerification
		}
		return tx.DeleteEmailVerification(ctx, u.ID, u.Email)
	})
}

// RequiresVerifiedEmail reports whether accounts must confirm their
// address before they write, and before a new address takes effect.
func (a *App) RequiresVerifiedEmail() bool { return a.requireVerified }

// MayWrite reports blog.ErrEmailUnverified when verified addresses are
// required and the caller's is not: such an account may read, change its
// account and delete its posts, but not write. The pages ask it before
// they show a form for writing.
func (a *App) MayWrite(c *Caller) error {
	if a.requireVerified && !c.User.EmailVerified() {
		return blog.ErrEmailUnverified
	}
	return nil
}
