package pipeline

import (
	"context"

	digest "github.com/opencontainers/go-digest"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/crash"
	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/internal/why"
)

// Why says why the steps of plan Target that ran did: the reason of each
// vertex, compared with the last record of the target. It comes once per
// target, before SolveEnded, when the run has a History that keeps the
// last records (LastRecords).
type Why struct {
	Target  int
	Reasons map[digest.Digest]*buildgraph.Reason
}

func (Why) event() {}

// LastRecords is a History that finds the last record of a target
// (history.Store.Last); with one, a run says why each step ran.
type LastRecords interface {
	Last(dockerfile, target, platform string, eng history.Engine) (*history.Record, error)
}

// explained is what a run knows of why the steps of one target ran.
type explained struct {
	reasons map[digest.Digest]*buildgraph.Reason
	facts   map[digest.Digest]*buildgraph.StepFacts
}

// whyInputs are a plan's step facts and its last record, read while the
// engine builds.
type whyInputs struct {
	facts []buildgraph.StageFacts
	prev  *history.Record
	err   error
}

// startWhy reads, for every plan, the facts of its steps (the context
// files each reads) and the last record of its target, while the engine
// builds; nil when the run keeps no records.
func (j job) startWhy(ctx context.Context) []chan whyInputs {
	last, ok := j.opts.History.(LastRecords)
	if !ok || j.opts.History == nil {
		return nil
	}
	eng := j.engine()
	out := make([]chan whyInputs, len(j.plans))
	for i, p := range j.plans {
		out[i] = make(chan whyInputs, 1)
		go func() {
			var in whyInputs
			defer func() {
				if rec := recover(); rec != nil {
					in = whyInputs{err: crash.New(rec)}
				}
				out[i] <- in
			}()
			in.prev, in.err = last.Last(j.projectOf(i).Dockerfile, p.Target, p.Request.Platform, eng)
			if in.err != nil {
				return
			}
			in.facts, in.err = why.Facts(ctx, p.Graph, p.Request.Target, p.Request.BuildArgs, p.Request.ContextDir, j.projectOf(i).Dockerfile)
			if lists, ok := last.(why.FileLists); ok && in.err == nil {
				why.LoadPrevious(lists, in.prev, in.facts)
			}
		}()
	}
	return out
}

// explain says why the steps of each plan that ran did, and tells the face.
// A plan whose facts could not be read gets no reasons (and its record no
// facts): nothing is guessed.
func (j job) explain(r *Run, pending []chan whyInputs, counts []*buildgraph.Progress) []explained {
	if pending == nil {
		return nil
	}
	out := make([]explained, len(j.plans))
	for i, ch := range pending {
		in := <-ch
		if in.err != nil {
			continue
		}
		steps := why.Match(counts[i], in.facts)
		out[i].reasons, out[i].facts = why.Explain(in.prev, steps, j.plans[i].Request.NoCache)
		r.send(Why{Target: i, Reasons: out[i].reasons})
	}
	return out
}

// engine describes the session's engine for the records.
func (j job) engine() history.Engine {
	if re, ok := j.session.(recordedEngine); ok {
		return re.Recorded()
	}
	return history.Engine{Kind: j.session.Kind()}
}

// addWhy gives the steps of a record their facts and reasons.
func addWhy(steps []history.Step, ex explained) {
	for k := range steps {
		d := digest.Digest(steps[k].Vertex)
		steps[k].Facts = ex.facts[d]
		steps[k].Why = ex.reasons[d]
	}
}

// EngineOf describes a session's engine as records name it.
func EngineOf(s Session) history.Engine { return job{session: s}.engine() }

// Prediction is what a build of a target will run, and why, compared with
// Record, the last record of the target on the session's engine (nil when
// there is none).
type Prediction struct {
	// Target is the stage, as BuildKit names it.
	Target string
	Record *history.Record
	Steps  []why.Prediction
}

// Predict says which steps a build of target ("" for the last stage) on s
// will run, and why, from the last record in h; nil when h keeps no last
// records. It reads the context's files.
func Predict(ctx context.Context, proj *Project, target string, s Session, h History) (*Prediction, error) {
	last, ok := h.(LastRecords)
	if !ok || h == nil || s == nil {
		return nil, nil
	}
	plan, err := proj.Plan(target, nil)
	if err != nil {
		return nil, err
	}
	prev, err := last.Last(proj.Dockerfile, plan.Target, plan.Request.Platform, EngineOf(s))
	if err != nil {
		return nil, err
	}
	facts, err := why.Facts(ctx, plan.Graph, plan.Request.Target, plan.Request.BuildArgs, plan.Request.ContextDir, proj.Dockerfile)
	if err != nil {
		return nil, err
	}
	if lists, ok := last.(why.FileLists); ok {
		why.LoadPrevious(lists, prev, facts)
	}
	return &Prediction{Target: plan.Target, Record: prev, Steps: why.Predict(prev, facts, plan.Request.NoCache)}, nil
}
