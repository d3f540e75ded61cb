package buildgraph

import (
	"cmp"
	"slices"
	"sort"
	"time"
)

// TimedStep is what the critical path needs of one vertex of a build:
// its identity, the vertices it takes as inputs, its stage and when it ran.
type TimedStep struct {
	Vertex string
	Inputs []string
	// Stage is the index of the step's Dockerfile stage, -1 for none.
	Stage int
	// Started is zero for a step that never ran; Completed is zero for one
	// still running (it runs until the analysis' now).
	Started, Completed time.Time
	Cached             bool
}

// PathStep is one vertex on the critical path, with its times as offsets
// from the build's first start.
type PathStep struct {
	Vertex     string
	Stage      int
	Start, End time.Duration
	Cached     bool
}

// Duration is how long the step ran.
func (p PathStep) Duration() time.Duration { return p.End - p.Start }

// StageSaving is how much sooner a build would have ended had one stage
// taken no time.
type StageSaving struct {
	Stage int
	// OnPath reports whether a step of the stage is on the critical path.
	OnPath bool
	// Duration is how long the stage's own steps ran: the time during
	// which at least one of them was running, as StageProgress.Duration
	// counts it; waiting for other stages is not the stage's.
	Duration time.Duration
	Saves    time.Duration
}

// CriticalPath is the chain of vertices, following their inputs, that
// ends last, and what each stage costs the build.
type CriticalPath struct {
	// Start is the build's first start; End the offset of its last
	// completion from Start.
	Start time.Time
	End   time.Duration
	// Steps run from a vertex that waits on no other to the one that
	// completed last.
	Steps []PathStep
	// Stages are every stage that ran, in index order.
	Stages []StageSaving
}

// Critical finds the critical path of a build and, for every stage, how
// much sooner the build would have ended had the stage's steps taken no
// time. Steps still running end at now.
//
// The what-if is computed over the recorded graph: a step starts when the
// last of its inputs completes, plus the wait it had then (BuildKit's
// scheduling, a cache lookup); removing a stage's time moves every step
// that waits on it, and nothing else. A vertex recorded without inputs
// that started after others completed (exporting, the frontend's loads)
// waits on the step that completed last before it started, as it did.
// Steps that never started are left out.
func Critical(steps []TimedStep, now time.Time) CriticalPath {
	g := newTimedGraph(steps, now)
	var cp CriticalPath
	if len(g.nodes) == 0 {
		return cp
	}
	cp.Start = g.start
	ends := g.ends(-1)
	last := -1
	for i := range g.nodes {
		if last < 0 || ends[i] > ends[last] {
			last = i
		}
	}
	cp.End = ends[last]
	seen := map[int]bool{}
	for i := last; i >= 0 && !seen[i]; i = g.latestInput(i, ends) {
		seen[i] = true
		n := g.nodes[i]
		cp.Steps = append(cp.Steps, PathStep{Vertex: n.vertex, Stage: n.stage, Start: n.start, End: n.end, Cached: n.cached})
	}
	for i, j := 0, len(cp.Steps)-1; i < j; i, j = i+1, j-1 {
		cp.Steps[i], cp.Steps[j] = cp.Steps[j], cp.Steps[i]
	}
	onPath := map[int]bool{}
	for _, s := range cp.Steps {
		onPath[s.Stage] = true
	}
	spans := map[int][][2]time.Duration{}
	for _, n := range g.nodes {
		if n.stage < 0 {
			continue
		}
		spans[n.stage] = append(spans[n.stage], [2]time.Duration{n.start, n.end})
	}
	for st, sp := range spans {
		e := g.ends(st)
		end := time.Duration(0)
		for _, x := range e {
			end = max(end, x)
		}
		cp.Stages = append(cp.Stages, StageSaving{Stage: st, OnPath: onPath[st], Duration: merged(sp), Saves: cp.End - end})
	}
	sort.Slice(cp.Stages, func(i, j int) bool { return cp.Stages[i].Stage < cp.Stages[j].Stage })
	return cp
}

// merged is the length of the union of intervals.
func merged(iv [][2]time.Duration) time.Duration {
	iv = slices.Clone(iv)
	slices.SortFunc(iv, func(a, b [2]time.Duration) int { return cmp.Compare(a[0], b[0]) })
	var total time.Duration
	var cur [2]time.Duration
	for i, x := range iv {
		switch {
		case i == 0:
			cur = x
		case x[0] <= cur[1]:
			cur[1] = max(cur[1], x[1])
		default:
			total += cur[1] - cur[0]
			cur = x
		}
	}
	if len(iv) > 0 {
		total += cur[1] - cur[0]
	}
	return total
}

type timedNode struct {
	vertex     string
	stage      int
	start, end time.Duration
	cached     bool
	inputs     []int
	// wait is the start minus the latest end of the inputs as recorded
	// (the start itself for a step without inputs).
	wait time.Duration
}

type timedGraph struct {
	start time.Time
	nodes []timedNode // in order of start, so inputs come first
}

func newTimedGraph(steps []TimedStep, now time.Time) timedGraph {
	var g timedGraph
	var ran []TimedStep
	for _, s := range steps {
		if s.Started.IsZero() {
			continue
		}
		if g.start.IsZero() || s.Started.Before(g.start) {
			g.start = s.Started
		}
		ran = append(ran, s)
	}
	if len(ran) == 0 {
		return g
	}
	if now.IsZero() {
		for _, s := range ran {
			now = later(now, later(s.Started, s.Completed))
		}
	}
	index := map[string]int{}
	for _, s := range ran {
		start := s.Started.Sub(g.start)
		end := now.Sub(g.start)
		if !s.Completed.IsZero() {
			end = s.Completed.Sub(g.start)
		}
		end = max(end, start)
		if i, ok := index[s.Vertex]; ok {
			// The same vertex twice: one run from the first start to the last end.
			n := &g.nodes[i]
			n.start, n.end = min(n.start, start), max(n.end, end)
			continue
		}
		index[s.Vertex] = len(g.nodes)
		g.nodes = append(g.nodes, timedNode{vertex: s.Vertex, stage: s.Stage, start: start, end: end, cached: s.Cached})
	}
	for k, s := range ran {
		i := index[s.Vertex]
		if g.nodes[i].vertex != ran[k].Vertex {
			continue
		}
		for _, in := range s.Inputs {
			if j, ok := index[in]; ok && j != i && !contains(g.nodes[i].inputs, j) {
				g.nodes[i].inputs = append(g.nodes[i].inputs, j)
			}
		}
	}
	// Order by start (then end), keeping the inputs' indices right.
	order := make([]int, len(g.nodes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := g.nodes[order[a]], g.nodes[order[b]]
		if x.start != y.start {
			return x.start < y.start
		}
		return x.end < y.end
	})
	pos := make([]int, len(order))
	for p, i := range order {
		pos[i] = p
	}
	nodes := make([]timedNode, len(order))
	for p, i := range order {
		n := g.nodes[i]
		ins := make([]int, 0, len(n.inputs))
		for _, j := range n.inputs {
			ins = append(ins, pos[j])
		}
		n.inputs = ins
		nodes[p] = n
	}
	g.nodes = nodes
	for i := range g.nodes {
		n := &g.nodes[i]
		if len(n.inputs) == 0 && n.stage < 0 {
			// Waits on the step that completed last before it started.
			best := -1
			for j := range i {
				if g.nodes[j].end <= n.start && (best < 0 || g.nodes[j].end > g.nodes[best].end) && !g.reaches(j, i) {
					best = j
				}
			}
			if best >= 0 {
				n.inputs = []int{best}
			}
		}
		ready := time.Duration(0)
		for _, j := range n.inputs {
			ready = max(ready, g.nodes[j].end)
		}
		n.wait = n.start - ready
	}
	return g
}

// ends recomputes every step's end with the steps of stage zero taking no
// time (no stage when zero < 0). With zero < 0 they are the recorded ends.
func (g timedGraph) ends(zero int) []time.Duration {
	ends := make([]time.Duration, len(g.nodes))
	state := make([]byte, len(g.nodes)) // 0 not yet, 1 on the way, 2 done
	var visit func(i int) time.Duration
	visit = func(i int) time.Duration {
		if state[i] == 2 {
			return ends[i]
		}
		state[i] = 1
		n := g.nodes[i]
		ready := time.Duration(0)
		for _, j := range n.inputs {
			if state[j] != 1 { // an input on the way is a cycle, never in BuildKit's graphs
				ready = max(ready, visit(j))
			}
		}
		start := max(ready+n.wait, 0)
		if len(n.inputs) == 0 {
			start = n.start
		}
		took := n.end - n.start
		if zero >= 0 && n.stage == zero {
			took = 0
		}
		ends[i] = start + took
		state[i] = 2
		return ends[i]
	}
	for i := range g.nodes {
		visit(i)
	}
	return ends
}

// reaches reports whether step from takes step to as an input, directly
// or through others.
func (g timedGraph) reaches(from, to int) bool {
	seen := map[int]bool{}
	stack := []int{from}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if i == to {
			return true
		}
		if seen[i] {
			continue
		}
		seen[i] = true
		stack = append(stack, g.nodes[i].inputs...)
	}
	return false
}

// latestInput is the input of step i that completed last, -1 for none.
func (g timedGraph) latestInput(i int, ends []time.Duration) int {
	best := -1
	for _, j := range g.nodes[i].inputs {
		if best < 0 || ends[j] > ends[best] {
			best = j
		}
	}
	return best
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func contains(s []int, x int) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
