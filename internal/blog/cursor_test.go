package blog

import (
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []Cursor{
		{DatePosted: time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC), ID: 1},
		{DatePosted: time.Unix(0, 0).UTC(), ID: 1<<63 - 1},
		{DatePosted: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), ID: 42},
	} {
		got, err := ParseCursor(c.String())
		if err != nil || !got.DatePosted.Equal(c.DatePosted) || got.ID != c.ID {
			t.Errorf("ParseCursor(%v.String()) = %v, %v, want the cursor back", c, got, err)
		}
	}
}

func TestParseCursorRejects(t *testing.T) {
	for _, s := range []string{
		"", "x", "!!!!", "MTIz", // "123": no id
		"MTIzLjA",                      // "123.0": id 0
		"MTIzLi0x",                     // "123.-1"
		"MDEyMy4x",                     // "0123.1": leading zero
		"KzEyMy4x",                     // "+123.1"
		"MTIzLjE=",                     // padding
		"MTIzLjE\n",                    // trailing newline
		"MTIzLjEuMQ",                   // "123.1.1"
		"OTIyMzM3MjAzNjg1NDc3NTgwOC4x", // micros overflow int64
	} {
		if c, err := ParseCursor(s); err == nil {
			t.Errorf("ParseCursor(%q) = %v, nil; want an error", s, c)
		}
	}
}

// FuzzParseCursor checks that ParseCursor never panics and accepts only
// the one spelling Cursor.String gives.
func FuzzParseCursor(f *testing.F) {
	f.Add(Cursor{DatePosted: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), ID: 7}.String())
	f.Add("MTIzLjA")
	f.Add("MDEyMy4x")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			return
		}
		if c.ID <= 0 {
			t.Errorf("ParseCursor(%q) = id %d, want a positive id", s, c.ID)
		}
		if back := c.String(); back != s {
			t.Errorf("ParseCursor(%q).String() = %q, want the input", s, back)
		}
	})
}
