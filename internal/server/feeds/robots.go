package feeds

import (
	"net/http"
	"strings"
)

// noCrawl are the paths crawlers are asked to leave alone (RFC 9309):
// forms and pages that are a visitor's own, which hold nothing to index.
var noCrawl = []string{
	"/account",
	"/login",
	"/register",
	"/logout",
	"/forgot-password",
	"/reset-password",
	"/posts/new",
	"/posts/preview",
	"/posts/*/edit",
	"/posts/*/preview",
	"/posts/*/delete",
}

// Robots serves robots.txt: everything may be crawled but the forms, and
// the sitemap is named: GET /robots.txt.
func (f *Feeds) Robots(w http.ResponseWriter, r *http.Request) error {
	var b strings.Builder
	b.WriteString("User-agent: *\nAllow: /\n")
	for _, p := range noCrawl {
		b.WriteString("Disallow: " + p + "\n")
	}
	b.WriteString("\nSitemap: " + f.base + "/sitemap.xml\n")
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write([]byte(b.String()))
	return nil
}
