package picture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/blog"
	pt "github.com/quill-blog/quill/internal/picture/picturetest"
)

// progressive turns a baseline JPEG's header into a progressive one's:
// enough for Cost, which reads no further than the frame header.
func progressive(jpg []byte) []byte {
	out := bytes.Clone(jpg)
	i := bytes.Index(out, []byte{0xFF, markerSOF0})
	if i < 0 {
		panic("no SOF0 segment")
	}
	out[i+1] = markerSOF2
	return out
}

// withIHDR rewrites a PNG's bit depth, colour type and interlace method.
func withIHDR(png []byte, depth, colorType, interlace byte) []byte {
	out := bytes.Clone(png)
	out[24], out[25], out[28] = depth, colorType, interlace
	binary.BigEndian.PutUint32(out[29:], crc32.ChecksumIEEE(out[12:29]))
	return out
}

// adobe is an Adobe APP14 segment with the given colour transform.
func adobe(transform byte) []byte {
	return pt.Segment(markerAPP14, append([]byte("Adobe\x00\x64\x00\x00\x00\x00"), transform))
}

// TestCost checks the estimate for each kind of image against the
// decoders' allocations, as the comments in cost.go describe them.
func TestCost(t *testing.T) {
	photo := pt.JPEG(pt.Quadrants(400, 300, pt.Upright)) // YCbCr 4:2:0: MCUs of 16×16
	grey := pt.JPEG(image.NewGray(image.Rect(0, 0, 400, 300)))
	// rest is what every image of w×h costs besides decoding.
	rest := func(w, h int64) int64 { return scaleCostPerRow*min(w, h) + fixedCost }
	const (
		mcus420 = 25 * 19 // 400×300 in 16×16 MCUs
		blocks8 = 50 * 38 // 400×300 in 8×8 blocks
	)
	webpGroups := int64(min(vp8lMaxGroups, 10*8+5)) * vp8lCostPerGroup // 40×30: 10×8 tiles

	tests := []struct {
		name string
		data []byte
		want int64
	}{
		{"baseline jpeg 4:2:0", photo, 64*mcus420*6 + rest(400, 300)},
		{"baseline jpeg, grey", grey, 64*blocks8 + rest(400, 300)},
		{"baseline jpeg 4:2:0 with Adobe transform 1 (YCbCr)", pt.WithSegments(photo, adobe(1)), 64*mcus420*6 + rest(400, 300)},
		{"baseline jpeg 4:2:0 with Adobe transform 0 (RGB)", pt.WithSegments(photo, adobe(0)), 64*mcus420*6 + 4*400*300 + rest(400, 300)},
		{"progressive jpeg 4:2:0", progressive(photo), (64+256)*mcus420*6 + rest(400, 300)},
		{"progressive jpeg, 3 components 1×1", pt.ProgressiveJPEG(400, 300, 3), (64+256)*blocks8*3 + rest(400, 300)},
		{"progressive jpeg, CMYK", pt.ProgressiveJPEG(400, 300, 4), (64+256)*blocks8*4 + 4*400*300 + rest(400, 300)},
		{"jpeg with stray bytes before its frame: the worst case", pt.WithSegments(photo, pt.Segment(0xFE, []byte("comment")), []byte{0, 0}),
			(64+256)*blocks8*4 + 4*400*300 + rest(400, 300)},
		{"png, 1-bit grey", pt.PNGBomb(400, 300), 4*400*300 + rest(400, 300)},
		{"png, 8-bit RGBA", pt.PNG(pt.Quadrants(400, 300, pt.Upright)), 4*400*300 + rest(400, 300)},
		{"png, 16-bit grey", withIHDR(pt.PNGBomb(400, 300), 16, 0, 0), 8*400*300 + rest(400, 300)},
		{"png, 1-bit grey, interlaced", withIHDR(pt.PNGBomb(400, 300), 1, 0, 1), 2*4*400*300 + rest(400, 300)},
		{"png, palette", pt.PNG(image.NewPaletted(image.Rect(0, 0, 400, 300), color.Palette{color.Black, color.White})), 400*300 + rest(400, 300)},
		{"gif", pt.GIF(pt.Quadrants(400, 300, pt.Upright)), 2*400*300 + rest(400, 300)},
		{"webp, lossy", readTestdata(t, "lossy.webp"), 3*2*vp8CostPerMacroblock + rest(40, 30)},
		{"webp, lossless", readTestdata(t, "lossless.webp"), 8*40*30 + webpGroups + rest(40, 30)},
		{"webp, lossy with alpha", readTestdata(t, "transparent.webp"),
			3*2*vp8CostPerMacroblock + 8*40*30 + webpGroups + 40*30 + rest(40, 30)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Cost(tc.data)
			if err != nil || got != tc.want {
				t.Errorf("Cost() = %d, %v, want %d", got, err, tc.want)
			}
		})
	}
}

// TestCostLimits checks which large images are within MaxCost: the
// 40-megapixel limit still holds for ordinary photos, and the expensive
// kinds are refused before they are decoded.
func TestCostLimits(t *testing.T) {
	photo := pt.JPEG(pt.Quadrants(40, 30, pt.Upright)) // YCbCr 4:2:0
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"baseline jpeg 4:2:0, 40 megapixels", pt.JPEGWithSize(photo, 7744, 5163), nil},
		{"progressive jpeg 4:2:0, 24 megapixels", progressive(pt.JPEGWithSize(photo, 6000, 4000)), nil},
		{"progressive jpeg 4:2:0, 40 megapixels", progressive(pt.JPEGWithSize(photo, 7744, 5163)), ErrTooCostly},
		{"progressive CMYK jpeg, 6320×6320", pt.ProgressiveJPEG(6320, 6320, 4), ErrTooCostly},
		{"progressive 3-component jpeg, 6320×6320", pt.ProgressiveJPEG(6320, 6320, 3), ErrTooCostly},
		{"png, 1-bit, 40 megapixels", pt.PNGBomb(7744, 5163), nil},
		{"png, 16-bit, 40 megapixels", withIHDR(pt.PNGBomb(7744, 5163), 16, 0, 0), ErrTooCostly},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Cost(tc.data)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Cost() = %d MiB, %v, want %v", n>>20, err, tc.want)
			}
			if err == nil && (n <= 0 || n > MaxCost) {
				t.Errorf("Cost() = %d, want between 1 and MaxCost", n)
			}
			var e *blog.Error
			if err != nil && (!errors.As(err, &e) || e.Kind != blog.Invalid) {
				t.Errorf("Cost() error = %v, want a *blog.Error of kind Invalid", err)
			}
		})
	}
}

// TestProgressiveJPEGIsValid checks the crafted progressive JPEGs are
// real images the decoder accepts, so only Cost stands in their way.
func TestProgressiveJPEGIsValid(t *testing.T) {
	for _, n := range []int{1, 3, 4} {
		m, err := formatJPEG.decode(bytes.NewReader(pt.ProgressiveJPEG(64, 48, n)))
		if err != nil || m.Bounds() != image.Rect(0, 0, 64, 48) {
			t.Fatalf("decode(ProgressiveJPEG(64, 48, %d)) = %v, %v, want a 64×48 image", n, m, err)
		}
	}
	if _, err := Process(pt.ProgressiveJPEG(64, 48, 4)); err != nil {
		t.Errorf("Process(ProgressiveJPEG(64, 48, 4)) = %v", err)
	}
}

// BenchmarkProcessMemory reports, for images at the edge of the limits,
// Cost's estimate (cost-MiB) against what Process allocates in all (B/op)
// and the peak of the heap during one call, garbage included (peak-MiB,
// sampled every millisecond; the heap is collected between calls). Run
// with -benchtime=3x: each is a large image.
func BenchmarkProcessMemory(b *testing.B) {
	for _, tc := range []struct {
		name string
		data func() []byte
	}{
		{"baseline-420-40MP", func() []byte { return pt.JPEG(noise(7744, 5163)) }},
		{"progressive-444-12MP", func() []byte { return pt.ProgressiveJPEG(4000, 3000, 3) }},
		{"progressive-CMYK-6MP", func() []byte { return pt.ProgressiveJPEG(3000, 2000, 4) }},
		{"progressive-CMYK-6320x6320-refused", func() []byte { return pt.ProgressiveJPEG(6320, 6320, 4) }},
		{"png-RGBA-40MP", func() []byte { return pt.PNG(pt.Quadrants(7744, 5163, pt.Upright)) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			data := tc.data()
			cost, costErr := Cost(data)
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapAlloc
			var peak atomic.Uint64
			stop, done := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(done)
				tick := time.NewTicker(time.Millisecond)
				defer tick.Stop()
				for {
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					peak.Store(max(peak.Load(), m.HeapAlloc))
					select {
					case <-stop:
						return
					case <-tick.C:
					}
				}
			}()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Process(data); err != costErr {
					b.Fatalf("Process() = %v, Cost() = %v", err, costErr)
				}
				b.StopTimer()
				runtime.GC() // so each call starts from the same heap
				b.StartTimer()
			}
			close(stop)
			<-done
			b.ReportMetric(float64(cost)/(1<<20), "cost-MiB")
			b.ReportMetric(float64(peak.Load()-min(base, peak.Load()))/(1<<20), "peak-MiB")
		})
	}
}
