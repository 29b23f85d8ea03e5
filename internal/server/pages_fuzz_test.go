package server_test

import (
	"net/http"
	pathpkg "path"
	"strings"
	"testing"
)

// FuzzPageAddress puts arbitrary text in the ids and the query of the
// pages of posts: every answer is a page, never a server error, and a
// path id that is no positive integer is a 404.
func FuzzPageAddress(f *testing.F) {
	for _, seed := range []struct{ id, query string }{
		{"1", ""}, {"abc", "cursor=x"}, {"0", "before=MTczNTY4OTYwMDAwMDAwMC4x"}, {"-1", "limit=0&skip=-1"},
		{"9223372036854775808", "before=&cursor="}, {"1", "before=MTczNTY4OTYwMDAwMDAwMC4x&limit=100"}, {"١", "%zz"},
	} {
		f.Add(seed.id, seed.query)
	}
	fx := newFixture(f, testDBs()[0])
	f.Fuzz(func(t *testing.T, id, query string) {
		control := func(r rune) bool { return r < 0x20 || r == 0x7f }
		if strings.ContainsAny(id, "/?#%\\ ") || pathpkg.Clean("/"+id) != "/"+id || strings.ContainsAny(query, "# ") ||
			strings.IndexFunc(id+query, control) >= 0 {
			t.Skip() // another path, or no request line
		}
		for _, path := range []string{"/?" + query, "/posts/" + id, "/users/" + id + "/posts?" + query} {
			res, body := fx.do(t, "GET", path, "", nil)
			if res.StatusCode >= 500 {
				t.Fatalf("GET %s = %d", path, res.StatusCode)
			}
			if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusSeeOther && ct != "text/html; charset=utf-8" {
				t.Fatalf("GET %s = %d %s: want an HTML page", path, res.StatusCode, ct)
			}
			if res.StatusCode == http.StatusUnprocessableEntity && !strings.Contains(string(body), "This link to a page of posts is not valid.") {
				t.Fatalf("GET %s = 422 without saying why in words:\n%s", path, body)
			}
			if strings.HasPrefix(path, "/posts/") && strings.TrimLeft(id, "0123456789") != "" && res.StatusCode != http.StatusNotFound {
				t.Fatalf("GET %s = %d, want 404", path, res.StatusCode)
			}
		}
	})
}
