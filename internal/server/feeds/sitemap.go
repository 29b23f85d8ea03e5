package feeds

import (
	"bufio"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// The sitemap (sitemaps.org protocol 0.9) is an index of pages of at most
// SitemapPage URLs each: /sitemaps/pages.xml (the home page),
// /sitemaps/posts/N.xml, the posts with ids from (N-1)×SitemapPage+1 to
// N×SitemapPage, and /sitemaps/authors/N.xml, the authors with posts, by
// user id alike. A page's URLs never move to another page, and each page
// is read from the database and written out in chunks, so no sitemap,
// however many posts there are, is built in memory whole.

// SitemapPage is the most URLs a sitemap page holds, the protocol's limit.
const SitemapPage = 50_000

// sitemapChunk is how many rows a sitemap page reads at a time.
const sitemapChunk = 1000

const sitemapNS = "http://www.sitemaps.org/schemas/sitemap/0.9"

// sitemapMaxAge lets caches keep sitemaps for an hour: crawlers read them
// far less often.
const sitemapMaxAge = "public, max-age=3600"

// Sitemap serves the sitemap index: GET /sitemap.xml.
func (f *Feeds) Sitemap(w http.ResponseWriter, r *http.Request) error {
	posts, users, err := f.app.SitemapRange(r.Context())
	if err != nil {
		return err
	}
	bw := startXML(w, sitemapMaxAge)
	fmt.Fprintf(bw, "<sitemapindex xmlns=%q>\n", sitemapNS)
	sitemap := func(path string) {
		fmt.Fprintf(bw, "  <sitemap><loc>%s</loc></sitemap>\n", escape(f.base+path))
	}
	sitemap("/sitemaps/pages.xml")
	for n := int64(1); (n-1)*SitemapPage < posts; n++ {
		sitemap(fmt.Sprintf("/sitemaps/posts/%d.xml", n))
	}
	for n := int64(1); (n-1)*SitemapPage < users; n++ {
		sitemap(fmt.Sprintf("/sitemaps/authors/%d.xml", n))
	}
	bw.WriteString("</sitemapindex>\n")
	return bw.Flush()
}

// SitemapPages serves the sitemap of the pages that are neither posts
// nor authors' pages: GET /sitemaps/pages.xml.
func (f *Feeds) SitemapPages(w http.ResponseWriter, r *http.Request) error {
	bw := startXML(w, sitemapMaxAge)
	fmt.Fprintf(bw, "<urlset xmlns=%q>\n", sitemapNS)
	fmt.Fprintf(bw, "  <url><loc>%s</loc><changefreq>daily</changefreq></url>\n", escape(f.base+"/"))
	bw.WriteString("</urlset>\n")
	return bw.Flush()
}

// SitemapPosts serves a page of the posts' sitemap: GET /sitemaps/posts/{page}.
func (f *Feeds) SitemapPosts(w http.ResponseWriter, r *http.Request) error {
	return f.sitemapPage(w, r, f.app.PostStamps, "/posts/%d")
}

// SitemapAuthors serves a page of the authors' sitemap:
// GET /sitemaps/authors/{page}.
func (f *Feeds) SitemapAuthors(w http.ResponseWriter, r *http.Request) error {
	return f.sitemapPage(w, r, f.app.AuthorStamps, "/users/%d/posts")
}

// stampsFunc reads up to limit stamps with ids in (after, upTo].
type stampsFunc func(ctx context.Context, after, upTo int64, limit int) ([]blog.Stamp, error)

func (f *Feeds) sitemapPage(w http.ResponseWriter, r *http.Request, read stampsFunc, path string) error {
	n, err := pageNumber(r.PathValue("page"))
	if err != nil {
		return err
	}
	lo, hi := (n-1)*SitemapPage, n*SitemapPage
	// The first chunk is read before anything is written, so that a
	// database error is still an error page.
	stamps, err := read(r.Context(), lo, hi, sitemapChunk)
	if err != nil {
		return err
	}
	bw := startXML(w, sitemapMaxAge)
	fmt.Fprintf(bw, "<urlset xmlns=%q>\n", sitemapNS)
	for len(stamps) > 0 {
		for _, s := range stamps {
			fmt.Fprintf(bw, "  <url><loc>%s</loc><lastmod>%s</lastmod></url>\n",
				escape(f.url(path, s.ID)), s.Modified.UTC().Format(time.RFC3339))
		}
		if len(stamps) < sitemapChunk {
			break
		}
		if stamps, err = read(r.Context(), stamps[len(stamps)-1].ID, hi, sitemapChunk); err != nil {
			// The status is sent: cut the document short, so that no
			// crawler takes half a page for the whole.
			panic(http.ErrAbortHandler)
		}
	}
	bw.WriteString("</urlset>\n")
	return bw.Flush()
}

// errNoSitemap is a sitemap page that cannot exist.
var errNoSitemap = httpx.ErrNotFound

// pageNumber reads "N.xml", N from 1, of at most 15 digits.
func pageNumber(name string) (int64, error) {
	digits, ok := strings.CutSuffix(name, ".xml")
	if !ok || digits == "" || len(digits) > 15 || digits[0] == '0' ||
		strings.ContainsFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) {
		return 0, errNoSitemap
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 1 {
		return 0, errNoSitemap
	}
	return n, nil
}

// startXML sets the headers of an XML document and returns a buffered
// writer on w with the XML declaration written.
func startXML(w http.ResponseWriter, cacheControl string) *bufio.Writer {
	h := w.Header()
	h.Set("Content-Type", "application/xml; charset=utf-8")
	h.Set("Cache-Control", cacheControl)
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(xml.Header)
	return bw
}

// escape is s as XML character data.
func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
