package blog

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// Field limits, in Unicode code points.
const (
	MaxUsername = 50
	MinPassword = 8
	MaxPassword = 256
	MaxEmail    = 254
	MaxTitle    = 100
	MaxContent  = 50_000
)

// Validator collects the problems of one request, field by field, so a
// client learns everything that is wrong at once.
type Validator struct {
	Problems []Problem
}

// Add records a problem with the field at loc (such as "body", "email").
func (v *Validator) Add(typ, msg string, loc ...any) {
	v.Problems = append(v.Problems, Problem{Type: typ, Loc: loc, Msg: msg})
}

// Check records a problem unless ok.
func (v *Validator) Check(ok bool, typ, msg string, loc ...any) {
	if !ok {
		v.Add(typ, msg, loc...)
	}
}

// Err is nil when nothing was recorded, otherwise a 422 *Error listing every
// problem. When fields are given, problems with a field named in the body
// come in that order, the others first, each field's in the order they
// were recorded: a request's fields are reported as they are declared
// however the problems were found.
func (v *Validator) Err(fields ...string) error {
	if len(v.Problems) == 0 {
		return nil
	}
	if len(fields) > 0 {
		rank := func(p Problem) int {
			if len(p.Loc) == 2 && p.Loc[0] == "body" {
				if i := slices.Index(fields, fmt.Sprint(p.Loc[1])); i >= 0 {
					return i + 1
				}
			}
			return 0
		}
		slices.SortStableFunc(v.Problems, func(a, b Problem) int { return rank(a) - rank(b) })
	}
	return &Error{Kind: Unprocessable, Code: "validation_error", Message: "Validation failed", Problems: v.Problems}
}

// Reported reports whether a problem with the body field is recorded: an
// adapter that found a field missing or of the wrong type records so, and
// its value is then not checked further.
func (v *Validator) Reported(field string) bool {
	return slices.ContainsFunc(v.Problems, func(p Problem) bool {
		return len(p.Loc) == 2 && p.Loc[0] == "body" && p.Loc[1] == field
	})
}

// text checks what every string field needs: valid UTF-8 and no NUL bytes.
func (v *Validator) text(s, field string) bool {
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		v.Add("string_type", "Input should be a valid string without NUL bytes", "body", field)
		return false
	}
	return true
}

// length checks min ≤ runes(s) ≤ max and reports FastAPI's messages.
func (v *Validator) length(s, field string, min, max int) bool {
	n := utf8.RuneCountInString(s)
	switch {
	case n < min:
		v.Add("string_too_short", fmt.Sprintf("String should have at least %d character%s", min, plural(min)), "body", field)
		return false
	case n > max:
		v.Add("string_too_long", fmt.Sprintf("String should have at most %d characters", max), "body", field)
		return false
	}
	return true
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Username checks a username and returns it in NFC, the form that is stored
// and shown.
func (v *Validator) Username(s string) string {
	const field = "username"
	if !v.text(s, field) {
		return s
	}
	s = norm.NFC.String(s)
	if !v.length(s, field, 1, MaxUsername) {
		return s
	}
	for _, r := range s {
		if !UsernameRune(r) {
			v.Add("string_pattern_mismatch", "Username may contain only letters, digits, '_', '-' and '.'", "body", field)
			return s
		}
	}
	if _, err := UsernameKey(s); err != nil {
		v.Add("string_pattern_mismatch", "Username contains characters that cannot be compared safely", "body", field)
	}
	return s
}

// UsernameRune reports whether r may appear in a username: a letter, a
// mark, a digit, '_', '-' or '.'. A name of these may still be refused
// when it cannot be compared safely (UsernameKey).
func UsernameRune(r rune) bool {
	switch r {
	case '_', '-', '.':
		return true
	}
	return unicode.In(r, unicode.L, unicode.Mn, unicode.Mc, unicode.Nd)
}

// UsernameKey is the form two usernames are compared in: RFC 8265
// UsernameCaseMapped, so "Alice", "ALICE" and "Ａｌｉｃｅ" are one name.
// The database keeps it under a unique index.
func UsernameKey(s string) (string, error) {
	return precis.UsernameCaseMapped.String(s)
}

// LoginKey normalises what a user typed in the login form's username field:
// an email (it has an "@") is lower-cased, anything else is a username and
// gets its UsernameKey. Throttling counts failures by this key.
func LoginKey(s string) string {
	s = norm.NFC.String(strings.TrimSpace(s))
	if strings.Contains(s, "@") {
		return strings.ToLower(s)
	}
	if k, err := UsernameKey(s); err == nil {
		return k
	}
	return s
}

// Email checks an address and returns it lower-cased, as stored.
func (v *Validator) Email(s string) string {
	const field = "email"
	if !v.text(s, field) {
		return s
	}
	s = strings.ToLower(norm.NFC.String(s))
	if utf8.RuneCountInString(s) > MaxEmail {
		v.Add("string_too_long", fmt.Sprintf("String should have at most %d characters", MaxEmail), "body", field)
		return s
	}
	if reason := emailProblem(s); reason != "" {
		v.Add("value_error", "value is not a valid email address: "+reason, "body", field)
	}
	return s
}

// emailProblem explains why s is not an address of the form name@domain, or
// returns "". Internationalised addresses (RFC 6531: UTF-8 local parts and
// domains) are accepted; quoted local parts and IP-literal domains are not.
func emailProblem(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "an email address must have an @-sign"
	}
	local, domain := s[:at], s[at+1:]
	switch {
	case local == "":
		return "there must be something before the @-sign"
	case utf8.RuneCountInString(local) > 64:
		return "the part before the @-sign is too long"
	case strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, ".."):
		return "the part before the @-sign has a misplaced period"
	}
	for _, r := range local {
		if !localRune(r) {
			return "the part before the @-sign contains a character that is not allowed"
		}
	}
	if domain == "" {
		return "there must be something after the @-sign"
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "the part after the @-sign is not valid: it should have a period"
	}
	for _, l := range labels {
		if l == "" || utf8.RuneCountInString(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "the part after the @-sign is not a valid domain name"
		}
		for _, r := range l {
			if r != '-' && !unicode.In(r, unicode.L, unicode.Mn, unicode.Mc, unicode.Nd) {
				return "the part after the @-sign contains a character that is not allowed"
			}
		}
	}
	tld := labels[len(labels)-1]
	if strings.IndexFunc(tld, func(r rune) bool { return !unicode.IsDigit(r) }) < 0 {
		return "the part after the @-sign is not a valid domain name"
	}
	return ""
}

// localRune reports whether r may appear in an unquoted local part: RFC 5322
// atext, or any non-ASCII letter, mark or digit (RFC 6531).
func localRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
			strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)
	}
	return unicode.In(r, unicode.L, unicode.Mn, unicode.Mc, unicode.Nd)
}

// Password checks a password's length and returns it in NFC, the form that
// is hashed and verified. Strength (common passwords, containing the
// username) is checked by the auth package, which has the word lists.
func (v *Validator) Password(field, s string) string {
	if !v.text(s, field) {
		return s
	}
	s = norm.NFC.String(s)
	v.length(s, field, MinPassword, MaxPassword)
	return s
}

// Title checks a post title.
func (v *Validator) Title(s string) string {
	return v.postText(s, "title", MaxTitle)
}

// Content checks a post body.
func (v *Validator) Content(s string) string {
	return v.postText(s, "content", MaxContent)
}

func (v *Validator) postText(s, field string, max int) string {
	if !v.text(s, field) || !v.length(s, field, 1, max) {
		return s
	}
	if strings.TrimFunc(s, invisible) == "" {
		v.Add("string_too_short", "String should not be only whitespace", "body", field)
	}
	return s
}

// invisible reports whether r shows nothing: white space, or a format
// character such as U+200B ZERO WIDTH SPACE. A title of only these is blank.
func invisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r)
}
