package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/pipeline"
)

// Measuring is told on stderr: a line when a target's measuring starts, at
// most one a second while it reads, and one when it is done; a target with
// nothing to read says so once.
func TestMeasureLines(t *testing.T) {
	run := &pipeline.Run{Plans: []*pipeline.Plan{{Target: "builder"}, {Target: "runtime"}}}
	var w bytes.Buffer
	lines := measureLines{last: map[int]time.Time{}, ended: map[int]bool{}}
	for _, ev := range []pipeline.MeasureProgress{
		{Target: 0, Done: 0, Total: 182_000_000},
		{Target: 1, Done: 0, Total: 0},
		{Target: 0, Done: 4_000_000, Total: 182_000_000, Elapsed: 100 * time.Millisecond}, // within the second
		{Target: 1, Done: 0, Total: 0, Elapsed: 200 * time.Millisecond},
		{Target: 0, Done: 182_000_000, Total: 182_000_000, Elapsed: 1200 * time.Millisecond},
		{Target: 0, Done: 182_000_000, Total: 182_000_000, Elapsed: 1300 * time.Millisecond}, // the pipeline's last word
	} {
		run.Apply(ev)
		lines.show(&w, run, ev)
	}
	want := "measuring builder: 0B of 182MB of layer data read (0s)\n" +
		"measuring runtime: no layer data to read\n" +
		"measured builder: 182MB of layer data read in 1.2s\n"
	if got := w.String(); got != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
	}
	if done, total, _ := run.MeasureTotals(); done != 182_000_000 || total != 182_000_000 || !strings.Contains(w.String(), "measured") {
		t.Errorf("totals %d of %d", done, total)
	}
}

// With several Dockerfiles a measuring line names the file of its target.
func TestMeasureLinesSeveral(t *testing.T) {
	java, hello := &pipeline.Project{Name: "java-multistage"}, &pipeline.Project{Name: "hello-multistage"}
	run := &pipeline.Run{Plans: []*pipeline.Plan{{Target: "builder", Project: java}, {Target: "builder", Project: hello}}}
	var w bytes.Buffer
	lines := measureLines{last: map[int]time.Time{}, ended: map[int]bool{}}
	for _, ev := range []pipeline.MeasureProgress{{Target: 0, Total: 5}, {Target: 1, Total: 0}} {
		run.Apply(ev)
		lines.show(&w, run, ev)
	}
	want := "measuring java-multistage:builder: 0B of 5B of layer data read (0s)\nmeasuring hello-multistage:builder: no layer data to read\n"
	if got := w.String(); got != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
	}
}
