package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/pipeline"
)

// The build lifecycle of the root: connecting to the engine, starting a
// build, and taking its outcome in. The screens hear of it through the
// events of screen.go.

// lifecycle is the root's state of the engine session and the builds.
type lifecycle struct {
	ctx    context.Context
	cancel context.CancelFunc
	closed bool

	session    pipeline.Session
	connecting bool
	connErr    error
	pending    []string // targets to build once connected
	wideOK     bool     // the user agreed to send the wide contexts

	noCache     bool
	run         *buildRun
	nextID      int
	interrupted bool
	// interruptedQuit: the user left with ctrl+c, which Run reports as
	// ErrInterrupted (exit code 130), not as a plain quit.
	interruptedQuit bool

	crash *crashBox // the first panic, wherever it happened

	results []buildgraph.TargetResult // the latest result per target, in order of first build
	saved   map[string]buildgraph.SavedSize
	// savedByFile are the saved sizes of every Dockerfile opened, by its
	// path (several Dockerfiles; saved is the first's).
	savedByFile map[string]map[string]buildgraph.SavedSize
	builds      int // builds that ended, for Options.Stats
}

var errCanceled = context.Canceled

// Messages of the lifecycle.
type (
	connectMsg struct {
		session pipeline.Session
		err     error
	}
	savedMsg struct {
		saved  map[string]buildgraph.SavedSize
		byFile map[string]map[string]buildgraph.SavedSize // every Dockerfile's, by path
	}
)

// updateBuild handles a message of the lifecycle and reports whether it
// was one.
func (m *Model) updateBuild(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case connectMsg:
		return m.connected(msg), true
	case predictionMsg:
		m.broadcast(msg)
		return nil, true
	case savedMsg:
		m.saved = msg.saved
		if msg.byFile != nil {
			m.savedByFile = msg.byFile
		}
		m.refreshCompare("")
		m.syncGraph()
		return nil, true
	case buildTargetsMsg:
		return m.startBuild(msg.targets), true
	case retryMsg:
		if m.session == nil && !m.connecting {
			m.broadcast(buildNoteMsg{"Connecting to the engine…"})
			return m.connectCmd(), true
		}
		return nil, true
	case eventsMsg:
		if m.run == nil || msg.id != m.run.id {
			return nil, true // a superseded build
		}
		return m.buildEvents(msg.events), true
	case deltaMsg:
		// Unless another build started, or another notice came since.
		if m.run != nil && msg.id == m.run.id && msg.line != "" && strings.HasPrefix(m.notice, "Built ") {
			m.setNotice(msg.line, false)
		}
		return nil, true
	case tickMsg:
		if m.run == nil || msg.id != m.run.id || !m.run.running() {
			return nil, true
		}
		m.tickViews()
		return tick(m.run.id), true
	}
	return nil, false
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
	m.stopFollowing()
	m.run.stop()
	if m.run != nil {
		m.run.spill.close()
	}
	m.cancel()
	if m.session != nil {
		_ = m.session.Close()
	}
	pipeline.WaitRecorded() // the records written behind the builds' outcomes
}

func (m *Model) cancelBuild() {
	if m.run == nil {
		return
	}
	m.run.canceled = true
	m.run.Cancel()
}

// connected handles the answer of a connection attempt.
func (m *Model) connected(msg connectMsg) tea.Cmd {
	m.connecting = false
	if msg.err != nil {
		m.session, m.connErr = nil, msg.err
		if len(m.pending) > 0 {
			m.broadcast(buildNoteMsg{noEngineMessage(msg.err)})
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
	return tea.Batch(m.predictCmd(), m.enginePlatformsCmd())
}

func noEngineMessage(err error) string {
	return "No engine answered: " + buildgraph.FirstLine(err.Error()) + ". Press r to try again once it runs; the graph works without an engine (esc)."
}

// startBuild builds targets (target arguments: names, "" for the last
// stage), canceling a build that runs. The Dockerfile is read again first:
// the build sends the file as it is on disk, and the screens show what was
// built.
func (m *Model) startBuild(targets []string) tea.Cmd {
	lint, ok := m.reread()
	if !ok {
		return nil
	}
	return tea.Batch(lint, m.startPlanned(targets))
}

func (m *Model) startPlanned(targets []string) tea.Cmd {
	for _, t := range targets {
		tp, tt := m.opts.resolveTarget(t)
		g := tp.Graph
		if st, ok := g.Stage(tt); ok && tt != "" {
			if _, ok := targetArg(g, st); !ok {
				m.setNotice(fmt.Sprintf("Stage %s has no name: BuildKit builds only named stages and the last one.", st.Name), true)
				return nil
			}
		}
	}
	if len(targets) == 0 {
		return nil
	}
	p := m.opts.Project
	plans := make([]*pipeline.Plan, 0, len(targets))
	var wide []engine.WideContext
	allowWide := true
	seen := map[*pipeline.Project]bool{}
	for _, t := range targets {
		tp, tt := m.opts.resolveTarget(t)
		pl, err := tp.Plan(tt, nil)
		if err != nil {
			m.setNotice(buildgraph.FirstLine(err.Error()), true)
			return nil
		}
		pl.Request.NoCache = m.noCache
		pl.Request.Keep = true
		plans = append(plans, pl)
		if !seen[tp] {
			seen[tp] = true
			allowWide = allowWide && tp.AllowWide
			if !tp.AllowWide && !m.wideOK {
				wide = append(wide, tp.Wide()...)
			}
		}
	}
	if !allowWide && !m.wideOK {
		if len(wide) > 0 {
			m.confirm = &confirmWide{
				keys: DefaultConfirmKeyMap(), targets: targets, wide: wide,
				sizes: make([]*engine.ContextSize, len(wide)),
			}
			return countWide(m.ctx, wide)
		}
	}
	m.focusOn(buildTitle)
	if m.session == nil {
		m.pending = targets
		if m.connecting {
			m.broadcast(buildNoteMsg{"Connecting to the engine…"})
			return nil
		}
		if m.opts.Connect == nil {
			m.broadcast(buildNoteMsg{"No engine is configured."})
			return nil
		}
		m.broadcast(buildNoteMsg{"Connecting to the engine…"})
		return m.connectCmd()
	}
	if m.run.running() {
		m.setNotice("Canceled the build of "+strings.Join(m.run.targets, ", ")+" to start this one.", false)
	} else {
		m.setNotice("", false)
	}
	m.run.stop()
	if m.run != nil {
		m.run.spill.close()
	}
	m.nextID++
	built := p
	if plans[0].Project != nil {
		built = plans[0].Project // b on a row of another of several Dockerfiles
	}
	r := &buildRun{id: m.nextID, project: built, noCache: m.noCache, started: m.now()}
	r.spill = newLogSpill(r.id)
	for _, pl := range plans {
		r.targets = append(r.targets, pl.Label())
	}
	if m.opts.Stats != nil {
		r.cpuStarted = processCPU()
	}
	m.run = r
	m.interrupted = false
	m.keys.Cancel.SetEnabled(true)
	r.Run = pipeline.Start(m.ctx, m.session, p, plans, pipeline.Options{Measure: true, History: m.opts.History, Now: m.now})
	m.broadcast(buildStartedMsg{r})
	m.tickViews()
	m.syncGraph()
	return tea.Batch(waitEvents(r.id, r.Events()), tick(r.id))
}

// buildEvents folds events of the current build in.
func (m *Model) buildEvents(events []pipeline.Event) tea.Cmd {
	r := m.run
	updated := false
	for _, ev := range events {
		r.Apply(ev)
		switch ev := ev.(type) {
		case pipeline.Status:
			if p := r.ProgressOfPlan(ev.Target); p != nil {
				r.spill.add(p, ev.Status)
			}
			updated = true
		case pipeline.MeasureProgress:
			updated = true
		case pipeline.SolveEnded:
			r.ended = m.now()
			if m.opts.Stats != nil {
				r.cpuEnded = processCPU()
			}
			updated = true
		case pipeline.Done:
			delta := m.finished()
			return tea.Batch(delta, recordedCmd(r.Outcome, m.notice), m.predictAfter(r.Outcome))
		}
	}
	if updated {
		m.broadcast(buildUpdatedMsg{})
		m.syncGraph()
	}
	return waitEvents(r.id, r.Events())
}

// finished takes the current build's outcome in. The command it returns
// finds the previous build of the target in the records, for the delta
// line.
func (m *Model) finished() (delta tea.Cmd) {
	r := m.run
	o := r.Outcome
	for _, err := range o.Errs {
		m.crash.check(err)
	}
	if r.ended.IsZero() {
		r.ended = m.now()
	}
	m.keys.Cancel.SetEnabled(false)
	m.interrupted = false
	prevs := append([]buildgraph.TargetResult(nil), m.results...)
	rows := platformRows(r)
	r.rows = rows
	var add []buildgraph.TargetResult
	for _, res := range rows {
		if res.Error != "" && r.canceled {
			continue // a canceled build tells nothing about sizes
		}
		add = append(add, res)
	}
	m.addResults(add)
	err := o.Err()
	var lost *engine.LostError
	if err != nil {
		why := "the build ended before this step did"
		if errors.As(err, &lost) {
			why = "the engine was lost"
		}
		for _, p := range runModels(r) {
			p.Abandon(r.ended, why)
		}
	}
	switch {
	case err == nil:
		var sizes []string
		for _, res := range rows {
			if res.Size != nil {
				sizes = append(sizes, fmt.Sprintf("%s is %s", resultKey(res), buildgraph.HumanSize(res.Size.Uncompressed)))
			}
		}
		msg := "Built " + strings.Join(r.targets, ", ")
		if len(sizes) > 0 {
			msg += ": " + strings.Join(sizes, ", ")
		}
		m.setNotice(msg+". Press c to compare.", false)
		// One target: for several platforms, each platform's image
		// against its own last one (buildgraph.Delta.Platforms).
		delta = m.delta(prevs, r)
	case r.canceled || errors.Is(err, context.Canceled):
		m.setNotice("The build was canceled.", true)
	case errors.As(err, &lost):
		if s := m.session; s != nil {
			go func() { _ = s.Close() }() // its connection is gone; free what is left of it
		}
		m.session, m.connErr = nil, err
		// The action first: the engine's address makes the cause long.
		m.setNotice("Engine lost during the build; press r to reconnect and build again. ("+buildgraph.FirstLine(err.Error())+")", true)
	default:
		m.setNotice(failedFile(r)+buildgraph.FirstLine(err.Error()), true)
	}
	m.tickViews()
	m.broadcast(buildFinishedMsg{})
	m.syncGraph()
	m.builds++
	if m.opts.Stats != nil {
		outcome := "built"
		if err != nil {
			outcome = buildgraph.FirstLine(err.Error())
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
	if len(o.Results) == 1 && len(rows) > 0 {
		focus = resultKey(rows[0])
	}
	m.refreshCompare(focus)
	return delta
}

// failedFile is "NAME: ", the name of the Dockerfile of a build's first
// error, when the build has one of several Dockerfiles; "" otherwise.
func failedFile(r *buildRun) string {
	for i, err := range r.Outcome.Errs {
		if err != nil && i < len(r.Plans) && r.Plans[i].Project != nil && r.Plans[i].Project.Name != "" {
			return r.Plans[i].Project.Name + ": "
		}
		if err != nil {
			return ""
		}
	}
	return ""
}

func (m *Model) sessionKind() string {
	if m.session != nil {
		return m.session.Kind()
	}
	return ""
}

// refreshCompare hands the screens the results to compare; focus names the
// target to focus, "" keeps the cursor.
func (m *Model) refreshCompare(focus string) {
	desc := ""
	if m.session != nil {
		desc = m.session.Describe()
	}
	m.broadcast(resultsMsg{results: m.results, saved: m.saved, savedByFile: m.savedByFile, kind: m.sessionKind(), engine: desc, focus: focus, now: m.now()})
}

// tickViews gives the screens the time and the spinner frame.
func (m *Model) tickViews() {
	now := m.now()
	frame := ""
	if m.run.running() {
		frames := spinner.Dot.Frames
		frame = strings.TrimSpace(frames[int(now.Sub(m.run.started)/spinner.Dot.FPS)%len(frames)])
	}
	m.tickNow, m.frame = now, frame
	m.broadcast(frameMsg{now: now, frame: frame})
	m.syncGraph()
}

// syncGraph hands the screens the build state and the results, which the
// graph draws on its stages.
func (m *Model) syncGraph() {
	m.broadcast(buildStateMsg{run: m.run, results: m.results, saved: m.saved, kind: m.sessionKind(), frame: m.frame})
}
