package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// encodingJSON is what writeJSON wrote before the shapes encoded
// themselves.
func encodingJSON(tb testing.TB, v any) string {
	tb.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		tb.Fatal(err)
	}
	return buf.String()
}

// checkShapes fails tb unless every hand-encoded shape holding s encodes
// exactly as encoding/json does.
func checkShapes(tb testing.TB, s string) {
	tb.Helper()
	user := &blog.User{ID: 7, Username: s, Email: s, ImageFile: s}
	post := &blog.Post{ID: 9, Title: s, Content: s, HTML: s, AuthorID: 7, Author: *user,
		DatePosted: time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)}
	cursor := blog.Cursor{DatePosted: post.DatePosted, ID: 9}
	searchCursor := blog.Query{Terms: []blog.Term{{Text: s}}}.CursorAt(1)
	shapes := []httpx.JSONAppender{
		publicUser(user),
		privateUser(user),
		privateUser(&blog.User{ID: 1, Username: s}), // no picture: null
		privateUser(&blog.User{ID: 1, Username: s, Email: s, PendingEmail: s, EmailVerifiedAt: post.DatePosted}),
		me{userPrivate: privateUser(user), TOTPEnabled: true},
		me{userPrivate: privateUser(&blog.User{ID: 1, Username: s, Email: s, PendingEmail: s, EmailVerifiedAt: post.DatePosted})},
		postOf(post),
		pageOf(&blog.PostPage{Posts: []blog.Post{*post, *post}, Total: 2, Limit: 10, HasMore: true, NextCursor: &cursor}),
		pageOf(&blog.PostPage{Posts: nil, Total: 0, Skip: 5, Limit: 100}),
		searchPageOf(&blog.SearchPage{Posts: []blog.Post{*post}, Total: 20, Limit: 1, HasMore: true, NextCursor: &searchCursor}),
		searchPageOf(&blog.SearchPage{Total: blog.MaxSearchResults, TotalCapped: true, Skip: 10_000, Limit: 10}),
	}
	for _, v := range shapes {
		want := encodingJSON(tb, v)
		if got := string(v.AppendJSON(nil)) + "\n"; got != want {
			tb.Errorf("%T.AppendJSON() with %q =\n%s\nencoding/json =\n%s", v, s, got, want)
		}
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "alice", `quote " and backslash \`, "tab\tnewline\nreturn\r", "\b\f\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "ünïcödé 日本語 🙂", "\u2028\u2029", "bad \xff\xfe utf-8 \xe2\x82",
		"trailing \xe2", "surrogate \xed\xa0\x80",
	} {
		checkShapes(t, s)
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("alice")
	f.Add("\u2028\"\\\x00\xff")
	f.Fuzz(func(t *testing.T, s string) { checkShapes(t, s) })
}

// BenchmarkPageJSON encodes a page of ten posts as GET /api/posts does,
// by hand and with encoding/json.
func BenchmarkPageJSON(b *testing.B) {
	var posts []blog.Post
	for i := range 10 {
		posts = append(posts, blog.Post{ID: int64(i + 1), Title: "A title of some length", AuthorID: 3,
			Content:    "Content of a few hundred bytes, which is what a page of the front page carries for each post. ",
			HTML:       "<p>Content of a few hundred bytes, which is what a page of the front page carries for each post.</p>\n",
			DatePosted: time.Date(2026, 3, 1, 12, 0, i, 0, time.UTC),
			Author:     blog.User{ID: 3, Username: "alice"}})
	}
	cursor := blog.Cursor{DatePosted: posts[9].DatePosted, ID: 10}
	page := pageOf(&blog.PostPage{Posts: posts, Total: 1000, Limit: 10, HasMore: true, NextCursor: &cursor})
	b.Run("appendJSON", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = page.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(page); err != nil {
				b.Fatal(err)
			}
		}
	})
}
