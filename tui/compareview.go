package tui

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
)

// compareRow is one target of the comparison: built in this session, or
// only saved from an earlier run.
type compareRow struct {
	result buildgraph.TargetResult
	saved  *buildgraph.SavedSize // set for rows only known from history
}

func (r compareRow) size(m buildgraph.Measure) int64 {
	switch {
	case r.saved != nil && m == buildgraph.MeasureCompressed:
		return r.saved.Compressed
	case r.saved != nil:
		return r.saved.Uncompressed
	case r.result.Size == nil:
		return buildgraph.Unknown
	case m == buildgraph.MeasureCompressed:
		return r.result.Size.Compressed
	}
	return r.result.Size.Uncompressed
}

// compareTitle names the compare screen.
const compareTitle = "Compare"

// CompareView compares the sizes of the targets built.
type CompareView struct {
	baseScreen
	keys   CompareKeyMap
	styles Styles
	g      *buildgraph.Graph

	width, height int
	rows          []compareRow
	cursor        int
	measure       buildgraph.Measure
	layersFocused bool
	layersOff     int // the first layer shown
	layerCursor   int // the focused layer, newest first
	engine        string
	now           time.Time
	run           *buildRun // the current build, nil before any
	frame         string    // the spinner's frame while it runs
	// files is how many Dockerfiles were opened together: with several,
	// every row names its file, and rows are in the order of the files and
	// their targets (order, by NAME:TARGET); projects are those files, and
	// savedByFile their sizes saved earlier, by path.
	files       int
	order       map[string]int
	projects    []*pipeline.Project
	savedByFile map[string]map[string]buildgraph.SavedSize
}

// NewCompareView returns an empty comparison.
func NewCompareView(g *buildgraph.Graph, styles Styles) CompareView {
	return CompareView{keys: DefaultCompareKeyMap(), styles: styles, g: g, measure: buildgraph.MeasureUncompressed}
}

func newCompareScreen(opts Options, s Styles) Screen {
	v := NewCompareView(opts.Project.Graph, s)
	if opts.several() {
		v.files = len(opts.projects())
		v.projects = slices.Clone(opts.projects())
		v.order = map[string]int{}
		for _, p := range opts.projects() {
			for _, t := range p.Targets() {
				v.order[p.Name+":"+p.Graph.Stages[t.Stage].Name] = len(v.order)
			}
		}
	}
	return &v
}

// Title names the screen.
func (v CompareView) Title() string { return compareTitle }

// KeyMap is the compare screen's key map, for help.
func (v CompareView) KeyMap() CompareKeyMap { return v.keys }

// ShowKey is c, which brings the comparison forward.
func (v CompareView) ShowKey() key.Binding { return v.keys.Show }

// Help lists the compare screen's keys.
func (v CompareView) Help(GlobalKeyMap) (short []key.Binding, full [][]key.Binding) {
	k := v.keys
	if v.layersFocused {
		k.Files = key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "files of this layer"))
	}
	short = []key.Binding{k.Up, k.Down, k.Measure, k.Pane, k.Build, k.Files}
	full = [][]key.Binding{{k.Up, k.Down, k.Pane}, {k.Measure, k.Build, k.Rebuild, k.Files}}
	return short, full
}

// SetStyles switches the styles.
func (v *CompareView) SetStyles(s Styles) { v.styles = s }

// SetSize sets the screen size.
func (v *CompareView) SetSize(w, h int) { v.width, v.height = w, h }

// SetResults sets the targets built in this session and the sizes saved
// earlier by engine kind/target; focus names the target to focus ("" keeps
// the cursor).
func (v *CompareView) SetResults(results []buildgraph.TargetResult, saved map[string]buildgraph.SavedSize, kind, engine, focus string, now time.Time) {
	v.engine, v.now = engine, now
	cur := ""
	if v.cursor < len(v.rows) {
		cur = resultKey(v.rows[v.cursor].result)
	}
	if focus != "" {
		cur = focus
	}
	v.rows = v.rows[:0]
	have := map[string]bool{}
	for _, r := range results {
		v.rows = append(v.rows, compareRow{result: r})
		have[r.Label()] = true
	}
	// Saved results of targets not built in this session, for the engine
	// kind in use (sizes of different engines do not compare).
	if kind != "" {
		if v.files > 0 {
			for _, p := range v.projects {
				v.addSaved(have, v.savedByFile[p.Dockerfile], kind, p)
			}
		} else {
			v.addSaved(have, saved, kind, nil)
		}
	}
	if v.order != nil {
		// The story in the order it was given, whatever was built first.
		slices.SortStableFunc(v.rows, func(a, b compareRow) int {
			return cmp.Compare(v.position(a.result), v.position(b.result))
		})
	}
	v.cursor = 0
	for i, r := range v.rows {
		if resultKey(r.result) == cur {
			v.cursor = i
			break
		}
	}
	v.layersOff, v.layerCursor = 0, 0
}

// addSaved adds a row for each target not built in this session (have,
// by label) whose size was saved earlier on this engine kind: of p, one of
// several Dockerfiles (or bake targets), else of the one Dockerfile.
func (v *CompareView) addSaved(have map[string]bool, saved map[string]buildgraph.SavedSize, kind string, p *pipeline.Project) {
	g, file, name := v.g, "", ""
	if p != nil {
		g, file, name = p.Graph, p.Dockerfile, p.Name
	}
	if g == nil {
		return
	}
	targets := g.Targets()
	if p != nil {
		targets = p.Targets()
	}
	for _, t := range targets {
		r := buildgraph.TargetResult{Target: g.Stages[t.Stage].Name, File: file, Name: name}
		if have[r.Label()] {
			continue
		}
		if s, ok := pipeline.SavedOf(saved, kind, p, g, r.Target); ok {
			v.rows = append(v.rows, compareRow{result: r, saved: &s})
		}
	}
}

// position is where a result's row goes with several Dockerfiles.
func (v CompareView) position(r buildgraph.TargetResult) int {
	if i, ok := v.order[r.Label()]; ok {
		return i
	}
	return len(v.order)
}

// Focused returns the focused target's name (NAME:TARGET with several
// Dockerfiles), "" when there is none.
func (v CompareView) Focused() string {
	if v.cursor < len(v.rows) {
		return v.rows[v.cursor].result.Label()
	}
	return ""
}

// Update handles the compare screen's keys, and the results to compare.
func (v *CompareView) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch r := msg.(type) {
	case resultsMsg:
		v.savedByFile = r.savedByFile
		v.SetResults(r.results, r.saved, r.kind, r.engine, r.focus, r.now)
		return v, nil
	case buildStateMsg:
		v.run, v.frame = r.run, r.frame
		return v, nil
	case projectMsg:
		v.g = r.project.Graph
		if len(v.projects) > 0 {
			v.projects[0] = r.project // the first is the one followed
		}
		return v, nil
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return v, nil
	}
	switch {
	case key.Matches(k, v.keys.Pane):
		v.layersFocused = !v.layersFocused
	case key.Matches(k, v.keys.Measure):
		if v.measure == buildgraph.MeasureUncompressed {
			v.measure = buildgraph.MeasureCompressed
		} else {
			v.measure = buildgraph.MeasureUncompressed
		}
	case key.Matches(k, v.keys.Up):
		if v.layersFocused {
			v.moveLayer(-1)
		} else if v.cursor > 0 {
			v.cursor--
			v.layersOff, v.layerCursor = 0, 0
		}
	case key.Matches(k, v.keys.Down):
		if v.layersFocused {
			v.moveLayer(1)
		} else if v.cursor < len(v.rows)-1 {
			v.cursor++
			v.layersOff, v.layerCursor = 0, 0
		}
	case key.Matches(k, v.keys.Files):
		t, platform := v.Focused(), ""
		if v.cursor < len(v.rows) {
			platform = v.rows[v.cursor].result.Platform
		}
		if v.layersFocused {
			return v, v.openLayer(t, platform)
		}
		return v, func() tea.Msg { return openFilesMsg{target: t, platform: platform} }
	case key.Matches(k, v.keys.Build), key.Matches(k, v.keys.Rebuild):
		if v.cursor < len(v.rows) && v.rows[v.cursor].result.Name != "" {
			r := v.rows[v.cursor].result
			arg := r.Label()
			if buildgraph.NumberedStage(r.Target) {
				arg = r.Name + ":" // the unnamed last stage
			}
			return v, func() tea.Msg { return buildTargetsMsg{targets: []string{arg}} }
		}
		if t := v.Focused(); t != "" {
			arg := t
			if st, ok := v.g.Stage(t); ok {
				if a, ok := targetArg(v.g, st); ok {
					arg = a
				}
			}
			return v, func() tea.Msg { return buildTargetsMsg{targets: []string{arg}} }
		}
	}
	return v, nil
}

// View draws the comparison.
func (v CompareView) View() string {
	s := v.styles
	measuring := v.run != nil && v.run.Phase == pipeline.Measuring
	if len(v.rows) == 0 && measuring {
		// The build is done and its images are being read: their sizes
		// come, not "nothing to compare".
		what := strings.Join(v.run.targets, ", ")
		lines := []string{"", "  " + s.Running.Render(strings.TrimSpace(v.frame+" "+measuringText(v.run.Run)))}
		lines = append(lines, wrapLines("Reading the layers of the images just built ("+clean(what)+") to measure them; the size of every target appears here when measuring ends.", v.width-4, "  ")...)
		return fit(lines, v.width, v.height)
	}
	if len(v.rows) == 0 {
		msg := "Nothing to compare yet. Pick a stage on the graph (esc) and press enter or b to build it, or press a to build every target; the size of every image built appears here."
		if v.files > 0 {
			msg = fmt.Sprintf("Nothing to compare yet. Press a to build every target of the %d Dockerfiles; the size of every image built appears here, one row per target, in the order the files were given.", v.files)
		}
		return fit(wrapLines(msg, v.width-4, "  "), v.width, v.height)
	}
	lines := v.top()
	lines = append(lines, v.details(v.height-len(lines))...)
	return fit(lines, v.width, v.height)
}

// top is what the view draws above the focused target's details: the
// measure, the table and a rule.
func (v CompareView) top() []string {
	s := v.styles
	measuring := v.run != nil && v.run.Phase == pipeline.Measuring
	other := "compressed"
	if v.measure == buildgraph.MeasureCompressed {
		other = "uncompressed"
	}
	head := " " + s.PaneTitle.Render("Sizes, "+string(v.measure)) + s.Faint.Render(" (s: "+other+")")
	if v.engine != "" {
		head += s.Faint.Render(" · " + v.engine)
	}
	lines := []string{truncate(head, v.width)}
	if measuring {
		lines = append(lines, truncate(" "+s.Running.Render(strings.TrimSpace(v.frame+" "+measuringText(v.run.Run)))+s.Faint.Render(" · "+clean(strings.Join(v.run.targets, ", "))), v.width))
	}
	lines = append(lines, v.table()...)
	return append(lines, s.Faint.Render(strings.Repeat("─", v.width)))
}

// layers are the focused target's layers, newest first: what the target
// added last is what users look at.
func (v CompareView) layers() []buildgraph.Layer {
	if v.cursor >= len(v.rows) || v.rows[v.cursor].result.Size == nil || v.rows[v.cursor].saved != nil {
		return nil
	}
	size := v.rows[v.cursor].result.Size
	out := make([]buildgraph.Layer, 0, len(size.Layers))
	for i := len(size.Layers) - 1; i >= 0; i-- {
		out = append(out, size.Layers[i])
	}
	return out
}

// openLayer opens the files screen on what the focused layer added; a
// layer of the history that wrote no files (ENV, ENTRYPOINT) has none to
// show. The files screen numbers only the layers that have data.
func (v CompareView) openLayer(target, platform string) tea.Cmd {
	layers := v.layers()
	if v.layerCursor >= len(layers) {
		return func() tea.Msg { return noticeMsg{text: "No layers to open: build this target (enter) for its layers."} }
	}
	l := layers[v.layerCursor]
	if l.Empty {
		what := buildgraph.OneLine(clean(l.Instruction))
		if what == "" {
			what = "This history entry"
		}
		return func() tea.Msg {
			return noticeMsg{text: what + " wrote no files: it changes only the image's configuration."}
		}
	}
	n := 0 // the data layers below it
	for _, o := range layers[v.layerCursor+1:] {
		if !o.Empty {
			n++
		}
	}
	return func() tea.Msg { return openFilesMsg{target: target, platform: platform, layer: n, oneLayer: true} }
}

// moveLayer moves the focused layer by d and scrolls the pane so that it
// stays in sight: the rows the pane has are those the view leaves below
// the table and the breakdown.
func (v *CompareView) moveLayer(d int) {
	n := len(v.layers())
	v.layerCursor = min(max(v.layerCursor+d, 0), max(n-1, 0))
	head := len(v.details(math.MaxInt32)) - n // everything drawn: the lines above the layers
	room := max(v.height-len(v.top())-head, 1)
	if v.layerCursor < v.layersOff {
		v.layersOff = v.layerCursor
	}
	if v.layerCursor >= v.layersOff+room {
		v.layersOff = v.layerCursor - room + 1
	}
}

func (v CompareView) largestAndSmallest() (largest, smallest int64) {
	largest, smallest = buildgraph.Unknown, buildgraph.Unknown
	for _, r := range v.rows {
		n := r.size(v.measure)
		if n < 0 {
			continue
		}
		largest = max(largest, n)
		if smallest < 0 || n < smallest {
			smallest = n
		}
	}
	return largest, smallest
}

func (v CompareView) table() []string {
	s := v.styles
	largest, smallest := v.largestAndSmallest()
	nameW := len("target")
	for _, r := range v.rows {
		n := len([]rune(r.result.Target)) + 2
		if r.saved != nil {
			n += len(" (saved)")
		}
		nameW = max(nameW, n)
	}
	nameW = min(nameW, 28)
	// A build for several platforms: a row per target and platform.
	platW := 0
	for _, r := range v.rows {
		if r.result.Platform != "" {
			platW = max(platW, len("platform"), len([]rune(r.result.Platform))+1)
		}
	}
	fileW := 0
	if v.files > 0 {
		fileW = len("file")
		for _, r := range v.rows {
			fileW = max(fileW, len([]rune(r.result.Name)))
		}
		fileW = min(fileW, 20, max(v.width/5, 8)) + 1
	}
	const sizeW, timeW = 9, 8
	relW := 0
	if v.width >= 90 {
		relW = 28
	} else if v.width >= 70 {
		relW = 16
	}
	stepsW := 0
	if v.width >= 120 {
		stepsW = 12
	}
	barW := v.width - 2 - fileW - nameW - platW - sizeW - timeW - relW - stepsW - 5
	barW = min(max(barW, 4), 60)
	if barW == 60 {
		// The columns stay together; what is left is margin on the right.
		relW = min(v.width-2-fileW-nameW-platW-sizeW-timeW-barW-stepsW-5, 28)
	}
	hdr := " "
	if fileW > 0 {
		hdr += pad("file", fileW)
	}
	hdr += pad("target", nameW) + " "
	if platW > 0 {
		hdr += pad("platform", platW)
	}
	hdr += padLeft("size", sizeW) + " " + pad("", barW) + " "
	if relW > 0 {
		hdr += pad("vs largest", relW) + " "
	}
	if stepsW > 0 {
		hdr += pad("cached", stepsW)
	}
	hdr += padLeft("time", timeW)
	out := []string{s.Muted.Render(truncate(hdr, v.width))}
	for i, r := range v.rows {
		n := r.size(v.measure)
		best := n >= 0 && n == smallest && len(v.rows) > 1
		name := clean(r.result.Target)
		if best {
			name = "★ " + name
		}
		if r.saved != nil {
			name += " (saved)"
		}
		sizeText := "-"
		if n >= 0 {
			sizeText = buildgraph.HumanSize(n)
		}
		var barText, rel, timeText, steps string
		switch {
		case r.result.Error != "":
			barText = s.Failed.Render(truncate("✗ "+clean(r.result.Error), barW))
			sizeText = "—"
		case n >= 0 && largest > 0:
			style := s.BarFull
			if best {
				style = s.BarBest
			}
			if r.saved != nil {
				style = s.Faint
			}
			barText = bar(float64(n)/float64(largest), barW, style, s.BarEmpty)
			if n == largest {
				rel = "largest"
			} else {
				rel = buildgraph.Relative(n, largest)
				if relW < 20 {
					rel = fmt.Sprintf("−%.1f%%", 100-float64(n)*100/float64(largest))
				}
			}
		}
		if r.saved != nil {
			timeText = shortAgo(v.now.Sub(r.saved.At))
		} else {
			timeText = duration(r.result.Duration)
			if r.result.StepsTotal > 0 {
				steps = fmt.Sprintf("%d/%d", r.result.StepsCached, r.result.StepsTotal)
			}
		}
		line := " "
		if fileW > 0 {
			// A file's name on its first row: its targets read as a group.
			file := ""
			if i == 0 || v.rows[i-1].result.Name != r.result.Name {
				file = truncate(clean(r.result.Name), fileW-1)
			}
			line += pad(file, fileW)
		}
		line += pad(name, nameW) + " "
		if platW > 0 {
			line += pad(clean(r.result.Platform), platW)
		}
		line += padLeft(sizeText, sizeW) + " " + pad(barText, barW) + " "
		if relW > 0 {
			line += pad(rel, relW) + " "
		}
		if stepsW > 0 {
			line += pad(steps, stepsW)
		}
		line += padLeft(timeText, timeW)
		switch {
		case i == v.cursor && !v.layersFocused:
			line = highlight(s.Selected, pad(line, v.width))
		case r.saved != nil:
			line = s.Muted.Render(line)
		case best:
			line = s.Good.Render(line)
		}
		out = append(out, line)
	}
	if why := v.unknownWhy(); why != "" {
		out = append(out, s.Muted.Render(truncate(" - "+why, v.width)))
	}
	return out
}

// unknownWhy says in one line (after the measure, "compressed: …") why a size the table shows as "-" is
// unknown (Docker's classic store knows no compressed size before a
// push), "" when every size is known.
func (v CompareView) unknownWhy() string {
	for _, r := range v.rows {
		if r.size(v.measure) >= 0 || r.result.Error != "" || r.result.Size == nil {
			continue
		}
		note := r.result.Size.UncompressedNote
		if v.measure == buildgraph.MeasureCompressed {
			note = r.result.Size.CompressedNote
		}
		if note == "" {
			note = "the image store does not tell it"
		}
		return fmt.Sprintf("%s: %s", v.measure, clean(note))
	}
	return ""
}

// details explains the focused target: where the weight comes from and
// its layers.
func (v CompareView) details(h int) []string {
	s := v.styles
	if v.cursor >= len(v.rows) || h <= 0 {
		return nil
	}
	r := v.rows[v.cursor]
	name := clean(resultKey(r.result))
	var out []string
	title := func(t string) {
		mark := " "
		style := s.PaneTitle
		if v.layersFocused {
			mark = "▌"
			style = style.Foreground(s.NodeFocus.GetForeground())
		}
		out = append(out, style.Render(mark+t))
	}
	switch {
	case r.saved != nil:
		title("Where the weight of " + name + " comes from")
		out = append(out, s.Muted.Render(fmt.Sprintf("  saved %s: %s uncompressed, %s compressed; build it (b) for its layers",
			buildgraph.Ago(v.now.Sub(r.saved.At)), buildgraph.HumanSize(r.saved.Uncompressed), buildgraph.HumanSize(r.saved.Compressed))))
		return out
	case r.result.Error != "":
		title(name + " failed")
		out = append(out, wrapLines(clean(r.result.Error), v.width-4, "  ")...)
		return out
	case r.result.Size == nil:
		return out
	}
	size := r.result.Size
	total := r.size(v.measure)
	title("Where the weight of " + name + " comes from")
	layerSize := func(l buildgraph.Layer) int64 {
		if v.measure == buildgraph.MeasureCompressed {
			return max(l.Compressed, 0)
		}
		return max(l.Size, 0)
	}
	known := func(l buildgraph.Layer) bool {
		if v.measure == buildgraph.MeasureCompressed {
			return l.Compressed >= 0
		}
		return l.Size >= 0
	}
	type part struct {
		label string
		n     int64
	}
	var parts []part
	b := r.result.Breakdown
	switch {
	case total < 0:
		// The table said why once; a breakdown of unknowns would read 0B.
		out = append(out, s.Muted.Render(fmt.Sprintf("  %s sizes unknown here; s shows the %s ones", v.measure, otherMeasure(v.measure))))
	case b != nil && b.Matched:
		var base, own int64
		copied := map[string]int64{}
		var order []string
		for _, l := range size.Layers {
			switch {
			case l.Base:
				base += layerSize(l)
			case l.From != "":
				if _, ok := copied[l.From]; !ok {
					order = append(order, l.From)
				}
				copied[l.From] += layerSize(l)
			default:
				own += layerSize(l)
			}
		}
		parts = append(parts, part{"base " + clean(b.BaseRef), base})
		for _, src := range order {
			parts = append(parts, part{"copied from " + clean(src), copied[src]})
		}
		parts = append(parts, part{"own instructions", own})
	default:
		out = append(out, s.Muted.Render("  the image history does not line up with the Dockerfile; layers only"))
	}
	labelW := 12
	for _, p := range parts {
		labelW = max(labelW, len([]rune(p.label)))
	}
	labelW = min(labelW, v.width/3)
	barW := min(max(v.width-labelW-30, 6), 60)
	for _, p := range parts {
		frac := 0.0
		if total > 0 {
			frac = float64(p.n) / float64(total)
		}
		out = append(out, "  "+pad(p.label, labelW)+" "+padLeft(buildgraph.HumanSize(p.n), 9)+" "+
			bar(frac, barW, s.BarFull, s.BarEmpty)+" "+padLeft(fmt.Sprintf("%.0f%%", frac*100), 4))
	}
	// What the image index holds besides the platform's image: provenance
	// and SBOM manifests are attestations, never a platform.
	for _, a := range r.result.Attestations {
		out = append(out, "  "+s.Muted.Render(fmt.Sprintf("+ %s attestation %s (%s), not a platform", clean(a.Kind), buildgraph.HumanSize(a.Size), shortDigestText(a.Digest))))
	}
	// What the same image measured last time: with several platforms,
	// that platform's image.
	if p := r.result.Previous; p != nil {
		prev := p.Uncompressed
		if v.measure == buildgraph.MeasureCompressed {
			prev = p.Compressed
		}
		if prev >= 0 {
			last := fmt.Sprintf("last time %s, %s", buildgraph.HumanSize(prev), buildgraph.Ago(v.now.Sub(p.At)))
			if total >= 0 && total != prev {
				last += " (" + buildgraph.SignedSize(total-prev) + ")"
			}
			out = append(out, "  "+s.Muted.Render(last))
		}
	}
	layers := v.layers()
	out = append(out, s.PaneTitle.Render(fmt.Sprintf(" Layers %d", len(layers))))
	room := h - len(out)
	off := min(v.layersOff, max(len(layers)-room, 0))
	if v.layersFocused && room > 0 && v.layerCursor >= off+room {
		off = v.layerCursor - room + 1 // the focused layer stays in sight
	}
	for i := off; i < len(layers) && len(out) < h; i++ {
		l := layers[i]
		what := clean(l.Instruction)
		if what == "" {
			what = clean(strings.TrimSpace(strings.TrimSuffix(l.CreatedBy, "# buildkit")))
		}
		if what == "" {
			what = clean(strings.TrimSpace(l.Comment))
		}
		if what == "" {
			what = "(no history text)"
		}
		where := ""
		switch {
		case l.Base:
			where = "base image"
		case l.StageName != "":
			where = fmt.Sprintf("%s line %d", clean(l.StageName), l.Line)
		}
		sizeText := buildgraph.HumanSize(layerSize(l))
		if !known(l) {
			sizeText = "-"
		}
		if l.Empty {
			sizeText = "—"
		}
		whereW := min(24, v.width/4)
		mark := "  "
		if v.layersFocused && i == v.layerCursor {
			mark = "▶ " // seen without colour too
		}
		line := mark + padLeft(sizeText, 9) + "  " + pad(buildgraph.OneLine(what), v.width-whereW-16) + " " + pad(s.Muted.Render(where), whereW)
		switch {
		case v.layersFocused && i == v.layerCursor:
			line = highlight(s.Selected, pad(line, v.width))
		case l.Empty || l.Base:
			line = s.Muted.Render(line)
		}
		out = append(out, line)
	}
	return out
}

// shortAgo is a compact age: 45s, 16m, 3h, 2d.
func shortAgo(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// otherMeasure is the measure s switches to.
func otherMeasure(m buildgraph.Measure) buildgraph.Measure {
	if m == buildgraph.MeasureCompressed {
		return buildgraph.MeasureUncompressed
	}
	return buildgraph.MeasureCompressed
}

// shortDigestText is a digest cut to its first twelve hex digits.
func shortDigestText(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}
