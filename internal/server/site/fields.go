package site

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/quill-blog/quill/internal/blog"
)

// The fields of each form: label, input type, autocomplete token, and the
// limits the browser is told before anything is sent (required,
// minlength, maxlength) with a hint that says them. The limits are the
// domain's own (package blog), so a page cannot promise what the server
// refuses. Forms keep novalidate: the browser marks a field that breaks
// a limit and stops typing past maxlength, while the messages come from
// the server, all of a form's at once.

// fieldSpec is one field of a form.
type fieldSpec struct {
	Name, Label, Type, Auto string
	Required                bool
	MinLen, MaxLen          int // in characters; 0: none
	Hint                    string
	HintHTML                template.HTML // more of the hint, with markup; quill's own text only
}

// markdownHint says what Markdown a post may use.
const markdownHint template.HTML = `Markdown works: <code># Heading</code>, <code>*emphasis*</code>, <code>**strong**</code>,
    <code>[a link](https://example.com)</code>, <code>- a list</code>, <code>1. a numbered list</code>, <code>` + "`code`" + `</code>,
    <code>&gt; a quote</code>, <code>~~struck~~</code>, <code>- [ ] a task</code> and tables. HTML shows as text;
    images from other sites become links.`

var (
	newPasswordHint = fmt.Sprintf("%d to %d characters; not a common password, nor one containing your username or email.",
		blog.MinPassword, blog.MaxPassword)
	usernameHint = fmt.Sprintf("Up to %d characters: letters, digits, _, - and .", blog.MaxUsername)
)

// formFields are the fields of each form of the pages, in the order they
// are shown.
var formFields = map[string][]fieldSpec{
	"register": {
		{Name: "username", Label: "Username", Type: "text", Auto: "username", Required: true, MaxLen: blog.MaxUsername, Hint: usernameHint},
		{Name: "email", Label: "Email", Type: "email", Auto: "email", Required: true, MaxLen: blog.MaxEmail,
			Hint: "We mail it a link that confirms it is yours."},
		{Name: "password", Label: "Password", Type: "password", Auto: "new-password", Required: true,
			MinLen: blog.MinPassword, MaxLen: blog.MaxPassword, Hint: newPasswordHint},
	},
	"login": {
		// A username or an email, and any password an account may have
		// (imported ones may be shorter than quill's minimum).
		{Name: "username", Label: "Username or email", Type: "text", Auto: "username", Required: true, MaxLen: blog.MaxEmail},
		{Name: "password", Label: "Password", Type: "password", Auto: "current-password", Required: true},
	},
	"profile": {
		{Name: "username", Label: "Username", Type: "text", Auto: "username", Required: true, MaxLen: blog.MaxUsername, Hint: usernameHint},
		{Name: "email", Label: "Email", Type: "email", Auto: "email", Required: true, MaxLen: blog.MaxEmail},
		{Name: "current_password", Label: "Current password", Type: "password", Auto: "current-password",
			Hint: "Needed only to change your email. The new address is mailed a link that confirms it."},
	},
	"password": {
		{Name: "current_password", Label: "Current password", Type: "password", Auto: "current-password", Required: true},
		{Name: "new_password", Label: "New password", Type: "password", Auto: "new-password", Required: true,
			MinLen: blog.MinPassword, MaxLen: blog.MaxPassword, Hint: newPasswordHint + " Every other session is logged out."},
	},
	"forgot": {
		{Name: "email", Label: "Email", Type: "email", Auto: "email", Required: true, MaxLen: blog.MaxEmail},
	},
	"reset": {
		{Name: "new_password", Label: "New password", Type: "password", Auto: "new-password", Required: true,
			MinLen: blog.MinPassword, MaxLen: blog.MaxPassword, Hint: newPasswordHint},
	},
	"post": {
		{Name: "title", Label: "Title", Type: "text", Auto: "off", Required: true, MaxLen: blog.MaxTitle,
			Hint: fmt.Sprintf("At most %d characters.", blog.MaxTitle)},
		{Name: "content", Label: "Content", Type: "textarea", Required: true, MaxLen: blog.MaxContent,
			Hint: fmt.Sprintf("At most %s characters.", thousands(blog.MaxContent)), HintHTML: markdownHint},
	},
}

// input is a labelled form field with its hint and error, for the "input"
// template.
type input struct {
	fieldSpec
	ID        string
	Value     string
	Error     string
	Autofocus bool // the first field to fix, when a form is shown again
}

// newInput describes a field of a form that formFields does not list
// (name, label, input type, autocomplete token and an optional hint), as
// f shows it; it is told no limits. Password fields are never filled in
// again.
func newInput(f *form, name, label, typ, autocomplete string, hint ...string) input {
	in := input{fieldSpec: fieldSpec{Name: name, Label: label, Type: typ, Auto: autocomplete}, ID: name, Error: f.Error(name)}
	if f != nil && f.ID != "" {
		in.ID = f.ID + "-" + name
	}
	if typ != "password" {
		in.Value = f.Value(name)
	}
	if len(hint) > 0 {
		in.Hint = hint[0]
	}
	return in
}

// DescribedBy lists the ids of the hint and the error, for
// aria-describedby.
func (in input) DescribedBy() string {
	var ids []string
	if in.Hint != "" || in.HintHTML != "" {
		ids = append(ids, in.ID+"-hint")
	}
	if in.Error != "" {
		ids = append(ids, in.ID+"-error")
	}
	return strings.Join(ids, " ")
}

// field describes the field name of the form kind (a key of formFields)
// as f shows it: with its value (never a password's), its error, and the
// focus on the first field to fix. An unknown field is a template bug,
// caught when the template runs.
func field(f *form, kind, name string) (input, error) {
	specs := formFields[kind]
	in := input{}
	found := false
	for _, spec := range specs {
		if spec.Name == name {
			in.fieldSpec, found = spec, true
		}
	}
	if !found {
		return input{}, fmt.Errorf("form %q has no field %q", kind, name)
	}
	in.ID, in.Error = name, f.Error(name)
	if f != nil && f.ID != "" {
		in.ID = f.ID + "-" + name
	}
	if in.Type != "password" {
		in.Value = f.Value(name)
	}
	in.Autofocus = f.firstToFix(specs) == name
	return in, nil
}

// firstToFix is the field to focus when the form of these fields is shown
// again: the first with an error, or the first of all when only the form
// as a whole has one; "" when nothing is wrong.
func (f *form) firstToFix(specs []fieldSpec) string {
	if f == nil || len(f.Errors) == 0 || len(specs) == 0 {
		return ""
	}
	for _, spec := range specs {
		if f.Errors[spec.Name] != "" {
			return spec.Name
		}
	}
	if f.Errors[""] != "" {
		return specs[0].Name
	}
	return ""
}
