// Package blog holds quill's domain: users, posts and sessions, the rules
// their fields must follow, and the kinds of error the rest of the program
// reports. It depends on the standard library and golang.org/x/text only
// (RFC 8265 username comparison is part of the domain's meaning).
package blog

import (
	"time"
)

// DefaultImagePath is the avatar of a user without a profile picture.
const DefaultImagePath = "/static/profile_pics/default.jpg"

// User is an account. PasswordHash is a PHC or modular-crypt string and never
// leaves the server.
type User struct {
	ID           int64
	Username     string // as the user typed it (NFC), for display
	Email        string // lower-cased
	ImageFile    string // "" when the user has no picture
	PasswordHash string
	CreatedAt    time.Time

	// EmailVerifiedAt is when Email was confirmed (email.go); zero while
	// it is not.
	EmailVerifiedAt time.Time
	// PendingEmail is the address the user asked to change to, lower-cased,
	// which takes the place of Email once confirmed (only asked for when
	// verified addresses are required); "" when there is none.
	PendingEmail string
}

// ImagePath is where the user's picture, or the default avatar, is served.
func (u *User) ImagePath() string {
	if u.ImageFile == "" {
		return DefaultImagePath
	}
	return "/media/profile_pics/" + u.ImageFile
}

// Post is a blog post with its author's public fields.
type Post struct {
	ID         int64
	Title      string
	Content    string
	AuthorID   int64
	DatePosted time.Time // UTC
	// UpdatedAt is when the title or content last changed: DatePosted
	// until the post is edited.
	UpdatedAt time.Time
	Author    User // ID, Username and ImageFile are set; never the hash

	// HTML is Content, which is Markdown, rendered as safe HTML; Excerpt
	// is the plain text of its beginning, and ExcerptCut whether that
	// leaves some of the post out (package markdown). The app layer sets
	// them; the store does not.
	HTML       string
	Excerpt    string
	ExcerptCut bool
}

// Session is one login. Access tokens carry its ID; a token is good only
// while its session exists and has not expired.
type Session struct {
	ID         string // random, URL-safe
	UserID     int64
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
	IP         string
}

// Page limits.
const (
	DefaultLimit = 10
	MaxLimit     = 100
)

// PageRequest selects a page of posts, newest first: either by offset
// (Skip) or, when Cursor is set, after the position a previous page ended,
// or, when Before is set, the page just before the one that begins at
// Before: the Limit posts just newer than it (Skip and Cursor are then
// ignored).
type PageRequest struct {
	Skip   int64
	Limit  int
	Cursor *Cursor
	Before *Cursor
}

// PostPage is one page of posts, newest first.
type PostPage struct {
	Posts      []Post
	Total      int64
	Skip       int64
	Limit      int
	HasMore    bool
	NextCursor *Cursor // nil on the last page
	// HasNewer reports, for a page asked for with Before, whether there
	// are posts newer than the page's.
	HasNewer bool
}
