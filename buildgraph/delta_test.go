package buildgraph

import (
	"strings"
	"testing"
	"time"
)

func TestBuildDelta(t *testing.T) {
	prev := &TargetResult{Target: "app", Duration: 10 * time.Second, Size: &ImageSize{Uncompressed: 2_400_000, Layers: []Layer{
		{CreatedBy: "WORKDIR /app # buildkit", Size: 0},
		{CreatedBy: "COPY /app/hello . # buildkit", Size: 2_400_000},
	}}}
	cur := TargetResult{Target: "app", Duration: 8700 * time.Millisecond, Size: &ImageSize{Uncompressed: 2_401_200, Layers: []Layer{
		{CreatedBy: "WORKDIR /app # buildkit", Size: 0},
		{CreatedBy: "COPY /app/hello . # buildkit", Size: 2_401_200},
	}}}
	steps := []*Step{
		{Stage: -1, Text: "load build definition", State: StepDone},
		{Stage: 0, Line: 2, Text: "WORKDIR /app", State: StepCached},
		{Stage: 0, Line: 3, Text: "COPY /app/hello .", State: StepDone},
	}
	d := BuildDelta(prev, nil, cur, steps)
	got := strings.Join(d.Parts(3), " · ")
	want := "+1.2kB (2.4MB) · COPY /app/hello . +1.2kB · 8.7s (−1.3s) · ran 1 of 2 steps: COPY /app/hello ."
	if got != want {
		t.Errorf("Parts =\n%s\nwant\n%s", got, want)
	}
	// Only a saved size: the total changes, layers and time unknown.
	d = BuildDelta(nil, &SavedSize{Uncompressed: 2_500_000}, cur, nil)
	if got := strings.Join(d.Parts(3), " · "); got != "−98.8kB (2.4MB) · 8.7s" {
		t.Errorf("saved only: %s", got)
	}
	// A layer added and one gone.
	d = BuildDelta(prev, nil, TargetResult{Size: &ImageSize{Uncompressed: 10, Layers: []Layer{{Size: 0}}}}, nil)
	if len(d.Layers) != 1 || d.Layers[0].Delta != -2_400_000 {
		t.Errorf("layers = %+v", d.Layers)
	}
}
