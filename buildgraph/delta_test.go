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
	// The steps that ran say why, each in a few words.
	steps = []*Step{
		{Stage: 0, Line: 2, Text: "COPY src/ .", State: StepDone, Why: &Reason{Kind: ReasonFilesChanged,
			Files: []FileChange{{Path: "src/a.txt", Change: FileModified}, {Path: "src/b.txt", Change: FileAdded}}, FilesChanged: 2}},
		{Stage: 0, Line: 3, Text: "RUN go build", State: StepDone, Why: &Reason{Kind: ReasonParentRan}},
		{Stage: 0, Line: 4, Text: "ARG V", State: StepCached},
		{Stage: 0, Line: 5, Text: "RUN echo $V", State: StepDone, Why: &Reason{Kind: ReasonBuildArgChanged, Args: []ArgChange{{Name: "V"}}}},
		{Stage: 1, Line: 7, Text: "COPY --from=build /out /", State: StepDone, Why: &Reason{Kind: ReasonSourceStageRan, Stage: "build"}},
		{Stage: 1, Line: 8, Text: "RUN true", State: StepDone},
	}
	d = BuildDelta(nil, nil, TargetResult{}, steps)
	want = "ran 5 of 6 steps: COPY src/ . (files-changed: src/a.txt +1 more), RUN go build (parent-ran), " +
		"RUN echo $V (build-arg-changed: V), COPY --from=build /out / (source-stage-ran: build), RUN true"
	if got := strings.Join(d.Parts(3), " · "); got != want {
		t.Errorf("with reasons:\n%s\nwant\n%s", got, want)
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

// A build for several platforms changes each platform's image on its own:
// the delta says each platform's change against that platform's last
// image (from the previous build's index, else its saved size), and no
// layer by position, which would mix the platforms' layers.
func TestBuildDeltaPlatforms(t *testing.T) {
	index := func(amd, arm int64) *ImageSize {
		a := &ImageSize{Platform: "linux/amd64", Uncompressed: amd, Layers: []Layer{{CreatedBy: "COPY x / # buildkit", Size: amd}}}
		b := &ImageSize{Platform: "linux/arm64", Uncompressed: arm, Layers: []Layer{{CreatedBy: "COPY x / # buildkit", Size: arm}}}
		return &ImageSize{Platform: "linux/amd64", Uncompressed: amd, Layers: a.Layers, Platforms: []*ImageSize{a, b}}
	}
	cur := TargetResult{Target: "app", Size: index(2_400_000, 2_330_000),
		PlatformPrevious: map[string]SavedSize{"linux/arm64": {Uncompressed: 2_300_000}}}
	got := strings.Join(BuildDelta(nil, nil, cur, nil).Parts(2), " · ")
	if want := "linux/amd64 2.4MB · linux/arm64 +30kB (2.33MB)"; got != want {
		t.Errorf("against the saved sizes: %q, want %q", got, want)
	}
	prev := &TargetResult{Target: "app", Size: index(2_500_000, 2_330_000)}
	got = strings.Join(BuildDelta(prev, nil, cur, nil).Parts(2), " · ")
	if want := "linux/amd64 −100kB (2.4MB) · linux/arm64 ±0B (2.33MB)"; got != want {
		t.Errorf("against the previous build: %q, want %q", got, want)
	}
}

// A build for one platform after one for several compares with its saved
// size, not with the index's first image.
func TestBuildDeltaAfterIndex(t *testing.T) {
	a := &ImageSize{Platform: "linux/amd64", Uncompressed: 2_400_000}
	b := &ImageSize{Platform: "linux/arm64", Uncompressed: 2_330_000}
	prev := &TargetResult{Target: "app", Size: &ImageSize{Platform: "linux/amd64", Uncompressed: 2_400_000, Platforms: []*ImageSize{a, b}}}
	cur := TargetResult{Target: "app", Size: &ImageSize{Uncompressed: 2_340_000}}
	saved := &SavedSize{Uncompressed: 2_330_000}
	if got := strings.Join(BuildDelta(prev, saved, cur, nil).Parts(2), " · "); got != "+10kB (2.34MB)" {
		t.Errorf("delta %q, want +10kB against the saved arm64 size", got)
	}
}
