package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/mmcdole/gofeed"
)

// browserMarkdown is flow 7: write a post in Markdown, preview it in
// place, publish it and see it formatted (the link with its rel, the
// outside image as a link, loading nothing from its site); then follow
// the author's feed link of the post's page and read the feed.
func browserMarkdown(t *testing.T, base string) {
	register(t, base, "grace", "grace@example.com", "a long passphrase 46")
	b := newBrowser(t, base)
	b.open("/login")
	b.do("log in", append(fill("#username", "grace", "#password", "a long passphrase 46"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#whoami")))...)

	const content = "# A heading\n\nSome *emphasis* and a [link](https://example.com/page).\n\n" +
		"- first\n- second\n\n![a picture](https://img.example/pic.png)\n\n<b>not bold</b>"
	b.open("/posts/new")
	b.do("write a post and preview it", append(fill("#title", "Markdown in Chromium", "#content", content),
		chromedp.Click(chromedp.CSS("button[data-preview]")),
		chromedp.WaitVisible(chromedp.CSS("#preview .content h2")))...)
	b.wantText("#preview .content h2", "A heading")
	b.screenshot("markdown-preview")
	if got := b.location(); got != "/posts/new" {
		t.Errorf("the preview left the form for %s; the script shows it in place", got)
	}

	// The form's preview is an article.single too: wait for the post's
	// page, whose article alone has the author's line.
	b.do("publish it",
		chromedp.Click(chromedp.CSS("main form button[type=submit]:not([data-preview])")),
		chromedp.WaitVisible(chromedp.CSS("article.single .meta .author")),
		chromedp.WaitVisible(chromedp.CSS("article.single .content h2")))
	if got := b.location(); !strings.HasPrefix(got, "/posts/") || got == "/posts/new" {
		t.Fatalf("publishing led to %s, want the post's page", got)
	}
	b.wantText("article.single h1", "Markdown in Chromium")
	b.wantText("article.single .content h2", "A heading")
	b.wantText("article.single .content em", "emphasis")
	b.wantText("article.single .content ul li:nth-child(2)", "second")
	b.wantText("article.single .content p:last-child", "<b>not bold</b>")
	count := func(sel string) int {
		n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("article.single .content ul li"); n != 2 {
		t.Errorf("the list has %d items, want 2", n)
	}
	if n := count("article.single .content img, article.single .content b"); n != 0 {
		t.Errorf("the post has %d images or bold elements, want none: the outside image is a link, HTML is text", n)
	}
	link, err := chromedp.Run(b.ctx, chromedp.Attributes(chromedp.CSS(`article.single .content a[href="https://example.com/page"]`)))
	if err != nil {
		t.Fatalf("the post's link: %v", err)
	}
	if link["rel"] != "nofollow ugc noopener" {
		t.Errorf("the post's link has rel=%q, want nofollow ugc noopener", link["rel"])
	}
	b.wantText("article.single .content a.image-link", "a picture")
	image, err := chromedp.Run(b.ctx, chromedp.Attributes(chromedp.CSS("article.single .content a.image-link")))
	if err != nil {
		t.Fatalf("the image's link: %v", err)
	}
	if image["href"] != "https://img.example/pic.png" || image["rel"] != "nofollow ugc noopener" {
		t.Errorf("the image's link is %v, want a link to the picture with the rel", image)
	}
	b.screenshot("markdown-post")

	// The page links its author's feed; the browser follows the link.
	const feedLink = `link[rel="alternate"][type="application/atom+xml"][title^="Posts by grace"]`
	xml, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		`fetch(document.querySelector(`+jsString(feedLink)+`).href).then(r => r.ok ? r.text() : "HTTP " + r.status)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("follow the feed link: %v", err)
	}
	feed, err := gofeed.NewParser().ParseString(xml)
	if err != nil {
		t.Fatalf("the feed the page links does not parse: %v\n%s", err, xml)
	}
	// The feed's links are built from PUBLIC_URL, which here is the
	// default, http://ADDR, with ADDR's port 0: compare the paths.
	if len(feed.Items) != 1 {
		t.Fatalf("the author's feed has %d items, want 1", len(feed.Items))
	}
	item := feed.Items[0]
	if item.Title != "Markdown in Chromium" || !strings.Contains(item.Content, "<h2>A heading</h2>") || !strings.HasSuffix(item.Link, b.location()) {
		t.Errorf("the author's feed holds %q at %s with content %q; want the post with its HTML, at %s", item.Title, item.Link, item.Content, b.location())
	}
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
