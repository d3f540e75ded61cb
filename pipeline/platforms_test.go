package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stagescope/stagescope/buildgraph"
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
	prev := &buildgraph.SavedSize{Uncompressed: 1}
	rows := p.PlatformResults([]*Plan{plan}, []buildgraph.TargetResult{{Target: "final", Size: &index, Previous: prev}})
	if len(rows) != 2 || rows[0].Platform != "linux/amd64" || rows[1].Platform != "linux/arm64" {
		t.Fatalf("rows %+v", rows)
	}
	if rows[1].Size.Uncompressed != 1800 || rows[1].Size.Platforms != nil || len(rows[1].Attestations) != 1 || len(rows[0].Attestations) != 0 {
		t.Errorf("arm64 row: size %+v, attestations %+v", rows[1].Size, rows[1].Attestations)
	}
	if rows[0].Previous != nil || rows[1].Previous != nil {
		t.Error("a platform row shows the last saved size of the target")
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
