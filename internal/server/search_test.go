package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// Search: GET /api/posts?q=… and GET /api/users/{user_id}/posts?q=…, as
// scenarios on the fixture's posts (see newFixture): alice_post "Alice's
// first post" / "Hello from Alice.", bob_post "Bob builds" / "Can we fix
// it?", alice_post2 "Alice again" / "Down the rabbit hole.".

// searchPath is path with the query string q (encoded) and more.
func searchPath(path, q string, more ...string) string {
	s := path + "?q=" + url.QueryEscape(q)
	for _, m := range more {
		s += "&" + m
	}
	return s
}

// searchPage is the body of a page of search results.
func searchPage(posts string, total, skip, limit int, hasMore, capped bool) string {
	cursor := "null"
	if hasMore {
		cursor = `"<cursor>"`
	}
	return fmt.Sprintf(`{"posts":[%s],"total":%d,"skip":%d,"limit":%d,"has_more":%t,"next_cursor":%s,"total_capped":%t}`,
		posts, total, skip, limit, hasMore, cursor, capped)
}

// storeCursor runs path and keeps its next_cursor as {cursor}.
func storeCursor(path string) func(tb testing.TB, f *fixture) {
	return func(tb testing.TB, f *fixture) {
		res, body := f.do(tb, "GET", f.expand(path), "", nil)
		var p struct {
			NextCursor *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &p); err != nil || res.StatusCode != http.StatusOK || p.NextCursor == nil {
			tb.Fatalf("GET %s = %d %s: no next_cursor", path, res.StatusCode, body)
		}
		f.set("cursor", url.QueryEscape(*p.NextCursor))
	}
}

func searchScenarios() []apiScenario {
	alicePost := `{"id":{alice_post},"title":"Alice's first post","content":"Hello from Alice.","user_id":{alice},"author_id":{alice},"date_posted":"<rfc3339>","author":{alice_public},"content_html":"<p>Hello from Alice.</p>\n"}`
	bobPost := `{"id":{bob_post},"title":"Bob builds","content":"Can we fix it?","user_id":{bob},"author_id":{bob},"date_posted":"<rfc3339>","author":{bob_public},"content_html":"<p>Can we fix it?</p>\n"}`
	alicePost2 := `{"id":{alice_post2},"title":"Alice again","content":"Down the rabbit hole.","user_id":{alice},"author_id":{alice},"date_posted":"<rfc3339>","author":{alice_public},"content_html":"<p>Down the rabbit hole.</p>\n"}`
	list := `{"posts":[` + alicePost2 + "," + bobPost + "," + alicePost + `],"total":3,"skip":0,"limit":10,"has_more":false,"next_cursor":null}`
	none := searchPage("", 0, 0, 10, false, false)
	const posts, alices = "/api/posts", "/api/users/{alice}/posts"

	// Two posts of Bob's for ranking and paging: the older with "tea" in
	// its title, the newer only in its content.
	teaPost := `{"id":{tea_title},"title":"Tea time","content":"Earl Grey, hot.","user_id":{bob},"author_id":{bob},"date_posted":"<rfc3339>","author":{bob_public},"content_html":"<p>Earl Grey, hot.</p>\n"}`
	cupPost := `{"id":{tea_content},"title":"Afternoon","content":"A cup of tea, and another cup of tea.","user_id":{bob},"author_id":{bob},"date_posted":"<rfc3339>","author":{bob_public},"content_html":"<p>A cup of tea, and another cup of tea.</p>\n"}`
	teaPosts := func(tb testing.TB, f *fixture) {
		tb.Helper()
		f.set("tea_title", fmt.Sprint(f.createPost(tb, f.users["bob"].Token, "Tea time", "Earl Grey, hot.")))
		f.clock.Advance(time.Minute)
		f.set("tea_content", fmt.Sprint(f.createPost(tb, f.users["bob"].Token, "Afternoon", "A cup of tea, and another cup of tea.")))
	}
	both := func(setups ...func(tb testing.TB, f *fixture)) func(tb testing.TB, f *fixture) {
		return func(tb testing.TB, f *fixture) {
			for _, s := range setups {
				s(tb, f)
			}
		}
	}

	rows := []apiScenario{
		{name: "search", path: searchPath(posts, "hello"), wantJSON: searchPage(alicePost, 1, 0, 10, false, false)},
		{name: "search ignores case", path: searchPath(posts, "HELLO"), wantJSON: searchPage(alicePost, 1, 0, 10, false, false)},
		{name: "search ignores diacritics", path: searchPath(posts, "Hëllö"), wantJSON: searchPage(alicePost, 1, 0, 10, false, false)},
		{name: "search of the content", path: searchPath(posts, "rabbit"), wantJSON: searchPage(alicePost2, 1, 0, 10, false, false)},
		{name: "search needs every word", path: searchPath(posts, "alice hello"), wantJSON: searchPage(alicePost, 1, 0, 10, false, false)},
		{name: "search of a phrase", path: searchPath(posts, `"rabbit hole"`), wantJSON: searchPage(alicePost2, 1, 0, 10, false, false)},
		{name: "search of a phrase out of order", path: searchPath(posts, `"hole rabbit"`), wantJSON: none},
		{name: "search of a prefix", path: searchPath(posts, "rabb*"), wantJSON: searchPage(alicePost2, 1, 0, 10, false, false)},
		{name: "search of a short prefix reads a word", path: searchPath(posts, "ra*"), wantJSON: none},
		{name: "search with an exclusion", path: searchPath(posts, "alice -again"), wantJSON: searchPage(alicePost, 1, 0, 10, false, false)},
		{name: "search with an excluded phrase", path: searchPath(posts, `alice -"first post"`), wantJSON: searchPage(alicePost2, 1, 0, 10, false, false)},
		{name: "search finding nothing", path: searchPath(posts, "zebra"), wantJSON: none},
		{name: "search with a trailing slash", path: searchPath(posts+"/", "bob"), wantJSON: searchPage(bobPost, 1, 0, 10, false, false)},
		// The title's match first, though older and though the other
		// says the word twice.
		{name: "search ranks a title first", path: searchPath(posts, "tea"), setup: teaPosts, wantJSON: searchPage(teaPost+","+cupPost, 2, 0, 10, false, false)},
		{name: "search, first page", path: searchPath(posts, "tea", "limit=1"), setup: teaPosts, wantJSON: searchPage(teaPost, 2, 0, 1, true, false)},
		{name: "search, second page by offset", path: searchPath(posts, "tea", "limit=1", "skip=1"), setup: teaPosts, wantJSON: searchPage(cupPost, 2, 1, 1, false, false)},
		{
			name: "search, second page by cursor", path: searchPath(posts, "tea", "limit=1", "cursor={cursor}"),
			setup:    both(teaPosts, storeCursor(searchPath(posts, "tea", "limit=1"))),
			wantJSON: searchPage(cupPost, 2, 1, 1, false, false),
		},
		{
			name: "search, second page by cursor, the query in capitals", path: searchPath(posts, "TEA", "limit=1", "cursor={cursor}"),
			setup:    both(teaPosts, storeCursor(searchPath(posts, "tea", "limit=1"))),
			wantJSON: searchPage(cupPost, 2, 1, 1, false, false),
		},
		{name: "search past the end", path: searchPath(posts, "alice", "skip=2"), wantJSON: searchPage("", 2, 2, 10, false, false)},
		{name: "search past the ranked results", path: searchPath(posts, "alice", "skip=9223372036854775807"), wantJSON: searchPage("", 2, 9223372036854775807, 10, false, false)},
		{name: "search of a user's posts", path: searchPath(alices, "rabbit"), wantJSON: searchPage(alicePost2, 1, 0, 10, false, false)},
		{name: "search of a user's posts, someone else's word", path: searchPath("/api/users/{bob}/posts", "alice"), wantJSON: none},
		{name: "search of a user's posts, paged", path: searchPath("/api/users/{bob}/posts", "tea", "limit=1"), setup: teaPosts, wantJSON: searchPage(teaPost, 2, 0, 1, true, false)},
		{
			name: "search of a missing user's posts", path: searchPath("/api/users/999/posts", "alice"), wantStatus: http.StatusNotFound,
			wantJSON: `{"detail":"User not found","code":"user_not_found"}`,
		},
		{name: "an empty q lists every post", path: posts + "?q=", wantJSON: list},
		{name: "a blank q lists every post", path: posts + "?q=%20%09", wantJSON: list},
		// Never syntax: what is not words, phrases, prefixes and
		// exclusions is text.
		{name: "search with an unbalanced quote", path: searchPath(posts, `alice "rabbit`), wantJSON: searchPage(alicePost2, 1, 0, 10, false, false)},
		{name: "search with FTS5's NEAR", path: searchPath(posts, `NEAR(alice rabbit)`), wantJSON: none},
		{name: "search with FTS5's column filter", path: searchPath(posts, `title:alice`), wantJSON: none},
		{name: "search with FTS5's OR", path: searchPath(posts, `alice OR bob`), wantJSON: none},
		{name: "search with tsquery's operators", path: searchPath(posts, `hello & !alice | from:*`), wantJSON: searchPage(alicePost, 1, 0, 10, false, false)},
		{name: "search with SQL", path: searchPath(posts, `bob'; DELETE FROM posts; --`), wantJSON: none},
		{name: "search with a lone star among words", path: searchPath(posts, `alice * again`), wantJSON: searchPage(alicePost2, 1, 0, 10, false, false)},
		{name: "search with doubled quotes", path: searchPath(posts, `""hello""`), wantJSON: searchPage(alicePost, 1, 0, 10, false, false)},
	}
	for i := range rows {
		rows[i].method = "GET"
		if rows[i].wantStatus == 0 {
			rows[i].wantStatus = http.StatusOK
		}
	}

	noWords := problem("value_error", query("q"), "Search query should have a word to search for, not only excluded words or punctuation")
	badText := problem("string_type", query("q"), "Search query should be a valid string without control characters")
	for _, tc := range []struct {
		name, query string
		setup       func(tb testing.TB, f *fixture)
		want        string
	}{
		{"a lone star", "q=*", nil, noWords},
		{"exclusions only", "q=" + url.QueryEscape(`-alice -"rabbit hole"`), nil, noWords},
		{"quotes only", "q=" + url.QueryEscape(`""`), nil, noWords},
		{"operators only", "q=" + url.QueryEscape(`& | ! ( ) <-> :*`), nil, noWords},
		{"NUL", "q=alice%00", nil, badText},
		{"a control character", "q=alice%1B", nil, badText},
		{"invalid UTF-8", "q=alic%E9", nil, badText},
		{"too long", "q=" + strings.Repeat("a", blog.MaxSearchLength+1), nil,
			problem("string_too_long", query("q"), "Search query should have at most 256 characters")},
		{"too many words", "q=" + url.QueryEscape("a b c d e f g h i j k l m n o p q"), nil,
			problem("too_long", query("q"), "Search query should have at most 16 words")},
		{"a bad query and a bad limit", "q=%00&limit=0", nil, problems(
			"string_type", query("q"), "Search query should be a valid string without control characters",
			"greater_than_equal", query("limit"), "Input should be greater than or equal to 1")},
		{"a list's cursor", "q=alice&cursor={cursor}", storeCursor("/api/posts?limit=1"),
			problem("value_error", query("cursor"), "Invalid cursor: it belongs to a list of posts, not to a search")},
		{"another search's cursor", "q=bob&cursor={cursor}", storeCursor(searchPath(posts, "alice", "limit=1")),
			problem("value_error", query("cursor"), "Invalid cursor: it belongs to another search")},
		{"a cursor and a skip", "q=alice&skip=1&cursor={cursor}", storeCursor(searchPath(posts, "alice", "limit=1")),
			problem("value_error", query("cursor"), "Use either skip or cursor, not both")},
		{"a garbage cursor", "q=alice&cursor=garbage", nil, problem("value_error", query("cursor"), "Invalid cursor")},
		{"a search's cursor without q", "cursor={cursor}", storeCursor(searchPath(posts, "alice", "limit=1")),
			problem("value_error", query("cursor"), "Invalid cursor: it belongs to a search; send it with that search's q")},
	} {
		for _, path := range []string{posts, alices} {
			rows = append(rows, apiScenario{
				name: path + ": search with " + tc.name, method: "GET", path: path + "?" + tc.query,
				setup: tc.setup, wantStatus: http.StatusUnprocessableEntity, wantJSON: tc.want,
			})
		}
	}
	return rows
}

func TestSearchAPI(t *testing.T) {
	for _, db := range testDBs() {
		t.Run(db.Name, func(t *testing.T) {
			for _, sc := range searchScenarios() {
				t.Run(sc.name, func(t *testing.T) {
					t.Parallel()
					sc.run(t, newFixture(t, db))
				})
			}
		})
	}
}

// TestSearchChangesNothing sends searches a parser could choke on to
// both search routes: each is answered 200 or 422, never 500, and the
// data is as it was.
func TestSearchChangesNothing(t *testing.T) {
	for _, db := range testDBs() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db, noLimits)
			before := snapshot(t, f)
			for _, q := range malformedQueries {
				for _, path := range []string{"/api/posts", "/api/users/{alice}/posts"} {
					path := f.expand(path) + "?q=" + url.QueryEscape(q)
					res, body := f.do(t, "GET", path, "", nil)
					if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusUnprocessableEntity {
						t.Errorf("GET %s = %d %s, want 200 or 422", path, res.StatusCode, body)
					}
					checkInvariants(t, f, "GET", path, false, res, body)
				}
			}
			if after := snapshot(t, f); after != before {
				t.Errorf("searches changed the data:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// malformedQueries are queries no search box should send, and the seeds
// of FuzzSearch.
var malformedQueries = []string{
	`"`, `"""`, `"alice`, `alice"`, `*`, `**`, `-`, `--`, `-*`, `-"`, `"*`, `NEAR(`, `NEAR(alice, bob`,
	`alice NOT`, `AND`, `OR OR`, `NOT alice`, `^alice`, `alice:`, `:alice`, `{title}:alice`, `title : alice`,
	`alice + bob`, `(alice`, `alice)`, `'alice'`, `''`, `\`, `\'`, `alice\`, `a & b`, `!a`, `a | b`, `a <-> b`,
	`a:*`, `a:A`, `a:*AB`, `'a':*`, "alice\x00", "alice\x1b", "\x7f", "caf\xe9", "\xff\xfe", "\u0301", "\u200b",
	"ʼn ŉ ʼ", "½ ¼ ×", "« » “ ”", "🙂", "東京 Москва", strings.Repeat("a", 10_000), strings.Repeat("x ", 300),
	strings.Repeat(`"`, 100), strings.Repeat("-", 100), strings.Repeat("al* ", 20),
	`'; DROP TABLE posts; --`, `" OR 1=1 --`, `%`, `_`, `%alice%`,
}

// FuzzSearch sends arbitrary queries to the search routes: nothing may
// cause a 500 or a panic, every answer matches the OpenAPI document, and
// only a 200 or a 422 comes back.
func FuzzSearch(f *testing.F) {
	for _, q := range malformedQueries {
		f.Add(q, false)
	}
	f.Add("alice", true)
	f.Add(`"rabbit hole" -bob ali*`, true)
	fx := newFixture(f, testDBs()[0], noLimits)
	f.Fuzz(func(t *testing.T, q string, byAuthor bool) {
		path := "/api/posts"
		if byAuthor {
			path = fx.expand("/api/users/{alice}/posts")
		}
		path += "?q=" + url.QueryEscape(q)
		res, body := fx.do(t, "GET", path, "", nil)
		if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("GET %s = %d %s, want 200 or 422", path, res.StatusCode, body)
		}
	})
}
