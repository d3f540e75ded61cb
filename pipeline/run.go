package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/crash"
	"github.com/stagescope/stagescope/internal/history"
)

// Session is a connected engine. Connect makes one of an *engine.Engine;
// tests replay recorded builds through their own.
type Session interface {
	// Kind is the engine kind ("buildkitd", "docker"): saved results are
	// keyed by it, because engines measure differently.
	Kind() string
	// Describe names the engine: "buildkitd unix:///…".
	Describe() string
	Build(ctx context.Context, req engine.BuildRequest, status chan *client.SolveStatus) (*engine.Result, error)
	BuildAll(ctx context.Context, reqs []engine.BuildRequest, status []chan *client.SolveStatus) ([]*engine.Result, []error)
	// Measure reads the size of a built image, telling progress (never
	// nil) how many bytes of layer data it has read of how many.
	Measure(ctx context.Context, res *engine.Result, progress func(done, total int64)) (*buildgraph.ImageSize, error)
	Close() error
}

// Connect connects to an engine (see engine.Connect).
func Connect(ctx context.Context, opts engine.Options) (Session, error) {
	e, err := engine.Connect(ctx, opts)
	if err != nil {
		return nil, err
	}
	return engineSession{e}, nil
}

type engineSession struct{ *engine.Engine }

func (s engineSession) Kind() string { return string(s.Engine.Kind) }
func (s engineSession) Describe() string {
	d := string(s.Engine.Kind) + " " + s.Engine.Addr
	if s.Engine.Builder != "" {
		d += " (builder " + s.Engine.Builder
		if s.Engine.Node != "" && s.Engine.Node != s.Engine.Builder {
			d += ", node " + s.Engine.Node
		}
		d += ")"
	}
	return d
}
func (s engineSession) Measure(ctx context.Context, res *engine.Result, progress func(done, total int64)) (*buildgraph.ImageSize, error) {
	return s.Engine.MeasureProgress(ctx, res, progress)
}

// Platforms are the platforms the engine's workers build for.
func (s engineSession) Platforms(ctx context.Context) ([]string, error) {
	d, err := s.Engine.Describe(ctx)
	if err != nil {
		return nil, err
	}
	return d.Platforms, nil
}

// BuilderNode names the buildx builder and node the session builds on
// ("" when it is not a builder).
func (s engineSession) BuilderNode() (builder, node string) {
	return s.Engine.Builder, s.Engine.Node
}

// Recorded describes the engine for the build records.
func (s engineSession) Recorded() history.Engine {
	return history.Engine{Kind: string(s.Engine.Kind), Address: history.RedactURL(s.Engine.Addr), Version: s.Engine.Version}
}

// recordedEngine is a Session that says more of its engine than its kind.
type recordedEngine interface{ Recorded() history.Engine }

// History keeps the records of builds between runs
// (internal/history.Store).
type History interface {
	// Load returns the newest measured size of each target of a
	// Dockerfile per engine kind, keyed by buildgraph.SavedKey (and the
	// unnamed last stage's also by buildgraph.DefaultSavedKey).
	Load(dockerfile string) (map[string]buildgraph.SavedSize, error)
	// Record stores the records of one run, one per target.
	Record(recs []*history.Record) error
}

// Options configure a Run.
type Options struct {
	// Measure measures every image built and lines its layers up with the
	// Dockerfile; the records then hold the sizes and layers.
	Measure bool
	// History, when set, gets a record of every target built, whatever
	// the outcome, and gives the previous sizes when measuring.
	History History
	// Now is the clock of the records (time.Now when nil).
	Now func() time.Time
}

// MeasuringEvery is how often, at most, a MeasureProgress event tells of a
// target's progress.
const MeasuringEvery = 100 * time.Millisecond

// Queue is how many events wait between the engine and the face, per
// target and again before the face. An event can carry megabytes of log
// when a step floods its output: short queues bound the memory, and make
// the engine's stream wait for the face instead.
const Queue = 16

// Event is what a Run tells its face, in order: Status events while the
// engine builds, one Why per target when the run keeps records (History
// with LastRecords), one SolveEnded, then when measuring MeasureProgress
// events and one Measured per target (targets are measured at the same
// time, so their events interleave), and Done last; the channel closes
// after Done.
type Event interface{ event() }

type (
	// Status is one status update of plan Target (its index).
	Status struct {
		Target int
		Status *client.SolveStatus
	}
	// SolveEnded says every target's status stream ended; the images are
	// measured next.
	SolveEnded struct{}
	// MeasureProgress is the progress of measuring plan Target's image: Done
	// bytes of layer data read of Total (0 of 0 when nothing needs
	// reading), Elapsed since measuring began. It comes at the start, at
	// most every MeasuringEvery while data is read, and at the end.
	MeasureProgress struct {
		Target      int
		Done, Total int64
		Elapsed     time.Duration
	}
	// Measured is the result of plan Target (its index), measured and
	// attributed; what the image leaves behind is known only with Done.
	Measured struct {
		Target int
		Result buildgraph.TargetResult
	}
	// Done carries the outcome.
	Done struct{ Outcome *Outcome }
)

func (Status) event()          {}
func (SolveEnded) event()      {}
func (MeasureProgress) event() {}
func (Measured) event()        {}
func (Done) event()            {}

// Outcome is what a Run produced, per plan.
type Outcome struct {
	// Results are per plan: size, breakdown, steps cached, error.
	Results []buildgraph.TargetResult
	// Built are the engine's results (nil where the build failed).
	Built []*engine.Result
	// Errs are the builds' errors (and a measure's cancelation).
	Errs []error
	// Records are what is recorded (nil without History), per plan: they
	// are written behind Done, and Recorded waits for them.
	Records []*history.Record

	recording *recording // nil without History
}

// Err returns the first error of the builds, or nil.
func (o *Outcome) Err() error {
	if o == nil {
		return nil
	}
	for _, err := range o.Errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Phase is where a Run is, as its face has seen it.
type Phase int

const (
	Building  Phase = iota // the engine is building
	Measuring              // the status streams ended; measuring images
	Finished               // the outcome is in
)

// Run is one build of one or several targets in one engine session. It
// runs in goroutines of its own; its face reads Events and hands each to
// Apply, on one goroutine of its choice, which folds it into Progress,
// Phase and Outcome: the state the face draws.
type Run struct {
	Plans []*Plan
	// Progress is the step model of the run (every target's steps when
	// there are several). With plans of several Dockerfiles it holds the
	// steps of Project's plans only: BuildKit names a vertex's stage
	// ("[builder 2/4]") but not its Dockerfile, and two Dockerfiles may
	// both have a builder. Progresses has the others.
	Progress *buildgraph.Progress
	// Project is the project whose graph Progress follows: the first
	// plan's.
	Project *Project
	// Projects are the projects of the run's plans, once each, in the
	// order of their first plan (Projects[0] is Project), and Progresses
	// their step models, each folded from its own plans' events only
	// (Progresses[0] is Progress). A run of one Dockerfile has one of each.
	Projects   []*Project
	Progresses []*buildgraph.Progress
	// of is the index in Progresses of each plan's model.
	of      []int
	Phase   Phase
	Outcome *Outcome
	// Measures are the measuring progress of each plan, from its
	// MeasureProgress events.
	Measures []MeasureProgress

	events      chan Event
	cancel      context.CancelFunc
	abandon     chan struct{}
	abandonOnce sync.Once
}

// Start builds plans of proj on s: one plan alone, several concurrently
// in one session that uploads the context once and runs shared steps once.
// Plans may also be of several projects (several Dockerfiles, see
// LoadAll): each is recorded with its own Dockerfile (Plan.Project; proj
// for a plan without one), and its steps are folded into the step model
// of its Dockerfile (Run.Progresses; Run.Progress is the first plan's).
func Start(ctx context.Context, s Session, proj *Project, plans []*Plan, opts Options) *Run {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &Run{
		Plans:   plans,
		events:  make(chan Event, Queue),
		cancel:  cancel,
		abandon: make(chan struct{}),
	}
	r.Project = proj
	if len(plans) > 0 && plans[0].Project != nil {
		r.Project = plans[0].Project
	}
	r.of = make([]int, len(plans))
	for i, pl := range plans {
		p := pl.Project
		if p == nil {
			p = r.Project
		}
		k := slices.Index(r.Projects, p)
		if k < 0 {
			k = len(r.Projects)
			r.Projects = append(r.Projects, p)
		}
		r.of[i] = k
	}
	if len(r.Projects) == 0 {
		r.Projects = []*Project{r.Project}
	}
	for _, p := range r.Projects {
		switch {
		case len(plans) == 1:
			r.Progresses = append(r.Progresses, buildgraph.NewProgress(plans[0].Graph))
		case p != nil:
			r.Progresses = append(r.Progresses, buildgraph.NewProgress(p.Graph))
		default:
			r.Progresses = append(r.Progresses, buildgraph.NewProgress(nil))
		}
	}
	r.Progress = r.Progresses[0]
	j := job{session: s, plans: plans, opts: opts, project: proj, started: opts.Now()}
	go j.run(ctx, r)
	return r
}

// Events is the run's stream; it closes after Done, or soon after Stop.
func (r *Run) Events() <-chan Event { return r.events }

// Apply folds an event into the run's state.
func (r *Run) Apply(ev Event) {
	switch ev := ev.(type) {
	case Status:
		if p := r.ProgressOfPlan(ev.Target); p != nil {
			p.Apply(ev.Status)
		}
	case Why:
		if p := r.ProgressOfPlan(ev.Target); p != nil {
			for d, why := range ev.Reasons {
				p.SetWhy(d, why)
			}
		}
	case SolveEnded:
		r.Phase = Measuring
	case MeasureProgress:
		if r.Measures == nil {
			r.Measures = make([]MeasureProgress, len(r.Plans))
		}
		if ev.Target >= 0 && ev.Target < len(r.Measures) {
			r.Measures[ev.Target] = ev
		}
	case Done:
		r.Phase, r.Outcome = Finished, ev.Outcome
	}
}

// Follows reports whether plan i's steps are in Progress: it is of the
// followed Project.
func (r *Run) Follows(i int) bool {
	if i < 0 || i >= len(r.Plans) {
		return false
	}
	if r.of != nil {
		return r.of[i] == 0
	}
	p := r.Plans[i].Project
	return p == nil || r.Project == nil || p == r.Project
}

// ProgressOfPlan is the step model plan i's steps are folded into: its
// Dockerfile's; nil for no such plan.
func (r *Run) ProgressOfPlan(i int) *buildgraph.Progress {
	if i < 0 || i >= len(r.Plans) {
		return nil
	}
	if r.of != nil {
		return r.Progresses[r.of[i]]
	}
	if r.Follows(i) {
		return r.Progress
	}
	return nil
}

// ProgressOf is the step model of project p's plans, nil when the run
// has none of them.
func (r *Run) ProgressOf(p *Project) *buildgraph.Progress {
	if k := slices.Index(r.Projects, p); k >= 0 && k < len(r.Progresses) {
		return r.Progresses[k]
	}
	return nil
}

// MeasureTotals adds the measuring progress of every plan up: bytes of
// layer data read, of how many, and the longest time spent measuring.
func (r *Run) MeasureTotals() (done, total int64, elapsed time.Duration) {
	for _, m := range r.Measures {
		done, total, elapsed = done+m.Done, total+m.Total, max(elapsed, m.Elapsed)
	}
	return done, total, elapsed
}

// Cancel cancels the builds; their events keep coming to the end.
func (r *Run) Cancel() { r.cancel() }

// Stop cancels the builds and abandons the run: its events are no longer
// delivered (the engine's stream is still read, so nothing blocks).
func (r *Run) Stop() {
	r.cancel()
	r.abandonOnce.Do(func() { close(r.abandon) })
}

func (r *Run) send(ev Event) {
	select {
	case r.events <- ev:
	case <-r.abandon:
	}
}

// job is everything the run's goroutines need, captured by value.
type job struct {
	session Session
	plans   []*Plan
	opts    Options
	project *Project
	started time.Time
}

// projectOf is the project plan i was made of.
func (j job) projectOf(i int) *Project {
	if p := j.plans[i].Project; p != nil {
		return p
	}
	return j.project
}

func (j job) run(ctx context.Context, r *Run) {
	defer r.cancel()
	// A panic of the run's own code ends the run with a *crash.Error for
	// every target: the faces report it as a bug, and nothing blocks.
	closed := false
	defer func() {
		if rec := recover(); rec != nil && !closed {
			bug := crash.New(rec)
			errs := make([]error, len(j.plans))
			for i := range errs {
				errs[i] = bug
			}
			r.send(Done{Outcome: &Outcome{Errs: errs}})
			close(r.events)
		}
	}()
	n := len(j.plans)
	whyIn := j.startWhy(ctx)
	defer whyIn.end()
	chans := make([]chan *client.SolveStatus, n)
	counts := make([]*buildgraph.Progress, n)
	relayErrs := make([]error, n)
	var relays sync.WaitGroup
	for i := range chans {
		chans[i] = make(chan *client.SolveStatus, Queue)
		counts[i] = buildgraph.NewProgress(j.plans[i].Graph)
		relays.Add(1)
		go func() {
			defer relays.Done()
			defer func() {
				if rec := recover(); rec != nil {
					relayErrs[i] = crash.New(rec)
					for range chans[i] {
						// keep the engine's stream flowing to its end
					}
				}
			}()
			for s := range chans[i] {
				// The counts need step states, not logs.
				counts[i].Apply(&client.SolveStatus{Vertexes: s.Vertexes, Statuses: s.Statuses})
				whyIn.status(i, s)
				r.send(Status{Target: i, Status: s})
			}
		}()
	}
	results := make([]*engine.Result, n)
	errs := make([]error, n)
	if n == 1 {
		results[0], errs[0] = j.session.Build(ctx, j.requests(whyIn)[0], chans[0])
	} else {
		results, errs = j.session.BuildAll(ctx, j.requests(whyIn), chans)
	}
	relays.Wait()
	for i, err := range relayErrs {
		if err != nil {
			errs[i] = err
		}
	}
	ex := j.explain(ctx, r, whyIn, counts, errs)
	r.send(SolveEnded{})
	out := j.finish(ctx, r, results, errs, counts, ex)
	closed = true
	r.send(Done{Outcome: out})
	close(r.events)
}

// finish makes the results: steps counted and, when measuring, the sizes
// of the images built (measured at the same time), their breakdown and what
// they leave behind; then records the sizes.
func (j job) finish(ctx context.Context, r *Run, results []*engine.Result, errs []error, counts []*buildgraph.Progress, ex []explained) *Outcome {
	out := &Outcome{Built: results, Errs: errs, Results: make([]buildgraph.TargetResult, len(j.plans))}
	h := j.opts.History
	saved := map[string]map[string]buildgraph.SavedSize{} // by Dockerfile
	if j.opts.Measure && h != nil {
		for i := range j.plans {
			file := j.projectOf(i).Dockerfile
			if _, ok := saved[file]; !ok {
				saved[file], _ = h.Load(file)
			}
		}
	}
	kind := j.session.Kind()
	start := time.Now()
	var (
		measuring sync.WaitGroup
		mu        sync.Mutex // errs, bug
		bug       error      // a panic of a measurement
	)
	for i, p := range j.plans {
		res := &out.Results[i]
		res.Target = p.Target
		if proj := j.projectOf(i); proj.Name != "" {
			res.File, res.Name = proj.Dockerfile, proj.Name
		}
		res.StepsCached, _, res.StepsTotal = counts[i].Counts()
		if prev, ok := previousOf(saved[j.projectOf(i).Dockerfile], kind, j.projectOf(i), p); ok {
			res.Previous = &prev
		}
		res.PlatformPrevious = platformPrevious(saved[j.projectOf(i).Dockerfile], kind, j.projectOf(i), p.Graph, p.Target)
		switch {
		case errs[i] != nil:
			res.Error = buildgraph.FirstLine(errs[i].Error())
			continue
		case results[i] == nil:
			res.Error = "the engine returned no result"
			continue
		}
		res.Image, res.Duration = results[i].Image, results[i].Duration
		if !j.opts.Measure {
			continue
		}
		measuring.Add(1)
		go func() {
			defer measuring.Done()
			defer func() {
				if rec := recover(); rec != nil {
					mu.Lock()
					bug = crash.New(rec)
					mu.Unlock()
				}
			}()
			var last time.Time
			var lastDone, lastTotal int64
			progress := func(done, total int64) {
				lastDone, lastTotal = done, total
				if now := time.Now(); now.Sub(last) >= MeasuringEvery {
					last = now
					r.send(MeasureProgress{Target: i, Done: done, Total: total, Elapsed: now.Sub(start)})
				}
			}
			size, err := j.session.Measure(ctx, results[i], progress)
			r.send(MeasureProgress{Target: i, Done: lastDone, Total: lastTotal, Elapsed: time.Since(start)})
			if err != nil {
				res.Error = "measuring: " + buildgraph.FirstLine(err.Error())
				if errors.Is(err, context.Canceled) {
					mu.Lock()
					errs[i] = err
					mu.Unlock()
				}
				return
			}
			res.Size = size
			b := buildgraph.Attribute(p.Graph, p.Target, size)
			res.Breakdown = &b
			// The face gets its own breakdown: LeftBehind is added below.
			early := *res
			bc := b
			early.Breakdown = &bc
			r.send(Measured{Target: i, Result: early})
		}()
	}
	measuring.Wait()
	if bug != nil { // as a panic of the run's own goroutine does
		for i := range errs {
			errs[i] = bug
			out.Results[i].Error = bug.Error()
		}
	}
	measured := map[string]map[string]int64{} // by Dockerfile, target
	for i, res := range out.Results {
		if res.Size != nil {
			file := j.projectOf(i).Dockerfile
			if measured[file] == nil {
				measured[file] = map[string]int64{}
			}
			measured[file][res.Target] = res.Size.Uncompressed
		}
	}
	for i, res := range out.Results {
		if res.Breakdown != nil {
			res.Breakdown.LeftBehind = buildgraph.LeftBehind(j.plans[i].Graph, res.Target, measured[j.projectOf(i).Dockerfile])
		}
	}
	if h != nil {
		out.Records = j.records(out, counts, ex)
		out.recording = recordBehind(h, out.Records)
	}
	return out
}

// records makes the record of each target of the run.
func (j job) records(out *Outcome, counts []*buildgraph.Progress, ex []explained) []*history.Record {
	finished := j.opts.Now()
	recs := make([]*history.Record, len(j.plans))
	for i, p := range j.plans {
		req := p.Request
		res := out.Results[i]
		proj := j.projectOf(i)
		sum := sha256.Sum256(proj.Source)
		r := &history.Record{
			ID: history.NewID(), Time: j.started, Finished: finished, Engine: j.engine(i),
			Dockerfile: proj.Dockerfile, DockerfileDigest: "sha256:" + hex.EncodeToString(sum[:]),
			Target: p.Target, Platform: req.Platform,
			BuildArgs: history.RedactArgs(req.BuildArgs), Contexts: history.RedactContexts(req.Contexts),
			Secrets: ids(req.Secrets), SSH: ids(req.SSH), NoCache: req.NoCache,
			Outcome: history.Succeeded, Error: res.Error, Image: res.Image, Duration: res.Duration,
			StepsCached: res.StepsCached, StepsTotal: res.StepsTotal,
			Size: res.Size, Breakdown: res.Breakdown,
		}
		if len(r.Contexts) == 0 {
			r.Contexts = nil
		}
		if proj.Bake != nil {
			r.Bake = proj.Bake.Name
		}
		if i < len(out.Built) && out.Built[i] != nil {
			r.ImageDigest = out.Built[i].Digest
		}
		switch err := out.Errs[i]; {
		case err != nil && errors.Is(err, context.Canceled):
			r.Outcome = history.Canceled
		case err != nil || out.Built[i] == nil:
			r.Outcome = history.Failed
		}
		if r.Duration == 0 {
			r.Duration = finished.Sub(j.started)
		}
		r.Steps = recordSteps(counts[i], finished)
		if ex != nil {
			addWhy(r.Steps, ex[i])
		}
		recs[i] = r
	}
	return recs
}

// recordSteps are the steps of a target's progress as records keep them;
// steps still running when the stream ended are canceled then.
func recordSteps(p *buildgraph.Progress, at time.Time) []history.Step {
	p.Abandon(at, "the build ended before the step did")
	all := p.Steps()
	steps := make([]history.Step, 0, len(all))
	for _, s := range all {
		rs := history.Step{
			Vertex: s.Vertex.String(), Stage: s.Stage, Line: s.Line, Name: s.Name, Text: s.Text,
			Started: s.Started, Completed: s.Completed, Cached: s.Cached(), State: string(s.State), Error: s.Error,
		}
		if s.Stage >= 0 && s.Stage < len(p.Stages) {
			rs.StageName = p.Stages[s.Stage].Name
		}
		for _, in := range s.Inputs {
			rs.Inputs = append(rs.Inputs, in.String())
		}
		steps = append(steps, rs)
	}
	return steps
}

// ids are the ids of --secret and --ssh values (id=NAME,src=… or
// NAME=…), never where their values come from.
func ids(specs []string) []string {
	var out []string
	for _, spec := range specs {
		id := ""
		for _, field := range strings.Split(spec, ",") {
			k, v, ok := strings.Cut(field, "=")
			switch {
			case ok && k == "id":
				id = v
			case id == "" && !ok:
				id = field // --ssh default
			case id == "" && ok && k != "src" && k != "env" && k != "type" && k != "required":
				id = k // --ssh NAME=SOCKET
			}
		}
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}
