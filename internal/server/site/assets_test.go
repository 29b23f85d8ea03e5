package site

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/quill-blog/quill/web"
)

// TestCompressedCopies checks that every compressed copy embedded beside
// a static file (go generate ./web) is that file, compressed: a copy left
// behind by an update of the file fails here.
func TestCompressedCopies(t *testing.T) {
	copies := 0
	err := fs.WalkDir(web.Static, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isCompressedCopy(name) {
			return err
		}
		copies++
		original, err := fs.ReadFile(web.Static, name[:strings.LastIndexByte(name, '.')])
		if err != nil {
			t.Errorf("%s is a copy of no file: %v", name, err)
			return nil
		}
		compressed, err := fs.ReadFile(web.Static, name)
		if err != nil {
			return err
		}
		var r io.Reader
		if strings.HasSuffix(name, ".gz") {
			if r, err = gzip.NewReader(bytes.NewReader(compressed)); err != nil {
				t.Errorf("%s: %v", name, err)
				return nil
			}
		} else {
			r = brotli.NewReader(bytes.NewReader(compressed))
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Errorf("decompress %s: %v", name, err)
			return nil
		}
		if !bytes.Equal(got, original) {
			t.Errorf("%s does not decompress to its file (run go generate ./web)", name)
		}
		if len(compressed) >= len(original) {
			t.Errorf("%s is %d bytes, its file %d", name, len(compressed), len(original))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if copies < 4 {
		t.Errorf("%d compressed copies are embedded, want Swagger UI's script and stylesheet in br and gzip", copies)
	}
}

// TestAssets checks what each static file is served as.
func TestAssets(t *testing.T) {
	a := assets()
	for name, want := range map[string]struct {
		contentType string
		codings     []string
	}{
		"css/quill.css":                      {"text/css; charset=utf-8", []string{"gzip"}},
		"js/quill.js":                        {"text/javascript; charset=utf-8", []string{"gzip"}},
		"swagger-ui/swagger-ui-bundle.js":    {"text/javascript; charset=utf-8", []string{"br", "gzip"}},
		"swagger-ui/swagger-ui.css":          {"text/css; charset=utf-8", []string{"br", "gzip"}},
		"profile_pics/default.jpg":           {"image/jpeg", nil},
		"swagger-ui/VERSION":                 {"text/plain; charset=utf-8", nil}, // too small
		"swagger-ui/swagger-ui-bundle.js.br": {},                                 // a copy, not a file
	} {
		got := a[name]
		if want.contentType == "" {
			if got != nil {
				t.Errorf("%s is served as a file of its own", name)
			}
			continue
		}
		if got == nil {
			t.Errorf("%s is not served", name)
			continue
		}
		if got.contentType != want.contentType {
			t.Errorf("%s: Content-Type %q, want %q", name, got.contentType, want.contentType)
		}
		var codings []string
		for _, e := range got.encoded {
			codings = append(codings, e.coding)
		}
		if strings.Join(codings, ",") != strings.Join(want.codings, ",") {
			t.Errorf("%s: compressed as %q, want %q", name, codings, want.codings)
		}
	}
}

func TestPick(t *testing.T) {
	a := assets()["swagger-ui/swagger-ui-bundle.js"]
	for _, tt := range []struct{ accept, want string }{
		{"", ""},
		{"identity", ""},
		{"gzip, deflate", "gzip"},
		{"gzip, deflate, br, zstd", "br"},
		{"br;q=0.5, gzip", "gzip"},
		{"br;q=0, gzip;q=0", ""},
		{"*", "br"},
		{"zstd", ""},
	} {
		if got, _ := a.pick(tt.accept); got != tt.want {
			t.Errorf("pick(%q) = %q, want %q", tt.accept, got, tt.want)
		}
	}
}

func TestStaticURL(t *testing.T) {
	v := assets()["css/quill.css"].version
	for in, want := range map[string]string{
		"/static/css/quill.css":             "/static/css/quill.css?v=" + v,
		"/static/nothing.css":               "/static/nothing.css",
		"/media/profile_pics/0123abcd.jpg":  "/media/profile_pics/0123abcd.jpg",
		"/static/swagger-ui/swagger-ui.css": "/static/swagger-ui/swagger-ui.css?v=" + assets()["swagger-ui/swagger-ui.css"].version,
	} {
		if got := staticURL(in); got != want {
			t.Errorf("staticURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkLoadAssets measures what reading the static files costs the
// first server of a process: hashing them and gzipping the small ones.
func BenchmarkLoadAssets(b *testing.B) {
	fsys, err := fs.Sub(web.Static, "static")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := loadAssets(fsys); err != nil {
			b.Fatal(err)
		}
	}
}
