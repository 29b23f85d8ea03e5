package site

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/picture"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// developerWords are fragments of the API's messages for programs.
var developerWords = []string{"String should", "Field required", "Input should", "value is not a valid",
	"Validation failed", "already registered", "Incorrect", "Invalid", "is required", "Not Found", "try again later"}

func wantPeopleWords(t *testing.T, what, got string) {
	t.Helper()
	if got == "" || !strings.HasSuffix(got, ".") || strings.ToUpper(got[:1]) != got[:1] {
		t.Errorf("%s: %q is no sentence", what, got)
	}
	for _, w := range developerWords {
		if strings.Contains(got, w) {
			t.Errorf("%s: %q has the API's words %q", what, got, w)
		}
	}
}

// TestCodeWords checks that every error a page may show has words of
// its own in the table.
func TestCodeWords(t *testing.T) {
	errs := []error{
		blog.ErrUsernameTaken, blog.ErrEmailTaken, blog.ErrUserNotFound, blog.ErrPostNotFound, blog.ErrSessionNotFound,
		blog.ErrNotAuthenticated, blog.ErrInvalidToken, blog.ErrBadCredentials, blog.ErrWrongPassword, blog.ErrNeedPassword,
		blog.ErrNoPicture, blog.ErrPictureNotFound, blog.ErrInvalidReset, blog.ErrUnavailable, blog.ErrNotYourPost,
		blog.ErrNotYourPostDelete, blog.TooManyLogins(0), blog.RateLimited(0),
		picture.ErrEmpty, picture.ErrFileTooLarge, picture.ErrNotImage, picture.ErrTooLarge, picture.ErrDimensions,
		picture.ErrCorrupt, picture.ErrAnimatedWebP, picture.ErrTooCostly, auth.ErrBusy, app.ErrPicturesBusy,
		httpx.ErrNotFound, httpx.ErrMethodNotAllowed, httpx.ErrUnsupportedMedia, httpx.ErrTooLarge, errCSRF, errCrossOrigin,
	}
	for _, err := range errs {
		var code, msg string
		var status int
		var be *blog.Error
		var he *httpx.HTTPError
		switch {
		case errors.As(err, &be):
			code, msg, status = be.Code, be.Message, httpx.Status(be.Kind)
		case errors.As(err, &he):
			code, msg, status = he.Code, he.Message, he.Status
		}
		if _, ok := words[code]; !ok {
			t.Errorf("the table has no words for %q (%q)", code, msg)
			continue
		}
		wantPeopleWords(t, code, codeWords(code, msg, status))
	}
	if got := codeWords("no_such_code", "Some developer message", http.StatusBadRequest); got != statusWords[http.StatusBadRequest] {
		t.Errorf("codeWords(an unknown code) = %q, want the words for its status", got)
	}
	if got := codeWords("no_such_code", "Some developer message", http.StatusTeapot); got != words["internal_error"] {
		t.Errorf("codeWords(an unknown code and status) = %q, want the general words", got)
	}
}

// TestProblemWords runs the domain's validators on bad input for every
// field a page has, and checks the words a page shows for each problem.
func TestProblemWords(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n+1) }
	type check struct {
		kind, value string
		run         func(v *blog.Validator)
		want        string // "" for any people's words
	}
	checks := []check{
		{"register", "x y", func(v *blog.Validator) { v.Username("x y") }, "Use only letters, digits, _, - and . (no spaces)."},
		{"register", "", func(v *blog.Validator) { v.Username("") }, "Choose a username."},
		{"register", long(blog.MaxUsername), func(v *blog.Validator) { v.Username(long(blog.MaxUsername)) }, "Use at most 50 characters."},
		// Letters only, but left-to-right and right-to-left together.
		{"register", "abc\u05d0", func(v *blog.Validator) { v.Username("abc\u05d0") }, usernameWords},
		{"register", "\ufb01sh", func(v *blog.Validator) { v.Username("\ufb01sh") }, usernameWords}, // the ligature ﬁ
		{"register", "", func(v *blog.Validator) { v.Email("nope") }, "Enter an email address such as name@example.com."},
		{"register", "", func(v *blog.Validator) { v.Email("a@" + long(blog.MaxEmail) + ".com") }, "An email address has at most 254 characters."},
		{"register", "", func(v *blog.Validator) { v.Password("password", "short") }, "Use at least 8 characters."},
		{"register", "", func(v *blog.Validator) { v.Password("password", long(blog.MaxPassword)) }, "Use at most 256 characters."},
		{"password", "", func(v *blog.Validator) { v.Password("new_password", "short") }, "Use at least 8 characters."},
		{"post", "", func(v *blog.Validator) { v.Title("") }, "Give your post a title."},
		{"post", "", func(v *blog.Validator) { v.Title(" \u200b ") }, "Give your post a title."},
		{"post", "", func(v *blog.Validator) { v.Title(long(blog.MaxTitle)) }, "Keep the title to 100 characters or fewer."},
		{"post", "", func(v *blog.Validator) { v.Content("") }, "Write something in your post."},
		{"post", "", func(v *blog.Validator) { v.Content(long(blog.MaxContent)) }, "Keep the post to 50,000 characters or fewer."},
		{"post", "", func(v *blog.Validator) { v.Title("a\x00b") }, "This has characters that cannot be used here."},
		{"login", "", func(v *blog.Validator) { v.Add("missing", "Field required", "body", "username") }, "Enter your username or email."},
		{"login", "", func(v *blog.Validator) { v.Add("missing", "Field required", "body", "password") }, "Enter your password."},
		{"register", "", func(v *blog.Validator) { v.Add("missing", "Field required", "body", "password") }, "Enter a password."},
		{"reset", "", func(v *blog.Validator) { v.Add("missing", "Field required", "body", "token") }, ""},
		{"picture", "", func(v *blog.Validator) { v.Add("missing", "Field required", "body", "file") }, "Choose a picture to upload."},
		{"post", "", func(v *blog.Validator) { v.Add("missing", "Field required", "body", "somewhere") }, "Fill in this field."},
		{"", "", func(v *blog.Validator) { v.Add("value_error", "Invalid cursor", "query", "cursor") }, brokenPageLink},
		{"", "", func(v *blog.Validator) {
			v.Add("less_than_equal", "Input should be less than or equal to 100", "query", "limit")
		}, brokenPageLink},
		{"", "", func(v *blog.Validator) { v.Add("json_invalid", "Malformed form body", "body") }, ""},
		{"", "", func(v *blog.Validator) { v.Add("never_heard_of_it", "Some developer message", "body", "x") }, statusWords[http.StatusUnprocessableEntity]},
	}
	for _, c := range checks {
		var v blog.Validator
		c.run(&v)
		if len(v.Problems) != 1 {
			t.Errorf("%s %q: %d problems, want 1: %+v", c.kind, c.value, len(v.Problems), v.Problems)
			continue
		}
		p := v.Problems[0]
		got := problemWords(c.kind, p, c.value)
		what := c.kind + " " + p.Type + " " + problemField(p) + " (" + p.Msg + ")"
		if c.want != "" && got != c.want {
			t.Errorf("%s: %q, want %q", what, got, c.want)
		}
		wantPeopleWords(t, what, got)
	}

	// The password policy's messages are written for people already.
	p := blog.Problem{Type: "value_error", Loc: []any{"body", "new_password"}, Msg: "This password is too common; choose one that is harder to guess"}
	if got := problemWords("password", p, ""); got != p.Msg {
		t.Errorf("problemWords(the policy's problem) = %q, want its message", got)
	}
}
