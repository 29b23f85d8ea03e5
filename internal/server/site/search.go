package site

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/markdown"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// searchView is the search page: the box, and the results of a search.
type searchView struct {
	Query    string // as typed, to show in the box again
	Searched bool   // a query was given: there are results, or Error says why not
	Error    string
	Results  []searchResult
	Total    int64
	Count    string // Total, with thousands separated
	Capped   bool
	From, To int64  // the results shown, counting from 1
	Prev     string // the URL of the previous page, "" on the first
	Next     string // of the next, "" on the last
}

// searchResult is a post found, with the query's words marked in its
// title and in an excerpt of its content.
type searchResult struct {
	Post    *blog.Post
	Title   []segment
	Excerpt []segment
}

// Search shows the posts that match q, best first, in pages: GET
// /search. Without a q, or with a blank one, it shows the search box and
// how to use it; a query that cannot be read is the page again with the
// reason, and the API's status.
func (s *Site) Search(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	v := searchView{Query: r.URL.Query().Get("q")}
	if !utf8.ValidString(v.Query) {
		v.Query = strings.ToValidUTF8(v.Query, "\uFFFD") // shown again, never as it came
	}
	title := "Search"
	req, ok := httpx.SearchRequest(r)
	if !ok {
		return s.render(w, r, c, http.StatusOK, "search", view{Title: title, Data: v})
	}
	v.Searched = true
	title = "Search: " + v.Query
	page, err := s.app.SearchPosts(r.Context(), 0, req)
	var e *blog.Error
	if errors.As(err, &e) && e.Kind == blog.Unprocessable {
		msgs := make([]string, len(e.Problems))
		for i, p := range e.Problems {
			msgs[i] = p.Msg
		}
		v.Error = strings.Join(msgs, " ")
		return s.render(w, r, c, httpx.Status(e.Kind), "search", view{Title: title, Data: v})
	}
	if err != nil {
		return err
	}
	words := newWordMarks(page.Query)
	for i := range page.Posts {
		p := &page.Posts[i]
		v.Results = append(v.Results, searchResult{Post: p, Title: words.mark(p.Title), Excerpt: words.excerpt(markdown.Text(p.Content))})
	}
	v.Total, v.Count, v.Capped = page.Total, thousands(page.Total), page.TotalCapped
	v.From, v.To = page.Skip+1, page.Skip+int64(len(page.Posts))
	link := func(offset int64) string {
		q := url.Values{"q": {v.Query}}
		if page.Limit != blog.DefaultLimit {
			q.Set("limit", fmt.Sprint(page.Limit))
		}
		if offset > 0 {
			q.Set("cursor", page.Query.CursorAt(offset).String())
		}
		return "/search?" + q.Encode()
	}
	if page.NextCursor != nil {
		v.Next = link(page.NextCursor.Offset)
	}
	if page.Skip > 0 && page.Skip < blog.MaxSearchResults {
		v.Prev = link(max(0, page.Skip-int64(page.Limit)))
	}
	return s.render(w, r, c, http.StatusOK, "search", view{Title: title, Data: v})
}

// segment is a piece of text shown as it is, or marked as a word of the
// query. Templates escape both.
type segment struct {
	Text string
	Mark bool
}

// wordMarks finds the words of a query in text, as the databases do:
// ignoring case and diacritics. It marks each word of the terms a post
// must contain wherever it appears, phrase or not; an excluded term's
// words are not marked. The databases fold a few letters further (on
// PostgreSQL, ø as o), and such a match is found but not marked.
type wordMarks struct {
	words    map[string]bool
	prefixes []string
}

func newWordMarks(q blog.Query) *wordMarks {
	m := &wordMarks{words: map[string]bool{}}
	for _, t := range q.Positive() {
		for i, w := range t.Words {
			if t.Prefix && i == len(t.Words)-1 {
				m.prefixes = append(m.prefixes, fold(w))
			} else {
				m.words[fold(w)] = true
			}
		}
	}
	return m
}

// matches reports whether the word w of a post is one of the query's.
func (m *wordMarks) matches(w string) bool {
	f := fold(w)
	if m.words[f] {
		return true
	}
	for _, p := range m.prefixes {
		if strings.HasPrefix(f, p) {
			return true
		}
	}
	return false
}

// fold is w without case and diacritics.
func fold(w string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(w) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// wordSpan is where a word is in a text, and whether it is marked.
type wordSpan struct {
	start, end int
	mark       bool
}

// scanWords is how far into a post's content an excerpt looks for a
// query word: past it, the excerpt is the content's start (the post
// matched further on, or in its title).
const scanWords = 2000

// spans finds the words of text. With limit not negative, it stops
// limit words after the first marked one, or at scanWords words without
// one.
func (m *wordMarks) spans(text string, limit int) []wordSpan {
	var out []wordSpan
	found := -1
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		s := wordSpan{start: start, end: end, mark: m.matches(text[start:end])}
		if s.mark && found < 0 {
			found = len(out)
		}
		out = append(out, s)
		start = -1
	}
	for i, r := range text {
		if limit >= 0 && (found >= 0 && len(out)-found > limit || found < 0 && len(out) >= scanWords) {
			return out
		}
		if blog.IsWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(text))
	return out
}

// mark splits text into segments, its query words marked.
func (m *wordMarks) mark(text string) []segment {
	return segments(text, m.spans(text, -1), 0, len(text))
}

// Excerpts are excerptWords words of the content, starting a few words
// before the first word of the query, with "…" where text was cut.
const (
	excerptWords  = 40
	excerptBefore = 8
)

// excerpt is a piece of text around its first query word, or its start
// when it has none.
func (m *wordMarks) excerpt(text string) []segment {
	spans := m.spans(text, excerptWords)
	first := 0
	for i, s := range spans {
		if s.mark {
			first = max(0, i-excerptBefore)
			break
		}
	}
	if len(spans) == 0 {
		return nil
	}
	last := min(len(spans), first+excerptWords)
	from, to := spans[first].start, spans[last-1].end
	if first == 0 {
		from = 0
	}
	out := segments(text, spans[first:last], from, to)
	if from > 0 {
		out = append([]segment{{Text: "…"}}, out...)
	}
	if strings.TrimFunc(text[to:], func(r rune) bool { return !blog.IsWordRune(r) }) != "" {
		out = append(out, segment{Text: "…"})
	} else {
		out = append(out, segment{Text: text[to:]})
	}
	return out
}

// segments is text[from:to] cut at the marked spans.
func segments(text string, spans []wordSpan, from, to int) []segment {
	var out []segment
	at := from
	for _, s := range spans {
		if !s.mark || s.start < from || s.end > to {
			continue
		}
		if s.start > at {
			out = append(out, segment{Text: text[at:s.start]})
		}
		out = append(out, segment{Text: text[s.start:s.end], Mark: true})
		at = s.end
	}
	if at < to {
		out = append(out, segment{Text: text[at:to]})
	}
	return out
}

// thousands formats n with a comma between each three digits.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
