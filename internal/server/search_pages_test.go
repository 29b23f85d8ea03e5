package server_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSearchPage is the search box and the search page, as a browser
// without JavaScript uses them.
func TestSearchPage(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))

	// Every page has the box: a plain GET form.
	_, body := v.get("/")
	wantContains(t, "the home page", body, `<form class="site-search" method="get" action="/search" role="search">`, `name="q" type="search"`)

	res, body := v.get("/search")
	wantStatus(t, "GET /search", res, http.StatusOK)
	wantContains(t, "the empty search page", body, `<input id="search-q" name="q" type="search"`, `<code>"two words"</code>`)
	if strings.Contains(body, `id="results"`) || strings.Contains(body, "No posts match") {
		t.Errorf("the empty search page shows results:\n%s", body)
	}
	golden(t, "pages/search.html", []byte(body))
	if got := res.Header.Get("Cache-Control"); got != "" || len(res.Header.Values("Set-Cookie")) > 0 {
		t.Errorf("GET /search by a visitor: Cache-Control %q, cookies %q; want neither", got, res.Header.Values("Set-Cookie"))
	}
	for _, path := range []string{"/search?q=", "/search?q=+++"} {
		res, body := v.get(path)
		wantStatus(t, "GET "+path, res, http.StatusOK)
		wantContains(t, "GET "+path, body, `id="search-hint"`)
	}

	res, body = v.get("/search?q=rabbit")
	wantStatus(t, "GET /search?q=rabbit", res, http.StatusOK)
	wantContains(t, "the results", body, `value="rabbit"`, "1 post matches.",
		f.expand(`<a href="/posts/{alice_post2}">Alice again</a>`), `Down the <mark>rabbit</mark> hole.`,
		f.expand(`href="/users/{alice}/posts"`))
	golden(t, "pages/search-results.html", []byte(body))

	res, body = v.get("/search?q=" + "%22hole+rabbit%22")
	wantStatus(t, "a search finding nothing", res, http.StatusOK)
	wantContains(t, "a search finding nothing", body, "No posts match <q>&#34;hole rabbit&#34;</q>")

	// What a visitor typed, and what authors wrote, is escaped; marks
	// are the page's own.
	f.createPost(t, f.users["bob"].Token, `<script>alert("tea")</script>`, `<b>Tea</b> & "cake" <img src=x onerror=alert(1)>`)
	_, body = v.get("/search?q=tea")
	wantContains(t, "results with markup", body, `&lt;script&gt;alert(&#34;<mark>tea</mark>&#34;)&lt;/script&gt;`,
		`&lt;b&gt;<mark>Tea</mark>&lt;/b&gt; &amp; &#34;cake&#34; &lt;img src=x onerror=alert(1)&gt;`)
	// An excerpt is the post as read, not its Markdown.
	f.createPost(t, f.users["bob"].Token, "Brewing", "# Kettle\n\nWarm the **pot** with [boiling water](https://example.com/water) first.")
	_, body = v.get("/search?q=kettle")
	wantContains(t, "a Markdown post's excerpt", body, `<mark>Kettle</mark> Warm the pot with boiling water first.`)
	if strings.Contains(body, "**pot**") || strings.Contains(body, "](https://example.com") {
		t.Errorf("a search result shows the post's Markdown:\n%s", body)
	}
	_, body = v.get(`/search?q=%3Cscript%3Ealert(1)%3C/script%3E+zebra`)
	wantContains(t, "a query with markup", body, `value="&lt;script&gt;alert(1)&lt;/script&gt; zebra"`,
		`<q>&lt;script&gt;alert(1)&lt;/script&gt; zebra</q>`)
	for _, b := range []string{body} {
		if strings.Contains(b, "<script>alert") || strings.Contains(b, "<img src=x") {
			t.Errorf("markup from a query or a post reached the page:\n%s", b)
		}
	}

	// Queries that cannot be read: the page again, with why, and the
	// API's status.
	for _, tt := range []struct{ query, msg string }{
		{"%00", "Search query should be a valid string without control characters"},
		{"%FF", "Search query should be a valid string without control characters"},
		{"-rabbit", "Search query should have a word to search for"},
		{strings.Repeat("a", 300), "Search query should have at most 256 characters"},
		{"rabbit&cursor=nonsense", "Invalid cursor"},
	} {
		res, body := v.get("/search?q=" + tt.query)
		wantStatus(t, "GET /search?q="+tt.query, res, http.StatusUnprocessableEntity)
		wantContains(t, "GET /search?q="+tt.query, body, `<p class="error" id="search-error" role="alert">`+tt.msg, `aria-invalid="true"`)
	}

	// Paging: ten results a page, links both ways.
	for i := range 12 {
		f.clock.Advance(time.Minute)
		f.createPost(t, f.users["alice"].Token, fmt.Sprintf("Paging %d", i), "All about paging.")
	}
	_, body = v.get("/search?q=paging")
	wantContains(t, "the first page", body, "12 posts match. Results 1–10.", `rel="next">More results</a>`)
	if strings.Contains(body, `rel="prev"`) || strings.Count(body, `<li class="post">`) != 10 {
		t.Errorf("the first page has a previous link, or not ten results:\n%s", body)
	}
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body)
	res, body = v.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	wantStatus(t, "the next page", res, http.StatusOK)
	wantContains(t, "the next page", body, "12 posts match. Results 11–12.", `rel="prev">Previous results</a>`)
	if strings.Contains(body, `rel="next"`) || strings.Count(body, `<li class="post">`) != 2 {
		t.Errorf("the last page has a next link, or not two results:\n%s", body)
	}
	prev := regexp.MustCompile(`href="([^"]+)" rel="prev"`).FindStringSubmatch(body)
	if prev[1] != "/search?q=paging" {
		t.Errorf("the previous link of the second page = %q, want the first page's", prev[1])
	}
	_, body = v.get("/search?q=paging&skip=20")
	wantContains(t, "past the end", body, "No more results.", `<a href="/search?q=paging">Back to the first ones</a>`)
}
