package tui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/history"
)

// timelineTitle names the timeline screen.
const timelineTitle = "Timeline"

// TimelineKeyMap is the timeline screen's keys.
type TimelineKeyMap struct {
	Show, Steps, Up, Down key.Binding
}

// DefaultTimelineKeyMap returns the timeline screen's default keys.
func DefaultTimelineKeyMap() TimelineKeyMap {
	return TimelineKeyMap{
		Show:  key.NewBinding(key.WithKeys("T"), key.WithHelp("T", "timeline")),
		Steps: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "steps/stages")),
		Up:    key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:  key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
	}
}

// TimelineView draws the current build on a time axis: a row per stage
// (per step when expanded), cached steps as markers, the critical path
// marked, and what each stage costs the build. While the build runs, the
// axis grows.
type TimelineView struct {
	baseScreen
	keys   TimelineKeyMap
	styles Styles

	width, height int
	run           *buildRun
	record        *history.Record // drawn instead of the run when set (the History screen's)
	now           time.Time
	steps         bool
	off           int
}

func newTimelineScreen(_ Options, s Styles) Screen {
	return &TimelineView{keys: DefaultTimelineKeyMap(), styles: s}
}

// Title names the screen.
func (v *TimelineView) Title() string { return timelineTitle }

// ShowKey is T, which brings the timeline forward.
func (v *TimelineView) ShowKey() key.Binding { return v.keys.Show }

// Help lists the timeline's keys.
func (v *TimelineView) Help(GlobalKeyMap) (short []key.Binding, full [][]key.Binding) {
	k := v.keys
	return []key.Binding{k.Steps, k.Up, k.Down}, [][]key.Binding{{k.Steps, k.Up, k.Down}}
}

// SetStyles switches the styles.
func (v *TimelineView) SetStyles(s Styles) { v.styles = s }

// SetSize sets the size of the body.
func (v *TimelineView) SetSize(w, h int) { v.width, v.height = w, h }

// Update takes the timeline's keys and the session's build events.
func (v *TimelineView) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case buildStartedMsg:
		v.run, v.off = msg.run, 0
	case frameMsg:
		v.now = msg.now
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, v.keys.Steps):
			v.steps, v.off = !v.steps, 0
		case key.Matches(msg, v.keys.Up):
			v.off = max(v.off-1, 0)
		case key.Matches(msg, v.keys.Down):
			v.off++
		}
	}
	return v, nil
}

// tlRow is one row of the timeline: a stage or, indented, a step; in a
// build of several Dockerfiles also a Dockerfile's name above its stages.
type tlRow struct {
	group  bool // a Dockerfile's name
	label  string
	took   time.Duration
	onPath bool
	saves  string
	spans  []tlStep
}

// View draws the body.
func (v *TimelineView) View() string {
	lines := v.lines()
	for len(lines) < v.height {
		lines = append(lines, "")
	}
	return strings.Join(lines[:max(v.height, 0)], "\n")
}

func (v *TimelineView) lines() []string {
	s := v.styles
	src, ok := v.source()
	if !ok {
		return []string{"", s.Muted.Render(" No build yet: build a target and its timeline shows here.")}
	}
	return v.draw(src)
}

// tlStep is what the timeline draws of a step, from a build that runs or
// from a record.
type tlStep struct {
	vertex             string
	stage              int
	text               string // the step's row label: its instruction, or BuildKit's name for a step of no stage
	started, completed time.Time
	cached             bool
}

// tlSource is what a timeline is drawn from: the steps that started, the
// critical path over them, the stages' names and the time the steps of no
// stage ran.
type tlSource struct {
	steps   []tlStep
	cp      buildgraph.CriticalPath
	names   map[int]string
	noStage time.Duration
	// groups are the Dockerfiles of a build of several, each with the
	// stage numbers its stages have here (its own indexes after the
	// stages of the files before it); nil for a build of one.
	groups []tlGroup
}

// tlGroup is one Dockerfile of a build of several: stages from..to-1 are
// its stages.
type tlGroup struct {
	name     string
	from, to int
}

// source is the current build's timeline, or the record's.
func (v *TimelineView) source() (tlSource, bool) {
	if v.record != nil {
		return recordSource(v.record), true
	}
	if v.run == nil || v.run.Progress == nil {
		return tlSource{}, false
	}
	now := v.now
	if !v.run.ended.IsZero() && (now.IsZero() || now.After(v.run.ended)) {
		now = v.run.ended
	}
	return runSource(v.run, now), true
}

// runSource is a running or finished build's timeline. A build of several
// Dockerfiles is one run on one axis: its critical path is the whole
// run's, over every file's steps (a file's vertices kept apart from
// another's, and its stages numbered after the files before it).
func runSource(r *buildRun, now time.Time) tlSource {
	models := runModels(r)
	several := len(models) > 1
	src := tlSource{names: map[int]string{}}
	var timed []buildgraph.TimedStep
	var other []*buildgraph.Step
	base := 0
	for k, p := range models {
		id := func(d string) string { return d }
		if several {
			id = func(d string) string { return fmt.Sprintf("%d:%s", k, d) }
			name := ""
			if k < len(r.Projects) && r.Projects[k] != nil {
				name = r.Projects[k].Name
			}
			src.groups = append(src.groups, tlGroup{name: name, from: base, to: base + len(p.Stages)})
		}
		stage := func(i int) int {
			if i < 0 {
				return i
			}
			return base + i
		}
		for _, st := range p.Steps() {
			in := make([]string, len(st.Inputs))
			for i, d := range st.Inputs {
				in[i] = id(string(d))
			}
			timed = append(timed, buildgraph.TimedStep{Vertex: id(string(st.Vertex)), Inputs: in, Stage: stage(st.Stage),
				Started: st.Started, Completed: st.Completed, Cached: st.Cached()})
		}
		for _, sp := range p.Stages {
			src.names[stage(sp.Index)] = sp.Name
		}
		for _, st := range p.Steps() {
			if st.Started.IsZero() {
				continue
			}
			text := st.Text
			if st.Stage < 0 || text == "" {
				text = st.Name
			}
			src.steps = append(src.steps, tlStep{vertex: id(string(st.Vertex)), stage: stage(st.Stage), text: text,
				started: st.Started, completed: st.Completed, cached: st.Cached()})
			if st.Stage < 0 {
				other = append(other, st)
			}
		}
		base += len(p.Stages)
	}
	src.cp = buildgraph.Critical(timed, now)
	// As for a stage: the time while one of its steps ran.
	src.noStage = (&buildgraph.StageProgress{Steps: other}).Duration(src.cp.Start.Add(src.cp.End))
	return src
}

// draw lays a timeline out in the screen's size.
func (v *TimelineView) draw(src tlSource) []string {
	s := v.styles
	cp := src.cp
	if len(cp.Steps) == 0 {
		if v.record != nil {
			return []string{"", s.Muted.Render(" No step of this build ran: there is no timeline to draw.")}
		}
		return []string{"", s.Muted.Render(" No step has started yet.")}
	}
	onPath := map[string]bool{}
	for _, ps := range cp.Steps {
		onPath[ps.Vertex] = true
	}
	names := src.names
	byStage := map[int][]tlStep{}
	for _, st := range src.steps {
		byStage[st.stage] = append(byStage[st.stage], st)
	}
	for _, list := range byStage {
		sort.SliceStable(list, func(i, j int) bool { return list[i].started.Before(list[j].started) })
	}
	end := cp.Start.Add(cp.End)
	var rows []tlRow
	add := func(idx int, label, saves string, took time.Duration, on bool) {
		rows = append(rows, tlRow{label: label, took: took, onPath: on, saves: saves, spans: byStage[idx]})
		if !v.steps {
			return
		}
		for _, st := range byStage[idx] {
			stEnd := st.completed
			if stEnd.IsZero() {
				stEnd = end
			}
			rows = append(rows, tlRow{label: "  " + st.text, took: max(stEnd.Sub(st.started), 0), onPath: onPath[st.vertex],
				spans: []tlStep{st}})
		}
	}
	if list := byStage[-1]; len(list) > 0 {
		on := false
		for _, st := range list {
			on = on || onPath[st.vertex]
		}
		add(-1, "(no stage)", "", src.noStage, on)
	}
	var pathStages []string
	group := -1
	for _, sv := range cp.Stages {
		name := names[sv.Stage]
		if name == "" {
			name = fmt.Sprintf("stage %d", sv.Stage)
		}
		onPath := name
		for g, gr := range src.groups {
			if sv.Stage < gr.from || sv.Stage >= gr.to {
				continue
			}
			if g != group {
				group = g
				rows = append(rows, tlRow{group: true, label: gr.name})
			}
			if name == fmt.Sprintf("stage %d", sv.Stage) {
				name = fmt.Sprintf("stage %d", sv.Stage-gr.from)
			}
			onPath = gr.name + ":" + name
		}
		add(sv.Stage, name, savedSecs(sv.Saves), sv.Duration, sv.OnPath)
		if sv.OnPath {
			pathStages = append(pathStages, fmt.Sprintf("%s (saves %s)", onPath, savedSecs(sv.Saves)))
		}
	}

	labelW := len("STAGE")
	for _, r := range rows {
		if !r.group {
			labelW = max(labelW, len([]rune(clean(r.label))))
		}
	}
	labelW = min(labelW, max(v.width/4, 12))
	axisW := max(v.width-(2+labelW+1+6+1+1+7), 10)
	scale := max(cp.End, time.Millisecond)
	col := func(d time.Duration) int { return min(max(int(int64(d)*int64(axisW)/int64(scale)), 0), axisW-1) }

	if len(pathStages) == 0 {
		pathStages = []string{"no stage yet (BuildKit's own steps)"}
	}
	head := fmt.Sprintf(" Critical path %s: %s", duration(cp.End), strings.Join(pathStages, " → "))
	if len(src.groups) > 0 {
		// One run, one axis: the path runs through every file's steps.
		head = fmt.Sprintf(" Critical path of the whole run (%d Dockerfiles) %s: %s", len(src.groups), duration(cp.End), strings.Join(pathStages, " → "))
	}
	legend := fmt.Sprintf(" %s critical path  %s ran  %s cached  saves: how much sooner it ends had the stage taken no time",
		s.Accent.Render("█"), s.Done.Render("━"), s.Cached.Render("◆"))
	out := []string{truncate(head, v.width), truncate(legend, v.width)}
	// The axis: labels at ticks.
	tick := tlTick(cp.End)
	axis := []rune(strings.Repeat(" ", axisW+6))
	marks := []rune(strings.Repeat("─", axisW))
	for t := time.Duration(0); t <= cp.End; t += tick {
		c := col(t)
		marks[c] = '┬'
		label := []rune(fmt.Sprintf("%gs", t.Seconds()))
		if c+len(label) <= len(axis) {
			copy(axis[c:], label)
		}
	}
	indent := strings.Repeat(" ", 2+labelW+1+6+1)
	out = append(out, s.Muted.Render(truncate(strings.TrimRight(indent+string(axis), " "), v.width)))
	out = append(out, s.Muted.Render(truncate(fmt.Sprintf("  %-*s %6s %s saves", labelW, "STAGE", "TIME", string(marks)), v.width)))
	body := max(v.height-len(out), 1)
	v.off = min(v.off, max(len(rows)-body, 0))
	for i := v.off; i < len(rows) && i < v.off+body; i++ {
		r := rows[i]
		if r.group {
			out = append(out, truncate(" "+s.Accent.Render("▌"+clean(r.label)), v.width))
			continue
		}
		bar := make([]string, axisW)
		kind := make([]byte, axisW) // 0 empty, 1 cached, 2 ran, 3 path
		for _, st := range r.spans {
			a := st.started.Sub(cp.Start)
			b := cp.End
			if !st.completed.IsZero() {
				b = st.completed.Sub(cp.Start)
			}
			if st.cached || b <= a {
				if c := col(a); kind[c] == 0 {
					kind[c] = 1
				}
				continue
			}
			k := byte(2)
			if onPath[st.vertex] {
				k = 3
			}
			for c := col(a); c <= max(col(a), col(b-1)); c++ {
				kind[c] = max(kind[c], k)
			}
		}
		for c, k := range kind {
			switch k {
			case 0:
				bar[c] = " "
			case 1:
				bar[c] = s.Cached.Render("◆")
			case 2:
				bar[c] = s.Done.Render("━")
			default:
				bar[c] = s.Accent.Render("█")
			}
		}
		star := " "
		if r.onPath {
			star = s.Accent.Render("*")
		}
		label := pad(clean(r.label), labelW)
		line := fmt.Sprintf("%s %s %6s %s %s", star, label, duration(r.took), strings.Join(bar, ""), r.saves)
		out = append(out, truncate(strings.TrimRight(line, " "), v.width))
	}
	if len(rows) > v.off+body {
		out[len(out)-1] = s.Muted.Render(fmt.Sprintf("  … %d more rows (↓)", len(rows)-(v.off+body)+1))
	}
	return out
}

// tlTick is 1, 2 or 5 times a power of ten, for at most six labels.
func tlTick(d time.Duration) time.Duration {
	t := time.Millisecond
	for {
		for _, m := range []time.Duration{1, 2, 5} {
			if d/(t*m) <= 5 {
				return t * m
			}
		}
		t *= 10
	}
}

func savedSecs(d time.Duration) string { return fmt.Sprintf("%.1fs", max(d, 0).Seconds()) }
