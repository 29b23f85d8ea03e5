package picture

import (
	"bytes"
	"encoding/binary"
)

// MaxCost is the most memory, in bytes, Process lets one image take. The
// pixel limits alone do not bound it: image/jpeg keeps 4 bytes of
// coefficients per sample of a progressive image, so a 300 KB progressive
// CMYK JPEG of 40 megapixels would take about 1 GB.
const MaxCost = 256 << 20

// ErrTooCostly is Process's and Cost's error for an image within the
// pixel limits whose decoding would take more than MaxCost bytes.
var ErrTooCostly = invalid("image_too_large", "Image is too large to process; try a smaller image or a baseline JPEG")

// Cost returns how much memory, in bytes, Process would take for data,
// worked out from the header alone: an upper bound on what the decoders
// this package uses allocate (decoded image, working copies, coefficient
// buffers), plus the scaling and encoding after them. Callers running
// several Process calls at once take this much from a shared budget
// first.
//
// Cost checks what Process checks before decoding and returns the same
// errors; an image that would cost more than MaxCost is ErrTooCostly.
func Cost(data []byte) (int64, error) {
	_, _, n, err := inspect(data)
	return n, err
}

// Parts of the cost that do not depend on the format.
const (
	// fixedCost covers the 300×300 RGBA picture and its turned copy,
	// the encoded JPEG, decoder tables and row buffers (a PNG row is at
	// most 8×16384 bytes, and there are two).
	fixedCost = 2 << 20
	// scaleCostPerRow is what the resampler keeps per row of the centre
	// square: a [4]float64 per output column (x/image/draw's kernel
	// scaler allocates Size × source height of them).
	scaleCostPerRow = Size * 32
)

// cost is the memory Process takes for an image of format f and w×h
// pixels (already within the limits) stored in data.
func cost(f *format, data []byte, w, h int) int64 {
	return f.cost(data, int64(w), int64(h)) + scaleCostPerRow*int64(min(w, h)) + fixedCost
}

// jpegCost is the memory image/jpeg takes to decode data. It keeps every
// component's samples, padded to whole MCUs (1 byte each); for a
// progressive image, also every block's coefficients until the last scan
// (64 int32 per 8×8 block: 4 bytes per sample); and it converts a CMYK or
// YCbCrK image, or one it reads as RGB, into a copy of 4 bytes a pixel.
//
// A header this parser cannot follow as image/jpeg does is charged as the
// worst frame of its size: progressive CMYK.
func jpegCost(data []byte, w, h int64) int64 {
	fr, ok := readJPEGFrame(data)
	if !ok || fr.width != w || fr.height != h {
		fr = jpegFrame{width: w, height: h, progressive: true, comps: []jpegComponent{{'C', 1, 1}, {'M', 1, 1}, {'Y', 1, 1}, {'K', 1, 1}}}
	}
	// image/jpeg sizes its buffers by the first component's sampling
	// factors, the largest in every frame it accepts.
	hmax, vmax := int64(1), int64(1)
	for _, c := range fr.comps {
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	mcuCols := (w + 8*hmax - 1) / (8 * hmax)
	mcuRows := (h + 8*vmax - 1) / (8 * vmax)
	var blocks int64
	for _, c := range fr.comps {
		blocks += mcuCols * mcuRows * c.h * c.v
	}
	n := 64 * blocks
	if fr.progressive {
		n += 256 * blocks
	}
	if len(fr.comps) == 4 || len(fr.comps) == 3 && mayBeRGB(data, fr) {
		n += 4 * w * h
	}
	return n
}

// jpegFrame is what the SOF segment of a JPEG file says.
type jpegFrame struct {
	width, height int64
	progressive   bool
	comps         []jpegComponent
}

type jpegComponent struct {
	id   byte
	h, v int64 // sampling factors
}

const (
	markerSOF0  = 0xC0 // baseline
	markerSOF1  = 0xC1 // extended sequential, decoded as baseline
	markerSOF2  = 0xC2 // progressive
	markerAPP14 = 0xEE // Adobe: colour transform
)

// readJPEGFrame finds the frame header image/jpeg uses, the first SOF0,
// SOF1 or SOF2 segment. It follows the segments strictly and gives up
// (false) on anything image/jpeg would read more liberally, such as
// stray bytes between segments: Cost then assumes the worst.
func readJPEGFrame(b []byte) (jpegFrame, bool) {
	i := 2 // after SOI
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return jpegFrame{}, false
		}
		marker := b[i+1]
		switch {
		case marker == 0xFF: // fill byte before a marker
			i++
			continue
		case marker >= markerRST0 && marker <= markerRST7:
			i += 2
			continue
		case marker < 0xC0 || marker == markerSOI || marker == markerEOI || marker == markerSOS:
			return jpegFrame{}, false // an error, or no frame before the first scan
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || n > len(b)-i-2 {
			return jpegFrame{}, false
		}
		if marker == markerSOF0 || marker == markerSOF1 || marker == markerSOF2 {
			return parseSOF(b[i+4:i+2+n], marker == markerSOF2)
		}
		i += 2 + n
	}
	return jpegFrame{}, false
}

// parseSOF reads a SOF segment's payload (ITU T.81 §B.2.2).
func parseSOF(p []byte, progressive bool) (jpegFrame, bool) {
	if len(p) < 6 {
		return jpegFrame{}, false
	}
	nComp := int(p[5])
	if nComp != 1 && nComp != 3 && nComp != 4 || len(p) != 6+3*nComp {
		return jpegFrame{}, false
	}
	fr := jpegFrame{
		height:      int64(binary.BigEndian.Uint16(p[1:])),
		width:       int64(binary.BigEndian.Uint16(p[3:])),
		progressive: progressive,
	}
	for c := range nComp {
		hv := p[7+3*c]
		h, v := int64(hv>>4), int64(hv&0x0F)
		if h < 1 || h > 4 || v < 1 || v > 4 {
			return jpegFrame{}, false
		}
		if nComp == 1 {
			h, v = 1, 1 // as image/jpeg reads a single component
		}
		fr.comps = append(fr.comps, jpegComponent{p[6+3*c], h, v})
	}
	return fr, true
}

// mayBeRGB reports whether image/jpeg might read a 3-component image as
// RGB and convert it: its components are named R, G, B, or the file has
// an Adobe APP14 segment saying "no transform" anywhere in it. The search
// is of the raw bytes, so a segment image/jpeg reads after the first scan
// is found too; a false match only overcharges.
func mayBeRGB(data []byte, fr jpegFrame) bool {
	if fr.comps[0].id == 'R' && fr.comps[1].id == 'G' && fr.comps[2].id == 'B' {
		return true
	}
	const adobeTransformUnknown = 0
	for i := 0; ; i++ {
		j := bytes.Index(data[i:], []byte{0xFF, markerAPP14})
		if j < 0 {
			return false
		}
		i += j
		// FF EE, length (2), "Adobe", version (2), flags (4), transform.
		seg := data[i:]
		if len(seg) >= 16 && binary.BigEndian.Uint16(seg[2:]) >= 14 &&
			bytes.HasPrefix(seg[4:], []byte("Adobe")) && seg[15] == adobeTransformUnknown {
			return true
		}
	}
}

// pngCost is the memory image/png takes: the image, of 1 byte a pixel
// for a palette, 8 for 16 bits a sample and otherwise 4 (a grey image
// with a transparent colour becomes NRGBA), twice over if interlaced
// (each pass is decoded on its own, then merged).
func pngCost(data []byte, w, h int64) int64 {
	if len(data) < 29 {
		return 8 * 2 * w * h // not reached: DecodeConfig read the IHDR
	}
	// IHDR is the first chunk: signature (8), length (4), type (4),
	// width (4), height (4), bit depth, colour type, compression,
	// filter, interlace.
	depth, colorType, interlaced := data[24], data[25], data[28] != 0
	const colorTypePalette = 3
	bytesPerPixel := int64(4)
	switch {
	case depth == 16:
		bytesPerPixel = 8
	case colorType == colorTypePalette:
		bytesPerPixel = 1
	}
	n := bytesPerPixel * w * h
	if interlaced {
		n *= 2
	}
	return n
}

// gifCost is the memory image/gif takes for the first frame (at most the
// logical screen): a byte a pixel, and a second copy to de-interlace.
func gifCost(_ []byte, w, h int64) int64 {
	return 2 * w * h
}

// WebP decoding costs, from golang.org/x/image/webp, vp8 and vp8l.
const (
	// A lossy (VP8) frame is YCbCr 4:2:0 in whole 16×16 macroblocks,
	// 384 bytes each, with 4 bytes of filter settings per macroblock.
	vp8CostPerMacroblock = 16*16*3/2 + 4
	// A lossless (VP8L) image is decoded as 4 bytes a pixel, and a
	// colour-indexed one is expanded into a second such buffer.
	vp8lCostPerPixel = 8
	// VP8L entropy codes: at most 2600 groups of Huffman trees (vp8l
	// refuses more), and no more than one per 4×4 tile. A group is 5
	// trees (of 2328, 256, 256, 256 and 40 symbols at most) of 8 bytes a
	// node and 2 nodes a symbol, with a 512-byte lookup table each.
	vp8lMaxGroups    = 2600
	vp8lCostPerGroup = (2328+256*3+40)*2*8 + 5*(512+24)
)

// webpCost is the memory golang.org/x/image/webp takes: a lossy frame;
// a lossless image; or a lossy frame with an alpha plane, itself
// losslessly coded and then copied out.
func webpCost(data []byte, w, h int64) int64 {
	lossy := ((w + 15) / 16) * ((h + 15) / 16) * vp8CostPerMacroblock
	tiles := ((w + 3) / 4) * ((h + 3) / 4)
	lossless := vp8lCostPerPixel*w*h + min(vp8lMaxGroups, tiles+5)*vp8lCostPerGroup // +5: the single groups of sub-images
	if len(data) < 21 {
		return lossy + lossless + w*h // not reached: DecodeConfig read the first chunk
	}
	const vp8xAlpha = 1 << 4
	switch string(data[12:16]) {
	case "VP8 ":
		return lossy
	case "VP8X":
		if data[20]&vp8xAlpha != 0 {
			return lossy + lossless + w*h
		}
		return max(lossy, lossless)
	}
	return lossless
}
