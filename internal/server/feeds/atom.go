package feeds

import (
	"encoding/xml"
	"net/http"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// The Atom 1.0 document (RFC 4287), as encoding/xml writes it.

const atomNS = "http://www.w3.org/2005/Atom"

type atomFeed struct {
	XMLName  xml.Name    `xml:"feed"`
	NS       string      `xml:"xmlns,attr"`
	Base     string      `xml:"xml:base,attr"`
	ID       string      `xml:"id"`
	Title    string      `xml:"title"`
	Subtitle string      `xml:"subtitle"`
	Updated  string      `xml:"updated"`
	Links    []atomLink  `xml:"link"`
	Author   *atomPerson `xml:"author,omitempty"`
	Gen      string      `xml:"generator"`
	Entries  []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri"`
}

type atomEntry struct {
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Link      atomLink    `xml:"link"`
	Published string      `xml:"published"`
	Updated   string      `xml:"updated"`
	Author    atomPerson  `xml:"author"`
	Summary   atomText    `xml:"summary"`
	Content   atomContent `xml:"content"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

// atomContent is a post's HTML, escaped, with the post's address as the
// base its relative links resolve against.
type atomContent struct {
	Type string `xml:"type,attr"`
	Base string `xml:"xml:base,attr"`
	Text string `xml:",chardata"`
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// SiteAtom serves the site's Atom feed: GET /feed.xml.
func (f *Feeds) SiteAtom(w http.ResponseWriter, r *http.Request) error {
	return f.atom(w, r, 0)
}

// AuthorAtom serves an author's Atom feed: GET /users/{user_id}/feed.xml.
func (f *Feeds) AuthorAtom(w http.ResponseWriter, r *http.Request) error {
	id, err := authorID(r)
	if err != nil {
		return err
	}
	return f.atom(w, r, id)
}

func (f *Feeds) atom(w http.ResponseWriter, r *http.Request, authorID int64) error {
	fd, err := f.load(r.Context(), authorID)
	if err != nil {
		return err
	}
	self, alternate := f.url("/feed.xml"), f.url("/")
	if fd.author != nil {
		self, alternate = f.url("/users/%d/feed.xml", fd.author.ID), f.url("/users/%d/posts", fd.author.ID)
	}
	doc := atomFeed{
		NS: atomNS, Base: f.base + "/", ID: fd.id, Title: fd.title, Subtitle: fd.description,
		Updated: atomTime(fd.updated), Gen: "quill",
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: self},
			{Rel: "alternate", Type: "text/html", Href: alternate},
		},
	}
	switch {
	case fd.author != nil:
		doc.Author = f.atomAuthor(fd.author)
	case len(fd.posts) == 0:
		// A feed names an author unless every entry does.
		doc.Author = &atomPerson{Name: siteName, URI: f.base + "/"}
	}
	for i := range fd.posts {
		p := &fd.posts[i]
		link := f.url("/posts/%d", p.ID)
		doc.Entries = append(doc.Entries, atomEntry{
			ID: link, Title: p.Title, Link: atomLink{Rel: "alternate", Type: "text/html", Href: link},
			Published: atomTime(p.DatePosted), Updated: atomTime(p.UpdatedAt),
			Author:  *f.atomAuthor(&p.Author),
			Summary: atomText{Type: "text", Text: p.Excerpt},
			Content: atomContent{Type: "html", Base: link, Text: p.HTML},
		})
	}
	body, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	body = append([]byte(xml.Header), append(body, '\n')...)
	serve(w, r, "application/atom+xml; charset=utf-8", fd.updated, body)
	return nil
}

func (f *Feeds) atomAuthor(u *blog.User) *atomPerson {
	return &atomPerson{Name: u.Username, URI: f.url("/users/%d/posts", u.ID)}
}
