package pipeline

import (
	"context"
	"sync"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
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
// engine builds, and what listing the context's files needs.
type whyInputs struct {
	facts   []buildgraph.StageFacts
	digests *why.Digests
	lists   why.FileLists
	prev    *history.Record
	err     error
	// filled says the facts have their files already: listed from the
	// upload of the context once it ended, while the build went on.
	filled bool
}

// whyRun is what a run reads to say why: for every plan, its inputs and
// what its context's uploads sent; uploaded[i] has a value each time the
// engine says plan i's context is loaded (BuildKit says so of a step
// from its cache before it runs it again), solved is closed when the build
// ended.
type whyRun struct {
	inputs   []chan whyInputs
	sent     []*engine.SentContext
	uploaded []chan struct{}
	solved   chan struct{}
	ended    sync.Once
}

// end says the build ended; a run calls it however it ends.
func (w *whyRun) end() {
	if w != nil {
		w.ended.Do(func() { close(w.solved) })
	}
}

// contextLoaded is BuildKit's step that uploads the main context.
const contextLoaded = "[internal] load build context"

// status notes, from a status of plan i, that its context is loaded.
func (w *whyRun) status(i int, s *client.SolveStatus) {
	if w == nil {
		return
	}
	for _, v := range s.Vertexes {
		if v.Name == contextLoaded && v.Completed != nil && v.Error == "" {
			select {
			case w.uploaded[i] <- struct{}{}:
			default: // one waiting is enough
			}
		}
	}
}

// startWhy reads, for every plan, the facts of its steps and the last
// record of its target while the engine builds, and has the engine record
// what the uploads of its context send: the context files each step reads
// are listed from them once the build ends. Nil when the run keeps no
// records.
func (j job) startWhy(ctx context.Context) *whyRun {
	last, ok := j.opts.History.(LastRecords)
	if !ok || j.opts.History == nil {
		return nil
	}
	n := len(j.plans)
	out := &whyRun{inputs: make([]chan whyInputs, n), sent: make([]*engine.SentContext, n),
		uploaded: make([]chan struct{}, n), solved: make(chan struct{})}
	for i, p := range j.plans {
		out.uploaded[i] = make(chan struct{}, 1)
		out.sent[i] = &engine.SentContext{}
		ch := make(chan whyInputs, 1)
		out.inputs[i] = ch
		go func() {
			var in whyInputs
			defer func() {
				if rec := recover(); rec != nil {
					in = whyInputs{err: crash.New(rec)}
				}
				ch <- in
			}()
			WaitRecorded() // the build before this one may have just ended
			in.prev, in.err = last.Last(j.projectOf(i).Dockerfile, p.Target, p.Request.Platform, j.engine(i))
			if in.err != nil {
				return
			}
			in.facts, in.err = why.StepFacts(p.Graph, p.Request.Target, p.Request.BuildArgs)
			in.digests = why.OpenDigests(p.Request.ContextDir, j.projectOf(i).Dockerfile, why.CacheDir())
			in.lists, _ = last.(why.FileLists)
			if in.err != nil {
				return
			}
			// The files each step reads are listed as soon as an
			// upload of the context that sent them all has ended, while
			// the engine goes on.
			for {
				select {
				case <-out.uploaded[i]:
					if !out.sent[i].Complete() {
						continue
					}
					if sent := sends(out.sent[i]); in.digests.Covers(in.facts, sent) {
						in.digests.Fill(ctx, in.facts, sent)
						in.filled = true
						return
					}
					continue
				case <-out.solved:
				}
				return
			}
		}()
	}
	return out
}

// requests are the plans' requests, each recording its context's
// uploads when the run says why.
func (j job) requests(w *whyRun) []engine.BuildRequest {
	reqs := make([]engine.BuildRequest, len(j.plans))
	for i, p := range j.plans {
		reqs[i] = p.Request
		if w != nil {
			reqs[i].Sent = w.sent[i]
		}
	}
	return reqs
}

// explain says why the steps of each plan that ran did, and tells the face.
// A plan whose facts could not be read gets no reasons (and its record no
// facts): nothing is guessed.
//
// The context files each step read are listed from what the build's
// uploads of the context sent when it succeeded (every upload then ended),
// else by walking the context.
func (j job) explain(ctx context.Context, r *Run, w *whyRun, counts []*buildgraph.Progress, errs []error) []explained {
	if w == nil {
		return nil
	}
	w.end()
	out := make([]explained, len(j.plans))
	for i, ch := range w.inputs {
		in := <-ch
		if in.err != nil {
			continue
		}
		if !in.filled {
			var sent []why.Sent
			if errs[i] == nil {
				sent = sends(w.sent[i])
			}
			in.digests.Fill(ctx, in.facts, sent)
		}
		why.LoadPrevious(in.lists, in.prev, in.facts)
		steps := why.Match(counts[i], in.facts)
		out[i].reasons, out[i].facts = why.Explain(in.prev, steps, j.plans[i].Request.NoCache)
		r.send(Why{Target: i, Reasons: out[i].reasons})
	}
	return out
}

// sends are the uploads of a context as why lists files from them.
func sends(s *engine.SentContext) []why.Sent {
	var out []why.Sent
	for _, c := range s.Sends() {
		out = append(out, why.Sent{IncludePatterns: c.IncludePatterns, ExcludePatterns: c.ExcludePatterns,
			FollowPaths: c.FollowPaths, Entries: c.Entries})
	}
	return out
}

// engine describes, for the records, the engine of the session that
// builds plan i (a NodeSessions builds each platform on its node).
func (j job) engine(i int) history.Engine {
	return engineFor(j.session, j.plans[i].Request.Platform)
}

// platformEngine is a Session whose engine depends on the platform of the
// build (NodeSessions).
type platformEngine interface {
	RecordedFor(platform string) history.Engine
}

// engineFor describes the engine of s that builds for platform as records
// name it.
func engineFor(s Session, platform string) history.Engine {
	if pe, ok := s.(platformEngine); ok {
		return pe.RecordedFor(platform)
	}
	if re, ok := s.(recordedEngine); ok {
		return re.Recorded()
	}
	return history.Engine{Kind: s.Kind()}
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
func EngineOf(s Session) history.Engine { return engineFor(s, "") }

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
	WaitRecorded() // the build before this one may have just ended
	prev, err := last.Last(proj.Dockerfile, plan.Target, plan.Request.Platform, engineFor(s, plan.Request.Platform))
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
