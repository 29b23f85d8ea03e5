package server

import (
	"time"

	"github.com/quill-blog/quill/internal/blog"
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
	return userPrivate{userPublic: publicUser(u), Email: u.Email}
}

type postResponse struct {
	ID         int64      `json:"id"`
	Title      string     `json:"title"`
	Content    string     `json:"content"`
	UserID     int64      `json:"user_id"`
	AuthorID   int64      `json:"author_id"`
	DatePosted string     `json:"date_posted"`
	Author     userPublic `json:"author"`
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
}

func pageOf(p *blog.PostPage) postPage {
	out := postPage{
		Posts:   make([]postResponse, len(p.Posts)),
		Total:   p.Total,
		Skip:    p.Skip,
		Limit:   p.Limit,
		HasMore: p.HasMore,
	}
	for i := range p.Posts {
		out.Posts[i] = postOf(&p.Posts[i])
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
