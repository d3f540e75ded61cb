//go:build !race

package engine_test

// raceDetector is true in -race builds.
const raceDetector = false
