package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
)

// While the images are measured the summary line says how much layer data
// is read of how much, and for how long: not a frozen "measuring image".
func TestSummaryShowsMeasuring(t *testing.T) {
	g, err := buildgraph.Parse([]byte("FROM scratch AS a\nCOPY x /x\nFROM a AS b\n"), buildgraph.Options{SkipLint: true})
	if err != nil {
		t.Fatal(err)
	}
	run := &pipeline.Run{Plans: []*pipeline.Plan{{Target: "a"}, {Target: "b"}}, Progress: buildgraph.NewProgress(g)}
	for _, ev := range []pipeline.Event{
		pipeline.SolveEnded{},
		pipeline.MeasureProgress{Target: 0, Done: 40_000_000, Total: 100_000_000, Elapsed: 1500 * time.Millisecond},
		pipeline.MeasureProgress{Target: 1, Done: 20_000_000, Total: 200_000_000, Elapsed: 2100 * time.Millisecond},
	} {
		run.Apply(ev)
	}
	line := ansi.Strip(buildSummary(NewStyles(true), &buildRun{Run: run, targets: []string{"a", "b"}}, time.Now(), "⠋"))
	if !strings.Contains(line, "measuring 60MB of 300MB 2.1s") {
		t.Errorf("summary %q", line)
	}
	run.Measures = nil
	line = ansi.Strip(buildSummary(NewStyles(true), &buildRun{Run: run, targets: []string{"a"}}, time.Now(), "⠋"))
	if !strings.Contains(line, "measuring images") {
		t.Errorf("summary before any progress %q", line)
	}
}
