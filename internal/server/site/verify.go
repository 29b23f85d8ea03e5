package site

import (
	"errors"
	"net/http"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// verifyView is the page a verification link opens. Link is what the
// link would confirm; nil when it is no live link (Form then says why).
type verifyView struct {
	Token string
	Link  *app.EmailLink
}

// VerifyEmail shows what a verification link would confirm, with a
// button that confirms it: GET /verify-email?token=…. Opening the link
// changes nothing, since mail scanners open links too; the button posts.
// The page sends no Referer, so the token does not travel further.
func (s *Site) VerifyEmail(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	w.Header().Set("Referrer-Policy", "no-referrer")
	v := verifyView{Token: r.URL.Query().Get("token")}
	link, err := s.app.CheckEmailLink(r.Context(), v.Token)
	if status, f, ok := formFailure(err, nil); ok {
		return s.render(w, r, c, status, "verify", view{Title: "Confirm your email address", Form: f, Data: v})
	}
	if err != nil {
		return err
	}
	v.Link = link
	return s.render(w, r, c, http.StatusOK, "verify", view{Title: "Confirm your email address", Data: v})
}

// VerifyEmailPost confirms the address as POST /api/users/verify-email
// does: POST /verify-email. Someone logged in to that account goes on to
// the account page, which shows the address verified; someone logged in
// to another to the home page, anyone else to the login page, each saying
// the address is confirmed.
func (s *Site) VerifyEmailPost(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	w.Header().Set("Referrer-Policy", "no-referrer")
	u, err := s.app.VerifyEmail(r.Context(), httpx.ReadEmailConfirmation(httpx.NewFormFields(r.PostForm)))
	if status, f, ok := formFailure(err, nil); ok {
		return s.render(w, r, c, status, "verify", view{Title: "Confirm your email address", Form: f,
			Data: verifyView{Token: r.PostForm.Get("token")}})
	}
	if err != nil {
		return err
	}
	switch {
	case c != nil && c.User.ID == u.ID:
		return s.done(w, r, "/account", "email-verified")
	case c != nil: // the link of another account than the one logged in
		return s.done(w, r, "/", "email-verified-other")
	}
	return s.done(w, r, "/login", "email-verified-login")
}

// SendVerification mails a new link as POST /api/users/me/verify-email
// does: POST /account/verify-email.
func (s *Site) SendVerification(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	_, err := s.app.SendVerification(r.Context(), c)
	if status, f, ok := formFailure(err, nil); ok {
		return s.renderAccount(w, r, c, status, verifyForm, f)
	}
	if err != nil {
		return err
	}
	return s.done(w, r, "/account", "verification-sent")
}

// unverifiedView is the page shown instead of a form for writing to an
// account that must confirm its address first.
type unverifiedView struct {
	Message string
}

// renderUnverified shows that page: the error, and a way to get a new
// link.
func (s *Site) renderUnverified(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	return s.render(w, r, c, http.StatusForbidden, "unverified", view{Title: "Confirm your email address first",
		Data: unverifiedView{Message: blog.ErrEmailUnverified.Message}})
}

// isUnverified reports whether err is the refusal to let an account
// whose address is not verified write.
func isUnverified(err error) bool { return errors.Is(err, blog.ErrEmailUnverified) }
