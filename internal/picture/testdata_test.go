package picture

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	pt "github.com/quill-blog/quill/internal/picture/picturetest"
)

var update = flag.Bool("update", false, "rewrite testdata: the WebP files (with cwebp and img2webp) and the fuzz seeds")

// TestTestdata rewrites testdata with -update (see testdata/README.md);
// without it, it checks that the committed WebP files are what their
// names say.
func TestTestdata(t *testing.T) {
	if *update {
		writeWebP(t)
		writeSeeds(t)
	}
	for _, tc := range []struct{ file, chunk string }{
		{"lossy.webp", "VP8 "},
		{"lossless.webp", "VP8L"},
		{"transparent.webp", "VP8X"},
		{"animated.webp", "VP8X"},
	} {
		b := readTestdata(t, tc.file)
		if len(b) < 16 || sniff(b) != formatWebP || string(b[12:16]) != tc.chunk {
			t.Errorf("testdata/%s: % x…, want a WebP file whose first chunk is %q", tc.file, b[:min(len(b), 16)], tc.chunk)
		}
	}
	if !animatedWebP(readTestdata(t, "animated.webp")) {
		t.Errorf("testdata/animated.webp is not animated")
	}
}

// writeWebP makes the WebP test files from PNGs of the test pattern with
// libwebp's tools (x/image has no WebP encoder).
func writeWebP(t *testing.T) {
	for _, tool := range []string{"cwebp", "img2webp"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("-update needs %s (Debian package webp): %v", tool, err)
		}
	}
	dir := t.TempDir()
	opaque := filepath.Join(dir, "quadrants.png")
	seeThrough := filepath.Join(dir, "transparent.png")
	other := filepath.Join(dir, "other.png")
	write(t, opaque, pt.PNG(pt.Quadrants(40, 30, pt.Upright)))
	write(t, seeThrough, pt.PNG(pt.Quadrants(40, 30, pt.Layout{pt.Clear, pt.Green, pt.Blue, pt.Yellow})))
	write(t, other, pt.PNG(pt.Quadrants(40, 30, pt.Layout{pt.Yellow, pt.Blue, pt.Green, pt.Red})))
	for _, cmd := range [][]string{
		{"cwebp", "-quiet", "-q", "90", opaque, "-o", "testdata/lossy.webp"},
		{"cwebp", "-quiet", "-lossless", opaque, "-o", "testdata/lossless.webp"},
		{"cwebp", "-quiet", "-q", "90", seeThrough, "-o", "testdata/transparent.webp"},
		{"img2webp", "-loop", "0", "-d", "100", "-lossy", opaque, other, "-o", "testdata/animated.webp"},
	} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, out)
		}
	}
}

// writeSeeds writes the seed corpus of FuzzProcess: small files of each
// format, with EXIF, and broken ones.
func writeSeeds(t *testing.T) {
	small := pt.Quadrants(8, 6, pt.Upright)
	jpg := pt.JPEG(small)
	png := pt.PNG(small)
	seeds := map[string][]byte{
		"jpeg":                   jpg,
		"jpeg-exif-6":            pt.WithOrientation(jpg, 6),
		"jpeg-exif-little-8":     pt.WithSegments(jpg, pt.ExifSegment(pt.TIFF(binary.LittleEndian, pt.Orientation(8)))),
		"jpeg-truncated":         jpg[:len(jpg)/2],
		"jpeg-header-on-garbage": append([]byte("\xFF\xD8\xFF\xE0"), bytes.Repeat([]byte("garbage!"), 8)...),
		"jpeg-huge":              pt.JPEGWithSize(jpg, 65535, 65535),
		"png":                    png,
		"png-alpha":              pt.PNG(pt.Quadrants(8, 6, pt.Layout{pt.Clear, pt.Green, pt.Blue, pt.Yellow})),
		"png-header-on-garbage":  append([]byte("\x89PNG\r\n\x1A\n"), bytes.Repeat([]byte("garbage!"), 8)...),
		"png-bomb-header":        append(pt.PNGHeader(20000, 20000, 1), bytes.Repeat([]byte{0}, 16)...),
		"png-truncated":          png[:len(png)/2],
		"gif":                    pt.GIF(small),
		"gif-animated":           pt.GIF(small, pt.Quadrants(8, 6, pt.Layout{pt.Yellow, pt.Blue, pt.Green, pt.Red})),
		"gif-huge-screen":        pt.GIFWithScreen(pt.GIF(small), 65535, 65535),
		"webp-lossy":             readTestdata(t, "lossy.webp"),
		"webp-lossless":          readTestdata(t, "lossless.webp"),
		"webp-alpha":             readTestdata(t, "transparent.webp"),
		"webp-animated":          readTestdata(t, "animated.webp"),
		"webp-huge":              pt.WebPBomb(16384, 16384),
		"garbage":                []byte("garbage"),
		"empty":                  {},
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzProcess")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range seeds {
		write(t, filepath.Join(dir, name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data))
	}
}

func write(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
