//go:build crashtest

package tui

import (
	"os"
	"sync/atomic"

	tea "charm.land/bubbletea/v2"
)

// In a binary built with -tags crashtest, STAGESCOPE_CRASHTEST=WHERE makes
// the key ! panic in one place of the TUI, for the end-to-end tests of what
// a user sees after a bug: view (the next View), update, cmd (a command),
// batch (a command of a tea.Batch), sequence (a command of a tea.Sequence)
// or goroutine (a goroutine of the TUI's own).
func init() {
	where := os.Getenv("STAGESCOPE_CRASHTEST")
	if where == "" {
		return
	}
	var viewArmed atomic.Bool
	boom := func() tea.Msg { panic("crash test: " + where) }
	testHookUpdate = func(m *Model, msg tea.Msg) tea.Cmd {
		if k, ok := msg.(tea.KeyPressMsg); !ok || k.String() != "!" {
			return nil
		}
		switch where {
		case "view":
			viewArmed.Store(true)
			return func() tea.Msg { return nil }
		case "update":
			panic("crash test: update")
		case "cmd":
			return boom
		case "batch":
			return tea.Batch(tea.RequestWindowSize, boom)
		case "sequence":
			return tea.Sequence(tea.RequestWindowSize, boom)
		case "goroutine":
			go func() {
				defer m.crash.recover()
				boom()
			}()
			return func() tea.Msg { return nil }
		}
		return nil
	}
	testHookView = func() {
		if viewArmed.Load() {
			panic("crash test: view")
		}
	}
}
