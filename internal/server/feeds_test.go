package server_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/quill-blog/quill/internal/blog"
)

// The feeds are read with a real feed parser (gofeed), as feed readers
// would read them.

// feedCase is one of the four feeds.
type feedCase struct {
	path, contentType, feedType string
	posts                       int // in the fixture
}

var feedCases = []feedCase{
	{"/feed.xml", "application/atom+xml; charset=utf-8", "atom", 3},
	{"/feed.json", "application/feed+json; charset=utf-8", "json", 3},
	{"/users/{alice}/feed.xml", "application/atom+xml; charset=utf-8", "atom", 2},
	{"/users/{alice}/feed.json", "application/feed+json; charset=utf-8", "json", 2},
}

// parseFeed fetches path and parses it.
func parseFeed(t *testing.T, f *fixture, path string) (*http.Response, *gofeed.Feed) {
	t.Helper()
	res, body := f.do(t, "GET", f.expand(path), "", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d, want 200\n%s", path, res.StatusCode, body)
	}
	feed, err := gofeed.NewParser().ParseString(string(body))
	if err != nil {
		t.Fatalf("GET %s: the feed does not parse: %v\n%s", path, err, body)
	}
	return res, feed
}

func TestFeeds(t *testing.T) {
	for _, db := range testDBs() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			// A post in Markdown, with what it may not do.
			f.clock.Advance(time.Minute)
			md := f.createPost(t, f.users["alice"].Token, "Markdown & <b>more</b>",
				"# Head\n\n*em* [ok](https://example.com) [bad](javascript:alert(1)) <script>x</script> ![pic](https://img.example/p.png)")
			f.clock.Advance(time.Minute)

			for _, fc := range feedCases {
				t.Run(fc.path, func(t *testing.T) {
					res, feed := parseFeed(t, f, fc.path)
					h := res.Header
					if got := h.Get("Content-Type"); got != fc.contentType {
						t.Errorf("Content-Type = %q, want %q", got, fc.contentType)
					}
					if got := h.Get("Cache-Control"); got != "public, max-age=300" {
						t.Errorf("Cache-Control = %q, want a short public max-age", got)
					}
					if h.Get("ETag") == "" || h.Get("Last-Modified") == "" {
						t.Errorf("ETag = %q, Last-Modified = %q; want both", h.Get("ETag"), h.Get("Last-Modified"))
					}
					if feed.FeedType != fc.feedType {
						t.Errorf("FeedType = %q, want %q", feed.FeedType, fc.feedType)
					}
					if len(feed.Items) != fc.posts+1 {
						t.Fatalf("%d items, want %d", len(feed.Items), fc.posts+1)
					}
					if !strings.HasPrefix(feed.Link, testPublicURL+"/") {
						t.Errorf("Link = %q, want an absolute URL on %s", feed.Link, testPublicURL)
					}
					if !strings.HasPrefix(feed.FeedLink, testPublicURL+"/") {
						t.Errorf("FeedLink = %q, want the feed's absolute URL", feed.FeedLink)
					}

					// Newest first: the Markdown post.
					item := feed.Items[0]
					link := fmt.Sprintf("%s/posts/%d", testPublicURL, md)
					if item.Title != "Markdown & <b>more</b>" || item.Link != link || item.GUID != link {
						t.Errorf("first item: title %q, link %q, id %q; want %q, %q, %q", item.Title, item.Link, item.GUID,
							"Markdown & <b>more</b>", link, link)
					}
					want := `<h2>Head</h2>` + "\n" + `<p><em>em</em> <a href="https://example.com" rel="nofollow ugc noopener">ok</a> bad &lt;script&gt;x&lt;/script&gt; ` +
						`<a class="image-link" href="https://img.example/p.png" rel="nofollow ugc noopener">pic</a></p>`
					if strings.TrimSpace(item.Content) != want {
						t.Errorf("first item's content =\n%s\nwant\n%s", item.Content, want)
					}
					if len(item.Authors) != 1 || item.Authors[0].Name != "Alice" {
						t.Errorf("first item's authors = %+v, want Alice", item.Authors)
					}
					if item.PublishedParsed == nil || item.UpdatedParsed == nil || !item.PublishedParsed.Equal(f.clock.Now().Add(-time.Minute).Truncate(time.Second)) {
						t.Errorf("first item published %v, updated %v; want %v", item.PublishedParsed, item.UpdatedParsed, f.clock.Now().Add(-time.Minute))
					}
					if item.Description != "em ok bad <script>x</script> pic" {
						t.Errorf("first item's summary = %q", item.Description)
					}
					last := feed.Items[len(feed.Items)-1]
					if !strings.Contains(last.Content, "<p>Hello from Alice.</p>") {
						t.Errorf("oldest item's content = %q", last.Content)
					}
				})
			}
		})
	}
}

// TestFeedsConditional: 304 for a reader that has the current feed, by
// ETag or by date, and the full feed once anything in it changes.
func TestFeedsConditional(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	for _, fc := range feedCases {
		t.Run(fc.path, func(t *testing.T) {
			res, _ := f.do(t, "GET", f.expand(fc.path), "", nil)
			etag, modified := res.Header.Get("ETag"), res.Header.Get("Last-Modified")
			for _, h := range []http.Header{
				{"If-None-Match": {etag}},
				{"If-Modified-Since": {modified}},
				{"If-None-Match": {`"other", ` + etag}},
			} {
				res, body := f.do(t, "GET", f.expand(fc.path), "", h)
				if res.StatusCode != http.StatusNotModified || len(body) != 0 {
					t.Errorf("GET with %v = %d with %d bytes, want 304 and none", h, res.StatusCode, len(body))
				}
				if res.Header.Get("ETag") != etag {
					t.Errorf("GET with %v: ETag %q, want %q", h, res.Header.Get("ETag"), etag)
				}
			}
			// A stale ETag wins over a current date (RFC 9110): 200.
			res, _ = f.do(t, "GET", f.expand(fc.path), "", http.Header{"If-None-Match": {`"stale"`}, "If-Modified-Since": {modified}})
			wantStatus(t, "GET with a stale ETag and the current date", res, http.StatusOK)
			res, body := f.do(t, "HEAD", f.expand(fc.path), "", nil)
			if res.StatusCode != http.StatusOK || len(body) != 0 || res.Header.Get("ETag") != etag {
				t.Errorf("HEAD = %d with %d bytes and ETag %q, want 200, none, %q", res.StatusCode, len(body), res.Header.Get("ETag"), etag)
			}
		})
	}

	// An edit changes both validators.
	before := map[string][2]string{}
	for _, fc := range feedCases {
		res, _ := f.do(t, "GET", f.expand(fc.path), "", nil)
		before[fc.path] = [2]string{res.Header.Get("ETag"), res.Header.Get("Last-Modified")}
	}
	f.clock.Advance(10 * time.Minute) // within the access token's life
	res, body := f.do(t, "PATCH", f.expand("/api/posts/{alice_post}"), `{"content":"Edited."}`, f.as("alice"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("edit = %d %s", res.StatusCode, body)
	}
	for _, fc := range feedCases {
		old := before[fc.path]
		res, _ := f.do(t, "GET", f.expand(fc.path), "", http.Header{"If-None-Match": {old[0]}})
		wantStatus(t, "GET "+fc.path+" with the ETag from before an edit", res, http.StatusOK)
		res, _ = f.do(t, "GET", f.expand(fc.path), "", http.Header{"If-Modified-Since": {old[1]}})
		wantStatus(t, "GET "+fc.path+" with the date from before an edit", res, http.StatusOK)
		if got := res.Header.Get("Last-Modified"); got != f.clock.Now().UTC().Format(http.TimeFormat) {
			t.Errorf("GET %s after the edit: Last-Modified %q, want the edit's time", fc.path, got)
		}
		_, feed := parseFeed(t, f, fc.path)
		edited := feed.Items[len(feed.Items)-1]
		if edited.UpdatedParsed == nil || !edited.UpdatedParsed.Equal(f.clock.Now().Truncate(time.Second)) ||
			!edited.PublishedParsed.Before(*edited.UpdatedParsed) {
			t.Errorf("GET %s: the edited post's published %v, updated %v; want updated now", fc.path, edited.PublishedParsed, edited.UpdatedParsed)
		}
	}

	// A deleted post leaves the feed, and the ETag changes with it.
	res, _ = f.do(t, "GET", "/feed.xml", "", nil)
	etag := res.Header.Get("ETag")
	res, _ = f.do(t, "DELETE", f.expand("/api/posts/{bob_post}"), "", f.as("bob"))
	wantStatus(t, "delete", res, http.StatusNoContent)
	res, _ = f.do(t, "GET", "/feed.xml", "", http.Header{"If-None-Match": {etag}})
	wantStatus(t, "GET /feed.xml with the ETag from before a deletion", res, http.StatusOK)
}

func TestFeedsHoldTheNewest20(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	for i := range 25 {
		f.clock.Advance(time.Second)
		f.createPost(t, f.users["bob"].Token, fmt.Sprintf("Post %d", i), "text")
	}
	for _, path := range []string{"/feed.xml", "/feed.json", "/users/{bob}/feed.xml", "/users/{bob}/feed.json"} {
		_, feed := parseFeed(t, f, path)
		if len(feed.Items) != 20 || feed.Items[0].Title != "Post 24" || feed.Items[19].Title != "Post 5" {
			t.Errorf("GET %s: %d items, from %q to %q; want 20, from Post 24 to Post 5",
				path, len(feed.Items), feed.Items[0].Title, feed.Items[len(feed.Items)-1].Title)
		}
	}
	_, feed := parseFeed(t, f, "/users/{alice}/feed.json")
	if len(feed.Items) != 2 {
		t.Errorf("Alice's feed: %d items, want her 2", len(feed.Items))
	}
}

func TestFeedsEmptyAndMissing(t *testing.T) {
	ts := newTestServer(t)
	for _, path := range []string{"/feed.xml", "/feed.json"} {
		res, body := ts.do(t, "GET", path, "", nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s on an empty site = %d", path, res.StatusCode)
		}
		feed, err := gofeed.NewParser().ParseString(string(body))
		if err != nil || len(feed.Items) != 0 {
			t.Errorf("GET %s on an empty site: %v, %d items; want a feed of none\n%s", path, err, len(feed.Items), body)
		}
	}
	f := newFixture(t, testDBs()[0])
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/users/999999/feed.xml", http.StatusNotFound},
		{"/users/999999/feed.json", http.StatusNotFound},
		{"/users/abc/feed.xml", http.StatusNotFound},
		{"/users/0/feed.json", http.StatusNotFound},
		{"/users/-1/feed.json", http.StatusNotFound},
		{"/users/+1/feed.xml", http.StatusNotFound},
		{"/users/99999999999999999999/feed.xml", http.StatusNotFound},
	} {
		res, body := f.do(t, "GET", tc.path, "", nil)
		if res.StatusCode != tc.want || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s = %d %s, want %d as an HTML page", tc.path, res.StatusCode, res.Header.Get("Content-Type"), tc.want)
		}
		_ = body
	}
}

// The sitemap and robots.txt.

type sitemapIndex struct {
	Sitemaps []struct {
		Loc string `xml:"loc"`
	} `xml:"sitemap"`
}

type urlSet struct {
	XMLName xml.Name
	URLs    []struct {
		Loc     string `xml:"loc"`
		LastMod string `xml:"lastmod"`
	} `xml:"url"`
}

func getXML(t *testing.T, f *fixture, path string, v any) {
	t.Helper()
	res, body := f.do(t, "GET", path, "", nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/xml; charset=utf-8" {
		t.Fatalf("GET %s = %d %s, want 200 application/xml\n%s", path, res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if err := xml.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

func TestSitemap(t *testing.T) {
	for _, db := range testDBs() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			var index sitemapIndex
			getXML(t, f, "/sitemap.xml", &index)
			var locs []string
			for _, s := range index.Sitemaps {
				locs = append(locs, s.Loc)
			}
			want := []string{testPublicURL + "/sitemaps/pages.xml", testPublicURL + "/sitemaps/posts/1.xml", testPublicURL + "/sitemaps/authors/1.xml"}
			if strings.Join(locs, " ") != strings.Join(want, " ") {
				t.Errorf("the sitemap index lists %q, want %q", locs, want)
			}

			var posts, authors, pages urlSet
			getXML(t, f, "/sitemaps/posts/1.xml", &posts)
			getXML(t, f, "/sitemaps/authors/1.xml", &authors)
			getXML(t, f, "/sitemaps/pages.xml", &pages)
			if len(pages.URLs) != 1 || pages.URLs[0].Loc != testPublicURL+"/" {
				t.Errorf("pages.xml = %+v, want the home page", pages.URLs)
			}
			gotPosts := map[string]string{}
			for _, u := range posts.URLs {
				gotPosts[u.Loc] = u.LastMod
			}
			for _, name := range []string{"alice_post", "bob_post", "alice_post2"} {
				loc := testPublicURL + f.expand("/posts/{"+name+"}")
				if _, err := time.Parse(time.RFC3339, gotPosts[loc]); err != nil {
					t.Errorf("posts/1.xml: %s with lastmod %q (%v)", loc, gotPosts[loc], err)
				}
			}
			if len(posts.URLs) != 3 || len(authors.URLs) != 2 {
				t.Errorf("posts/1.xml has %d URLs, authors/1.xml %d; want 3 and 2", len(posts.URLs), len(authors.URLs))
			}
			if authors.URLs[0].Loc != testPublicURL+f.expand("/users/{alice}/posts") ||
				authors.URLs[0].LastMod != f.clock.Now().Add(-time.Minute).UTC().Format(time.RFC3339) {
				t.Errorf("authors/1.xml starts with %+v, want Alice's page, last changed with her newest post", authors.URLs[0])
			}

			// An edit moves a post's lastmod; a deletion takes it out,
			// and an author without posts is not listed.
			res, _ := f.do(t, "PATCH", f.expand("/api/posts/{alice_post}"), `{"title":"Retitled"}`, f.as("alice"))
			wantStatus(t, "edit", res, http.StatusOK)
			res, _ = f.do(t, "DELETE", f.expand("/api/posts/{bob_post}"), "", f.as("bob"))
			wantStatus(t, "delete", res, http.StatusNoContent)
			posts, authors = urlSet{}, urlSet{}
			getXML(t, f, "/sitemaps/posts/1.xml", &posts)
			getXML(t, f, "/sitemaps/authors/1.xml", &authors)
			if len(posts.URLs) != 2 || len(authors.URLs) != 1 {
				t.Errorf("after a deletion, %d posts and %d authors, want 2 and 1", len(posts.URLs), len(authors.URLs))
			}
			if posts.URLs[0].LastMod != f.clock.Now().UTC().Format(time.RFC3339) {
				t.Errorf("the edited post's lastmod = %q, want now", posts.URLs[0].LastMod)
			}
		})
	}
}

// TestSitemapPages: the sitemap's pages split posts by id, 50,000 to a
// page, and a page is written in chunks without losing a row.
func TestSitemapPages(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	var posts []blog.Post
	ids := []int64{49_999, 50_000, 50_001, 100_000, 100_001}
	for i := range 2_500 {
		ids = append(ids, int64(1000+i))
	}
	author := f.users["bob"].ID
	for _, id := range ids {
		posts = append(posts, blog.Post{ID: id, Title: "t", Content: "c", AuthorID: author, DatePosted: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	}
	if _, err := f.App.ImportPosts(context.Background(), posts); err != nil {
		t.Fatal(err)
	}
	var index sitemapIndex
	getXML(t, f, "/sitemap.xml", &index)
	if n := len(index.Sitemaps); n != 1+3+1 {
		t.Errorf("the index lists %d sitemaps, want pages, posts 1 to 3 and authors 1", n)
	}
	count := map[string]int{"/sitemaps/posts/1.xml": 3 + 2_500 + 2, "/sitemaps/posts/2.xml": 2, "/sitemaps/posts/3.xml": 1, "/sitemaps/posts/4.xml": 0}
	for path, want := range count {
		var set urlSet
		getXML(t, f, path, &set)
		seen := map[string]bool{}
		for _, u := range set.URLs {
			if seen[u.Loc] {
				t.Errorf("%s lists %s twice", path, u.Loc)
			}
			seen[u.Loc] = true
		}
		if len(set.URLs) != want {
			t.Errorf("%s has %d URLs, want %d", path, len(set.URLs), want)
		}
	}
	for _, path := range []string{"/sitemaps/posts/0.xml", "/sitemaps/posts/01.xml", "/sitemaps/posts/x.xml", "/sitemaps/posts/1",
		"/sitemaps/posts/1.xml.gz", "/sitemaps/authors/-1.xml", "/sitemaps/posts/9999999999999999.xml"} {
		res, _ := f.do(t, "GET", path, "", nil)
		wantStatus(t, "GET "+path, res, http.StatusNotFound)
	}
}

func TestRobots(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	res, body := f.do(t, "GET", "/robots.txt", "", nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("GET /robots.txt = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	wantContains(t, "robots.txt", string(body), "User-agent: *\nAllow: /\n", "Disallow: /account\n", "Disallow: /login\n",
		"Disallow: /posts/new\n", "Disallow: /posts/*/edit\n", "Sitemap: "+testPublicURL+"/sitemap.xml\n")
	if strings.Contains(string(body), "Disallow: /\n") || strings.Contains(string(body), "Disallow: /posts\n") {
		t.Errorf("robots.txt keeps crawlers from the posts:\n%s", body)
	}
}

// TestMetaTags: every page describes itself to link previews and links
// its feeds; a post's come from the post.
func TestMetaTags(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	v := newVisitor(t, f, pageServer(t, f))
	siteFeeds := []string{
		`<link rel="alternate" type="application/atom+xml" href="/feed.xml" title="quill: all posts (Atom)">`,
		`<link rel="alternate" type="application/feed+json" href="/feed.json" title="quill: all posts (JSON Feed)">`,
	}
	aliceFeeds := []string{
		f.expand(`<link rel="alternate" type="application/atom+xml" href="/users/{alice}/feed.xml" title="Posts by Alice (Atom)">`),
		f.expand(`<link rel="alternate" type="application/feed+json" href="/users/{alice}/feed.json" title="Posts by Alice (JSON Feed)">`),
	}
	for _, tc := range []struct {
		path    string
		want    []string
		notWant []string
	}{
		{"/", append([]string{`<meta name="description" content="The newest posts on quill.">`, `<meta property="og:type" content="website">`,
			`<meta property="og:url" content="http://quill.test/">`, `<meta property="og:title" content="Latest posts">`}, siteFeeds...), aliceFeeds},
		{"/posts/{alice_post}", append(append([]string{`<meta name="description" content="Hello from Alice.">`,
			`<meta property="og:description" content="Hello from Alice.">`, `<meta property="og:type" content="article">`,
			f.expand(`<meta property="og:url" content="http://quill.test/posts/{alice_post}">`),
			f.expand(`<link rel="canonical" href="http://quill.test/posts/{alice_post}">`),
			`<meta property="og:title" content="Alice&#39;s first post">`, `<meta property="article:published_time" content="2026-03-01T12:01:00Z">`},
			siteFeeds...), aliceFeeds...), nil},
		{"/users/{alice}/posts?limit=1", append(append([]string{`<meta property="og:type" content="profile">`,
			f.expand(`<meta property="og:url" content="http://quill.test/users/{alice}/posts">`)}, siteFeeds...), aliceFeeds...), nil},
		{"/login", append([]string{`<meta name="description" content="`, `<meta property="og:url" content="http://quill.test/login">`}, siteFeeds...), nil},
		{"/reset-password?token=secret-token-value", []string{`<meta property="og:url" content="http://quill.test/reset-password">`}, []string{`og:url" content="http://quill.test/reset-password?`}},
		{"/posts/999999", append([]string{`<meta name="description" content="`}, siteFeeds...), nil},
	} {
		_, body := v.get(tc.path)
		wantContains(t, "GET "+tc.path, body, tc.want...)
		wantContains(t, "GET "+tc.path, body, `<link rel="icon" href="/static/favicon.svg?v=`, `" type="image/svg+xml">`)
		for _, s := range tc.notWant {
			if strings.Contains(body, s) {
				t.Errorf("GET %s contains %q", tc.path, s)
			}
		}
	}

	res, body := v.get("/favicon.ico")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(body, "\x00\x00\x01\x00\x01\x00") || !strings.Contains(body, "\x89PNG") {
		t.Errorf("GET /favicon.ico = %d, %d bytes: want an ICO holding a PNG", res.StatusCode, len(body))
	}
	if res, _ := v.get("/static/favicon.svg"); res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("GET /static/favicon.svg = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// TestPagesMarkdown: a post written in Markdown shows as HTML on its page
// and as an excerpt on the lists; the preview saves nothing.
func TestPagesMarkdown(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	srv := pageServer(t, f)
	v := newVisitor(t, f, srv)
	v.login("Alice", alicePassword)
	long := strings.Repeat("A long first paragraph. ", 20)
	content := "# Heading\n\n" + long + "\n\n- one\n- [two](https://example.com)\n\n<script>alert(1)</script>\n\n![pic](https://img.example/p.png)"

	_, form := v.get("/posts/new")
	wantContains(t, "the new-post form", form, `id="content-hint">Markdown works`, `formaction="/posts/preview"`, `<section id="preview"`)

	// Preview: the form comes back filled in, with the HTML below it.
	token := csrfInput.FindStringSubmatch(form)[1]
	res, body := v.post("/posts/preview", url.Values{"csrf_token": {token}, "title": {"Draft"}, "content": {content}})
	wantStatus(t, "preview", res, http.StatusOK)
	wantContains(t, "the preview", body, `<h2>Heading</h2>`, `<a href="https://example.com" rel="nofollow ugc noopener">two</a>`,
		"&lt;script&gt;alert(1)&lt;/script&gt;", `<a class="image-link" href="https://img.example/p.png" rel="nofollow ugc noopener">pic</a>`,
		`value="Draft"`, `>`+"\n# Heading\n", `<h1>Draft</h1>`, `action="/posts/new"`)
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=\"https://") {
		t.Errorf("the preview lets a script or an outside image through:\n%s", body)
	}
	if _, page := f.get(t, "/api/posts", nil); page.(map[string]any)["total"] != 3.0 {
		t.Errorf("after a preview, %v posts, want the fixture's 3", page.(map[string]any)["total"])
	}
	res, body = v.post("/posts/preview", url.Values{"csrf_token": {token}, "title": {"Draft"}, "content": {"  "}})
	wantStatus(t, "a preview of nothing", res, http.StatusUnprocessableEntity)
	wantContains(t, "a preview of nothing", body, `<p class="error" id="content-error">Write something in your post.</p>`, `value="Draft"`)
	res, _ = v.post("/posts/preview", url.Values{"title": {"Draft"}, "content": {"x"}})
	wantStatus(t, "a preview without the CSRF token", res, http.StatusForbidden)
	res, _ = v.post("/posts/preview", url.Values{"csrf_token": {token}, "content": {"x"}}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	wantStatus(t, "a preview from another site", res, http.StatusForbidden)
	res, body = v.post("/posts/{alice_post}/preview", url.Values{"csrf_token": {token}, "title": {"T"}, "content": {"**edited**"}})
	wantStatus(t, "a preview of an edit", res, http.StatusOK)
	wantContains(t, "a preview of an edit", body, "<strong>edited</strong>", f.expand(`action="/posts/{alice_post}/edit"`))
	res, _ = v.post("/posts/{bob_post}/preview", url.Values{"csrf_token": {token}, "content": {"x"}})
	wantStatus(t, "a preview of Bob's post by Alice", res, http.StatusForbidden)
	visitor := newVisitor(t, f, srv)
	res, _ = visitor.post("/posts/preview", url.Values{"content": {"x"}})
	wantRedirect(t, "a preview by a visitor", res, "/login")

	// Publish: the post's page shows it all, the lists an excerpt.
	res, body = v.post("/posts/new", url.Values{"csrf_token": {token}, "title": {"Markdown"}, "content": {content}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish = %d\n%s", res.StatusCode, body)
	}
	post := res.Header.Get("Location")
	_, body = v.get(post)
	wantContains(t, "the post", body, `<div class="content markdown"><h2>Heading</h2>`, "<li>one</li>", strings.TrimSpace(long),
		`<meta name="description" content="A long first paragraph.`)
	if strings.Contains(body, "<script>alert") {
		t.Errorf("the post page runs the post's script:\n%s", body)
	}
	for _, list := range []string{"/", "/users/{alice}/posts"} {
		_, body = v.get(list)
		wantContains(t, "GET "+list, body, `<p class="excerpt">A long first paragraph.`, "…</p>",
			`<a href="`+post+`" aria-label="Read more of Markdown">Read more</a>`)
		if strings.Contains(body, "<h2>Heading</h2>") {
			t.Errorf("GET %s shows the whole post, want an excerpt", list)
		}
	}
	// A post shorter than an excerpt has no "Read more".
	_, body = v.get("/users/{bob}/posts")
	if strings.Contains(body, "Read more") {
		t.Errorf("Bob's one-line post has a Read more link:\n%s", body)
	}
}
