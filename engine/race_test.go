//go:build race

package engine_test

// raceDetector is true in -race builds: the longest end-to-end builds, whose
// work is the engine's and which the normal pass already ran, are not run
// again under the race detector.
const raceDetector = true
