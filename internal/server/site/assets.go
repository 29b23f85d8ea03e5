package site

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/quill-blog/quill/internal/server/httpx"
	"github.com/quill-blog/quill/web"
)

// How static files are served. Each embedded file is read once, when the
// first server of the process is made: its SHA-256 names its version,
// and text worth compressing gets compressed copies (those embedded beside
// it, NAME.br and NAME.gz, else a gzip made here). Pages link to a file
// with its version in the query (staticURL): such a URL always means the
// same bytes, so browsers may keep it for a year without asking again.

// Cache lifetimes of static files.
const (
	// cacheVersioned is for a URL whose ?v= is the file's version.
	cacheVersioned = "public, max-age=31536000, immutable"
	// cacheUnversioned is for a URL without ?v=, such as the default
	// picture's, which API clients are given: a day, then an ETag check.
	cacheUnversioned = "public, max-age=86400"
	// cacheOtherVersion is for a ?v= of another version (a page made by
	// an older or newer quill): these bytes are not that version, so a
	// cache must ask again every time.
	cacheOtherVersion = "no-cache"
)

// minCompress is the smallest file worth compressing: below about 1 KiB
// the saving is lost in the headers.
const minCompress = 1024

// asset is an embedded static file as it is served.
type asset struct {
	contentType string
	version     string // hex SHA-256 prefix of data
	data        []byte
	// encoded are compressed copies, the smallest first.
	encoded []encodedAsset
}

// encodedAsset is an asset's bytes in a content coding ("br", "gzip").
type encodedAsset struct {
	coding string
	data   []byte
}

// codingExt is the file extension of a precompressed copy of each coding
// quill serves, in order of preference.
var codingExt = []struct{ coding, ext string }{{"br", ".br"}, {"gzip", ".gz"}}

// assets are the embedded static files by path under static/.
var assets = sync.OnceValue(func() map[string]*asset {
	fsys, err := fs.Sub(web.Static, "static")
	if err != nil {
		panic(err) // "static" is embedded
	}
	out, err := loadAssets(fsys)
	if err != nil {
		panic(err) // embedded files can always be read
	}
	return out
})

// loadAssets reads every file of fsys but the compressed copies, which it
// attaches to their files.
func loadAssets(fsys fs.FS) (map[string]*asset, error) {
	out := map[string]*asset{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || isCompressedCopy(name) {
			return err
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		a := &asset{version: hex.EncodeToString(sum[:8]), data: data}
		if a.contentType = mime.TypeByExtension(path.Ext(name)); a.contentType == "" {
			a.contentType = http.DetectContentType(data)
		}
		if httpx.Compressible(a.contentType) && len(data) >= minCompress {
			for _, c := range codingExt {
				if b, err := fs.ReadFile(fsys, name+c.ext); err == nil {
					a.encoded = append(a.encoded, encodedAsset{c.coding, b})
				}
			}
			if len(a.encoded) == 0 {
				gz, err := gzipBytes(data)
				if err != nil {
					return fmt.Errorf("gzip %s: %w", name, err)
				}
				a.encoded = append(a.encoded, encodedAsset{"gzip", gz})
			}
		}
		out[name] = a
		return nil
	})
	return out, err
}

// isCompressedCopy reports whether name is a compressed copy of another
// file rather than a file of its own.
func isCompressedCopy(name string) bool {
	for _, c := range codingExt {
		if strings.HasSuffix(name, c.ext) {
			return true
		}
	}
	return false
}

func gzipBytes(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// staticURL is the URL pages use for the static file at p ("/static/…"):
// with the file's version in the query, so it may be cached for good. A
// path that is no embedded file is returned as it is (an uploaded
// picture's, say).
func staticURL(p string) string {
	name, ok := strings.CutPrefix(p, "/static/")
	if !ok {
		return p
	}
	a := assets()[name]
	if a == nil {
		return p
	}
	return p + "?v=" + a.version
}

// pick chooses what to send for an Accept-Encoding header: the compressed
// copy of the highest q-value (ties go to the smaller), or the file
// itself (coding "").
func (a *asset) pick(acceptEncoding string) (coding string, data []byte) {
	best := 0
	coding, data = "", a.data
	for _, e := range a.encoded {
		if q := httpx.AcceptsEncoding(acceptEncoding, e.coding); q > best {
			best, coding, data = q, e.coding, e.data
		}
	}
	return coding, data
}

// Static serves the embedded files under /static/: GET /static/{path}.
// Directories and compressed copies are not listed or served on their
// own.
func (s *Site) Static() httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a := assets()[strings.TrimPrefix(r.URL.Path, "/static/")]
		if a == nil {
			return httpx.ErrNotFound
		}
		h := w.Header()
		switch v, versioned := r.URL.Query()["v"]; {
		case !versioned:
			h.Set("Cache-Control", cacheUnversioned)
		case len(v) == 1 && v[0] == a.version:
			h.Set("Cache-Control", cacheVersioned)
		default:
			h.Set("Cache-Control", cacheOtherVersion)
		}
		// Set before ServeContent, which would otherwise guess the type
		// from compressed bytes.
		h.Set("Content-Type", a.contentType)
		coding, data := a.pick(r.Header.Get("Accept-Encoding"))
		if len(a.encoded) > 0 {
			h.Add("Vary", "Accept-Encoding")
		}
		// Each coding is a representation of its own, with an ETag of its
		// own; a Range applies to the bytes sent (RFC 9110 §14.1.2).
		etag := `"` + a.version + `"`
		if coding != "" {
			h.Set("Content-Encoding", coding)
			etag = `"` + a.version + "." + coding + `"`
		}
		h.Set("ETag", etag)
		// ServeContent answers If-None-Match (304), If-Range, HEAD and
		// Range requests.
		http.ServeContent(fullLength{w, len(data)}, r, "", time.Time{}, bytes.NewReader(data))
		return nil
	}
}

// fullLength gives a 200 the Content-Length that ServeContent leaves out
// whenever Content-Encoding is set (in case the writer compresses what it
// is given, which this one does not): a 200 carries all n bytes. Its 206
// answers have their own.
type fullLength struct {
	http.ResponseWriter
	n int
}

func (w fullLength) WriteHeader(code int) {
	if h := w.Header(); code == http.StatusOK && h.Get("Content-Length") == "" {
		h.Set("Content-Length", strconv.Itoa(w.n))
	}
	w.ResponseWriter.WriteHeader(code)
}
