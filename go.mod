module github.com/quill-blog/quill

go 1.26.0

toolchain go1.26.10

require golang.org/x/text v0.44.0
