package picture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/image/draw"

	"github.com/quill-blog/quill/internal/blog"
	pt "github.com/quill-blog/quill/internal/picture/picturetest"
)

// checkPicture checks that out is a Size×Size JPEG showing want.
func checkPicture(tb testing.TB, out []byte, want pt.Layout) {
	tb.Helper()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(out))
	if err != nil || format != "jpeg" || cfg.Width != Size || cfg.Height != Size {
		tb.Fatalf("output: %s %d×%d (%v), want a %d×%d jpeg", format, cfg.Width, cfg.Height, err, Size, Size)
	}
	m, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		tb.Fatal(err)
	}
	pt.CheckQuadrants(tb, m, want)
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestProcessFormats(t *testing.T) {
	photo := pt.Quadrants(400, 300, pt.Upright)
	grey := color.NRGBA{0x80, 0x80, 0x80, 0xFF}
	tests := []struct {
		name string
		data func(tb testing.TB) []byte
		want pt.Layout
	}{
		{"jpeg", func(tb testing.TB) []byte { return pt.JPEG(photo) }, pt.Upright},
		{"jpeg, tall", func(tb testing.TB) []byte { return pt.JPEG(pt.Quadrants(300, 500, pt.Upright)) }, pt.Upright},
		{"jpeg, grayscale", func(tb testing.TB) []byte {
			g := image.NewGray(image.Rect(0, 0, 64, 64))
			for i := range g.Pix {
				g.Pix[i] = 0x80
			}
			return pt.JPEG(g)
		}, pt.Layout{grey, grey, grey, grey}},
		{"png", func(tb testing.TB) []byte { return pt.PNG(photo) }, pt.Upright},
		{"png, smaller than the output", func(tb testing.TB) []byte { return pt.PNG(pt.Quadrants(40, 30, pt.Upright)) }, pt.Upright},
		{"png, 1×1", func(tb testing.TB) []byte { return pt.PNG(pt.Quadrants(1, 1, pt.Upright)) }, pt.Layout{pt.Yellow, pt.Yellow, pt.Yellow, pt.Yellow}},
		{"png, 16-bit", func(tb testing.TB) []byte {
			m := image.NewNRGBA64(photo.Bounds())
			draw.Draw(m, m.Bounds(), photo, image.Point{}, draw.Src)
			return pt.PNG(m)
		}, pt.Upright},
		{"png, paletted", func(tb testing.TB) []byte {
			m := image.NewPaletted(photo.Bounds(), color.Palette{pt.Red, pt.Green, pt.Blue, pt.Yellow})
			draw.Draw(m, m.Bounds(), photo, image.Point{}, draw.Src)
			return pt.PNG(m)
		}, pt.Upright},
		{"gif", func(tb testing.TB) []byte { return pt.GIF(photo) }, pt.Upright},
		{"gif, animated: the first frame", func(tb testing.TB) []byte {
			return pt.GIF(photo, pt.Quadrants(400, 300, pt.Layout{pt.Yellow, pt.Blue, pt.Green, pt.Red}))
		}, pt.Upright},
		{"webp, lossy (VP8)", func(tb testing.TB) []byte { return readTestdata(tb, "lossy.webp") }, pt.Upright},
		{"webp, lossless (VP8L)", func(tb testing.TB) []byte { return readTestdata(tb, "lossless.webp") }, pt.Upright},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Process(tc.data(t))
			if err != nil {
				t.Fatalf("Process() = %v", err)
			}
			checkPicture(t, out, tc.want)
		})
	}
}

// TestProcessTransparency checks that transparent pixels come out white,
// not black.
func TestProcessTransparency(t *testing.T) {
	seeThrough := pt.Layout{pt.Clear, pt.Green, pt.Blue, pt.Yellow}
	want := pt.Layout{pt.White, pt.Green, pt.Blue, pt.Yellow}
	for _, tc := range []struct {
		name string
		data func(tb testing.TB) []byte
	}{
		{"png", func(tb testing.TB) []byte { return pt.PNG(pt.Quadrants(400, 300, seeThrough)) }},
		{"webp, lossy with alpha (VP8X, ALPH)", func(tb testing.TB) []byte { return readTestdata(tb, "transparent.webp") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Process(tc.data(t))
			if err != nil {
				t.Fatalf("Process() = %v", err)
			}
			checkPicture(t, out, want)
		})
	}
}

// TestProcessOrientation writes the pattern as a camera held in each of
// the eight ways stores it, with the EXIF Orientation that says so, and
// checks the picture comes out upright. The stored layouts are written
// out by hand from the EXIF definition, not computed by the code under
// test: for 6, the stored image is to be turned 90° clockwise, so its
// left column, bottom to top, is the top row shown.
func TestProcessOrientation(t *testing.T) {
	r, g, b, y := pt.Red, pt.Green, pt.Blue, pt.Yellow
	tests := []struct {
		orientation uint16
		w, h        int
		stored      pt.Layout
	}{
		{1, 200, 150, pt.Layout{r, g, b, y}},
		{2, 200, 150, pt.Layout{g, r, y, b}}, // mirrored left to right
		{3, 200, 150, pt.Layout{y, b, g, r}}, // upside down
		{4, 200, 150, pt.Layout{b, y, r, g}}, // mirrored top to bottom
		{5, 150, 200, pt.Layout{r, b, g, y}}, // transposed
		{6, 150, 200, pt.Layout{g, y, r, b}}, // the camera was turned clockwise
		{7, 150, 200, pt.Layout{y, g, b, r}}, // transversed
		{8, 150, 200, pt.Layout{b, r, y, g}}, // the camera was turned anticlockwise
		{0, 200, 150, pt.Layout{r, g, b, y}}, // invalid: as stored
		{9, 200, 150, pt.Layout{r, g, b, y}}, // invalid: as stored
	}
	for _, tc := range tests {
		for _, order := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
			t.Run(fmt.Sprintf("%d %v", tc.orientation, order), func(t *testing.T) {
				jpg := pt.JPEG(pt.Quadrants(tc.w, tc.h, tc.stored))
				exif := pt.TIFF(order, pt.Entry{Tag: pt.TagMake, Type: pt.TypeASCII, Count: 4}, pt.Orientation(tc.orientation))
				out, err := Process(pt.WithSegments(jpg, pt.ExifSegment(exif)))
				if err != nil {
					t.Fatalf("Process() = %v", err)
				}
				checkPicture(t, out, pt.Upright)
				if bytes.Contains(out, []byte("Exif")) {
					t.Errorf("the output keeps the EXIF segment")
				}
			})
		}
	}
}

// TestProcessRefuses checks every kind of bad file gets its own clear
// error, and that decompression bombs are refused before they are decoded.
func TestProcessRefuses(t *testing.T) {
	small := pt.Quadrants(40, 30, pt.Upright)
	pngData := pt.PNG(small)
	jpgData := pt.JPEG(small)
	gifData := pt.GIF(small)
	webpData := readTestdata(t, "lossy.webp")
	garbage := bytes.Repeat([]byte("garbage!"), 100)

	tests := []struct {
		name string
		data []byte
		want *blog.Error
	}{
		{"nothing", nil, ErrEmpty},
		{"empty", []byte{}, ErrEmpty},
		{"over 5 MiB", append(bytes.Clone(pngData), make([]byte, MaxBytes)...), ErrFileTooLarge},
		{"text", []byte("hello, world\n"), ErrNotImage},
		{"html", []byte("<!doctype html><script>alert(1)</script>"), ErrNotImage},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), ErrNotImage},
		{"bmp", []byte("BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), ErrNotImage},
		{"a jpeg without its third byte", jpgData[:2], ErrNotImage},
		{"a RIFF that is not WebP", []byte("RIFF\x00\x01\x00\x00WAVEfmt "), ErrNotImage},
		{"a png signature alone", []byte("\x89PNG\r\n\x1A\n"), ErrCorrupt},
		{"a png header on garbage", append([]byte("\x89PNG\r\n\x1A\n"), garbage...), ErrCorrupt},
		{"a jpeg header on garbage", append([]byte("\xFF\xD8\xFF\xE0"), garbage...), ErrCorrupt},
		{"a gif header on garbage", append([]byte("GIF89a\x28\x00\x1E\x00"), garbage...), ErrCorrupt},
		{"a gif header claiming 25191×25202", append([]byte("GIF89a"), garbage...), ErrTooLarge},
		{"a webp header on garbage", append([]byte("RIFF\x00\x01\x00\x00WEBP"), garbage...), ErrCorrupt},
		{"a png IHDR on garbage", append(pt.PNGHeader(40, 30, 8), garbage...), ErrCorrupt},
		{"truncated png", pngData[:len(pngData)/2], ErrCorrupt},
		{"truncated jpeg", jpgData[:len(jpgData)/2], ErrCorrupt},
		{"truncated gif", gifData[:len(gifData)/2], ErrCorrupt},
		{"truncated webp", webpData[:len(webpData)/2], ErrCorrupt},
		{"png 20000×20000", pt.PNGBomb(20000, 20000), ErrTooLarge},
		{"png 6325×6325, just over 40 megapixels", pt.PNGBomb(6325, 6325), ErrTooLarge},
		{"png 16385×1", pt.PNGBomb(16385, 1), ErrDimensions},
		{"png 1×16385", pt.PNGBomb(1, 16385), ErrDimensions},
		{"png 0×10", pt.PNGHeader(0, 10, 8), ErrCorrupt}, // png.DecodeConfig refuses it first
		{"jpeg 65535×65535", pt.JPEGWithSize(jpgData, 65535, 65535), ErrTooLarge},
		{"gif 65535×65535", pt.GIFWithScreen(gifData, 65535, 65535), ErrTooLarge},
		{"webp 16384×16384", pt.WebPBomb(16384, 16384), ErrTooLarge},
		{"progressive CMYK jpeg 6320×6320, within 40 megapixels", pt.ProgressiveJPEG(6320, 6320, 4), ErrTooCostly},
		{"webp, animated", readTestdata(t, "animated.webp"), ErrAnimatedWebP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			out, err := Process(tc.data)
			runtime.ReadMemStats(&after)
			var e *blog.Error
			if !errors.As(err, &e) || e != tc.want {
				t.Fatalf("Process() = %d bytes, %v, want %v", len(out), err, tc.want)
			}
			if e.Kind != blog.Invalid || e.Code == "" || e.Message == "" {
				t.Errorf("Process() error = %+v, want kind Invalid with a code and a message", e)
			}
			// Refusing costs next to nothing: the bombs were not decoded
			// (20000×20000 would be 400 MB at least). Tests in this
			// package do not run in parallel, so the count is this call's.
			if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
				t.Errorf("Process() allocated %d MiB to refuse", n>>20)
			}
		})
	}
}

// TestBombsAreValid checks the bombs of TestProcessRefuses are real: the
// decoder would accept them, so only the size check stands in the way.
func TestBombsAreValid(t *testing.T) {
	m, err := formatPNG.decode(bytes.NewReader(pt.PNGBomb(3000, 2000)))
	if err != nil || m.Bounds() != image.Rect(0, 0, 3000, 2000) {
		t.Fatalf("decode(PNGBomb(3000, 2000)) = %v, %v, want a 3000×2000 image", m.Bounds(), err)
	}
}

// TestOrientation checks the EXIF parser on well-formed and malformed
// input. Anything it cannot read with certainty means "as stored" (1).
func TestOrientation(t *testing.T) {
	jpg := pt.JPEG(pt.Quadrants(8, 8, pt.Upright))
	be, le := binary.BigEndian, binary.LittleEndian
	exif := func(order binary.ByteOrder, entries ...pt.Entry) []byte {
		return pt.WithSegments(jpg, pt.ExifSegment(pt.TIFF(order, entries...)))
	}
	valid := pt.ExifSegment(pt.TIFF(be, pt.Orientation(6)))
	xmp := pt.Segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"))
	maker := pt.Entry{Tag: pt.TagMake, Type: pt.TypeASCII, Count: 4}
	type test struct {
		name string
		data []byte
		want int
	}
	tests := []test{
		{"no exif", jpg, 1},
		{"big-endian", exif(be, pt.Orientation(6)), 6},
		{"little-endian", exif(le, pt.Orientation(8)), 8},
		{"after another tag", exif(le, maker, pt.Orientation(3)), 3},
		{"the first of two", exif(be, pt.Orientation(5), pt.Orientation(7)), 5},
		{"after an XMP APP1 segment", pt.WithSegments(jpg, xmp, valid), 6},
		{"the first exif segment wins", pt.WithSegments(jpg, pt.ExifSegment(pt.TIFF(be, pt.Orientation(2))), valid), 2},
		{"after fill bytes", pt.WithSegments(jpg, []byte{0xFF, 0xFF}, valid), 6},
		{"after JFIF APP0", pt.WithSegments(jpg, pt.Segment(0xE0, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")), valid), 6},
		{"only after the first scan", append(bytes.Clone(jpg[:len(jpg)-2]), append(bytes.Clone(valid), 0xFF, 0xD9)...), 1},
		{"value 0", exif(be, pt.Orientation(0)), 1},
		{"value 9", exif(be, pt.Orientation(9)), 1},
		{"value 0x0106", exif(be, pt.Orientation(0x0106)), 1},
		{"type LONG", exif(be, pt.Entry{Tag: pt.TagOrientation, Type: pt.TypeLong, Count: 1, Value: 6}), 1},
		{"count 2", exif(be, pt.Entry{Tag: pt.TagOrientation, Type: pt.TypeShort, Count: 2, Value: 6}), 1},
		{"count 0", exif(be, pt.Entry{Tag: pt.TagOrientation, Type: pt.TypeShort, Count: 0, Value: 6}), 1},
		{"not a jpeg", []byte("\x89PNG\r\n\x1A\n"), 1},
		{"empty", nil, 1},
		{"SOI only", []byte{0xFF, 0xD8}, 1},
		{"a segment length past the end", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x', 'i', 'f', 0, 0}, 1},
		{"a segment length of 0", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x00, 0xFF, 0xE1}, 1},
		{"a segment length of 1", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01, 0xFF, 0xE1}, 1},
		{"no marker after a segment", []byte{0xFF, 0xD8, 0x00, 0xE1, 0x00, 0x08}, 1},
		{"a marker cut in half", []byte{0xFF, 0xD8, 0xFF}, 1},
		{"a length cut in half", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00}, 1},
		{"fill bytes to the end", append([]byte{0xFF, 0xD8}, bytes.Repeat([]byte{0xFF}, 100)...), 1},
	}
	// Malformed TIFF structures in an otherwise valid Exif segment.
	tiff := pt.TIFF(be, pt.Orientation(6))
	for _, m := range []struct {
		name string
		edit func(t []byte) []byte
	}{
		{"unknown byte order", func(t []byte) []byte { t[0], t[1] = 'X', 'X'; return t }},
		{"mixed byte order", func(t []byte) []byte { t[0] = 'I'; return t }},
		{"magic 43", func(t []byte) []byte { t[3] = 43; return t }},
		{"IFD offset 0", func(t []byte) []byte { be.PutUint32(t[4:], 0); return t }},
		{"IFD offset inside the header", func(t []byte) []byte { be.PutUint32(t[4:], 4); return t }},
		{"IFD offset past the end", func(t []byte) []byte { be.PutUint32(t[4:], uint32(len(t))); return t }},
		{"IFD offset at the end, less 1", func(t []byte) []byte { be.PutUint32(t[4:], uint32(len(t)-1)); return t }},
		{"IFD offset 2^32-1", func(t []byte) []byte { be.PutUint32(t[4:], 0xFFFFFFFF); return t }},
		{"entry count past the end", func(t []byte) []byte { be.PutUint16(t[8:], 2); return t[:8+2+12] }},
		{"entry count 65535", func(t []byte) []byte { be.PutUint16(t[8:], 0xFFFF); return t }},
		{"cut inside the entry", func(t []byte) []byte { return t[:8+2+11] }},
		{"cut inside the header", func(t []byte) []byte { return t[:7] }},
	} {
		tests = append(tests, test{m.name, pt.WithSegments(jpg, pt.ExifSegment(m.edit(bytes.Clone(tiff)))), 1})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := orientation(tc.data); got != tc.want {
				t.Errorf("orientation(% x…) = %d, want %d", tc.data[:min(len(tc.data), 48)], got, tc.want)
			}
		})
	}
}

// TestResamplerAliasing is why the resampler is Catmull-Rom: a one-pixel
// checkerboard shrunk 5× must come out flat grey. ApproxBiLinear reads
// four source pixels per output pixel, and shows stripes instead.
func TestResamplerAliasing(t *testing.T) {
	src := image.NewGray(image.Rect(0, 0, 1500, 1500))
	for y := range 1500 {
		for x := range 1500 {
			if (x+y)%2 == 0 {
				src.Pix[y*src.Stride+x] = 0xFF
			}
		}
	}
	out, err := Process(pt.PNG(src))
	if err != nil {
		t.Fatal(err)
	}
	m, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := 255, 0
	for y := 10; y < Size-10; y++ {
		for x := 10; x < Size-10; x++ {
			g := int(color.GrayModel.Convert(m.At(x, y)).(color.Gray).Y)
			lo, hi = min(lo, g), max(hi, g)
		}
	}
	if hi-lo > 8 {
		t.Errorf("a shrunk one-pixel checkerboard ranges over grey %d…%d, want flat", lo, hi)
	}
}

// FuzzProcess feeds arbitrary bytes to the upload path: it must never
// panic, and must either make a Size×Size JPEG or refuse with one of its
// own 400 errors. The seeds in testdata/fuzz/FuzzProcess are small files
// of every format, with and without EXIF, and broken ones.
func FuzzProcess(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Process(data)
		if err != nil {
			var e *blog.Error
			if !errors.As(err, &e) || e.Kind != blog.Invalid {
				t.Fatalf("Process() = %v (%T), want a *blog.Error of kind Invalid", err, err)
			}
			return
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(out))
		if err != nil || cfg.Width != Size || cfg.Height != Size {
			t.Fatalf("Process() output is %d×%d (%v), want a %d×%d jpeg", cfg.Width, cfg.Height, err, Size, Size)
		}
	})
}

// FuzzOrientation checks the EXIF parser on arbitrary bytes, taken both
// as a whole file and as the TIFF structure of an Exif segment.
func FuzzOrientation(f *testing.F) {
	f.Add(pt.TIFF(binary.BigEndian, pt.Orientation(6)))
	f.Add(pt.TIFF(binary.LittleEndian, pt.Entry{Tag: pt.TagMake, Type: pt.TypeASCII, Count: 4}, pt.Orientation(8)))
	f.Add(pt.WithOrientation([]byte{0xFF, 0xD8, 0xFF, 0xD9}, 3))
	f.Fuzz(func(t *testing.T, data []byte) {
		asSegment := pt.WithSegments([]byte{0xFF, 0xD8}, pt.ExifSegment(data[:min(len(data), 0xFFF0)]))
		for _, b := range [][]byte{data, asSegment} {
			if o := orientation(b); o < 1 || o > 8 {
				t.Fatalf("orientation() = %d, want 1…8", o)
			}
		}
	})
}

// BenchmarkProcess measures a whole upload (decode, crop, resize, encode)
// with each resampler, on photos of 12 and 40 megapixels (JPEGs of about
// 1.5 and 4.5 MB).
func BenchmarkProcess(b *testing.B) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"12MP", 4000, 3000}, {"40MP", 7744, 5163}} {
		photo := pt.JPEG(noise(size.w, size.h))
		for _, r := range []struct {
			name string
			r    draw.Interpolator
		}{{"CatmullRom", draw.CatmullRom}, {"ApproxBiLinear", draw.ApproxBiLinear}} {
			b.Run(size.name+"/"+r.name, func(b *testing.B) {
				defer func(old draw.Interpolator) { resampler = old }(resampler)
				resampler = r.r
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Process(photo); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// noise is a w×h image of gradients with pseudo-random speckle, so it
// compresses like a photo rather than like a flat colour.
func noise(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	var s uint32 = 1
	for y := range h {
		for x := range w {
			s = s*1664525 + 1013904223
			i := m.PixOffset(x, y)
			m.Pix[i+0] = uint8(x*255/w) ^ uint8(s>>30)
			m.Pix[i+1] = uint8(y*255/h) ^ uint8(s>>27)&0x03
			m.Pix[i+2] = uint8((x+y)*255/(w+h)) ^ uint8(s>>24)&0x03
			m.Pix[i+3] = 0xFF
		}
	}
	return m
}
