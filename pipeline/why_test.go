package pipeline

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/internal/history"
)

// lastHistory is an in-memory History that also finds the last record of
// a target.
type lastHistory struct{ fakes.History }

func (h *lastHistory) Last(dockerfile, target, platform string, eng history.Engine) (*history.Record, error) {
	for i := len(h.Records) - 1; i >= 0; i-- {
		r := h.Records[i]
		if r.Dockerfile == dockerfile && r.Target == target && r.Platform == platform && r.Engine == eng {
			return r, nil
		}
	}
	return nil, nil
}

// whyOf lists "line kind" of the steps of a run's model with a reason.
func whyOf(p *buildgraph.Progress) string {
	var out []string
	for _, s := range p.Steps() {
		if s.Why != nil {
			out = append(out, s.Text+": "+s.Why.String())
		}
	}
	return strings.Join(out, "\n")
}

// A run with records says why each step ran: a first build, then, the
// same build again with the base a folder (new to BuildKit in every
// build), the base; the records keep each step's facts and reason.
func TestRunSaysWhy(t *testing.T) {
	p := recorded(t, "hello-builder", "golang")
	hist := &lastHistory{}
	run := func() *Run {
		r := Start(context.Background(), helloSession(t), p, plans(t, p, "builder"), Options{History: hist, Now: func() time.Time { return t0 }})
		kinds := strings.Join(follow(t, r), " ")
		if !strings.Contains(kinds, "pipeline.Why pipeline.SolveEnded") {
			t.Errorf("events: %s", kinds)
		}
		return r
	}
	first := run()
	if got := whyOf(first.Progress); !strings.Contains(got, "first-build") || strings.Contains(got, "parent-ran") {
		t.Errorf("first build:\n%s", got)
	}
	rec := hist.Records[0]
	facts := 0
	for _, s := range rec.Steps {
		if s.Facts != nil {
			facts++
			if s.Facts.Base != "context:golang=/bases/golang" || s.Facts.Volatile == "" {
				t.Errorf("facts: %+v", s.Facts)
			}
		}
	}
	if facts != 3 {
		t.Errorf("%d steps with facts, want 3 (WORKDIR, COPY, RUN)", facts)
	}
	second := run()
	got := whyOf(second.Progress)
	want := "WORKDIR /app: base-changed: context:golang=/bases/golang; a folder given as a named context"
	if !strings.Contains(got, want) || !strings.Contains(got, "parent-ran: line 3 (WORKDIR /app) ran first") {
		t.Errorf("second build:\n%s", got)
	}
}

// slowLastHistory takes its time to write, as a store waiting for another
// process's lock does.
type slowLastHistory struct{ lastHistory }

func (h *slowLastHistory) Record(recs []*history.Record) error {
	time.Sleep(300 * time.Millisecond)
	return h.lastHistory.Record(recs)
}

func (h *slowLastHistory) Last(dockerfile, target, platform string, eng history.Engine) (*history.Record, error) {
	for _, r := range slices.Backward(h.All()) {
		if r.Dockerfile == dockerfile && r.Target == target && r.Platform == platform && r.Engine == eng {
			return r, nil
		}
	}
	return nil, nil
}

// A rebuild started the moment the last build ended, while its record is
// still being written, compares with that record: never "first-build".
func TestRebuildWaitsForTheLastRecord(t *testing.T) {
	p := recorded(t, "hello-builder", "golang")
	hist := &slowLastHistory{}
	start := func() *Run {
		return Start(context.Background(), helloSession(t), p, plans(t, p, "builder"), Options{History: hist, Now: func() time.Time { return t0 }})
	}
	drainOnly := func(r *Run) {
		for ev := range r.Events() {
			r.Apply(ev)
		}
	}
	first := start()
	drainOnly(first) // its record is still being written
	second := start()
	drainOnly(second)
	got := whyOf(second.Progress)
	if strings.Contains(got, "first-build") || !strings.Contains(got, "base-changed") {
		t.Errorf("the rebuild did not compare with the build before it:\n%s", got)
	}
	if pred, err := Predict(context.Background(), p, "builder", helloSession(t), hist); err != nil || pred == nil || pred.Record == nil {
		t.Errorf("prediction made without the last record: %+v, %v", pred, err)
	}
	WaitRecorded()
}
