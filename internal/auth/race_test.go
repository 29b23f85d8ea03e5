//go:build race

package auth

// raceEnabled lets tests skip work the race detector makes very slow
// (bcrypt at cost 12 takes about 15 s under it).
const raceEnabled = true
