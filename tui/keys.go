package tui

import "charm.land/bubbles/v2/key"

// GlobalKeyMap are the keys every screen understands. The keys that bring
// a screen forward are the screens' own (Screen.ShowKey).
type GlobalKeyMap struct {
	BuildAll key.Binding
	NoCache  key.Binding
	// Platforms opens the platform picker; it is enabled when there is a
	// platform to choose.
	Platforms key.Binding
	Watch     key.Binding
	Cancel    key.Binding
	Back      key.Binding
	Help      key.Binding
	Quit      key.Binding
	Interrupt key.Binding
}

// DefaultGlobalKeyMap returns the global keys.
func DefaultGlobalKeyMap() GlobalKeyMap {
	return GlobalKeyMap{
		BuildAll:  key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "build all targets")),
		NoCache:   key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "toggle no-cache")),
		Platforms: key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "platforms of the next build")),
		Watch:     key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "toggle auto-rebuild")),
		Cancel:    key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "cancel build")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Interrupt: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "cancel build, then quit")),
	}
}

func (k GlobalKeyMap) short() []key.Binding {
	return []key.Binding{k.Help, k.Quit}
}

func (k GlobalKeyMap) full() []key.Binding {
	return []key.Binding{k.BuildAll, k.NoCache, k.Platforms, k.Watch, k.Cancel, k.Back, k.Help, k.Quit, k.Interrupt}
}

// GraphKeyMap are the keys of the graph screen.
type GraphKeyMap struct {
	Up      key.Binding
	Down    key.Binding
	Top     key.Binding
	Bottom  key.Binding
	Build   key.Binding
	Pane    key.Binding
	Logs    key.Binding
	Filter  key.Binding
	Clear   key.Binding
	Accept  key.Binding
	Explain key.Binding
	// Layout switches between boxes and one row per stage; Only hides the
	// stages the focused target skips.
	Layout key.Binding
	Only   key.Binding
	// NextEdge and PrevEdge select an edge of the focused stage; Follow
	// focuses the stage at its other end.
	NextEdge key.Binding
	PrevEdge key.Binding
	Follow   key.Binding
	// Rebuild builds again what the last build built.
	Rebuild key.Binding
}

// DefaultGraphKeyMap returns the graph screen's keys.
func DefaultGraphKeyMap() GraphKeyMap {
	return GraphKeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "first")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "last")),
		Build:    key.NewBinding(key.WithKeys("enter", "b"), key.WithHelp("enter/b", "build this target")),
		Pane:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "switch pane")),
		Logs:     key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "logs")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter stages")),
		Clear:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter"), key.WithDisabled()),
		Accept:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter"), key.WithDisabled()),
		Explain:  key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "explain stage")),
		Layout:   key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "compact/boxes")),
		Only:     key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "hide skipped")),
		NextEdge: key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "next edge")),
		PrevEdge: key.NewBinding(key.WithKeys("["), key.WithHelp("[", "prev edge")),
		Follow:   key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow edge")),
		Rebuild:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rebuild")),
	}
}

// BuildKeyMap are the keys of the build screen.
type BuildKeyMap struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	Pane     key.Binding
	Logs     key.Binding
	Follow   key.Binding
	Rebuild  key.Binding
	Failed   key.Binding
	// Search searches the focused step's log; Next and Prev go between
	// its matches while a search is on.
	Search key.Binding
	Next   key.Binding
	Prev   key.Binding
}

// DefaultBuildKeyMap returns the build screen's keys.
func DefaultBuildKeyMap() BuildKeyMap {
	return BuildKeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "bottom")),
		Pane:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "steps/logs")),
		Logs:     key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "logs full screen")),
		Follow:   key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow logs")),
		Rebuild:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rebuild")),
		Failed:   key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "first error"), key.WithDisabled()),
		Search:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search logs")),
		Next:     key.NewBinding(key.WithKeys("n"), key.WithHelp("n/N", "next/prev match"), key.WithDisabled()),
		Prev:     key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "prev match"), key.WithDisabled()),
	}
}

// CompareKeyMap are the keys of the compare screen.
type CompareKeyMap struct {
	Show    key.Binding // from any screen
	Up      key.Binding
	Down    key.Binding
	Pane    key.Binding
	Measure key.Binding
	Build   key.Binding
	Rebuild key.Binding
	Files   key.Binding
}

// DefaultCompareKeyMap returns the compare screen's keys.
func DefaultCompareKeyMap() CompareKeyMap {
	return CompareKeyMap{
		Show:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "compare")),
		Up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Pane:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "targets/layers")),
		Measure: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "compressed/uncompressed")),
		Build:   key.NewBinding(key.WithKeys("enter", "b"), key.WithHelp("enter/b", "build this target")),
		Rebuild: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rebuild")),
		Files:   key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "files of this target")),
	}
}

// ExplainKeyMap are the keys of the explain panel, which the graph screen
// shows in place of its details while it is open.
type ExplainKeyMap struct {
	PageUp   key.Binding
	PageDown key.Binding
	Close    key.Binding
}

// DefaultExplainKeyMap returns the explain panel's keys.
func DefaultExplainKeyMap() ExplainKeyMap {
	return ExplainKeyMap{
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "scroll up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d", "space"), key.WithHelp("space", "scroll")),
		Close:    key.NewBinding(key.WithKeys("e", "esc"), key.WithHelp("e/esc", "close")),
	}
}
