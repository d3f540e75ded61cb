package pipeline

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/fakes"
)

func loadPlatforms(t *testing.T, dockerfile, platform string) (*Project, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(Input{ContextDir: dir, Platform: platform})
}

const perArch = `ARG TARGETARCH
FROM busybox AS base-amd64
FROM busybox AS base-arm64
FROM base-${TARGETARCH} AS final
RUN true
`

func TestLoadPlatforms(t *testing.T) {
	p, err := loadPlatforms(t, perArch, "linux/arm64/v8, linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Platforms, []string{"linux/arm64", "linux/amd64"}) || p.Base.Platform != "linux/arm64,linux/amd64" || p.Graph.Platform != "linux/arm64" {
		t.Errorf("platforms %q, request %q, graph for %q", p.Platforms, p.Base.Platform, p.Graph.Platform)
	}
	one, err := loadPlatforms(t, perArch, "linux/arm64")
	if err != nil || one.Platforms != nil || one.Base.Platform != "linux/arm64" {
		t.Errorf("one platform: %v, %q, %q", err, one.Platforms, one.Base.Platform)
	}
	var ie *InputError
	if _, err := loadPlatforms(t, perArch, "linux/amd64,"); !errors.As(err, &ie) {
		t.Errorf("an empty platform: %v, want an InputError", err)
	}
	if _, err := Load(Input{ContextDir: filepath.Dir(p.Dockerfile), Provenance: "sometimes"}); !errors.As(err, &ie) {
		t.Errorf("--provenance sometimes: %v, want an InputError", err)
	}
}

// A compare of two platforms has a row per target and platform, each with
// its platform's image, attributed with that platform's graph, and the
// attestations of that image.
func TestPlatformResults(t *testing.T) {
	p, err := loadPlatforms(t, perArch, "linux/amd64,linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := p.Plan("final", nil)
	if err != nil {
		t.Fatal(err)
	}
	img := func(platform string, n int64) *buildgraph.ImageSize {
		return &buildgraph.ImageSize{Platform: platform, Uncompressed: n, Compressed: n / 2, Layers: []buildgraph.Layer{
			{CreatedBy: "BusyBox", Size: n - 10}, {CreatedBy: "RUN /bin/sh -c true # buildkit", Size: 10},
		}}
	}
	amd, arm := img("linux/amd64", 2000), img("linux/arm64", 1800)
	index := *amd
	index.Platforms = []*buildgraph.ImageSize{amd, arm}
	index.Attestations = []buildgraph.Attestation{{Digest: "sha256:aa", For: "linux/arm64", Kind: "provenance", Size: 2000}}
	// The target's last size is no platform's; arm64's own is arm64's
	// row's, and amd64, never measured, has none.
	prev := &buildgraph.SavedSize{Uncompressed: 1}
	armPrev := buildgraph.SavedSize{Uncompressed: 1700, Compressed: 850, At: time.Unix(1, 0), Engine: "buildkitd"}
	rows := p.PlatformResults([]*Plan{plan}, []buildgraph.TargetResult{{Target: "final", Size: &index, Previous: prev,
		PlatformPrevious: map[string]buildgraph.SavedSize{"linux/arm64": armPrev}}})
	if len(rows) != 2 || rows[0].Platform != "linux/amd64" || rows[1].Platform != "linux/arm64" {
		t.Fatalf("rows %+v", rows)
	}
	if rows[1].Size.Uncompressed != 1800 || rows[1].Size.Platforms != nil || len(rows[1].Attestations) != 1 || len(rows[0].Attestations) != 0 {
		t.Errorf("arm64 row: size %+v, attestations %+v", rows[1].Size, rows[1].Attestations)
	}
	if rows[0].Previous != nil {
		t.Errorf("amd64, never measured, shows %+v", rows[0].Previous)
	}
	if rows[1].Previous == nil || *rows[1].Previous != armPrev {
		t.Errorf("arm64's previous %+v, want its own %+v", rows[1].Previous, armPrev)
	}
	if rows[0].PlatformPrevious != nil || rows[1].PlatformPrevious != nil {
		t.Error("a platform row keeps every platform's previous")
	}
	// An image not measured per platform (Docker's image store inspects
	// the whole) is no platform's own: no platform's previous either.
	whole := *amd
	rows2 := p.PlatformResults([]*Plan{plan}, []buildgraph.TargetResult{{Target: "final", Size: &whole,
		PlatformPrevious: map[string]buildgraph.SavedSize{"linux/arm64": armPrev}}})
	if len(rows2) != 2 || rows2[1].Previous != nil {
		t.Errorf("a whole image's arm64 row: %+v", rows2)
	}
	// A failed build keeps the platform's previous, as a failed target of
	// a build for one platform does.
	failed := p.PlatformResults([]*Plan{plan}, []buildgraph.TargetResult{{Target: "final", Error: "exit code 1",
		PlatformPrevious: map[string]buildgraph.SavedSize{"linux/arm64": armPrev}}})
	if len(failed) != 2 || failed[0].Previous != nil || failed[1].Previous == nil || failed[1].Error == "" {
		t.Errorf("failed rows %+v", failed)
	}
	// FROM base-${TARGETARCH}: the base chain differs per platform.
	if b := rows[1].Breakdown; b == nil || b.BaseRef != "busybox" {
		t.Errorf("arm64 breakdown %+v", rows[1].Breakdown)
	}
	// One platform: the results as they are.
	one, _ := loadPlatforms(t, perArch, "")
	in := []buildgraph.TargetResult{{Target: "final"}}
	if got := one.PlatformResults(nil, in); len(got) != 1 || got[0].Platform != "" {
		t.Errorf("one platform: %+v", got)
	}
}

func TestWithPlatforms(t *testing.T) {
	p, err := loadPlatforms(t, perArch, "linux/amd64,linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	arm, err := p.WithPlatforms([]string{"linux/arm64"})
	if err != nil || arm.Platforms != nil || arm.Base.Platform != "linux/arm64" || arm.Graph.Platform != "linux/arm64" {
		t.Fatalf("arm64 alone: %v, %q, %q", err, arm.Platforms, arm.Base.Platform)
	}
	if p.Base.Platform != "linux/amd64,linux/arm64" || len(p.Platforms) != 2 {
		t.Errorf("the project changed: %q", p.Base.Platform)
	}
	both, err := arm.WithPlatforms([]string{"linux/arm64", "linux/amd64"})
	if err != nil || !slices.Equal(both.Platforms, []string{"linux/arm64", "linux/amd64"}) || both.Base.Platform != "linux/arm64,linux/amd64" {
		t.Errorf("both: %v, %q", err, both.Platforms)
	}
	if same, _ := p.WithPlatforms(p.Platforms); same != p {
		t.Error("the same platforms made another project")
	}
	def, err := p.WithPlatforms(nil)
	if err != nil || def.Base.Platform != "" || def.Platforms != nil {
		t.Errorf("engine's default: %v, %q", err, def.Base.Platform)
	}
}

// A run for several platforms gives each result the saved size of each
// platform's image on the same kind of engine (what PlatformResults makes
// each row's previous), from the index of a build for several or a build
// for one; not the target's, not another engine's.
func TestRunPlatformPrevious(t *testing.T) {
	proj := recorded(t, "hello-final", "golang")
	proj.Platforms, proj.Base.Platform = []string{"linux/amd64", "linux/arm64"}, "linux/amd64,linux/arm64"
	at := time.Unix(100, 0).UTC()
	saved := map[string]buildgraph.SavedSize{
		"buildkitd/builder": {Uncompressed: 1, Engine: "buildkitd"},
		buildgraph.PlatformSavedKey("buildkitd/builder", "linux/arm64"): {Uncompressed: 270_000_000, At: at, Engine: "buildkitd"},
		buildgraph.PlatformSavedKey("docker/builder", "linux/amd64"):    {Uncompressed: 2, Engine: "docker"},
		// The unnamed last stage, by the key that survives renumbering.
		buildgraph.PlatformSavedKey(buildgraph.DefaultSavedKey("buildkitd"), "linux/amd64"): {Uncompressed: 2_300_000, At: at, Engine: "buildkitd"},
	}
	hist := &fakes.History{Saved: maps.Clone(saved)}
	r := Start(context.Background(), helloSession(t), proj, plans(t, proj, "builder", "stage-1"),
		Options{Measure: true, History: hist, Now: func() time.Time { return t0 }})
	follow(t, r)
	res := r.Outcome.Results
	if len(res) != 2 {
		t.Fatalf("results %+v", res)
	}
	if got := res[0].PlatformPrevious; len(got) != 1 || got["linux/arm64"].Uncompressed != 270_000_000 || !got["linux/arm64"].At.Equal(at) {
		t.Errorf("builder's platforms' previous %+v", got)
	}
	if got := res[1].PlatformPrevious; len(got) != 1 || got["linux/amd64"].Uncompressed != 2_300_000 {
		t.Errorf("stage-1's platforms' previous %+v", got)
	}
	if res[0].Previous == nil || res[0].Previous.Uncompressed != 1 {
		t.Errorf("builder's previous %+v, want the target's", res[0].Previous)
	}
	// A build for one platform given with --platform keeps none, and
	// compares with that platform's image when it was measured, else
	// with the target's last size as before.
	for _, tt := range []struct {
		platform string
		want     int64
	}{{"linux/arm64/v8", 270_000_000}, {"linux/amd64", 1}, {"", 1}} {
		one := recorded(t, "hello-final", "golang")
		one.Base.Platform = tt.platform
		hist := &fakes.History{Saved: maps.Clone(saved)}
		r = Start(context.Background(), helloSession(t), one, plans(t, one, "builder"),
			Options{Measure: true, History: hist, Now: func() time.Time { return t0 }})
		follow(t, r)
		got := r.Outcome.Results[0]
		if got.PlatformPrevious != nil || got.Previous == nil || got.Previous.Uncompressed != tt.want {
			t.Errorf("one platform %q: previous %+v, by platform %+v; want %d", tt.platform, got.Previous, got.PlatformPrevious, tt.want)
		}
	}
}
