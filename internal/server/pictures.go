package server

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/semaphore"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/picture"
)

// Picture upload limits.
const (
	// maxPictureBody is the largest multipart body: the file and room for
	// the boundaries, part headers and a few small fields.
	maxPictureBody = picture.MaxBytes + 64<<10
	// pictureBudget is the memory, in bytes, all the uploads being decoded
	// at once may take by picture.Cost: one costly image or several small
	// ones, however many arrive together. No single image costs more.
	pictureBudget = picture.MaxCost
	// pictureWait is how long an upload waits for its share of the
	// budget before it is turned away with 503, holding its body (up to
	// 5 MiB) meanwhile; uploads are rare enough that a short queue costs
	// nobody.
	pictureWait = 2 * time.Second
	// maxUploadField is the largest other field of an upload that is kept.
	maxUploadField = 1 << 10
)

var (
	errMalformedMultipart = &blog.Error{Kind: blog.Unprocessable, Code: "validation_error", Message: "Validation failed",
		Problems: []blog.Problem{{Type: "multipart_invalid", Loc: []any{"body"}, Msg: "Malformed multipart body"}}}
	errMissingFile = &blog.Error{Kind: blog.Unprocessable, Code: "validation_error", Message: "Validation failed",
		Problems: []blog.Problem{{Type: "missing", Loc: []any{"body", "file"}, Msg: "Field required"}}}
	errPicturesBusy = &blog.Error{Kind: blog.Unavailable, Code: "busy", Message: "Too many pictures are being processed; try again",
		RetryAfter: 2 * time.Second}
)

// handlePatchPicture sets the caller's profile picture from the multipart
// field "file": PATCH /api/users/{user_id}/picture. The image is checked
// and made into a 300×300 JPEG (package picture) and stored under a new
// random name; the previous picture goes in the same transaction.
func (s *Server) handlePatchPicture(w http.ResponseWriter, r *http.Request, c caller) error {
	if err := ownAccount(r, c, errNotYourAccount); err != nil {
		return err
	}
	data, _, err := readPictureUpload(w, r)
	if err != nil {
		return err
	}
	u, err := s.setPicture(r, c, data)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, privateUser(u))
	return nil
}

// setPicture makes data the caller's picture and returns the user with it;
// the API and the account page share it.
func (s *Server) setPicture(r *http.Request, c caller, data []byte) (*blog.User, error) {
	jpg, err := s.processPicture(r, data)
	if err != nil {
		return nil, err
	}
	name, err := s.pictureName()
	if err != nil {
		return nil, err
	}
	if _, err := s.store.SavePicture(r.Context(), c.user.ID, name, jpg); err != nil {
		return nil, err
	}
	u := *c.user
	u.ImageFile = name
	return &u, nil
}

// handleDeletePicture puts the caller back to the default avatar:
// DELETE /api/users/{user_id}/picture.
func (s *Server) handleDeletePicture(w http.ResponseWriter, r *http.Request, c caller) error {
	if err := ownAccount(r, c, errNotYourAccount); err != nil {
		return err
	}
	if err := s.store.DeletePicture(r.Context(), c.user.ID); err != nil {
		return err
	}
	u := *c.user
	u.ImageFile = ""
	writeJSON(w, http.StatusOK, privateUser(&u))
	return nil
}

// readPictureUpload reads the multipart body of a picture upload and
// returns the content of its "file" field (the first, if several), and
// the first value of each other field under maxUploadField bytes (the
// account page's form sends its CSRF token so).
//
// The file is read whole into memory, at most picture.MaxBytes of it: a
// larger one is refused as soon as it is seen to be larger. The body is
// streamed (never spooled to temporary files) and read to its end, so a
// truncated or malformed body is refused even after the file. A file over
// 5 MiB is the SPEC's 400 "too large"; a body over maxPictureBody for
// other reasons is 413, like every other body over its route's limit.
func readPictureUpload(w http.ResponseWriter, r *http.Request) ([]byte, url.Values, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, nil, errUnsupportedMedia
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, nil, errMalformedMultipart
	}
	fields := url.Values{}
	body := newClosingWatch(http.MaxBytesReader(w, r.Body, maxPictureBody), boundary)
	mr := multipart.NewReader(body, boundary)
	var file []byte
	found := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, multipartError(err)
		}
		if part.FormName() == "file" && !found {
			found = true
			file, err = io.ReadAll(io.LimitReader(part, picture.MaxBytes+1))
			if err != nil {
				return nil, nil, multipartError(err)
			}
			if len(file) > picture.MaxBytes {
				return nil, nil, picture.ErrFileTooLarge
			}
		} else if name := part.FormName(); name != "" && name != "file" && part.FileName() == "" && !fields.Has(name) {
			v, err := io.ReadAll(io.LimitReader(part, maxUploadField+1))
			if err != nil {
				return nil, nil, multipartError(err)
			}
			if len(v) <= maxUploadField {
				fields.Set(name, string(v))
			}
		}
		if _, err := io.Copy(io.Discard, part); err != nil {
			return nil, nil, multipartError(err)
		}
	}
	if !body.closed {
		return nil, nil, errMalformedMultipart // cut short, perhaps inside a part's headers
	}
	if !found {
		return nil, nil, errMissingFile
	}
	return file, fields, nil
}

// closingWatch reads a multipart body and notes whether its closing
// delimiter went by. multipart.Reader does not say: a body cut inside a
// part's headers ends with io.EOF, as a complete one does.
type closingWatch struct {
	r      io.Reader
	delim  []byte // CRLF "--" boundary "--"
	tail   []byte // the last len(delim)-1 bytes read, for a delimiter split across reads
	closed bool
}

func newClosingWatch(r io.Reader, boundary string) *closingWatch {
	// A body may open with its closing delimiter (no parts): the CRLF
	// before the first boundary is optional, so start as if one was read.
	return &closingWatch{r: r, delim: []byte("\r\n--" + boundary + "--"), tail: []byte("\r\n")}
}

func (c *closingWatch) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 && !c.closed {
		seen := append(c.tail, p[:n]...)
		c.closed = bytes.Contains(seen, c.delim)
		c.tail = bytes.Clone(seen[max(0, len(seen)-len(c.delim)+1):])
	}
	return n, err
}

// multipartError is the client's error for a failure while reading a
// multipart body.
func multipartError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge
	}
	return errMalformedMultipart
}

// processPicture runs picture.Process once the memory it takes fits in
// the budget. The body has been read by then, so a slow client holds no
// share of it.
func (s *Server) processPicture(r *http.Request, data []byte) ([]byte, error) {
	n, err := picture.Cost(data)
	if err != nil {
		return nil, err
	}
	if err := s.pictures.acquire(r.Context(), n); err != nil {
		return nil, err
	}
	defer s.pictures.release(n)
	return picture.Process(data)
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
// stopping): then it is errPicturesBusy. More than the whole budget is
// picture.ErrTooCostly, at once. The wait uses the real clock: it bounds
// how long a request is held, which no test asserts on.
func (b *memoryBudget) acquire(ctx context.Context, n int64) error {
	if n > b.size {
		return picture.ErrTooCostly
	}
	if ctx.Err() != nil {
		return errPicturesBusy
	}
	if b.sem.TryAcquire(n) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.wait)
	defer cancel()
	if err := b.sem.Acquire(ctx, n); err != nil {
		return errPicturesBusy
	}
	return nil
}

// release gives back n bytes taken by acquire.
func (b *memoryBudget) release(n int64) { b.sem.Release(n) }

// pictureName is a new random file name for a picture: 128 bits, so names
// are never reused and a cached picture never goes stale.
func (s *Server) pictureName() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.random, b[:]); err != nil {
		return "", fmt.Errorf("picture name: %w", err)
	}
	return hex.EncodeToString(b[:]) + ".jpg", nil
}

// maxPictureName is the longest name looked up; quill's own names are 36
// characters, and imported ones are kept as they were.
const maxPictureName = 255

// handlePicture serves a profile picture from the database, so every
// instance serves every picture: GET /media/profile_pics/{name}. A name
// always means the same bytes (a new picture gets a new name), so the
// response may be cached for a year and revalidated by ETag. Errors are
// HTML pages, as for every path outside /api/.
func (s *Server) handlePicture(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	// No stored name has invalid UTF-8 or a NUL, and PostgreSQL refuses to
	// even compare such text: it never reaches the store.
	if name == "" || len(name) > maxPictureName || !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
		return blog.ErrPictureNotFound
	}
	data, created, err := s.store.Picture(r.Context(), name)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+hex.EncodeToString([]byte(name))+`"`)
	// ServeContent answers If-None-Match (304), If-Modified-Since, HEAD
	// and Range requests.
	http.ServeContent(w, r, "", created, bytes.NewReader(data))
	return nil
}
