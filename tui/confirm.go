package tui

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/stagescope/stagescope/engine"
)

// ConfirmKeyMap is the keys of the "send this whole folder?" question.
type ConfirmKeyMap struct {
	Yes key.Binding
	No  key.Binding
}

// DefaultConfirmKeyMap returns the question's keys.
func DefaultConfirmKeyMap() ConfirmKeyMap {
	return ConfirmKeyMap{
		Yes: key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "send it and build")),
		No:  key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "cancel")),
	}
}

// confirmWide asks before a build sends a context that is the filesystem
// root or the home folder. The answer holds for the rest of the session.
type confirmWide struct {
	keys    ConfirmKeyMap
	targets []string
	wide    []engine.WideContext
	sizes   []*engine.ContextSize // nil while counting
}

// wideCountedMsg carries the sizes of the wide contexts.
type wideCountedMsg struct {
	sizes []engine.ContextSize
}

func countWide(ctx context.Context, wide []engine.WideContext) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, engine.CountTime)
		defer cancel()
		out := make([]engine.ContextSize, len(wide))
		for i, w := range wide {
			out[i] = w.Count(ctx)
		}
		return wideCountedMsg{sizes: out}
	}
}

func (c *confirmWide) counted(msg wideCountedMsg) {
	for i := range msg.sizes {
		if i < len(c.sizes) {
			c.sizes[i] = &msg.sizes[i]
		}
	}
}

// view draws the question in a box centred in the body.
func (c *confirmWide) view(s Styles, width, height int) string {
	inner := min(width-8, 72)
	var lines []string
	lines = append(lines, s.Warn.Render("Send a whole folder to the engine?"), "")
	for i, w := range c.wide {
		size := "counting…"
		if c.sizes[i] != nil {
			size = c.sizes[i].String()
		}
		text := "The " + w.Label() + " is " + w.What + ": building sends everything in it that .dockerignore does not exclude (" + size + ")."
		lines = append(lines, wrapLines(clean(text), inner, "")...)
		lines = append(lines, "")
	}
	lines = append(lines, wrapLines("Start stagescope in a smaller folder to avoid this, or pass --yes to skip this question.", inner, "")...)
	lines = append(lines, "", s.Bold.Render("y")+s.Muted.Render(" send it and build   ")+s.Bold.Render("n")+s.Muted.Render(" cancel"))
	box := lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(s.Warn.GetForeground()).Padding(0, 2).
		Render(strings.Join(lines, "\n"))
	return lipgloss.Place(width, height, lipgloss.Center, lipgloss.Center, box)
}
