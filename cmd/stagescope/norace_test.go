//go:build !race

package main

// raceDetector is true in -race builds.
const raceDetector = false
