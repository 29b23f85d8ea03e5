package blog_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/blog"
)

// problemTypes runs check on a fresh Validator and returns what it
// returned and the types of the problems it recorded.
func problemTypes(t *testing.T, field string, check func(v *blog.Validator) string) (string, []string) {
	t.Helper()
	var v blog.Validator
	got := check(&v)
	var types []string
	for _, p := range v.Problems {
		if diff := cmp.Diff([]any{"body", field}, p.Loc); diff != "" {
			t.Errorf("problem %q loc (-want +got):\n%s", p.Type, diff)
		}
		types = append(types, p.Type)
	}
	return got, types
}

func TestUsername(t *testing.T) {
	tests := []struct {
		name, in string
		want     string   // the stored form, when valid
		problems []string // problem types, when invalid
	}{
		{name: "ascii", in: "alice", want: "alice"},
		{name: "case is kept", in: "Alice", want: "Alice"},
		{name: "punctuation allowed", in: "a_b-c.d", want: "a_b-c.d"},
		{name: "digits", in: "user42", want: "user42"},
		{name: "one character", in: "a", want: "a"},
		{name: "accented, composed", in: "Zoë", want: "Zoë"},
		{name: "accented, decomposed becomes NFC", in: "Zoe\u0308", want: "Zoë"},
		{name: "Chinese", in: "用户", want: "用户"},
		{name: "Greek", in: "δοκιμή", want: "δοκιμή"},
		{name: "Cyrillic", in: "Пользователь", want: "Пользователь"},
		{name: "full width is kept for display", in: "Ａｌｉｃｅ", want: "Ａｌｉｃｅ"},
		{name: "50 code points of 2 bytes", in: strings.Repeat("é", 50), want: strings.Repeat("é", 50)},
		{name: "100 code points that are 50 in NFC", in: strings.Repeat("e\u0301", 50), want: strings.Repeat("é", 50)},
		{name: "51 code points", in: strings.Repeat("é", 51), problems: []string{"string_too_long"}},
		{name: "51 ascii", in: strings.Repeat("a", 51), problems: []string{"string_too_long"}},
		{name: "empty", in: "", problems: []string{"string_too_short"}},
		{name: "space", in: "al ice", problems: []string{"string_pattern_mismatch"}},
		{name: "leading space", in: " alice", problems: []string{"string_pattern_mismatch"}},
		{name: "ideographic space", in: "al\u3000ice", problems: []string{"string_pattern_mismatch"}},
		{name: "at sign", in: "alice@example.com", problems: []string{"string_pattern_mismatch"}},
		{name: "full-width at sign", in: "alice＠example", problems: []string{"string_pattern_mismatch"}},
		{name: "tab", in: "al\tice", problems: []string{"string_pattern_mismatch"}},
		{name: "newline", in: "alice\n", problems: []string{"string_pattern_mismatch"}},
		{name: "DEL", in: "alice\x7f", problems: []string{"string_pattern_mismatch"}},
		{name: "zero-width space", in: "al\u200bice", problems: []string{"string_pattern_mismatch"}},
		{name: "right-to-left override", in: "al\u202eice", problems: []string{"string_pattern_mismatch"}},
		{name: "emoji", in: "alice😀", problems: []string{"string_pattern_mismatch"}},
		{name: "slash", in: "a/b", problems: []string{"string_pattern_mismatch"}},
		{name: "plus", in: "a+b", problems: []string{"string_pattern_mismatch"}},
		{name: "NUL", in: "ali\x00ce", problems: []string{"string_type"}},
		{name: "invalid UTF-8", in: "ali\xffce", problems: []string{"string_type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := problemTypes(t, "username", func(v *blog.Validator) string { return v.Username(tt.in) })
			if diff := cmp.Diff(tt.problems, problems); diff != "" {
				t.Errorf("Username(%q) problems (-want +got):\n%s", tt.in, diff)
			}
			if tt.problems == nil && got != tt.want {
				t.Errorf("Username(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestUsernameKey(t *testing.T) {
	same := [][]string{
		{"alice", "Alice", "ALICE", "aLiCe", "Ａｌｉｃｅ", "ａｌｉｃｅ"},
		{"zoë", "Zoë", "Zoe\u0308", "ZOË"},
		{"δοκιμή", "ΔΟΚΙΜΉ"},
		{"user42", "USER４２"},
	}
	for _, names := range same {
		want, err := blog.UsernameKey(names[0])
		if err != nil {
			t.Fatalf("UsernameKey(%q) = %v", names[0], err)
		}
		for _, n := range names[1:] {
			if got, err := blog.UsernameKey(n); err != nil || got != want {
				t.Errorf("UsernameKey(%q) = %q, %v; want %q, the key of %q", n, got, err, want, names[0])
			}
		}
	}
	different := [][2]string{{"alice", "alice1"}, {"alice", "alíce"}, {"bob", "b.ob"}}
	for _, pair := range different {
		a, _ := blog.UsernameKey(pair[0])
		b, _ := blog.UsernameKey(pair[1])
		if a == b {
			t.Errorf("UsernameKey(%q) = UsernameKey(%q) = %q, want different keys", pair[0], pair[1], a)
		}
	}
}

func TestLoginKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Alice", "alice"},
		{"Ａｌｉｃｅ", "alice"},
		{"  alice  ", "alice"},
		{"Alice@Example.COM", "alice@example.com"},
		{" ALICE@example.com\t", "alice@example.com"},
		{"JOSÉ@EXÄMPLE.COM", "josé@exämple.com"},
		{"jose\u0301@example.com", "josé@example.com"},
	}
	for _, tt := range tests {
		if got := blog.LoginKey(tt.in); got != tt.want {
			t.Errorf("LoginKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// A login key for a username is what the store compares usernames by.
	for _, name := range []string{"Alice", "Zoe\u0308", "ΔΟΚΙΜΉ"} {
		key, _ := blog.UsernameKey(name)
		if got := blog.LoginKey(name); got != key {
			t.Errorf("LoginKey(%q) = %q, want UsernameKey %q", name, got, key)
		}
	}
}

// emailOfLength is a valid address of n (250…256) characters.
func emailOfLength(n int) string {
	local := strings.Repeat("a", 64)
	last := n - len(local) - len("@") - 2*64 - len(".com")
	return local + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", last) + ".com"
}

func TestEmail(t *testing.T) {
	tests := []struct {
		name, in string
		want     string
		problems []string
	}{
		{name: "plain", in: "alice@example.com", want: "alice@example.com"},
		{name: "lower-cased", in: "Alice@Example.COM", want: "alice@example.com"},
		{name: "plus tag and subdomains", in: "a+tag@mail.example.co.uk", want: "a+tag@mail.example.co.uk"},
		{name: "apostrophe", in: "o'brien@example.ie", want: "o'brien@example.ie"},
		{name: "dots in the local part", in: "first.last@example.com", want: "first.last@example.com"},
		{name: "hyphenated domain", in: "a@my-example.com", want: "a@my-example.com"},
		{name: "Chinese", in: "用户@例子.广告", want: "用户@例子.广告"},
		{name: "accents", in: "josé@exämple.com", want: "josé@exämple.com"},
		{name: "accents in upper case", in: "JOSÉ@EXÄMPLE.COM", want: "josé@exämple.com"},
		{name: "decomposed becomes NFC", in: "jose\u0301@example.com", want: "josé@example.com"},
		{name: "Cyrillic", in: "почта@пример.рф", want: "почта@пример.рф"},
		{name: "254 characters", in: emailOfLength(254), want: emailOfLength(254)},
		{name: "255 characters", in: emailOfLength(255), problems: []string{"string_too_long"}},
		{name: "local part of 65", in: strings.Repeat("a", 65) + "@example.com", problems: []string{"value_error"}},
		{name: "empty", in: "", problems: []string{"value_error"}},
		{name: "no at sign", in: "alice.example.com", problems: []string{"value_error"}},
		{name: "nothing before the at", in: "@example.com", problems: []string{"value_error"}},
		{name: "nothing after the at", in: "alice@", problems: []string{"value_error"}},
		{name: "two at signs", in: "alice@home@example.com", problems: []string{"value_error"}},
		{name: "no dot in the domain", in: "alice@localhost", problems: []string{"value_error"}},
		{name: "quoted local part", in: `"alice smith"@example.com`, problems: []string{"value_error"}},
		{name: "quoted local part without spaces", in: `"alice"@example.com`, problems: []string{"value_error"}},
		{name: "IP literal", in: "alice@[192.0.2.1]", problems: []string{"value_error"}},
		{name: "space", in: "alice smith@example.com", problems: []string{"value_error"}},
		{name: "leading dot", in: ".alice@example.com", problems: []string{"value_error"}},
		{name: "two dots", in: "alice..smith@example.com", problems: []string{"value_error"}},
		{name: "empty domain label", in: "alice@example..com", problems: []string{"value_error"}},
		{name: "label starting with a hyphen", in: "alice@-example.com", problems: []string{"value_error"}},
		{name: "underscore in the domain", in: "alice@exam_ple.com", problems: []string{"value_error"}},
		{name: "numeric top-level domain", in: "alice@192.0.2.1", problems: []string{"value_error"}},
		{name: "label over 63", in: "alice@" + strings.Repeat("b", 64) + ".com", problems: []string{"value_error"}},
		{name: "control character", in: "ali\nce@example.com", problems: []string{"value_error"}},
		{name: "NUL", in: "ali\x00ce@example.com", problems: []string{"string_type"}},
		{name: "invalid UTF-8", in: "ali\xffce@example.com", problems: []string{"string_type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := problemTypes(t, "email", func(v *blog.Validator) string { return v.Email(tt.in) })
			if diff := cmp.Diff(tt.problems, problems); diff != "" {
				t.Errorf("Email(%q) problems (-want +got):\n%s", tt.in, diff)
			}
			if tt.problems == nil && got != tt.want {
				t.Errorf("Email(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPassword(t *testing.T) {
	tests := []struct {
		name, in string
		want     string
		problems []string
	}{
		{name: "8 ascii", in: "abcdefgh", want: "abcdefgh"},
		{name: "8 emoji, 32 bytes", in: "🦊🐻🐼🐨🐯🦁🐮🐷", want: "🦊🐻🐼🐨🐯🦁🐮🐷"},
		{name: "7 emoji, 28 bytes", in: "🦊🐻🐼🐨🐯🦁🐮", problems: []string{"string_too_short"}},
		{name: "7 ascii", in: "abcdefg", problems: []string{"string_too_short"}},
		{name: "empty", in: "", problems: []string{"string_too_short"}},
		{name: "256 code points, 512 bytes", in: strings.Repeat("é", 256), want: strings.Repeat("é", 256)},
		{name: "257 code points", in: strings.Repeat("é", 257), problems: []string{"string_too_long"}},
		{name: "256 emoji, never truncated", in: strings.Repeat("🦊", 256), want: strings.Repeat("🦊", 256)},
		// Counted in NFC, the form that is hashed.
		{name: "decomposed becomes NFC", in: strings.Repeat("e\u0301", 8), want: strings.Repeat("é", 8)},
		{name: "8 code points that are 4 in NFC", in: strings.Repeat("e\u0301", 4), problems: []string{"string_too_short"}},
		{name: "spaces count", in: "        ", want: "        "},
		{name: "NUL", in: "abcdefgh\x00", problems: []string{"string_type"}},
		{name: "invalid UTF-8", in: "abcdefgh\xff", problems: []string{"string_type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := problemTypes(t, "new_password", func(v *blog.Validator) string { return v.Password("new_password", tt.in) })
			if diff := cmp.Diff(tt.problems, problems); diff != "" {
				t.Errorf("Password(%q) problems (-want +got):\n%s", tt.in, diff)
			}
			if tt.problems == nil && got != tt.want {
				t.Errorf("Password(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPostText(t *testing.T) {
	tests := []struct {
		name, title, content string
		problems             []string
	}{
		{name: "plain", title: "Hello", content: "World"},
		{name: "spaces around text", title: "  Hello  ", content: "\n World \n"},
		{name: "title of 100 code points", title: strings.Repeat("字", 100), content: "c"},
		{name: "title of 101 code points", title: strings.Repeat("字", 101), content: "c", problems: []string{"string_too_long"}},
		{name: "content of 50,000", title: "t", content: strings.Repeat("字", 50_000)},
		{name: "content of 50,001", title: "t", content: strings.Repeat("a", 50_001), problems: []string{"string_too_long"}},
		{name: "empty", title: "", content: "", problems: []string{"string_too_short", "string_too_short"}},
		{name: "only spaces", title: "   ", content: "\t\n ", problems: []string{"string_too_short", "string_too_short"}},
		{name: "only Unicode spaces", title: "\u3000\u00a0\u2003", content: "c", problems: []string{"string_too_short"}},
		{name: "only zero-width characters", title: "\u200b\u200d\ufeff", content: "c", problems: []string{"string_too_short"}},
		{name: "NUL", title: "a\x00b", content: "c", problems: []string{"string_type"}},
		{name: "invalid UTF-8", title: "t", content: "\xc3\x28", problems: []string{"string_type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v blog.Validator
			title, content := v.Title(tt.title), v.Content(tt.content)
			var problems []string
			for _, p := range v.Problems {
				problems = append(problems, p.Type)
			}
			if diff := cmp.Diff(tt.problems, problems); diff != "" {
				t.Errorf("Title(%q), Content(%q) problems (-want +got):\n%s", tt.title, tt.content, diff)
			}
			if tt.problems == nil && (title != tt.title || content != tt.content) {
				t.Errorf("Title, Content = %q, %q; want the input unchanged", title, content)
			}
		})
	}
}

// TestProblemsNeverEchoInput checks that no problem message repeats the
// submitted value: validation errors go back to clients, and a password
// must never come back.
func TestProblemsNeverEchoInput(t *testing.T) {
	const secret = "sekrit-value-123"
	inputs := []string{
		secret, secret + strings.Repeat("x", 300), secret + "\x00", secret + "\xff",
		secret + " @", "\"" + secret + "\"@example.com", secret + "@", "@" + secret, secret + "@localhost",
	}
	for _, in := range inputs {
		var v blog.Validator
		v.Username(in)
		v.Email(in)
		v.Password("password", in)
		v.Title(in)
		v.Content(in)
		for _, p := range v.Problems {
			if strings.Contains(p.Msg, "sekrit") {
				t.Errorf("problem %v for input %q echoes it", p, in)
			}
		}
	}
}

func TestValidatorErr(t *testing.T) {
	var v blog.Validator
	if err := v.Err(); err != nil {
		t.Errorf("Err() with no problems = %v, want nil", err)
	}
	v.Check(true, "x", "not recorded", "body", "a")
	v.Check(false, "missing", "Field required", "body", "b")
	err := v.Err()
	var e *blog.Error
	if !errors.As(err, &e) || e.Kind != blog.Unprocessable || e.Code != "validation_error" {
		t.Fatalf("Err() = %#v, want an Unprocessable validation_error", err)
	}
	want := []blog.Problem{{Type: "missing", Loc: []any{"body", "b"}, Msg: "Field required"}}
	if diff := cmp.Diff(want, e.Problems); diff != "" {
		t.Errorf("Err().Problems (-want +got):\n%s", diff)
	}
}

// FuzzUsername checks that whatever Username accepts is a name the store
// can key: 1–50 code points of NFC without "@", spaces or controls, with a
// UsernameKey.
func FuzzUsername(f *testing.F) {
	for _, s := range []string{"alice", "Ａｌｉｃｅ", "Zoe\u0308", "用户", "a b", "a@b", "\u0301a", "ǅ", "ß", "١٢٣", "x\u200d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var v blog.Validator
		got := v.Username(in)
		if len(v.Problems) > 0 {
			return
		}
		if n := utf8.RuneCountInString(got); n < 1 || n > blog.MaxUsername {
			t.Errorf("Username(%q) = %q of %d code points, accepted", in, got, n)
		}
		if strings.ContainsAny(got, "@ \t\r\n\x00") || !utf8.ValidString(got) {
			t.Errorf("Username(%q) = %q, accepted", in, got)
		}
		if _, err := blog.UsernameKey(got); err != nil {
			t.Errorf("Username(%q) = %q accepted, but UsernameKey fails: %v", in, got, err)
		}
		if blog.LoginKey(got) != mustKey(t, got) {
			t.Errorf("LoginKey(%q) = %q, want its UsernameKey %q: the user could not log in by name", got, blog.LoginKey(got), mustKey(t, got))
		}
	})
}

func mustKey(t *testing.T, s string) string {
	t.Helper()
	k, err := blog.UsernameKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// FuzzEmail checks that an accepted address is lower-case, at most 254
// code points, and that logging in with it finds the stored form.
func FuzzEmail(f *testing.F) {
	for _, s := range []string{"alice@example.com", "用户@例子.广告", "JOSÉ@EXÄMPLE.COM", "a@b", `"a"@b.c`, "a@b.c.", "İ@example.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var v blog.Validator
		got := v.Email(in)
		if len(v.Problems) > 0 {
			return
		}
		if utf8.RuneCountInString(got) > blog.MaxEmail || strings.Count(got, "@") != 1 {
			t.Errorf("Email(%q) = %q, accepted", in, got)
		}
		if got != strings.ToLower(got) {
			t.Errorf("Email(%q) = %q, not lower-case", in, got)
		}
		if key := blog.LoginKey(got); key != got {
			t.Errorf("LoginKey(%q) = %q, want the stored email: the user could not log in", got, key)
		}
		if key := blog.LoginKey(in); key != got {
			t.Errorf("LoginKey(%q) = %q, want the stored email %q: the user could not log in with what they registered", in, key, got)
		}
	})
}
