package httpx

import (
	"net/url"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
)

// How a request's fields become a use case's input. The API's JSON bodies
// and the site's forms carry the same fields, read here once, so a page
// and its API route report the same problems under the same names.

// ReadRegistration reads a registration's fields (the register page sends the
// same ones).
func ReadRegistration(f Fields) app.Registration {
	in := app.Registration{
		Username: Required(f, "username"),
		Email:    Required(f, "email"),
		Password: Required(f, "password"),
	}
	in.Problems = f.Problems()
	return in
}

// ReadAccountChange reads a change of username and email, the fields the
// account page's profile form sends too, with current_password.
func ReadAccountChange(f Fields) app.AccountChange {
	in := app.AccountChange{
		Username:        Optional(f, "username"),
		Email:           Optional(f, "email"),
		CurrentPassword: Optional(f, "current_password"),
	}
	in.Problems = f.Problems()
	return in
}

// ReadCredentials reads a login form's username and password (the login page
// sends the same fields), and otp, the code of an account with two-factor
// login on, which may be absent.
func ReadCredentials(form url.Values) app.Credentials {
	var v blog.Validator
	in := app.Credentials{
		Username: FormField(&v, form, "username"),
		Password: FormField(&v, form, "password"),
		OTP:      OptionalFormField(&v, form, "otp"),
	}
	in.Problems = v.Problems
	return in
}

// ReadPasswordChange reads current_password and new_password.
func ReadPasswordChange(f Fields) app.PasswordChange {
	in := app.PasswordChange{
		Current: Required(f, "current_password"),
		New:     Required(f, "new_password"),
	}
	in.Problems = f.Problems()
	return in
}

// ReadResetRequest reads the email a reset link is asked for.
func ReadResetRequest(f Fields) app.ResetRequest {
	in := app.ResetRequest{Email: Required(f, "email")}
	in.Problems = f.Problems()
	return in
}

// ReadPasswordReset reads token and new_password.
func ReadPasswordReset(f Fields) app.PasswordReset {
	in := app.PasswordReset{
		Token:       Required(f, "token"),
		NewPassword: Required(f, "new_password"),
	}
	in.Problems = f.Problems()
	return in
}

// ReadPostInput reads a post's title and content, both required when full
// (a new post, PUT, the post form).
func ReadPostInput(f Fields, full bool) app.PostInput {
	read := Optional
	if full {
		read = RequiredPtr
	}
	in := app.PostInput{Title: read(f, "title"), Content: read(f, "content")}
	in.Problems = f.Problems()
	return in
}
