package buildgraph

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"
)

func TestParsePlatformList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{in: "linux/amd64", want: []string{"linux/amd64"}},
		{in: "linux/amd64,linux/arm64", want: []string{"linux/amd64", "linux/arm64"}},
		{in: " linux/arm64/v8 , linux/amd64,linux/arm64", want: []string{"linux/arm64", "linux/amd64"}},
		{in: "linux/arm/v7,linux/riscv64", want: []string{"linux/arm/v7", "linux/riscv64"}},
		{in: "linux/amd64,", err: "empty platform"},
		{in: "linux/amd64,not a platform!", err: `invalid platform "not a platform!"`},
	} {
		got, err := ParsePlatformList(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// targetArchDockerfile picks its base stage by TARGETARCH, as Dockerfiles
// that differ per platform do.
const targetArchDockerfile = `
ARG TARGETARCH
FROM busybox AS base-amd64
RUN echo amd64 > /flavour

FROM busybox AS base-arm64
RUN echo arm64 > /flavour

FROM --platform=$BUILDPLATFORM golang:1.23 AS build
ARG TARGETOS TARGETARCH
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app .

FROM base-${TARGETARCH} AS final
COPY --from=build /out/app /app
RUN uname -m > /arch
`

var twoPlatforms = []string{"linux/amd64", "linux/arm64"}

func parseTwo(t *testing.T, src string, opts Options) *PlatformSet {
	t.Helper()
	set, err := ParsePlatforms(df(src), fixed(opts), twoPlatforms)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestPlatformsTargetArchBase(t *testing.T) {
	set := parseTwo(t, targetArchDockerfile, Options{Filename: "Dockerfile"})
	if set.Target() != "final" || set.TargetIndex() != 3 {
		t.Fatalf("target %q (%d), want final (3)", set.Target(), set.TargetIndex())
	}
	// Each platform builds its own base stage, and the cross-compiling
	// builder on the build platform.
	for i, want := range [][]int{{0, 2, 3}, {1, 2, 3}} {
		if got := set.Closures[i].Stages; !slices.Equal(got, want) {
			t.Errorf("%s builds stages %v, want %v", set.Platforms[i], got, want)
		}
	}
	final := set.Stages[3]
	if got := []string{final.On[0].From, final.On[1].From}; !slices.Equal(got, []string{"base-amd64", "base-arm64"}) {
		t.Errorf("final's FROM per platform: %q", got)
	}
	if !final.Differs() || !slices.Contains(final.Differences, "FROM base-amd64 on linux/amd64, base-arm64 on linux/arm64") {
		t.Errorf("final's differences: %q", final.Differences)
	}
	if d := set.Stages[1].Differences; !slices.Equal(d, []string{"built for linux/arm64 only"}) {
		t.Errorf("base-arm64's differences: %q", d)
	}
	build := set.Stages[2]
	if build.Differs() {
		t.Errorf("build differs: %q", build.Differences)
	}
	for _, o := range build.On {
		if o.RunsOn != "linux/amd64" || !o.Builds {
			t.Errorf("build for %s: runs on %q, builds %v; want linux/amd64, true", o.Platform, o.RunsOn, o.Builds)
		}
	}
	if n := build.note(); n != "runs on linux/amd64 for every platform" {
		t.Errorf("build's note %q", n)
	}
	if got := len(set.Differing()); got != 3 {
		t.Errorf("%d stages differ, want 3 (both bases and final)", got)
	}
}

func TestPlatformsImageDiffers(t *testing.T) {
	set := parseTwo(t, `
ARG TARGETARCH
FROM busybox:1.36-${TARGETARCH} AS final
`, Options{})
	want := "FROM busybox:1.36-amd64 on linux/amd64, busybox:1.36-arm64 on linux/arm64"
	if d := set.Stages[0].Differences; !slices.Equal(d, []string{want}) {
		t.Errorf("final's differences %q, want %q", d, want)
	}
}

func TestPlatformsSameEverywhere(t *testing.T) {
	set := parseTwo(t, `
FROM busybox AS build
RUN echo hi > /x
FROM scratch
COPY --from=build /x /x
`, Options{})
	if d := set.Differing(); len(d) != 0 {
		t.Errorf("stages differ on a Dockerfile without platform ARGs: %+v", d)
	}
	// The base stage runs on each target platform: emulated on arm64,
	// nothing to note.
	if n := set.Stages[0].note(); n != "" {
		t.Errorf("note %q", n)
	}
}

// A named context for one platform (NAME::PLATFORM) replaces the stage on
// that platform only.
func TestPlatformsNamedContextPerPlatform(t *testing.T) {
	set := parseTwo(t, `
FROM busybox AS tools
RUN echo built > /t
FROM scratch
COPY --from=tools /t /t
`, Options{Contexts: map[string]string{"tools::linux/arm64": "./prebuilt-arm64"}})
	tools := set.Stages[0]
	if !tools.On[0].Builds || tools.On[0].Replaced || tools.On[1].Builds || !tools.On[1].Replaced {
		t.Errorf("tools: %+v; want built for amd64, replaced for arm64", tools.On)
	}
}

func TestParsePlatformsBadInput(t *testing.T) {
	if _, err := ParsePlatforms(df(targetArchDockerfile), fixed(Options{Target: "nope"}), twoPlatforms); err == nil || !strings.Contains(err.Error(), `target stage "nope" could not be found`) {
		t.Errorf("unknown target: %v", err)
	}
	if _, err := ParsePlatforms(df(targetArchDockerfile), fixed(Options{}), nil); err == nil {
		t.Error("no platform: no error")
	}
}

func TestRenderPlatformsGolden(t *testing.T) {
	set := parseTwo(t, targetArchDockerfile, Options{Filename: "Dockerfile"})
	for _, tc := range []struct {
		name   string
		format Format
		opts   RenderOptions
	}{
		{"text", FormatText, RenderOptions{}},
		{"text-color", FormatText, RenderOptions{Color: true}},
		{"json", FormatJSON, RenderOptions{}},
		{"dot", FormatDOT, RenderOptions{}},
		{"mermaid", FormatMermaid, RenderOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderPlatforms(&buf, set, tc.format, tc.opts); err != nil {
				t.Fatal(err)
			}
			golden.RequireEqual(t, buf.Bytes())
		})
	}
}

// The JSON document for several platforms is the first platform's
// document with two lists added: a reader of schemaVersion 1 reads it.
func TestPlatformsJSONCompatible(t *testing.T) {
	set := parseTwo(t, targetArchDockerfile, Options{Filename: "Dockerfile"})
	var multi, single bytes.Buffer
	if err := WritePlatformsJSON(&multi, set, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&single, set.Graphs[0], RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	var m, s map[string]json.RawMessage
	if err := json.Unmarshal(multi.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(single.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	for k, v := range s {
		if !bytes.Equal(m[k], v) {
			t.Errorf("field %q differs from the single-platform document", k)
		}
	}
	if _, ok := s["platforms"]; ok {
		t.Error("the single-platform document has platforms")
	}
	var doc struct {
		Platforms []struct {
			Platform string `json:"platform"`
			Closure  struct {
				Stages []int `json:"stages"`
			} `json:"closure"`
		} `json:"platforms"`
		PlatformStages []struct {
			Name     string   `json:"name"`
			BuiltFor []string `json:"builtFor"`
			Differs  bool     `json:"differs"`
		} `json:"platformStages"`
	}
	if err := json.Unmarshal(multi.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Platforms) != 2 || doc.Platforms[1].Platform != "linux/arm64" || !slices.Equal(doc.Platforms[1].Closure.Stages, []int{1, 2, 3}) {
		t.Errorf("platforms: %+v", doc.Platforms)
	}
	if ps := doc.PlatformStages[0]; ps.Name != "base-amd64" || !slices.Equal(ps.BuiltFor, []string{"linux/amd64"}) || !ps.Differs {
		t.Errorf("platformStages[0]: %+v", ps)
	}
}

func TestStepTargetPlatform(t *testing.T) {
	for _, tc := range []struct{ prefix, target, runsOn string }{
		{"linux/arm64", "linux/arm64", "linux/arm64"},
		{"linux/amd64->arm64", "linux/arm64", "linux/amd64"},
		{"linux/amd64->arm/v7", "linux/arm/v7", "linux/amd64"},
		{"linux/amd64->windows/amd64", "windows/amd64", "linux/amd64"},
	} {
		target, runsOn := StepTargetPlatform(tc.prefix)
		if target != tc.target || runsOn != tc.runsOn {
			t.Errorf("%q: %q on %q, want %q on %q", tc.prefix, target, runsOn, tc.target, tc.runsOn)
		}
	}
}

// The recorded cross-compiling build for linux/amd64 and linux/arm64:
// each platform's steps by stage, in the order asked for, as build says
// them.
func TestPlatformProgressSummary(t *testing.T) {
	p := replay(t, recorded{name: "crossplatform", base: "golang"})
	groups := p.ByPlatform()
	SortPlatformProgress(groups, []string{"linux/arm64", "linux/amd64"})
	var got []string
	for _, g := range groups {
		got = append(got, g.Platform+"  "+g.Summary())
	}
	want := []string{
		"linux/arm64  builder (on linux/amd64) 1 step; stage-1 1 step",
		"linux/amd64  builder 3 steps; stage-1 1 step",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
