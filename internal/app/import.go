package app

import (
	"context"
	"errors"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// Bringing in users and posts from another blog (quill import-fastapi).

// ImportUsers adds users with their ids and password hashes as they are,
// in one transaction, and reports per user what it did: a user that
// cannot go in is reported, not an error. A user whose username is taken
// (or looks like one taken) is tried under rename(username, n) for
// n = 2, 3, … when rename is not nil. Login verifies the old hashes and
// replaces them on a user's first login; until then a failed login takes
// as long as the slowest of them (see Calibrate).
func (a *App) ImportUsers(ctx context.Context, users []blog.User, rename func(username string, n int) string) ([]blog.RowResult, error) {
	return a.store.InsertUsers(ctx, users, rename)
}

// ImportPosts adds posts with their ids and dates, in one transaction, and
// reports per post what it did.
func (a *App) ImportPosts(ctx context.Context, posts []blog.Post) ([]blog.RowResult, error) {
	return a.store.InsertPosts(ctx, posts)
}

// ImportPicture makes an image file (JPEG, PNG, GIF or WebP) the profile
// picture of user userID, as an upload would be, under name so that old
// links to it keep working, or under a new random name when another
// picture has that name. With onlyIfNone, a user who has a picture keeps
// it. A file that is not a usable picture is an error of kind
// blog.Invalid saying why, and nothing changes.
func (a *App) ImportPicture(ctx context.Context, userID int64, name string, data []byte, onlyIfNone bool) error {
	jpg, err := a.processPicture(ctx, data)
	if err != nil {
		return err
	}
	if _, _, err := a.store.Picture(ctx, name); err == nil {
		if name, err = a.pictureName(); err != nil {
			return err
		}
	} else if !errors.Is(err, blog.ErrPictureNotFound) {
		return err
	}
	return a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		if onlyIfNone {
			u, err := tx.User(ctx, userID)
			if err != nil {
				return err
			}
			if u.ImageFile != "" {
				return nil
			}
		}
		_, err := tx.SavePicture(ctx, userID, name, jpg)
		return err
	})
}
