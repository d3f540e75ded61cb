package tui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"

	"github.com/stagescope/stagescope/buildgraph"
)

// Styles are every style the TUI draws with, built once from the
// background (dark or light) and passed down. State is never shown by colour
// alone: every state also has its glyph, so NO_COLOR (which the renderer
// honours by dropping colours) loses nothing.
type Styles struct {
	Dark bool

	App       lipgloss.Style
	Title     lipgloss.Style
	Tab       lipgloss.Style
	ActiveTab lipgloss.Style
	Header    lipgloss.Style
	Status    lipgloss.Style
	Muted     lipgloss.Style
	Faint     lipgloss.Style
	Bold      lipgloss.Style
	Accent    lipgloss.Style
	Warn      lipgloss.Style
	Error     lipgloss.Style
	Good      lipgloss.Style
	Selected  lipgloss.Style // the focused row
	Pane      lipgloss.Style // an unfocused pane's border
	PaneFocus lipgloss.Style // the focused pane's border
	PaneTitle lipgloss.Style

	// Graph.
	Node       lipgloss.Style // a stage in the target's closure
	NodeFocus  lipgloss.Style
	NodeDim    lipgloss.Style // a stage the target skips
	Image      lipgloss.Style
	Edge       lipgloss.Style
	EdgeActive lipgloss.Style
	EdgeCopy   lipgloss.Style

	// Build states.
	Waiting  lipgloss.Style
	Running  lipgloss.Style
	Cached   lipgloss.Style
	Done     lipgloss.Style
	Failed   lipgloss.Style
	Canceled lipgloss.Style

	BarFull  lipgloss.Style
	BarEmpty lipgloss.Style
	BarBest  lipgloss.Style
	LineNo   lipgloss.Style
	Marked   lipgloss.Style // the failing Dockerfile line

	Help help.Styles
}

// NewStyles builds the styles for a dark or light background.
func NewStyles(dark bool) Styles {
	ld := lipgloss.LightDark(dark)
	c := func(light, dark string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(dark)) }
	var (
		fg      = c("#1c1c1c", "#e4e4e4")
		muted   = c("#6c6c6c", "#9e9e9e")
		faint   = c("#a8a8a8", "#5f5f5f")
		accent  = c("#5f00d7", "#af87ff")
		blue    = c("#005fd7", "#5fafff")
		green   = c("#008700", "#87d787")
		yellow  = c("#875f00", "#ffd75f")
		red     = c("#d70000", "#ff5f5f")
		selBg   = c("#dadada", "#303030")
		barFill = c("#5f87d7", "#5f87d7")
		barNone = c("#d0d0d0", "#3a3a3a")
	)
	s := Styles{Dark: dark}
	base := lipgloss.NewStyle()
	s.App = base.Foreground(fg)
	s.Title = base.Bold(true).Foreground(accent)
	s.Tab = base.Foreground(muted).Padding(0, 1)
	s.ActiveTab = base.Bold(true).Foreground(fg).Underline(true).Padding(0, 1)
	s.Header = base.Foreground(muted)
	s.Status = base.Foreground(muted)
	s.Muted = base.Foreground(muted)
	s.Faint = base.Foreground(faint)
	s.Bold = base.Bold(true)
	s.Accent = base.Foreground(accent)
	s.Warn = base.Foreground(yellow)
	s.Error = base.Foreground(red).Bold(true)
	s.Good = base.Foreground(green).Bold(true)
	s.Selected = base.Background(selBg).Bold(true)
	s.Pane = base.Border(lipgloss.NormalBorder()).BorderForeground(faint)
	s.PaneFocus = base.Border(lipgloss.NormalBorder()).BorderForeground(accent)
	s.PaneTitle = base.Bold(true).Foreground(muted)

	s.Node = base.Foreground(fg)
	s.NodeFocus = base.Foreground(accent).Bold(true)
	s.NodeDim = base.Foreground(faint)
	s.Image = base.Foreground(blue)
	s.Edge = base.Foreground(faint)
	s.EdgeActive = base.Foreground(muted)
	s.EdgeCopy = base.Foreground(blue)

	s.Waiting = base.Foreground(muted)
	s.Running = base.Foreground(blue).Bold(true)
	s.Cached = base.Foreground(muted)
	s.Done = base.Foreground(green)
	s.Failed = base.Foreground(red).Bold(true)
	s.Canceled = base.Foreground(yellow)

	s.BarFull = base.Foreground(barFill)
	s.BarEmpty = base.Foreground(barNone)
	s.BarBest = base.Foreground(green)
	s.LineNo = base.Foreground(faint)
	s.Marked = base.Foreground(red).Bold(true)

	s.Help = help.DefaultStyles(dark)
	return s
}

// State returns the style and glyph of a step or stage state.
func (s Styles) State(st buildgraph.StepState) (lipgloss.Style, string) {
	switch st {
	case buildgraph.StepRunning:
		return s.Running, "●"
	case buildgraph.StepCached:
		return s.Cached, "≡"
	case buildgraph.StepDone:
		return s.Done, "✓"
	case buildgraph.StepError:
		return s.Failed, "✗"
	case buildgraph.StepCanceled:
		return s.Canceled, "⊘"
	}
	return s.Waiting, "·"
}
