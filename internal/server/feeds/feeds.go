// Package feeds serves what programs read rather than people: the Atom
// and JSON feeds of the site and of each author, the sitemap, and
// robots.txt. Every URL in them is absolute, built from the public URL.
// Its routes are registered by package server.
package feeds

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// Config holds what Feeds needs. Every field is required.
type Config struct {
	App *app.App
	// PublicURL is the site's address as users reach it: the base of
	// every URL the feeds, the sitemap and robots.txt hold.
	PublicURL string
}

// Feeds serves the feeds, the sitemap and robots.txt. Its methods are
// the handlers package server routes to; their errors become HTML pages
// there.
type Feeds struct {
	app  *app.App
	base string // PublicURL without a trailing slash
}

// New returns the feeds.
func New(cfg Config) *Feeds {
	return &Feeds{app: cfg.App, base: strings.TrimRight(cfg.PublicURL, "/")}
}

// FeedLength is how many posts, the newest, a feed holds.
const FeedLength = 20

// feedMaxAge is how long a reader or a cache may keep a feed without
// asking again; after that, a conditional GET costs little.
const feedMaxAge = "public, max-age=300"

// feed is what both formats say: the newest posts of the site or of one
// author.
type feed struct {
	title, description string
	id                 string     // the page the feed follows, absolute
	author             *blog.User // nil for the site's feed
	posts              []blog.Post
	updated            time.Time // the newest change of any post, or when there are none a fixed date
}

// load reads the feed of authorID (0: the whole site).
func (f *Feeds) load(ctx context.Context, authorID int64) (*feed, error) {
	fd := &feed{title: siteName, description: "The newest posts on " + siteName + ".", id: f.base + "/"}
	if authorID != 0 {
		u, err := f.app.User(ctx, authorID)
		if err != nil {
			return nil, err
		}
		fd.author = u
		fd.title = "Posts by " + u.Username + " · " + siteName
		fd.description = "The newest posts by " + u.Username + " on " + siteName + "."
		fd.id = f.url("/users/%d/posts", u.ID)
		fd.updated = u.CreatedAt.UTC()
	}
	page, err := f.app.Posts(ctx, authorID, blog.PageRequest{Limit: FeedLength})
	if err != nil {
		return nil, err
	}
	fd.posts = page.Posts
	for _, p := range fd.posts {
		if p.UpdatedAt.After(fd.updated) {
			fd.updated = p.UpdatedAt
		}
	}
	if fd.updated.IsZero() {
		fd.updated = time.Unix(0, 0).UTC() // an empty site: a date that never changes
	}
	return fd, nil
}

// siteName names the site in feeds.
const siteName = "quill"

// url is an absolute URL on this site.
func (f *Feeds) url(format string, args ...any) string {
	return f.base + fmt.Sprintf(format, args...)
}

// serve writes body with its validators, answering a conditional GET
// (If-None-Match, If-Modified-Since) with 304 and HEAD without a body.
// The ETag is a hash of the body, so it changes with anything in it (an
// edit, a deletion, a renamed author); Last-Modified is the newest change
// of a post in it, which a deletion does not move: a reader that sends
// both gets the ETag's answer (RFC 9110).
func serve(w http.ResponseWriter, r *http.Request, contentType string, modified time.Time, body []byte) {
	sum := sha256.Sum256(body)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", feedMaxAge)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	http.ServeContent(w, r, "", modified, bytes.NewReader(body))
}

// authorID reads the user_id of an author's feed path.
func authorID(r *http.Request) (int64, error) {
	return httpx.PageID(r, "user_id", blog.ErrUserNotFound)
}
