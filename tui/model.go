package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
)

type screen int

const (
	graphScreen screen = iota
	buildScreen
	compareScreen
)

var screenNames = []string{"Graph", "Build", "Compare"}

var errCanceled = context.Canceled

// Messages of the root.
type (
	connectMsg struct {
		session Session
		err     error
	}
	savedMsg struct {
		saved map[string]buildgraph.SavedSize
	}
	// lintedMsg carries the linter's findings on a graph parsed without
	// them: the graph is drawn first and its lint marks appear when done.
	lintedMsg struct {
		warnings []buildgraph.Warning
		err      *buildgraph.Error
	}
)

// Model is the root of the TUI: it owns the engine session and the builds,
// routes keys to the focused screen, and draws the frame around it.
type Model struct {
	opts   Options
	styles Styles
	keys   GlobalKeyMap
	help   help.Model
	now    func() time.Time

	width, height int
	screen        screen
	showHelp      bool

	graph   GraphView
	build   BuildView
	compare CompareView

	// confirm asks before a build sends a wide context; wideOK records the
	// answer for the session.
	confirm *confirmWide
	wideOK  bool

	helpKey, helpDrawn string    // the short help line and what it was drawn for
	headerKey          headerKey // what the header was last drawn from
	headerDrawn        string
	builds             int // builds that ended, for Options.Stats

	ctx    context.Context
	cancel context.CancelFunc
	closed bool

	session    Session
	connecting bool
	connErr    error
	pending    []string // targets to build once connected

	noCache     bool
	run         *buildRun
	nextID      int
	interrupted bool
	// interruptedQuit: the user left with ctrl+c, which Run reports as
	// ErrInterrupted (exit code 130), not as a plain quit.
	interruptedQuit bool

	results []buildgraph.TargetResult // the latest result per target, in order of first build
	saved   map[string]buildgraph.SavedSize
	notice  string
	alert   bool // the notice is a problem

	firstFrame chan struct{} // closed when View first draws the screen
}

// New returns the TUI's model.
func New(opts Options) *Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	styles := NewStyles(opts.Dark)
	m := &Model{
		opts:    opts,
		styles:  styles,
		keys:    DefaultGlobalKeyMap(),
		help:    help.New(),
		now:     opts.Now,
		ctx:     ctx,
		cancel:  cancel,
		noCache: opts.NoCache,

		firstFrame: make(chan struct{}),
	}
	m.help.Styles = styles.Help
	src := opts.Project.Source
	m.graph = NewGraphView(opts.Project.Graph, src, styles, opts.Target)
	m.graph.SetBuilderPair(findBuilderPair(opts.Project.Dockerfile))
	m.build = NewBuildView(opts.Project.Graph, src, styles)
	m.compare = NewCompareView(opts.Project.Graph, styles)
	m.keys.Cancel.SetEnabled(false)
	if opts.Connect != nil {
		m.connecting = true
	}
	return m
}

// Init connects to the engine and loads saved results, off the UI loop.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestBackgroundColor}
	if m.opts.Connect != nil {
		cmds = append(cmds, m.connectCmd())
	}
	if g := m.opts.Project.Graph; g != nil && !g.Linted() {
		// The linter starts once the first frame is drawn: on two cores
		// it would otherwise compete with that frame for the processor
		// and the collector.
		drawn := m.firstFrame // nil once drawn
		cmds = append(cmds, func() tea.Msg {
			if drawn != nil {
				select {
				case <-drawn:
				case <-time.After(time.Second): // no size yet: lint anyway
				}
			}
			warnings, err := g.Lint() // reads g only; the findings are set in Update
			return lintedMsg{warnings: warnings, err: err}
		})
	}
	if h := m.opts.History; h != nil {
		file := m.opts.Project.Dockerfile
		cmds = append(cmds, func() tea.Msg {
			saved, _ := h.Load(file)
			return savedMsg{saved: saved}
		})
	}
	return tea.Batch(cmds...)
}

func (m *Model) connectCmd() tea.Cmd {
	m.connecting = true
	connect, ctx := m.opts.Connect, m.ctx
	return func() tea.Msg {
		s, err := connect(ctx)
		return connectMsg{session: s, err: err}
	}
}

// shutdown cancels the build and closes the engine session.
func (m *Model) shutdown() {
	if m.closed {
		return
	}
	m.closed = true
	m.run.stop()
	m.cancel()
	if m.session != nil {
		_ = m.session.Close()
	}
}

func (m *Model) quit() (tea.Model, tea.Cmd) {
	m.shutdown()
	return m, tea.Quit
}

// Update routes a message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.BackgroundColorMsg:
		m.setStyles(NewStyles(msg.IsDark()))
		return m, nil
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case connectMsg:
		return m, m.connected(msg)
	case lintedMsg:
		g := m.opts.Project.Graph
		g.Warnings, g.LintError = msg.warnings, msg.err
		return m, nil
	case savedMsg:
		m.saved = msg.saved
		m.refreshCompare("")
		m.syncGraph()
		return m, nil
	case buildTargetsMsg:
		return m, m.startBuild(msg.targets)
	case wideCountedMsg:
		if m.confirm != nil {
			m.confirm.counted(msg)
		}
		return m, nil
	case retryMsg:
		if m.session == nil && !m.connecting {
			m.build.SetMessage("Connecting to the engine…")
			return m, m.connectCmd()
		}
		return m, nil
	case showLogsMsg:
		m.screen = buildScreen
		m.build.ShowLogs()
		return m, nil
	case statusMsg:
		if m.run == nil || msg.id != m.run.id {
			return m, nil // a superseded build
		}
		for _, s := range msg.updates {
			m.run.progress.Apply(s)
		}
		m.build.Updated()
		m.syncGraph()
		return m, waitUpdates(m.run.id, m.run.updates)
	case streamEndMsg:
		if m.run == nil || msg.id != m.run.id {
			return m, nil
		}
		m.run.phase = phaseMeasuring
		m.run.ended = m.now()
		if m.opts.Stats != nil {
			m.run.cpuEnded = processCPU()
		}
		m.build.Updated()
		return m, waitDone(m.run.id, m.run.done)
	case buildDoneMsg:
		if m.run == nil || msg.id != m.run.id {
			return m, nil
		}
		m.finished(msg.outcome)
		return m, nil
	case tickMsg:
		if m.run == nil || msg.id != m.run.id || !m.run.running() {
			return m, nil
		}
		m.tickViews()
		return m, tick(m.run.id)
	}
	if m.screen == graphScreen && m.graph.Filtering() {
		var cmd tea.Cmd
		m.graph, cmd = m.graph.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m *Model) setStyles(s Styles) {
	m.styles = s
	m.help.Styles = s.Help
	m.graph.SetStyles(s)
	m.build.SetStyles(s)
	m.compare.SetStyles(s)
}

// Layout: a header line, the body, a status line and a help line.
func (m *Model) bodyHeight() int { return max(m.height-3, 1) }

func (m *Model) layout() {
	m.help.SetWidth(m.width)
	m.graph.SetSize(m.width, m.bodyHeight())
	m.build.SetSize(m.width, m.bodyHeight())
	m.compare.SetSize(m.width, m.bodyHeight())
}

func (m *Model) handleKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if key.Matches(k, m.keys.Interrupt) {
		if m.run.running() && !m.interrupted {
			m.interrupted = true
			m.cancelBuild()
			m.setNotice("Canceling the build; press ctrl+c again to quit.", true)
			return m, nil
		}
		m.interruptedQuit = true
		return m.quit()
	}
	if m.confirm != nil {
		switch {
		case key.Matches(k, m.confirm.keys.Yes):
			targets := m.confirm.targets
			m.confirm, m.wideOK = nil, true
			return m, m.startBuild(targets)
		case key.Matches(k, m.confirm.keys.No):
			m.confirm = nil
			m.setNotice("Build canceled: nothing was sent to the engine.", false)
		case key.Matches(k, m.keys.Quit):
			return m.quit()
		}
		return m, nil
	}
	if m.showHelp {
		switch {
		case key.Matches(k, m.keys.Help), key.Matches(k, m.keys.Back):
			m.showHelp = false
		case key.Matches(k, m.keys.Quit):
			return m.quit()
		}
		return m, nil
	}
	if m.screen == graphScreen && m.graph.Filtering() {
		var cmd tea.Cmd
		m.graph, cmd = m.graph.Update(k)
		return m, cmd
	}
	switch {
	case key.Matches(k, m.keys.Quit):
		return m.quit()
	case key.Matches(k, m.keys.Help):
		m.showHelp = true
		return m, nil
	case key.Matches(k, m.keys.Compare):
		m.screen = compareScreen
		return m, nil
	case key.Matches(k, m.keys.BuildAll):
		var targets []string
		g := m.opts.Project.Graph
		for _, t := range g.Targets() {
			targets = append(targets, t.Name)
		}
		return m, m.startBuild(targets)
	case key.Matches(k, m.keys.NoCache):
		m.noCache = !m.noCache
		if m.noCache {
			m.setNotice("The next build ignores the build cache (no-cache).", false)
		} else {
			m.setNotice("The next build uses the build cache.", false)
		}
		return m, nil
	case key.Matches(k, m.keys.Cancel):
		if m.run.running() {
			m.cancelBuild()
			m.setNotice("Canceling the build…", false)
		}
		return m, nil
	case key.Matches(k, m.keys.Back) && m.screen != graphScreen:
		if m.screen == buildScreen && m.build.logsFull {
			break // the build screen leaves full-screen logs first
		}
		m.screen = graphScreen
		return m, nil
	}
	var cmd tea.Cmd
	switch m.screen {
	case graphScreen:
		m.graph, cmd = m.graph.Update(k)
	case buildScreen:
		if key.Matches(k, m.keys.Back) && m.build.logsFull {
			m.build.logsFull = false
			m.build.resizeLogs()
			return m, nil
		}
		m.build, cmd = m.build.Update(k)
	case compareScreen:
		m.compare, cmd = m.compare.Update(k)
	}
	return m, cmd
}

func (m *Model) setNotice(s string, alert bool) { m.notice, m.alert = s, alert }

func (m *Model) cancelBuild() {
	if m.run == nil {
		return
	}
	m.run.canceled = true
	m.run.cancel()
}

// connected handles the answer of a connection attempt.
func (m *Model) connected(msg connectMsg) tea.Cmd {
	m.connecting = false
	if msg.err != nil {
		m.session, m.connErr = nil, msg.err
		if len(m.pending) > 0 {
			m.build.SetMessage(noEngineMessage(msg.err))
			m.setNotice("No engine: press r to try again.", true)
		}
		return nil
	}
	if m.closed {
		_ = msg.session.Close()
		return nil
	}
	m.session, m.connErr = msg.session, nil
	// Saved sizes are shown for the engine kind in use, known only now.
	m.refreshCompare("")
	m.syncGraph()
	if len(m.pending) > 0 {
		targets := m.pending
		m.pending = nil
		return m.startBuild(targets)
	}
	return nil
}

func noEngineMessage(err error) string {
	return "No engine answered: " + firstLine(err.Error()) + ". Press r to try again once it runs; the graph works without an engine (esc)."
}

// startBuild builds targets (target arguments: names, "" for the last
// stage), canceling a build that runs.
func (m *Model) startBuild(targets []string) tea.Cmd {
	p := m.opts.Project
	g := p.Graph
	for _, t := range targets {
		if st, ok := g.Stage(t); ok && t != "" {
			if _, ok := targetArg(g, st); !ok {
				m.setNotice(fmt.Sprintf("Stage %s has no name: BuildKit builds only named stages and the last one.", st.Name), true)
				return nil
			}
		}
	}
	if len(targets) == 0 || p.Plan == nil {
		return nil
	}
	plans := make([]Plan, 0, len(targets))
	for _, t := range targets {
		pl, err := p.Plan(t)
		if err != nil {
			m.setNotice(firstLine(err.Error()), true)
			return nil
		}
		pl.Request.NoCache = m.noCache
		pl.Request.Keep = true
		plans = append(plans, pl)
	}
	if len(p.Wide) > 0 && !m.wideOK {
		m.confirm = &confirmWide{
			keys: DefaultConfirmKeyMap(), targets: targets, wide: p.Wide,
			sizes: make([]*engine.ContextSize, len(p.Wide)),
		}
		return countWide(m.ctx, p.Wide)
	}
	m.screen = buildScreen
	if m.session == nil {
		m.pending = targets
		if m.connecting {
			m.build.SetMessage("Connecting to the engine…")
			return nil
		}
		if m.opts.Connect == nil {
			m.build.SetMessage("No engine is configured.")
			return nil
		}
		m.build.SetMessage("Connecting to the engine…")
		return m.connectCmd()
	}
	if m.run.running() {
		m.setNotice("Canceled the build of "+strings.Join(m.run.targets, ", ")+" to start this one.", false)
	} else {
		m.setNotice("", false)
	}
	m.run.stop()
	m.nextID++
	ctx, cancel := context.WithCancel(m.ctx)
	r := &buildRun{
		id: m.nextID, plans: plans, noCache: m.noCache,
		progress: buildgraph.NewProgress(g),
		started:  m.now(),
		cancel:   cancel,
		abandon:  make(chan struct{}),
		updates:  make(chan *client.SolveStatus, statusQueue),
		done:     make(chan buildOutcome, 1),
	}
	if len(plans) == 1 {
		r.progress = buildgraph.NewProgress(plans[0].Graph)
	}
	for _, pl := range plans {
		r.targets = append(r.targets, pl.Target)
	}
	if m.opts.Stats != nil {
		r.cpuStarted = processCPU()
	}
	m.run = r
	m.interrupted = false
	m.keys.Cancel.SetEnabled(true)
	buildJob{session: m.session, plans: plans, history: m.opts.History, dockerfile: p.Dockerfile, now: m.now}.start(ctx, r)
	m.build.SetRun(r)
	m.tickViews()
	m.syncGraph()
	return tea.Batch(waitUpdates(r.id, r.updates), tick(r.id))
}

// finished takes a build's outcome in.
func (m *Model) finished(o buildOutcome) {
	r := m.run
	r.phase = phaseDone
	if r.ended.IsZero() {
		r.ended = m.now()
	}
	r.outcome = &o
	m.keys.Cancel.SetEnabled(false)
	m.interrupted = false
	for _, res := range o.results {
		if res.Error != "" && r.canceled {
			continue // a canceled build tells nothing about sizes
		}
		m.addResult(res)
	}
	err := o.err()
	var lost *engine.LostError
	if err != nil && r.progress != nil {
		why := "the build ended before this step did"
		if errors.As(err, &lost) {
			why = "the engine was lost"
		}
		r.progress.Abandon(r.ended, why)
	}
	switch {
	case err == nil:
		var sizes []string
		for _, res := range o.results {
			if res.Size != nil {
				sizes = append(sizes, fmt.Sprintf("%s is %s", res.Target, buildgraph.HumanSize(res.Size.Uncompressed)))
			}
		}
		msg := "Built " + strings.Join(r.targets, ", ")
		if len(sizes) > 0 {
			msg += ": " + strings.Join(sizes, ", ")
		}
		m.setNotice(msg+". Press c to compare.", false)
	case r.canceled || errors.Is(err, context.Canceled):
		m.setNotice("The build was canceled.", true)
	case errors.As(err, &lost):
		m.session, m.connErr = nil, err
		// The action first: the engine's address makes the cause long.
		m.setNotice("Engine lost during the build; press r to reconnect and build again. ("+firstLine(err.Error())+")", true)
	default:
		m.setNotice(firstLine(err.Error()), true)
	}
	if o.saveErr != nil {
		m.setNotice(m.notice+" (could not save results: "+firstLine(o.saveErr.Error())+")", true)
	}
	m.tickViews()
	m.build.Finished()
	m.syncGraph()
	m.builds++
	if m.opts.Stats != nil {
		outcome := "built"
		if err != nil {
			outcome = firstLine(err.Error())
		}
		st := processStats(m.builds, outcome)
		if r.cpuEnded > 0 {
			st.SolveCPUSeconds = (r.cpuEnded - r.cpuStarted).Seconds()
		}
		if line, err := json.Marshal(st); err == nil {
			m.opts.Stats.Write(append(line, '\n'))
		}
	}
	focus := ""
	if len(o.results) == 1 {
		focus = o.results[0].Target
	}
	m.refreshCompare(focus)
}

func (m *Model) addResult(res buildgraph.TargetResult) {
	for i, r := range m.results {
		if r.Target == res.Target {
			m.results[i] = res
			return
		}
	}
	m.results = append(m.results, res)
}

func (m *Model) sessionKind() string {
	if m.session != nil {
		return m.session.Kind()
	}
	return ""
}

func (m *Model) refreshCompare(focus string) {
	desc := ""
	if m.session != nil {
		desc = m.session.Describe()
	}
	m.compare.SetResults(m.results, m.saved, m.sessionKind(), desc, focus, m.now())
}

// tickViews gives the views the time and the spinner frame.
func (m *Model) tickViews() {
	now := m.now()
	frame := ""
	if m.run.running() {
		frames := spinner.Dot.Frames
		frame = strings.TrimSpace(frames[int(now.Sub(m.run.started)/spinner.Dot.FPS)%len(frames)])
	}
	m.build.Tick(now, frame)
	m.syncGraph()
}

// syncGraph hands the graph the build state and the known sizes.
func (m *Model) syncGraph() {
	g := m.opts.Project.Graph
	sizes := map[int]int64{}
	for _, t := range g.Targets() {
		name := g.Stages[t.Stage].Name
		if s, ok := m.saved[m.sessionKind()+"/"+name]; ok && m.session != nil {
			sizes[t.Stage] = s.Uncompressed
		}
	}
	for _, r := range m.results {
		if st, ok := g.Stage(r.Target); ok && r.Size != nil {
			sizes[st.Index] = r.Size.Uncompressed
		}
	}
	m.graph.SetResults(m.results)
	m.graph.SetBuild(m.run, sizes, m.build.frame)
}

// View draws the frame and the focused screen.
func (m *Model) View() tea.View {
	v := tea.NewView(trimLines(m.render()))
	if v.Content != "" && m.firstFrame != nil {
		close(m.firstFrame)
		m.firstFrame = nil
	}
	v.AltScreen = true
	v.WindowTitle = "stagescope"
	return v
}

func (m *Model) render() string {
	s := m.styles
	if m.width == 0 || m.height == 0 {
		return ""
	}
	if m.width < MinWidth || m.height < MinHeight {
		msg := []string{
			s.Bold.Render("Terminal too small"),
			fmt.Sprintf("%d×%d; stagescope needs at least %d×%d.", m.width, m.height, MinWidth, MinHeight),
			s.Muted.Render("Enlarge the window, or press q to quit."),
		}
		for i := range msg {
			msg[i] = truncate(msg[i], m.width)
		}
		return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, strings.Join(msg, "\n"))
	}
	var body string
	if m.confirm != nil {
		body = m.confirm.view(s, m.width, m.bodyHeight())
	} else if m.showHelp {
		body = m.viewHelp()
	} else {
		switch m.screen {
		case graphScreen:
			body = m.graph.View()
		case buildScreen:
			body = m.build.View()
		case compareScreen:
			body = m.compare.View()
		}
	}
	return strings.Join([]string{m.header(), body, m.statusLine(), m.helpLine()}, "\n")
}

// headerKey is everything the header shows.
type headerKey struct {
	screen                                  screen
	help, noCache, dark, connecting, failed bool
	width                                   int
	engine                                  string
}

// header draws the header line, or takes its last drawing: it changes only
// with the screen, the engine or the window.
func (m *Model) header() string {
	key := headerKey{screen: m.screen, help: m.showHelp, noCache: m.noCache, dark: m.styles.Dark,
		connecting: m.connecting, failed: m.connErr != nil, width: m.width}
	if m.session != nil {
		key.engine = m.session.Describe()
	}
	if key != m.headerKey || m.headerDrawn == "" {
		m.headerKey, m.headerDrawn = key, m.drawHeader()
	}
	return m.headerDrawn
}

func (m *Model) drawHeader() string {
	s := m.styles
	left := s.Title.Render(" stagescope ")
	for i, name := range screenNames {
		if screen(i) == m.screen && !m.showHelp {
			left += s.ActiveTab.Render(name)
		} else {
			left += s.Tab.Render(name)
		}
	}
	if m.showHelp {
		left += s.ActiveTab.Render("Help")
	}
	var eng string
	switch {
	case m.session != nil:
		eng = s.Good.Render("●") + " " + s.Muted.Render(m.session.Describe())
	case m.connecting:
		eng = s.Warn.Render("○") + " " + s.Muted.Render("connecting…")
	case m.connErr != nil:
		eng = s.Failed.Render("○") + " " + s.Muted.Render("no engine")
	default:
		eng = s.Muted.Render("○ no engine")
	}
	if m.noCache {
		eng = s.Warn.Render("no-cache") + "  " + eng
	}
	file := s.Muted.Render(clean(m.opts.Project.Dockerfile))
	room := m.width - lipgloss.Width(left) - lipgloss.Width(eng) - 3
	if room > 8 {
		left += "  " + truncate(file, room)
	}
	gap := max(m.width-lipgloss.Width(left)-lipgloss.Width(eng)-1, 1)
	return truncate(left+strings.Repeat(" ", gap)+eng+" ", m.width)
}

func (m *Model) statusLine() string {
	s := m.styles
	if m.notice != "" {
		st := s.Muted
		if m.alert {
			st = s.Warn
		}
		return truncate(" "+st.Render(clean(m.notice)), m.width)
	}
	if m.confirm != nil {
		return ""
	}
	if m.run.running() && m.screen != buildScreen {
		return truncate(m.build.summary(), m.width)
	}
	if m.screen == graphScreen {
		if f := m.graph.Focused(); f != nil {
			if _, ok := targetArg(m.opts.Project.Graph, f); ok {
				return truncate(" "+s.Muted.Render("enter builds "+clean(f.Name)+" as the target"), m.width)
			}
		}
	}
	return ""
}

// bindings returns the short and full help of the focused screen.
func (m *Model) bindings() (short []key.Binding, full [][]key.Binding) {
	g := m.keys
	switch {
	case m.confirm != nil:
		k := m.confirm.keys
		return []key.Binding{k.Yes, k.No, g.Quit}, [][]key.Binding{{k.Yes, k.No, g.Quit}}
	case m.screen == graphScreen:
		k := m.graph.KeyMap()
		if m.graph.Filtering() {
			return []key.Binding{k.Accept, k.Clear}, [][]key.Binding{{k.Accept, k.Clear}}
		}
		if m.graph.Explaining() {
			ek := m.graph.ExplainKeyMap()
			short = []key.Binding{k.Up, k.Down, ek.PageDown, ek.Close, k.Build}
			full = [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {ek.PageUp, ek.PageDown, ek.Close}, {k.Build, k.Logs, k.Filter}}
			break
		}
		short = []key.Binding{k.Up, k.Down, k.Build, k.Explain, k.Filter, k.Pane, g.BuildAll}
		full = [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom, k.Pane}, {k.Build, k.Explain, k.Logs, k.Filter}}
	case m.screen == buildScreen:
		k := m.build.KeyMap()
		short = []key.Binding{k.Up, k.Down, k.Pane, k.Logs, k.Rebuild, g.Cancel, k.Failed}
		full = [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Pane, k.Logs, k.Follow, k.Failed, k.Rebuild}}
	default:
		k := m.compare.KeyMap()
		short = []key.Binding{k.Up, k.Down, k.Measure, k.Pane, k.Build}
		full = [][]key.Binding{{k.Up, k.Down, k.Pane}, {k.Measure, k.Build, k.Rebuild}}
	}
	short = append(short, g.short()...)
	full = append(full, g.full())
	return short, full
}

// helpLine draws the short help. It is the same frame after frame while a
// build streams, so the drawn line is kept until the keys or width change.
func (m *Model) helpLine() string {
	short, _ := m.bindings()
	var k strings.Builder
	fmt.Fprint(&k, m.width, m.styles.Dark)
	for _, b := range short {
		if b.Enabled() {
			k.WriteString("\x00" + b.Help().Key + "\x01" + b.Help().Desc)
		}
	}
	if k.String() != m.helpKey {
		m.helpKey = k.String()
		m.helpDrawn = truncate(" "+m.help.ShortHelpView(short), m.width)
	}
	return m.helpDrawn
}

func (m *Model) viewHelp() string {
	s := m.styles
	_, full := m.bindings()
	lines := []string{"", " " + s.Bold.Render("Keys of the "+screenNames[m.screen]+" screen") + s.Muted.Render("  (esc or ? closes)"), ""}
	for _, l := range strings.Split(m.help.FullHelpView(full), "\n") {
		lines = append(lines, "  "+l)
	}
	lines = append(lines, "",
		" "+s.Muted.Render("Graph: ┏┓ focused stage · ┌┐ in the focused target's build · ┌╌┐ skipped by it · ◇ external image · ⚠ lint warnings"),
		" "+s.Muted.Render("States: · waiting, not run  ● running  ≡ cached  ✓ done  ✗ failed  ⊘ canceled"))
	return fit(lines, m.width, m.bodyHeight())
}
