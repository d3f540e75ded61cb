package pipeline

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/crash"
	"github.com/stagescope/stagescope/internal/history"
)

// EngineHistory is an engine that keeps a history of the builds it ran
// (engine.Engine: BuildKit's history API), whoever ran them.
type EngineHistory interface {
	Builds(ctx context.Context) ([]engine.EngineBuild, error)
	FindBuild(ctx context.Context, ref string) (engine.EngineBuild, error)
	BuildStatus(ctx context.Context, ref string, ch chan<- *client.SolveStatus) error
}

// RunningIdle is how long EngineRecord waits for more of a running
// build's status once the engine has sent what it kept: the record is the
// build so far.
var RunningIdle = 500 * time.Millisecond

// StillRunning is the outcome of a record of a build the engine still runs.
const StillRunning history.Outcome = "running"

// EngineRecord reads a build of an engine's history back as a build
// record: the engine's status stream replayed, its steps laid out by
// stage from the vertex names (the Dockerfile is not at hand: steps carry
// no line), so that it reads and draws as stagescope's own records do.
// Its ID is the build's reference.
func EngineRecord(ctx context.Context, h EngineHistory, eng history.Engine, b engine.EngineBuild) (*history.Record, error) {
	p := buildgraph.NewProgress(nil)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan *client.SolveStatus, 16)
	errc := make(chan error, 1)
	go func() {
		var err error
		defer func() { errc <- err }()
		defer crash.Recover(&err)
		err = h.BuildStatus(ctx, b.Ref, ch)
	}()
	var idle *time.Timer
	var idleC <-chan time.Time
	if b.Running() {
		idle = time.NewTimer(RunningIdle)
		defer idle.Stop()
		idleC = idle.C
	}
	stopped := false
read:
	for {
		select {
		case s, ok := <-ch:
			if !ok {
				break read
			}
			p.Apply(s)
			if idle != nil {
				idle.Reset(RunningIdle)
			}
		case <-idleC:
			stopped = true
			cancel()
			for range ch {
			}
			break read
		}
	}
	if err := <-errc; err != nil && !(stopped && errors.Is(err, context.Canceled)) {
		return nil, err
	}

	now := time.Now()
	end := b.Completed
	if b.Running() {
		end = now
	}
	r := &history.Record{
		ID: b.Ref, Time: b.Started, Finished: b.Completed, Engine: eng,
		Dockerfile: b.Attrs["filename"], Target: b.Attrs["target"], Platform: b.Attrs["platform"],
		BuildArgs: history.RedactArgs(prefixed(b.Attrs, "build-arg:")),
		Contexts:  history.RedactContexts(prefixed(b.Attrs, "context:")),
		Outcome:   history.Succeeded, Error: b.Error, Duration: max(end.Sub(b.Started), 0),
	}
	if r.Dockerfile == "" && strings.HasPrefix(b.Frontend, "dockerfile") {
		r.Dockerfile = "Dockerfile"
	}
	if _, ok := b.Attrs["no-cache"]; ok {
		r.NoCache = true
	}
	switch {
	case b.Running():
		r.Outcome = StillRunning
	case b.Canceled():
		r.Outcome = history.Canceled
	case b.Error != "":
		r.Outcome = history.Failed
	}
	r.Steps = engineSteps(p, b.Running(), b.Completed)
	r.StepsCached, r.StepsTotal = b.StepsCached, b.StepsTotal
	staged := 0
	for _, s := range r.Steps {
		if s.Stage >= 0 {
			staged++
		}
	}
	if staged > 0 {
		r.StepsCached, r.StepsTotal = 0, staged
		for _, s := range r.Steps {
			if s.Stage >= 0 && s.Cached {
				r.StepsCached++
			}
		}
	}
	return r, nil
}

// engineSteps are the steps of a replayed build, placed in the stages
// their names give, numbered in the order they first appear. Steps still
// running are canceled when the build is over, as for stagescope's own
// builds (at end), and left running when it is not.
func engineSteps(p *buildgraph.Progress, running bool, end time.Time) []history.Step {
	type kept struct {
		completed time.Time
		err       string
	}
	live := map[string]kept{}
	if running {
		for _, s := range p.Steps() {
			if s.State == buildgraph.StepRunning {
				live[s.Vertex.String()] = kept{s.Completed, s.Error}
			}
		}
	}
	steps := recordSteps(p, end)
	stages := map[string]int{}
	for i := range steps {
		s := &steps[i]
		if k, ok := live[s.Vertex]; ok {
			s.State, s.Completed, s.Error = string(buildgraph.StepRunning), k.completed, k.err
		}
		label, ok := buildgraph.VertexStage(s.Name)
		if !ok {
			s.Stage, s.StageName = -1, ""
			continue
		}
		idx, seen := stages[label]
		if !seen {
			idx = len(stages)
			stages[label] = idx
		}
		s.Stage, s.StageName = idx, label
	}
	// Stages are numbered in the order their first step started, so that
	// they read top to bottom as the build went.
	first := map[int]time.Time{}
	for _, s := range steps {
		if s.Stage < 0 || s.Started.IsZero() {
			continue
		}
		if t, ok := first[s.Stage]; !ok || s.Started.Before(t) {
			first[s.Stage] = s.Started
		}
	}
	order := make([]int, len(stages))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, aok := first[order[i]]
		b, bok := first[order[j]]
		if aok != bok {
			return aok
		}
		return a.Before(b)
	})
	renumber := make([]int, len(order))
	for to, from := range order {
		renumber[from] = to
	}
	for i := range steps {
		if steps[i].Stage >= 0 {
			steps[i].Stage = renumber[steps[i].Stage]
		}
	}
	return steps
}

// prefixed are the attributes named prefix+NAME, by NAME.
func prefixed(attrs map[string]string, prefix string) map[string]string {
	var out map[string]string
	for k, v := range attrs {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			if out == nil {
				out = map[string]string{}
			}
			out[name] = v
		}
	}
	return out
}
