package tui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/pipeline"
)

// whyLines are what the log pane says first of a step that ran: why it did,
// then its details (old and new text, build arguments, files), each line
// cleaned of terminal control.
func whyLines(s Styles, r *buildgraph.Reason) []string {
	if r == nil {
		return nil
	}
	out := []string{s.Accent.Render("why: ") + clean(string(r.Kind))}
	add := func(format string, args ...any) {
		out = append(out, s.Faint.Render("  "+clean(fmt.Sprintf(format, args...))))
	}
	switch r.Kind {
	case buildgraph.ReasonParentRan:
		if r.Step != nil {
			add("the first step of the stage that ran: line %d, %s", r.Step.Line, firstLine(r.Step.Text))
		}
	case buildgraph.ReasonInstructionChanged:
		if r.Line > 0 {
			add("line %d", r.Line)
		}
		if r.Old != "" {
			add("was: %s", firstLine(r.Old))
		}
		if r.New != "" {
			add("now: %s", firstLine(r.New))
		}
	case buildgraph.ReasonBuildArgChanged:
		for _, a := range r.Args {
			add("%s: %s → %s", a.Name, argText(a.Old), argText(a.New))
		}
	case buildgraph.ReasonBaseChanged:
		switch {
		case r.Stage != "":
			add("its base stage %s ran", r.Stage)
		case r.Base != nil && r.Base.Old != r.Base.New:
			add("was: %s", r.Base.Old)
			add("now: %s", r.Base.New)
		}
	case buildgraph.ReasonSourceStageRan:
		add("stage %s, which it copies or mounts from, ran", r.Stage)
	case buildgraph.ReasonFilesChanged:
		for _, f := range r.Files {
			add("%-8s %s (%s)", f.Change, f.Path, buildgraph.HumanSize(f.Size))
		}
		if more := r.FilesChanged - len(r.Files); more > 0 {
			add("and %d more", more)
		}
	case buildgraph.ReasonCacheEvicted:
		add("its inputs are those of the recorded build, but the engine no longer had it in its cache")
	}
	if r.Note != "" {
		add("%s", r.Note)
	}
	return out
}

func argText(v *string) string {
	if v == nil {
		return "(unset)"
	}
	return fmt.Sprintf("%q", *v)
}

func firstLine(s string) string { return buildgraph.FirstLine(s) }

// predictionMsg carries what the next build of each target will run, by
// target (BuildKit's name for it).
type predictionMsg struct {
	predictions map[string]*pipeline.Prediction
}

// predictCmd predicts the next build of every target on the connected
// engine, from the last records: it reads the context's files, off the UI
// loop. nil without an engine or records.
func (m *Model) predictCmd() tea.Cmd { return m.predictAfter(nil) }

// predictAfter predicts once the records of o, a build that just ended,
// are written (they are written behind its end): the next build is
// compared with it.
func (m *Model) predictAfter(o *pipeline.Outcome) tea.Cmd {
	proj, sess, hist := m.opts.Project, m.session, m.opts.History
	if proj == nil || proj.Graph == nil || sess == nil || hist == nil {
		return nil
	}
	if _, ok := hist.(pipeline.LastRecords); !ok {
		return nil
	}
	ctx := m.ctx
	return func() tea.Msg {
		if o != nil {
			_ = o.Recorded()
		}
		out := map[string]*pipeline.Prediction{}
		for _, t := range proj.Graph.Targets() {
			p, err := pipeline.Predict(ctx, proj, t.Name, sess, hist)
			if err != nil || p == nil {
				continue
			}
			out[p.Target] = p
		}
		return predictionMsg{predictions: out}
	}
}

// predictionLines say what the next build of the focused stage, when it
// is a target, will run.
func (v GraphView) predictionLines(f *buildgraph.Stage, width int) []string {
	p := v.predictions[f.Name]
	if p == nil {
		return nil
	}
	s := v.styles
	lines := []string{"", "  " + s.PaneTitle.Render("Next build")}
	add := func(line string) { lines = append(lines, "  "+truncate(line, width)) }
	switch {
	case p.Record == nil:
		add(s.Muted.Render("no record of " + clean(p.Target) + " on this engine: every step will run"))
		return lines
	case len(p.Steps) == 0:
		add(s.Muted.Render("nothing changed since the last build" + idSuffix(p.Record.ID) + ": every step should come from the cache"))
		return lines
	}
	add(s.Muted.Render(fmt.Sprintf("compared with the last build%s: %d steps will run", idSuffix(p.Record.ID), len(p.Steps))))
	for _, st := range p.Steps {
		verb := "runs"
		if st.Why.Maybe {
			verb = "may run"
		}
		add(fmt.Sprintf("%s %s %s", v.lineNo(st.Line), clean(buildgraph.OneLine(st.Text)),
			s.Muted.Render("· "+clean(st.Stage)+" · "+verb+" · "+clean(st.Why.String()))))
	}
	return lines
}

func idSuffix(id string) string {
	if id == "" {
		return ""
	}
	return " (" + history.ShortID(id) + ")"
}
