package server_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/quill-blog/quill/web"
)

// rawGet sends a GET with the given headers through a client that
// neither asks for nor undoes compression, so the test sees the bytes on
// the wire.
func rawGet(t *testing.T, base, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	return rawDo(t, "GET", base, path, header...)
}

func rawDo(t *testing.T, method, base, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode >= 500 {
		t.Errorf("%s %s = %d", method, path, res.StatusCode)
	}
	return res, body
}

// decode undoes a response's Content-Encoding.
func decode(t *testing.T, coding string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch coding {
	case "":
		return body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		defer zr.Close()
		r = zr
	default:
		t.Fatalf("unknown coding %q", coding)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s: %v", coding, err)
	}
	return b
}

func wantVary(t *testing.T, what string, res *http.Response, want bool) {
	t.Helper()
	got := strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept-Encoding")
	if got != want {
		t.Errorf("%s: Vary = %q, want Accept-Encoding in it: %v", what, res.Header.Values("Vary"), want)
	}
}

// TestCompression checks which responses are compressed, and that the
// compressed bytes are the same response.
func TestCompression(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	withPicture(t, f)
	srv := pageServer(t, f)

	big := 0
	for _, path := range []string{"/", "/openapi.json", "/api/posts", "/api/posts/{alice_post}", "/login", "/posts/{alice_post}", "/no/such/page"} {
		path = f.expand(path)
		plain, plainBody := rawGet(t, srv.URL, path)
		if ce := plain.Header.Get("Content-Encoding"); ce != "" {
			t.Errorf("GET %s without Accept-Encoding: Content-Encoding %q", path, ce)
		}
		wantVary(t, "GET "+path, plain, true)
		if len(plainBody) >= 1024 {
			big++
		}
		for _, tt := range []struct{ accept, want string }{
			{"gzip", "gzip"},
			{"gzip, deflate, br, zstd", "gzip"},
			{"zstd", "zstd"},
			{"gzip;q=0.5, zstd", "zstd"},
			{"zstd;q=0.5, gzip", "gzip"},
			{"identity", ""},
		} {
			if len(plainBody) < 1024 {
				tt.want = "" // too small to be worth it
			}
			res, body := rawGet(t, srv.URL, path, "Accept-Encoding", tt.accept)
			if got := res.Header.Get("Content-Encoding"); got != tt.want {
				t.Errorf("GET %s, Accept-Encoding %q: Content-Encoding %q, want %q (plain: %d bytes, %d)", path, tt.accept, got, tt.want, len(plainBody), plain.StatusCode)
				continue
			}
			wantVary(t, "GET "+path, res, true)
			if res.StatusCode != plain.StatusCode || res.Header.Get("Content-Type") != plain.Header.Get("Content-Type") {
				t.Errorf("GET %s, Accept-Encoding %q = %d %s, without it %d %s", path, tt.accept,
					res.StatusCode, res.Header.Get("Content-Type"), plain.StatusCode, plain.Header.Get("Content-Type"))
			}
			// Pages carry a fresh CSRF token each time; the rest is equal.
			got, want := csrfInput.ReplaceAll(decode(t, tt.want, body), nil), csrfInput.ReplaceAll(plainBody, nil)
			if !bytes.Equal(got, want) {
				t.Errorf("GET %s, Accept-Encoding %q: decoded body differs from the plain one", path, tt.accept)
			}
			if tt.want != "" && len(body) >= len(plainBody) {
				t.Errorf("GET %s in %s is %d bytes, plain %d", path, tt.want, len(body), len(plainBody))
			}
			if tt.want != "" && res.Header.Get("Content-Length") != "" && res.Header.Get("Content-Length") != fmt.Sprint(len(body)) {
				t.Errorf("GET %s in %s: Content-Length %s, body %d bytes", path, tt.want, res.Header.Get("Content-Length"), len(body))
			}
		}
	}

	if big < 4 {
		t.Errorf("only %d responses were over 1 KiB: the test tries too little", big)
	}

	// Small responses and pictures stay as they are.
	for _, path := range []string{"/health", "/media/profile_pics/{alice_picture}", "/static/profile_pics/default.jpg", "/static/swagger-ui/VERSION"} {
		path = f.expand(path)
		res, body := rawGet(t, srv.URL, path, "Accept-Encoding", "gzip, br, zstd")
		wantStatus(t, "GET "+path, res, http.StatusOK)
		if ce := res.Header.Get("Content-Encoding"); ce != "" {
			t.Errorf("GET %s: Content-Encoding %q, want none (%d bytes, %s)", path, ce, len(body), res.Header.Get("Content-Type"))
		}
	}
	// A picture's Range request is served as before, uncompressed.
	res, body := rawGet(t, srv.URL, f.expand("/media/profile_pics/{alice_picture}"), "Accept-Encoding", "gzip", "Range", "bytes=0-9")
	wantStatus(t, "a range of a picture", res, http.StatusPartialContent)
	if len(body) != 10 || res.Header.Get("Content-Encoding") != "" {
		t.Errorf("a range of a picture: %d bytes, Content-Encoding %q", len(body), res.Header.Get("Content-Encoding"))
	}
}

var versionedLink = regexp.MustCompile(`(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]{16})"`)

// TestStaticFiles checks the cache headers, compressed copies, ETags and
// ranges of static files.
func TestStaticFiles(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	srv := pageServer(t, f)

	// Pages link to static files with their version.
	_, page := rawGet(t, srv.URL, "/docs")
	links := map[string]string{}
	for _, m := range versionedLink.FindAllStringSubmatch(string(page), -1) {
		links[m[1]] = m[2]
	}
	for _, p := range []string{"/static/css/quill.css", "/static/js/quill.js", "/static/js/docs.js",
		"/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css"} {
		if links[p] == "" {
			t.Errorf("/docs does not link to %s with its version; links: %v", p, links)
		}
	}

	const bundle = "/static/swagger-ui/swagger-ui-bundle.js"
	original, err := fs.ReadFile(web.Static, strings.TrimPrefix(bundle, "/"))
	if err != nil {
		t.Fatal(err)
	}
	versioned := bundle + "?v=" + links[bundle]
	codings := map[string][]byte{"": original}
	for _, tt := range []struct {
		path, accept, coding, cache string
	}{
		{versioned, "", "", "public, max-age=31536000, immutable"},
		{versioned, "gzip, deflate", "gzip", "public, max-age=31536000, immutable"},
		{versioned, "gzip, deflate, br, zstd", "br", "public, max-age=31536000, immutable"},
		{versioned, "zstd", "", "public, max-age=31536000, immutable"},
		{bundle, "gzip", "gzip", "public, max-age=86400"},
		{bundle + "?v=0000000000000000", "br", "br", "no-cache"},
		{bundle + "?v=" + links[bundle] + "&v=x", "br", "br", "no-cache"},
	} {
		what := fmt.Sprintf("GET %s, Accept-Encoding %q", tt.path, tt.accept)
		res, body := rawGet(t, srv.URL, tt.path, "Accept-Encoding", tt.accept)
		wantStatus(t, what, res, http.StatusOK)
		h := res.Header
		if h.Get("Content-Encoding") != tt.coding || h.Get("Cache-Control") != tt.cache ||
			h.Get("Content-Type") != "text/javascript; charset=utf-8" || h.Get("Content-Length") != fmt.Sprint(len(body)) {
			t.Errorf("%s: Content-Encoding %q, Cache-Control %q, Content-Type %q, Content-Length %q (body %d); want %q, %q, JavaScript",
				what, h.Get("Content-Encoding"), h.Get("Cache-Control"), h.Get("Content-Type"), h.Get("Content-Length"), len(body), tt.coding, tt.cache)
		}
		wantVary(t, what, res, true)
		if !bytes.Equal(decode(t, tt.coding, body), original) {
			t.Errorf("%s: the body is not the file", what)
		}
		wantETag := `"` + links[bundle] + `"`
		if tt.coding != "" {
			wantETag = `"` + links[bundle] + "." + tt.coding + `"`
		}
		if got := h.Get("ETag"); got != wantETag {
			t.Errorf("%s: ETag %s, want %s", what, got, wantETag)
		}
		codings[tt.coding] = body
	}
	if len(codings["br"]) >= len(codings["gzip"]) || len(codings["gzip"])*3 >= len(original) {
		t.Errorf("the bundle is %d bytes, %d in gzip, %d in br: want br < gzip < a third", len(original), len(codings["gzip"]), len(codings["br"]))
	}

	// Revalidation: each coding's ETag matches only itself.
	for _, tt := range []struct {
		accept, ifNoneMatch string
		want                int
	}{
		{"br", `"` + links[bundle] + `.br"`, http.StatusNotModified},
		{"gzip", `"` + links[bundle] + `.gz"`, http.StatusOK},
		{"gzip", `"` + links[bundle] + `.gzip"`, http.StatusNotModified},
		{"", `"` + links[bundle] + `"`, http.StatusNotModified},
		{"", `"` + links[bundle] + `.br"`, http.StatusOK},
		{"br", `W/"` + links[bundle] + `.br"`, http.StatusNotModified}, // If-None-Match compares weakly
		{"br", `"nothing", "` + links[bundle] + `.br"`, http.StatusNotModified},
		{"br", `*`, http.StatusNotModified},
	} {
		what := fmt.Sprintf("If-None-Match %s, Accept-Encoding %q", tt.ifNoneMatch, tt.accept)
		res, body := rawGet(t, srv.URL, versioned, "Accept-Encoding", tt.accept, "If-None-Match", tt.ifNoneMatch)
		wantStatus(t, what, res, tt.want)
		if tt.want == http.StatusNotModified && len(body) > 0 {
			t.Errorf("%s: a 304 with %d bytes", what, len(body))
		}
	}

	// Ranges apply to the bytes of the coding sent.
	for _, coding := range []string{"", "gzip", "br"} {
		what := fmt.Sprintf("a range of the bundle in %q", coding)
		res, body := rawGet(t, srv.URL, versioned, "Accept-Encoding", coding, "Range", "bytes=100-199")
		wantStatus(t, what, res, http.StatusPartialContent)
		full := codings[coding]
		if want := fmt.Sprintf("bytes 100-199/%d", len(full)); res.Header.Get("Content-Range") != want {
			t.Errorf("%s: Content-Range %q, want %q", what, res.Header.Get("Content-Range"), want)
		}
		if !bytes.Equal(body, full[100:200]) || res.Header.Get("Content-Encoding") != coding || res.Header.Get("Content-Length") != "100" {
			t.Errorf("%s: %d bytes, Content-Encoding %q, Content-Length %s", what, len(body), res.Header.Get("Content-Encoding"), res.Header.Get("Content-Length"))
		}
	}
	res, body := rawGet(t, srv.URL, versioned, "Accept-Encoding", "br", "Range", "bytes=0-9", "If-Range", `"`+links[bundle]+`.br"`)
	wantStatus(t, "a range If-Range the same ETag", res, http.StatusPartialContent)
	if !bytes.Equal(body, codings["br"][:10]) {
		t.Errorf("a range If-Range the same ETag: wrong bytes")
	}
	res, _ = rawGet(t, srv.URL, versioned, "Accept-Encoding", "br", "Range", "bytes=0-9", "If-Range", `"`+links[bundle]+`.gzip"`)
	wantStatus(t, "a range If-Range another ETag", res, http.StatusOK)
	res, _ = rawGet(t, srv.URL, versioned, "Range", fmt.Sprintf("bytes=%d-", len(original)+10))
	wantStatus(t, "a range past the end", res, http.StatusRequestedRangeNotSatisfiable)
	if res.Header.Get("Content-Encoding") != "" {
		t.Errorf("a 416 has Content-Encoding %q", res.Header.Get("Content-Encoding"))
	}

	// HEAD says what GET would send.
	res, body = rawDo(t, "HEAD", srv.URL, versioned, "Accept-Encoding", "gzip")
	wantStatus(t, "HEAD", res, http.StatusOK)
	if len(body) != 0 || res.Header.Get("Content-Length") != fmt.Sprint(len(codings["gzip"])) || res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("HEAD: %d bytes, Content-Length %s, Content-Encoding %q; want none, %d, gzip",
			len(body), res.Header.Get("Content-Length"), res.Header.Get("Content-Encoding"), len(codings["gzip"]))
	}

	// Files too small or already compressed have one representation.
	res, _ = rawGet(t, srv.URL, "/static/profile_pics/default.jpg", "Accept-Encoding", "gzip, br")
	wantVary(t, "the default picture", res, false)
	if res.Header.Get("Cache-Control") != "public, max-age=86400" || res.Header.Get("ETag") == "" {
		t.Errorf("the default picture: Cache-Control %q, ETag %q", res.Header.Get("Cache-Control"), res.Header.Get("ETag"))
	}

	// Compressed copies and folders are no files of their own.
	for _, path := range []string{bundle + ".br", bundle + ".gz", "/static/swagger-ui", "/static/swagger-ui/", "/static/", "/static/../web.go"} {
		res, _ := rawGet(t, srv.URL, path)
		wantStatus(t, "GET "+path, res, http.StatusNotFound)
	}
}

// TestCompressedConditional checks that the ETag of a compressed response
// (a feed's, which ServeContent answers) works in conditional requests:
// a reader that holds the gzip of the current feed gets a 304.
func TestCompressedConditional(t *testing.T) {
	f := newFixture(t, testDBs()[0])
	srv := pageServer(t, f)
	plain, body := rawGet(t, srv.URL, "/feed.xml")
	etag := plain.Header.Get("ETag")
	if plain.StatusCode != http.StatusOK || etag == "" || len(body) < 1024 {
		t.Fatalf("GET /feed.xml = %d, ETag %q, %d bytes: want a feed worth compressing", plain.StatusCode, etag, len(body))
	}
	for _, coding := range []string{"gzip", "zstd"} {
		res, _ := rawGet(t, srv.URL, "/feed.xml", "Accept-Encoding", coding)
		tag := res.Header.Get("ETag")
		if res.Header.Get("Content-Encoding") != coding || tag != etag[:len(etag)-1]+"-"+coding+`"` {
			t.Fatalf("GET /feed.xml in %s: Content-Encoding %q, ETag %s; want %s and a suffix on %s", coding, res.Header.Get("Content-Encoding"), tag, coding, etag)
		}
		for _, tt := range []struct {
			accept, ifNoneMatch string
			want                int
			wantETag            string
		}{
			{coding, tag, http.StatusNotModified, tag},
			{coding, `"stale", ` + tag, http.StatusNotModified, tag},
			{coding, `W/` + tag, http.StatusNotModified, tag},
			{coding, etag, http.StatusNotModified, etag}, // the client holds the plain feed: that is what the 304 names
			{coding, `"0123456789abcdef-` + coding + `"`, http.StatusOK, tag},
			{"", tag, http.StatusNotModified, tag},
		} {
			res, body := rawGet(t, srv.URL, "/feed.xml", "Accept-Encoding", tt.accept, "If-None-Match", tt.ifNoneMatch)
			what := fmt.Sprintf("GET /feed.xml, Accept-Encoding %q, If-None-Match %s", tt.accept, tt.ifNoneMatch)
			wantStatus(t, what, res, tt.want)
			if tt.want == http.StatusNotModified && (len(body) != 0 || res.Header.Get("ETag") != tt.wantETag) {
				t.Errorf("%s: %d bytes, ETag %s; want none and %s", what, len(body), res.Header.Get("ETag"), tt.wantETag)
			}
		}
	}
	res, _ := rawGet(t, srv.URL, "/feed.xml", "If-None-Match", etag)
	wantStatus(t, "GET /feed.xml with its plain ETag", res, http.StatusNotModified)
	if res.Header.Get("ETag") != etag {
		t.Errorf("a 304 for the plain feed has ETag %s, want %s", res.Header.Get("ETag"), etag)
	}
}
