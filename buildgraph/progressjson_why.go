package buildgraph

import digest "github.com/opencontainers/go-digest"

// step writes a step event for st as the model has it now.
func (j *JSONProgress) step(p *Progress, st *Step) {
	ev := peStep{
		peHeader: peHeaderOf("step"), peStepRef: j.peRef(p, st),
		Platform: st.Platform, Index: st.Index, Count: st.Count,
		Name: st.Name, Text: st.Text, Line: st.Line,
		State: st.State, Cached: st.Cached(),
		Started: peTime(st.Started), Completed: peTime(st.Completed),
		Error: st.Error, Why: st.Why,
	}
	if !st.Started.IsZero() && !st.Completed.IsZero() {
		ms := st.Duration(st.Completed).Milliseconds()
		ev.DurationMs = &ms
	}
	j.write(ev)
}

// Why writes a step event again for every step of p that reasons name
// (and p has the reason of: Progress.SetWhy), in the order the steps
// appeared, carrying it in "why". Reasons are known once the status
// stream ended.
func (j *JSONProgress) Why(p *Progress, reasons map[digest.Digest]*Reason) error {
	if j.err != nil || p == nil {
		return j.err
	}
	for _, st := range p.steps {
		if reasons[st.Vertex] != nil && st.Why != nil && st.Name != "" {
			j.step(p, st)
		}
	}
	return j.err
}
