package feeds

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// The JSON Feed 1.1 document.

type jsonFeed struct {
	Version     string       `json:"version"`
	Title       string       `json:"title"`
	HomePageURL string       `json:"home_page_url"`
	FeedURL     string       `json:"feed_url"`
	Description string       `json:"description"`
	Authors     []jsonAuthor `json:"authors,omitempty"`
	Items       []jsonItem   `json:"items"`
}

type jsonAuthor struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

type jsonItem struct {
	ID            string       `json:"id"`
	URL           string       `json:"url"`
	Title         string       `json:"title"`
	ContentHTML   string       `json:"content_html"`
	Summary       string       `json:"summary"`
	DatePublished string       `json:"date_published"`
	DateModified  string       `json:"date_modified"`
	Authors       []jsonAuthor `json:"authors"`
}

// SiteJSON serves the site's JSON Feed: GET /feed.json.
func (f *Feeds) SiteJSON(w http.ResponseWriter, r *http.Request) error {
	return f.jsonFeed(w, r, 0)
}

// AuthorJSON serves an author's JSON Feed: GET /users/{user_id}/feed.json.
func (f *Feeds) AuthorJSON(w http.ResponseWriter, r *http.Request) error {
	id, err := authorID(r)
	if err != nil {
		return err
	}
	return f.jsonFeed(w, r, id)
}

func (f *Feeds) jsonFeed(w http.ResponseWriter, r *http.Request, authorID int64) error {
	fd, err := f.load(r.Context(), authorID)
	if err != nil {
		return err
	}
	doc := jsonFeed{
		Version: "https://jsonfeed.org/version/1.1", Title: fd.title, Description: fd.description,
		HomePageURL: fd.id, FeedURL: f.base + "/feed.json", Items: []jsonItem{},
	}
	if fd.author != nil {
		doc.FeedURL = f.url("/users/%d/feed.json", fd.author.ID)
		doc.Authors = []jsonAuthor{f.jsonAuthor(fd.author)}
	}
	for i := range fd.posts {
		p := &fd.posts[i]
		link := f.url("/posts/%d", p.ID)
		doc.Items = append(doc.Items, jsonItem{
			ID: link, URL: link, Title: p.Title, ContentHTML: p.HTML, Summary: p.Excerpt,
			DatePublished: p.DatePosted.UTC().Format(time.RFC3339), DateModified: p.UpdatedAt.UTC().Format(time.RFC3339),
			Authors: []jsonAuthor{f.jsonAuthor(&p.Author)},
		})
	}
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	serve(w, r, "application/feed+json; charset=utf-8", fd.updated, append(body, '\n'))
	return nil
}

func (f *Feeds) jsonAuthor(u *blog.User) jsonAuthor {
	return jsonAuthor{Name: u.Username, URL: f.url("/users/%d/posts", u.ID)}
}
