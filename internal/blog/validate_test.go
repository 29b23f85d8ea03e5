package blog

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzValidator feeds arbitrary text to the checks of the username, email
// and password fields and to LoginKey: never a panic, and what they accept
// keeps the rules of SPEC §3.
func FuzzValidator(f *testing.F) {
	for _, s := range []string{"alice", "Ａｌｉｃｅ", "Zoe\u0308", "a@b.co", "用户@例子.广告", "a\x00b", "\xff", " x ", strings.Repeat("a", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v Validator
		name := v.Username(s)
		if len(v.Problems) == 0 {
			if !norm.NFC.IsNormalString(name) || utf8.RuneCountInString(name) > MaxUsername || strings.ContainsAny(name, "@ \x00") {
				t.Errorf("Username(%q) accepted %q", s, name)
			}
			if _, err := UsernameKey(name); err != nil {
				t.Errorf("Username(%q) accepted %q, but UsernameKey fails: %v", s, name, err)
			}
		}
		v = Validator{}
		email := v.Email(s)
		if len(v.Problems) == 0 && (!strings.Contains(email, "@") || email != strings.ToLower(email) || utf8.RuneCountInString(email) > MaxEmail) {
			t.Errorf("Email(%q) accepted %q", s, email)
		}
		v = Validator{}
		if pw := v.Password("password", s); len(v.Problems) == 0 {
			if n := utf8.RuneCountInString(pw); n < MinPassword || n > MaxPassword || strings.IndexByte(pw, 0) >= 0 {
				t.Errorf("Password(%q) accepted %q", s, pw)
			}
		}
		if k := LoginKey(s); utf8.ValidString(s) && !utf8.ValidString(k) {
			t.Errorf("LoginKey(%q) = %q, not valid UTF-8", s, k)
		}
	})
}
