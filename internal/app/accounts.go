package app

import (
	"context"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// Registration is a new account. Problems are those an adapter found
// reading the request (fields missing or not text); the rules' problems
// are added to them and all are reported together, in field order.
type Registration struct {
	Username, Email, Password string
	Problems                  []blog.Problem
}

// Register creates an account, whose address is unverified: a link to
// confirm it is mailed. A username that is taken (ignoring case
// and width) is blog.ErrUsernameTaken, an email that is taken
// blog.ErrEmailTaken; when both are, the username is named.
func (a *App) Register(ctx context.Context, in Registration) (*blog.User, error) {
	u, err := a.register(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	return u.User, nil
}

// RegisterAndLogIn creates an account as Register does and starts a
// session for it, in the same transaction.
func (a *App) RegisterAndLogIn(ctx context.Context, in Registration, start SessionStart) (*Login, error) {
	return a.register(ctx, in, &start)
}

func (a *App) register(ctx context.Context, in Registration, start *SessionStart) (*Login, error) {
	v := blog.Validator{Problems: in.Problems}
	u := &blog.User{}
	if !v.Reported("username") {
		u.Username = v.Username(in.Username)
	}
	if !v.Reported("email") {
		u.Email = v.Email(in.Email)
	}
	var password string
	if !v.Reported("password") {
		password = a.newPassword(&v, "password", in.Password, u.Username, u.Email)
	}
	if err := v.Err("username", "email", "password"); err != nil {
		return nil, err
	}
	var err error
	if u.PasswordHash, err = a.hasher.Hash(ctx, password); err != nil {
		return nil, err
	}
	link, err := a.newEmailLink(0, u.Email)
	if err != nil {
		return nil, err
	}
	login := &Login{User: u}
	err = a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		created := *u
		if err := tx.CreateUser(ctx, &created); err != nil {
			return err
		}
		link.rec.UserID = created.ID
		if err := link.put(ctx, tx); err != nil {
			return err
		}
		login = &Login{User: &created}
		if start == nil {
			return nil
		}
		var err error
		login, err = a.startSession(ctx, tx, &created, *start)
		return err
	})
	if err != nil {
		return nil, err
	}
	a.sendEmailLink(ctx, login.User, link)
	return login, nil
}

// newPassword checks a password being set (length, then strength against
// the common-password list and the account's names) and returns the form
// to hash, recording problems under field.
func (a *App) newPassword(v *blog.Validator, field, pw, username, email string) string {
	before := len(v.Problems)
	pw = v.Password(field, pw)
	if len(v.Problems) == before {
		if msg := a.policy.Check(pw, username, email); msg != "" {
			v.Add("value_error", msg, "body", field)
		}
	}
	return pw
}

// User returns a user's public profile, or blog.ErrUserNotFound.
func (a *App) User(ctx context.Context, id int64) (*blog.User, error) {
	return a.store.User(ctx, id)
}

// AccountChange changes the caller's own account: any of its username,
// email and password (nil: unchanged). Changing the email or the password
// needs CurrentPassword. Problems are those an adapter found reading the
// request.
type AccountChange struct {
	Username, Email *string
	Password        *string
	CurrentPassword *string
	Problems        []blog.Problem
}

// ChangeAccount applies a change to the account userID, which must be the
// caller's (blog.ErrNotYourAccount), in one transaction: a new password
// also ends every other session and clears the login throttle of the
// account's names. A new email takes effect at once, unverified, and
// voids every password reset link; with RequireVerifiedEmail it waits
// instead, as the pending address, until confirmed (VerifyEmail), and
// the current address back calls that off. Either way a link to confirm
// it goes to the new address. The address the account had is told of a
// new password, a new username, and once it has changed, a new address.
// A missing or empty CurrentPassword, where one is needed, is
// blog.ErrNeedPassword; a wrong one is blog.ErrWrongPassword and counts
// as a failed login.
func (a *App) ChangeAccount(ctx context.Context, c *Caller, userID int64, in AccountChange) (*blog.User, error) {
	if userID != c.User.ID {
		return nil, blog.ErrNotYourAccount
	}
	v := blog.Validator{Problems: in.Problems}
	u := *c.User
	if in.Username != nil {
		u.Username = v.Username(*in.Username)
	}
	if in.Email != nil {
		u.Email = v.Email(*in.Email)
	}
	var password string
	if in.Password != nil {
		password = a.newPassword(&v, "password", *in.Password, u.Username, u.Email)
	}
	if err := v.Err("username", "email", "password", "current_password"); err != nil {
		return nil, err
	}
	// The pending address asked for again is no new change: a password
	// was given for it.
	again := a.requireVerified && c.User.PendingEmail != "" && u.Email == c.User.PendingEmail
	if in.Password != nil || (u.Email != c.User.Email && !again) {
		if in.CurrentPassword == nil || *in.CurrentPassword == "" {
			return nil, blog.ErrNeedPassword
		}
		if err := a.checkPassword(ctx, c.User, *in.CurrentPassword); err != nil {
			return nil, err
		}
	}
	return a.saveAccount(ctx, c, &profile{User: u, emailAsked: in.Email != nil}, in.Password != nil, password)
}

// profile is a change of the caller's username and email: User holds
// them. emailAsked is false when the request did not name an email (a
// PATCH of the username alone), which leaves a pending address be.
type profile struct {
	blog.User
	emailAsked bool
}

// PasswordChange is a new password for the caller, confirmed with the
// current one (fields current_password and new_password).
type PasswordChange struct {
	Current, New string
	Problems     []blog.Problem
}

// ChangePassword sets a new password for the caller, who must give the
// current one, in one transaction with what it implies: every other
// session ends, reset links are void, the login throttle of the account's
// names is cleared. The account's address is told. A wrong current
// password (an empty one too) is blog.ErrWrongPassword and counts as a
// failed login.
func (a *App) ChangePassword(ctx context.Context, c *Caller, in PasswordChange) error {
	v := blog.Validator{Problems: in.Problems}
	var password string
	if !v.Reported("new_password") {
		password = a.newPassword(&v, "new_password", in.New, c.User.Username, c.User.Email)
	}
	if err := v.Err("current_password", "new_password"); err != nil {
		return err
	}
	if err := a.checkPassword(ctx, c.User, in.Current); err != nil {
		return err
	}
	_, err := a.saveAccount(ctx, c, nil, true, password)
	return err
}

// saveAccount stores the caller's new profile u (nil: unchanged) and, if
// setPassword, the new password, with every consequence, in one
// transaction, then queues the mails that tell of it: a link to a new
// address, and notices to the address the account had (see
// ChangeAccount). Every write is conditional on the password hash the
// caller authenticated with: a request authenticated before a password
// change cannot write after it (blog.ErrInvalidToken). It returns the
// account as saved.
func (a *App) saveAccount(ctx context.Context, c *Caller, u *profile, setPassword bool, password string) (*blog.User, error) {
	var newHash string
	if setPassword {
		var err error
		if newHash, err = a.hasher.Hash(ctx, password); err != nil {
			return nil, err
		}
	}
	var link *emailLink
	if u != nil && u.Email != c.User.Email {
		var err error
		if link, err = a.newEmailLink(c.User.ID, u.Email); err != nil {
			return nil, err
		}
	}
	var (
		saved    *blog.User
		mailLink bool // link was stored, to be mailed
	)
	err := a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		mailLink = false
		if u != nil {
			var err error
			if mailLink, err = a.saveProfile(ctx, tx, c.User, *u, link); err != nil {
				return err
			}
		}
		if setPassword {
			if err := tx.SetPasswordHash(ctx, c.User.ID, c.User.PasswordHash, newHash); err != nil {
				return err
			}
			user := *c.User
			user.PasswordHash = newHash
			if _, err := a.passwordReplaced(ctx, tx, &user, c.Session.ID); err != nil {
				return err
			}
		}
		var err error
		saved, err = tx.User(ctx, c.User.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if mailLink {
		a.sendEmailLink(ctx, saved, link)
	}
	if saved.Email != c.User.Email {
		a.notifyEmailChanged(ctx, c.User, saved.Email)
	}
	if saved.Username != c.User.Username {
		a.notifyAt(ctx, saved, c.User.Email, noticeUsernameChanged, noticeDetail{oldName: c.User.Username})
	}
	if setPassword {
		// To the address the account had: the one its owner is known to read.
		a.notifyAt(ctx, saved, c.User.Email, noticePasswordChanged, noticeDetail{})
	}
	return saved, nil
}

// saveProfile stores in tx the username and email of p, a change of the
// account old, and what a new email implies. link is the verification
// link for p.Email when that is not old's address; stored reports
// whether it was stored, and so is to be mailed.
func (a *App) saveProfile(ctx context.Context, tx *sqlstore.Tx, old *blog.User, p profile, link *emailLink) (stored bool, err error) {
	u := p.User
	wanted := u.Email
	pending := a.requireVerified && wanted != old.Email
	if pending {
		u.Email = old.Email // until the new one is confirmed
	}
	u.PasswordHash = old.PasswordHash
	if err := tx.UpdateProfile(ctx, &u); err != nil {
		return false, err
	}
	switch {
	case u.Email != old.Email:
		// The address changed at once (UpdateProfile made it unverified).
		// Whoever holds the old mailbox must not keep a way in.
		if err := tx.DeletePasswordResets(ctx, old.ID); err != nil {
			return false, err
		}
		return true, link.put(ctx, tx)
	case pending && wanted != old.PendingEmail:
		taken, err := tx.EmailTaken(ctx, wanted, old.ID)
		if err != nil {
			return false, err
		}
		if taken {
			return false, blog.ErrEmailTaken
		}
		if err := tx.SetPendingEmail(ctx, old.ID, wanted); err != nil {
			return false, err
		}
		return true, link.put(ctx, tx)
	case p.emailAsked && wanted == old.Email && old.PendingEmail != "":
		// The current address again: the change is called off.
		if err := tx.SetPendingEmail(ctx, old.ID, ""); err != nil {
			return false, err
		}
		return false, tx.DeleteEmailVerification(ctx, old.ID, old.PendingEmail)
	}
	// The pending address asked for again: it waits as it was (the user
	// may ask for its link again).
	return false, nil
}

// passwordReplaced does in tx what a new password for u implies: every
// session but keep ends (all when keep is ""), every reset link is void,
// and the login throttle of u's names is cleared, so the new password
// works at once. It returns how many sessions it ended.
func (a *App) passwordReplaced(ctx context.Context, tx *sqlstore.Tx, u *blog.User, keep string) (ended int64, err error) {
	if ended, err = tx.DeleteSessions(ctx, u.ID, keep); err != nil {
		return 0, err
	}
	if err := tx.DeletePasswordResets(ctx, u.ID); err != nil {
		return 0, err
	}
	return ended, tx.ClearLoginFailures(ctx, loginKeys(u)...)
}

// DeleteAccount deletes the account userID, which must be the caller's
// (blog.ErrNotYourAccountDelete), with its posts, picture and sessions.
func (a *App) DeleteAccount(ctx context.Context, c *Caller, userID int64) error {
	if userID != c.User.ID {
		return blog.ErrNotYourAccountDelete
	}
	return a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.DeleteUser(ctx, c.User.ID)
		return err
	})
}
