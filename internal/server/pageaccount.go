package server

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/quill-blog/quill/internal/blog"
)

// loginView is the login form; Next is where to go afterwards, Done what
// just happened (a key of the template's messages).
type loginView struct {
	Next string
	Done string
}

// pageLogin shows the login form: GET /login. Someone logged in already
// goes straight on.
func (s *Server) pageLogin(w http.ResponseWriter, r *http.Request, c *caller) error {
	next := localPath(r.URL.Query().Get("next"))
	if c != nil {
		return seeOther(w, r, next)
	}
	return s.render(w, r, c, http.StatusOK, "login", view{Title: "Log in", Data: loginView{Next: next, Done: r.URL.Query().Get("done")}})
}

// pageLoginPost logs in: POST /login checks the credentials as the token
// endpoint does, starts a session and sets its cookie.
func (s *Server) pageLoginPost(w http.ResponseWriter, r *http.Request, c *caller) error {
	next := localPath(r.PostForm.Get("next"))
	u, err := s.checkLogin(r, r.PostForm)
	if status, f, ok := formFailure(err, withoutPasswords(r.PostForm)); ok {
		return s.render(w, r, nil, status, "login", view{Title: "Log in", Form: f, Data: loginView{Next: next}})
	}
	if err != nil {
		return err
	}
	if err := s.logIn(w, r, c, u); err != nil {
		return err
	}
	return seeOther(w, r, next)
}

// logIn starts a session for u in this browser, ending the one it had.
func (s *Server) logIn(w http.ResponseWriter, r *http.Request, c *caller, u *blog.User) error {
	if c != nil {
		if err := s.store.DeleteSession(r.Context(), c.user.ID, c.session.ID); err != nil && !errors.Is(err, blog.ErrSessionNotFound) {
			return err
		}
	}
	sess, _, err := s.newSession(r, u)
	if err != nil {
		return err
	}
	return s.setSessionCookie(w, r, u, sess)
}

// pageRegister shows the registration form: GET /register.
func (s *Server) pageRegister(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.render(w, r, c, http.StatusOK, "register", view{Title: "Register"})
}

// pageRegisterPost creates an account as POST /api/users does, then logs
// it in: POST /register.
func (s *Server) pageRegisterPost(w http.ResponseWriter, r *http.Request, c *caller) error {
	u, err := s.register(r.Context(), &formFields{values: r.PostForm})
	if status, f, ok := formFailure(err, withoutPasswords(r.PostForm)); ok {
		return s.render(w, r, c, status, "register", view{Title: "Register", Form: f})
	}
	if err != nil {
		return err
	}
	if err := s.logIn(w, r, c, u); err != nil {
		return err
	}
	return seeOther(w, r, "/")
}

// pageLogout ends this browser's session on the server and drops its
// cookie: POST /logout.
func (s *Server) pageLogout(w http.ResponseWriter, r *http.Request, c *caller) error {
	if c != nil {
		if err := s.store.DeleteSession(r.Context(), c.user.ID, c.session.ID); err != nil && !errors.Is(err, blog.ErrSessionNotFound) {
			return err
		}
	}
	s.clearSessionCookie(w, r)
	return seeOther(w, r, "/")
}

// accountView is the account page. Each of its forms is shown again on
// its own when it fails.
type accountView struct {
	Done     string // what was just saved: a key of the template's messages
	Profile  *form
	Picture  *form
	Password *form
	Sessions []sessionView
}

// The account page's forms, for renderAccount.
const (
	profileForm  = "profile"
	pictureForm  = "picture"
	passwordForm = "password"
)

// sessionView is one of the caller's sessions.
type sessionView struct {
	blog.Session
	Current bool
}

// pageAccount shows the account page: GET /account.
func (s *Server) pageAccount(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.renderAccount(w, r, c, http.StatusOK, "", nil)
}

// renderAccount shows the account page, with the form named which shown
// again as f, if f is not nil.
func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, c *caller, status int, which string, f *form) error {
	sessions, err := s.liveSessions(r.Context(), *c)
	if err != nil {
		return err
	}
	v := accountView{
		Done:     r.URL.Query().Get("done"),
		Profile:  &form{Values: url.Values{"username": {c.user.Username}, "email": {c.user.Email}}},
		Picture:  &form{ID: pictureForm},
		Password: &form{ID: passwordForm},
	}
	switch which {
	case profileForm:
		v.Profile = f
	case pictureForm:
		f.ID = pictureForm
		v.Picture = f
	case passwordForm:
		f.ID = passwordForm
		v.Password = f
	}
	for _, sess := range sessions {
		v.Sessions = append(v.Sessions, sessionView{Session: sess, Current: sess.ID == c.session.ID})
	}
	return s.render(w, r, c, status, "account", view{Title: "Your account", Data: v})
}

// pageUpdateProfile changes the username and email as PATCH
// /api/users/{id} does: POST /account.
func (s *Server) pageUpdateProfile(w http.ResponseWriter, r *http.Request, c *caller) error {
	u, err := s.updateProfile(r.Context(), *c, &formFields{values: r.PostForm})
	if status, f, ok := formFailure(err, withoutPasswords(r.PostForm)); ok {
		return s.renderAccount(w, r, c, status, profileForm, f)
	}
	if err != nil {
		return err
	}
	c.user = u
	return seeOther(w, r, "/account?done=profile")
}

// pageSetPicture sets the profile picture as PATCH
// /api/users/{id}/picture does: POST /account/picture, a multipart form
// read as it streams in (so its CSRF token is checked here).
func (s *Server) pageSetPicture(w http.ResponseWriter, r *http.Request, c *caller) error {
	data, fields, err := readPictureUpload(w, r)
	if err == nil {
		if err := s.checkCSRF(r, c, fields.Get(csrfField)); err != nil {
			return err
		}
		_, err = s.setPicture(r, *c, data)
	}
	if status, f, ok := formFailure(err, nil); ok {
		// Every failure of an upload is about the file.
		if msg := f.Errors[""]; msg != "" {
			delete(f.Errors, "")
			f.Errors["file"] = msg
		}
		return s.renderAccount(w, r, c, status, pictureForm, f)
	}
	if err != nil {
		return err
	}
	return seeOther(w, r, "/account?done=picture#picture")
}

// pageDeletePicture goes back to the default picture as DELETE
// /api/users/{id}/picture does: POST /account/picture/delete.
func (s *Server) pageDeletePicture(w http.ResponseWriter, r *http.Request, c *caller) error {
	err := s.store.DeletePicture(r.Context(), c.user.ID)
	if status, f, ok := formFailure(err, nil); ok {
		return s.renderAccount(w, r, c, status, pictureForm, f)
	}
	if err != nil {
		return err
	}
	return seeOther(w, r, "/account?done=picture-removed#picture")
}

// pageChangePassword sets a new password as PATCH /api/users/me/password
// does, ending every other session: POST /account/password.
func (s *Server) pageChangePassword(w http.ResponseWriter, r *http.Request, c *caller) error {
	err := s.changePassword(r.Context(), *c, &formFields{values: r.PostForm})
	if status, f, ok := formFailure(err, nil); ok {
		return s.renderAccount(w, r, c, status, passwordForm, f)
	}
	if err != nil {
		return err
	}
	return seeOther(w, r, "/account?done=password#password")
}

// pageEndSession ends one of the caller's sessions as DELETE
// /api/users/me/sessions/{id} does: POST /account/sessions/{session_id}/delete.
func (s *Server) pageEndSession(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("session_id")
	if err := s.endSession(r.Context(), *c, id); err != nil {
		return err
	}
	if id == c.session.ID {
		s.clearSessionCookie(w, r)
		return seeOther(w, r, "/")
	}
	return seeOther(w, r, "/account?done=session#sessions")
}

// pageEndOtherSessions ends every session but this one:
// POST /account/sessions/delete-others.
func (s *Server) pageEndOtherSessions(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.store.DeleteSessions(r.Context(), c.user.ID, c.session.ID); err != nil {
		return err
	}
	return seeOther(w, r, "/account?done=sessions#sessions")
}

// pageDeleteAccount deletes the caller's account as DELETE /api/users/{id}
// does, with its posts, picture and sessions: POST /account/delete.
func (s *Server) pageDeleteAccount(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.store.DeleteUser(r.Context(), c.user.ID); err != nil {
		return err
	}
	s.clearSessionCookie(w, r)
	return seeOther(w, r, "/")
}

// withoutPasswords is a submitted form without its password fields, so a
// form shown again never carries one back.
func withoutPasswords(values url.Values) url.Values {
	out := url.Values{}
	for k, v := range values {
		switch k {
		case "password", "current_password", "new_password", csrfField:
		default:
			out[k] = v
		}
	}
	return out
}

// forgotView is the forgot-password page; Sent is true once a request
// went through.
type forgotView struct {
	Sent    bool
	Message string
}

// pageForgot shows the form that asks for a reset link: GET /forgot-password.
func (s *Server) pageForgot(w http.ResponseWriter, r *http.Request, c *caller) error {
	v := forgotView{Sent: r.URL.Query().Get("sent") == "1", Message: forgotAnswer.Detail}
	return s.render(w, r, c, http.StatusOK, "forgot", view{Title: "Forgot your password?", Data: v})
}

// pageForgotPost asks for a reset link as POST /api/users/forgot-password
// does, with the same answer whether or not the address has an account:
// POST /forgot-password.
func (s *Server) pageForgotPost(w http.ResponseWriter, r *http.Request, c *caller) error {
	err := s.forgotPassword(r, &formFields{values: r.PostForm})
	if status, f, ok := formFailure(err, r.PostForm); ok {
		return s.render(w, r, c, status, "forgot", view{Title: "Forgot your password?", Form: f, Data: forgotView{}})
	}
	if err != nil {
		return err
	}
	return seeOther(w, r, "/forgot-password?sent=1")
}

// resetView is the reset-password form; Token comes from the link.
type resetView struct {
	Token string
}

// pageReset shows the form that sets a new password with the token of a
// reset link: GET /reset-password?token=…. The page sends no Referer, so
// the token does not travel further.
func (s *Server) pageReset(w http.ResponseWriter, r *http.Request, c *caller) error {
	w.Header().Set("Referrer-Policy", "no-referrer")
	return s.render(w, r, c, http.StatusOK, "reset", view{Title: "Choose a new password", Data: resetView{Token: r.URL.Query().Get("token")}})
}

// pageResetPost sets the new password as POST /api/users/reset-password
// does, then sends you to log in with it: POST /reset-password.
func (s *Server) pageResetPost(w http.ResponseWriter, r *http.Request, c *caller) error {
	w.Header().Set("Referrer-Policy", "no-referrer")
	err := s.resetPassword(r, &formFields{values: r.PostForm})
	if status, f, ok := formFailure(err, nil); ok {
		return s.render(w, r, c, status, "reset", view{Title: "Choose a new password", Form: f,
			Data: resetView{Token: r.PostForm.Get("token")}})
	}
	if err != nil {
		return err
	}
	// Every session of the account has ended; if this browser had one, its
	// cookie goes on its next request.
	return seeOther(w, r, "/login?done=reset")
}
