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

// progressSink is where a build's status stream goes: the stage/step model
// always, and one display: BuildKit's own (auto, tty, plain, rawjson,
// quiet) or stagescope's JSON events (json).
type progressSink struct {
	model   *buildgraph.Progress
	display progressui.Display
	json    *buildgraph.JSONProgress
	w       io.Writer
}

func newProgressSink(w io.Writer, mode string, g *buildgraph.Graph) (*progressSink, error) {
	s := &progressSink{model: buildgraph.NewProgress(g), w: w}
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

// consume reads the stream to its end (even after a failure or an
// interrupt, so the failing step's logs are shown) and closes done.
func (s *progressSink) consume(ctx context.Context, ch <-chan *client.SolveStatus, done chan<- struct{}) {
	defer close(done)
	ctx = context.WithoutCancel(ctx)
	if s.json != nil {
		for st := range ch {
			s.model.Apply(st)
			_ = s.json.Update(s.model, st)
		}
		return
	}
	tee := make(chan *client.SolveStatus)
	go func() {
		for st := range ch {
			s.model.Apply(st)
			tee <- st
		}
		close(tee)
	}()
	_, _ = s.display.UpdateFrom(ctx, tee)
}

// finish ends the output after the build returned err: the JSON summary, or
// for a failed step the Dockerfile lines around it.
func (s *progressSink) finish(err error, dockerfile []byte) {
	if s.json != nil {
		_ = s.json.Finish(s.model, err, time.Now())
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
	if f := s.model.Failed(); f != nil && f.Line > 0 {
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
