package blog

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Search limits.
const (
	// MaxSearchLength is the longest query, in code points.
	MaxSearchLength = 256
	// MaxSearchWords is how many words a query may have in all, those of
	// phrases and excluded terms included: each costs the database a
	// pass over the posts that contain it.
	MaxSearchWords = 16
	// MinPrefixLength is the fewest code points a prefix (auth*) needs; a
	// shorter one is read as a whole word. A prefix of one or two letters
	// would make the database merge the entries of most of its words.
	MinPrefixLength = 3
	// MaxSearchResults is how many matching posts a search ranks: the most
	// recently written ones, by id. More matches are counted no further,
	// and the page says so (SearchPage.TotalCapped). It bounds the cost of
	// a search for a common word, which is public.
	MaxSearchResults = 10_000
)

// Query is a parsed search query: posts match when they contain every
// term that is not excluded and none of those that are. ParseQuery makes
// it; the store renders it into its database's own syntax, quoting each
// term, so no text a user typed is ever read as that syntax.
type Query struct {
	Terms []Term
}

// Term is one word, a phrase, or a prefix, as the user typed it.
type Term struct {
	// Text is the term's text without the syntax around it: a word such
	// as "auth", a phrase's words with what was between them ("state of
	// the art"), or a word with inner punctuation ("e-mail", "node.js"),
	// which both databases read as consecutive words, as they do in
	// posts. It starts and ends with a word character.
	Text string
	// Words are Text's words, for limits and highlighting: runs of
	// letters, digits and marks.
	Words []string
	// Phrase: the term was quoted, and has more than one word.
	Phrase bool
	// Prefix: the last word matches any word it begins ("auth*": auth,
	// author, authentication).
	Prefix bool
	// Exclude: posts containing the term do not match ("-draft").
	Exclude bool
}

// Positive returns the terms a post must contain.
func (q Query) Positive() []Term {
	var out []Term
	for _, t := range q.Terms {
		if !t.Exclude {
			out = append(out, t)
		}
	}
	return out
}

// String is q in the syntax ParseQuery reads, one space between terms;
// ParseQuery(q.String()) is q again. A last phrase is left open, as an
// unbalanced quote runs to the end, so that String is never longer than
// a query that reads as q: one at the length limit stays within it.
func (q Query) String() string {
	var b strings.Builder
	for i, t := range q.Terms {
		if i > 0 {
			b.WriteByte(' ')
		}
		if t.Exclude {
			b.WriteByte('-')
		}
		switch {
		case t.Phrase && !t.Prefix && i == len(q.Terms)-1:
			b.WriteString(`"` + t.Text)
		case t.Phrase:
			b.WriteString(`"` + t.Text + `"`)
		default:
			b.WriteString(t.Text)
		}
		if t.Prefix {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// Problem messages of a query, for the field that carried it.
const (
	msgQueryText     = "Search query should be a valid string without control characters"
	msgQueryNoWords  = "Search query should have a word to search for, not only excluded words or punctuation"
	msgQueryTooLong  = "Search query should have at most 256 characters"
	msgQueryTooMany  = "Search query should have at most 16 words"
	msgInvalidCursor = "Invalid cursor"
	msgCursorOfList  = "Invalid cursor: it belongs to a list of posts, not to a search"
	msgCursorOfQuery = "Invalid cursor: it belongs to a search; send it with that search's q"
	msgCursorOfOther = "Invalid cursor: it belongs to another search"
)

// SearchQuery reads a search query (the q parameter, hence loc query.q)
// and returns it parsed. The syntax is that of web search engines:
//
//   - words, separated by spaces: a post must contain all of them, in
//     its title or its content, ignoring case and diacritics;
//   - "a phrase": these words, one after the other;
//   - prefix*: any word beginning so (at least MinPrefixLength
//     characters; a shorter prefix is read as a word);
//   - -word, -"a phrase", -prefix*: posts containing it do not match.
//
// Everything else is read as text: punctuation separates words (a word
// with inner punctuation, such as e-mail, is searched as its words one
// after the other), an unbalanced quote runs to the end, a * or - with no
// word to apply to is ignored, and OR, AND, NOT and NEAR are words like
// any other. Invalid UTF-8, control characters other than white space,
// more than MaxSearchLength characters or MaxSearchWords words, and a
// query with no word to search for are problems.
func (v *Validator) SearchQuery(s string) Query {
	const loc = "q"
	if !utf8.ValidString(s) || strings.IndexFunc(s, badQueryRune) >= 0 {
		v.Add("string_type", msgQueryText, "query", loc)
		return Query{}
	}
	if utf8.RuneCountInString(s) > MaxSearchLength {
		v.Add("string_too_long", msgQueryTooLong, "query", loc)
		return Query{}
	}
	q := parseQuery(norm.NFC.String(s))
	words := 0
	for _, t := range q.Terms {
		words += len(t.Words)
	}
	switch {
	case words > MaxSearchWords:
		v.Add("too_long", msgQueryTooMany, "query", loc)
	case len(q.Positive()) == 0:
		v.Add("value_error", msgQueryNoWords, "query", loc)
	}
	return q
}

// ParseQuery is SearchQuery without a Validator: the query, or a 422
// *Error listing its problems.
func ParseQuery(s string) (Query, error) {
	var v Validator
	q := v.SearchQuery(s)
	return q, v.Err()
}

// badQueryRune reports whether r may not appear in a query: a control
// character other than white space (a tab or a newline separates words).
func badQueryRune(r rune) bool {
	return unicode.IsControl(r) && !unicode.IsSpace(r)
}

// IsWordRune reports whether r is part of a word: a letter, a digit or
// a mark. Everything else separates words, as it does for both
// databases' tokenizers.
func IsWordRune(r rune) bool {
	return unicode.In(r, unicode.L, unicode.N, unicode.M)
}

// Words splits s into its words: runs of word runes with at least one
// letter or digit (a lone combining mark is not a word).
func Words(s string) []string {
	var words []string
	start, hasBase := -1, false
	flush := func(end int) {
		if start >= 0 && hasBase {
			words = append(words, s[start:end])
		}
		start, hasBase = -1, false
	}
	for i, r := range s {
		if !IsWordRune(r) {
			flush(i)
			continue
		}
		if start < 0 {
			start = i
		}
		hasBase = hasBase || !unicode.Is(unicode.M, r)
	}
	flush(len(s))
	return words
}

// parseQuery reads s, which is valid UTF-8 in NFC, term by term. It never
// fails: what is not syntax is text.
func parseQuery(s string) Query {
	var q Query
	seen := map[string]bool{}
	add := func(t Term) {
		t.Text = trimToWords(t.Text)
		t.Words = Words(t.Text)
		if len(t.Words) == 0 {
			return // punctuation only: nothing to search for
		}
		if t.Prefix && utf8.RuneCountInString(t.Words[len(t.Words)-1]) < MinPrefixLength {
			t.Prefix = false
		}
		t.Phrase = t.Phrase && len(t.Words) > 1
		// The same term twice costs the database twice and changes nothing.
		key := strings.ToLower(Query{Terms: []Term{t}}.String())
		if seen[key] {
			return
		}
		seen[key] = true
		q.Terms = append(q.Terms, t)
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		// A term: an optional "-", then a quoted phrase or a run of
		// anything but spaces and quotes.
		exclude := false
		if r == '-' {
			exclude = true
			for i < len(s) && s[i] == '-' {
				i++
			}
			if i == len(s) {
				break
			}
		}
		if s[i] == '"' {
			i++
			end := strings.IndexByte(s[i:], '"')
			var text string
			if end < 0 { // unbalanced: the phrase runs to the end
				text, i = s[i:], len(s)
			} else {
				text, i = s[i:i+end], i+end+1
			}
			prefix := i < len(s) && s[i] == '*' && endsInWord(text)
			for i < len(s) && s[i] == '*' {
				i++
			}
			add(Term{Text: text, Phrase: true, Prefix: prefix, Exclude: exclude})
			continue
		}
		start := i
		for i < len(s) {
			r, size := utf8.DecodeRuneInString(s[i:])
			if unicode.IsSpace(r) || r == '"' {
				break
			}
			i += size
		}
		text := strings.TrimRight(s[start:i], "*")
		prefix := len(text) < i-start && endsInWord(text)
		add(Term{Text: text, Prefix: prefix, Exclude: exclude})
	}
	return q
}

// endsInWord reports whether s ends with a word rune: a * after it makes
// a prefix; a * after punctuation is nothing.
func endsInWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && IsWordRune(r)
}

// trimToWords trims s to start and end with a word: "(auth" is "auth",
// "NEAR(" is "NEAR".
func trimToWords(s string) string {
	words := Words(s)
	if len(words) == 0 {
		return ""
	}
	first := strings.Index(s, words[0])
	last := strings.LastIndex(s, words[len(words)-1]) + len(words[len(words)-1])
	return s[first:last]
}

// SearchRequest asks for a page of the posts that match a query, best
// first (see SearchPage). Query is as the client sent it; the page starts
// after Skip results, or where Cursor says. A Limit outside
// 1…MaxLimit becomes DefaultLimit or MaxLimit. Problems are those an
// adapter found reading the other parameters.
type SearchRequest struct {
	Query    string
	Skip     int64
	Limit    int
	Cursor   *SearchCursor
	Problems []Problem
}

// SearchPage is one page of the posts that match a query, best first:
// posts with a query word in their title before the others, then by
// relevance (a word in the title weighs ten times one in the content),
// then newest first. Only the MaxSearchResults most recently written
// matches are ranked.
type SearchPage struct {
	Query Query
	Posts []Post
	// Total is how many posts match, at most MaxSearchResults.
	Total int64
	// TotalCapped: more than MaxSearchResults posts match; the older
	// ones are neither counted nor shown.
	TotalCapped bool
	Skip        int64
	Limit       int
	HasMore     bool
	NextCursor  *SearchCursor // nil on the last page
}

// SearchCursor is the position of a search's next page. A search ranks
// posts by scores that change as posts are written, so the position is
// an offset into the results rather than a score, and the cursor is good
// only for the query it was made for.
type SearchCursor struct {
	Offset int64
	query  [searchKeySize]byte
}

// searchKeySize is the bytes of a query's hash a cursor carries.
const searchKeySize = 6

// CursorAt returns the cursor of q's results from offset on.
func (q Query) CursorAt(offset int64) SearchCursor {
	return SearchCursor{Offset: offset, query: q.key()}
}

// key identifies q for its cursors: two queries that read alike but for
// case have the same key.
func (q Query) key() [searchKeySize]byte {
	sum := sha256.Sum256([]byte(strings.ToLower(q.String())))
	return [searchKeySize]byte(sum[:searchKeySize])
}

// For reports whether c was made for q.
func (c SearchCursor) For(q Query) bool { return c.query == q.key() }

// String encodes c as an opaque, URL-safe token. It never reads as a
// Cursor, nor a Cursor as a SearchCursor: the two kinds of page cannot
// be mixed up.
func (c SearchCursor) String() string {
	raw := append([]byte("s"+strconv.FormatInt(c.Offset, 10)+"."), c.query[:]...)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// ParseSearchCursor decodes a token made by SearchCursor.String. Anything
// else is an error; the token is client input and is checked strictly.
func ParseSearchCursor(s string) (SearchCursor, error) {
	bad := errors.New("invalid search cursor")
	if s == "" || len(s) > 64 {
		return SearchCursor{}, bad
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(raw) < 1+1+1+searchKeySize || raw[0] != 's' {
		return SearchCursor{}, bad
	}
	digits, key := raw[1:len(raw)-searchKeySize-1], raw[len(raw)-searchKeySize:]
	if raw[len(raw)-searchKeySize-1] != '.' {
		return SearchCursor{}, bad
	}
	n, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil || n <= 0 || n >= MaxSearchResults {
		return SearchCursor{}, bad
	}
	c := SearchCursor{Offset: n, query: [searchKeySize]byte(key)}
	if c.String() != s { // one spelling per position
		return SearchCursor{}, bad
	}
	return c, nil
}

// ReadCursor reads the cursor parameter of a page of posts (search is
// false) or of a search's results, adding a problem at loc query.cursor
// when it is not one of the right kind: one of the other kind is named
// as such, so a client learns what went wrong.
func (v *Validator) ReadCursor(s string, search bool) (*Cursor, *SearchCursor) {
	const loc = "cursor"
	if search {
		if c, err := ParseSearchCursor(s); err == nil {
			return nil, &c
		}
		if _, err := ParseCursor(s); err == nil {
			v.Add("value_error", msgCursorOfList, "query", loc)
			return nil, nil
		}
	} else {
		if c, err := ParseCursor(s); err == nil {
			return &c, nil
		}
		if _, err := ParseSearchCursor(s); err == nil {
			v.Add("value_error", msgCursorOfQuery, "query", loc)
			return nil, nil
		}
	}
	v.Add("value_error", msgInvalidCursor, "query", loc)
	return nil, nil
}

// CheckSearchCursor adds a problem at loc query.cursor unless c, if
// given, was made for q.
func (v *Validator) CheckSearchCursor(c *SearchCursor, q Query) {
	if c != nil && !c.For(q) {
		v.Add("value_error", msgCursorOfOther, "query", "cursor")
	}
}
