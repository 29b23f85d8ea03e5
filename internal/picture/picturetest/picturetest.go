// Package picturetest makes test images for package picture and for the
// HTTP tests of picture uploads: a pattern whose orientation can be told
// from its pixels, files in each format, EXIF segments, and decompression
// bombs. It is for tests only.
package picturetest

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

// Colours of the test pattern.
var (
	Red    = color.NRGBA{0xE0, 0x10, 0x10, 0xFF}
	Green  = color.NRGBA{0x10, 0xC0, 0x10, 0xFF}
	Blue   = color.NRGBA{0x10, 0x10, 0xE0, 0xFF}
	Yellow = color.NRGBA{0xF0, 0xE0, 0x10, 0xFF}
	White  = color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
	Clear  = color.NRGBA{}
)

// Layout is the colour of each quadrant of the pattern: top left, top
// right, bottom left, bottom right.
type Layout [4]color.NRGBA

// Upright is the pattern as it must be shown. Its four colours differ, so
// each of the eight ways to turn or mirror it gives a different layout.
var Upright = Layout{Red, Green, Blue, Yellow}

// Quadrants draws a w×h image in the colours of l.
func Quadrants(w, h int, l Layout) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			q := 0
			if x >= w/2 {
				q++
			}
			if y >= h/2 {
				q += 2
			}
			m.SetNRGBA(x, y, l[q])
		}
	}
	return m
}

// CheckQuadrants checks that the square picture m shows the colours of
// want, near the middle of each quadrant, within lossy compression's
// error.
func CheckQuadrants(tb testing.TB, m image.Image, want Layout) {
	tb.Helper()
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	probes := [4]image.Point{{w / 4, h / 4}, {3 * w / 4, h / 4}, {w / 4, 3 * h / 4}, {3 * w / 4, 3 * h / 4}}
	names := [4]string{"top left", "top right", "bottom left", "bottom right"}
	for i, p := range probes {
		p = p.Add(b.Min)
		if got := color.NRGBAModel.Convert(m.At(p.X, p.Y)).(color.NRGBA); !near(got, want[i]) {
			tb.Errorf("%s quadrant at %v = %v, want %v", names[i], p, got, want[i])
		}
	}
}

func near(a, b color.NRGBA) bool {
	d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(a.R, b.R) < 24 && d(a.G, b.G) < 24 && d(a.B, b.B) < 24
}

// The encoders below panic on errors, which encoding an in-memory image
// into memory does not have; they need no testing.TB, so scenario tables
// can be built with them.

// JPEG encodes m at quality 95.
func JPEG(m image.Image) []byte {
	var b bytes.Buffer
	must(jpeg.Encode(&b, m, &jpeg.Options{Quality: 95}))
	return b.Bytes()
}

// PNG encodes m.
func PNG(m image.Image) []byte {
	var b bytes.Buffer
	must(png.Encode(&b, m))
	return b.Bytes()
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// gifPalette has the pattern's colours, so GIFs of it are exact.
var gifPalette = color.Palette{Red, Green, Blue, Yellow, White, Clear, color.Black}

// GIF encodes the frames as an animated GIF (one frame: a still one).
func GIF(frames ...image.Image) []byte {
	g := &gif.GIF{}
	for _, f := range frames {
		p := image.NewPaletted(f.Bounds(), gifPalette)
		draw.Draw(p, p.Bounds(), f, f.Bounds().Min, draw.Src)
		g.Image = append(g.Image, p)
		g.Delay = append(g.Delay, 10)
	}
	var b bytes.Buffer
	must(gif.EncodeAll(&b, g))
	return b.Bytes()
}

// EXIF tag numbers and types.
const (
	TagOrientation = 0x0112
	TagMake        = 0x010F
	TypeASCII      = 2
	TypeShort      = 3
	TypeLong       = 4
)

// Entry is one IFD entry: tag, type, count and value (a SHORT value is
// written left-justified in the value field, as TIFF says).
type Entry struct {
	Tag, Type uint16
	Count     uint32
	Value     uint32
}

// Orientation is the Orientation entry with value o.
func Orientation(o uint16) Entry {
	return Entry{Tag: TagOrientation, Type: TypeShort, Count: 1, Value: uint32(o)}
}

// TIFF is a TIFF structure in the given byte order whose IFD0 holds
// entries, as an Exif APP1 segment carries it.
func TIFF(byteOrder binary.ByteOrder, entries ...Entry) []byte {
	order := byteOrder.(binary.AppendByteOrder) // both of encoding/binary's are
	var t []byte
	if byteOrder == binary.LittleEndian {
		t = append(t, "II"...)
	} else {
		t = append(t, "MM"...)
	}
	t = order.AppendUint16(t, 42)
	t = order.AppendUint32(t, 8)
	t = order.AppendUint16(t, uint16(len(entries)))
	for _, e := range entries {
		t = order.AppendUint16(t, e.Tag)
		t = order.AppendUint16(t, e.Type)
		t = order.AppendUint32(t, e.Count)
		if e.Type == TypeShort {
			t = order.AppendUint16(t, uint16(e.Value))
			t = append(t, 0, 0)
		} else {
			t = order.AppendUint32(t, e.Value)
		}
	}
	return order.AppendUint32(t, 0) // no IFD1
}

// ExifSegment is an APP1 segment holding the TIFF structure tiff.
func ExifSegment(tiff []byte) []byte {
	return Segment(0xE1, append([]byte("Exif\x00\x00"), tiff...))
}

// Segment is a JPEG marker segment with its length.
func Segment(marker byte, payload []byte) []byte {
	s := []byte{0xFF, marker}
	s = binary.BigEndian.AppendUint16(s, uint16(len(payload)+2))
	return append(s, payload...)
}

// WithSegments inserts segments right after a JPEG's SOI marker.
func WithSegments(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

// WithOrientation is jpg with an Exif segment saying orientation o.
func WithOrientation(jpg []byte, o uint16) []byte {
	return WithSegments(jpg, ExifSegment(TIFF(binary.BigEndian, Orientation(o))))
}

// PNGBomb is a valid PNG of w×h black pixels (1-bit grayscale) that is
// about w×h/8000 bytes long, and decodes to w×h bytes: 20000×20000 is
// 50 kB of file for 400 MB of image. The compressed rows are made once
// and repeated, so making it is cheap too.
func PNGBomb(w, h int) []byte {
	rowLen := 1 + (w+7)/8 // a filter byte, then 1 bit per pixel
	rows := max(1, (1<<20)/rowLen)
	block := deflateZeros(rows*rowLen, false)
	var z bytes.Buffer
	z.Write([]byte{0x78, 0xDA}) // zlib header: deflate, 32K window, best compression
	for range h / rows {
		z.Write(block)
	}
	z.Write(deflateZeros((h%rows)*rowLen, true))
	// Adler-32 of n zero bytes: a = 1, b = n (mod 65521).
	n := uint64(rowLen) * uint64(h)
	z.Write(binary.BigEndian.AppendUint32(nil, uint32(n%65521)<<16|1))

	b := PNGHeader(w, h, 1)
	b = append(b, PNGChunk("IDAT", z.Bytes())...)
	return append(b, PNGChunk("IEND", nil)...)
}

// deflateZeros is a raw deflate stream of n zeros, ending on a byte
// boundary (sync flush) so copies of it can follow each other, or the
// final block of a stream.
func deflateZeros(n int, final bool) []byte {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression) // the level is valid
	fw.Write(make([]byte, n))
	if final {
		fw.Close()
	} else {
		fw.Flush()
	}
	return b.Bytes()
}

// PNGHeader is a PNG signature and the IHDR chunk of a w×h grayscale
// image of the given bit depth.
func PNGHeader(w, h int, depth byte) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, depth, 0, 0, 0, 0) // grayscale, deflate, adaptive filters, no interlace
	return append([]byte("\x89PNG\r\n\x1A\n"), PNGChunk("IHDR", ihdr)...)
}

// PNGChunk is a PNG chunk with its length and CRC.
func PNGChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// JPEGWithSize rewrites the frame size in a baseline JPEG's SOF0 segment:
// a small file that claims a huge image.
func JPEGWithSize(jpg []byte, w, h int) []byte {
	out := bytes.Clone(jpg)
	i := bytes.Index(out, []byte{0xFF, 0xC0})
	if i < 0 {
		panic("no SOF0 segment")
	}
	// FF C0, length (2), precision (1), height (2), width (2).
	binary.BigEndian.PutUint16(out[i+5:], uint16(h))
	binary.BigEndian.PutUint16(out[i+7:], uint16(w))
	return out
}

// GIFWithScreen rewrites a GIF's logical screen size.
func GIFWithScreen(g []byte, w, h int) []byte {
	out := bytes.Clone(g)
	binary.LittleEndian.PutUint16(out[6:], uint16(w))
	binary.LittleEndian.PutUint16(out[8:], uint16(h))
	return out
}

// WebPBomb is a lossless WebP file whose header claims a w×h image
// (w, h ≤ 16384) followed by garbage.
func WebPBomb(w, h int) []byte {
	// VP8L header: signature 0x2F, then 14 bits width-1, 14 bits height-1,
	// 1 bit alpha, 3 bits version 0 (little-endian bit order).
	bits := uint32(w-1) | uint32(h-1)<<14
	vp8l := []byte{0x2F}
	vp8l = binary.LittleEndian.AppendUint32(vp8l, bits)
	vp8l = append(vp8l, bytes.Repeat([]byte{0x5A}, 64)...)
	chunk := append([]byte("VP8L"), binary.LittleEndian.AppendUint32(nil, uint32(len(vp8l)))...)
	chunk = append(chunk, vp8l...)
	riff := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(chunk)))...)
	riff = append(riff, "WEBP"...)
	return append(riff, chunk...)
}

// ProgressiveJPEG is a valid progressive JPEG (SOF2) of w×h mid-grey
// pixels with nComp components (1, 3, or 4: Adobe CMYK), each sampled
// 1×1. Its single scan is the first DC scan of every component, one bit
// a block ("no change"), so the file is about w×h×nComp/512 bytes: a
// 6320×6320 CMYK one is 312 KB, while image/jpeg keeps 256 bytes of
// coefficients per block until the end.
func ProgressiveJPEG(w, h, nComp int) []byte {
	b := []byte{0xFF, 0xD8}
	if nComp == 4 {
		// Adobe APP14: version 100, no flags, transform 0 (CMYK as is).
		b = append(b, Segment(0xEE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x00"))...)
	}
	// DQT: table 0, 8-bit, all 64 entries 1.
	b = append(b, Segment(0xDB, append([]byte{0x00}, bytes.Repeat([]byte{1}, 64)...))...)
	// SOF2: precision 8, height, width, components (id, 1×1, table 0).
	sof := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), byte(nComp)}
	for c := range nComp {
		sof = append(sof, byte(c+1), 0x11, 0)
	}
	b = append(b, Segment(0xC2, sof)...)
	// DHT: DC table 0 with one code, "0" (1 bit), for category 0: a
	// difference of zero with no extra bits.
	dht := append([]byte{0x00, 1}, make([]byte, 15)...)
	b = append(b, Segment(0xC4, append(dht, 0))...)
	// SOS: every component (DC table 0), spectral selection 0–0 (DC
	// only), successive approximation 0: the first DC scan.
	sos := []byte{byte(nComp)}
	for c := range nComp {
		sos = append(sos, byte(c+1), 0x00)
	}
	b = append(b, Segment(0xDA, append(sos, 0, 0, 0))...)
	blocks := ((w + 7) / 8) * ((h + 7) / 8) * nComp
	b = append(b, make([]byte, (blocks+7)/8)...) // one 0 bit a block
	return append(b, 0xFF, 0xD9)
}
