package tui

import (
	"context"
	"errors"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
)

// A build runs in goroutines of its own: the engine's Build (or BuildAll),
// one forwarder per target that relays the engine's status updates to the
// UI, then measuring and saving. The UI reads the relayed updates with a
// command that waits on the channel and is issued again after each batch;
// the final outcome comes through a second channel once the stream has
// ended. Every message carries the build's ID; the UI drops messages of a
// build that is no longer current, and a superseded build's forwarders stop
// relaying (they still drain the engine's channel) so nothing blocks.

// maxBatch bounds how many updates one message carries: the UI applies all
// updates that queued up while it was busy, then renders once.
const maxBatch = 512

// statusQueue is how many status messages wait between the engine and the
// UI, per target and again before the UI. A message can carry megabytes of
// log when a step floods its output: short queues bound the memory, and
// make the engine's stream wait for the UI instead.
const statusQueue = 16

// batchWindow is how long the UI gathers status updates before applying
// them: one frame at 25 frames a second.
const batchWindow = time.Second / 25

// buildRun is one build the user started: one target, or several built
// together for comparison.
type buildRun struct {
	id      int
	targets []string // BuildKit's names of the targets
	plans   []Plan
	noCache bool

	progress *buildgraph.Progress
	started  time.Time
	ended    time.Time
	phase    buildPhase
	// Process CPU time at the start and at the end of the status stream,
	// for Options.Stats.
	cpuStarted, cpuEnded time.Duration

	cancel      context.CancelFunc
	abandon     chan struct{} // closed when the build is superseded
	abandonOnce sync.Once
	updates     chan *client.SolveStatus
	done        chan buildOutcome
	canceled    bool // the user canceled it

	outcome *buildOutcome
}

type buildPhase int

const (
	phaseBuilding  buildPhase = iota // the engine is building
	phaseMeasuring                   // the stream ended; measuring images
	phaseDone                        // the outcome is in
)

// buildOutcome is what a build produced, per target.
type buildOutcome struct {
	results []buildgraph.TargetResult
	errs    []error
	saveErr error
}

// err returns the build's first error.
func (o *buildOutcome) err() error {
	if o == nil {
		return nil
	}
	for _, err := range o.errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Messages of a build.
type (
	// statusMsg carries updates of build id.
	statusMsg struct {
		id      int
		updates []*client.SolveStatus
	}
	// streamEndMsg says build id's status stream ended.
	streamEndMsg struct{ id int }
	// buildDoneMsg carries build id's outcome.
	buildDoneMsg struct {
		id      int
		outcome buildOutcome
	}
	// tickMsg animates build id while it runs.
	tickMsg struct{ id int }
)

func (r *buildRun) running() bool { return r != nil && r.phase != phaseDone }

// stop abandons the build: it is canceled and its messages are dropped.
func (r *buildRun) stop() {
	if r == nil {
		return
	}
	r.cancel()
	r.abandonOnce.Do(func() { close(r.abandon) })
}

// waitUpdates waits for the next batch of updates of r, or the end of the
// stream.
func waitUpdates(id int, updates <-chan *client.SolveStatus) tea.Cmd {
	return func() tea.Msg {
		s, ok := <-updates
		if !ok {
			return streamEndMsg{id: id}
		}
		// Gather what arrives within one frame: a log flood then costs one
		// update and one render per frame, not one per status message.
		batch := []*client.SolveStatus{s}
		frame := time.NewTimer(batchWindow)
		defer frame.Stop()
		for len(batch) < maxBatch {
			select {
			case s, ok := <-updates:
				if !ok {
					return statusMsg{id: id, updates: batch}
				}
				batch = append(batch, s)
			case <-frame.C:
				return statusMsg{id: id, updates: batch}
			}
		}
		return statusMsg{id: id, updates: batch}
	}
}

// waitDone waits for the outcome of build id.
func waitDone(id int, done <-chan buildOutcome) tea.Cmd {
	return func() tea.Msg { return buildDoneMsg{id: id, outcome: <-done} }
}

func tick(id int) tea.Cmd {
	return tea.Tick(100*time.Millisecond, func(time.Time) tea.Msg { return tickMsg{id: id} })
}

// buildJob is everything the build goroutine needs, captured by value.
type buildJob struct {
	session    Session
	plans      []Plan
	history    History
	dockerfile string
	now        func() time.Time
}

// start runs the job in goroutines, relaying to r.updates and r.done.
func (j buildJob) start(ctx context.Context, r *buildRun) {
	n := len(j.plans)
	chans := make([]chan *client.SolveStatus, n)
	counts := make([]*buildgraph.Progress, n)
	var relays sync.WaitGroup
	for i := range chans {
		chans[i] = make(chan *client.SolveStatus, statusQueue)
		counts[i] = buildgraph.NewProgress(j.plans[i].Graph)
		relays.Add(1)
		go func() {
			defer relays.Done()
			for s := range chans[i] {
				// The counts need step states, not the logs the UI keeps.
				counts[i].Apply(&client.SolveStatus{Vertexes: s.Vertexes, Statuses: s.Statuses})
				select {
				case r.updates <- s:
				case <-r.abandon:
				}
			}
		}()
	}
	go func() {
		results := make([]*engine.Result, n)
		errs := make([]error, n)
		if n == 1 {
			results[0], errs[0] = j.session.Build(ctx, j.plans[0].Request, chans[0])
		} else {
			reqs := make([]engine.BuildRequest, n)
			for i, p := range j.plans {
				reqs[i] = p.Request
			}
			results, errs = j.session.BuildAll(ctx, reqs, chans)
		}
		relays.Wait()
		close(r.updates)
		r.done <- j.finish(ctx, results, errs, counts)
	}()
}

// finish measures the images built and saves their sizes.
func (j buildJob) finish(ctx context.Context, results []*engine.Result, errs []error, counts []*buildgraph.Progress) buildOutcome {
	out := buildOutcome{errs: errs}
	var saved map[string]buildgraph.SavedSize
	if j.history != nil {
		saved, _ = j.history.Load(j.dockerfile)
	}
	toSave := map[string]buildgraph.SavedSize{}
	at := j.now()
	for i, p := range j.plans {
		r := buildgraph.TargetResult{Target: p.Target}
		cached, _, total := counts[i].Counts()
		r.StepsCached, r.StepsTotal = cached, total
		key := buildgraph.SavedKey(j.session.Kind(), p.Target)
		if prev, ok := saved[key]; ok {
			r.Previous = &prev
		}
		switch {
		case errs[i] != nil:
			r.Error = buildgraph.FirstLine(errs[i].Error())
		case results[i] == nil:
			r.Error = "the engine returned no result"
		default:
			r.Image, r.Duration = results[i].Image, results[i].Duration
			size, err := j.session.Measure(ctx, results[i])
			if err != nil {
				r.Error = "measuring: " + buildgraph.FirstLine(err.Error())
				if errs[i] == nil && errors.Is(err, context.Canceled) {
					errs[i] = err
				}
				break
			}
			r.Size = size
			b := buildgraph.Attribute(p.Graph, p.Target, size)
			r.Breakdown = &b
			toSave[key] = buildgraph.SavedSize{Uncompressed: size.Uncompressed, Compressed: size.Compressed, At: at, Engine: j.session.Kind()}
		}
		out.results = append(out.results, r)
	}
	if j.history != nil && len(toSave) > 0 {
		out.saveErr = j.history.Save(j.dockerfile, toSave)
	}
	return out
}
