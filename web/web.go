// Package web holds quill's templates and static files, embedded in the
// binary so the site needs nothing from another origin.
//
// A static file NAME may have compressed copies NAME.br and NAME.gz beside
// it, which the site serves in its place to browsers that accept them;
// gen_precompressed.go makes those of the vendored Swagger UI.
package web

//go:generate go run gen_precompressed.go

import "embed"

// Static is served under /static/.
//
//go:embed static
var Static embed.FS

// Templates are the html/template sources of the pages.
//
//go:embed templates
var Templates embed.FS
