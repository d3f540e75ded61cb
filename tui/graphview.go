package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
)

// buildTargetsMsg asks the root to build targets (target arguments: a stage
// name, or "" for the last stage).
type buildTargetsMsg struct{ targets []string }

// graphTitle names the graph screen.
const graphTitle = "Graph"

// GraphView is the stage graph and the details of the focused stage.
type GraphView struct {
	baseScreen
	keys   GraphKeyMap
	styles Styles
	g      *buildgraph.Graph
	source []string // Dockerfile lines

	predictions map[string]*pipeline.Prediction // the next build of each target

	width, height int
	shown         []int // stage indexes that pass the filter
	cursor        int   // index in shown
	offset        int   // first row of the drawing shown
	detailsOff    int   // first line of the details shown
	focusDetails  bool
	filter        filterInput
	filtering     bool

	layout       dagLayout
	mode         layoutMode
	closure      buildgraph.Closure
	closureErr   error
	closureStage int
	// project is the Dockerfile's project; with several platforms,
	// platforms is the focused target's build on each (platformsErr why
	// there is none).
	project      *pipeline.Project
	platforms    *buildgraph.PlatformSet
	platformsErr error

	// Build state, from the root.
	progress *buildgraph.Progress
	run      *buildRun
	sizes    map[int]int64 // stage → last known image size
	frame    string        // the spinner frame
	results  []buildgraph.TargetResult

	explain    ExplainView
	explaining bool

	// only is the stage whose target build alone is shown (-1: every
	// stage), onlyStages the stages that build.
	only       int
	onlyStages []int
	// edge is the selected edge of the focused stage (an index in g.Edges),
	// -1 when none is.
	edge int
}

// layoutMode says how stages are drawn: boxes of three rows, or one row per
// stage (compact); auto picks boxes when they fit the height.
type layoutMode int

const (
	layoutAuto layoutMode = iota
	layoutBoxes
	layoutCompact
)

// NewGraphView returns the graph of g, the stage named focus focused.
func NewGraphView(g *buildgraph.Graph, source []byte, styles Styles, focus string) GraphView {
	v := GraphView{keys: DefaultGraphKeyMap(), styles: styles, g: g, closureStage: -1, only: -1, edge: -1}
	v.explain = NewExplainView(g, buildgraph.BuilderPair{}, styles)
	if len(source) > 0 {
		v.source = strings.Split(strings.ReplaceAll(string(source), "\r\n", "\n"), "\n")
	}
	v.applyFilter()
	v.cursor = len(v.shown) - 1
	if st, ok := g.Stage(focus); ok && focus != "" {
		for i, s := range v.shown {
			if s == st.Index {
				v.cursor = i
			}
		}
	}
	v.refresh()
	return v
}

func newGraphScreen(opts Options, s Styles) Screen {
	v := NewGraphView(opts.Project.Graph, opts.Project.Source, s, opts.Target)
	v.SetBuilderPair(opts.Project.BuilderPair)
	v.SetProject(opts.Project)
	return &v
}

// Title names the screen.
func (v GraphView) Title() string { return graphTitle }

// SetGraph shows the Dockerfile as it is now: the focus stays on the stage
// of the same name (the unnamed last stage stays last), the filter and
// the layout mode stay, a selected edge and "only this target" end.
func (v *GraphView) SetGraph(g *buildgraph.Graph, source []byte, pair buildgraph.BuilderPair) {
	name, last := "", false
	if f := v.Focused(); f != nil {
		name, last = f.Name, f.Index == len(v.g.Stages)-1 && !f.Named
	}
	v.g = g
	v.source = nil
	if len(source) > 0 {
		v.source = strings.Split(strings.ReplaceAll(string(source), "\r\n", "\n"), "\n")
	}
	v.explain.g, v.explain.pair = g, pair
	v.only, v.onlyStages, v.edge = -1, nil, -1
	v.shown, v.cursor = v.shown[:0], -1
	v.closureStage, v.layout = -1, dagLayout{}
	v.applyFilter()
	v.cursor = len(v.shown) - 1
	if st, ok := g.Stage(name); ok && name != "" && !last {
		v.focusShown(st.Index)
	}
	v.refresh()
}

// KeyMap is the graph's key map, for help.
func (v GraphView) KeyMap() GraphKeyMap { return v.keys }

// Help lists the graph's keys: the filter's alone while it is typed in,
// the explain panel's while it is open.
func (v GraphView) Help(g GlobalKeyMap) (short []key.Binding, full [][]key.Binding) {
	k := v.keys
	if v.filtering {
		return []key.Binding{k.Accept, k.Clear}, [][]key.Binding{{k.Accept, k.Clear}}
	}
	if v.explaining {
		ek := v.explain.KeyMap()
		short = []key.Binding{k.Up, k.Down, ek.PageDown, ek.Close, k.Build}
		full = [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {ek.PageUp, ek.PageDown, ek.Close}, {k.Build, k.Logs, k.Filter}}
		return short, full
	}
	short = []key.Binding{k.Up, k.Down, k.Build, k.Explain, k.Filter, k.Clear, k.Pane, g.BuildAll}
	full = [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom, k.Pane, k.NextEdge, k.PrevEdge, k.Follow}, {k.Build, k.Rebuild, k.Explain, k.Logs, k.Filter, k.Clear, k.Layout, k.Only}}
	return short, full
}

// Captures: the filter input takes every key while it is typed in.
func (v GraphView) Captures() bool { return v.filtering }

// Back clears a filter kept with enter (the explain panel closes first).
func (v *GraphView) Back() bool {
	if v.explaining || v.filtering || v.filter.Value() == "" {
		return false
	}
	v.filter.SetValue("")
	v.keys.Clear.SetEnabled(false)
	v.applyFilter()
	return true
}

// Status is the running build's summary, else what enter does.
func (v GraphView) Status(build func() string) string {
	if s := build(); s != "" {
		return s
	}
	if f := v.Focused(); f != nil {
		if _, ok := targetArg(v.g, f); ok {
			return " " + v.styles.Muted.Render("enter builds "+clean(f.Name)+" as the target")
		}
	}
	return ""
}

// syncBuild takes the build state in: the run, the results, and the image
// sizes known by stage, from this session or saved for the engine in use.
func (v *GraphView) syncBuild(msg buildStateMsg) {
	sizes := map[int]int64{}
	for _, t := range v.g.Targets() {
		name := v.g.Stages[t.Stage].Name
		if s, ok := buildgraph.LookupSaved(msg.saved, msg.kind, v.g, name); ok && msg.kind != "" {
			sizes[t.Stage] = s.Uncompressed
		}
	}
	// With several Dockerfiles, the results and the build of this one
	// (story.go).
	results := ofGraph(msg.results, v.g)
	measured := map[int]bool{}
	for _, r := range results {
		// A build for several platforms has a row per platform: the
		// graph is the first platform's, and so is its size.
		if st, ok := v.g.Stage(r.Target); ok && r.Size != nil && !measured[st.Index] {
			sizes[st.Index] = r.Size.Uncompressed
			measured[st.Index] = r.Platform != ""
		}
	}
	run := msg.run
	if run != nil && run.Run != nil && run.Project != nil && run.Project.Graph != v.g {
		run = nil
	}
	v.SetResults(results)
	v.SetBuild(run, sizes, msg.frame)
}

// Explaining reports whether the explain panel is open.
func (v GraphView) Explaining() bool { return v.explaining }

// SetBuilderPair tells the explain panel that the Dockerfile is one half of
// the builder pattern.
func (v *GraphView) SetBuilderPair(p buildgraph.BuilderPair) { v.explain.pair = p }

// SetResults gives the explain panel the latest result of each target.
func (v *GraphView) SetResults(results []buildgraph.TargetResult) {
	v.results = results
	v.explain.SetMeasured(v.sizes, results)
}

func (v *GraphView) setExplaining(on bool) {
	v.explaining = on
	v.keys.Pane.SetEnabled(!on)
	if on {
		v.focusDetails = false
	}
	v.refresh()
}

// Filtering reports whether the filter input has the keyboard.
func (v GraphView) Filtering() bool { return v.filtering }

// SetSize sets the size of the whole screen.
func (v *GraphView) SetSize(w, h int) {
	lanes, oldH := v.maxLanes(), v.height
	v.width, v.height = w, h
	v.explain.SetSize(v.explainWidth(), h)
	// The first size too: the layout was made for width 0. The height
	// decides whether boxes fit.
	if v.maxLanes() != lanes || h != oldH {
		v.relayout()
	}
	v.refresh()
}

// explainWide is the width from which the explain panel fits beside the
// graph; below it the panel takes the whole screen.
const explainWide = 150

func (v GraphView) explainWidth() int {
	if v.width >= explainWide {
		return v.width - v.graphWidth()
	}
	return v.width
}

// SetStyles switches the styles (the background changed).
func (v *GraphView) SetStyles(s Styles) {
	v.styles = s
	v.explain.styles = s
}

// SetBuild gives the graph the state of the current build and the last
// known image sizes by stage.
func (v *GraphView) SetBuild(r *buildRun, sizes map[int]int64, frame string) {
	v.run, v.sizes, v.frame = r, sizes, frame
	v.explain.SetMeasured(sizes, v.results)
	v.progress = nil
	// The states of a build of other bytes than the graph's would land on
	// the wrong stages and lines.
	if r != nil && (r.project == nil || r.project.Graph == v.g) {
		v.progress = r.Progress
	}
}

// Focused returns the focused stage, nil when the filter matches none.
func (v GraphView) Focused() *buildgraph.Stage {
	if v.cursor < 0 || v.cursor >= len(v.shown) {
		return nil
	}
	return v.g.Stages[v.shown[v.cursor]]
}

// Focus focuses a stage by index (clearing a filter, and showing every
// stage, when that hides it).
func (v *GraphView) Focus(stage int) {
	if v.focusShown(stage) {
		return
	}
	v.filter.SetValue("")
	v.only, v.onlyStages = -1, nil
	v.applyFilter()
	v.focusShown(stage)
}

func (v *GraphView) focusShown(stage int) bool {
	for i, s := range v.shown {
		if s == stage {
			v.cursor = i
			v.refresh()
			return true
		}
	}
	return false
}

// targetArg returns the target argument that builds stage s, and whether
// BuildKit can build it as a target: named stages and the last stage.
func targetArg(g *buildgraph.Graph, s *buildgraph.Stage) (string, bool) {
	switch {
	case s.Named:
		return s.Name, true
	case s.Index == len(g.Stages)-1:
		return "", true
	}
	return "", false
}

func (v *GraphView) applyFilter() {
	q := strings.ToLower(strings.TrimSpace(v.filter.Value()))
	var cur = -1
	if f := v.Focused(); f != nil {
		cur = f.Index
	}
	v.shown = v.shown[:0]
	for _, s := range v.g.Stages {
		if v.only >= 0 && !slices.Contains(v.onlyStages, s.Index) {
			continue
		}
		// Names match; bases only when asked: "from:golang".
		match := strings.Contains(strings.ToLower(s.Name), q)
		if base, ok := strings.CutPrefix(q, "from:"); ok {
			match = strings.Contains(strings.ToLower(s.Base.Ref), strings.TrimSpace(base))
		}
		if q == "" || match {
			v.shown = append(v.shown, s.Index)
		}
	}
	v.cursor = min(max(v.cursor, 0), len(v.shown)-1)
	for i, s := range v.shown {
		if s == cur {
			v.cursor = i
		}
	}
	v.closureStage = -1
	v.refresh()
}

// refresh recomputes the closure of the focused stage and the layout.
func (v *GraphView) refresh() {
	f := v.Focused()
	if f == nil {
		v.closure, v.closureStage = buildgraph.Closure{}, -1
		v.relayout()
		v.explain.SetStage(-1)
		return
	}
	v.explain.SetStage(f.Index)
	if v.edge >= 0 && !slices.Contains(v.stageEdges(f.Index), v.edge) {
		v.edge = -1
	}
	if f.Index != v.closureStage || v.layout.Nodes == nil {
		v.closureStage = f.Index
		v.closure, v.closureErr = buildgraph.Closure{}, nil
		if t, ok := targetArg(v.g, f); ok {
			v.closure, v.closureErr = v.g.Closure(t)
		} else {
			v.closure, v.closureErr = v.g.Closure(f.Name)
		}
		v.platformsFor(f)
		v.relayout()
		v.detailsOff = 0
	}
	if n, ok := v.layout.stageNode[f.Index]; ok {
		node := v.layout.Nodes[n]
		h := v.bodyHeight()
		v.offset = windowStart(v.offset, node.Top, h, v.layout.Rows)
		if node.Top+node.Rows > v.offset+h {
			v.offset = min(node.Top+node.Rows-h, node.Top)
		}
	}
}

// relayout lays the shown stages out again, the edges of the focused
// stage's closure highlighted, in as many lanes as the width allows: as
// boxes when they fit the height (or the user asked for them), else one row
// per stage.
func (v *GraphView) relayout() {
	active := map[int]bool{}
	for _, e := range v.closure.Edges {
		active[e] = true
	}
	if v.mode != layoutCompact {
		v.layout = layoutDAG(v.g, v.shown, active, v.maxLanes(), false)
		if v.mode == layoutBoxes || v.layout.Rows <= v.bodyHeight() || v.height == 0 {
			return
		}
	}
	v.layout = layoutDAG(v.g, v.shown, active, v.maxLanes(), true)
}

func (v GraphView) maxLanes() int {
	return max(1, min(8, (v.graphWidth()-24)/2))
}

// graphWidth is the width of the drawing pane.
func (v GraphView) graphWidth() int {
	if v.width >= 100 {
		return v.width * 55 / 100
	}
	return v.width * 58 / 100
}

// bodyHeight is the number of drawing rows.
func (v GraphView) bodyHeight() int {
	return max(v.height-2, 1) // the pane title and the filter line
}

// Update handles keys of the graph screen, and the build state.
func (v *GraphView) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case buildStateMsg:
		v.syncBuild(msg)
		return v, nil
	case projectMsg:
		v.project = msg.project
		v.SetGraph(msg.project.Graph, msg.project.Source, msg.project.BuilderPair)
		return v, nil
	}
	if msg, ok := msg.(predictionMsg); ok {
		v.predictions = msg.predictions
		return v, nil
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return v, nil
	}
	if v.filtering {
		switch {
		case key.Matches(k, v.keys.Clear):
			v.filter.SetValue("")
			v.stopFilter()
			v.applyFilter()
			return v, nil
		case key.Matches(k, v.keys.Accept):
			v.stopFilter()
			// esc clears the kept filter.
			v.keys.Clear.SetEnabled(v.filter.Value() != "")
			return v, nil
		case key.Matches(k, v.keys.Up), key.Matches(k, v.keys.Down):
			if k.String() == "up" || k.String() == "down" {
				v.move(map[bool]int{true: -1, false: 1}[k.String() == "up"])
				return v, nil
			}
		}
		if v.filter.Update(k) {
			v.applyFilter()
		}
		return v, nil
	}
	if v.explaining {
		ek := v.explain.KeyMap()
		switch {
		case key.Matches(k, ek.Close):
			v.setExplaining(false)
			return v, nil
		case key.Matches(k, ek.PageDown):
			v.explain.Scroll(v.explain.page())
			return v, nil
		case key.Matches(k, ek.PageUp):
			v.explain.Scroll(-v.explain.page())
			return v, nil
		}
	}
	switch {
	case key.Matches(k, v.keys.Explain):
		v.setExplaining(true)
		return v, nil
	case key.Matches(k, v.keys.Filter):
		v.filtering = true
		v.keys.Clear.SetEnabled(true)
		v.keys.Accept.SetEnabled(true)
		return v, nil
	case key.Matches(k, v.keys.Pane):
		v.focusDetails = !v.focusDetails
	case key.Matches(k, v.keys.Up):
		if v.focusDetails {
			v.detailsOff = max(v.detailsOff-1, 0)
		} else {
			v.move(-1)
		}
	case key.Matches(k, v.keys.Down):
		if v.focusDetails {
			v.detailsOff++
		} else {
			v.move(1)
		}
	case key.Matches(k, v.keys.Top):
		v.cursor = 0
		v.refresh()
	case key.Matches(k, v.keys.Bottom):
		v.cursor = len(v.shown) - 1
		v.refresh()
	case key.Matches(k, v.keys.Build):
		f := v.Focused()
		if f == nil {
			return v, nil
		}
		t, _ := targetArg(v.g, f)
		if _, ok := targetArg(v.g, f); !ok {
			t = f.Name // the root explains why this cannot be built
		}
		return v, func() tea.Msg { return buildTargetsMsg{targets: []string{t}} }
	case key.Matches(k, v.keys.Logs):
		return v, func() tea.Msg { return showLogsMsg{} }
	case key.Matches(k, v.keys.Rebuild):
		if v.run == nil {
			msg := "Nothing to rebuild yet: enter builds the focused stage, a builds every target."
			return v, func() tea.Msg { return noticeMsg{text: msg} }
		}
		targets := planArgs(v.run.Plans)
		return v, func() tea.Msg { return buildTargetsMsg{targets: targets} }
	case key.Matches(k, v.keys.Layout):
		v.mode = layoutCompact
		if v.layout.Compact {
			v.mode = layoutBoxes
		}
		v.relayout()
		v.refresh()
	case key.Matches(k, v.keys.Only):
		v.toggleOnly()
	case key.Matches(k, v.keys.NextEdge):
		v.selectEdge(1)
	case key.Matches(k, v.keys.PrevEdge):
		v.selectEdge(-1)
	case key.Matches(k, v.keys.Follow):
		v.followEdge()
	}
	return v, nil
}

// toggleOnly shows only the stages the focused target builds, or every
// stage again.
func (v *GraphView) toggleOnly() {
	if v.only >= 0 {
		v.only, v.onlyStages = -1, nil
		v.applyFilter()
		return
	}
	f := v.Focused()
	if f == nil || v.closureErr != nil || v.closure.Graph == nil {
		return
	}
	v.only, v.onlyStages = f.Index, slices.Clone(v.closure.Stages)
	v.applyFilter()
}

// stageEdges returns the edges between the stage and other stages: the ones
// it depends on, then the ones that use it, in Dockerfile order.
func (v GraphView) stageEdges(stage int) []int {
	var in, out []int
	for i, e := range v.g.Edges {
		if e.From.Kind != buildgraph.NodeStage || e.From.Index < 0 || e.From.Index >= len(v.g.Stages) {
			continue
		}
		switch {
		case e.To == stage:
			in = append(in, i)
		case e.From.Index == stage:
			out = append(out, i)
		}
	}
	return append(in, out...)
}

// selectEdge selects the next (d = 1) or previous (d = -1) edge of the
// focused stage, cycling.
func (v *GraphView) selectEdge(d int) {
	f := v.Focused()
	if f == nil {
		return
	}
	edges := v.stageEdges(f.Index)
	if len(edges) == 0 {
		return
	}
	i := slices.Index(edges, v.edge)
	switch {
	case i < 0 && d < 0:
		i = len(edges) - 1
	case i < 0:
		i = 0
	default:
		i = (i + d + len(edges)) % len(edges)
	}
	v.edge = edges[i]
	v.revealDetails()
	v.revealEdgeEnd()
}

// revealEdgeEnd scrolls the drawing so that the other end of the selected
// edge shows too, when it fits with the focused stage.
func (v *GraphView) revealEdgeEnd() {
	f := v.Focused()
	n, ok := v.layout.stageNode[v.edgeEnd()]
	if f == nil || !ok {
		return
	}
	fn := v.layout.Nodes[v.layout.stageNode[f.Index]]
	en := v.layout.Nodes[n]
	h := v.bodyHeight()
	off := v.offset
	if en.Top < off {
		off = en.Top
	}
	if en.Top+en.Rows > off+h {
		off = en.Top + en.Rows - h
	}
	if fn.Top >= off && fn.Top+fn.Rows <= off+h {
		v.offset = off
	}
}

// followEdge focuses the stage at the other end of the selected edge (the
// first edge when none is selected), keeping the edge selected so that
// following it again comes back.
func (v *GraphView) followEdge() {
	f := v.Focused()
	if f == nil {
		return
	}
	if v.edge < 0 {
		v.selectEdge(1)
		if v.edge < 0 {
			return
		}
	}
	e := v.g.Edges[v.edge]
	other := e.To
	if e.To == f.Index {
		other = e.From.Index
	}
	sel := v.edge
	v.Focus(other)
	v.edge = sel
	v.revealDetails()
}

// edgeEnd returns the stage at the other end of the selected edge, -1 when
// no edge is selected.
func (v GraphView) edgeEnd() int {
	f := v.Focused()
	if v.edge < 0 || f == nil {
		return -1
	}
	e := v.g.Edges[v.edge]
	if e.To == f.Index {
		return e.From.Index
	}
	return e.To
}

// revealDetails scrolls the details so that the selected edge shows.
func (v *GraphView) revealDetails() {
	lines, sel := v.detailLines(v.width - v.graphWidth())
	if sel < 0 {
		return
	}
	h := v.height - 1
	v.detailsOff = min(v.detailsOff, max(len(lines)-h, 0))
	v.detailsOff = windowStart(v.detailsOff, sel, h, len(lines))
}

func (v *GraphView) stopFilter() {
	v.filtering = false
	v.keys.Clear.SetEnabled(false)
	v.keys.Accept.SetEnabled(false)
}

func (v *GraphView) move(d int) {
	if len(v.shown) == 0 {
		return
	}
	v.cursor = min(max(v.cursor+d, 0), len(v.shown)-1)
	v.refresh()
}

// View draws the graph pane and the details pane side by side.
func (v GraphView) View() string {
	gw := v.graphWidth()
	dw := v.width - gw
	if v.explaining {
		if v.width < explainWide {
			return v.explain.View()
		}
		return lipgloss.JoinHorizontal(lipgloss.Top, v.viewGraph(gw), v.explain.View())
	}
	left := v.viewGraph(gw)
	right := v.viewDetails(dw)
	return lipgloss.JoinHorizontal(lipgloss.Top, left, right)
}

func (v GraphView) paneTitle(title string, focused bool, width int) string {
	st := v.styles.PaneTitle
	mark := "  "
	if focused {
		st = st.Foreground(v.styles.NodeFocus.GetForeground())
		mark = " ▌"
	}
	return pad(st.Render(mark+title), width)
}

func (v GraphView) viewGraph(width int) string {
	s := v.styles
	h := v.bodyHeight()
	l := v.layout
	lines := []string{v.graphTitle(width)}
	boxW := min(max(width-l.Width-2, 16), 56)
	if len(v.shown) == 0 {
		lines = append(lines, s.Muted.Render("  no stage matches "+strconvQuote(v.filter.Value())))
	}
	end := v.edgeEnd()
	nameW := 0
	if l.Compact {
		nameW = v.nameWidth()
	}
	for r := v.offset; r < v.offset+h && r < l.Rows; r++ {
		var b strings.Builder
		b.WriteString(" ")
		if l.Width > 0 {
			for _, c := range l.Lanes[r] {
				st := s.Edge
				switch {
				case c.active && c.copy:
					st = s.EdgeCopy
				case c.active:
					st = s.EdgeActive
				}
				b.WriteString(st.Render(c.Glyph()))
			}
		}
		n := l.Nodes[l.nodeAt[r]]
		if l.Compact {
			b.WriteString(v.compactLine(n, width-1-l.Width, nameW, end))
		} else {
			b.WriteString(v.nodeLine(n, r-n.Top, boxW, end))
		}
		lines = append(lines, truncate(b.String(), width))
	}
	for len(lines) < h+1 {
		lines = append(lines, "")
	}
	lines = lines[:h+1]
	lines = append(lines, v.footer(width))
	return fit(lines, width, v.height)
}

// graphTitle is the graph pane's title line: the stage count, the focused
// target and what it builds, and the scroll position. When they do not all
// fit, the counts and the scroll position give way before the target's
// name does.
func (v GraphView) graphTitle(width int) string {
	s := v.styles
	count := fmt.Sprintf("Stages %d", len(v.g.Stages))
	if len(v.shown) != len(v.g.Stages) {
		count = fmt.Sprintf("Stages %d of %d", len(v.shown), len(v.g.Stages))
	}
	titles := []string{count}
	if f := v.Focused(); f != nil {
		if _, ok := targetArg(v.g, f); ok && v.closureErr == nil {
			name := clean(f.Name)
			builds := fmt.Sprintf(" · target %s builds %d", name, v.closure.Built())
			if n := len(v.closure.Replaced); n > 0 {
				builds += fmt.Sprintf(", replaced %d", n)
			}
			titles = []string{
				count + builds + fmt.Sprintf(", skips %d", len(v.closure.Skipped)),
				fmt.Sprintf("target %s builds %d of %d", name, v.closure.Built(), len(v.g.Stages)),
				"target " + name,
			}
		}
	}
	l, h := v.layout, v.bodyHeight()
	var scrolls []string
	if l.Rows > h {
		first, last := v.offset+1, min(v.offset+h, l.Rows)
		scrolls = []string{
			fmt.Sprintf(" %d–%d of %d rows ", first, last, l.Rows),
			fmt.Sprintf(" %d–%d/%d ", first, last, l.Rows),
		}
	}
	room := width - 2 // the focus mark
	for _, title := range titles {
		for _, more := range scrolls {
			if lipgloss.Width(title)+1+lipgloss.Width(more) <= room {
				return pad(v.paneTitle(title, !v.focusDetails, width-lipgloss.Width(more)-1)+" "+s.Faint.Render(more), width)
			}
		}
	}
	for _, title := range titles {
		if lipgloss.Width(title) <= room {
			return v.paneTitle(title, !v.focusDetails, width)
		}
	}
	return v.paneTitle(truncate(titles[len(titles)-1], room), !v.focusDetails, width)
}

// footer is the line under the drawing: the filter, the edges of the
// focused stage that have no lane, or the legend.
func (v GraphView) footer(width int) string {
	s := v.styles
	if v.filtering || v.filter.Value() != "" {
		return " " + v.filter.View(v.styles, v.filtering)
	}
	if f := v.Focused(); f != nil {
		n := 0
		for _, e := range v.stageEdges(f.Index) {
			if v.layout.hidden[e] {
				n++
			}
		}
		if n > 0 {
			what := "1 edge"
			if n > 1 {
				what = fmt.Sprintf("%d edges", n)
			}
			for _, line := range []string{
				fmt.Sprintf(" %s of %s not drawn: ]/[ select, f follows", what, clean(f.Name)),
				fmt.Sprintf(" %s not drawn: ]/[ select, f follows", what),
			} {
				if lipgloss.Width(line) <= width {
					return s.Faint.Render(line)
				}
			}
			return s.Faint.Render(truncate(fmt.Sprintf(" %s not drawn", what), width))
		}
	}
	if v.only >= 0 {
		return s.Faint.Render(truncate(fmt.Sprintf(" only what %s builds; t shows all", clean(v.g.Stages[v.only].Name)), width))
	}
	return v.legend()
}

func strconvQuote(s string) string { return strconv.Quote(s) }

func (v GraphView) legend() string {
	s := v.styles
	differs := ""
	if v.platforms != nil && len(v.platforms.Differing()) > 0 {
		differs = " ≠ differs per platform"
	}
	if v.layout.Compact {
		return " " + s.Faint.Render("▶ focus ■ builds □ skipped ◎ edge end"+differs+" ? help")
	}
	return " " + s.Faint.Render("┏┓ focus ┌╌┐ skipped ◇ image ⚠ lint"+differs+" ? help")
}

// stageState is the build state of a stage, "" when there is no build.
func (v GraphView) stageState(i int) buildgraph.StepState {
	if v.progress == nil || i >= len(v.progress.Stages) {
		return ""
	}
	sp := v.progress.Stages[i]
	if len(sp.Steps) == 0 {
		return ""
	}
	return partialState(sp.State, sp, v.run)
}

// nodeLine draws row r of node n, width w; end is the stage at the other
// end of the selected edge.
func (v GraphView) nodeLine(n dagNode, r, w, end int) string {
	s := v.styles
	if n.Kind == buildgraph.NodeImage {
		im := v.g.Images[n.Index]
		label := "◇ " + clean(im.Ref)
		if im.Context != nil {
			label += " → context " + clean(im.Context.Value)
		}
		return s.Image.Render(truncate(label, w+2))
	}
	st := v.g.Stages[n.Index]
	focused := v.Focused() != nil && v.Focused().Index == st.Index
	skipped := v.closureErr == nil && v.closure.Graph != nil && !v.closure.Contains(st.Index)
	style := s.Node
	tl, tr, bl, br, hz, vt := "┌", "┐", "└", "┘", "─", "│"
	switch {
	case focused:
		style = s.NodeFocus
		tl, tr, bl, br, hz, vt = "┏", "┓", "┗", "┛", "━", "┃"
	case skipped:
		style = s.NodeDim
		hz, vt = "╌", "┆"
	}
	inner := w - 2
	switch r {
	case 0:
		name := clean(st.Name)
		state := v.stageState(st.Index)
		prefix := ""
		var stateStyle lipgloss.Style
		if state != "" {
			var glyph string
			stateStyle, glyph = s.State(state)
			if state == buildgraph.StepRunning && v.frame != "" {
				glyph = v.frame
			}
			prefix = glyph + " "
		}
		if st.Index == end {
			prefix = "◎ " + prefix
			stateStyle = s.NodeFocus
		}
		right := ""
		if n := v.warnings(st.Index); n > 0 {
			right = fmt.Sprintf(" ⚠%d ", n)
		}
		if v.differs(st.Index) {
			right = " " + markDiffers + strings.TrimPrefix(right, " ")
			if !strings.HasSuffix(right, " ") {
				right += " "
			}
		}
		if st.Context != nil {
			right = " replaced " + right
		}
		// tl hz " " prefix name " " fill… right hz tr
		nameW := w - 6 - lipgloss.Width(prefix) - lipgloss.Width(right)
		name = truncate(name, max(nameW, 1))
		fill := max(w-6-lipgloss.Width(prefix)-lipgloss.Width(name)-lipgloss.Width(right), 0) + 1
		var b strings.Builder
		b.WriteString(style.Render(tl + hz + " "))
		if prefix != "" {
			b.WriteString(stateStyle.Render(prefix))
		}
		nameStyle := style.Bold(true)
		if skipped {
			nameStyle = style
		}
		b.WriteString(nameStyle.Render(name))
		b.WriteString(style.Render(" " + strings.Repeat(hz, max(fill-1, 0))))
		if right != "" {
			b.WriteString(s.Warn.Render(right))
		}
		b.WriteString(style.Render(hz + tr))
		return b.String()
	case 1:
		info := v.stageInfo(st)
		body := pad(" "+info, inner)
		infoStyle := s.Muted
		if skipped {
			infoStyle = s.NodeDim
		}
		return style.Render(vt) + infoStyle.Render(body) + style.Render(vt)
	}
	return style.Render(bl + strings.Repeat(hz, max(inner, 0)) + br)
}

// compactLine draws stage node n in one row of width w: a mark (focused,
// built for the focused target, skipped, or the other end of the selected
// edge), the build state, the name, and the base, steps, size and time.
func (v GraphView) compactLine(n dagNode, w, nameW, end int) string {
	s := v.styles
	st := v.g.Stages[n.Index]
	focused := v.Focused() != nil && v.Focused().Index == st.Index
	skipped := v.closureErr == nil && v.closure.Graph != nil && !v.closure.Contains(st.Index)
	style, mark := s.Node, "■"
	switch {
	case focused:
		style, mark = s.NodeFocus, "▶"
	case st.Index == end:
		style, mark = s.NodeFocus, "◎"
	case skipped:
		style, mark = s.NodeDim, "□"
	}
	var b strings.Builder
	b.WriteString(style.Render(mark + " "))
	used := 2
	if state := v.stageState(st.Index); state != "" {
		stStyle, glyph := s.State(state)
		if state == buildgraph.StepRunning && v.frame != "" {
			glyph = v.frame
		}
		b.WriteString(stStyle.Render(glyph + " "))
		used += lipgloss.Width(glyph) + 1
	}
	right := ""
	if v.differs(st.Index) {
		right = " " + markDiffers
	}
	if n := v.warnings(st.Index); n > 0 {
		right += fmt.Sprintf(" ⚠%d", n)
	}
	room := w - used - lipgloss.Width(right)
	nameW = min(nameW, max(room/2, 8))
	name := pad(clean(st.Name), nameW)
	nameStyle := style.Bold(!skipped)
	b.WriteString(nameStyle.Render(name))
	infoStyle := s.Muted
	if skipped {
		infoStyle = s.NodeDim
	}
	if info := truncate(" "+v.stageInfo(st), room-nameW); info != "" {
		b.WriteString(infoStyle.Render(info))
	}
	if right != "" {
		b.WriteString(s.Warn.Render(right))
	}
	return b.String()
}

// nameWidth is the width of the longest shown stage name.
func (v GraphView) nameWidth() int {
	w := 0
	for _, i := range v.shown {
		w = max(w, lipgloss.Width(clean(v.g.Stages[i].Name)))
	}
	return w
}

func (v GraphView) warnings(stage int) int {
	n := 0
	for _, w := range v.g.Warnings {
		if w.Stage == stage {
			n++
		}
	}
	return n
}

// stageInfo is the second line of a stage node: base, steps, size.
func (v GraphView) stageInfo(st *buildgraph.Stage) string {
	parts := []string{baseLabel(v.g, st)}
	steps := len(st.Instructions)
	if st.Context != nil {
		// BuildKit takes the context as the stage's result.
		return strings.Join(append(parts, "no step runs"), " · ")
	}
	if steps == 1 {
		parts = append(parts, "1 step")
	} else {
		parts = append(parts, fmt.Sprintf("%d steps", steps))
	}
	if size, ok := v.sizes[st.Index]; ok && size >= 0 {
		parts = append(parts, buildgraph.HumanSize(size))
	}
	if d := v.stageDuration(st.Index); d != "" {
		parts = append(parts, d)
	}
	return strings.Join(parts, " · ")
}

func (v GraphView) stageDuration(i int) string {
	if v.progress == nil || i >= len(v.progress.Stages) {
		return ""
	}
	sp := v.progress.Stages[i]
	if !sp.State.Finished() || sp.Completed.IsZero() {
		return ""
	}
	if sp.State == buildgraph.StepCached {
		return "cached"
	}
	return duration(sp.Duration(sp.Completed))
}

// baseLabel says what a stage starts from.
func baseLabel(g *buildgraph.Graph, st *buildgraph.Stage) string {
	switch {
	case st.Context != nil:
		return "context " + clean(st.Context.Value)
	case st.Base.Kind == buildgraph.BaseScratch:
		return "scratch"
	case st.Base.Kind == buildgraph.BaseStage && st.Base.Stage >= 0 && st.Base.Stage < len(g.Stages):
		return "from " + clean(g.Stages[st.Base.Stage].Name)
	case st.Base.Kind == buildgraph.BaseContext:
		return "context " + clean(st.Base.Ref)
	}
	return clean(st.Base.Ref)
}

// viewDetails draws the details of the focused stage.
func (v GraphView) viewDetails(width int) string {
	title := v.paneTitle("Details", v.focusDetails, width)
	if v.Focused() == nil {
		return fit([]string{title}, width, v.height)
	}
	lines, _ := v.detailLines(width)
	h := v.height - 1
	off := min(v.detailsOff, max(len(lines)-h, 0))
	body := lines[off:]
	if len(body) > h {
		body = body[:h]
	}
	return fit(append([]string{title}, body...), width, v.height)
}

// detailLines returns the lines of the focused stage's details, and which
// of them is the selected edge (-1 when none is).
func (v GraphView) detailLines(width int) ([]string, int) {
	s := v.styles
	f := v.Focused()
	if f == nil {
		return nil, -1
	}
	inner := width - 3
	var lines []string
	add := func(line string) { lines = append(lines, "  "+truncate(line, inner)) }
	head := s.Bold.Render(clean(f.Name))
	if f.Named {
		head += s.Muted.Render(fmt.Sprintf("  stage %d", f.Index))
	} else {
		head += s.Muted.Render(fmt.Sprintf("  stage %d, unnamed", f.Index))
	}
	add(head)
	add(s.Muted.Render(fmt.Sprintf("lines %d–%d · %s", f.StartLine, f.EndLine, baseLabel(v.g, f))))
	if f.Context != nil {
		add(s.Accent.Render("replaced by the named context " + clean(f.Context.Key) + "=" + clean(f.Context.Value) + ": none of its steps run"))
	}
	if _, ok := targetArg(v.g, f); !ok {
		add(s.Warn.Render("not a target: only named stages and the last stage build"))
	}
	if v.closureErr != nil {
		add(s.Error.Render(clean(v.closureErr.Error())))
	}
	lines = append(lines, v.platformLines(f, inner)...)
	switch {
	case f.Doc != "":
		lines = append(lines, "")
		for _, l := range strings.Split(f.Doc, "\n") {
			add(s.Accent.Render(clean(l)))
		}
	case len(f.Comments) > 0:
		// The comment above FROM, as the explain panel shows it.
		lines = append(lines, "")
		for _, l := range wrapLines(clean(strings.Join(f.Comments, " ")), max(inner, 10), "") {
			add(s.Accent.Render(l))
		}
	}
	lines = append(lines, "", "  "+s.PaneTitle.Render("Instructions"))
	if len(v.source) >= f.StartLine && f.StartLine > 0 {
		mark := "  "
		if f.Base.Kind == buildgraph.BaseImage && v.progress != nil && f.Index < len(v.progress.Stages) {
			for _, st := range v.progress.Stages[f.Index].Steps {
				if st.Line == f.StartLine {
					stStyle, g := s.State(st.State)
					mark = stStyle.Render(g) + " "
				}
			}
		}
		add(v.lineNo(f.StartLine) + mark + clean(strings.TrimSpace(v.source[f.StartLine-1])))
	}
	var steps map[int]*buildgraph.Step
	if v.progress != nil && f.Index < len(v.progress.Stages) {
		steps = map[int]*buildgraph.Step{}
		for _, st := range v.progress.Stages[f.Index].Steps {
			if st.Line > 0 {
				steps[st.Line] = st
			}
		}
	}
	for _, in := range f.Instructions {
		mark := "  "
		if st, ok := steps[in.StartLine]; ok {
			stStyle, g := s.State(st.State)
			mark = stStyle.Render(g) + " "
		}
		add(v.lineNo(in.StartLine) + mark + clean(buildgraph.OneLine(in.Text)))
	}
	lines = append(lines, v.predictionLines(f, inner)...)
	// Dependencies: the selected edge is marked, and so are edges the
	// drawing has no lane for.
	type dep struct {
		name, why string
		edge      int
	}
	var deps, users []dep
	for i, e := range v.g.Edges {
		if e.To == f.Index {
			from := ""
			if e.From.Kind == buildgraph.NodeStage {
				from = v.g.Stages[e.From.Index].Name
			} else if e.From.Index >= 0 && e.From.Index < len(v.g.Images) {
				from = v.g.Images[e.From.Index].Ref
			} else {
				from = e.Ref
			}
			deps = append(deps, dep{clean(from), fmt.Sprintf(" (%s%s)", e.Kind, lineSuffix(e.Line)), i})
		}
		if e.From.Kind == buildgraph.NodeStage && e.From.Index == f.Index {
			users = append(users, dep{clean(v.g.Stages[e.To].Name), fmt.Sprintf(" (%s%s)", e.Kind, lineSuffix(e.Line)), i})
		}
	}
	sel := -1
	addDep := func(arrow, selArrow string, d dep) {
		text := d.name
		if v.layout.hidden[d.edge] {
			text += s.Faint.Render(" · not drawn")
		}
		text += d.why
		if d.edge == v.edge {
			sel = len(lines)
			add(s.NodeFocus.Render(selArrow+" ") + s.Bold.Render(text))
			return
		}
		add(arrow + " " + text)
	}
	lines = append(lines, "", "  "+s.PaneTitle.Render("Depends on"))
	if len(deps) == 0 {
		add(s.Muted.Render("nothing"))
	}
	for _, d := range deps {
		addDep("←", "◀", d)
	}
	lines = append(lines, "", "  "+s.PaneTitle.Render("Used by"))
	if len(users) == 0 {
		add(s.Muted.Render("no stage"))
	}
	for _, u := range users {
		addDep("→", "▶", u)
	}
	var warns []buildgraph.Warning
	for _, w := range v.g.Warnings {
		if w.Stage == f.Index {
			warns = append(warns, w)
		}
	}
	if len(warns) > 0 {
		lines = append(lines, "", "  "+s.PaneTitle.Render("Warnings"))
		for _, w := range warns {
			add(s.Warn.Render(fmt.Sprintf("⚠ line %d %s: %s", w.Line, w.Rule, clean(w.Message))))
		}
	}
	// The lint error (# check=error=true, or the linter failing) belongs to
	// the stage holding its line, or to every stage when it has none.
	if e := v.g.LintError; e != nil && (e.Line == 0 || e.Line >= f.StartLine && e.Line <= f.EndLine) {
		lines = append(lines, "", "  "+s.PaneTitle.Render("Lint error"))
		msg := clean(e.Msg)
		if e.Line > 0 {
			msg = fmt.Sprintf("line %d: %s", e.Line, msg)
		}
		add(s.Error.Render(msg))
	}
	if size, ok := v.sizes[f.Index]; ok && size >= 0 {
		lines = append(lines, "", "  "+s.PaneTitle.Render("Image size"))
		add(buildgraph.HumanSize(size) + s.Muted.Render(" (last build of this target)"))
	}
	return lines, sel
}

func (v GraphView) lineNo(n int) string {
	return v.styles.LineNo.Render(fmt.Sprintf("%3d ", n))
}

func lineSuffix(line int) string {
	if line <= 0 {
		return ""
	}
	return fmt.Sprintf(", line %d", line)
}

// filterInput is the one-line text input of the stage filter.
type filterInput struct{ value []rune }

func (f filterInput) Value() string { return string(f.value) }

func (f *filterInput) SetValue(s string) { f.value = []rune(s) }

// Update edits the value with a key press and reports whether it changed.
func (f *filterInput) Update(k tea.KeyPressMsg) bool {
	switch k.String() {
	case "backspace", "ctrl+h":
		if len(f.value) > 0 {
			f.value = f.value[:len(f.value)-1]
			return true
		}
		return false
	case "ctrl+u":
		f.value = nil
		return true
	}
	if k.Text != "" && k.Mod&^tea.ModShift == 0 {
		f.value = append(f.value, []rune(clean(k.Text))...)
		return true
	}
	return false
}

func (f filterInput) View(s Styles, editing bool) string {
	text := clean(string(f.value))
	if editing {
		return s.Accent.Render("/") + text + s.Accent.Render("▏") + s.Faint.Render("  stage names; from:… bases · enter keeps · esc clears")
	}
	return s.Muted.Render("filter: " + text + " (esc clears)")
}
