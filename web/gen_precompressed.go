//go:build ignore

// gen_precompressed.go writes the compressed copies of the vendored
// Swagger UI's script and stylesheet that /static/ serves to browsers that
// accept them: NAME.br (Brotli, quality 11) and NAME.gz (gzip, level 9).
// Quality 11 takes tens of seconds on the 1.7 MB bundle, far too long to
// spend when a server starts, so it is spent once here; the site's own
// small files are compressed when the server starts.
//
// Run it with go generate ./web after scripts/update-swagger-ui.sh (which
// runs it); a test of package site checks that each copy decompresses to
// its file.
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"

	"github.com/andybalholm/brotli"
)

func main() {
	names, err := filepath.Glob("static/swagger-ui/*")
	if err != nil {
		fail(err)
	}
	for _, name := range names {
		if ext := filepath.Ext(name); ext != ".js" && ext != ".css" {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			fail(err)
		}
		var br bytes.Buffer
		bw := brotli.NewWriterOptions(&br, brotli.WriterOptions{Quality: brotli.BestCompression})
		if _, err := bw.Write(data); err != nil {
			fail(err)
		}
		if err := bw.Close(); err != nil {
			fail(err)
		}
		var gz bytes.Buffer
		gw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression) // no name, no time: the same bytes every run
		if err != nil {
			fail(err)
		}
		if _, err := gw.Write(data); err != nil {
			fail(err)
		}
		if err := gw.Close(); err != nil {
			fail(err)
		}
		for ext, b := range map[string][]byte{".br": br.Bytes(), ".gz": gz.Bytes()} {
			if err := os.WriteFile(name+ext, b, 0o644); err != nil {
				fail(err)
			}
		}
		fmt.Printf("%s: %d bytes, br %d, gzip %d\n", name, len(data), br.Len(), gz.Len())
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen_precompressed:", err)
	os.Exit(1)
}
