package app

import (
	"context"

	"github.com/quill-blog/quill/internal/blog"
)

// TakenNames says which of the names asked about belong to another
// account.
type TakenNames struct {
	Username, Email bool
}

// NamesTaken reports whether username and email, as a registration (c is
// nil) or a change of the caller's profile would store them, belong to
// another account; a username that looks like a taken one is taken, as
// for Register. A name that is not valid is not looked up (its problem is
// a validation one), nor one the caller has already.
//
// Register and ChangeAccount validate every field before they look names
// up, and report a taken name only once the rest is valid, as the
// FastAPI tutorial's API does. A form that failed validation asks this
// too, so that a person learns everything that is wrong at once.
func (a *App) NamesTaken(ctx context.Context, c *Caller, username, email string) (TakenNames, error) {
	var v blog.Validator
	if username != "" {
		username = v.Username(username)
	}
	if email != "" {
		email = v.Email(email)
	}
	if v.Reported("username") {
		username = ""
	}
	if v.Reported("email") {
		email = ""
	}
	var self int64
	if c != nil {
		self = c.User.ID
		if k, err := blog.UsernameKey(username); err == nil {
			if own, err := blog.UsernameKey(c.User.Username); err == nil && k == own {
				username = "" // not a rename: always free
			}
		}
		if email == c.User.Email {
			email = ""
		}
	}
	if username == "" && email == "" {
		return TakenNames{}, nil
	}
	var taken TakenNames
	var err error
	taken.Username, taken.Email, err = a.store.NamesTaken(ctx, username, email, self)
	return taken, err
}
