package tui

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/stagescope/stagescope/buildgraph"
)

// TestLanesFollowTheWidth: the graph is laid out before the terminal's size
// is known; once it is, every edge that fits is drawn, without the user
// having to move the focus first. Narrowed again, the edges that no longer
// fit are left out (and the focused stage's are named under the drawing),
// and widened, drawn again.
func TestLanesFollowTheWidth(t *testing.T) {
	src := []byte(`FROM busybox AS base
RUN echo base

FROM base AS deps
RUN echo deps

FROM base AS test
COPY --from=deps /deps /deps
RUN echo test

FROM scratch AS final
COPY --from=deps /deps/blob /blob
`)
	g, err := buildgraph.Parse(src, buildgraph.Options{Filename: "Dockerfile"})
	if err != nil {
		t.Fatal(err)
	}
	v := NewGraphView(g, src, NewStyles(true), "")
	for _, tc := range []struct {
		width  int
		hidden bool
	}{{80, false}, {44, true}, {120, false}} {
		v.SetSize(tc.width, 30)
		screen := ansi.Strip(v.View())
		if got := v.layout.Hidden > 0 && strings.Contains(screen, "1 edge not drawn"); got != tc.hidden {
			t.Errorf("at %d columns, edges left out: %v, want %v\n%s", tc.width, got, tc.hidden, screen)
		}
	}
}

// platformProject is a Dockerfile of 60 stages: base stages, a build stage
// per service fanning in to images, a CLI cross-compiled for four
// platforms, tests, linters, and a release stage that needs most of them.
func platformProject(t testing.TB) Project {
	t.Helper()
	const file = "testdata/platform/Dockerfile"
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	g, err := buildgraph.Parse(src, buildgraph.Options{Filename: file})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Stages) != 60 {
		t.Fatalf("%s has %d stages, want 60", file, len(g.Stages))
	}
	return Project{Dockerfile: file, Source: src, Graph: g}
}

// TestBigGraphScreens renders the graph of a 60-stage Dockerfile at 80×24
// and 160×48: one row per stage (chosen because the boxes do not fit), the
// boxes asked for with v, only the target's stages, an edge selected and
// followed, and the focus moved far from the start.
func TestBigGraphScreens(t *testing.T) {
	tests := []struct {
		name string
		keys []string
	}{
		{"compact", nil},
		{"boxes", []string{"v"}},
		{"only-target", []string{"t"}},
		{"edge-selected", []string{"]", "]", "]"}},
		{"edge-followed", []string{"]", "]", "f"}},
		{"focus-moved", []string{"g", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j"}},
	}
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s-%dx%d", tt.name, size[0], size[1]), func(t *testing.T) {
				m, _ := newModel(t, modelOpts{proj: platformProject(t)}, size[0], size[1])
				press(t, m, tt.keys...)
				out := screenText(m)
				checkFrame(t, out, size[0], size[1])
				golden.RequireEqual(t, out)
			})
		}
	}
}
