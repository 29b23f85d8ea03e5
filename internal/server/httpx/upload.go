package httpx

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/picture"
)

// Picture upload limits.
const (
	// maxPictureBody is the largest multipart body: the file and room for
	// the boundaries, part headers and a few small fields.
	maxPictureBody = picture.MaxBytes + 64<<10
	// maxUploadField is the largest other field of an upload that is kept.
	maxUploadField = 1 << 10
)

var (
	errMalformedMultipart = &blog.Error{Kind: blog.Unprocessable, Code: "validation_error", Message: "Validation failed",
		Problems: []blog.Problem{{Type: "multipart_invalid", Loc: []any{"body"}, Msg: "Malformed multipart body"}}}
	errMissingFile = &blog.Error{Kind: blog.Unprocessable, Code: "validation_error", Message: "Validation failed",
		Problems: []blog.Problem{{Type: "missing", Loc: []any{"body", "file"}, Msg: "Field required"}}}
)

// ReadPictureUpload reads the multipart body of a picture upload and
// returns the content of its "file" field (the first, if several), and
// the first value of each other field under maxUploadField bytes (the
// account page's form sends its CSRF token so).
//
// The file is read whole into memory, at most picture.MaxBytes of it: a
// larger one is refused as soon as it is seen to be larger. The body is
// streamed (never spooled to temporary files) and read to its end, so a
// truncated or malformed body is refused even after the file. A file over
// 5 MiB is a 400 "file too large"; a body over maxPictureBody for
// other reasons is 413, like every other body over its route's limit.
func ReadPictureUpload(w http.ResponseWriter, r *http.Request) ([]byte, url.Values, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, nil, ErrUnsupportedMedia
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
		return ErrTooLarge
	}
	return errMalformedMultipart
}
