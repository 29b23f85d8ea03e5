//go:build race

package main

// quillRace: the tests run with the race detector, so the binary they
// build for end-to-end tests gets it too.
const quillRace = true
