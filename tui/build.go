package tui

import (
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
)

// A build is a pipeline.Run: it runs in goroutines of its own and tells
// the UI what happens through its events. The UI reads them with a command
// that waits on the run's channel and is issued again after each batch,
// and folds them into the run's state on the UI loop. Every message
// carries the build's ID; the UI drops messages of a build that is no
// longer current, and a superseded run stops delivering events (it still
// drains the engine's stream) so nothing blocks.

// maxBatch bounds how many events one message carries: the UI applies all
// events that queued up while it was busy, then renders once.
const maxBatch = 512

// batchWindow is how long the UI gathers status events before applying
// them: one frame at 25 frames a second.
const batchWindow = time.Second / 25

// buildRun is one build the user started: one target, or several built
// together for comparison. The run holds the build's state (steps, phase,
// outcome); the rest is what the UI adds to it.
type buildRun struct {
	*pipeline.Run
	// project is the Dockerfile as it was built: the build screen shows
	// its lines, whatever the file holds since.
	project *pipeline.Project
	id      int
	targets []string // BuildKit's names of the targets
	noCache bool
	spill   *logSpill // the whole logs of the steps that print much

	started time.Time
	ended   time.Time
	// Process CPU time at the start and at the end of the status stream,
	// for Options.Stats.
	cpuStarted, cpuEnded time.Duration
	canceled             bool // the user canceled it
	// rows are the outcome's results as compared: a row per target and
	// platform in a build for several platforms (platformRows).
	rows []buildgraph.TargetResult
}

// Messages of a build.
type (
	// eventsMsg carries events of build id, in order.
	eventsMsg struct {
		id     int
		events []pipeline.Event
	}
	// tickMsg animates build id while it runs.
	tickMsg struct{ id int }
)

func (r *buildRun) running() bool { return r != nil && r.Phase != pipeline.Finished }

// stop abandons the build: it is canceled and its messages are dropped.
func (r *buildRun) stop() {
	if r == nil {
		return
	}
	r.Stop()
}

// waitEvents waits for the next events of build id. Status events that
// arrive within one frame are gathered into one message: a log flood then
// costs one update and one render per frame, not one per status.
func waitEvents(id int, events <-chan pipeline.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-events
		if !ok {
			return nil
		}
		batch := []pipeline.Event{ev}
		if _, status := ev.(pipeline.Status); !status {
			return eventsMsg{id: id, events: batch}
		}
		frame := time.NewTimer(batchWindow)
		defer frame.Stop()
		for len(batch) < maxBatch {
			select {
			case ev, ok := <-events:
				if !ok {
					return eventsMsg{id: id, events: batch}
				}
				batch = append(batch, ev)
				if _, status := ev.(pipeline.Status); !status {
					return eventsMsg{id: id, events: batch}
				}
			case <-frame.C:
				return eventsMsg{id: id, events: batch}
			}
		}
		return eventsMsg{id: id, events: batch}
	}
}

func tick(id int) tea.Cmd {
	return tea.Tick(100*time.Millisecond, func(time.Time) tea.Msg { return tickMsg{id: id} })
}

// measuringText tells how far measuring the images is: "measuring
// 120MB of 300MB 2.1s", or "measuring images" before any layer data is to
// be read (Docker's store, or sizes remembered).
func measuringText(r *pipeline.Run) string {
	done, total, elapsed := r.MeasureTotals()
	if total == 0 {
		return "measuring images"
	}
	return fmt.Sprintf("measuring %s of %s %s", buildgraph.HumanSize(done), buildgraph.HumanSize(total), duration(elapsed))
}
