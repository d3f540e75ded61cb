//go:build !race

package buildgraph

// raceDetector is true in -race builds.
const raceDetector = false
