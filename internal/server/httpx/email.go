package httpx

import "github.com/quill-blog/quill/internal/app"

// ReadEmailConfirmation reads the token of a verification link (the page
// the link opens sends the same field).
func ReadEmailConfirmation(f Fields) app.EmailConfirmation {
	in := app.EmailConfirmation{Token: Required(f, "token")}
	in.Problems = f.Problems()
	return in
}
