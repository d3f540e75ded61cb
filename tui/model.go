package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/stagescope/stagescope/buildgraph"
)

// Model is the root of the TUI: it owns the engine session and the builds
// (lifecycle.go), holds the screens (screen.go), routes keys to the
// focused one, and draws the frame around it.
type Model struct {
	opts   Options
	styles Styles
	keys   GlobalKeyMap
	help   help.Model
	now    func() time.Time

	width, height int
	screens       []Screen
	focus         int // the focused screen, an index in screens
	showHelp      bool
	// The time and spinner frame of the last tick, for the build's summary
	// in the status line.
	tickNow time.Time
	frame   string

	// confirm asks before a build sends a wide context.
	confirm *confirmWide
	// picker chooses the platforms of the next build (platforms.go);
	// givenPlatforms are those of --platform, enginePlatforms the engine's
	// once it said.
	picker          *platformPicker
	givenPlatforms  []string
	enginePlatforms []string

	helpKey, helpDrawn string    // the short help line and what it was drawn for
	headerKey          headerKey // what the header was last drawn from
	headerDrawn        string

	notice string
	alert  bool // the notice is a problem

	firstFrame chan struct{} // closed when View first draws the screen

	lifecycle
	following
}

// lintedMsg carries the linter's findings on a graph parsed without them:
// the graph is drawn first and its lint marks appear when done.
type lintedMsg struct {
	graph    *buildgraph.Graph // the graph linted
	warnings []buildgraph.Warning
	err      *buildgraph.Error
}

// New returns the TUI's model.
func New(opts Options) *Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	styles := NewStyles(opts.Dark)
	m := &Model{
		opts:       opts,
		styles:     styles,
		keys:       DefaultGlobalKeyMap(),
		help:       help.New(),
		now:        opts.Now,
		lifecycle:  lifecycle{ctx: ctx, cancel: cancel, noCache: opts.NoCache, crash: &crashBox{}},
		firstFrame: make(chan struct{}),
		following:  following{auto: opts.Watch},
	}
	m.help.Styles = styles.Help
	for _, newScreen := range screens {
		m.screens = append(m.screens, newScreen(opts, styles))
	}
	m.keys.Cancel.SetEnabled(false)
	m.givenPlatforms = projectPlatforms(opts.Project.Base.Platform)
	m.syncPlatformKey()
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
			return lintedMsg{graph: g, warnings: warnings, err: err}
		})
	}
	cmds = append(cmds, m.startFollowing())
	if cmd := m.loadSaved(); cmd != nil {
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

// loadSaved reads, off the UI loop, the sizes saved by earlier builds of
// every Dockerfile opened: what "last time" compares with, and the rows of
// targets not built yet.
func (m *Model) loadSaved() tea.Cmd {
	h := m.opts.History
	if h == nil {
		return nil
	}
	first := m.opts.Project.Dockerfile
	var files []string
	for _, p := range m.opts.projects() {
		files = append(files, p.Dockerfile)
	}
	return func() tea.Msg {
		msg := savedMsg{byFile: map[string]map[string]buildgraph.SavedSize{}}
		for _, f := range files {
			if _, ok := msg.byFile[f]; !ok {
				msg.byFile[f], _ = h.Load(f)
			}
		}
		msg.saved = msg.byFile[first]
		return msg
	}
}

func (m *Model) quit() (tea.Model, tea.Cmd) {
	m.shutdown()
	return m, tea.Quit
}

// Update routes a message: the frame's own, the build's (lifecycle.go),
// and the rest to the focused screen.
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
	case lintedMsg:
		g := m.opts.Project.Graph
		if msg.graph != nil {
			g = msg.graph // the Dockerfile may have changed since
		}
		g.Warnings, g.LintError = msg.warnings, msg.err
		m.broadcast(msg)
		return m, nil
	case wideCountedMsg:
		if m.confirm != nil {
			m.confirm.counted(msg)
		}
		return m, nil
	case focusRequest:
		m.focusOn(msg.focusScreen())
		return m, m.updateFocused(msg)
	case enginePlatformsMsg:
		m.enginePlatforms = msg.platforms
		m.syncPlatformKey()
		return m, nil
	case noticeMsg:
		m.setNotice(msg.text, msg.alert)
		return m, nil
	case filesRequestMsg: // the files screen reads images with the session
		return m, readFiles(m.ctx, m.session, msg)
	case filesLoadedMsg:
		m.broadcast(msg)
		return m, nil
	case filesProgressMsg:
		m.broadcast(msg)
		return m, waitFilesProgress(msg.next, filesProgressEvery)
	}
	if cmd, ok := m.updateBuild(msg); ok {
		return m, cmd
	}
	if cmd, ok := m.updateFile(msg); ok {
		return m, cmd
	}
	return m, m.updateFocused(msg)
}

// focused is the screen that has the focus.
func (m *Model) focused() Screen { return m.screens[m.focus] }

// focusOn focuses the screen with this title.
func (m *Model) focusOn(title string) {
	for i, s := range m.screens {
		if s.Title() == title {
			m.focus = i
		}
	}
}

func (m *Model) updateFocused(msg tea.Msg) tea.Cmd {
	s, cmd := m.focused().Update(msg)
	m.screens[m.focus] = s
	return cmd
}

// broadcast sends every screen an event of the session. Events hand the
// screens state; screens answer them with no command.
func (m *Model) broadcast(msg tea.Msg) {
	for i, s := range m.screens {
		m.screens[i], _ = s.Update(msg)
	}
}

func (m *Model) setStyles(s Styles) {
	m.styles = s
	m.help.Styles = s.Help
	for _, scr := range m.screens {
		scr.SetStyles(s)
	}
}

// Layout: a header line, the body, a status line and a help line.
func (m *Model) bodyHeight() int { return max(m.height-3, 1) }

func (m *Model) layout() {
	m.help.SetWidth(m.width)
	for _, s := range m.screens {
		s.SetSize(m.width, m.bodyHeight())
	}
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
	if m.picker != nil {
		return m, m.pickerKey(k)
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
	if m.focused().Captures() || m.focused().Claims(k) {
		return m, m.updateFocused(k)
	}
	switch {
	case key.Matches(k, m.keys.Quit):
		return m.quit()
	case key.Matches(k, m.keys.Help):
		m.showHelp = true
		return m, nil
	case key.Matches(k, m.keys.BuildAll):
		return m, m.startBuild(m.opts.allTargets())
	case key.Matches(k, m.keys.Platforms):
		m.openPicker()
		return m, nil
	case key.Matches(k, m.keys.Watch):
		return m, m.toggleAuto()
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
	case key.Matches(k, m.keys.Back):
		switch {
		case m.focused().Back(): // the screen left a part of itself
		case m.focus != 0:
			m.focus = 0
		default:
			return m, m.updateFocused(k)
		}
		return m, nil
	}
	for i, s := range m.screens {
		if key.Matches(k, s.ShowKey()) {
			m.focus = i
			return m, m.updateFocused(shownMsg{})
		}
	}
	return m, m.updateFocused(k)
}

func (m *Model) setNotice(s string, alert bool) { m.notice, m.alert = s, alert }

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
	switch {
	case m.confirm != nil:
		body = m.confirm.view(s, m.width, m.bodyHeight())
	case m.picker != nil:
		body = m.picker.view(s, m.width, m.bodyHeight())
	case m.showHelp:
		body = m.viewHelp()
	default:
		body = m.focused().View()
	}
	return strings.Join([]string{m.header(), body, m.statusLine(), m.helpLine()}, "\n")
}

// headerKey is everything the header shows.
type headerKey struct {
	screen                                        int
	help, noCache, auto, dark, connecting, failed bool
	width                                         int
	engine, platforms                             string
}

// header draws the header line, or takes its last drawing: it changes only
// with the screen, the engine or the window.
func (m *Model) header() string {
	key := headerKey{screen: m.focus, help: m.showHelp, noCache: m.noCache, auto: m.auto, dark: m.styles.Dark,
		connecting: m.connecting, failed: m.connErr != nil, width: m.width, platforms: m.opts.Project.Base.Platform}
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
	tabs := func(compact bool) string {
		left := s.Title.Render(" stagescope ")
		for i, scr := range m.screens {
			switch {
			case i == m.focus && !m.showHelp:
				left += s.ActiveTab.Render(scr.Title())
			case compact:
				// A narrow window: the other screens by their initial, so
				// that the file's name keeps its room.
				left += s.Tab.Render(string([]rune(scr.Title())[:1]))
			default:
				left += s.Tab.Render(scr.Title())
			}
		}
		if m.showHelp {
			left += s.ActiveTab.Render("Help")
		}
		return left
	}
	left := tabs(false)
	var eng, short string
	switch {
	case m.session != nil:
		eng = s.Good.Render("●") + " " + s.Muted.Render(m.session.Describe())
		short = s.Good.Render("●") + " " + s.Muted.Render(m.session.Kind())
	case m.connecting:
		eng = s.Warn.Render("○") + " " + s.Muted.Render("connecting…")
	case m.connErr != nil:
		eng = s.Failed.Render("○") + " " + s.Muted.Render("no engine")
	default:
		eng = s.Muted.Render("○ no engine")
	}
	if short == "" {
		short = eng
	}
	if m.noCache {
		eng = s.Warn.Render("no-cache") + "  " + eng
		short = s.Warn.Render("no-cache") + "  " + short
	}
	if p := m.opts.Project.Base.Platform; p != "" && !m.opts.several() {
		// The platforms of the next build (p chooses them).
		plats := strings.Join(projectPlatforms(p), ",")
		eng = s.Accent.Render(plats) + "  " + eng
		short = s.Accent.Render(plats) + "  " + short
	}
	if m.auto {
		eng = s.Good.Render("auto-rebuild") + "  " + eng
		short = s.Good.Render("auto") + "  " + short
	}
	// The file name comes first: the engine's address gives way to it,
	// down to the engine's kind; a long path keeps its end.
	file := clean(m.opts.filesLabel())
	if m.width-lipgloss.Width(left)-4-lipgloss.Width(short) < min(lipgloss.Width(file), 24) {
		left = tabs(true)
	}
	room := m.width - lipgloss.Width(left) - 4 // two spaces before the file, one after, one at the end
	if lipgloss.Width(file)+lipgloss.Width(eng) > room {
		if w := room - lipgloss.Width(file); w > lipgloss.Width(short)+4 {
			eng = truncate(eng, w)
		} else {
			eng = short
		}
	}
	if w := room - lipgloss.Width(eng); lipgloss.Width(file) > w {
		file = truncateLeft(file, w)
	}
	if lipgloss.Width(file) > 8 {
		left += "  " + s.Muted.Render(file)
	}
	gap := max(m.width-lipgloss.Width(left)-lipgloss.Width(eng)-1, 1)
	return truncate(left+strings.Repeat(" ", gap)+eng+" ", m.width)
}

// statusLine is the notice, else the focused screen's status.
func (m *Model) statusLine() string {
	s := m.styles
	if bar := m.fileBar(); bar != "" {
		return bar
	}
	if m.notice != "" {
		st := s.Muted
		if m.alert {
			st = s.Warn
		}
		return truncate(" "+st.Render(clean(m.notice)), m.width)
	}
	if m.confirm != nil || m.picker != nil {
		return ""
	}
	build := func() string {
		if !m.run.running() {
			return ""
		}
		return buildSummary(m.styles, m.run, m.tickNow, m.frame)
	}
	return truncate(m.focused().Status(build), m.width)
}

// bindings returns the short and full help of the focused screen, or of
// the question that covers it.
func (m *Model) bindings() (short []key.Binding, full [][]key.Binding) {
	g := m.keys
	if m.confirm != nil {
		k := m.confirm.keys
		return []key.Binding{k.Yes, k.No, g.Quit}, [][]key.Binding{{k.Yes, k.No, g.Quit}}
	}
	if m.picker != nil {
		k := m.picker.keys
		return []key.Binding{k.Up, k.Down, k.Toggle, k.All, k.Apply, k.Close, g.Quit}, [][]key.Binding{{k.Up, k.Down, k.Toggle, k.All, k.Apply, k.Close, g.Quit}}
	}
	short, full = m.focused().Help(g)
	if m.focused().Captures() {
		return short, full // the global keys wait
	}
	var show []key.Binding
	for _, s := range m.screens {
		if b := s.ShowKey(); len(b.Keys()) > 0 {
			show = append(show, b)
		}
	}
	short = append(append(short, show...), g.short()...)
	full = append(full, append(show, g.full()...))
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
		m.helpDrawn = truncate(" "+m.shortHelpView(m.fitShort(short)), m.width)
	}
	return m.helpDrawn
}

func (m *Model) shortHelpView(bs []key.Binding) string {
	h := m.help
	h.SetWidth(0)
	return h.ShortHelpView(bs)
}

// fitShort picks the keys of the short help that fit the width: cancel,
// help and quit always, then the screen's keys in their order of
// importance as long as they fit.
func (m *Model) fitShort(short []key.Binding) []key.Binding {
	var enabled []key.Binding
	for _, b := range short {
		if b.Enabled() {
			enabled = append(enabled, b)
		}
	}
	fits := func(bs []key.Binding) bool { return lipgloss.Width(m.shortHelpView(bs))+1 <= m.width }
	if fits(enabled) {
		return enabled
	}
	g := m.keys
	essential := func(b key.Binding) bool {
		for _, e := range []key.Binding{g.Cancel, g.Help, g.Quit} {
			if b.Help() == e.Help() {
				return true
			}
		}
		return false
	}
	keep := make([]bool, len(enabled))
	pick := func() []key.Binding {
		var out []key.Binding
		for i, b := range enabled {
			if keep[i] {
				out = append(out, b)
			}
		}
		return out
	}
	for i, b := range enabled {
		keep[i] = essential(b)
	}
	for i := range enabled {
		if keep[i] {
			continue
		}
		keep[i] = true
		if !fits(pick()) {
			keep[i] = false
		}
	}
	return pick()
}

// fullHelpView lays the columns of the full help side by side, starting a
// new band of columns below when the next one does not fit the width: at
// 80 columns no key is left out.
func (m *Model) fullHelpView(groups [][]key.Binding) string {
	st := m.help.Styles
	var blocks []string
	for _, g := range groups {
		kw := 0
		for _, b := range g {
			if b.Enabled() {
				kw = max(kw, lipgloss.Width(b.Help().Key))
			}
		}
		var lines []string
		for _, b := range g {
			if b.Enabled() {
				lines = append(lines, st.FullKey.Render(pad(b.Help().Key, kw))+" "+st.FullDesc.Render(b.Help().Desc))
			}
		}
		if len(lines) > 0 {
			blocks = append(blocks, strings.Join(lines, "\n"))
		}
	}
	const gap = "    "
	var bands []string
	var band []string
	w := 0
	for _, b := range blocks {
		bw := lipgloss.Width(b)
		if len(band) > 0 && w+len(gap)+bw > m.width-2 {
			bands = append(bands, lipgloss.JoinHorizontal(lipgloss.Top, band...))
			band, w = nil, 0
		}
		if len(band) > 0 {
			band = append(band, gap)
			w += len(gap)
		}
		band = append(band, b)
		w += bw
	}
	if len(band) > 0 {
		bands = append(bands, lipgloss.JoinHorizontal(lipgloss.Top, band...))
	}
	return strings.Join(bands, "\n\n")
}

func (m *Model) viewHelp() string {
	s := m.styles
	_, full := m.bindings()
	lines := []string{"", " " + s.Bold.Render("Keys of the "+m.focused().Title()+" screen") + s.Muted.Render("  (esc or ? closes)"), ""}
	for _, l := range strings.Split(m.fullHelpView(full), "\n") {
		lines = append(lines, "  "+l)
	}
	lines = append(lines, "",
		" "+s.Muted.Render("Graph: ┏┓ focused stage · ┌┐ in the focused target's build · ┌╌┐ skipped by it · ◇ external image · ⚠ lint warnings"),
		" "+s.Muted.Render("One row per stage: ▶ focused · ■ in the focused target's build · □ skipped by it · ◎ other end of the selected edge"),
		" "+s.Muted.Render("States: · waiting, not run  ● running  ≡ cached  ✓ done  ✗ failed  ⊘ canceled"))
	if len(m.opts.Project.Platforms) > 1 {
		lines = append(lines, " "+s.Muted.Render("≠ the stage builds differently on the platforms of the next build (p chooses them)"))
	}
	return fit(lines, m.width, m.bodyHeight())
}
