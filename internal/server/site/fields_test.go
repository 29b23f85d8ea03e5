package site

import (
	"net/url"
	"testing"
)

func TestField(t *testing.T) {
	f := &form{ID: "password", Values: url.Values{"current_password": {"secret"}},
		Errors: map[string]string{"new_password": "Use at least 8 characters."}}
	in, err := field(f, "password", "new_password")
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != "password-new_password" || !in.Autofocus || !in.Required || in.MinLen != 8 || in.MaxLen != 256 ||
		in.DescribedBy() != "password-new_password-hint password-new_password-error" {
		t.Errorf("field(new_password) = %+v, described by %q", in, in.DescribedBy())
	}
	if in, _ := field(f, "password", "current_password"); in.Value != "" || in.Autofocus {
		t.Errorf("field(current_password) = %+v: a password refilled, or the focus on a field without fault", in)
	}
	if _, err := field(f, "password", "nothing"); err == nil {
		t.Errorf("field(a field the form does not have) succeeded")
	}
	if in, _ := field(nil, "post", "title"); in.Autofocus || in.Error != "" || in.Hint != "At most 100 characters." {
		t.Errorf("field(title) of a fresh form = %+v", in)
	}
	// Only a form-wide error: the focus goes to the first field.
	login := &form{Errors: map[string]string{"": "That username (or email) and password do not match an account."}}
	if in, _ := field(login, "login", "username"); !in.Autofocus {
		t.Errorf("a form with only a form-wide error does not focus its first field")
	}

	in = newInput(&form{Values: url.Values{"q": {"gardens"}}}, "q", "Search", "search", "off", "Words in titles.")
	if in.ID != "q" || in.Value != "gardens" || in.Hint != "Words in titles." || in.Required || in.DescribedBy() != "q-hint" {
		t.Errorf("newInput(q) = %+v", in)
	}
}
