package httpx

import (
	"strings"
	"testing"
)

func TestCompressible(t *testing.T) {
	for _, tt := range []struct {
		contentType string
		want        bool
	}{
		{"text/html; charset=utf-8", true},
		{"text/css; charset=utf-8", true},
		{"text/javascript; charset=utf-8", true},
		{"application/javascript", true},
		{"application/json", true},
		{"application/problem+json", true},
		{"image/svg+xml", true},
		{"application/xml", true},
		{"image/jpeg", false},
		{"image/png", false},
		{"image/webp", false},
		{"image/gif", false},
		{"application/gzip", false},
		{"application/octet-stream", false},
		{"font/woff2", false},
		{"", false},
		{"text/html; charset", false}, // unreadable
	} {
		if got := Compressible(tt.contentType); got != tt.want {
			t.Errorf("Compressible(%q) = %v, want %v", tt.contentType, got, tt.want)
		}
	}
}

func TestAcceptsEncoding(t *testing.T) {
	for _, tt := range []struct {
		header, coding string
		want           int
	}{
		{"", "gzip", 0},
		{"gzip", "gzip", 1000},
		{"gzip, deflate, br, zstd", "br", 1000},
		{"gzip, deflate", "br", 0},
		{"GZIP", "gzip", 1000},
		{"br;q=0", "br", 0},
		{"br;q=0.5, gzip;q=0.8", "br", 500},
		{"br;q=0.5, gzip;q=0.8", "gzip", 800},
		{"br ; q=0.25", "br", 250},
		{"br;q=0.125", "br", 125},
		{"br;q=1.000", "br", 1000},
		{"br;q=1.", "br", 1000},
		{"*", "br", 1000},
		{"*;q=0.1", "br", 100},
		{"*;q=0.1, br;q=0", "br", 0},          // its own entry wins over *
		{"br;q=0.2, br;q=0.9", "br", 900},     // the best of repeated entries
		{"identity, *;q=0", "gzip", 0},        // nothing but identity
		{"gzip;level=9;q=0.7", "gzip", 700},   // other parameters are ignored
		{",,gzip,,", "gzip", 1000},            // empty entries are skipped
		{"gzip;q=2", "gzip", 0},               // malformed q: the header is not read
		{"gzip;q=1.5", "gzip", 0},             // above 1
		{"gzip;q=0.1234", "gzip", 0},          // too many digits
		{"gzip;q=-1", "gzip", 0},              // negative
		{"gzip;q=", "gzip", 0},                // empty
		{"gzip;q=0.x", "gzip", 0},             // not a digit
		{"br, gzip;q=abc", "br", 0},           // one bad entry spoils the header
		{"x-gzip", "gzip", 0},                 // another name
		{"gzipx", "gzip", 0},                  // a longer name
		{"gzip;q=0.5 ;", "gzip", 500},         // a trailing empty parameter
		{"br;Q=0.3", "br", 300},               // q is case-insensitive
		{"zstd;q=0.9, br;q=0.9", "zstd", 900}, // ties are the caller's to break
	} {
		if got := AcceptsEncoding(tt.header, tt.coding); got != tt.want {
			t.Errorf("AcceptsEncoding(%q, %q) = %d, want %d", tt.header, tt.coding, got, tt.want)
		}
	}
}

// FuzzAcceptsEncoding checks that any header gives a q-value between 0
// and 1000, and 0 for a coding the header does not name when it has no
// wildcard.
func FuzzAcceptsEncoding(f *testing.F) {
	for _, s := range []string{"", "gzip", "gzip, deflate, br, zstd", "br;q=0.5, *;q=0", "gzip;q=1.000;x=y", ";;,;q=", "*;q=0.001"} {
		f.Add(s, "gzip")
		f.Add(s, "br")
	}
	f.Fuzz(func(t *testing.T, header, coding string) {
		q := AcceptsEncoding(header, coding)
		if q < 0 || q > 1000 {
			t.Fatalf("AcceptsEncoding(%q, %q) = %d, want 0…1000", header, coding, q)
		}
		if q > 0 && !strings.Contains(header, "*") && !strings.Contains(strings.ToLower(header), strings.ToLower(coding)) {
			t.Fatalf("AcceptsEncoding(%q, %q) = %d, but the header names neither it nor *", header, coding, q)
		}
	})
}
