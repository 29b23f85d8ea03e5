package site

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
)

// decodeQR reads a QR code as a phone's scanner would (gozxing, a port of
// ZXing).
func decodeQR(tb testing.TB, img image.Image) string {
	tb.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		tb.Fatalf("decode the QR code: %v", err)
	}
	return res.GetText()
}

func TestQRPNG(t *testing.T) {
	for _, text := range []string{
		"otpauth://totp/quill.test:alice?algorithm=SHA1&digits=6&issuer=quill.test&period=30&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		"otpauth://totp/blog.example.com:" + strings.Repeat("x", 50) + "?secret=" + strings.Repeat("A", 32),
		"otpauth://totp/example.org:%C3%BCn%C3%AFc%C3%B6d%C3%A9?secret=ABC",
	} {
		data, err := qrPNG(text)
		if err != nil {
			t.Fatalf("qrPNG(%q) = %v", text, err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("qrPNG(%q) is no PNG: %v", text, err)
		}
		b := img.Bounds()
		if b.Dx() != b.Dy() || b.Dx()%qrScale != 0 {
			t.Errorf("qrPNG(%q) is %dx%d, want a square of whole modules", text, b.Dx(), b.Dy())
		}
		// The quiet zone is white.
		for i := range qrQuiet * qrScale {
			if r, _, _, _ := img.At(i, i).RGBA(); r == 0 {
				t.Errorf("qrPNG(%q): pixel (%d, %d) of the quiet zone is dark", text, i, i)
				break
			}
		}
		if got := decodeQR(t, img); got != text {
			t.Errorf("qrPNG(%q) decodes to %q", text, got)
		}
	}
}
