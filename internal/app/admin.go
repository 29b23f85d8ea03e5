package app

import (
	"context"
	"errors"
	"strings"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// What an administrator does from the command line.

// Selector names one account by exactly one of its id, username (in any
// case and width) or email.
type Selector struct {
	ID       int64
	Username string
	Email    string
}

// FindUser returns the account sel names, or blog.ErrUserNotFound.
func (a *App) FindUser(ctx context.Context, sel Selector) (*blog.User, error) {
	switch {
	case sel.ID != 0:
		return a.store.User(ctx, sel.ID)
	case sel.Email != "":
		email := strings.ToLower(strings.TrimSpace(sel.Email))
		if !strings.Contains(email, "@") {
			return nil, blog.ErrUserNotFound
		}
		return a.store.UserByLogin(ctx, email)
	case sel.Username != "" && !strings.Contains(sel.Username, "@"):
		return a.store.UserByLogin(ctx, blog.LoginKey(sel.Username))
	}
	return nil, blog.ErrUserNotFound
}

// CheckAvailable reports blog.ErrUsernameTaken or blog.ErrEmailTaken when
// an account already has the username (ignoring case and width, or one
// that looks the same) or the email, so a command can say so before
// asking for a password. Register checks again, atomically.
func (a *App) CheckAvailable(ctx context.Context, username, email string) error {
	if taken, err := a.store.UsernameTaken(ctx, username); err != nil {
		return err
	} else if taken {
		return blog.ErrUsernameTaken
	}
	if _, err := a.store.UserByLogin(ctx, blog.LoginKey(email)); err == nil {
		return blog.ErrEmailTaken
	} else if !errors.Is(err, blog.ErrUserNotFound) {
		return err
	}
	return nil
}

// SetPassword gives u a new password as an administrator, without the
// current one, in one transaction with what it implies: every session of
// the account ends, reset links are void, the login throttle of its names
// is cleared. The account's address is told (a command that does not
// run Run sends the notice with SendQueuedMail). It returns how many
// sessions it ended. If u's password changed since u was read, nothing
// changes and the error is blog.ErrInvalidToken.
func (a *App) SetPassword(ctx context.Context, u *blog.User, password string) (ended int64, err error) {
	var v blog.Validator
	password = a.newPassword(&v, "password", password, u.Username, u.Email)
	if err := v.Err(); err != nil {
		return 0, err
	}
	hash, err := a.hasher.Hash(ctx, password)
	if err != nil {
		return 0, err
	}
	err = a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		if err := tx.SetPasswordHash(ctx, u.ID, u.PasswordHash, hash); err != nil {
			return err
		}
		ended, err = a.passwordReplaced(ctx, tx, u, "")
		return err
	})
	if err != nil {
		return 0, err
	}
	a.notify(ctx, u, noticePasswordSet)
	return ended, nil
}

// DeleteUser deletes an account with its posts, picture and sessions, and
// returns how many posts went with it.
func (a *App) DeleteUser(ctx context.Context, userID int64) (posts int64, err error) {
	err = a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		posts, err = tx.DeleteUser(ctx, userID)
		return err
	})
	return posts, err
}

// UserSessions lists an account's live sessions, newest first.
func (a *App) UserSessions(ctx context.Context, userID int64) ([]blog.Session, error) {
	return a.userSessions(ctx, userID)
}

// EndSessions ends every session of an account and returns how many it
// ended: every token of the account stops working at once.
func (a *App) EndSessions(ctx context.Context, userID int64) (ended int64, err error) {
	err = a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		ended, err = tx.DeleteSessions(ctx, userID, "")
		return err
	})
	return ended, err
}
