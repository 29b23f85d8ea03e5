// Package web holds quill's templates and static files, embedded in the
// binary so the site needs nothing from another origin.
package web

import "embed"

// Static is served under /static/.
//
//go:embed static
var Static embed.FS

// Templates are the html/template sources of the pages.
//
//go:embed templates
var Templates embed.FS
