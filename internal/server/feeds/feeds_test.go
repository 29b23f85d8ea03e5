package feeds

import (
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPageNumber(t *testing.T) {
	for _, tc := range []struct {
		name string
		want int64
		ok   bool
	}{
		{"1.xml", 1, true}, {"20.xml", 20, true}, {"999999999999999.xml", 999999999999999, true},
		{"0.xml", 0, false}, {"01.xml", 0, false}, {"-1.xml", 0, false}, {"+1.xml", 0, false}, {"1", 0, false},
		{".xml", 0, false}, {"1.xml.gz", 0, false}, {"1.XML", 0, false}, {"x.xml", 0, false}, {"1e3.xml", 0, false},
		{"1000000000000000.xml", 0, false}, {"١.xml", 0, false},
	} {
		got, err := pageNumber(tc.name)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("pageNumber(%q) = %d, %v; want %d, ok %v", tc.name, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzPageNumber(f *testing.F) {
	for _, s := range []string{"1.xml", "0.xml", "99.xml", "-5.xml", "1.xml.xml", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n, err := pageNumber(name)
		if err == nil && (n < 1 || n > 999_999_999_999_999 || name != strings.TrimLeft(name, "0")) {
			t.Errorf("pageNumber(%q) = %d, nil", name, n)
		}
	})
}

// FuzzAtomDocument: whatever a post's title and text hold, its Atom entry
// is well-formed XML that gives back the same text, but for characters
// XML cannot carry.
func FuzzAtomDocument(f *testing.F) {
	f.Add("Title & <b>", "<p>a &amp; b</p>", "alice")
	f.Add("\x00\x01\x1f\ufffe", "]]> <![CDATA[", "\xff")
	f.Fuzz(func(t *testing.T, title, html, name string) {
		doc := atomFeed{NS: atomNS, ID: "http://x/", Title: title, Entries: []atomEntry{{
			ID: "http://x/posts/1", Title: title, Author: atomPerson{Name: name},
			Content: atomContent{Type: "html", Base: "http://x/posts/1", Text: html},
		}}}
		body, err := xml.Marshal(doc)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		var back atomFeed
		if err := xml.Unmarshal(body, &back); err != nil {
			t.Fatalf("the document does not parse: %v\n%s", err, body)
		}
		if len(back.Entries) != 1 {
			t.Fatalf("%d entries back, want 1", len(back.Entries))
		}
		if want := xmlText(html); back.Entries[0].Content.Text != want {
			t.Errorf("content back = %q, want %q", back.Entries[0].Content.Text, want)
		}
	})
}

// xmlText is s as XML can carry it: invalid UTF-8 and characters outside
// XML's range become U+FFFD.
func xmlText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1, !inXMLRange(r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func inXMLRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
