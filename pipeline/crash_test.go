package pipeline

import (
	"context"
	"errors"
	"testing"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/crash"
	"github.com/stagescope/stagescope/internal/fakes"
)

// panicSession panics while measuring, in the run's own goroutine.
type panicSession struct{ *fakes.Session }

func (panicSession) Measure(context.Context, *engine.Result, func(int64, int64)) (*buildgraph.ImageSize, error) {
	panic("measure bug")
}

// A panic in the run's goroutines ends the run with a *crash.Error for
// every target, and the event stream still closes: the faces report a bug
// instead of the process dying with a stack trace or a face waiting for
// ever.
func TestRunPanicBecomesCrashError(t *testing.T) {
	proj := recorded(t, "hello-final", "golang")
	sess := panicSession{helloSession(t)}
	r := Start(context.Background(), sess, proj, plans(t, proj, "builder", ""), Options{Measure: true})
	follow(t, r)
	if r.Outcome == nil || len(r.Outcome.Errs) != 2 {
		t.Fatalf("outcome %+v", r.Outcome)
	}
	for i, err := range r.Outcome.Errs {
		var bug *crash.Error
		if !errors.As(err, &bug) || bug.Value != "measure bug" || len(bug.Stack) == 0 {
			t.Errorf("target %d: error %v, want the recovered panic with its stack", i, err)
		}
	}
}
