package blog_test

import (
	"encoding/base64"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

func TestCursorRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		c    blog.Cursor
	}{
		{"epoch", blog.Cursor{DatePosted: time.Unix(0, 0).UTC(), ID: 1}},
		{"microseconds", blog.Cursor{DatePosted: time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC), ID: 42}},
		{"before 1970", blog.Cursor{DatePosted: time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), ID: 7}},
		{"far future", blog.Cursor{DatePosted: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), ID: 3}},
		{"largest id", blog.Cursor{DatePosted: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ID: math.MaxInt64}},
		{"smallest time", blog.Cursor{DatePosted: time.UnixMicro(math.MinInt64).UTC(), ID: 1}},
		{"largest time", blog.Cursor{DatePosted: time.UnixMicro(math.MaxInt64).UTC(), ID: math.MaxInt64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.c.String()
			if len(s) > 64 {
				t.Errorf("String() = %q, %d characters, want at most 64", s, len(s))
			}
			if strings.ContainsAny(s, "+/=") {
				t.Errorf("String() = %q, want URL-safe unpadded base64", s)
			}
			got, err := blog.ParseCursor(s)
			if err != nil {
				t.Fatalf("ParseCursor(%q) = %v", s, err)
			}
			if !got.DatePosted.Equal(tt.c.DatePosted) || got.ID != tt.c.ID {
				t.Errorf("ParseCursor(%q) = {%v %d}, want {%v %d}", s, got.DatePosted, got.ID, tt.c.DatePosted, tt.c.ID)
			}
			if got.DatePosted.Location() != time.UTC {
				t.Errorf("ParseCursor(%q).DatePosted is in %v, want UTC", s, got.DatePosted.Location())
			}
		})
	}
}

func TestCursorDropsNanoseconds(t *testing.T) {
	c := blog.Cursor{DatePosted: time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC), ID: 1}
	got, err := blog.ParseCursor(c.String())
	if err != nil {
		t.Fatal(err)
	}
	if want := c.DatePosted.Truncate(time.Microsecond); !got.DatePosted.Equal(want) {
		t.Errorf("ParseCursor(%q).DatePosted = %v, want %v (stored times are microseconds)", c.String(), got.DatePosted, want)
	}
}

func TestParseCursorRejects(t *testing.T) {
	enc := func(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }
	tests := []struct {
		name, s string
	}{
		{"empty", ""},
		{"too long", strings.Repeat("A", 65)},
		{"not base64", "not a cursor!"},
		{"padded", base64.URLEncoding.EncodeToString([]byte("1.23"))},
		{"standard alphabet", strings.ReplaceAll(strings.ReplaceAll(enc("1700000000000000.1>?"), "-", "+"), "_", "/")},
		{"no dot", enc("1700000000000000")},
		{"two dots", enc("1.2.3")},
		{"empty time", enc(".5")},
		{"empty id", enc("5.")},
		{"id zero", enc("1700000000000000.0")},
		{"negative id", enc("1700000000000000.-1")},
		{"id overflows", enc("1700000000000000.9223372036854775808")},
		{"time overflows", enc("9223372036854775808.1")},
		{"leading zeros", enc("01700000000000000.1")},
		{"leading zero id", enc("1700000000000000.01")},
		{"plus sign", enc("+1700000000000000.1")},
		{"spaces", enc(" 1700000000000000.1")},
		{"not digits", enc("1e6.1")},
		{"trailing bits", enc("1.23")[:5] + "x"}, // "MS4yMw" with non-zero bits after the last byte
		{"NUL", enc("1.2\x00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := blog.ParseCursor(tt.s); err == nil {
				t.Errorf("ParseCursor(%q) = {%v %d}, nil; want an error", tt.s, c.DatePosted, c.ID)
			}
		})
	}
}

// FuzzParseCursor checks that ParseCursor accepts only the one spelling
// Cursor.String makes of each position, and never panics.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{
		"", "MTc3MjM2NjQwMDAwMDAwMC4x", "MS4y", "LTEuMQ", "MDEuMQ", "KzEuMQ",
		blog.Cursor{DatePosted: time.UnixMicro(math.MaxInt64), ID: math.MaxInt64}.String(),
		blog.Cursor{DatePosted: time.UnixMicro(math.MinInt64), ID: 1}.String(),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := blog.ParseCursor(s)
		if err != nil {
			return
		}
		if c.ID <= 0 {
			t.Errorf("ParseCursor(%q).ID = %d, want positive", s, c.ID)
		}
		if got := c.String(); got != s {
			t.Errorf("ParseCursor(%q) = {%v %d}, whose String() is %q: two spellings of one position", s, c.DatePosted, c.ID, got)
		}
		if c.DatePosted.Location() != time.UTC {
			t.Errorf("ParseCursor(%q).DatePosted is in %v, want UTC", s, c.DatePosted.Location())
		}
	})
}

// FuzzCursorString checks that every position with a positive id survives
// String and ParseCursor.
func FuzzCursorString(f *testing.F) {
	f.Add(int64(0), int64(1))
	f.Add(int64(1772366400000000), int64(42))
	f.Add(int64(-1), int64(math.MaxInt64))
	f.Add(int64(math.MinInt64), int64(1))
	f.Add(int64(math.MaxInt64), int64(1))
	f.Fuzz(func(t *testing.T, micros, id int64) {
		if id <= 0 {
			return
		}
		c := blog.Cursor{DatePosted: time.UnixMicro(micros).UTC(), ID: id}
		s := c.String()
		got, err := blog.ParseCursor(s)
		if err != nil {
			t.Fatalf("ParseCursor(%q) = %v, want the cursor {%v %d}", s, err, c.DatePosted, c.ID)
		}
		if got.DatePosted.UnixMicro() != micros || got.ID != id {
			t.Errorf("ParseCursor(%q) = {%v %d}, want {%v %d}", s, got.DatePosted, got.ID, c.DatePosted, c.ID)
		}
	})
}
