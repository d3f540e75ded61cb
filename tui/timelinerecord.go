package tui

import (
	"slices"
	"time"

	"github.com/stagescope/stagescope/internal/history"
)

// recordSource is a build record's timeline: its steps as recorded, its
// critical path over their inputs (history.Record.CriticalPath), and the
// time its steps of no stage ran, counted as a stage's is.
func recordSource(r *history.Record) tlSource {
	src := tlSource{cp: r.CriticalPath(), names: map[int]string{}}
	end := src.cp.Start.Add(src.cp.End)
	var other [][2]time.Time
	for _, st := range r.Steps {
		if st.Stage >= 0 && src.names[st.Stage] == "" {
			src.names[st.Stage] = st.StageName
		}
		if st.Started.IsZero() {
			continue
		}
		text := st.Text
		if st.Stage < 0 || text == "" {
			text = st.Name
		}
		src.steps = append(src.steps, tlStep{vertex: st.Vertex, stage: st.Stage, text: text,
			started: st.Started, completed: st.Completed, cached: st.Cached})
		if st.Stage < 0 {
			to := st.Completed
			if to.IsZero() {
				to = end
			}
			other = append(other, [2]time.Time{st.Started, to})
		}
	}
	src.noStage = busy(other)
	return src
}

// busy is how long at least one of the spans ran: the length of their
// union.
func busy(spans [][2]time.Time) time.Duration {
	var total time.Duration
	var cur [2]time.Time
	sorted := slices.Clone(spans)
	slices.SortFunc(sorted, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
	started := false
	for _, x := range sorted {
		if !x[1].After(x[0]) {
			continue
		}
		switch {
		case !started:
			cur, started = x, true
		case !x[0].After(cur[1]):
			if x[1].After(cur[1]) {
				cur[1] = x[1]
			}
		default:
			total += cur[1].Sub(cur[0])
			cur = x
		}
	}
	if started {
		total += cur[1].Sub(cur[0])
	}
	return total
}
