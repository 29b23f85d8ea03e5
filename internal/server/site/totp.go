package site

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// Two-factor login on the pages: the code step of a login (after the
// password, which is not asked again), and the account page's section
// that turns it on (a QR code and the secret, then a first code, then
// the recovery codes, shown once) and off (the password and a code).

// loginCodeView is the code step of a login: the challenge that carries
// it from the password step, and where to go afterwards.
type loginCodeView struct {
	Challenge string
	Next      string
}

// renderLoginCode shows the code step of a login, with f's errors.
func (s *Site) renderLoginCode(w http.ResponseWriter, r *http.Request, status int, v loginCodeView, f *form) error {
	return s.render(w, r, nil, status, "login-code", view{Title: "Two-factor login", Form: f, Data: v})
}

// LoginCode sends a browser that reloads the code step, or bookmarked
// it, back to the start: GET /login/code.
func (s *Site) LoginCode(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	return seeOther(w, r, "/login")
}

// LoginCodePost checks the code of a login whose password was right and
// logs in: POST /login/code, with the challenge the password step gave.
// A wrong code shows the form again, with the same challenge; an
// expired or used challenge sends back to the password step.
func (s *Site) LoginCodePost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	v := loginCodeView{Challenge: r.PostForm.Get("challenge"), Next: localPath(r.PostForm.Get("next"))}
	err := s.clients.Allow(r, s.limits.Logins)
	var login *app.Login
	if err == nil {
		login, err = s.app.FinishLogIn(r.Context(), httpx.ReadSecondStep(r.PostForm), s.sessionStart(r, c))
	}
	var e *blog.Error
	switch {
	case errors.Is(err, blog.ErrInvalidChallenge):
		f := &form{Errors: map[string]string{"": codeWords(blog.ErrInvalidChallenge.Code, blog.ErrInvalidChallenge.Message, http.StatusUnauthorized)}}
		return s.render(w, r, nil, http.StatusUnauthorized, "login", view{Title: "Log in", Form: f, Data: loginView{Next: v.Next}})
	case errors.Is(err, blog.ErrBadOTP):
		return s.renderLoginCode(w, r, http.StatusUnauthorized, v, &form{Errors: map[string]string{"otp": codeWords(blog.ErrBadOTP.Code, blog.ErrBadOTP.Message, http.StatusUnauthorized)}})
	case errors.As(err, &e) && (e.Kind == blog.Unprocessable || e.Kind == blog.TooManyRequests || e.Kind == blog.Unavailable):
		status, f, _ := formFailure(err, nil)
		return s.renderLoginCode(w, r, status, v, f)
	case err != nil:
		return err
	}
	s.setSessionCookie(w, r, login)
	return seeOther(w, r, v.Next)
}

// totpSetupView is the page that turns two-factor login on.
type totpSetupView struct {
	// QR is the otpauth URI as a QR code: a PNG drawn here, in a data:
	// URL, so it is always the enrolment whose secret the page shows.
	QR     template.URL
	Secret string // in groups of four, for typing
}

// StartTOTP starts turning two-factor login on, or starts again, as
// POST /api/users/me/totp does, and shows the QR code: POST /account/totp.
func (s *Site) StartTOTP(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	if _, err := s.app.StartTOTP(r.Context(), c); errors.Is(err, blog.ErrTOTPEnabled) {
		return seeOther(w, r, "/account#two-factor")
	} else if err != nil {
		return err
	}
	return seeOther(w, r, "/account/totp")
}

// TOTPSetup shows the QR code and the secret of the enrolment started,
// and the form for a first code: GET /account/totp. Without one, it is
// the account page's section.
func (s *Site) TOTPSetup(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	return s.renderTOTPSetup(w, r, c, http.StatusOK, nil)
}

func (s *Site) renderTOTPSetup(w http.ResponseWriter, r *http.Request, c *app.Caller, status int, f *form) error {
	e, err := s.app.PendingTOTP(r.Context(), c)
	if errors.Is(err, blog.ErrTOTPNotStarted) || errors.Is(err, blog.ErrTOTPEnabled) {
		return seeOther(w, r, "/account#two-factor")
	}
	if err != nil {
		return err
	}
	png, err := qrPNG(e.URI)
	if err != nil {
		return err
	}
	v := totpSetupView{
		QR:     template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		Secret: groupsOf(e.Secret, 4),
	}
	// The page holds the secret: the Referer of its links must not lead
	// back to it (it is no-store, as every page of a logged-in user).
	w.Header().Set("Referrer-Policy", "no-referrer")
	return s.render(w, r, c, status, "totp-setup", view{Title: "Turn on two-factor login", Form: f, Data: v})
}

// groupsOf splits s into groups of n characters separated by spaces.
func groupsOf(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); i += n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+n, len(s))])
	}
	return b.String()
}

// totpCodesView is the page of recovery codes, shown once.
type totpCodesView struct {
	Codes []string
}

// ConfirmTOTP turns two-factor login on with the password and a first
// code, as
// POST /api/users/me/totp/confirm does, and shows the recovery codes,
// this once: POST /account/totp/confirm.
func (s *Site) ConfirmTOTP(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	codes, err := s.app.ConfirmTOTP(r.Context(), c, httpx.ReadTOTPConfirm(httpx.NewFormFields(r.PostForm)))
	if errors.Is(err, blog.ErrTOTPNotStarted) || errors.Is(err, blog.ErrTOTPEnabled) {
		return seeOther(w, r, "/account#two-factor")
	}
	if status, f, ok := formFailure(err, nil); ok {
		return s.renderTOTPSetup(w, r, c, status, f)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	return s.render(w, r, c, http.StatusOK, "totp-codes", view{Title: "Your recovery codes", Data: totpCodesView{Codes: codes}})
}

// DisableTOTP turns two-factor login off with the password and a code,
// as DELETE /api/users/me/totp does: POST /account/totp/disable.
func (s *Site) DisableTOTP(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	err := s.app.DisableTOTP(r.Context(), c, httpx.ReadTOTPDisable(httpx.NewFormFields(r.PostForm)))
	if errors.Is(err, blog.ErrTOTPDisabled) {
		// Off already (another tab, a second click): the section says so.
		return seeOther(w, r, "/account#two-factor")
	}
	if status, f, ok := formFailure(err, nil); ok {
		return s.renderAccount(w, r, c, status, totpForm, f)
	}
	if err != nil {
		return err
	}
	return s.done(w, r, "/account", "totp-off")
}
