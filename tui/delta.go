package tui

import (
	"strings"

	"github.com/stagescope/stagescope/buildgraph"
)

// deltaLine is what changed since the previous build of the target, for
// the status line after a build of one target: "Δ app +1.2kB (2.4MB) ·
// COPY . . +1.2kB · 8.7s (−1.3s) · ran 1 of 5 steps: COPY . .". The
// previous build is the last one of this session (sizes by layer, time),
// else the size the build records hold; "" when there is neither.
func deltaLine(prevs []buildgraph.TargetResult, r *buildRun) string {
	o := r.Outcome
	if o == nil || len(o.Results) != 1 || o.Results[0].Size == nil {
		return ""
	}
	cur := o.Results[0]
	var prev *buildgraph.TargetResult
	for i := range prevs {
		if prevs[i].Target == cur.Target && prevs[i].Size != nil {
			prev = &prevs[i]
		}
	}
	if prev == nil && cur.Previous == nil {
		return ""
	}
	var steps []*buildgraph.Step
	if r.Progress != nil {
		steps = r.Progress.Steps()
	}
	d := buildgraph.BuildDelta(prev, cur.Previous, cur, steps)
	return "Δ " + cur.Target + " " + strings.Join(d.Parts(2), " · ")
}
