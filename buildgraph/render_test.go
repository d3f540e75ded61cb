package buildgraph

import (
	"bytes"
	"os"
	"slices"
	"testing"

	"github.com/charmbracelet/x/exp/golden"
)

// goldenGraph parses testdata/golden.Dockerfile with fixed platforms, so
// the golden files do not depend on the machine running the tests.
func goldenGraph(t *testing.T) *Graph {
	t.Helper()
	src, err := os.ReadFile("testdata/golden.Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse(src, Options{
		Filename:      "golden.Dockerfile",
		Platform:      "linux/arm64",
		BuildPlatform: "linux/amd64",
		BuildArgs:     map[string]string{"GO_VERSION": "1.23"},
		Contexts:      map[string]string{"busybox:1.36": "docker-image://busybox:1.36-musl"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestRenderGolden(t *testing.T) {
	g := goldenGraph(t)
	for _, tc := range []struct {
		name   string
		format Format
		opts   RenderOptions
	}{
		{"text", FormatText, RenderOptions{}},
		{"text-release", FormatText, RenderOptions{Target: "release"}},
		{"text-color", FormatText, RenderOptions{Target: "release", Color: true}},
		{"text-instructions", FormatText, RenderOptions{Target: "test", Instructions: true}},
		{"json", FormatJSON, RenderOptions{Target: "release"}},
		{"dot", FormatDOT, RenderOptions{Target: "release"}},
		{"mermaid", FormatMermaid, RenderOptions{Target: "release"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, g, tc.format, tc.opts); err != nil {
				t.Fatal(err)
			}
			golden.RequireEqual(t, buf.Bytes())
		})
	}
}

// A stage a named context replaces is shown as replaced, not built, in
// every format: BuildKit runs none of its instructions.
func TestRenderReplacedGolden(t *testing.T) {
	src := df(`
FROM alpine:3.19 AS base
RUN apk add --no-cache git
FROM base AS tools
RUN git --version > /v
FROM scratch AS final
COPY --from=tools /v /v
`)
	g, err := Parse(src, fixed(Options{Filename: "Dockerfile", Contexts: map[string]string{"base": "./prebuilt"}}))
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.Closure("final")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Replaced, []int{0}) || c.Built() != 2 || !c.IsReplaced(0) || c.IsReplaced(1) {
		t.Errorf("closure %+v: want stage 0 replaced, 2 built", c)
	}
	for _, f := range []Format{FormatText, FormatJSON, FormatDOT, FormatMermaid} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, g, f, RenderOptions{}); err != nil {
				t.Fatal(err)
			}
			golden.RequireEqual(t, buf.Bytes())
		})
	}
}
