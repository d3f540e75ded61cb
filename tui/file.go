package tui

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/watch"
	"github.com/stagescope/stagescope/pipeline"
)

// The Dockerfile on disk. One Dockerfile is shown at a time, and it is the
// one built: the root reads the file again before every build and after
// every save (the Dockerfile and its .dockerignore are watched through
// their folder), and hands the screens the new graph. A Dockerfile that
// no longer parses leaves the last good graph on the screen with the
// problem (file:line) in a bar instead of the status line, until a save
// parses again.
//
// With auto-rebuild on (w, or Options.Watch), the build context is
// watched too, and a save of the Dockerfile, of its .dockerignore or of a
// file that a COPY or ADD of the focused target reads (and .dockerignore
// does not leave out) builds the focused target again once the files have
// been quiet for rebuildQuiet, canceling a build that runs.

// rebuildQuiet is how long saves must stop before auto-rebuild builds: a
// burst of saves is one build.
const rebuildQuiet = 300 * time.Millisecond

// following is the root's state of the files it follows.
type following struct {
	watcher *watch.Watcher
	trees   bool           // the watcher watches the build context
	context *watch.Context // the context's .dockerignore, while auto-rebuild is on
	fileErr error          // the Dockerfile cannot be read or parsed: the bar says why
	auto    bool           // auto-rebuild
	autoGen int            // the latest save that asks for a build
}

// Messages of the files followed.
type (
	// projectMsg tells the screens the Dockerfile changed: they show the
	// new graph, keeping what they can (the focused stage by name).
	projectMsg struct{ project *pipeline.Project }
	// filesChangedMsg: files followed by watcher changed.
	filesChangedMsg struct {
		watcher *watch.Watcher
		paths   []string
	}
	// watchErrMsg: watcher could not follow something.
	watchErrMsg struct {
		watcher *watch.Watcher
		err     error
	}
	// autoBuildMsg: the saves of generation gen have been quiet long enough.
	autoBuildMsg struct{ gen int }
)

// startFollowing watches the Dockerfile (and, with auto-rebuild, the
// context), replacing the watcher there is. Nothing is watched for a
// project that was not read from a file.
func (m *Model) startFollowing() tea.Cmd {
	m.stopFollowing()
	p := m.opts.Project
	if p == nil || !p.Follows() {
		return nil
	}
	opts := watch.Options{Files: append([]string{p.Dockerfile}, watch.IgnoreFiles(p.Base.ContextDir, p.Dockerfile)...)}
	m.context = nil
	if m.auto {
		ctx, err := watch.ReadContext(p.Base.ContextDir, p.Dockerfile)
		if err != nil {
			m.setNotice(buildgraph.FirstLine(err.Error()), true)
			ctx, _ = watch.ReadContext(p.Base.ContextDir, "")
		}
		m.context = ctx
		opts.Trees, opts.Skip = []string{p.Base.ContextDir}, ctx.SkipDir
	}
	w, err := watch.New(opts)
	if err != nil {
		m.setNotice("Cannot watch "+clean(p.Dockerfile)+": "+buildgraph.FirstLine(err.Error())+"; r reads it again before a build.", true)
		return nil
	}
	m.watcher, m.trees = w, m.auto
	return tea.Batch(waitFiles(w), m.boundNotice(w))
}

// boundNotice says, once the context is walked, when it has more folders
// than are watched.
func (m *Model) boundNotice(w *watch.Watcher) tea.Cmd {
	if !m.auto {
		return nil
	}
	return func() tea.Msg {
		<-w.Ready()
		if n, all := w.Dirs(); !all {
			return noticeMsg{text: fmt.Sprintf("Auto-rebuild watches the first %d folders of the context only: saves deeper in it start no build (r builds).", n), alert: true}
		}
		return nil
	}
}

func (m *Model) stopFollowing() {
	if m.watcher != nil {
		_ = m.watcher.Close()
		m.watcher = nil
	}
}

// waitFiles waits for the next changes of w's files.
func waitFiles(w *watch.Watcher) tea.Cmd {
	return func() tea.Msg {
		select {
		case paths, ok := <-w.Changes():
			if !ok {
				return nil
			}
			return filesChangedMsg{watcher: w, paths: paths}
		case err := <-w.Errors():
			return watchErrMsg{watcher: w, err: err}
		}
	}
}

// updateFile handles a message of the files followed and reports whether
// it was one.
func (m *Model) updateFile(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case filesChangedMsg:
		if msg.watcher != m.watcher {
			return nil, true // a watcher since replaced
		}
		cmd := m.filesChanged(msg.paths)
		if msg.watcher != m.watcher {
			return cmd, true // replaced: the new watcher has its waiter
		}
		return tea.Batch(cmd, waitFiles(m.watcher)), true
	case watchErrMsg:
		if msg.watcher != m.watcher {
			return nil, true
		}
		m.setNotice("Watching the files: "+buildgraph.FirstLine(msg.err.Error()), true)
		// Events may have been lost (the kernel's queue overflowed): the
		// Dockerfile is read again in case it changed.
		abs, _ := filepath.Abs(m.opts.Project.Dockerfile)
		return tea.Batch(m.filesChanged([]string{abs}), waitFiles(m.watcher)), true
	case autoBuildMsg:
		if msg.gen != m.autoGen || !m.auto || m.fileErr != nil {
			return nil, true
		}
		return m.autoBuild(), true
	}
	return nil, false
}

// filesChanged reads the Dockerfile again when it changed and, with
// auto-rebuild, asks for a build when what the focused target reads
// changed.
func (m *Model) filesChanged(paths []string) tea.Cmd {
	p := m.opts.Project
	abs := func(path string) string { a, _ := filepath.Abs(path); return a }
	var cmds []tea.Cmd
	build := false
	if slices.Contains(paths, abs(p.Dockerfile)) || m.fileErr != nil {
		old := p
		lint, _ := m.reread()
		cmds = append(cmds, lint)
		build = m.opts.Project != old
	}
	for _, f := range watch.IgnoreFiles(p.Base.ContextDir, p.Dockerfile) {
		if slices.Contains(paths, f) && m.auto {
			// What is sent changed, and maybe which folders to watch.
			build = true
			cmds = append(cmds, m.startFollowing())
			break
		}
	}
	if m.auto && !build && m.context != nil {
		build = m.context.ReadsAny(watch.NewSources(m.targetSources()), paths)
	}
	if build && m.auto && m.fileErr == nil {
		m.autoGen++
		gen := m.autoGen
		cmds = append(cmds, tea.Tick(rebuildQuiet, func(time.Time) tea.Msg { return autoBuildMsg{gen: gen} }))
	}
	return tea.Batch(cmds...)
}

// focusedTarget is the target argument of the stage focused in the graph
// ("" for the last stage); ok is false when it cannot be built alone.
func (m *Model) focusedTarget() (target string, ok bool) {
	g := m.opts.Project.Graph
	for _, s := range m.screens {
		if v, is := s.(*GraphView); is {
			if f := v.Focused(); f != nil {
				return targetArg(g, f)
			}
		}
	}
	return "", true
}

// targetSources are the context paths the focused target's build reads.
func (m *Model) targetSources() []string {
	t, ok := m.focusedTarget()
	if !ok {
		return nil
	}
	c, err := m.opts.Project.Graph.Closure(t)
	if err != nil {
		return nil
	}
	return c.ContextSources()
}

// autoBuild builds the focused target, the focused screen staying.
func (m *Model) autoBuild() tea.Cmd {
	t, ok := m.focusedTarget()
	if !ok {
		m.setNotice("Auto-rebuild: the focused stage has no name, and BuildKit builds only named stages and the last one.", true)
		return nil
	}
	focus := m.focus
	cmd := m.startBuild([]string{t})
	if m.confirm == nil {
		m.focus = focus
	}
	return cmd
}

// toggleAuto turns auto-rebuild on or off.
func (m *Model) toggleAuto() tea.Cmd {
	p := m.opts.Project
	if !m.auto && (p == nil || !p.Follows()) {
		m.setNotice("Auto-rebuild needs a Dockerfile read from a file.", true)
		return nil
	}
	m.auto = !m.auto
	m.autoGen++ // a build asked for before is not made
	if m.auto {
		m.setNotice("Auto-rebuild on: saving the Dockerfile or a file the focused target copies builds it again.", false)
	} else {
		m.setNotice("Auto-rebuild off: saves redraw the graph; enter builds.", false)
	}
	if m.trees != m.auto {
		return m.startFollowing()
	}
	return nil
}

// reread reads the Dockerfile again and shows it when it changed. It
// reports false, with the problem in the bar, when it cannot be read or
// no longer parses: nothing is built from it then.
func (m *Model) reread() (tea.Cmd, bool) {
	p, err := m.opts.Project.Reload()
	if err != nil {
		m.fileErr = err
		return nil, false
	}
	m.fileErr = nil
	return m.setProject(p), true
}

// fileBar is the problem with the Dockerfile, "" when there is none.
func (m *Model) fileBar() string {
	if m.fileErr == nil {
		return ""
	}
	s := m.styles
	var be *buildgraph.Error
	what := buildgraph.FirstLine(m.fileErr.Error())
	keep := " · the graph is the last one that parsed"
	if !errors.As(m.fileErr, &be) {
		keep = " · the graph is the last one read"
	}
	return truncate(" "+s.Failed.Render("✗ "+clean(what))+s.Muted.Render(keep), m.width)
}

// setProject makes p the Dockerfile shown, when it is another, and lints
// it off the UI loop.
func (m *Model) setProject(p *pipeline.Project) tea.Cmd {
	if p == m.opts.Project {
		return nil
	}
	if len(m.opts.Projects) > 0 && m.opts.Projects[0] == m.opts.Project {
		// Several Dockerfiles: the first is the one shown and followed.
		m.opts.Projects = slices.Clone(m.opts.Projects)
		m.opts.Projects[0] = p
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
