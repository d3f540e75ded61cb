package tui

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/stagescope/stagescope/buildgraph"
)

// buildTargetsMsg asks the root to build targets (target arguments: a stage
// name, or "" for the last stage).
type buildTargetsMsg struct{ targets []string }

// showLogsMsg asks the root to show the build screen's logs.
type showLogsMsg struct{}

// GraphView is the stage graph and the details of the focused stage.
type GraphView struct {
	keys   GraphKeyMap
	styles Styles
	g      *buildgraph.Graph
	source []string // Dockerfile lines

	width, height int
	shown         []int // stage indexes that pass the filter
	cursor        int   // index in shown
	offset        int   // first row of the drawing shown
	detailsOff    int   // first line of the details shown
	focusDetails  bool
	filter        filterInput
	filtering     bool

	layout       dagLayout
	closure      buildgraph.Closure
	closureErr   error
	closureStage int

	// Build state, from the root.
	progress *buildgraph.Progress
	run      *buildRun
	sizes    map[int]int64 // stage → last known image size
	frame    string        // the spinner frame
	results  []buildgraph.TargetResult

	explain    ExplainView
	explaining bool
}

// NewGraphView returns the graph of g, the stage named focus focused.
func NewGraphView(g *buildgraph.Graph, source []byte, styles Styles, focus string) GraphView {
	v := GraphView{keys: DefaultGraphKeyMap(), styles: styles, g: g, closureStage: -1}
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

// KeyMap is the graph's key map, for help.
func (v GraphView) KeyMap() GraphKeyMap { return v.keys }

// Explaining reports whether the explain panel is open.
func (v GraphView) Explaining() bool { return v.explaining }

// ExplainKeyMap is the explain panel's key map, for help.
func (v GraphView) ExplainKeyMap() ExplainKeyMap { return v.explain.KeyMap() }

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
	lanes := v.maxLanes()
	v.width, v.height = w, h
	v.explain.SetSize(v.explainWidth(), h)
	if v.maxLanes() != lanes { // the first size too: the layout was made for width 0
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
	if r != nil {
		v.progress = r.progress
	}
}

// Focused returns the focused stage, nil when the filter matches none.
func (v GraphView) Focused() *buildgraph.Stage {
	if v.cursor < 0 || v.cursor >= len(v.shown) {
		return nil
	}
	return v.g.Stages[v.shown[v.cursor]]
}

// Focus focuses a stage by index (clearing a filter that hides it).
func (v *GraphView) Focus(stage int) {
	for i, s := range v.shown {
		if s == stage {
			v.cursor = i
			v.refresh()
			return
		}
	}
	v.filter.SetValue("")
	v.applyFilter()
	v.Focus(stage)
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
		if q == "" || strings.Contains(strings.ToLower(s.Name), q) ||
			strings.Contains(strings.ToLower(s.Base.Ref), q) {
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
	if f.Index != v.closureStage || v.layout.Nodes == nil {
		v.closureStage = f.Index
		v.closure, v.closureErr = buildgraph.Closure{}, nil
		if t, ok := targetArg(v.g, f); ok {
			v.closure, v.closureErr = v.g.Closure(t)
		} else {
			v.closure, v.closureErr = v.g.Closure(f.Name)
		}
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
// stage's closure highlighted, in as many lanes as the width allows.
func (v *GraphView) relayout() {
	active := map[int]bool{}
	for _, e := range v.closure.Edges {
		active[e] = true
	}
	v.layout = layoutDAG(v.g, v.shown, active, v.maxLanes())
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

// Update handles keys of the graph screen.
func (v GraphView) Update(msg tea.Msg) (GraphView, tea.Cmd) {
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
	}
	return v, nil
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
	title := fmt.Sprintf("Stages %d", len(v.g.Stages))
	if len(v.shown) != len(v.g.Stages) {
		title = fmt.Sprintf("Stages %d of %d", len(v.shown), len(v.g.Stages))
	}
	if f := v.Focused(); f != nil {
		if _, ok := targetArg(v.g, f); ok && v.closureErr == nil {
			title += fmt.Sprintf(" · target %s builds %d, skips %d", clean(f.Name), len(v.closure.Stages), len(v.closure.Skipped))
		}
	}
	lines := []string{v.paneTitle(title, !v.focusDetails, width)}
	h := v.bodyHeight()
	l := v.layout
	boxW := min(max(width-l.Width-2, 16), 56)
	if len(v.shown) == 0 {
		lines = append(lines, s.Muted.Render("  no stage matches "+strconvQuote(v.filter.Value())))
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
		b.WriteString(v.nodeLine(n, r-n.Top, boxW))
		lines = append(lines, truncate(b.String(), width))
	}
	// Scroll position.
	if l.Rows > h && len(lines) > 1 {
		more := fmt.Sprintf(" %d–%d of %d rows ", v.offset+1, min(v.offset+h, l.Rows), l.Rows)
		lines[0] = pad(truncate(lines[0], width-len(more)-1)+" "+s.Faint.Render(more), width)
	}
	for len(lines) < h+1 {
		lines = append(lines, "")
	}
	lines = lines[:h+1]
	if v.filtering || v.filter.Value() != "" {
		lines = append(lines, " "+v.filter.View(v.styles, v.filtering))
	} else if l.Hidden > 0 {
		lines = append(lines, s.Faint.Render(fmt.Sprintf(" %d edges not drawn (too many lanes); see the details pane", l.Hidden)))
	} else {
		lines = append(lines, v.legend())
	}
	return fit(lines, width, v.height)
}

func strconvQuote(s string) string { return strconv.Quote(s) }

func (v GraphView) legend() string {
	s := v.styles
	return " " + s.Faint.Render("┏┓ focus ┌╌┐ skipped ◇ image ⚠ lint ? help")
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

// nodeLine draws row r of node n, width w.
func (v GraphView) nodeLine(n dagNode, r, w int) string {
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
		right := ""
		if n := v.warnings(st.Index); n > 0 {
			right = fmt.Sprintf(" ⚠%d ", n)
		}
		if st.Context != nil {
			right = " context " + right
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
	return duration(sp.Completed.Sub(sp.Started))
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
	s := v.styles
	f := v.Focused()
	title := v.paneTitle("Details", v.focusDetails, width)
	if f == nil {
		return fit([]string{title}, width, v.height)
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
	if _, ok := targetArg(v.g, f); !ok {
		add(s.Warn.Render("not a target: only named stages and the last stage build"))
	}
	if v.closureErr != nil {
		add(s.Error.Render(clean(v.closureErr.Error())))
	}
	if f.Doc != "" {
		lines = append(lines, "")
		for _, l := range strings.Split(f.Doc, "\n") {
			add(s.Accent.Render(clean(l)))
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
	// Dependencies.
	var deps, users []string
	for _, e := range v.g.Edges {
		if e.To == f.Index {
			from := ""
			if e.From.Kind == buildgraph.NodeStage {
				from = v.g.Stages[e.From.Index].Name
			} else if e.From.Index >= 0 && e.From.Index < len(v.g.Images) {
				from = v.g.Images[e.From.Index].Ref
			} else {
				from = e.Ref
			}
			deps = append(deps, fmt.Sprintf("%s (%s%s)", clean(from), e.Kind, lineSuffix(e.Line)))
		}
		if e.From.Kind == buildgraph.NodeStage && e.From.Index == f.Index {
			users = append(users, fmt.Sprintf("%s (%s%s)", clean(v.g.Stages[e.To].Name), e.Kind, lineSuffix(e.Line)))
		}
	}
	lines = append(lines, "", "  "+s.PaneTitle.Render("Depends on"))
	if len(deps) == 0 {
		add(s.Muted.Render("nothing"))
	}
	for _, d := range deps {
		add("← " + d)
	}
	lines = append(lines, "", "  "+s.PaneTitle.Render("Used by"))
	if len(users) == 0 {
		add(s.Muted.Render("no stage"))
	}
	for _, u := range users {
		add("→ " + u)
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
	if size, ok := v.sizes[f.Index]; ok && size >= 0 {
		lines = append(lines, "", "  "+s.PaneTitle.Render("Image size"))
		add(buildgraph.HumanSize(size) + s.Muted.Render(" (last build of this target)"))
	}
	h := v.height - 1
	off := min(v.detailsOff, max(len(lines)-h, 0))
	body := lines[off:]
	if len(body) > h {
		body = body[:h]
	}
	return fit(append([]string{title}, body...), width, v.height)
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
		return s.Accent.Render("/") + text + s.Accent.Render("▏") + s.Faint.Render("  enter keeps · esc clears")
	}
	return s.Muted.Render("filter: " + text)
}
