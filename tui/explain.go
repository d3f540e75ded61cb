package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/stagescope/stagescope/buildgraph"
)

// proseWidth is the widest line of explanation: readable on a projector.
const proseWidth = 70

// ExplainView lays out buildgraph.Explain's words about the focused stage:
// each instruction, what the stage carries into the final image and what it
// leaves behind, and what --target does with it. The graph owns it and
// hands it the focused stage, the sizes measured so far, and the results of
// the builds.
type ExplainView struct {
	keys   ExplainKeyMap
	styles Styles
	g      *buildgraph.Graph
	pair   buildgraph.BuilderPair

	width, height int
	offset        int
	stage         int
	sizes         map[int]int64
	results       []buildgraph.TargetResult
}

// NewExplainView returns the explanation of g's stages; pair says whether
// the Dockerfile is one half of the builder pattern.
func NewExplainView(g *buildgraph.Graph, pair buildgraph.BuilderPair, styles Styles) ExplainView {
	return ExplainView{keys: DefaultExplainKeyMap(), styles: styles, g: g, pair: pair, stage: -1}
}

// KeyMap is the panel's key map, for help.
func (v ExplainView) KeyMap() ExplainKeyMap { return v.keys }

// SetSize sets the size of the panel.
func (v *ExplainView) SetSize(w, h int) { v.width, v.height = w, h }

// SetStage explains stage i, from the top when it is another stage.
func (v *ExplainView) SetStage(i int) {
	if i != v.stage {
		v.stage, v.offset = i, 0
	}
}

// SetMeasured gives the panel the image sizes by stage and the results of
// the builds so far.
func (v *ExplainView) SetMeasured(sizes map[int]int64, results []buildgraph.TargetResult) {
	v.sizes, v.results = sizes, results
}

// Scroll moves the text by n lines.
func (v *ExplainView) Scroll(n int) { v.offset = max(v.offset+n, 0) }

// page is the number of lines a page key scrolls.
func (v ExplainView) page() int { return max(v.height-2, 1) }

// View draws the panel: a title line and the wrapped text.
func (v ExplainView) View() string {
	s := v.styles
	if v.stage < 0 || v.stage >= len(v.g.Stages) {
		return fit([]string{s.PaneTitle.Render(" ▌Explain")}, v.width, v.height)
	}
	st := v.g.Stages[v.stage]
	wrap := min(proseWidth, v.width-3)
	var lines []string
	for _, p := range buildgraph.Explain(v.g, v.stage, v.pair, buildgraph.Measured{Sizes: v.sizes, Results: v.results}) {
		lines = append(lines, paragraph(p, s, wrap)...)
	}
	h := max(v.height-1, 1)
	off := min(v.offset, max(len(lines)-h, 0))
	title := s.PaneTitle.Foreground(s.NodeFocus.GetForeground()).Render(
		fmt.Sprintf(" ▌Explain · %s (stage %d; %d in all)", clean(st.Name), st.Index, len(v.g.Stages)))
	if len(lines) > h {
		more := fmt.Sprintf(" lines %d–%d of %d ", off+1, min(off+h, len(lines)), len(lines))
		title = truncate(title, v.width-len(more)-1) + " " + s.Muted.Render(more)
	}
	body := lines[off:]
	if len(body) > h {
		body = body[:h]
	}
	return fit(append([]string{title}, body...), v.width, v.height)
}

// paragraph draws one paragraph of the explanation, wrapped to width.
func paragraph(p buildgraph.Paragraph, s Styles, width int) []string {
	if p.Kind == buildgraph.ParagraphBlank {
		return []string{""}
	}
	st := lipgloss.NewStyle()
	switch p.Kind {
	case buildgraph.ParagraphHeading:
		st = s.Title
	case buildgraph.ParagraphCode:
		st = s.Bold
	case buildgraph.ParagraphMeasure:
		st = s.Good
	}
	pad := strings.Repeat(" ", p.Indent+1)
	var out []string
	for _, l := range strings.Split(ansi.Wrap(p.Text, max(width-p.Indent-1, 10), ""), "\n") {
		out = append(out, pad+st.Render(l))
	}
	return out
}
