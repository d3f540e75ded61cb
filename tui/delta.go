package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
)

// The delta line: what changed since the previous build of the target,
// for the status line after a build of one target: "Δ app +1.2kB (2.4MB)
// · COPY . . +1.2kB · 8.7s (−1.3s) · ran 1 of 5 steps: COPY . .". The
// previous build is the last one of this session, else the newest the
// build records hold (read off the UI loop), else the size they hold.

// deltaMsg carries the delta line of build id, found in the records.
type deltaMsg struct {
	id   int
	line string
}

// deltaLine is the delta line against prev (nil: the saved size only);
// "" when the build measured nothing or there is nothing to compare with.
func deltaLine(prev *buildgraph.TargetResult, r *buildRun) string {
	o := r.Outcome
	if o == nil || len(o.Results) != 1 || o.Results[0].Size == nil {
		return ""
	}
	cur := o.Results[0]
	if prev == nil && cur.Previous == nil {
		return ""
	}
	var steps []*buildgraph.Step
	if r.Progress != nil {
		steps = r.Progress.Steps()
	}
	d := buildgraph.BuildDelta(prev, cur.Previous, cur, steps)
	return "Δ " + cur.Label() + " " + strings.Join(d.Parts(2), " · ")
}

// sessionPrevious is the last result of the target built by r earlier in
// this session, nil if none.
func sessionPrevious(prevs []buildgraph.TargetResult, r *buildRun) *buildgraph.TargetResult {
	o := r.Outcome
	if o == nil || len(o.Results) != 1 {
		return nil
	}
	for i := range prevs {
		// The same target of the same Dockerfile: several may have one
		// of that name.
		if prevs[i].Label() == o.Results[0].Label() && prevs[i].Size != nil {
			return &prevs[i]
		}
	}
	return nil
}

// delta sets the delta line of the build that ended, or asks the records
// for the previous build when this session has none.
func (m *Model) delta(prevs []buildgraph.TargetResult, r *buildRun) tea.Cmd {
	if prev := sessionPrevious(prevs, r); prev != nil {
		if line := deltaLine(prev, r); line != "" {
			m.setNotice(line, false)
		}
		return nil
	}
	h, o := m.opts.History, r.Outcome
	if _, ok := h.(pipeline.Records); !ok || o == nil || len(o.Records) != 1 || len(o.Results) != 1 || o.Results[0].Size == nil {
		if line := deltaLine(nil, r); line != "" {
			m.setNotice(line, false)
		}
		return nil
	}
	rec := o.Records[0]
	return func() tea.Msg {
		var line string
		if prev, ok := pipeline.PreviousBuild(h, rec); ok {
			line = deltaLine(&prev, r)
		} else {
			line = deltaLine(nil, r)
		}
		return deltaMsg{id: r.id, line: line}
	}
}
