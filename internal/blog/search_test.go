package blog_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/blog"
)

// word, phrase, prefix and not build the terms tests expect.
func word(text string) blog.Term { return blog.Term{Text: text, Words: blog.Words(text)} }

func phrase(text string) blog.Term {
	t := word(text)
	t.Phrase = true
	return t
}

func prefix(t blog.Term) blog.Term { t.Prefix = true; return t }
func not(t blog.Term) blog.Term    { t.Exclude = true; return t }

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name, in string
		want     []blog.Term
	}{
		{"one word", "cafe", []blog.Term{word("cafe")}},
		{"words", "  tea   party\tin\nwonderland ", []blog.Term{word("tea"), word("party"), word("in"), word("wonderland")}},
		{"diacritics kept", "Café", []blog.Term{word("Café")}},
		{"decomposed is composed", "Cafe\u0301", []blog.Term{word("Café")}},
		{"phrase", `"state of the art"`, []blog.Term{phrase("state of the art")}},
		{"phrase and words", `tea "mad hatter" party`, []blog.Term{word("tea"), phrase("mad hatter"), word("party")}},
		{"one quoted word is a word", `"tea"`, []blog.Term{word("tea")}},
		{"unbalanced quote runs to the end", `tea "mad hatter`, []blog.Term{word("tea"), phrase("mad hatter")}},
		{"lone quote", `tea "`, []blog.Term{word("tea")}},
		{"empty phrase", `tea ""`, []blog.Term{word("tea")}},
		{"quotes glued to words", `a"b c"d`, []blog.Term{word("a"), phrase("b c"), word("d")}},
		{"prefix", "auth*", []blog.Term{prefix(word("auth"))}},
		{"prefix, several stars", "auth***", []blog.Term{prefix(word("auth"))}},
		{"short prefix is a word", "au*", []blog.Term{word("au")}},
		{"prefix of three letters", "aut*", []blog.Term{prefix(word("aut"))}},
		{"prefix of three accented letters", "éèê*", []blog.Term{prefix(word("éèê"))}},
		{"phrase prefix", `"mad hat"*`, []blog.Term{prefix(phrase("mad hat"))}},
		{"star inside a word", "foo*bar", []blog.Term{word("foo*bar")}},
		{"lone star", "tea * party", []blog.Term{word("tea"), word("party")}},
		{"star after punctuation", "tea.*", []blog.Term{word("tea")}},
		{"exclusion", "tea -coffee", []blog.Term{word("tea"), not(word("coffee"))}},
		{"excluded phrase", `tea -"green tea"`, []blog.Term{word("tea"), not(phrase("green tea"))}},
		{"excluded prefix", "tea -gree*", []blog.Term{word("tea"), not(prefix(word("gree")))}},
		{"double dash", "tea --coffee", []blog.Term{word("tea"), not(word("coffee"))}},
		{"lone dash", "tea - party", []blog.Term{word("tea"), word("party")}},
		{"dash inside a word", "e-mail", []blog.Term{word("e-mail")}},
		{"inner punctuation", "node.js o'brien", []blog.Term{word("node.js"), word("o'brien")}},
		{"surrounding punctuation", "(auth) NEAR( [x]!", []blog.Term{word("auth"), word("NEAR"), word("x")}},
		{"operators are words", "tea OR coffee AND NOT milk", []blog.Term{word("tea"), word("OR"), word("coffee"), word("AND"), word("NOT"), word("milk")}},
		{"FTS5 syntax is text", `title:tea {content}:x ^start NEAR(a b, 2) a+b`, []blog.Term{word("title:tea"), word("content}:x"), word("start"), word("NEAR(a"), word("b"), word("2"), word("a+b")}},
		{"SQL is text", `'; DROP TABLE posts; --`, []blog.Term{word("DROP"), word("TABLE"), word("posts")}},
		{"tsquery syntax is text", `a & !b | c:* <-> d`, []blog.Term{word("a"), word("b"), word("c"), word("d")}},
		{"repeated terms once", "tea Tea TEA tea*", []blog.Term{word("tea"), prefix(word("tea"))}},
		{"digits", "2026 3.14", []blog.Term{word("2026"), word("3.14")}},
		{"other scripts", "東京 Москва ٣", []blog.Term{word("東京"), word("Москва"), word("٣")}},
		{"emoji separates", "tea🍵party", []blog.Term{word("tea🍵party")}},
		{"lone mark is not a word", "tea \u0301", []blog.Term{word("tea")}},
		{"zero-width space separates", "tea\u200bparty", []blog.Term{word("tea\u200bparty")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := blog.ParseQuery(tt.in)
			if err != nil {
				t.Fatalf("ParseQuery(%q) = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got.Terms); diff != "" {
				t.Errorf("ParseQuery(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			again, err := blog.ParseQuery(got.String())
			if err != nil || !cmp.Equal(got, again) {
				t.Errorf("ParseQuery(%q) = %+v, %v; want ParseQuery(%q) again", got.String(), again, err, tt.in)
			}
		})
	}
}

func TestParseQueryProblems(t *testing.T) {
	tests := []struct {
		name, in string
		typ, msg string
	}{
		{"empty", "", "value_error", "Search query should have a word to search for, not only excluded words or punctuation"},
		{"blank", "   ", "value_error", "Search query should have a word to search for, not only excluded words or punctuation"},
		{"punctuation only", `*** "" - ( )`, "value_error", "Search query should have a word to search for, not only excluded words or punctuation"},
		{"exclusions only", `-tea -"green tea"`, "value_error", "Search query should have a word to search for, not only excluded words or punctuation"},
		{"lone star", "*", "value_error", "Search query should have a word to search for, not only excluded words or punctuation"},
		{"NUL", "tea\x00", "string_type", "Search query should be a valid string without control characters"},
		{"escape", "tea\x1b[31m", "string_type", "Search query should be a valid string without control characters"},
		{"DEL", "tea\x7f", "string_type", "Search query should be a valid string without control characters"},
		{"C1 control", "tea\u0090", "string_type", "Search query should be a valid string without control characters"},
		{"invalid UTF-8", "caf\xe9", "string_type", "Search query should be a valid string without control characters"},
		{"too long", strings.Repeat("a", blog.MaxSearchLength+1), "string_too_long", "Search query should have at most 256 characters"},
		{"too many words", "a b c d e f g h " + `"i j k l m n o p q"`, "too_long", "Search query should have at most 16 words"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := blog.ParseQuery(tt.in)
			var e *blog.Error
			if !errors.As(err, &e) || e.Kind != blog.Unprocessable {
				t.Fatalf("ParseQuery(%q) = %v, want a 422", tt.in, err)
			}
			want := []blog.Problem{{Type: tt.typ, Loc: []any{"query", "q"}, Msg: tt.msg}}
			if diff := cmp.Diff(want, e.Problems); diff != "" {
				t.Errorf("ParseQuery(%q) problems mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
	// At the limits, fine.
	for _, in := range []string{
		strings.Repeat("é", blog.MaxSearchLength),
		"a b c d e f g h " + `"i j k l m n o p"`,
		strings.Repeat("same ", 50),
	} {
		if _, err := blog.ParseQuery(in); err != nil {
			t.Errorf("ParseQuery(%.20q…) = %v, want it read", in, err)
		}
	}
}

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"Hello, world!", []string{"Hello", "world"}},
		{"e-mail node.js", []string{"e", "mail", "node", "js"}},
		{"cafe\u0301 \u0301x", []string{"cafe\u0301", "\u0301x"}},
		{"\u0301", nil},
		{"a_b", []string{"a", "b"}},
	}
	for _, tt := range tests {
		if got := blog.Words(tt.in); !cmp.Equal(got, tt.want) {
			t.Errorf("Words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSearchCursor(t *testing.T) {
	tea, err := blog.ParseQuery("tea")
	if err != nil {
		t.Fatal(err)
	}
	coffee, err := blog.ParseQuery("coffee")
	if err != nil {
		t.Fatal(err)
	}
	upper, err := blog.ParseQuery("TEA")
	if err != nil {
		t.Fatal(err)
	}
	for _, offset := range []int64{1, 10, 9990, blog.MaxSearchResults - 1} {
		c := tea.CursorAt(offset)
		s := c.String()
		if len(s) > 64 || strings.ContainsAny(s, "+/=") {
			t.Errorf("CursorAt(%d).String() = %q, want at most 64 URL-safe characters", offset, s)
		}
		got, err := blog.ParseSearchCursor(s)
		if err != nil || got.Offset != offset || !got.For(tea) || !got.For(upper) || got.For(coffee) {
			t.Errorf("ParseSearchCursor(%q) = %+v, %v; want offset %d, for tea and TEA only", s, got, err, offset)
		}
		if _, err := blog.ParseCursor(s); err == nil {
			t.Errorf("ParseCursor(%q) of a search cursor = nil, want an error", s)
		}
	}
	date := blog.Cursor{ID: 7}.String()
	good := tea.CursorAt(10).String()
	for _, s := range []string{
		"", date, "garbage", good + "A", good[:len(good)-1], strings.Repeat("A", 100),
		tea.CursorAt(0).String(), tea.CursorAt(-1).String(), tea.CursorAt(blog.MaxSearchResults).String(),
		b64("s010." + "abcdef"), b64("s+10." + "abcdef"), b64("s10:" + "abcdef"), b64("s10." + "abc"), b64("x10." + "abcdef"),
	} {
		if c, err := blog.ParseSearchCursor(s); err == nil {
			t.Errorf("ParseSearchCursor(%q) = %+v, want an error", s, c)
		}
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestReadCursor(t *testing.T) {
	tea, _ := blog.ParseQuery("tea")
	coffee, _ := blog.ParseQuery("coffee")
	date := blog.Cursor{ID: 7}.String()
	search := tea.CursorAt(10).String()
	tests := []struct {
		name      string
		in        string
		search    bool
		wantDate  bool
		wantFound bool
		msg       string
	}{
		{"a list's cursor", date, false, true, false, ""},
		{"a search's cursor", search, true, false, true, ""},
		{"a search's cursor for a list", search, false, false, false, "Invalid cursor: it belongs to a search; send it with that search's q"},
		{"a list's cursor for a search", date, true, false, false, "Invalid cursor: it belongs to a list of posts, not to a search"},
		{"garbage for a list", "garbage", false, false, false, "Invalid cursor"},
		{"garbage for a search", "garbage", true, false, false, "Invalid cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v blog.Validator
			c, sc := v.ReadCursor(tt.in, tt.search)
			if (c != nil) != tt.wantDate || (sc != nil) != tt.wantFound {
				t.Errorf("ReadCursor(%q, %t) = %v, %v", tt.in, tt.search, c, sc)
			}
			var msg string
			if len(v.Problems) > 0 {
				msg = v.Problems[0].Msg
			}
			if msg != tt.msg {
				t.Errorf("ReadCursor(%q, %t) problem %q, want %q", tt.in, tt.search, msg, tt.msg)
			}
		})
	}
	var v blog.Validator
	_, sc := v.ReadCursor(search, true)
	v.CheckSearchCursor(sc, tea)
	if len(v.Problems) != 0 {
		t.Errorf("CheckSearchCursor(tea's cursor, tea) = %v, want no problem", v.Problems)
	}
	v.CheckSearchCursor(sc, coffee)
	if len(v.Problems) != 1 || v.Problems[0].Msg != "Invalid cursor: it belongs to another search" {
		t.Errorf("CheckSearchCursor(tea's cursor, coffee) = %v, want one problem", v.Problems)
	}
}

// FuzzParseQuery checks that any string is either refused with a 422 or
// read as a query that keeps the parser's promises: terms of words that
// start and end their text, within the limits, and read back the same
// from their String.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{
		"cafe", `"state of the art"`, "auth*", "-draft tea", `tea "mad hatter`, "NEAR(", "*", "-", `""`,
		`a & !b | c:* <-> d`, `title:x {content}:y ^z`, "e-mail node.js", "東京 Москва", "tea\x00", "caf\xe9",
		strings.Repeat("w ", 20), `-"x" -y*`, `"a"*b"c"`, "\u0301", "x\u200by", "--", `-"`, `"*`, "a -*",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := blog.ParseQuery(s)
		if err != nil {
			var e *blog.Error
			if !errors.As(err, &e) || e.Kind != blog.Unprocessable || len(e.Problems) != 1 {
				t.Fatalf("ParseQuery(%q) = %v, want a 422 with one problem", s, err)
			}
			return
		}
		if len(q.Positive()) == 0 {
			t.Errorf("ParseQuery(%q) = %+v: no term to search for, and no problem", s, q)
		}
		words := 0
		for _, term := range q.Terms {
			words += len(term.Words)
			if len(term.Words) == 0 || !utf8.ValidString(term.Text) || strings.ContainsAny(term.Text, "\"") {
				t.Errorf("ParseQuery(%q): term %+v has no words, bad text or a quote", s, term)
			}
			if !strings.HasPrefix(term.Text, term.Words[0]) || !strings.HasSuffix(term.Text, term.Words[len(term.Words)-1]) {
				t.Errorf("ParseQuery(%q): term text %q does not start and end with its words %q", s, term.Text, term.Words)
			}
			if !term.Phrase && strings.ContainsFunc(term.Text, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' }) {
				t.Errorf("ParseQuery(%q): unquoted term %q has a space", s, term.Text)
			}
			if term.Prefix && utf8.RuneCountInString(term.Words[len(term.Words)-1]) < blog.MinPrefixLength {
				t.Errorf("ParseQuery(%q): prefix %q is too short", s, term.Text)
			}
		}
		if words > blog.MaxSearchWords {
			t.Errorf("ParseQuery(%q) has %d words, over the limit", s, words)
		}
		again, err := blog.ParseQuery(q.String())
		if err != nil || !cmp.Equal(q, again) {
			t.Errorf("ParseQuery(%q) = %+v, but its String %q reads as %+v, %v", s, q, q.String(), again, err)
		}
	})
}
