//go:build !race

package main

const quillRace = false
