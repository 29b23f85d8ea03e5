package httpx

import (
	"mime"
	"strings"
)

// Compressible reports whether a response of the given Content-Type is
// worth compressing: text, JSON, JavaScript, XML and SVG. Everything
// else, pictures above all, is already compressed or not worth it.
func Compressible(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"):
		return true
	case mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/javascript", mt == "application/xml", strings.HasSuffix(mt, "+xml"):
		return true // image/svg+xml included
	}
	return false
}

// AcceptsEncoding returns the q-value (0 to 1000, in thousandths) that
// an Accept-Encoding header gives the content coding coding: its own
// entry's, else that of "*", else 0. A header that cannot be read
// accepts nothing; no header at all is left to the caller (RFC 9110
// §12.5.3: any coding is then acceptable, though identity is the safe
// choice).
func AcceptsEncoding(header, coding string) int {
	own, any := -1, -1
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		q := 1000
		if params != "" {
			var ok bool
			if q, ok = parseQ(params); !ok {
				return 0
			}
		}
		switch {
		case asciiEqualFold(name, coding):
			own = max(own, q)
		case name == "*":
			any = max(any, q)
		}
	}
	switch {
	case own >= 0:
		return own
	case any >= 0:
		return any
	}
	return 0
}

// parseQ reads the parameters of one Accept-Encoding entry, "q=0.5", as
// thousandths. Other parameters are ignored; a malformed q is not ok.
func parseQ(params string) (int, bool) {
	q := 1000
	for p := range strings.SplitSeq(params, ";") {
		k, v, found := strings.Cut(strings.TrimSpace(p), "=")
		if !found || !asciiEqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		v = strings.TrimSpace(v)
		// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
		if v == "" || len(v) > 5 || (v[0] != '0' && v[0] != '1') || (len(v) > 1 && v[1] != '.') {
			return 0, false
		}
		n := int(v[0]-'0') * 1000
		scale := 100
		for _, c := range v[min(len(v), 2):] {
			if c < '0' || c > '9' {
				return 0, false
			}
			n += int(c-'0') * scale
			scale /= 10
		}
		if n > 1000 {
			return 0, false
		}
		q = n
	}
	return q, true
}

// asciiEqualFold is strings.EqualFold for ASCII tokens only: header
// tokens are ASCII, and no other letter (the Kelvin sign, say) may stand
// for one.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
