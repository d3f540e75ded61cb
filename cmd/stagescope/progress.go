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
}

func newProgressSink(w io.Writer, mode string) (*progressSink, error) {
	s := &progressSink{w: w}
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
// run's state, and returns the outcome. The display ends with the solve,
// before the images are measured.
func (s *progressSink) follow(ctx context.Context, run *pipeline.Run) *pipeline.Outcome {
	var tee chan *client.SolveStatus
	shown := make(chan struct{})
	if s.json == nil {
		tee = make(chan *client.SolveStatus)
		goSafe(func() {
			defer close(shown)
			_, _ = s.display.UpdateFrom(context.WithoutCancel(ctx), tee)
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
	for ev := range run.Events() {
		run.Apply(ev)
		switch ev := ev.(type) {
		case pipeline.Status:
			if s.json != nil {
				_ = s.json.Update(run.Progress, ev.Status)
			} else {
				tee <- ev.Status
			}
		case pipeline.SolveEnded:
			endDisplay()
		}
	}
	endDisplay()
	return run.Outcome
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
