package site

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// loginView is the login form; Next is where to go afterwards.
type loginView struct {
	Next    string
	Passkey *form // a failed login with a passkey, shown again
}

// Login shows the login form: GET /login. Someone logged in already
// goes straight on.
func (s *Site) Login(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	next := localPath(r.URL.Query().Get("next"))
	if c != nil {
		return seeOther(w, r, next)
	}
	return s.render(w, r, c, http.StatusOK, "login", view{Title: "Log in", Data: loginView{Next: next}})
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
	if status, f, ok := formFailureOf("login", err, withoutPasswords(r.PostForm)); ok {
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
	if status, f, ok := formFailureOf("register", err, withoutPasswords(r.PostForm)); ok {
		if status == http.StatusUnprocessableEntity {
			s.addTakenNames(r, f, nil)
		}
		return s.render(w, r, c, status, "register", view{Title: "Register", Form: f})
	}
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, login)
	return s.done(w, r, "/", "registered")
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
	return s.done(w, r, "/", "logged-out")
}

// accountView is the account page. Each of its forms is shown again on
// its own when it fails; its action ends in the form's section (#password),
// so that the browser shows the page at that section, message in view.
type accountView struct {
	Profile  *form
	Picture  *form
	Password *form
	Verify   *form // the button that mails a new verification link
	Sessions []sessionView

	Passkeys    []passkeyView
	Passkey     *form // adding one
	PasskeyList *form // renaming or removing one

	// RequireVerified: an unverified address cannot write posts.
	RequireVerified bool
	TOTP            bool  // two-factor login is on
	TOTPForm        *form // the form that turns it off
}

// The account page's forms, for renderAccount, and its sections.
const (
	profileForm     = "profile"
	pictureForm     = "picture"
	passwordForm    = "password"
	verifyForm      = "verify"
	totpForm        = "totp"
	sessionsSection = "sessions"
	// twoFactorSection holds totpForm.
	twoFactorSection = "two-factor"
)

// sessionView is one of the caller's sessions, its client described in
// a few words ("Firefox on Linux").
type sessionView struct {
	blog.Session
	Client  string
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
	email := c.User.Email
	if c.User.PendingEmail != "" {
		email = c.User.PendingEmail // what the user asked for; saving it again keeps it pending
	}
	totp, err := s.app.TOTPEnabled(r.Context(), c.User.ID)
	if err != nil {
		return err
	}
	v := accountView{
		Profile:  &form{Values: url.Values{"username": {c.User.Username}, "email": {email}}},
		Picture:  &form{ID: pictureForm},
		Password: &form{ID: passwordForm},
		Verify:   &form{ID: verifyForm},

		RequireVerified: s.app.RequiresVerifiedEmail(),
		TOTP:            totp,
		TOTPForm:        &form{ID: totpForm},
		Passkey:         &form{ID: passkeyForm},
		PasskeyList:     &form{ID: passkeyListForm},
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
	case verifyForm:
		f.ID = verifyForm
		v.Verify = f
	case totpForm:
		f.ID = totpForm
		v.TOTPForm = f
	case passkeyForm:
		f.ID, v.Passkey = passkeyForm, f
	case passkeyListForm:
		f.ID, v.PasskeyList = passkeyListForm, f
	}
	// This browser's session first, then the others, newest first.
	for _, sess := range sessions {
		sv := sessionView{Session: sess, Client: describeUserAgent(sess.UserAgent), Current: sess.ID == c.Session.ID}
		if sv.Current {
			v.Sessions = append([]sessionView{sv}, v.Sessions...)
		} else {
			v.Sessions = append(v.Sessions, sv)
		}
	}
	if v.Passkeys, err = s.passkeyViews(r, c); err != nil {
		return err
	}
	return s.render(w, r, c, status, "account", view{Title: "Your account", Data: v, sectioned: true})
}

// UpdateProfile changes the username and email as PATCH
// /api/users/{id} does: POST /account.
func (s *Site) UpdateProfile(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	u, err := s.app.ChangeAccount(r.Context(), c, c.User.ID, httpx.ReadAccountChange(httpx.NewFormFields(r.PostForm)))
	if status, f, ok := formFailureOf("profile", err, withoutPasswords(r.PostForm)); ok {
		if status == http.StatusUnprocessableEntity {
			s.addTakenNames(r, f, c)
		}
		return s.renderAccount(w, r, c, status, profileForm, f)
	}
	if err != nil {
		return err
	}
	c.User = u
	return s.done(w, r, "/account", "profile-saved")
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
	return s.done(w, r, "/account", "picture-saved")
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
	return s.done(w, r, "/account", "picture-removed")
}

// ChangePassword sets a new password as PATCH /api/users/me/password
// does, ending every other session: POST /account/password.
func (s *Site) ChangePassword(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	err := s.app.ChangePassword(r.Context(), c, httpx.ReadPasswordChange(httpx.NewFormFields(r.PostForm)))
	if status, f, ok := formFailureOf("password", err, nil); ok {
		return s.renderAccount(w, r, c, status, passwordForm, f)
	}
	if err != nil {
		return err
	}
	return s.done(w, r, "/account", "password-changed")
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
		return s.done(w, r, "/", "logged-out")
	}
	return s.done(w, r, "/account", "session-ended")
}

// EndOtherSessions ends every session but this one:
// POST /account/sessions/delete-others.
func (s *Site) EndOtherSessions(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	if _, err := s.app.EndOtherSessions(r.Context(), c); err != nil {
		return err
	}
	return s.done(w, r, "/account", "sessions-ended")
}

// DeleteAccount deletes the caller's account as DELETE /api/users/{id}
// does, with its posts, picture and sessions: POST /account/delete.
func (s *Site) DeleteAccount(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	if err := s.app.DeleteAccount(r.Context(), c, c.User.ID); err != nil {
		return err
	}
	s.clearSessionCookie(w, r)
	return s.done(w, r, "/", "account-deleted")
}

// addTakenNames adds to a form that failed validation (f, its values
// submitted) the names in it that are taken, so that every error comes at
// once: the app validates before it looks names up, and the API keeps
// that order and its status, 422 (see app.NamesTaken). c is the caller
// changing their profile, or nil for a registration. If the names cannot
// be looked up now, the form goes without.
func (s *Site) addTakenNames(r *http.Request, f *form, c *app.Caller) {
	username, email := f.Values.Get("username"), f.Values.Get("email")
	if f.Errors["username"] != "" {
		username = ""
	}
	if f.Errors["email"] != "" {
		email = ""
	}
	taken, err := s.app.NamesTaken(r.Context(), c, username, email)
	if err != nil {
		httpx.Log(s.logger, r).Warn("look up names for a form", "err", err)
		return
	}
	if taken.Username {
		f.add("username", codeWords(blog.ErrUsernameTaken.Code, blog.ErrUsernameTaken.Message, http.StatusBadRequest))
	}
	if taken.Email {
		f.add("email", codeWords(blog.ErrEmailTaken.Code, blog.ErrEmailTaken.Message, http.StatusBadRequest))
	}
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
	if status, f, ok := formFailureOf("forgot", err, r.PostForm); ok {
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
	if status, f, ok := formFailureOf("reset", err, nil); ok {
		return s.render(w, r, c, status, "reset", view{Title: "Choose a new password", Form: f,
			Data: resetView{Token: r.PostForm.Get("token")}})
	}
	if err != nil {
		return err
	}
	// Every session of the account has ended; if this browser had one, its
	// cookie goes on its next request.
	return s.done(w, r, "/login", "password-reset")
}
