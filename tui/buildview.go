package tui

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	digest "github.com/opencontainers/go-digest"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/pipeline"
)

// maxLogLines stands for every line of a step's kept log: the viewport
// holds all of them once the user scrolls or searches (a step keeps at most
// buildgraph.MaxLogBytes).
const maxLogLines = 1 << 30

// maxLogLineBytes is how much of one log line the viewport holds: its end,
// the freshest output of a line still being written.
const maxLogLineBytes = 4096

// buildTitle names the build screen.
const buildTitle = "Build"

// BuildView is the live build: steps grouped by stage, and the logs of the
// focused step.
type BuildView struct {
	baseScreen
	keys   BuildKeyMap
	styles Styles
	g      *buildgraph.Graph
	source []string

	width, height int
	run           *buildRun
	secs          []buildSection // a section per Dockerfile of the run
	now           time.Time
	frame         string

	// The focused step (of section focusSec); pinned once the user moves,
	// else it follows the step that started last.
	focus    digest.Digest
	focusSec int
	pinned   bool
	offset   int // first row of the steps list shown

	logsFocused bool
	logsFull    bool
	follow      bool
	logs        viewport.Model
	logsOf      digest.Digest
	logsSec     int      // the section of logsOf
	logsLen     int64    // kept+dropped bytes when the logs were last read
	logsWant    int      // how many lines were asked for: a screenful while following
	logsCount   int      // lines in the viewport
	logsGen     int      // counts the contents the viewport was given
	logsTail    []string // what the viewport was given while following
	logsText    []string // what the viewport was given

	logsWhy *buildgraph.Reason // the reason the log pane shows first

	// A search of the focused step's log: typing the query, then the
	// query and the lines it matches (indexes in logsText), the current
	// one at match.
	searching bool
	query     string
	matches   []int
	match     int

	drawn *buildDrawings

	// Shown instead of steps when there is no build to show.
	message string
}

// NewBuildView returns an empty build screen.
func NewBuildView(g *buildgraph.Graph, source []byte, styles Styles) BuildView {
	v := BuildView{keys: DefaultBuildKeyMap(), styles: styles, g: g, follow: true}
	if len(source) > 0 {
		v.source = buildgraph.SourceLines(source)
	}
	v.logs = viewport.New()
	v.drawn = &buildDrawings{}
	return v
}

// buildDrawings keeps drawings of the parts of the build screen that most
// frames repeat, with what they were drawn from. A frame comes at every
// status batch and spinner tick; the log pane changes only when the focused
// step logs or the user scrolls, so it is drawn again only then.
type buildDrawings struct {
	logsKey logsKey
	logs    []string
	rows    map[*buildgraph.Step]stepDrawing
}

// stepDrawing is a step's row and everything it was drawn from.
type stepDrawing struct {
	key stepKey
	row string
}

type stepKey struct {
	state          buildgraph.StepState
	name, text     string
	right          string
	glyph          string
	index, count   int
	warnings       int
	current, total int64
	focused, dark  bool
	width          int
	wait           string // waitLabel()
	why            *buildgraph.Reason
}

// logsKey is everything the log pane's drawing depends on.
type logsKey struct {
	gen, y, x, w, h int
	dark, follow    bool
	query           string
	match           int
}

// setLogLines gives the viewport new contents.
func (v *BuildView) setLogLines(lines []string) {
	v.logs.SetContentLines(lines)
	v.logsText = lines
	v.logsGen++
	v.logsTail = nil
	if v.follow && v.logsWant != maxLogLines {
		v.logsTail = lines
	}
}

func newBuildScreen(opts Options, s Styles) Screen {
	v := NewBuildView(opts.Project.Graph, opts.Project.Source, s)
	return &v
}

// Title names the screen.
func (v BuildView) Title() string { return buildTitle }

// KeyMap is the build screen's key map, for help.
func (v BuildView) KeyMap() BuildKeyMap { return v.keys }

// Help lists the build screen's keys, the global cancel among them.
func (v BuildView) Help(g GlobalKeyMap) (short []key.Binding, full [][]key.Binding) {
	k := v.keys
	if v.searching {
		enter := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "search"))
		esc := key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))
		return []key.Binding{enter, esc}, [][]key.Binding{{enter, esc}}
	}
	short = []key.Binding{k.Up, k.Down, k.Pane, k.Logs, k.Search, k.Next, k.Rebuild, g.Cancel, k.Failed}
	if v.query != "" {
		// A search is on: its keys first, so that they fit at 80 columns.
		end := key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "end search"))
		short = []key.Binding{k.Next, end, k.Up, k.Down, k.Pane, k.Logs, k.Rebuild, g.Cancel, k.Failed}
	}
	full = [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Pane, k.Logs, k.Follow, k.Search, k.Next, k.Prev, k.Failed, k.Rebuild}}
	return short, full
}

// Captures takes every key while a search is typed.
func (v BuildView) Captures() bool { return v.searching }

// Claims takes n and N from the global keys while a search is on.
func (v BuildView) Claims(k tea.KeyPressMsg) bool {
	return key.Matches(k, v.keys.Next) || key.Matches(k, v.keys.Prev)
}

// Back ends a search, then leaves full-screen logs.
func (v *BuildView) Back() bool {
	if v.query != "" {
		v.clearSearch()
		return true
	}
	if !v.logsFull {
		return false
	}
	v.logsFull = false
	v.resizeLogs()
	return true
}

// Status is empty: the screen shows the build's summary itself.
func (v BuildView) Status(func() string) string { return "" }

// SetStyles switches the styles.
func (v *BuildView) SetStyles(s Styles) { v.styles = s; v.logsLen = -1 }

// SetSize sets the screen size.
func (v *BuildView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.resizeLogs()
}

// SetMessage shows a sentence instead of the steps (no engine, connecting).
func (v *BuildView) SetMessage(msg string) { v.message = msg }

// SetRun shows a new build.
func (v *BuildView) SetRun(r *buildRun) {
	v.run = r
	v.secs = buildSections(r)
	if r != nil && r.project != nil {
		v.g, v.source = r.project.Graph, buildgraph.SourceLines(r.project.Source)
	}
	v.message = ""
	v.focus, v.focusSec, v.pinned, v.offset = "", 0, false, 0
	v.logsOf, v.logsLen, v.logsCount = "", 0, 0
	v.follow = true
	v.setLogLines(nil)
	v.drawn.rows = nil
	v.keys.Failed.SetEnabled(false)
	v.clearSearch()
}

// Tick sets the clock and spinner frame for durations of running steps.
func (v *BuildView) Tick(now time.Time, frame string) {
	v.now, v.frame = now, frame
}

// ShowLogs focuses the logs.
func (v *BuildView) ShowLogs() {
	v.logsFocused = true
}

// showLogsMsg asks for the build screen with its logs focused.
type showLogsMsg struct{}

func (showLogsMsg) focusScreen() string { return buildTitle }

// Updated is called after updates were applied to the run's progress.
func (v *BuildView) Updated() {
	if v.run == nil {
		return
	}
	if !v.pinned {
		if k, s := v.latest(); s != nil {
			v.focus, v.focusSec = s.Vertex, k
		}
	}
	v.refreshLogs()
}

// Finished is called when the build's outcome is in: a failure focuses the
// failing step.
func (v *BuildView) Finished() {
	if v.run == nil || v.run.Progress == nil {
		return
	}
	if k, f := failedStep(v.secs); f != nil {
		v.focus, v.focusSec, v.pinned = f.Vertex, k, true
		v.keys.Failed.SetEnabled(true)
		v.follow = true
	} else if v.run.Outcome != nil && v.run.Outcome.Err() != nil {
		v.keys.Failed.SetEnabled(false)
	} else if k, s := v.targetStepOf(); s != nil && !v.pinned {
		v.focus, v.focusSec = s.Vertex, k
	}
	v.refreshLogs()
}

// targetStep is the last step of the last target's stage that ran, the
// step whose output a user looks at after a build (not BuildKit's export
// of the image, which completes last); nil when none ran.
func (v BuildView) targetStep() *buildgraph.Step {
	_, st := v.targetStepOf()
	return st
}

// targetStepOf is targetStep with its section: the last target's
// Dockerfile's.
func (v BuildView) targetStepOf() (int, *buildgraph.Step) {
	for k := len(v.secs) - 1; k >= 0; k-- {
		sec := v.secs[k]
		p := sec.progress
		for i := len(sec.plans) - 1; i >= 0; i-- {
			stage := -1
			if sec.g != nil {
				for _, st := range sec.g.Stages {
					if st.Name == sec.plans[i].Target {
						stage = st.Index
					}
				}
			}
			if stage < 0 && len(p.Stages) > 0 {
				stage = len(p.Stages) - 1
			}
			if stage < 0 || stage >= len(p.Stages) {
				continue
			}
			steps := p.Stages[stage].Steps
			for j := len(steps) - 1; j >= 0; j-- {
				if steps[j].Name != "" && steps[j].State.Finished() {
					return k, steps[j]
				}
			}
		}
	}
	return 0, nil
}

// latest is the step that started last among running steps, else the one
// that completed last, of any section, with its section.
func (v BuildView) latest() (int, *buildgraph.Step) {
	var best *buildgraph.Step
	at := 0
	for k, sec := range v.secs {
		for _, s := range sec.progress.Steps() {
			if s.Name == "" {
				continue
			}
			if s.State == buildgraph.StepRunning {
				if best == nil || best.State != buildgraph.StepRunning || s.Started.After(best.Started) {
					best, at = s, k
				}
				continue
			}
			if best != nil && best.State == buildgraph.StepRunning {
				continue
			}
			if s.State.Finished() && (best == nil || s.Completed.After(best.Completed)) {
				best, at = s, k
			}
		}
	}
	return at, best
}

// row is one line of the steps list: a Dockerfile's name (in a build of
// several), a stage header, a step, or an instruction that runs no step
// of its own (CMD, ENV, "WORKDIR /").
type row struct {
	sec   int  // the section (Dockerfile) of the row
	file  bool // the section's name line
	stage int  // stage index, -1 for the group of other steps
	step  *buildgraph.Step
	// num/count number the row among the stage's instructions after FROM,
	// the steps the header and the graph count; 0 when the step runs none
	// (the FROM of a pulled base).
	num, count int
	instr      *buildgraph.InstructionProgress // a row of an instruction without a step
}

// rows lists what the steps pane shows: the stages the build touches (or
// will: the targets' closures), each with its steps, then other steps; in
// a build of several Dockerfiles, so for each, below its name.
func (v BuildView) rows() []row {
	if v.run == nil || v.run.Progress == nil {
		return nil
	}
	var rows []row
	for k, sec := range v.secs {
		if len(v.secs) > 1 {
			rows = append(rows, row{sec: k, file: true, stage: -1})
		}
		rows = append(rows, sectionRows(k, sec)...)
	}
	return rows
}

// sectionRows are the rows of one Dockerfile's stages and steps.
func sectionRows(k int, sec buildSection) []row {
	p := sec.progress
	inClosure := map[int]bool{}
	for _, pl := range sec.plans {
		if c, err := pl.Graph.Closure(pl.Target); err == nil {
			for _, s := range c.Stages {
				// A stage a named context replaces has no step to wait for.
				if !c.IsReplaced(s) {
					inClosure[s] = true
				}
			}
		}
	}
	var rows []row
	for _, sp := range p.Stages {
		if len(sp.Steps) == 0 && !inClosure[sp.Index] {
			continue
		}
		rows = append(rows, row{sec: k, stage: sp.Index})
		ins := p.Instructions(sp.Index)
		of := map[*buildgraph.Step]int{}
		for i, in := range ins {
			for _, s := range in.Steps {
				of[s] = i
			}
		}
		next := 0 // the first instruction not listed yet
		upTo := func(j int) {
			for ; next < j; next++ {
				if len(ins[next].Steps) == 0 {
					rows = append(rows, row{sec: k, stage: sp.Index, instr: &ins[next], num: next + 1, count: len(ins)})
				}
			}
		}
		for _, s := range sp.Steps {
			i, ok := of[s]
			if !ok {
				rows = append(rows, row{sec: k, stage: sp.Index, step: s})
				continue
			}
			upTo(i)
			next = max(next, i+1)
			rows = append(rows, row{sec: k, stage: sp.Index, step: s, num: i + 1, count: len(ins)})
		}
		upTo(len(ins))
	}
	var other []*buildgraph.Step
	for _, s := range p.Other {
		if s.Name != "" {
			other = append(other, s)
		}
	}
	if len(other) > 0 {
		rows = append(rows, row{sec: k, stage: -1})
		for _, s := range other {
			rows = append(rows, row{sec: k, stage: -1, step: s})
		}
	}
	return rows
}

func (v BuildView) cursorRow(rows []row) int {
	for i, r := range rows {
		if r.step != nil && r.step.Vertex == v.focus && r.sec == v.focusSec {
			return i
		}
	}
	for i, r := range rows {
		if r.step != nil {
			return i
		}
	}
	return -1
}

// Update handles keys of the build screen, and the build's events.
func (v *BuildView) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case buildNoteMsg:
		v.SetMessage(msg.text)
	case buildStartedMsg:
		v.SetRun(msg.run)
	case buildUpdatedMsg:
		v.Updated()
	case buildFinishedMsg:
		v.Finished()
	case frameMsg:
		v.Tick(msg.now, msg.frame)
	case showLogsMsg:
		v.ShowLogs()
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return v, nil
	}
	if v.searching {
		v.typeQuery(k)
		return v, nil
	}
	switch {
	case key.Matches(k, v.keys.Search):
		if v.run != nil {
			v.searching, v.query, v.logsFocused = true, "", true
			v.matches = nil
		}
	case key.Matches(k, v.keys.Next):
		v.gotoMatch(1)
	case key.Matches(k, v.keys.Prev):
		v.gotoMatch(-1)
	case key.Matches(k, v.keys.Pane):
		v.logsFocused = !v.logsFocused
	case key.Matches(k, v.keys.Logs):
		v.logsFull = !v.logsFull
		v.logsFocused = v.logsFull || v.logsFocused
		v.resizeLogs()
	case key.Matches(k, v.keys.Follow):
		v.follow = !v.follow
		v.refreshLogs()
		if v.follow {
			v.logs.GotoBottom()
		}
	case key.Matches(k, v.keys.Failed):
		v.toError()
	case key.Matches(k, v.keys.Rebuild):
		if v.run != nil {
			targets := planArgs(v.run.Plans)
			return v, func() tea.Msg { return buildTargetsMsg{targets: targets} }
		}
		return v, func() tea.Msg { return retryMsg{} }
	case v.logsFocused:
		v.scrollLogs(k)
	default:
		v.moveCursor(k)
	}
	return v, nil
}

// retryMsg asks the root to connect again and build what was asked.
type retryMsg struct{}

func (v *BuildView) scrollLogs(k tea.KeyPressMsg) {
	v.fullLogs()
	switch {
	case key.Matches(k, v.keys.Up):
		v.logs.ScrollUp(1)
	case key.Matches(k, v.keys.Down):
		v.logs.ScrollDown(1)
	case key.Matches(k, v.keys.PageUp):
		v.logs.PageUp()
	case key.Matches(k, v.keys.PageDown):
		v.logs.PageDown()
	case key.Matches(k, v.keys.Top):
		v.logs.GotoTop()
	case key.Matches(k, v.keys.Bottom):
		v.logs.GotoBottom()
	}
	v.follow = v.logs.AtBottom()
	v.refreshLogs()
}

func (v *BuildView) moveCursor(k tea.KeyPressMsg) {
	rows := v.rows()
	cur := v.cursorRow(rows)
	if cur < 0 {
		return
	}
	step := func(from, d int) int {
		for i := from + d; i >= 0 && i < len(rows); i += d {
			if rows[i].step != nil {
				return i
			}
		}
		return from
	}
	next := cur
	switch {
	case key.Matches(k, v.keys.Up):
		next = step(cur, -1)
	case key.Matches(k, v.keys.Down):
		next = step(cur, 1)
	case key.Matches(k, v.keys.PageUp):
		for i := 0; i < v.stepsHeight(); i++ {
			next = step(next, -1)
		}
	case key.Matches(k, v.keys.PageDown):
		for i := 0; i < v.stepsHeight(); i++ {
			next = step(next, 1)
		}
	case key.Matches(k, v.keys.Top):
		next = step(-1, 1)
	case key.Matches(k, v.keys.Bottom):
		next = step(len(rows), -1)
	default:
		return
	}
	if next != cur {
		v.focus, v.focusSec, v.pinned = rows[next].step.Vertex, rows[next].sec, true
		v.follow = true
		v.refreshLogs()
	}
}

// Heights: the summary line, the steps pane, the logs pane.
func (v BuildView) stepsHeight() int {
	if v.logsFull {
		return 0
	}
	return max((v.height-1)*45/100, 3)
}

func (v BuildView) logsHeight() int {
	h := v.height - 1 - v.stepsHeight() - 1 // the logs title
	if v.stepsHeight() > 0 {
		h-- // the separator
	}
	return max(h-len(v.errorBox(v.width)), 1)
}

func (v *BuildView) resizeLogs() {
	v.logs.SetWidth(max(v.width-2, 1))
	v.logs.SetHeight(v.logsHeight())
	v.refreshLogs()
	if v.follow {
		v.logs.GotoBottom()
	}
}

func (v BuildView) focusedStep() *buildgraph.Step {
	if v.run == nil || v.run.Progress == nil || v.focus == "" || v.focusSec >= len(v.secs) {
		return nil
	}
	return v.secs[v.focusSec].progress.Step(v.focus)
}

// focusedSection is the section of the focused step (the first when none
// is focused).
func (v BuildView) focusedSection() buildSection {
	if v.focusSec < len(v.secs) {
		return v.secs[v.focusSec]
	}
	return buildSection{g: v.g, source: v.source}
}

// refreshLogs reloads the focused step's log when it changed. Log lines are
// untrusted: every line is sanitized before it reaches the viewport.
//
// While following, the viewport holds only the lines that fit on screen:
// a step printing thousands of lines a second then costs a screenful of
// work per frame, not the whole window. Scrolling or leaving follow mode
// loads the last maxLogLines lines (fullLogs).
func (v *BuildView) refreshLogs() {
	s := v.focusedStep()
	if s == nil {
		v.setLogLines(nil)
		v.logsOf, v.logsCount = "", 0
		return
	}
	n := s.Logs.Dropped() + int64(s.Logs.Len())
	want := maxLogLines
	if v.follow {
		want = v.logsHeight()
	}
	if s.Vertex == v.logsOf && v.focusSec == v.logsSec && n == v.logsLen && want == v.logsWant && s.Why == v.logsWhy {
		return
	}
	// Paging a step whose memory dropped output reads its whole log from
	// disk (logspill.go), unless that too hit its bound.
	logs, note := s.Logs, ""
	if s.Logs.Dropped() > 0 {
		note = fmt.Sprintf("… %s of earlier output dropped: stagescope keeps the last %s of a step",
			buildgraph.HumanSize(s.Logs.Dropped()), buildgraph.HumanSize(buildgraph.MaxLogBytes))
		if sp, path, ok := v.run.spill.info(s.Vertex); ok {
			switch {
			case sp.full:
				note += fmt.Sprintf("; its first %s are in %s", buildgraph.HumanSize(sp.sent), path)
			case want != maxLogLines:
				note += "; the whole of it is in " + path
			default:
				if whole, sp, path, ok := v.run.spill.whole(s.Vertex); ok {
					logs = whole
					note = "… the whole output, from " + path
					if sp.lost > 0 {
						note = fmt.Sprintf("… %s of earlier output dropped before the rest went to %s", buildgraph.HumanSize(sp.lost), path)
					}
				}
			}
		}
	}
	lines := logs.LinesCut(want, maxLogLineBytes)
	for i, l := range lines {
		lines[i] = clean(l)
	}
	if note != "" && (!v.follow || len(lines) < want) {
		lines = append([]string{v.styles.Faint.Render(clean(note))}, lines...)
	}
	if s.Logs.Clipped() && (!v.follow || len(lines) < want) {
		lines = append([]string{v.styles.Faint.Render("… BuildKit stopped sending this step's output at its log limit")}, lines...)
	}
	if s.Why != nil && (!v.follow || len(lines) < want) {
		lines = append(whyLines(v.styles, s.Why), lines...)
	}
	v.logsWant, v.logsWhy = want, s.Why
	v.logs.SetHeight(v.logsHeight())
	v.setLogLines(lines)
	if v.follow || s.Vertex != v.logsOf || v.focusSec != v.logsSec {
		v.logs.GotoBottom()
	}
	v.logsOf, v.logsSec, v.logsLen, v.logsCount = s.Vertex, v.focusSec, n, len(lines)
}

// typeQuery takes a key of the search being typed: enter searches, esc
// leaves the search.
func (v *BuildView) typeQuery(k tea.KeyPressMsg) {
	switch k.String() {
	case "enter":
		v.searching = false
		v.search()
	case "esc":
		v.clearSearch()
	case "backspace":
		if r := []rune(v.query); len(r) > 0 {
			v.query = string(r[:len(r)-1])
		}
	default:
		if k.Text != "" {
			v.query += k.Text
		}
	}
}

// clearSearch ends the search and its highlights.
func (v *BuildView) clearSearch() {
	v.searching, v.query, v.matches, v.match = false, "", nil, 0
	v.keys.Next.SetEnabled(false)
	v.keys.Prev.SetEnabled(false)
	v.logs.ClearHighlights()
}

// search finds the query in the focused step's whole kept log and shows
// the first match from the top of the pane on.
func (v *BuildView) search() {
	if v.query == "" {
		v.clearSearch()
		return
	}
	v.fullLogs()
	v.follow = false
	v.findMatches()
	v.keys.Next.SetEnabled(true)
	v.keys.Prev.SetEnabled(true)
	if len(v.matches) == 0 {
		return
	}
	top := v.logs.YOffset()
	v.match = 0
	for i, l := range v.matches {
		if l >= top {
			v.match = i
			break
		}
	}
	v.showLine(v.matches[v.match], v.query)
}

// findMatches lists the lines of the viewport that hold the query, in
// any case.
func (v *BuildView) findMatches() {
	v.matches = nil
	q := strings.ToLower(v.query)
	for i, l := range v.logsText {
		if strings.Contains(strings.ToLower(l), q) {
			v.matches = append(v.matches, i)
		}
	}
}

// gotoMatch moves to the next (d = 1) or previous (d = -1) match, around
// the ends.
func (v *BuildView) gotoMatch(d int) {
	if v.query == "" {
		return
	}
	v.fullLogs()
	v.follow = false
	v.findMatches()
	if len(v.matches) == 0 {
		return
	}
	v.match = ((v.match+d)%len(v.matches) + len(v.matches)) % len(v.matches)
	v.showLine(v.matches[v.match], v.query)
}

// errorLine matches a log line that reports an error.
var errorLine = regexp.MustCompile(`(?i)\b(error|fatal|failed|failure|exception|panic|cannot|denied)\b`)

// toError focuses the failing step and shows the first line of its log
// that reports an error.
func (v *BuildView) toError() {
	if v.run == nil || v.run.Progress == nil {
		return
	}
	if k, f := failedStep(v.secs); f != nil {
		v.focus, v.focusSec, v.pinned = f.Vertex, k, true
	}
	v.follow = true
	v.refreshLogs()
	v.fullLogs()
	for i, l := range v.logsText {
		if m := errorLine.FindStringIndex(l); m != nil {
			v.follow = false
			v.logsFocused = true
			v.showLine(i, l[m[0]:m[1]])
			return
		}
	}
}

// showLine scrolls the log pane to show line i a third of the way down,
// with the first occurrence of word on it highlighted.
func (v *BuildView) showLine(i int, word string) {
	off := 0
	for _, l := range v.logsText[:i] {
		off += len(l) + 1
	}
	line := v.logsText[i]
	at := strings.Index(strings.ToLower(line), strings.ToLower(word))
	if at < 0 {
		at, word = 0, line
	}
	v.logs.SetYOffset(i)
	v.logs.SetHighlights([][]int{{off + at, off + at + len(word)}})
	v.logs.SetYOffset(max(i-v.logs.Height()/3, 0))
	v.logsGen++
}

// fullLogs loads the whole kept window before the user scrolls, keeping the
// view at the bottom where the tail was.
func (v *BuildView) fullLogs() {
	if v.logsWant == maxLogLines {
		return
	}
	follow := v.follow
	v.follow = false
	v.refreshLogs()
	v.logs.GotoBottom()
	v.follow = follow
}

// View draws the build screen.
func (v BuildView) View() string {
	s := v.styles
	if v.run == nil {
		msg := v.message
		if msg == "" {
			msg = "No build yet. Pick a stage on the graph (esc) and press enter or b to build it; a builds every target."
		}
		return fit(wrapLines(msg, v.width-4, "  "), v.width, v.height)
	}
	lines := []string{v.summary()}
	if sh := v.stepsHeight(); sh > 0 {
		lines = append(lines, v.viewSteps(sh)...)
		lines = append(lines, s.Faint.Render(strings.Repeat("─", v.width)))
	}
	lines = append(lines, v.logsTitle())
	lines = append(lines, v.errorBox(v.width)...)
	return fit(append(lines, v.logLines()...), v.width, v.height)
}

// logLines draws the log pane, or takes the last drawing when nothing it
// shows has changed.
func (v BuildView) logLines() []string {
	if v.logsCount == 0 {
		return []string{" " + v.styles.Faint.Render("  (no output)")}
	}
	lv := v.logs
	lv.SetHeight(v.logsHeight())
	key := logsKey{gen: v.logsGen, y: lv.YOffset(), x: lv.XOffset(), w: lv.Width(), h: lv.Height(), dark: v.styles.Dark, follow: v.follow,
		query: v.query, match: v.match}
	if v.drawn.logsKey == key && v.drawn.logs != nil {
		return v.drawn.logs
	}
	var lines []string
	if v.follow && v.logsTail != nil {
		// Following a flood: the viewport holds the screenful of lines that
		// is shown, so the tail is drawn as it is, cut to the pane, without
		// the viewport's padding of every line (the frame is padded once).
		tail := v.logsTail[max(len(v.logsTail)-lv.Height(), 0):]
		lines = make([]string, len(tail))
		for i, l := range tail {
			if cells(l) > lv.Width() {
				l = ansi.Cut(l, 0, lv.Width())
			}
			lines[i] = " " + l
		}
	} else {
		lines = strings.Split(lv.View(), "\n")
		for i, l := range lines {
			lines[i] = " " + l
		}
	}
	v.drawn.logsKey, v.drawn.logs = key, lines
	return lines
}

func (v BuildView) summary() string { return buildSummary(v.styles, v.run, v.now, v.frame) }

// buildSummary is the line that sums a build up: its state, targets,
// duration, steps and sizes, at now with the spinner's frame.
func buildSummary(s Styles, r *buildRun, now time.Time, frame string) string {
	what := strings.Join(r.targets, ", ")
	var state string
	switch {
	case r.Phase == pipeline.Building && r.canceled:
		state = s.Canceled.Render("canceling…")
	case r.Phase == pipeline.Building:
		state = s.Running.Render(frame + " building")
	case r.Phase == pipeline.Measuring:
		state = s.Running.Render(frame + " " + measuringText(r.Run))
	case r.Outcome != nil && r.Outcome.Err() != nil:
		if r.canceled || errors.Is(r.Outcome.Err(), errCanceled) {
			state = s.Canceled.Render("⊘ canceled")
		} else {
			state = s.Failed.Render("✗ failed")
		}
	default:
		state = s.Done.Render("✓ built")
	}
	models := runModels(r)
	cached, done, total := runCounts(models)
	parts := []string{state, s.Bold.Render(clean(what)), duration(buildgraph.ElapsedAll(now, models...))}
	if total > 0 {
		parts = append(parts, fmt.Sprintf("%d/%d steps", done, total))
	}
	if r.noCache {
		parts = append(parts, s.Warn.Render("no-cache"))
	}
	switch {
	case cached > 0 && r.noCache:
		// no-cache covers RUN, COPY and ADD; BuildKit still answers the
		// directory of a WORKDIR from its cache. Say which, so the count
		// does not read as no-cache failing.
		parts = append(parts, fmt.Sprintf("%d still cached (%s)", cached, strings.Join(cachedKeywords(models), ", ")))
	case cached > 0:
		parts = append(parts, fmt.Sprintf("%d cached", cached))
	}
	if r.Outcome != nil {
		results := r.Outcome.Results
		if r.rows != nil {
			results = r.rows // a size per platform
		}
		for _, res := range results {
			if res.Size != nil {
				parts = append(parts, fmt.Sprintf("%s %s", resultKey(res), buildgraph.HumanSize(res.Size.Uncompressed)))
			}
		}
	}
	return " " + strings.Join(nonEmpty(parts), s.Faint.Render(" · "))
}

// cachedKeywords lists the keywords of the cached steps of stages, once
// each, in order.
func cachedKeywords(models []*buildgraph.Progress) []string {
	var out []string
	for _, p := range models {
		for _, sp := range p.Stages {
			for _, in := range p.Instructions(sp.Index) {
				if in.State == buildgraph.StepCached && !slices.Contains(out, in.Instruction.Keyword) {
					out = append(out, in.Instruction.Keyword)
				}
			}
		}
	}
	return out
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (v BuildView) viewSteps(h int) []string {
	head := v.platformLines()
	if len(head) == 0 || len(head)+2 > h {
		return v.viewStepRows(h)
	}
	return append(head, v.viewStepRows(h-len(head))...)
}

// viewStepRows draws the stages and steps in h rows.
func (v BuildView) viewStepRows(h int) []string {
	s := v.styles
	rows := v.rows()
	cur := v.cursorRow(rows)
	off := windowStart(v.offset, max(cur, 0), h, len(rows))
	if cur >= 0 {
		// Keep the stage header of the focused step in view when it fits.
		off = windowStart(off, cur, h, len(rows))
	}
	var out []string
	for i := off; i < len(rows) && len(out) < h; i++ {
		r := rows[i]
		if r.instr != nil {
			out = append(out, v.instructionRow(r))
			continue
		}
		if r.file {
			out = append(out, v.fileRow(r.sec))
			continue
		}
		if r.step == nil {
			out = append(out, v.stageRow(r.sec, r.stage))
			continue
		}
		line := v.stepRow(r, i == cur)
		out = append(out, line)
	}
	for len(out) < h {
		out = append(out, "")
	}
	if len(rows) > h {
		more := fmt.Sprintf(" %d–%d of %d ", off+1, min(off+h, len(rows)), len(rows))
		out[0] = pad(truncate(out[0], v.width-len(more)), v.width-len(more)) + s.Faint.Render(more)
	}
	return out
}

// fileRow names a section's Dockerfile, as the compare screen's FILE
// column does, with its steps counted as the summary counts them.
func (v BuildView) fileRow(k int) string {
	s := v.styles
	sec := v.secs[k]
	name := sec.name
	if name == "" {
		name = sec.file
	}
	right := ""
	if _, done, total := sec.progress.Counts(); total > 0 {
		right = fmt.Sprintf("%d/%d steps", done, total)
	}
	left := " " + s.Accent.Render("▌"+clean(name))
	if sec.name != "" && sec.file != "" {
		left += s.Faint.Render(" " + clean(sec.file))
	}
	return pad(truncate(left, v.width-len(right)-2), v.width-len(right)-1) + s.Muted.Render(right) + " "
}

func (v BuildView) stageRow(k, i int) string {
	s := v.styles
	if i < 0 {
		return " " + s.PaneTitle.Render("BuildKit")
	}
	sp := v.secs[k].progress.Stages[i]
	state := sp.State
	state = partialState(state, sp, v.run)
	st, glyph := s.State(state)
	if state == buildgraph.StepRunning && v.frame != "" {
		glyph = v.frame
	}
	name := clean(sp.Name)
	right := ""
	switch {
	case len(sp.Steps) == 0:
		right = v.waitLabel()
	case sp.State == buildgraph.StepCached:
		right = "cached"
	default:
		right = duration(sp.Duration(v.now))
	}
	left := " " + st.Render(glyph) + " " + s.Bold.Render(name)
	return pad(left, v.width-10) + padLeft(s.Muted.Render(right), 9) + " "
}

// stepRow draws a step's row, or takes its last drawing when nothing the
// row shows has changed: most rows are finished steps.
func (v BuildView) stepRow(r row, focused bool) string {
	st := r.step
	s := v.styles
	_, glyph := s.State(st.State)
	if st.State == buildgraph.StepRunning && v.frame != "" {
		glyph = v.frame
	}
	right := ""
	switch st.State {
	case buildgraph.StepCached, buildgraph.StepCanceled, buildgraph.StepWaiting:
	case buildgraph.StepError:
		right = st.Error
	default:
		right = duration(st.Duration(v.now))
	}
	key := stepKey{
		state: st.State, name: st.Name, text: st.Text, right: right, glyph: glyph,
		index: r.num, count: r.count, warnings: len(st.Warnings),
		current: st.Current, total: st.Total,
		focused: focused, dark: s.Dark, width: v.width, wait: v.waitLabel(), why: st.Why,
	}
	if d, ok := v.drawn.rows[st]; ok && d.key == key {
		return d.row
	}
	line := v.drawStepRow(r, glyph, focused)
	if v.drawn.rows == nil {
		v.drawn.rows = map[*buildgraph.Step]stepDrawing{}
	}
	v.drawn.rows[st] = stepDrawing{key: key, row: line}
	return line
}

// loadsContext names the context a step of no stage loads, for the steps
// BuildKit repeats per context ("[context golang] load .dockerignore",
// "[internal] load .dockerignore"): "context golang", "build context";
// "" for other steps.
func loadsContext(st *buildgraph.Step) string {
	if !strings.HasPrefix(st.Name, "[") {
		return ""
	}
	label, _, ok := strings.Cut(st.Name[1:], "]")
	if !ok {
		return ""
	}
	switch {
	case strings.HasPrefix(label, "context "):
		return label
	case label == "internal" && st.Text == "load .dockerignore":
		return "build context"
	}
	return ""
}

// stepNumber is "i/N " of a row among its stage's instructions, "" for a
// row of none.
func stepNumber(r row) string {
	if r.count == 0 {
		return ""
	}
	w := len(strconv.Itoa(r.count))
	return fmt.Sprintf("%*d/%d ", w, r.num, r.count)
}

// instructionRow draws an instruction that runs no step of its own: it
// sets the image's config (CMD, ENV, ...), or it is "WORKDIR /", or
// BuildKit ran its step once for another stage. It is done once its stage
// is.
func (v BuildView) instructionRow(r row) string {
	s := v.styles
	in := r.instr
	style, glyph := s.State(in.State)
	right := ""
	if in.State == buildgraph.StepWaiting {
		right = s.Waiting.Render(v.waitLabel())
	}
	text := clean(buildgraph.FirstLine(in.Instruction.Text))
	left := "   " + style.Render(glyph) + " " + s.Muted.Render(stepNumber(r)) + s.Faint.Render(text)
	return pad(left, v.width-10) + padLeft(right, 9) + " "
}

func (v BuildView) drawStepRow(r row, glyph string, focused bool) string {
	st := r.step
	s := v.styles
	style, _ := s.State(st.State)
	num := stepNumber(r)
	text := clean(st.Text)
	if text == "" {
		text = clean(st.Name)
	}
	if st.Platform != "" && st.Text != "" {
		// A build for several platforms: the platform the step is for.
		text = s.Accent.Render(clean(st.Platform)) + " " + text
	}
	if st.Stage < 0 {
		if c := loadsContext(st); c != "" {
			text += s.Muted.Render(" · " + clean(c))
		}
	}
	var right string
	switch st.State {
	case buildgraph.StepCached:
		right = s.Cached.Render("CACHED")
	case buildgraph.StepError:
		right = s.Failed.Render("ERROR")
		if code, ok := buildgraph.ExitCode(st.Error); ok {
			right = s.Failed.Render("exit " + strconv.Itoa(code))
		}
	case buildgraph.StepCanceled:
		right = s.Canceled.Render("CANCELED")
	case buildgraph.StepWaiting:
		right = s.Waiting.Render(v.waitLabel())
	default:
		right = duration(st.Duration(v.now))
	}
	barW := 0
	var progress string
	if st.Total > 0 && st.State == buildgraph.StepRunning && v.width >= 80 {
		barW = 12
		progress = bar(float64(st.Current)/float64(st.Total), barW, s.BarFull, s.BarEmpty) +
			fmt.Sprintf(" %3d%%", st.Current*100/st.Total)
		barW += 6
	} else if st.Current > 0 && st.State == buildgraph.StepRunning {
		progress = buildgraph.HumanSize(st.Current)
		barW = len(progress)
	}
	marker := "  "
	if focused {
		marker = s.Accent.Render("▸ ")
	}
	left := marker + " " + style.Render(glyph) + " " + s.Muted.Render(num) + text
	if len(st.Warnings) > 0 {
		left += s.Warn.Render(" ⚠")
	}
	if st.Why != nil && st.State == buildgraph.StepDone {
		// A failed or canceled step's row says that; its pane says why.
		left += s.Muted.Render(" · " + st.Why.Short())
	}
	rightW := 9
	if barW > 0 {
		rightW += barW + 1
	}
	line := pad(left, v.width-rightW-1)
	if barW > 0 {
		line += progress + " "
	}
	line += padLeft(right, 9) + " "
	if focused {
		return highlight(s.Selected, pad(line, v.width))
	}
	return line
}

func (v BuildView) logsTitle() string {
	s := v.styles
	st := v.focusedStep()
	title := "Logs"
	if st != nil {
		title += " · " + v.stepTitle(st)
	}
	mark := " "
	if v.logsFocused {
		mark = "▌"
	}
	right := ""
	switch {
	case v.searching:
		title = "/" + v.query + "▏"
	case v.query != "" && len(v.matches) == 0:
		right = "no match"
	case v.query != "":
		right = fmt.Sprintf("%d/%d", v.match+1, len(v.matches))
	}
	if st != nil && st.Logs.Len() > 0 && right == "" {
		if v.follow {
			right = "following"
		} else {
			right = fmt.Sprintf("%d%%", int(v.logs.ScrollPercent()*100))
		}
	}
	style := s.PaneTitle
	if v.logsFocused {
		style = style.Foreground(s.NodeFocus.GetForeground())
	}
	return pad(style.Render(mark+truncate(title, v.width-14)), v.width-12) + padLeft(s.Faint.Render(right), 11) + " "
}

// stepTitle names a step for the log pane's title, numbered as its row
// is; BuildKit's own i/N, which counts otherwise, comes last.
func (v BuildView) stepTitle(st *buildgraph.Step) string {
	sec := v.focusedSection()
	p := sec.progress
	file := ""
	if len(v.secs) > 1 && sec.name != "" {
		file = clean(sec.name) + " · "
	}
	if p == nil || st.Stage < 0 || st.Stage >= len(p.Stages) {
		t := clean(st.Text)
		if c := loadsContext(st); c != "" {
			t += " · " + clean(c)
		}
		if t == "" {
			t = clean(st.Name)
		}
		return file + t
	}
	t := file + clean(p.Stages[st.Stage].Name) + " "
	if in, ok := p.Instruction(st); ok {
		t += fmt.Sprintf("%d/%d ", in.Number, in.Count)
	}
	t += clean(st.Text)
	if st.Count > 0 {
		t += fmt.Sprintf(" · BuildKit's step %d/%d", st.Index, st.Count)
	}
	return t
}

// errorBox describes a failed focused step: the error, the exit code and
// the Dockerfile lines around its instruction.
func (v BuildView) errorBox(width int) []string {
	return v.fitBox(v.drawErrorBox(width))
}

// fitBox cuts the error box to two thirds of the log pane, so that the step's
// output keeps room at 80×24; the cut says how many lines it hides.
func (v BuildView) fitBox(box []string) []string {
	pane := v.height - 1 - v.stepsHeight() - 1
	if v.stepsHeight() > 0 {
		pane--
	}
	limit := max(pane*2/3, 5)
	if len(box) <= limit {
		return box
	}
	hidden := len(box) - limit + 1
	return append(box[:limit-1:limit-1], " "+v.styles.Faint.Render(fmt.Sprintf("  … %d more lines of the Dockerfile", hidden)))
}

func (v BuildView) drawErrorBox(width int) []string {
	s := v.styles
	st := v.focusedStep()
	if be := v.stepless(); be != nil {
		return v.steplessBox(be, width)
	}
	if st == nil || st.State != buildgraph.StepError {
		return nil
	}
	var out []string
	msg := "✗ " + clean(buildgraph.FirstLine(st.Error))
	var be *engine.BuildError
	if v.run.Outcome == nil || !errors.As(v.run.Outcome.Err(), &be) {
		be = nil
	}
	if be != nil && be.ExitCode >= 0 {
		msg = fmt.Sprintf("✗ exit code %d · %s", be.ExitCode, clean(buildgraph.FirstLine(st.Error)))
	} else if code, ok := buildgraph.ExitCode(st.Error); ok {
		msg = fmt.Sprintf("✗ exit code %d · %s", code, clean(buildgraph.FirstLine(st.Error)))
	}
	sec := v.focusedSection()
	if len(v.secs) > 1 && sec.name != "" {
		// The Dockerfile the excerpt is of.
		msg = "✗ " + clean(sec.name) + ": " + strings.TrimPrefix(msg, "✗ ")
	}
	out = append(out, " "+s.Failed.Render(truncate(msg, width-2)))
	source, line, end := sec.source, st.Line, st.Line
	if sec.g != nil && st.Stage >= 0 && st.Stage < len(sec.g.Stages) {
		for _, in := range sec.g.Stages[st.Stage].Instructions {
			if in.StartLine == st.Line {
				end = in.EndLine
			}
		}
	}
	// A step of no stage (the metadata of a FROM image, a # syntax
	// frontend) has no line of its own: the error says where it points.
	if line == 0 && be != nil && be.Step == st.Name {
		if data, start, stop, ok := be.Location(); ok {
			line, end = start, stop
			if len(data) > 0 {
				source = buildgraph.SourceLines(data)
			}
		}
	}
	return append(out, v.excerpt(source, line, end, width)...)
}

// stepless is the error of a build that failed with no failed step, such
// as a Dockerfile BuildKit's frontend cannot parse where stagescope's own
// parse passed; nil otherwise.
func (v BuildView) stepless() *engine.BuildError {
	if v.run == nil || v.run.Outcome == nil || v.run.canceled {
		return nil
	}
	if _, f := failedStep(v.secs); f != nil {
		return nil
	}
	var be *engine.BuildError
	if err := v.run.Outcome.Err(); err == nil || errors.Is(err, errCanceled) || !errors.As(err, &be) {
		return nil
	}
	return be
}

// errSection is the section of the build's first error: the Dockerfile
// of the plan that failed first.
func (v BuildView) errSection() buildSection {
	for i, err := range v.run.Outcome.Errs {
		if err == nil {
			continue
		}
		for _, sec := range v.secs {
			if slices.Contains(sec.plans, v.run.Plans[i]) {
				return sec
			}
		}
	}
	return buildSection{g: v.g, source: v.source}
}

// steplessBox shows a build error of no step like a failed step's: the
// message with the file and line it points at, and the lines there (from
// the Dockerfile BuildKit read, which may differ from the one shown).
func (v BuildView) steplessBox(be *engine.BuildError, width int) []string {
	s := v.styles
	msg := clean(buildgraph.FirstLine(be.Err.Error()))
	msg = strings.TrimPrefix(msg, "failed to solve: ")
	data, start, end, ok := be.Location()
	if ok {
		file := "Dockerfile"
		for _, src := range be.Sources {
			if n := src.GetInfo().GetFilename(); n != "" {
				file = clean(n)
				break
			}
		}
		msg = fmt.Sprintf("%s:%d: %s", file, start, msg)
	}
	out := []string{" " + s.Failed.Render(truncate("✗ "+msg, width-2))}
	if !ok {
		return out
	}
	source := v.errSection().source
	if len(data) > 0 {
		source = buildgraph.SourceLines(data)
	}
	return append(out, v.excerpt(source, start, end, width)...)
}

// excerpt draws the lines first..last of source with two lines of context
// on each side, the lines themselves marked.
func (v BuildView) excerpt(source []string, first, last, width int) []string {
	s := v.styles
	var out []string
	for _, l := range buildgraph.Excerpt(source, first, last) {
		text := clean(l.Text)
		if l.Marked {
			out = append(out, " "+s.Marked.Render(truncate(fmt.Sprintf("▶%4d │ %s", l.Number, text), width-2)))
		} else {
			out = append(out, " "+s.LineNo.Render(fmt.Sprintf(" %4d │ ", l.Number))+truncate(text, width-10))
		}
	}
	return out
}

// wrapLines word-wraps text to width with an indent.
func wrapLines(text string, width int, indent string) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		words := strings.Fields(para)
		line := ""
		for _, w := range words {
			if line != "" && len([]rune(line))+1+len([]rune(w)) > width {
				out = append(out, indent+line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += w
		}
		out = append(out, indent+line)
	}
	return out
}

// waitLabel is what a step or stage that has not started shows: "waiting"
// while the engine builds, "not run" once the solve is over (a step after
// the failing one, a stage the failure left out).
func (v BuildView) waitLabel() string {
	if v.run != nil && v.run.Phase != pipeline.Building {
		return "not run"
	}
	return "waiting"
}

// partialState is how a stage whose steps partly ran shows: running while
// the build runs, canceled once a canceled build ended.
func partialState(state buildgraph.StepState, sp *buildgraph.StageProgress, r *buildRun) buildgraph.StepState {
	if state != buildgraph.StepWaiting || sp.Started.IsZero() {
		return state
	}
	switch {
	case r.running():
		return buildgraph.StepRunning
	case r != nil && r.canceled:
		return buildgraph.StepCanceled
	}
	return state
}

// platformLines say, in a build for several platforms, which stages each
// platform's build ran so far, as the build command says it at the end:
// "linux/arm64  builder (on linux/amd64) 1 step; stage-1 2 steps".
func (v BuildView) platformLines() []string {
	r := v.run
	if r == nil || r.Run == nil || r.project == nil || len(r.project.Platforms) < 2 || r.Progress == nil || len(v.secs) > 1 {
		return nil
	}
	groups := r.Progress.ByPlatform()
	buildgraph.SortPlatformProgress(groups, r.project.Platforms)
	w := 0
	for _, g := range groups {
		w = max(w, len(g.Platform))
	}
	var out []string
	for _, g := range groups {
		out = append(out, truncate(" "+v.styles.Accent.Render(pad(clean(g.Platform), w))+"  "+v.styles.Muted.Render(clean(g.Summary())), v.width))
	}
	return out
}
