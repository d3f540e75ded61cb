package buildgraph

import (
	"slices"

	"github.com/moby/buildkit/util/suggest"
)

// Closure is what a build of one target involves.
type Closure struct {
	// Graph is the graph the indexes below refer to: the receiver of
	// Closure, or, when the Dockerfile's FROM lines use TARGETSTAGE and the
	// target differs from Options.Target, the graph re-parsed for it. Both
	// have the same stages.
	Graph *Graph
	// Target is the index of the target stage.
	Target int
	// Stages are the stages the build uses, in Dockerfile order, the target
	// included. A stage a named context replaces is listed (its result is
	// used) but runs none of its instructions: it is in Replaced too.
	Stages []int
	// Replaced are the stages of Stages a named context replaces: BuildKit
	// takes the context as their result and builds none of them.
	Replaced []int
	// Skipped are the other stages, which the build neither runs nor needs.
	Skipped []int
	// Images are the images the build uses (indexes in Graph.Images).
	Images []int
	// Edges are the dependencies the build follows (indexes in Graph.Edges).
	Edges []int
}

// Contains reports whether stage i is built (or replaced) for the target.
func (c Closure) Contains(i int) bool {
	_, ok := slices.BinarySearch(c.Stages, i)
	return ok
}

// IsReplaced reports whether the build uses stage i through the named
// context that replaces it, running none of its instructions.
func (c Closure) IsReplaced(i int) bool {
	_, ok := slices.BinarySearch(c.Replaced, i)
	return ok
}

// Built is the number of stages the build runs: Stages without Replaced.
func (c Closure) Built() int { return len(c.Stages) - len(c.Replaced) }

// ForTarget returns the graph as BuildKit sees it when building target:
// the graph itself, unless TARGETSTAGE (which defaults to the target) takes
// part in a FROM line or --platform flag, or a source with a named context
// may be reached only through an ONBUILD trigger (parseState.lateSources),
// in which case the Dockerfile is parsed again for that target. Lint
// findings are not recomputed.
func (g *Graph) ForTarget(target string) (*Graph, error) {
	if g.sameBuild(target) {
		return g, nil
	}
	opts := g.opts
	opts.Target = target
	gg, err := parse(g.src, opts)
	if err != nil {
		return nil, err
	}
	gg.Warnings, gg.LintError, gg.linted = g.Warnings, g.LintError, g.linted
	return gg, nil
}

// Closure returns the stages BuildKit builds for target ("" for the default,
// the last stage) and the ones it skips. It fails with an *Error when
// BuildKit would reject that build: an unknown target (listing the valid
// ones and suggesting the closest), a COPY --from or RUN --mount from= of a
// stage defined after the stage using it, a broken ONBUILD trigger, or
// --mount options BuildKit's instructions package refuses in a RUN of a
// stage the build runs ("secret mount should not have a from").
func (g *Graph) Closure(target string) (Closure, error) {
	gg, err := g.ForTarget(target)
	if err != nil {
		return Closure{}, err
	}
	return gg.closure(target)
}

// sameBuild reports whether the graph, parsed for g.Target, is also the
// one BuildKit sees for target.
func (g *Graph) sameBuild(target string) bool {
	if g.targetUsed && g.targetStage(target) != g.targetStage(g.Target) {
		return false
	}
	if g.lateContexts {
		t, err := g.resolveTarget(target)
		own, _ := g.resolveTarget(g.Target)
		return err != nil || t == own // Closure reports an unknown target
	}
	return true
}

// targetStage is the value of TARGETSTAGE in a build of target.
func (g *Graph) targetStage(target string) string {
	switch {
	case target != "":
		return target
	case g.DefaultTarget != "":
		return g.DefaultTarget
	}
	return "default"
}

func (g *Graph) closure(target string) (Closure, error) {
	t, err := g.resolveTarget(target)
	if err != nil {
		return Closure{}, err
	}
	if err := g.checkDispatch(t); err != nil {
		return Closure{}, err
	}

	// What the build runs: dependencies whose results feed the target's
	// LLB. A stage a named context replaces contributes only the context.
	c := Closure{Graph: g, Target: t}
	inStage := make([]bool, len(g.Stages))
	inImage := make([]bool, len(g.Images))
	edgeUsed := make([]bool, len(g.Edges))
	seen := make([]bool, len(g.states))
	var walk func(int)
	walk = func(i int) {
		if seen[i] {
			return
		}
		seen[i] = true
		st := g.states[i]
		if st.stage < 0 {
			if st.image >= 0 {
				inImage[st.image] = true
			}
			return
		}
		inStage[st.stage] = true
		if st.replaced {
			return
		}
		s := g.Stages[st.stage]
		if s.Base.Kind == BaseImage || s.Base.Kind == BaseContext {
			inImage[s.Base.Image] = true
		}
		if st.base >= 0 {
			walk(st.base)
		}
		for _, deps := range [][]dep{st.onbuild, st.deps} {
			for _, d := range deps {
				if !d.used {
					continue
				}
				if d.edge >= 0 {
					edgeUsed[d.edge] = true
				}
				walk(d.state)
			}
		}
	}
	walk(t)
	for i, e := range g.Edges {
		if e.Kind == EdgeBase && inStage[e.To] && !g.states[e.To].replaced {
			edgeUsed[i] = true
		}
	}
	for i, in := range inStage {
		if in {
			c.Stages = append(c.Stages, i)
			if g.states[i].replaced {
				c.Replaced = append(c.Replaced, i)
			}
		} else {
			c.Skipped = append(c.Skipped, i)
		}
	}
	for i, in := range inImage {
		if in {
			c.Images = append(c.Images, i)
		}
	}
	for i, used := range edgeUsed {
		if used {
			c.Edges = append(c.Edges, i)
		}
	}
	return c, nil
}

// checkDispatch reports the first error BuildKit hits after resolving the
// target: ONBUILD triggers of the stages it reaches, then, dispatching those
// stages in Dockerfile order, a source stage that is not built yet.
//
// BuildKit reaches more than it runs: the dependencies of a stage a named
// context replaces, and sources of RUN --mount types that ignore them.
func (g *Graph) checkDispatch(t int) error {
	reached := make([]bool, len(g.states))
	var walk func(int)
	walk = func(i int) {
		if reached[i] {
			return
		}
		reached[i] = true
		st := g.states[i]
		if st.base >= 0 {
			walk(st.base)
		}
		for _, d := range st.onbuild {
			walk(d.state)
		}
		for _, d := range st.deps {
			walk(d.state)
		}
	}
	walk(t)
	for i, st := range g.states {
		if reached[i] && st.onbuildErr != nil {
			return st.onbuildErr
		}
	}
	for i, st := range g.states {
		if !reached[i] || st.stage < 0 || st.replaced {
			continue
		}
		for _, deps := range [][]dep{st.onbuild, st.deps} {
			for _, d := range deps {
				src := g.states[d.state]
				// Stages are dispatched in order, each marked done before
				// its instructions run (an ONBUILD trigger may copy from
				// the stage running it); external sources and replaced
				// stages are ready before any stage is.
				if d.check == "" || src.stage < 0 || src.replaced || src.stage <= st.stage {
					continue
				}
				if st.runErr != nil && st.runErr.Line <= d.line { // RUN expands its mounts before it mounts them
					return st.runErr
				}
				return &Error{File: g.File, Line: d.line, EndLine: d.endLine, Msg: d.check}
			}
		}
		if st.runErr != nil {
			return st.runErr
		}
	}
	return nil
}

// Levels returns the stages Closure(target) builds in topological levels:
// level 0 holds stages that depend on no other built stage, level n stages
// whose dependencies are all in lower levels. Stages of one level can build
// in parallel. Each level is in Dockerfile order.
func (g *Graph) Levels(target string) ([][]int, error) {
	c, err := g.Closure(target)
	if err != nil {
		return nil, err
	}
	return c.Levels(), nil
}

// Levels returns the closure's stages in topological levels; see
// Graph.Levels.
func (c Closure) Levels() [][]int {
	g := c.Graph
	deps := make(map[int][]int, len(c.Stages))
	for _, ei := range c.Edges {
		if e := g.Edges[ei]; e.From.Kind == NodeStage && e.From.Index != e.To {
			deps[e.To] = append(deps[e.To], e.From.Index)
		}
	}
	// The dependencies a build follows form no cycle (BuildKit rejects
	// those); the in-progress mark only guards against a bug here.
	const inProgress = -1
	level := make(map[int]int, len(c.Stages))
	var levelOf func(int) int
	levelOf = func(s int) int {
		if l, ok := level[s]; ok {
			return max(l, 0)
		}
		level[s] = inProgress
		l := 0
		for _, d := range deps[s] {
			l = max(l, levelOf(d)+1)
		}
		level[s] = l
		return l
	}
	var levels [][]int
	for _, s := range c.Stages {
		l := levelOf(s)
		for len(levels) <= l {
			levels = append(levels, nil)
		}
		levels[l] = append(levels[l], s)
	}
	return levels
}

// suggestName returns the name in names closest to val, as BuildKit
// suggests one.
func suggestName(val string, names []string) (string, bool) {
	return suggest.Search(val, names, true)
}
