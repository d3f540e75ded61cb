package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/pipeline"
)

const progressModes = "auto, tty, plain, rawjson, json or quiet"

// progressMode resolves --progress, else BUILDKIT_PROGRESS, else auto.
func progressMode(flag string) (string, error) {
	v := flag
	if v == "" {
		v = os.Getenv("BUILDKIT_PROGRESS")
	}
	switch v {
	case "", "auto":
		return "auto", nil
	case "tty", "plain", "rawjson", "json", "quiet":
		return v, nil
	}
	if flag == "" {
		return "", usagef("BUILDKIT_PROGRESS=%q: want %s", v, progressModes)
	}
	return "", usagef("--progress %q: want %s", v, progressModes)
}

// progressSink shows a run's status stream: BuildKit's own display (auto,
// tty, plain, rawjson, quiet) or stagescope's JSON events (json).
type progressSink struct {
	display progressui.Display
	json    *buildgraph.JSONProgress
	w       io.Writer
	mode    string
	// others are the JSON events of the Dockerfiles other than the
	// first (several compared), by project; their step models are the
	// run's (Run.ProgressOfPlan).
	others map[*pipeline.Project]*buildgraph.JSONProgress
	// measured says which plans' "measured" events were written.
	measured map[int]bool
}

func newProgressSink(w io.Writer, mode string) (*progressSink, error) {
	s := &progressSink{w: w, mode: mode, others: map[*pipeline.Project]*buildgraph.JSONProgress{}, measured: map[int]bool{}}
	if mode == "json" {
		s.json = buildgraph.NewJSONProgress(w)
		return s, nil
	}
	d, err := progressui.NewDisplay(w, progressui.DisplayMode(mode))
	if err != nil {
		// tty asked for but the output is not a terminal.
		return nil, usagef("--progress %s: %v", mode, err)
	}
	s.display = d
	return s, nil
}

// follow reads the run's events to the end (even after a failure or an
// interrupt, so the failing step's logs are shown), folding each into the
// run's state, and returns the outcome. The display ends with the solve;
// measuring the images is told on lines of its own (measureLines).
func (s *progressSink) follow(ctx context.Context, run *pipeline.Run) *pipeline.Outcome {
	var tee chan *client.SolveStatus
	shown := make(chan struct{})
	if s.json == nil {
		tee = make(chan *client.SolveStatus)
		in := tee // endDisplay sets tee to nil, maybe before this goroutine starts
		goSafe(func() {
			defer close(shown)
			_, _ = s.display.UpdateFrom(context.WithoutCancel(ctx), in)
		})
	} else {
		close(shown)
	}
	endDisplay := func() {
		if tee != nil {
			close(tee)
			tee = nil
		}
		<-shown
	}
	lines := measureLines{last: map[int]time.Time{}, ended: map[int]bool{}}
	if s.json != nil && run.Project != nil {
		s.json.File = run.Project.Name
	}
	for ev := range run.Events() {
		run.Apply(ev)
		switch ev := ev.(type) {
		case pipeline.Status:
			if s.json != nil {
				_ = s.jsonOf(run, ev.Target).Update(run.ProgressOfPlan(ev.Target), ev.Status)
			} else {
				tee <- ev.Status
			}
		case pipeline.Why:
			if s.json != nil {
				_ = s.jsonOf(run, ev.Target).Why(run.ProgressOfPlan(ev.Target), ev.Reasons)
			}
		case pipeline.SolveEnded:
			endDisplay()
			if s.json == nil && (s.mode == "plain" || s.mode == "tty" || s.mode == "auto") {
				printWhy(s.w, run.Progress)
			}
		case pipeline.MeasureProgress:
			switch {
			case s.json != nil:
				_ = s.jsonOf(run, ev.Target).Measure(run.Plans[ev.Target].Target, ev.Done, ev.Total, ev.Elapsed)
			case s.mode != "quiet":
				lines.show(s.w, run, ev)
			}
		case pipeline.Measured:
			if s.json != nil {
				_ = s.jsonOf(run, ev.Target).Measured(ev.Result)
				s.measured[ev.Target] = true
			}
		}
	}
	endDisplay()
	return run.Outcome
}

// jsonOf is the JSON events of plan i's Dockerfile.
func (s *progressSink) jsonOf(run *pipeline.Run, i int) *buildgraph.JSONProgress {
	if run.Follows(i) {
		return s.json
	}
	proj := run.Plans[i].Project
	j, ok := s.others[proj]
	if !ok {
		j = buildgraph.NewJSONProgress(s.w)
		j.File = proj.Name
		s.others[proj] = j
	}
	return j
}

// finishMeasured ends the JSON events of a run that measured its images
// (compare): a "measured" event for every target that has none (its build
// or its measuring failed), then a summary per Dockerfile, the followed
// one first.
func (s *progressSink) finishMeasured(run *pipeline.Run, o *pipeline.Outcome) {
	if s.json == nil || o == nil {
		return
	}
	errOf := func(follows func(int) bool) error {
		for i, err := range o.Errs {
			if err != nil && follows(i) {
				return err
			}
		}
		return nil
	}
	for i, r := range o.Results {
		if !s.measured[i] && i < len(run.Plans) {
			_ = s.jsonOf(run, i).Measured(r)
		}
	}
	now := time.Now()
	_ = s.json.Finish(run.Progress, errOf(run.Follows), now)
	done := map[*pipeline.Project]bool{}
	for i, p := range run.Plans {
		if run.Follows(i) || done[p.Project] {
			continue
		}
		done[p.Project] = true
		_ = s.jsonOf(run, i).Finish(run.ProgressOfPlan(i), errOf(func(k int) bool { return run.Plans[k].Project == p.Project }), now)
	}
}

// finish ends the output after the build returned err: the JSON summary, or
// for a failed step the Dockerfile lines around it.
func (s *progressSink) finish(model *buildgraph.Progress, err error, dockerfile []byte) {
	if s.json != nil {
		_ = s.json.Finish(model, err, time.Now())
		return
	}
	be, ok := err.(*engine.BuildError)
	if !ok {
		return
	}
	if len(be.Sources) > 0 {
		be.PrintSources(s.w)
		return
	}
	// Older daemons attach no source to errors: place the failed step from
	// the model instead.
	if f := model.Failed(); f != nil && f.Line > 0 {
		printSourceLines(s.w, dockerfile, f.Line)
	}
}

// printSourceLines shows the Dockerfile around line, the line marked, in the
// shape BuildKit's own error printer uses.
func printSourceLines(w io.Writer, dockerfile []byte, line int) {
	excerpt := buildgraph.Excerpt(buildgraph.SourceLines(dockerfile), line, line)
	if len(excerpt) == 0 {
		return
	}
	fmt.Fprintln(w, "Dockerfile:"+fmt.Sprint(line))
	fmt.Fprintln(w, "--------------------")
	for _, l := range excerpt {
		mark := "   "
		if l.Marked {
			mark = ">>>"
		}
		fmt.Fprintf(w, " %3d | %s %s\n", l.Number, mark, l.Text)
	}
	fmt.Fprintln(w, "--------------------")
}

// measureLines tells the progress of measuring each target's image, one
// line when it starts, at most one a second while layer data is read, and
// one when it is read: "measuring runtime: 120MB of 300MB read (2.1s)".
type measureLines struct {
	last  map[int]time.Time
	ended map[int]bool
}

// measureLineEvery is how often, at most, a target's line is repeated.
const measureLineEvery = time.Second

func (m measureLines) show(w io.Writer, run *pipeline.Run, ev pipeline.MeasureProgress) {
	last, seen := m.last[ev.Target]
	finished := ev.Done == ev.Total
	if m.ended[ev.Target] || seen && !finished && time.Since(last) < measureLineEvery {
		return
	}
	m.last[ev.Target] = time.Now()
	m.ended[ev.Target] = finished && (seen || ev.Total == 0)
	name := run.Plans[ev.Target].Label()
	switch {
	case ev.Total == 0:
		fmt.Fprintf(w, "measuring %s: no layer data to read\n", name)
	case finished && seen:
		fmt.Fprintf(w, "measured %s: %s of layer data read in %s\n", name, buildgraph.HumanSize(ev.Total), ev.Elapsed.Round(100*time.Millisecond))
	default:
		fmt.Fprintf(w, "measuring %s: %s of %s of layer data read (%s)\n", name,
			buildgraph.HumanSize(ev.Done), buildgraph.HumanSize(ev.Total), ev.Elapsed.Round(100*time.Millisecond))
	}
}
