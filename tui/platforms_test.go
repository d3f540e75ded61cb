package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/pipeline"
)

// crossProject is the recorded hello-crossplatform build's Dockerfile, for
// the platforms given (none: the engine's own).
func crossProject(t testing.TB, platforms ...string) *pipeline.Project {
	t.Helper()
	file := filepath.Join(fakes.StatusDir, "crossplatform", "Dockerfile")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	contexts := map[string]string{"golang": "/bases/golang"}
	g, err := buildgraph.Parse(src, buildgraph.Options{Filename: file, Contexts: contexts, Platform: "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline.Project{
		Dockerfile: file, Source: src, Graph: g,
		Base: engine.BuildRequest{ContextDir: filepath.Dir(file), Dockerfile: file, Contexts: contexts},
	}
	if len(platforms) > 0 {
		if p, err = p.WithPlatforms(platforms); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// perArchProject is a Dockerfile whose final stage starts from a base
// stage of its platform's own, for linux/amd64 and linux/arm64.
func perArchProject(t testing.TB) *pipeline.Project {
	t.Helper()
	file := filepath.Join("testdata", "perarch", "Dockerfile")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	g, err := buildgraph.Parse(src, buildgraph.Options{Filename: file, Platform: "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline.Project{Dockerfile: file, Source: src, Graph: g,
		Base: engine.BuildRequest{ContextDir: filepath.Dir(file), Dockerfile: file}}
	if p, err = p.WithPlatforms([]string{"linux/amd64", "linux/arm64"}); err != nil {
		t.Fatal(err)
	}
	return p
}

// crossSession replays the build of both platforms; its image is an index
// of the two platforms' images, with a provenance attestation of each.
func crossSession(t testing.TB) *fakes.Session {
	img := func(platform string, n int64) *buildgraph.ImageSize {
		return &buildgraph.ImageSize{Ref: "stagescope/crossplatform:stage-1", Platform: platform, Uncompressed: n, Compressed: n / 2,
			Store: "buildkitd content store", Layers: []buildgraph.Layer{
				{CreatedBy: "COPY /app/hello /hello # buildkit", Size: n, Compressed: n / 2},
				{CreatedBy: `ENTRYPOINT ["/hello"]`, Empty: true},
			}}
	}
	amd, arm := img("linux/amd64", 2_412_000), img("linux/arm64", 2_331_000)
	index := *amd
	index.Platforms = []*buildgraph.ImageSize{amd, arm}
	index.Attestations = []buildgraph.Attestation{
		{Digest: "sha256:5a1c0ffee0123456789abcdef", For: "linux/amd64", Kind: "provenance", Size: 1_320},
		{Digest: "sha256:6b2d0ffee0123456789abcdef", For: "linux/arm64", Kind: "provenance", Size: 1_318},
	}
	return &fakes.Session{
		Engine:  "buildkitd",
		Streams: map[string][]*client.SolveStatus{"": fakes.Stream(t, "crossplatform")},
		Sizes:   map[string]*buildgraph.ImageSize{"stagescope/crossplatform:stage-1": &index},
	}
}

// TestPlatformScreens renders the screens of a build for linux/amd64 and
// linux/arm64, replayed from the recording, at 80×24 and 160×48.
func TestPlatformScreens(t *testing.T) {
	cross := func(t *testing.T) modelOpts {
		return modelOpts{proj: crossProject(t, "linux/amd64", "linux/arm64"), session: crossSession(t)}
	}
	perArch := func(t *testing.T) modelOpts {
		return modelOpts{proj: perArchProject(t), session: crossSession(t)}
	}
	tests := []struct {
		name string
		opts func(t *testing.T) modelOpts
		do   func(t *testing.T, m *Model)
	}{
		// FROM base-${TARGETARCH}: each platform builds its own base
		// stage, both marked as differing.
		{"graph-per-arch", perArch, nil},
		{"graph-per-arch-compact", perArch, func(t *testing.T, m *Model) { press(t, m, "v") }},
		{"help", perArch, func(t *testing.T, m *Model) { press(t, m, "?") }},
		// The final stage focused: builder runs on the build platform for
		// both.
		{"graph", cross, nil},
		{"picker", cross, func(t *testing.T, m *Model) { press(t, m, "p") }},
		{"build-done", cross, func(t *testing.T, m *Model) {
			press(t, m, "enter")
			drain(t, m, -1)
		}},
		{"compare", cross, func(t *testing.T, m *Model) {
			press(t, m, "enter")
			drain(t, m, -1)
			press(t, m, "c")
		}},
		{"compare-arm64", cross, func(t *testing.T, m *Model) {
			press(t, m, "enter")
			drain(t, m, -1)
			press(t, m, "c", "j")
		}},
	}
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s-%dx%d", tt.name, size[0], size[1]), func(t *testing.T) {
				m, _ := newModel(t, tt.opts(t), size[0], size[1])
				if tt.do != nil {
					tt.do(t, m)
				}
				out := screenText(m)
				checkFrame(t, out, size[0], size[1])
				golden.RequireEqual(t, out)
			})
		}
	}
}

// A build for two platforms compares a row per platform, each with its
// own image's size, and never the index's attestations as a platform.
func TestPlatformCompareRows(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: crossProject(t, "linux/amd64", "linux/arm64"), session: crossSession(t)}, 160, 48)
	press(t, m, "enter")
	drain(t, m, -1)
	if len(m.results) != 2 || m.results[0].Platform != "linux/amd64" || m.results[1].Platform != "linux/arm64" {
		t.Fatalf("results %+v", m.results)
	}
	if m.results[1].Size.Uncompressed != 2_331_000 || len(m.results[1].Attestations) != 1 {
		t.Errorf("arm64 row %+v", m.results[1])
	}
	press(t, m, "c")
	out := screenText(m)
	for _, want := range []string{"linux/amd64", "linux/arm64", "2.41MB", "2.33MB"} {
		if !strings.Contains(out, want) {
			t.Errorf("compare lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "unknown/unknown") {
		t.Errorf("an attestation shown as a platform:\n%s", out)
	}
	// Built again for one platform: its rows are replaced by one.
	m.addResults([]buildgraph.TargetResult{{Target: "stage-1"}})
	if len(m.results) != 1 || m.results[0].Platform != "" {
		t.Errorf("after a build of one platform: %+v", m.results)
	}
}

// Each platform row of the compare screen says what that platform's image
// measured last time; a platform never measured says nothing.
func TestPlatformCompareLastTime(t *testing.T) {
	hist := &fakes.History{Saved: map[string]buildgraph.SavedSize{
		buildgraph.SavedKey("buildkitd", "stage-1"): {Uncompressed: 9_000_000, At: t0.Add(-time.Hour), Engine: "buildkitd"},
		buildgraph.PlatformSavedKey(buildgraph.SavedKey("buildkitd", "stage-1"), "linux/arm64"): {Uncompressed: 2_300_000, Compressed: 1_150_000,
			At: t0.Add(-3 * time.Hour), Engine: "buildkitd"},
	}}
	m, _ := newModel(t, modelOpts{proj: crossProject(t, "linux/amd64", "linux/arm64"), session: crossSession(t), history: hist}, 160, 48)
	press(t, m, "enter")
	drain(t, m, -1)
	if len(m.results) != 2 || m.results[0].Previous != nil || m.results[1].Previous == nil || m.results[1].Previous.Uncompressed != 2_300_000 {
		t.Fatalf("results %+v", m.results)
	}
	// The delta line gives each platform's change against its own last
	// image: arm64 was measured before, amd64 never.
	if out := screenText(m); !strings.Contains(out, "Δ stage-1 linux/amd64 2.41MB · linux/arm64 +31kB (2.33MB)") {
		t.Errorf("no delta line per platform:\n%s", out)
	}
	press(t, m, "c")
	if out := screenText(m); strings.Contains(out, "last time") {
		t.Errorf("amd64, never measured, has a last time:\n%s", out)
	}
	press(t, m, "j")
	if out := screenText(m); !strings.Contains(out, "last time 2.3MB, 3 hours ago (+31kB)") {
		t.Errorf("arm64's last time missing:\n%s", out)
	}
}

// p opens the picker; its choice is the next build's platforms, in the
// header, and the graph is the Dockerfile for them.
func TestPlatformPicker(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: crossProject(t, "linux/amd64", "linux/arm64"), session: crossSession(t)}, 160, 48)
	if !strings.Contains(screenText(m), "linux/amd64,linux/arm64") {
		t.Fatalf("the header does not name the platforms:\n%s", screenText(m))
	}
	// Leave amd64 out: the next build is for arm64 alone.
	press(t, m, "p", "space", "enter")
	if m.picker != nil {
		t.Fatal("the picker stays open")
	}
	p := m.opts.Project
	if p.Base.Platform != "linux/arm64" || p.Platforms != nil || m.graph().g != p.Graph || p.Graph.Platform != "linux/arm64" {
		t.Errorf("after the picker: %q %q", p.Base.Platform, p.Platforms)
	}
	if !strings.Contains(m.notice, "linux/arm64") {
		t.Errorf("notice %q", m.notice)
	}
	// esc leaves the choice as it was.
	press(t, m, "p", "a", "esc")
	if m.opts.Project.Base.Platform != "linux/arm64" {
		t.Errorf("esc changed the platforms: %q", m.opts.Project.Base.Platform)
	}
	// All of them again.
	press(t, m, "p", "a", "enter")
	if got := m.opts.Project.Base.Platform; got != "linux/amd64,linux/arm64" {
		t.Errorf("all: %q", got)
	}
	// Without a platform given, p waits for the engine's.
	one, _ := newModel(t, modelOpts{proj: crossProject(t), session: crossSession(t)}, 160, 48)
	if one.keys.Platforms.Enabled() {
		t.Error("p is enabled with nothing to choose")
	}
	one.Update(enginePlatformsMsg{platforms: []string{"linux/amd64", "linux/arm64", "linux/386"}})
	if !one.keys.Platforms.Enabled() {
		t.Error("p is disabled with the engine's platforms known")
	}
	press(t, one, "p", "space", "down", "space", "enter")
	if got := one.opts.Project.Base.Platform; got != "linux/amd64,linux/arm64" {
		t.Errorf("engine's platforms chosen: %q", got)
	}
	// More platforms than the body holds: the list scrolls with the cursor.
	many, _ := newModel(t, modelOpts{proj: crossProject(t), session: crossSession(t)}, 80, 24)
	var plats []string
	for i := range 20 {
		plats = append(plats, fmt.Sprintf("linux/arm/v%d", i+1))
	}
	many.Update(enginePlatformsMsg{platforms: plats})
	press(t, many, "p")
	for range 19 {
		press(t, many, "down")
	}
	out := screenText(many)
	checkFrame(t, out, 80, 24)
	if !strings.Contains(out, "▶ [ ] linux/arm/v20") {
		t.Errorf("the cursor is out of view:\n%s", out)
	}
}
