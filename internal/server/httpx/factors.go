package httpx

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
)

// The fields of second factors, read once for the API and the pages.

// ReadTOTPConfirm reads current_password and code, which confirm an
// authenticator app.
func ReadTOTPConfirm(f Fields) app.TOTPConfirm {
	in := app.TOTPConfirm{
		CurrentPassword: Required(f, "current_password"),
		Code:            Required(f, "code"),
	}
	in.Problems = f.Problems()
	return in
}

// ReadTOTPDisable reads current_password and code, which turn two-factor
// login off.
func ReadTOTPDisable(f Fields) app.TOTPDisable {
	in := app.TOTPDisable{
		CurrentPassword: Required(f, "current_password"),
		Code:            Required(f, "code"),
	}
	in.Problems = f.Problems()
	return in
}

// ReadSecondStep reads the code step of a login in two steps: challenge
// and otp.
func ReadSecondStep(form url.Values) app.SecondStep {
	var v blog.Validator
	in := app.SecondStep{
		Challenge: OptionalFormField(&v, form, "challenge"),
		OTP:       FormField(&v, form, "otp"),
	}
	in.Problems = v.Problems
	return in
}

// OptionalFormField reads a field of an OAuth2-style form that may be
// absent or empty (both ""), recording a problem when it is not valid
// text.
func OptionalFormField(v *blog.Validator, form url.Values, name string) string {
	vals := form[name]
	if len(vals) == 0 {
		return ""
	}
	s := vals[0]
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		v.Add("string_type", "Input should be a valid string without NUL bytes", "body", name)
		return ""
	}
	return s
}
