package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

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
		if got := v.layout.Hidden > 0 && strings.Contains(screen, "1 edge of final not dra"); got != tc.hidden {
			t.Errorf("at %d columns, edges left out: %v, want %v\n%s", tc.width, got, tc.hidden, screen)
		}
	}
}
