package app

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/picture"
	"github.com/quill-blog/quill/internal/sqlstore"
)

const (
	// pictureBudget is the memory, in bytes, all the uploads being decoded
	// at once may take by picture.Cost: one costly image or several small
	// ones, however many arrive together. No single image costs more.
	pictureBudget = picture.MaxCost
	// pictureWait is how long an upload waits for its share of the
	// budget before it is turned away; uploads are rare enough that a
	// short queue costs nobody.
	pictureWait = 2 * time.Second
)

// ErrPicturesBusy is the answer to an upload that found no room in the
// memory budget of the pictures being decoded in time.
var ErrPicturesBusy = &blog.Error{Kind: blog.Unavailable, Code: "busy", Message: "Too many pictures are being processed; try again",
	RetryAfter: 2 * time.Second}

// SetPicture makes the image data (JPEG, PNG, GIF or WebP, as uploaded)
// the profile picture of the account userID, which must be the caller's
// (blog.ErrNotYourAccount). The image is checked and made into a 300×300
// JPEG (package picture) stored under a new random name; the previous
// picture goes in the same transaction. It returns the user with the new
// picture.
func (a *App) SetPicture(ctx context.Context, c *Caller, userID int64, data []byte) (*blog.User, error) {
	if userID != c.User.ID {
		return nil, blog.ErrNotYourAccount
	}
	jpg, err := a.processPicture(ctx, data)
	if err != nil {
		return nil, err
	}
	name, err := a.pictureName()
	if err != nil {
		return nil, err
	}
	err = a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.SavePicture(ctx, c.User.ID, name, jpg)
		return err
	})
	if err != nil {
		return nil, err
	}
	u := *c.User
	u.ImageFile = name
	return &u, nil
}

// DeletePicture puts the account userID, which must be the caller's
// (blog.ErrNotYourAccount), back to the default avatar. An account
// without a picture is blog.ErrNoPicture.
func (a *App) DeletePicture(ctx context.Context, c *Caller, userID int64) (*blog.User, error) {
	if userID != c.User.ID {
		return nil, blog.ErrNotYourAccount
	}
	err := a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		return tx.DeletePicture(ctx, c.User.ID)
	})
	if err != nil {
		return nil, err
	}
	u := *c.User
	u.ImageFile = ""
	return &u, nil
}

// Picture returns the picture stored under name and when it was stored,
// or blog.ErrPictureNotFound. A name always means the same bytes.
func (a *App) Picture(ctx context.Context, name string) ([]byte, time.Time, error) {
	return a.store.Picture(ctx, name)
}

// processPicture runs picture.Process once the memory it takes fits in
// the budget.
func (a *App) processPicture(ctx context.Context, data []byte) ([]byte, error) {
	n, err := picture.Cost(data)
	if err != nil {
		return nil, err
	}
	if err := a.pictures.acquire(ctx, n); err != nil {
		return nil, err
	}
	defer a.pictures.release(n)
	return picture.Process(data)
}

// pictureName is a new random file name for a picture: 128 bits, so names
// are never reused and a cached picture never goes stale.
func (a *App) pictureName() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(a.random, b[:]); err != nil {
		return "", fmt.Errorf("picture name: %w", err)
	}
	return hex.EncodeToString(b[:]) + ".jpg", nil
}

// memoryBudget shares a number of bytes among the pictures being decoded.
// It is safe for concurrent use.
type memoryBudget struct {
	sem  *semaphore.Weighted // first come, first served: a large share is not starved by small ones
	size int64
	wait time.Duration
}

func newMemoryBudget(size int64, wait time.Duration) *memoryBudget {
	return &memoryBudget{sem: semaphore.NewWeighted(size), size: size, wait: wait}
}

// acquire takes n bytes of the budget, waiting at most b.wait for them,
// and less if ctx ends first (the client has gone or the server is
// stopping): then it is ErrPicturesBusy. More than the whole budget is
// picture.ErrTooCostly, at once. The wait uses the real clock: it bounds
// how long a request is held, which no test asserts on.
func (b *memoryBudget) acquire(ctx context.Context, n int64) error {
	if n > b.size {
		return picture.ErrTooCostly
	}
	if ctx.Err() != nil {
		return ErrPicturesBusy
	}
	if b.sem.TryAcquire(n) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.wait)
	defer cancel()
	if err := b.sem.Acquire(ctx, n); err != nil {
		return ErrPicturesBusy
	}
	return nil
}

// release gives back n bytes taken by acquire.
func (b *memoryBudget) release(n int64) { b.sem.Release(n) }
