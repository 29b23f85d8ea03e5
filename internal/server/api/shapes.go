package api

import (
	"strconv"
	"time"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// The API's response shapes, named as in the FastAPI tutorial.

type userPublic struct {
	ID        int64   `json:"id"`
	Username  string  `json:"username"`
	ImageFile *string `json:"image_file"`
	ImagePath string  `json:"image_path"`
}

type userPrivate struct {
	userPublic
	Email string `json:"email"`
	// EmailVerified: Email has been confirmed by a mailed link.
	EmailVerified bool `json:"email_verified"`
	// PendingEmail is the address waiting to be confirmed before it
	// replaces Email, or null.
	PendingEmail *string `json:"pending_email"`
}

func publicUser(u *blog.User) userPublic {
	p := userPublic{ID: u.ID, Username: u.Username, ImagePath: u.ImagePath()}
	if u.ImageFile != "" {
		f := u.ImageFile
		p.ImageFile = &f
	}
	return p
}

func privateUser(u *blog.User) userPrivate {
	p := userPrivate{userPublic: publicUser(u), Email: u.Email, EmailVerified: u.EmailVerified()}
	if u.PendingEmail != "" {
		e := u.PendingEmail
		p.PendingEmail = &e
	}
	return p
}

// me is GET /api/users/me: the caller's account, and how it logs in.
type me struct {
	userPrivate
	TOTPEnabled bool `json:"totp_enabled"`
}

type postResponse struct {
	ID         int64      `json:"id"`
	Title      string     `json:"title"`
	Content    string     `json:"content"`
	UserID     int64      `json:"user_id"`
	AuthorID   int64      `json:"author_id"`
	DatePosted string     `json:"date_posted"`
	Author     userPublic `json:"author"`
	// ContentHTML is Content rendered from Markdown as safe HTML, as the
	// pages show it.
	ContentHTML string `json:"content_html"`
}

func postOf(p *blog.Post) postResponse {
	return postResponse{
		ID:         p.ID,
		Title:      p.Title,
		Content:    p.Content,
		UserID:     p.AuthorID,
		AuthorID:   p.AuthorID,
		DatePosted: timestamp(p.DatePosted),
		Author:     publicUser(&p.Author),

		ContentHTML: p.HTML,
	}
}

// timestamp formats t as RFC 3339 in UTC with a "Z".
func timestamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

type postPage struct {
	Posts      []postResponse `json:"posts"`
	Total      int64          `json:"total"`
	Skip       int64          `json:"skip"`
	Limit      int            `json:"limit"`
	HasMore    bool           `json:"has_more"`
	NextCursor *string        `json:"next_cursor"`
	// TotalCapped is on search pages only (see searchPageOf).
	TotalCapped *bool `json:"total_capped,omitempty"`
}

func pageOf(p *blog.PostPage) postPage {
	out := postPage{
		Posts:   postsOf(p.Posts),
		Total:   p.Total,
		Skip:    p.Skip,
		Limit:   p.Limit,
		HasMore: p.HasMore,
	}
	if p.NextCursor != nil {
		c := p.NextCursor.String()
		out.NextCursor = &c
	}
	return out
}

// postsOf shapes the posts of a page.
func postsOf(posts []blog.Post) []postResponse {
	out := make([]postResponse, len(posts))
	for i := range posts {
		out[i] = postOf(&posts[i])
	}
	return out
}

// searchPageOf is a page of search results: a page of posts in the same
// shape, best first, with total_capped.
func searchPageOf(p *blog.SearchPage) postPage {
	out := postPage{
		Posts:       postsOf(p.Posts),
		Total:       p.Total,
		Skip:        p.Skip,
		Limit:       p.Limit,
		HasMore:     p.HasMore,
		TotalCapped: &p.TotalCapped,
	}
	if p.NextCursor != nil {
		c := p.NextCursor.String()
		out.NextCursor = &c
	}
	return out
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

// The shapes that hot routes return encode themselves: appending their
// JSON by hand costs a fraction of encoding/json's reflection, which was
// the largest part of quill's own CPU on GET /api/posts after the database
// (quill-bench -profile). The output is byte for byte what encoding/json
// writes for the struct tags above (TestAppendJSONMatchesEncodingJSON).

func (u userPublic) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	b = u.appendFields(b)
	return append(b, '}')
}

func (u userPublic) appendFields(b []byte) []byte {
	b = append(b, `"id":`...)
	b = strconv.AppendInt(b, u.ID, 10)
	b = append(b, `,"username":`...)
	b = httpx.AppendJSONString(b, u.Username)
	b = append(b, `,"image_file":`...)
	if u.ImageFile == nil {
		b = append(b, "null"...)
	} else {
		b = httpx.AppendJSONString(b, *u.ImageFile)
	}
	b = append(b, `,"image_path":`...)
	return httpx.AppendJSONString(b, u.ImagePath)
}

func (u userPrivate) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	b = u.appendFields(b)
	return append(b, '}')
}

// appendFields appends u's fields without the braces.
func (u userPrivate) appendFields(b []byte) []byte {
	b = u.userPublic.appendFields(b)
	b = append(b, `,"email":`...)
	b = httpx.AppendJSONString(b, u.Email)
	b = append(b, `,"email_verified":`...)
	b = strconv.AppendBool(b, u.EmailVerified)
	b = append(b, `,"pending_email":`...)
	if u.PendingEmail == nil {
		return append(b, "null"...)
	}
	return httpx.AppendJSONString(b, *u.PendingEmail)
}

func (m me) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	b = m.userPrivate.appendFields(b)
	b = append(b, `,"totp_enabled":`...)
	b = strconv.AppendBool(b, m.TOTPEnabled)
	return append(b, '}')
}

func (p postResponse) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, p.ID, 10)
	b = append(b, `,"title":`...)
	b = httpx.AppendJSONString(b, p.Title)
	b = append(b, `,"content":`...)
	b = httpx.AppendJSONString(b, p.Content)
	b = append(b, `,"user_id":`...)
	b = strconv.AppendInt(b, p.UserID, 10)
	b = append(b, `,"author_id":`...)
	b = strconv.AppendInt(b, p.AuthorID, 10)
	b = append(b, `,"date_posted":`...)
	b = httpx.AppendJSONString(b, p.DatePosted)
	b = append(b, `,"author":`...)
	b = p.Author.AppendJSON(b)
	b = append(b, `,"content_html":`...)
	b = httpx.AppendJSONString(b, p.ContentHTML)
	return append(b, '}')
}

func (p postPage) AppendJSON(b []byte) []byte {
	b = append(b, `{"posts":[`...)
	for i := range p.Posts {
		if i > 0 {
			b = append(b, ',')
		}
		b = p.Posts[i].AppendJSON(b)
	}
	b = append(b, `],"total":`...)
	b = strconv.AppendInt(b, p.Total, 10)
	b = append(b, `,"skip":`...)
	b = strconv.AppendInt(b, p.Skip, 10)
	b = append(b, `,"limit":`...)
	b = strconv.AppendInt(b, int64(p.Limit), 10)
	b = append(b, `,"has_more":`...)
	b = strconv.AppendBool(b, p.HasMore)
	b = append(b, `,"next_cursor":`...)
	if p.NextCursor == nil {
		b = append(b, "null"...)
	} else {
		b = httpx.AppendJSONString(b, *p.NextCursor)
	}
	if p.TotalCapped != nil {
		b = append(b, `,"total_capped":`...)
		b = strconv.AppendBool(b, *p.TotalCapped)
	}
	return append(b, '}')
}
