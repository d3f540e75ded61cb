package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/internal/history"
)

// replayHistory is an engine whose history holds one build, the stream
// given; with hold, the build still runs after it (the stream stays open
// until the reader stops).
type replayHistory struct {
	stream []*client.SolveStatus
	hold   bool
}

func (h replayHistory) Builds(context.Context) ([]engine.EngineBuild, error) { return nil, nil }
func (h replayHistory) FindBuild(context.Context, string) (engine.EngineBuild, error) {
	return engine.EngineBuild{}, errors.New("unused")
}

func (h replayHistory) BuildStatus(ctx context.Context, _ string, ch chan<- *client.SolveStatus) error {
	defer close(ch)
	for _, s := range h.stream {
		select {
		case ch <- s:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if h.hold {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func TestEngineRecord(t *testing.T) {
	stream := fakes.Stream(t, "parallel")
	start := time.Date(2026, 11, 27, 7, 23, 11, 0, time.UTC)
	b := engine.EngineBuild{Ref: "q8pzy3", Frontend: "dockerfile.v0", Started: start, Completed: start.Add(3 * time.Second),
		Attrs:       map[string]string{"filename": "Dockerfile", "build-arg:API_TOKEN": "s3cr3t", "build-arg:N": "1", "context:busybox": "local:busybox"},
		HasProgress: true}
	eng := history.Engine{Kind: "buildkitd", Address: "unix:///b.sock"}
	r, err := EngineRecord(context.Background(), replayHistory{stream: stream}, eng, b)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "q8pzy3" || r.Outcome != history.Succeeded || r.Dockerfile != "Dockerfile" || r.Duration != 3*time.Second ||
		r.BuildArgs["API_TOKEN"] != history.Redacted || r.BuildArgs["N"] != "1" || r.Contexts["busybox"] != "local:busybox" {
		t.Errorf("record %+v", r)
	}
	stages := map[string]int{}
	inputs := 0
	for _, s := range r.Steps {
		if s.Stage >= 0 {
			if i, ok := stages[s.StageName]; ok && i != s.Stage {
				t.Errorf("stage %s is both %d and %d", s.StageName, i, s.Stage)
			}
			stages[s.StageName] = s.Stage
		}
		if s.Stage < 0 && s.StageName != "" {
			t.Errorf("step of no stage named %q", s.StageName)
		}
		inputs += len(s.Inputs)
	}
	if len(stages) != 3 || stages["stage-2"] != 2 || inputs == 0 {
		t.Errorf("stages %v, %d inputs; want a and b (0, 1 in either order), stage-2 last, with inputs", stages, inputs)
	}
	if r.StepsTotal != 4 {
		t.Errorf("steps total %d, want the 4 of the stages", r.StepsTotal)
	}
	cp := r.CriticalPath()
	if len(cp.Steps) == 0 || len(cp.Stages) != 3 {
		t.Errorf("critical path %+v", cp)
	}

	// A failed build and a canceled one.
	for errText, want := range map[string]history.Outcome{"process did not complete": history.Failed, "context canceled": history.Canceled} {
		fb := b
		fb.Error = errText
		r, err := EngineRecord(context.Background(), replayHistory{stream: stream}, eng, fb)
		if err != nil || r.Outcome != want {
			t.Errorf("%q: %v %v, want %s", errText, r.Outcome, err, want)
		}
	}
}

// A build still running: the record is what the engine sent so far, read
// until the stream is quiet for RunningIdle; steps running stay running.
func TestEngineRecordRunning(t *testing.T) {
	old := RunningIdle
	RunningIdle = 50 * time.Millisecond
	t.Cleanup(func() { RunningIdle = old })
	stream := fakes.Stream(t, "parallel")
	// Up to the first RUN started and not yet completed.
	cut := 0
	for i, s := range stream {
		for _, v := range s.Vertexes {
			if v.Started != nil && v.Completed == nil && len(v.Name) > 4 && v.Name[:4] == "[a 1" {
				cut = i + 1
			}
		}
		if cut > 0 {
			break
		}
	}
	if cut == 0 {
		t.Fatal("no running step in the recorded stream")
	}
	b := engine.EngineBuild{Ref: "r1", Started: time.Now().Add(-time.Second)}
	done := make(chan struct{})
	var r *history.Record
	var err error
	go func() {
		defer close(done)
		r, err = EngineRecord(context.Background(), replayHistory{stream: stream[:cut], hold: true}, history.Engine{Kind: "buildkitd"}, b)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("reading a running build did not stop")
	}
	if err != nil || r.Outcome != StillRunning || r.Duration < time.Second {
		t.Fatalf("%+v %v", r, err)
	}
	running := false
	for _, s := range r.Steps {
		if s.State == "running" && s.Completed.IsZero() && s.Error == "" {
			running = true
		}
		if s.State == "canceled" {
			t.Errorf("step %q canceled in a running build", s.Name)
		}
	}
	if !running {
		t.Errorf("no running step: %+v", r.Steps)
	}
}
