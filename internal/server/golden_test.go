package server_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with what the code produces")

// staticVersion is the version of a static file in a page's link to it,
// which changes with the file: golden pages hold a placeholder.
var staticVersion = regexp.MustCompile(`\?v=[0-9a-f]{16}"`)

// golden compares got with testdata/name, or rewrites that file when the
// tests run with -update. Static files' versions are left out.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	got = staticVersion.ReplaceAll(got, []byte(`?v=VERSION"`))
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the tests with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from what the code produces (-golden +got); if the change is meant, run go test -update:\n%s", path, diff)
	}
}
