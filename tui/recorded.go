package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
)

// recordedCmd waits, off the UI loop, for the build's records, which are
// written behind its outcome, and adds to the build's notice that they
// could not be when so.
func recordedCmd(o *pipeline.Outcome, notice string) tea.Cmd {
	return func() tea.Msg {
		if err := o.Recorded(); err != nil {
			return noticeMsg{text: notice + " (could not save results: " + buildgraph.FirstLine(err.Error()) + ")", alert: true}
		}
		return nil
	}
}
