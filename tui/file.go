package tui

import (
	"errors"

	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
)

// The Dockerfile on disk: the root reads it again before every build and,
// when watching (watch.go), after every save, and hands the screens the
// new graph. One Dockerfile is shown at a time, and it is the one built.

// projectMsg tells the screens the Dockerfile changed: they show the new
// graph, keeping what they can (the focused stage by name).
type projectMsg struct{ project *pipeline.Project }

// updateFile handles a message of the Dockerfile's file and reports
// whether it was one.
func (m *Model) updateFile(msg tea.Msg) (tea.Cmd, bool) {
	return nil, false
}

// reread reads the Dockerfile again and shows it when it changed. It
// reports false, with the problem in the status line, when it cannot be
// read or no longer parses: nothing is built from it then.
func (m *Model) reread() (tea.Cmd, bool) {
	p, err := m.opts.Project.Reload()
	if err != nil {
		m.fileFailed(err)
		return nil, false
	}
	return m.setProject(p), true
}

// fileFailed shows why the Dockerfile cannot be used; the last good graph
// stays on the screen.
func (m *Model) fileFailed(err error) {
	var be *buildgraph.Error
	if errors.As(err, &be) {
		m.setNotice(buildgraph.FirstLine(be.Error())+" (the graph is the last one that parsed)", true)
		return
	}
	m.setNotice(buildgraph.FirstLine(err.Error()), true)
}

// setProject makes p the Dockerfile shown, when it is another, and lints
// it off the UI loop.
func (m *Model) setProject(p *pipeline.Project) tea.Cmd {
	if p == m.opts.Project {
		return nil
	}
	m.opts.Project = p
	m.broadcast(projectMsg{project: p})
	m.syncGraph()
	m.refreshCompare("")
	g := p.Graph
	return func() tea.Msg {
		warnings, err := g.Lint() // reads g only; the findings are set in Update
		return lintedMsg{graph: g, warnings: warnings, err: err}
	}
}
