package site

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/blog"
)

// marked writes segments back as text, each marked one in [brackets].
func marked(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		if s.Mark {
			b.WriteString("[" + s.Text + "]")
		} else {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

func TestWordMarks(t *testing.T) {
	long := func(n int, word string) string { return strings.TrimSpace(strings.Repeat(word+" ", n)) }
	tests := []struct {
		name, query, text string
		mark, excerpt     string
	}{
		{"a word, in any case", "tea", "Tea for two, TEA for me.", "[Tea] for two, [TEA] for me.", "[Tea] for two, [TEA] for me."},
		{"diacritics either way", "cafe résumé", "Café and resume.", "[Café] and [resume].", "[Café] and [resume]."},
		{"decomposed", "café", "Cafe\u0301!", "[Cafe\u0301]!", "[Cafe\u0301]!"},
		{"a prefix", "auth*", "Authentication by the author, not auth0", "[Authentication] by the [author], not [auth0]", "[Authentication] by the [author], not [auth0]"},
		{"a phrase's words", `"mad hatter"`, "The Mad Hatter is mad.", "The [Mad] [Hatter] is [mad].", "The [Mad] [Hatter] is [mad]."},
		{"not the excluded", "tea -coffee", "tea and coffee", "[tea] and coffee", "[tea] and coffee"},
		{"not a part of a word", "tea", "teapot steam", "teapot steam", "teapot steam"},
		{"punctuation kept", "x", "(x) <x>", "([x]) <[x]>", "([x]) <[x]>"},
		{"no match: the start", "zebra", long(60, "w"), long(60, "w"), long(40, "w") + "…"},
		{"a match far in", "tea", long(100, "w") + " tea " + long(100, "v"), "",
			"…" + long(8, "w") + " [tea] " + long(31, "v") + "…"},
		{"a match near the end", "tea", long(100, "w") + " tea.", "", "…" + long(8, "w") + " [tea]."},
		{"a match past the scan", "tea", long(scanWords+10, "w") + " tea", "", long(40, "w") + "…"},
		{"empty", "tea", "", "", ""},
		{"punctuation only", "tea", "...", "...", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := blog.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			m := newWordMarks(q)
			if tt.mark != "" || tt.text == "" {
				if got := marked(m.mark(tt.text)); got != tt.mark {
					t.Errorf("mark(%.40q) = %q, want %q", tt.text, got, tt.mark)
				}
			}
			if got := marked(m.excerpt(tt.text)); got != tt.excerpt {
				t.Errorf("excerpt(%.40q) =\n%q\nwant\n%q", tt.text, got, tt.excerpt)
			}
		})
	}
}

func TestSegmentsKeepText(t *testing.T) {
	q, _ := blog.ParseQuery("a* b")
	m := newWordMarks(q)
	for _, text := range []string{"", "a", "b a b", "<b>a</b> & \"b\"", "ab ba bb", "x\xffa b"} {
		var b strings.Builder
		for _, s := range m.mark(text) {
			b.WriteString(s.Text)
		}
		if diff := cmp.Diff(text, b.String()); diff != "" {
			t.Errorf("mark(%q) lost text (-want +got):\n%s", text, diff)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
