//go:build ignore

// gen_favicon draws quill's icon, a white quill on the accent colour, as
// web/static/favicon.svg and, rasterised at 32×32, web/static/favicon.ico
// (an ICO holding one PNG), from the same shapes. Run it from the top of
// the repository after changing them: go run web/gen_favicon.go
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"os"
	"strings"

	"golang.org/x/image/vector"
)

// The icon's shapes on a 32×32 grid: each a closed path of cubic curves
// (c: control, control, end) and lines (l: end).
type seg struct {
	kind byte // 'c' or 'l'
	pts  []float32
}

type shape struct {
	start  [2]float32
	segs   []seg
	colour string
}

const accent = "#2f5d8a"

var background = shape{start: [2]float32{6, 0}, colour: accent, segs: []seg{
	{'l', []float32{26, 0}}, {'c', []float32{29.3, 0, 32, 2.7, 32, 6}},
	{'l', []float32{32, 26}}, {'c', []float32{32, 29.3, 29.3, 32, 26, 32}},
	{'l', []float32{6, 32}}, {'c', []float32{2.7, 32, 0, 29.3, 0, 26}},
	{'l', []float32{0, 6}}, {'c', []float32{0, 2.7, 2.7, 0, 6, 0}},
}}

var feather = shape{start: [2]float32{26, 4}, colour: "#ffffff", segs: []seg{
	{'c', []float32{15, 5, 9, 13, 8.5, 23.5}},
	{'c', []float32{15, 21, 22, 15, 26, 4}},
}}

var nib = shape{start: [2]float32{8.2, 22.6}, colour: "#ffffff", segs: []seg{
	{'l', []float32{9.8, 24.2}}, {'l', []float32{5.6, 28.4}}, {'l', []float32{4, 26.8}}, {'l', []float32{8.2, 22.6}},
}}

var shapes = []shape{background, feather, nib}

func main() {
	if err := os.WriteFile("web/static/favicon.svg", []byte(svg()), 0o644); err != nil {
		log.Fatal(err)
	}
	ico, err := icon(32)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("web/static/favicon.ico", ico, 0o644); err != nil {
		log.Fatal(err)
	}
}

func svg() string {
	var b strings.Builder
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">` + "\n")
	for _, s := range shapes {
		fmt.Fprintf(&b, `<path fill="%s" d="M%g %g`, s.colour, s.start[0], s.start[1])
		for _, g := range s.segs {
			b.WriteString(strings.ToUpper(string(g.kind)))
			for i, p := range g.pts {
				if i > 0 {
					b.WriteByte(' ')
				}
				fmt.Fprintf(&b, "%g", p)
			}
		}
		b.WriteString("Z\"/>\n")
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// icon returns an ICO file of one size×size PNG.
func icon(size int) ([]byte, error) {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	k := float32(size) / 32
	for _, s := range shapes {
		r := vector.NewRasterizer(size, size)
		r.MoveTo(s.start[0]*k, s.start[1]*k)
		for _, g := range s.segs {
			p := g.pts
			if g.kind == 'c' {
				r.CubeTo(p[0]*k, p[1]*k, p[2]*k, p[3]*k, p[4]*k, p[5]*k)
			} else {
				r.LineTo(p[0]*k, p[1]*k)
			}
		}
		r.ClosePath()
		var c color.NRGBA
		fmt.Sscanf(s.colour, "#%02x%02x%02x", &c.R, &c.G, &c.B)
		c.A = 255
		r.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{})
	}
	var pngData bytes.Buffer
	if err := png.Encode(&pngData, img); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	// ICONDIR: reserved, type 1 (icon), one image.
	binary.Write(&out, binary.LittleEndian, [3]uint16{0, 1, 1})
	// ICONDIRENTRY: width, height, colours, reserved, planes, bits per
	// pixel, size of the data, offset of the data.
	out.Write([]byte{byte(size), byte(size), 0, 0})
	binary.Write(&out, binary.LittleEndian, [2]uint16{1, 32})
	binary.Write(&out, binary.LittleEndian, [2]uint32{uint32(pngData.Len()), 6 + 16})
	out.Write(pngData.Bytes())
	return out.Bytes(), nil
}
