//go:build !race

package auth

// raceEnabled lets tests skip work the race detector makes very slow.
const raceEnabled = false
