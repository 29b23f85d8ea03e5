package server

import (
	"context"
	"net/http"

	"github.com/quill-blog/quill/internal/blog"
)

var (
	errNotYourAccount    = blog.Forbid("Not authorized to update this user")
	errNotYourUserDelete = blog.Forbid("Not authorized to delete this user")
	errNeedPassword      = &blog.Error{Kind: blog.Invalid, Code: "current_password_required",
		Message: "Current password is required to change the email or password"}
)

// handleRegister creates an account: POST /api/users.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) error {
	body, err := decodeJSON(w, r)
	if err != nil {
		return err
	}
	u, err := s.register(r.Context(), body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, privateUser(u))
	return nil
}

// register checks a registration's username, email and password and
// creates the account; the API and the register page share it.
func (s *Server) register(ctx context.Context, body fields) (*blog.User, error) {
	v := body.validator()
	u := &blog.User{}
	var password string
	if name, ok := body.field("username", true); ok {
		u.Username = v.Username(name)
	}
	if email, ok := body.field("email", true); ok {
		u.Email = v.Email(email)
	}
	if pw, ok := body.field("password", true); ok {
		password = s.newPassword(v, "password", pw, u.Username, u.Email)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var err error
	if u.PasswordHash, err = s.hasher.Hash(ctx, password); err != nil {
		return nil, err
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// newPassword checks a password being set (length, then strength) and
// returns the form to hash.
func (s *Server) newPassword(v *blog.Validator, field, pw, username, email string) string {
	before := len(v.Problems)
	pw = v.Password(field, pw)
	if len(v.Problems) == before {
		if msg := s.policy.Check(pw, username, email); msg != "" {
			v.Add("value_error", msg, "body", field)
		}
	}
	return pw
}

// handleMe returns the caller's own account: GET /api/users/me.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, c caller) error {
	writeJSON(w, http.StatusOK, privateUser(c.user))
	return nil
}

// handleUser returns a user's public profile: GET /api/users/{user_id}.
func (s *Server) handleUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	u, err := s.store.User(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, publicUser(u))
	return nil
}

// ownAccount checks that the path's user is the caller. As in the
// tutorial, someone else's id is 403 whether or not that user exists.
func ownAccount(r *http.Request, c caller, forbidden error) error {
	id, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	if id != c.user.ID {
		return forbidden
	}
	return nil
}

// handlePatchUser changes any of username and email:
// PATCH /api/users/{user_id}. An email change needs the current password.
func (s *Server) handlePatchUser(w http.ResponseWriter, r *http.Request, c caller) error {
	if err := ownAccount(r, c, errNotYourAccount); err != nil {
		return err
	}
	body, err := decodeJSON(w, r)
	if err != nil {
		return err
	}
	u, err := s.updateProfile(r.Context(), c, body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, privateUser(u))
	return nil
}

// updateProfile changes any of the caller's username and email; an email
// change needs the current password. The API's PATCH and the account page
// share it.
func (s *Server) updateProfile(ctx context.Context, c caller, body fields) (*blog.User, error) {
	v := body.validator()
	u := *c.user
	if name, ok := body.field("username", false); ok {
		u.Username = v.Username(name)
	}
	if email, ok := body.field("email", false); ok {
		u.Email = v.Email(email)
	}
	current, hasCurrent := body.field("current_password", false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if u.Email != c.user.Email {
		if err := s.checkCurrentPassword(ctx, c.user, current, hasCurrent); err != nil {
			return nil, err
		}
	}
	if err := s.store.UpdateUser(ctx, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// handlePutUser is the tutorial's full update: PUT /api/users/{user_id}
// with username and email, and optionally a new password. Changing the
// email or the password needs the current password; a new password ends
// every other session and any password reset link.
func (s *Server) handlePutUser(w http.ResponseWriter, r *http.Request, c caller) error {
	if err := ownAccount(r, c, errNotYourAccount); err != nil {
		return err
	}
	body, err := decodeJSON(w, r)
	if err != nil {
		return err
	}
	v := &body.v
	u := *c.user
	if name, ok := body.field("username", true); ok {
		u.Username = v.Username(name)
	}
	if email, ok := body.field("email", true); ok {
		u.Email = v.Email(email)
	}
	newPassword, changePassword := body.field("password", false)
	if changePassword {
		newPassword = s.newPassword(v, "password", newPassword, u.Username, u.Email)
	}
	current, hasCurrent := body.field("current_password", false)
	if err := v.Err(); err != nil {
		return err
	}
	if changePassword || u.Email != c.user.Email {
		if err := s.checkCurrentPassword(r.Context(), c.user, current, hasCurrent); err != nil {
			return err
		}
	}
	var newHash string
	if changePassword {
		if newHash, err = s.hasher.Hash(r.Context(), newPassword); err != nil {
			return err
		}
	}
	if err := s.store.UpdateUser(r.Context(), &u); err != nil {
		return err
	}
	if changePassword {
		// With the rest of what a new password means: every other session
		// and any reset link end.
		if err := s.store.SetPassword(r.Context(), u.ID, u.PasswordHash, newHash, c.session.ID); err != nil {
			return err
		}
		u.PasswordHash = newHash
	}
	writeJSON(w, http.StatusOK, privateUser(&u))
	return nil
}

// checkCurrentPassword verifies the current password a sensitive change
// came with.
func (s *Server) checkCurrentPassword(ctx context.Context, u *blog.User, current string, given bool) error {
	if !given || current == "" {
		return errNeedPassword
	}
	ok, _, err := s.hasher.Verify(ctx, current, u.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		return blog.ErrWrongPassword
	}
	return nil
}

// handleDeleteUser deletes the caller's account with its posts, picture
// and sessions: DELETE /api/users/{user_id}.
func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request, c caller) error {
	if err := ownAccount(r, c, errNotYourUserDelete); err != nil {
		return err
	}
	if err := s.store.DeleteUser(r.Context(), c.user.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleUserPosts lists a user's posts, newest first:
// GET /api/users/{user_id}/posts.
func (s *Server) handleUserPosts(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	req, err := pageRequest(r)
	if err != nil {
		return err
	}
	page, err := s.store.Posts(r.Context(), id, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(page))
	return nil
}
