package tui

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
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
func platformProject(t testing.TB) *pipeline.Project {
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
	return &pipeline.Project{Dockerfile: file, Source: src, Graph: g}
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

// TestBigGraphFocusVisible moves the focus over every stage of the
// 60-stage Dockerfile, in both layouts, and checks that the focused stage
// is on the screen, and its name in the pane title.
func TestBigGraphFocusVisible(t *testing.T) {
	p := platformProject(t)
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, layout := range []string{"auto", "v"} {
			m, _ := newModel(t, modelOpts{proj: p}, size[0], size[1])
			if layout == "v" {
				press(t, m, "v")
			}
			press(t, m, "g")
			for i := range p.Graph.Stages {
				f := m.graph().Focused()
				if f == nil || f.Index != i {
					t.Fatalf("%dx%d %s: focus %v, want stage %d", size[0], size[1], layout, f, i)
				}
				screen := screenText(m)
				lines := strings.Split(screen, "\n")
				if !strings.Contains(lines[1], "target "+f.Name) {
					t.Errorf("%dx%d %s: the title does not name %s: %q", size[0], size[1], layout, f.Name, lines[1])
				}
				name := f.Name[:min(len(f.Name), 10)] // long names are cut at 80 columns
				mark := "▶ " + name
				if !m.graph().layout.Compact {
					mark = "┏━ " + name
				}
				if !strings.Contains(screen, mark) {
					t.Errorf("%dx%d %s: %s is not on the screen:\n%s", size[0], size[1], layout, f.Name, screen)
				}
				press(t, m, "j")
			}
		}
	}
}

// TestEdgeFollow follows every edge of the release stage and back: each
// lands on the stage at the edge's other end, and following again returns.
func TestEdgeFollow(t *testing.T) {
	p := platformProject(t)
	m, _ := newModel(t, modelOpts{proj: p}, 80, 24)
	release, _ := p.Graph.Stage("release")
	edges := m.graph().stageEdges(release.Index)
	if len(edges) != 8 {
		t.Fatalf("release has %d edges to stages, want 8", len(edges))
	}
	for i, e := range edges {
		press(t, m, "k", "G") // leaving the stage clears the selection
		for range i + 1 {
			press(t, m, "]")
		}
		if m.graph().edge != e {
			t.Fatalf("after %d × ], edge %d is selected, want %d", i+1, m.graph().edge, e)
		}
		press(t, m, "f")
		if got, want := m.graph().Focused().Index, p.Graph.Edges[e].From.Index; got != want {
			t.Errorf("following edge %d focused stage %d, want %d", e, got, want)
		}
		press(t, m, "f")
		if got := m.graph().Focused().Index; got != release.Index {
			t.Errorf("following edge %d back focused stage %d, want release", e, got)
		}
	}
	// Only the target's stages: t hides the skipped ones, t again shows all.
	press(t, m, "G", "t")
	if got := len(m.graph().shown); got != 38 {
		t.Errorf("t shows %d stages, want the 38 release builds", got)
	}
	press(t, m, "t")
	if got := len(m.graph().shown); got != 60 {
		t.Errorf("t again shows %d stages, want 60", got)
	}
}
