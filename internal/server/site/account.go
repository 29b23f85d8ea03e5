package site

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// loginView is the login form; Next is where to go afterwards, Done what
// just happened (a key of the template's messages).
type loginView struct {
	Next string
	Done string
}

// Login shows the login form: GET /login. Someone logged in already
// goes straight on.
func (s *Site) Login(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	next := localPath(r.URL.Query().Get("next"))
	if c != nil {
		return seeOther(w, r, next)
	}
	return s.render(w, r, c, http.StatusOK, "login", view{Title: "Log in", Data: loginView{Next: next, Done: r.URL.Query().Get("done")}})
}

// LoginPost logs in: POST /login checks the credentials as the token
// endpoint does, starts a session and sets its cookie. An account with
// two-factor login on is asked for its code next (LoginCodePost).
func (s *Site) LoginPost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	next := localPath(r.PostForm.Get("next"))
	err := s.clients.Allow(r, s.limits.Logins)
	var (
		login     *app.Login
		challenge *app.Challenge
	)
	if err == nil {
		login, challenge, err = s.app.BeginLogIn(r.Context(), httpx.ReadCredentials(r.PostForm), s.sessionStart(r, c))
	}
	if status, f, ok := formFailure(err, withoutPasswords(r.PostForm)); ok {
		return s.render(w, r, nil, status, "login", view{Title: "Log in", Form: f, Data: loginView{Next: next}})
	}
	if err != nil {
		return err
	}
	if challenge != nil {
		return s.renderLoginCode(w, r, http.StatusOK, loginCodeView{Challenge: challenge.Token, Next: next}, nil)
	}
	s.setSessionCookie(w, r, login)
	return seeOther(w, r, next)
}

// sessionStart starts a session in this browser, ending the one it had.
func (s *Site) sessionStart(r *http.Request, c *app.Caller) app.SessionStart {
	return app.SessionStart{
		Client:   app.Client{UserAgent: r.UserAgent(), IP: s.clients.IP(r)},
		Browser:  true,
		Replaces: c,
	}
}

// Register shows the registration form: GET /register.
func (s *Site) Register(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	return s.render(w, r, c, http.StatusOK, "register", view{Title: "Register"})
}

// RegisterPost creates an account as POST /api/users does, then logs
// it in: POST /register.
func (s *Site) RegisterPost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	if err := s.clients.Allow(r, s.limits.Registrations); err != nil {
		return err
	}
	login, err := s.app.RegisterAndLogIn(r.Context(), httpx.ReadRegistration(httpx.NewFormFields(r.PostForm)), s.sessionStart(r, c))
	if status, f, ok := formFailure(err, withoutPasswords(r.PostForm)); ok {
		return s.render(w, r, c, status, "register", view{Title: "Register", Form: f})
	}
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, login)
	return seeOther(w, r, "/")
}

// Logout ends this browser's session on the server and drops its
// cookie: POST /logout.
func (s *Site) Logout(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	if c != nil {
		if err := s.app.LogOut(r.Context(), c); err != nil && !errors.Is(err, blog.ErrSessionNotFound) {
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
	TOTP     bool  // two-factor login is on
	TOTPForm *form // the form that turns it off
}

// The account page's forms, for renderAccount.
const (
	profileForm  = "profile"
	pictureForm  = "picture"
	passwordForm = "password"
	totpForm     = "totp"
)

// sessionView is one of the caller's sessions.
type sessionView struct {
	blog.Session
	Current bool
}

// Account shows the account page: GET /account.
func (s *Site) Account(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	return s.renderAccount(w, r, c, http.StatusOK, "", nil)
}

// renderAccount shows the account page, with the form named which shown
// again as f, if f is not nil.
func (s *Site) renderAccount(w http.ResponseWriter, r *http.Request, c *app.Caller, status int, which string, f *form) error {
	sessions, err := s.app.Sessions(r.Context(), c)
	if err != nil {
		return err
	}
	totp, err := s.app.TOTPEnabled(r.Context(), c.User.ID)
	if err != nil {
		return err
	}
	v := accountView{
		Done:     r.URL.Query().Get("done"),
		Profile:  &form{Values: url.Values{"username": {c.User.Username}, "email": {c.User.Email}}},
		Picture:  &form{ID: pictureForm},
		Password: &form{ID: passwordForm},
		TOTP:     totp,
		TOTPForm: &form{ID: totpForm},
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
	case totpForm:
		f.ID = totpForm
		v.TOTPForm = f
	}
	for _, sess := range sessions {
		v.Sessions = append(v.Sessions, sessionView{Session: sess, Current: sess.ID == c.Session.ID})
	}
	return s.render(w, r, c, status, "account", view{Title: "Your account", Data: v})
}

// UpdateProfile changes the username and email as PATCH
// /api/users/{id} does: POST /account.
func (s *Site) UpdateProfile(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	u, err := s.app.ChangeAccount(r.Context(), c, c.User.ID, httpx.ReadAccountChange(httpx.NewFormFields(r.PostForm)))
	if status, f, ok := formFailure(err, withoutPasswords(r.PostForm)); ok {
		return s.renderAccount(w, r, c, status, profileForm, f)
	}
	if err != nil {
		return err
	}
	c.User = u
	return seeOther(w, r, "/account?done=profile")
}

// SetPicture sets the profile picture as PATCH
// /api/users/{id}/picture does: POST /account/picture, a multipart form
// read as it streams in (so its CSRF token is checked here).
func (s *Site) SetPicture(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	data, fields, err := httpx.ReadPictureUpload(w, r)
	if err == nil {
		if err := s.checkCSRF(r, c, fields.Get(csrfField)); err != nil {
			return err
		}
		_, err = s.app.SetPicture(r.Context(), c, c.User.ID, data)
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

// DeletePicture goes back to the default picture as DELETE
// /api/users/{id}/picture does: POST /account/picture/delete.
func (s *Site) DeletePicture(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	_, err := s.app.DeletePicture(r.Context(), c, c.User.ID)
	if status, f, ok := formFailure(err, nil); ok {
		return s.renderAccount(w, r, c, status, pictureForm, f)
	}
	if err != nil {
		return err
	}
	return seeOther(w, r, "/account?done=picture-removed#picture")
}

// ChangePassword sets a new password as PATCH /api/users/me/password
// does, ending every other session: POST /account/password.
func (s *Site) ChangePassword(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	err := s.app.ChangePassword(r.Context(), c, httpx.ReadPasswordChange(httpx.NewFormFields(r.PostForm)))
	if status, f, ok := formFailure(err, nil); ok {
		return s.renderAccount(w, r, c, status, passwordForm, f)
	}
	if err != nil {
		return err
	}
	return seeOther(w, r, "/account?done=password#password")
}

// EndSession ends one of the caller's sessions as DELETE
// /api/users/me/sessions/{id} does: POST /account/sessions/{session_id}/delete.
func (s *Site) EndSession(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	id := r.PathValue("session_id")
	if err := s.app.EndSession(r.Context(), c, id); err != nil {
		return err
	}
	if id == c.Session.ID {
		s.clearSessionCookie(w, r)
		return seeOther(w, r, "/")
	}
	return seeOther(w, r, "/account?done=session#sessions")
}

// EndOtherSessions ends every session but this one:
// POST /account/sessions/delete-others.
func (s *Site) EndOtherSessions(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	if _, err := s.app.EndOtherSessions(r.Context(), c); err != nil {
		return err
	}
	return seeOther(w, r, "/account?done=sessions#sessions")
}

// DeleteAccount deletes the caller's account as DELETE /api/users/{id}
// does, with its posts, picture and sessions: POST /account/delete.
func (s *Site) DeleteAccount(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	if err := s.app.DeleteAccount(r.Context(), c, c.User.ID); err != nil {
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

// Forgot shows the form that asks for a reset link: GET /forgot-password.
func (s *Site) Forgot(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	v := forgotView{Sent: r.URL.Query().Get("sent") == "1", Message: app.ForgotAnswer}
	return s.render(w, r, c, http.StatusOK, "forgot", view{Title: "Forgot your password?", Data: v})
}

// ForgotPost asks for a reset link as POST /api/users/forgot-password
// does, with the same answer whether or not the address has an account:
// POST /forgot-password.
func (s *Site) ForgotPost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	if err := s.clients.Allow(r, s.limits.ResetRequests); err != nil {
		return err
	}
	err := s.app.RequestPasswordReset(r.Context(), httpx.ReadResetRequest(httpx.NewFormFields(r.PostForm)))
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

// Reset shows the form that sets a new password with the token of a
// reset link: GET /reset-password?token=…. The page sends no Referer, so
// the token does not travel further.
func (s *Site) Reset(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	w.Header().Set("Referrer-Policy", "no-referrer")
	return s.render(w, r, c, http.StatusOK, "reset", view{Title: "Choose a new password", Data: resetView{Token: r.URL.Query().Get("token")}})
}

// ResetPost sets the new password as POST /api/users/reset-password
// does, then sends you to log in with it: POST /reset-password.
func (s *Site) ResetPost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	w.Header().Set("Referrer-Policy", "no-referrer")
	err := s.app.ResetPassword(r.Context(), httpx.ReadPasswordReset(httpx.NewFormFields(r.PostForm)))
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
