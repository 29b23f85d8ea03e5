package site

import (
	"html/template"
	"net/http"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// siteName is the site's name in titles, link previews and feeds.
const siteName = "quill"

// defaultDescription is the meta description of a page that has none of
// its own.
const defaultDescription = "A blog on quill: posts by its authors, newest first, with feeds to follow them."

// meta is what a page tells search engines, link previews and feed
// readers, beside its title: a description, its Open Graph type and
// absolute URL, and which author's feeds to link besides the site's.
type meta struct {
	Description string     // "" for defaultDescription
	Type        string     // og:type; "" for "website"
	URL         string     // absolute, set by render: PUBLIC_URL and the path, never the query
	Canonical   bool       // the page is the one copy of what it shows: <link rel="canonical">
	Author      *blog.User // whose feeds the page links too; nil for none
	Published   time.Time  // an article's article:published_time; zero for none
	Modified    time.Time  // and its article:modified_time
}

// fillMeta completes m for the page r asked for. The URL leaves out the query,
// which may hold a secret (a reset token) or only a page position.
func (s *Site) fillMeta(m *meta, r *http.Request) {
	if m.Description == "" {
		m.Description = defaultDescription
	}
	if m.Type == "" {
		m.Type = "website"
	}
	m.URL = s.publicURL + r.URL.Path
}

// postHTML is a post's rendered Markdown as HTML the template writes as it
// is: package markdown made it safe (docs/security.md).
func postHTML(p *blog.Post) template.HTML {
	return template.HTML(p.HTML)
}
