// Package picture turns an uploaded image into a profile picture: a
// 300×300 JPEG, centre-cropped, upright. It reads JPEG, PNG, GIF and WebP,
// recognised by their bytes, never by a file name or a declared type.
//
// It is its own package because it alone needs golang.org/x/image.
package picture

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"github.com/quill-blog/quill/internal/blog"
)

// Limits and output parameters.
const (
	Size      = 300        // output side, in pixels
	Quality   = 85         // output JPEG quality
	MaxBytes  = 5 << 20    // largest file accepted
	MaxPixels = 40_000_000 // largest image accepted, width × height
	// MaxSide is the longest side accepted: WebP's own limit, and beyond
	// any camera within MaxPixels; a 1×40,000,000 strip is not a picture.
	MaxSide = 16384
)

// Errors Process reports; all are 400s.
var (
	ErrEmpty        = invalid("empty_file", "File is empty")
	ErrFileTooLarge = invalid("file_too_large", "File is too large (max 5 MiB)")
	ErrNotImage     = invalid("not_an_image", "File is not a JPEG, PNG, GIF or WebP image")
	ErrTooLarge     = invalid("image_too_large", "Image is too large (max 40 megapixels)")
	ErrDimensions   = invalid("image_dimensions", fmt.Sprintf("Image sides must be between 1 and %d pixels", MaxSide))
	ErrCorrupt      = invalid("corrupt_image", "Image is corrupt or truncated")
	ErrAnimatedWebP = invalid("unsupported_image", "Animated WebP images are not supported")
)

func invalid(code, msg string) *blog.Error {
	return &blog.Error{Kind: blog.Invalid, Code: code, Message: msg}
}

// format is an image format Process reads.
type format struct {
	name         string
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
	// cost is the memory decode takes for a file (data) whose header
	// says w×h; see Cost.
	cost func(data []byte, w, h int64) int64
}

var (
	formatJPEG = &format{"jpeg", jpeg.DecodeConfig, jpeg.Decode, jpegCost}
	formatPNG  = &format{"png", png.DecodeConfig, png.Decode, pngCost}
	formatGIF  = &format{"gif", gif.DecodeConfig, gif.Decode, gifCost} // gif.Decode reads the first frame only
	formatWebP = &format{"webp", webp.DecodeConfig, webp.Decode, webpCost}
)

// sniff recognises the format from the file's first bytes, or returns nil.
// The decoders are called directly, not through image.Decode, so no
// other registered format can slip in.
func sniff(b []byte) *format {
	switch {
	case bytes.HasPrefix(b, []byte("\xFF\xD8\xFF")):
		return formatJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1A\n")):
		return formatPNG
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return formatGIF
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return formatWebP
	}
	return nil
}

// Process checks an uploaded file and returns the profile picture made of
// it: a Size×Size JPEG of its centre square, turned upright as its EXIF
// Orientation says, transparent areas on white, with no metadata kept
// (no EXIF, so no GPS position). Every refusal is a *blog.Error of kind
// Invalid saying what is wrong.
//
// The dimensions and the memory decoding would take are worked out from
// the header and checked before anything is decoded, so a small file
// that claims a huge image (a decompression bomb) costs nothing, and an
// accepted one takes at most Cost(data) ≤ MaxCost bytes: callers bound
// how many run at once by the sum of their costs.
func Process(data []byte) ([]byte, error) {
	f, cfg, _, err := inspect(data)
	if err != nil {
		return nil, err
	}
	img, err := f.decode(bytes.NewReader(data))
	if err != nil {
		if f == formatWebP && animatedWebP(data) {
			return nil, ErrAnimatedWebP
		}
		return nil, ErrCorrupt
	}
	b := img.Bounds()
	if b.Empty() || b.Dx() > cfg.Width || b.Dy() > cfg.Height {
		return nil, ErrCorrupt // the decoder disagrees with the header
	}
	out := thumbnail(img)
	if f == formatJPEG {
		out = orient(out, orientation(data))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: Quality}); err != nil {
		return nil, fmt.Errorf("encode picture: %w", err)
	}
	return buf.Bytes(), nil
}

// inspect reads data's header and checks it: its format, its image
// config and the memory decoding it would take (see Cost).
func inspect(data []byte) (*format, image.Config, int64, error) {
	switch {
	case len(data) == 0:
		return nil, image.Config{}, 0, ErrEmpty
	case len(data) > MaxBytes:
		return nil, image.Config{}, 0, ErrFileTooLarge
	}
	f := sniff(data)
	if f == nil {
		return nil, image.Config{}, 0, ErrNotImage
	}
	cfg, err := f.decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, image.Config{}, 0, ErrCorrupt
	}
	if err := checkDimensions(cfg.Width, cfg.Height); err != nil {
		return nil, image.Config{}, 0, err
	}
	n := cost(f, data, cfg.Width, cfg.Height)
	if n > MaxCost {
		return nil, image.Config{}, n, ErrTooCostly
	}
	return f, cfg, n, nil
}

func checkDimensions(w, h int) error {
	switch {
	case w < 1 || h < 1:
		return ErrDimensions
	case int64(w)*int64(h) > MaxPixels:
		return ErrTooLarge
	case w > MaxSide || h > MaxSide:
		return ErrDimensions
	}
	return nil
}

// resampler is the interpolator that shrinks (or enlarges) the centre
// square. Catmull-Rom is a real filter, its support widened by the scale
// factor, so fine detail averages out instead of aliasing into moiré; see
// BenchmarkResize for its cost against ApproxBiLinear.
var resampler draw.Interpolator = draw.CatmullRom

// thumbnail returns the centre square of img scaled to Size×Size, drawn
// over white: JPEG has no alpha, and black is a poor default for the
// transparent corners of a logo.
func thumbnail(img image.Image) *image.RGBA {
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-side)/2
	y0 := b.Min.Y + (b.Dy()-side)/2
	square := image.Rect(x0, y0, x0+side, y0+side)

	dst := image.NewRGBA(image.Rect(0, 0, Size, Size))
	op := draw.Src
	if !opaque(img) {
		draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		op = draw.Over
	}
	resampler.Scale(dst, dst.Bounds(), img, square, op, nil)
	return dst
}

// opaque reports, cheaply, whether img's type cannot hold transparency.
// Types that can are drawn over white, which is right for them too when
// every pixel happens to be opaque.
func opaque(img image.Image) bool {
	switch img.(type) {
	case *image.YCbCr, *image.Gray, *image.Gray16, *image.CMYK:
		return true
	}
	return false
}

// orient returns the square m turned as EXIF orientation o says the stored
// pixels must be turned to show upright (o = 1 or unknown: unchanged).
// Turning the final square is the same as turning the original first
// (centre crop and scaling commute with the eight symmetries of a square)
// and costs 300×300 pixels instead of up to 40 million.
func orient(m *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return m
	}
	n := m.Bounds().Dx()
	out := image.NewRGBA(m.Bounds())
	for y := range n {
		for x := range n {
			// (sx, sy) is the stored pixel shown at (x, y).
			var sx, sy int
			switch o {
			case 2: // mirrored left to right
				sx, sy = n-1-x, y
			case 3: // upside down
				sx, sy = n-1-x, n-1-y
			case 4: // mirrored top to bottom
				sx, sy = x, n-1-y
			case 5: // transposed
				sx, sy = y, x
			case 6: // to be turned 90° clockwise
				sx, sy = y, n-1-x
			case 7: // transversed
				sx, sy = n-1-y, n-1-x
			case 8: // to be turned 90° anticlockwise
				sx, sy = n-1-y, x
			}
			copy(out.Pix[out.PixOffset(x, y):][:4], m.Pix[m.PixOffset(sx, sy):][:4])
		}
	}
	return out
}

// animatedWebP reports whether a WebP file says it is animated (VP8X
// flags), which golang.org/x/image/webp cannot decode.
func animatedWebP(b []byte) bool {
	const animationBit = 1 << 1
	return len(b) >= 21 && string(b[12:16]) == "VP8X" && b[20]&animationBit != 0
}
