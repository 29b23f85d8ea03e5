package site

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/boombuler/barcode/qr"
)

// QR codes are drawn here, on the server, as PNG images served from this
// origin: the page needs no script, and the secret a code carries goes
// to no other site.

const (
	// qrQuiet is the white margin around a QR code, in modules: the four
	// the standard asks for, so a scanner finds the code on any page.
	qrQuiet = 4
	// qrScale is the side of one module in pixels.
	qrScale = 6
)

// qrPalette is white, then black: module values index it.
var qrPalette = color.Palette{color.White, color.Black}

// qrPNG draws text as a QR code with medium error correction (15%), black
// on white, each module qrScale pixels square, with the quiet zone.
func qrPNG(text string) ([]byte, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	n := code.Bounds().Dx()
	side := (n + 2*qrQuiet) * qrScale
	img := image.NewPaletted(image.Rect(0, 0, side, side), qrPalette)
	for y := range n {
		for x := range n {
			if r, _, _, _ := code.At(x, y).RGBA(); r != 0 {
				continue // a light module
			}
			x0, y0 := (x+qrQuiet)*qrScale, (y+qrQuiet)*qrScale
			for dy := range qrScale {
				row := img.Pix[(y0+dy)*img.Stride+x0:]
				for dx := range qrScale {
					row[dx] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("QR code PNG: %w", err)
	}
	return buf.Bytes(), nil
}
