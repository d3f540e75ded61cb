package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/internal/history"
)

var t0 = time.Date(2026, 11, 27, 7, 22, 30, 0, time.UTC)

// recorded is the project of a recording, its base replaced by a named
// context as the recordings were made.
func recorded(t testing.TB, name, base string) *Project {
	t.Helper()
	file := filepath.Join(fakes.StatusDir, name, "Dockerfile")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p := &Project{Dockerfile: file, Source: src, Base: engine.BuildRequest{
		ContextDir: filepath.Dir(file), Dockerfile: file, Contexts: map[string]string{base: "/bases/" + base},
	}}
	if p.Graph, err = p.parse(""); err != nil {
		t.Fatal(err)
	}
	return p
}

// The images of the hello-final recording, by tag.
const (
	helloBuilder = "stagescope/hello-final:builder"
	helloFinal   = "stagescope/hello-final:stage-1"
)

func helloSession(t testing.TB) *fakes.Session {
	return &fakes.Session{
		Streams: map[string][]*client.SolveStatus{"builder": fakes.Stream(t, "hello-builder"), "": fakes.Stream(t, "hello-final")},
		Sizes: map[string]*buildgraph.ImageSize{
			helloBuilder: {Uncompressed: 283_400_000, Compressed: 98_200_000, Layers: []buildgraph.Layer{
				{CreatedBy: "golang toolchain", Size: 274_000_000},
				{CreatedBy: "WORKDIR /app # buildkit"},
				{CreatedBy: "COPY hellodocker.go . # buildkit", Size: 1_200},
				{CreatedBy: "RUN /bin/sh -c go build -o hello hellodocker.go # buildkit", Size: 9_398_800},
			}},
			helloFinal: {Uncompressed: 2_400_000, Compressed: 1_150_000, Layers: []buildgraph.Layer{
				{CreatedBy: "WORKDIR /app # buildkit"},
				{CreatedBy: "COPY /app/hello . # buildkit", Size: 2_400_000},
				{CreatedBy: `ENTRYPOINT ["./hello"]`, Empty: true},
			}},
		},
	}
}

// follow reads a run's events to the end as a face does, folding each in,
// and returns their kinds in order, statuses counted as one.
func follow(t *testing.T, r *Run) []string {
	t.Helper()
	var kinds []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-r.Events():
			if !ok {
				r.Outcome.Recorded() // written behind Done: tests read them next
				return kinds
			}
			r.Apply(ev)
			k := fmt.Sprintf("%T", ev)
			if _, ok := ev.(MeasureProgress); ok {
				continue // TestRunMeasuresTogether
			}
			if m, ok := ev.(Measured); ok {
				k = fmt.Sprintf("Measured %s", r.Plans[m.Target].Target)
			}
			if len(kinds) == 0 || kinds[len(kinds)-1] != k || k != "pipeline.Status" {
				kinds = append(kinds, k)
			}
		case <-timeout:
			t.Fatal("the run did not end")
		}
	}
}

func plans(t *testing.T, p *Project, targets ...string) []*Plan {
	t.Helper()
	var out []*Plan
	for _, target := range targets {
		pl, err := p.Plan(target, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pl)
	}
	return out
}

// Two targets in one run: the events come in order, the step model holds
// both builds, each image is measured and attributed, the final image
// names the stage it leaves behind with its size, and the sizes are
// recorded and compared with the last ones.
func TestRunMeasuresAndRecords(t *testing.T) {
	proj := recorded(t, "hello-final", "golang")
	sess := helloSession(t)
	hist := &fakes.History{Saved: map[string]buildgraph.SavedSize{
		"buildkitd/builder": {Uncompressed: 280_000_000, Engine: "buildkitd"},
		"docker/stage-1":    {Uncompressed: 1, Engine: "docker"},
	}}
	r := Start(context.Background(), sess, proj, plans(t, proj, "builder", "stage-1"),
		Options{Measure: true, History: hist, Now: func() time.Time { return t0 }})
	kinds := follow(t, r)
	if len(kinds) > 3 && kinds[2] > kinds[3] { // measured at the same time
		kinds[2], kinds[3] = kinds[3], kinds[2]
	}
	want := []string{"pipeline.Status", "pipeline.SolveEnded", "Measured builder", "Measured stage-1", "pipeline.Done"}
	if strings.Join(kinds, ",") != strings.Join(want, ",") {
		t.Errorf("events %v, want %v", kinds, want)
	}
	if r.Phase != Finished || r.Outcome == nil || r.Outcome.Err() != nil {
		t.Fatalf("phase %v, outcome %+v", r.Phase, r.Outcome)
	}
	if n := len(r.Progress.Steps()); n < 6 {
		t.Errorf("the step model has %d steps, want both builds'", n)
	}
	res := r.Outcome.Results
	if len(res) != 2 || res[0].Target != "builder" || res[1].Target != "stage-1" {
		t.Fatalf("results %+v", res)
	}
	b, f := res[0], res[1]
	if b.Size == nil || b.Size.Uncompressed != 283_400_000 || b.Previous == nil || b.Previous.Uncompressed != 280_000_000 {
		t.Errorf("builder: size %+v, previous %+v", b.Size, b.Previous)
	}
	if f.Previous != nil {
		t.Errorf("stage-1 compared with another engine's size: %+v", f.Previous)
	}
	if b.StepsTotal == 0 || f.StepsTotal == 0 {
		t.Errorf("steps not counted: %d, %d", b.StepsTotal, f.StepsTotal)
	}
	if f.Breakdown == nil || !f.Breakdown.Matched || len(f.Breakdown.Copied) != 1 || f.Breakdown.Copied[0].Source != "builder" {
		t.Fatalf("stage-1 breakdown %+v", f.Breakdown)
	}
	if lb := f.Breakdown.LeftBehind; len(lb) != 1 || lb[0].Source != "builder" || lb[0].Bytes != 283_400_000 {
		t.Errorf("stage-1 leaves behind %+v, want builder (283.4MB)", lb)
	}
	if b.Breakdown == nil || len(b.Breakdown.LeftBehind) != 0 {
		t.Errorf("builder leaves nothing behind: %+v", b.Breakdown)
	}
	if got := hist.Saved["buildkitd/stage-1"]; got.Uncompressed != 2_400_000 || !got.At.Equal(t0) || got.Engine != "buildkitd" {
		t.Errorf("recorded %+v", hist.Saved)
	}
	if got := hist.Saved["buildkitd/builder"]; got.Uncompressed != 283_400_000 {
		t.Errorf("recorded %+v", hist.Saved)
	}
	if len(hist.Records) != 2 || r.Outcome.Records[1] != hist.Records[1] {
		t.Fatalf("records %+v", hist.Records)
	}
	rec := hist.Records[1]
	if rec.Target != "stage-1" || rec.Outcome != history.Succeeded || rec.Engine.Kind != "buildkitd" ||
		!strings.HasPrefix(rec.DockerfileDigest, "sha256:") || rec.Size == nil || rec.Breakdown == nil || len(rec.Size.Layers) != 3 ||
		rec.Contexts["golang"] != "/bases/golang" || rec.StepsTotal != f.StepsTotal {
		t.Errorf("record %+v", rec)
	}
	// Every step, with its stage, line, inputs and times.
	var copyStep *history.Step
	for i, s := range rec.Steps {
		if s.Vertex == "" || s.State == "" {
			t.Errorf("step %d: %+v", i, s)
		}
		if strings.HasPrefix(s.Text, "COPY --from=builder") {
			copyStep = &rec.Steps[i]
		}
	}
	if copyStep == nil || copyStep.StageName != "stage-1" || copyStep.Line != 10 || len(copyStep.Inputs) == 0 || copyStep.Started.IsZero() || copyStep.Completed.IsZero() {
		t.Errorf("COPY step %+v", copyStep)
	}
}

// Every build is recorded, failed and canceled ones too; build arguments
// named like secrets are redacted and --secret gives its id only.
func TestRunRecordsOutcomes(t *testing.T) {
	proj := recorded(t, "hello-final", "golang")
	proj.Base.BuildArgs = map[string]string{"NPM_TOKEN": "tok-1", "GOOS": "linux"}
	proj.Base.Secrets = []string{"id=tok,src=/home/me/tok", "id=envtok,env=TOK"}
	proj.Base.SSH = []string{"default"}
	sess := helloSession(t)
	sess.Fail = map[string]error{"builder": &engine.BuildError{Err: errors.New("exit code 3"), ExitCode: 3}}
	hist := &fakes.History{}
	r := Start(context.Background(), sess, proj, plans(t, proj, "builder", ""), Options{History: hist})
	follow(t, r)
	if len(hist.Records) != 2 {
		t.Fatalf("records %+v", hist.Records)
	}
	b, f := hist.Records[0], hist.Records[1]
	if b.Outcome != history.Failed || b.Error == "" || f.Outcome != history.Succeeded || f.Size != nil {
		t.Errorf("outcomes %s %q, %s", b.Outcome, b.Error, f.Outcome)
	}
	if b.BuildArgs["NPM_TOKEN"] != history.Redacted || b.BuildArgs["GOOS"] != "linux" {
		t.Errorf("build args %v", b.BuildArgs)
	}
	if strings.Join(b.Secrets, ",") != "tok,envtok" || strings.Join(b.SSH, ",") != "default" {
		t.Errorf("secrets %v ssh %v", b.Secrets, b.SSH)
	}

	sess = helloSession(t)
	sess.Hold, sess.Abrupt = 1, true
	hist = &fakes.History{}
	r = Start(context.Background(), sess, proj, plans(t, proj, ""), Options{History: hist})
	<-r.Events()
	r.Cancel()
	follow(t, r)
	if len(hist.Records) != 1 || hist.Records[0].Outcome != history.Canceled {
		t.Fatalf("canceled: %+v", hist.Records)
	}
	for _, s := range hist.Records[0].Steps {
		if s.State == string(buildgraph.StepRunning) {
			t.Errorf("a step still runs in the record: %+v", s)
		}
	}
}

// A build alone, not measured: the engine's result, no sizes (the record
// has none), the step model of the target's own graph.
func TestRunWithoutMeasuring(t *testing.T) {
	proj := recorded(t, "hello-final", "golang")
	sess := helloSession(t)
	hist := &fakes.History{}
	r := Start(context.Background(), sess, proj, plans(t, proj, "builder"), Options{History: hist})
	kinds := follow(t, r)
	if strings.Join(kinds, ",") != "pipeline.Status,pipeline.SolveEnded,pipeline.Done" {
		t.Errorf("events %v", kinds)
	}
	o := r.Outcome
	if o.Err() != nil || o.Built[0] == nil || o.Built[0].Image != "stagescope/hello-final:builder" {
		t.Fatalf("outcome %+v", o)
	}
	if o.Results[0].Size != nil || len(sess.Measured()) != 0 || len(hist.Saved) != 0 || len(hist.Records) != 1 || hist.Records[0].Size != nil {
		t.Errorf("measured or recorded without being asked: %+v %v %v", o.Results[0], sess.Measured(), hist.Saved)
	}
	if f := r.Progress.Failed(); f != nil || len(r.Progress.Steps()) == 0 {
		t.Errorf("step model: failed %v, %d steps", f, len(r.Progress.Steps()))
	}
}

// A failed build and a failed measure are results with one-line errors;
// the failed build's error is the outcome's.
func TestRunFailures(t *testing.T) {
	proj := recorded(t, "hello-final", "golang")
	sess := helloSession(t)
	sess.Fail = map[string]error{"builder": &engine.BuildError{Err: errors.New("exit code 3\ndetail"), ExitCode: 3}}
	delete(sess.Sizes, helloFinal)
	r := Start(context.Background(), sess, proj, plans(t, proj, "builder", ""), Options{Measure: true})
	follow(t, r)
	o := r.Outcome
	var be *engine.BuildError
	if !errors.As(o.Err(), &be) {
		t.Fatalf("outcome error %v, want the build error", o.Err())
	}
	if o.Results[0].Error != "build failed: exit code 3" {
		t.Errorf("builder error %q", o.Results[0].Error)
	}
	if o.Results[1].Error != "measuring: no size recorded for "+helloFinal || o.Results[1].Size != nil {
		t.Errorf("stage-1: %+v", o.Results[1])
	}
}

// Canceling ends the run with the cancelation as its error; stopping an
// abandoned run whose events nobody reads does not block it.
func TestRunCancelAndStop(t *testing.T) {
	proj := recorded(t, "hello-final", "golang")
	sess := helloSession(t)
	sess.Hold, sess.Abrupt = 1, true
	r := Start(context.Background(), sess, proj, plans(t, proj, ""), Options{Measure: true})
	ev := <-r.Events()
	if _, ok := ev.(Status); !ok {
		t.Fatalf("first event %T", ev)
	}
	r.Cancel()
	follow(t, r)
	if !errors.Is(r.Outcome.Err(), context.Canceled) {
		t.Errorf("outcome error %v", r.Outcome.Err())
	}

	sess = helloSession(t)
	r = Start(context.Background(), sess, proj, plans(t, proj, "builder", ""), Options{Measure: true})
	r.Stop()
	done := make(chan struct{})
	go func() {
		for range r.Events() {
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stopped run did not end")
	}
}

// Loading finds every input problem before an engine is asked, in one
// sentence; a plan sends the target BuildKit knows.
func TestLoadAndPlan(t *testing.T) {
	dir := t.TempDir()
	df := "FROM scratch AS one\nCOPY x /\nFROM one\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(Input{ContextDir: dir, BuildArgs: []string{"A=1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ target, send, name string }{{"", "", "stage-1"}, {"STAGE-1", "", "stage-1"}, {"one", "one", "one"}} {
		pl, err := p.Plan(tt.target, nil)
		if err != nil {
			t.Fatal(err)
		}
		if pl.Request.Target != tt.send || pl.Target != tt.name || pl.Request.BuildArgs["A"] != "1" ||
			pl.Request.Tags[0] != "stagescope/"+strings.ToLower(filepath.Base(dir))+":"+tt.name {
			t.Errorf("plan of %q: %+v", tt.target, pl)
		}
	}
	if _, err := p.Plan("two", nil); err == nil || !strings.Contains(err.Error(), "two") {
		t.Errorf("unknown target: %v", err)
	}
	for _, tt := range []struct {
		in   Input
		want string
	}{
		{Input{ContextDir: filepath.Join(dir, "missing")}, "does not exist"},
		{Input{ContextDir: dir, File: dir}, "is a directory"},
		{Input{ContextDir: dir, BuildArgs: []string{"=x"}}, "--build-arg"},
		{Input{ContextDir: dir, Contexts: []string{"novalue"}}, "--build-context"},
		{Input{ContextDir: dir, Contexts: []string{"b=" + filepath.Join(dir, "nope")}}, "does not exist"},
	} {
		_, err := Load(tt.in)
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want an input error with %q", tt.in, err, tt.want)
		}
	}
}

// With the real store: each run is recorded, and the next run's previous
// size is the newest measured record of the same target and engine kind.
func TestRunPreviousFromRecords(t *testing.T) {
	proj := recorded(t, "hello-final", "golang")
	store := history.Open(filepath.Join(t.TempDir(), history.FileName))
	now := t0
	clock := func() time.Time { return now }
	run := func() *Outcome {
		r := Start(context.Background(), helloSession(t), proj, plans(t, proj, "builder"), Options{Measure: true, History: store, Now: clock})
		follow(t, r)
		if err := r.Outcome.Recorded(); err != nil {
			t.Fatal(err)
		}
		return r.Outcome
	}
	first := run()
	if first.Results[0].Previous != nil {
		t.Errorf("a previous size before any record: %+v", first.Results[0].Previous)
	}
	now = t0.Add(time.Hour)
	second := run()
	prev := second.Results[0].Previous
	if prev == nil || prev.Uncompressed != 283_400_000 || !prev.At.Equal(t0) || prev.Engine != "buildkitd" {
		t.Errorf("previous %+v, want the first run's", prev)
	}
	list, err := store.List(history.Filter{})
	if err != nil || len(list) != 2 || list[0].ID != second.Records[0].ID {
		t.Fatalf("records %+v %v", list, err)
	}
	rec, err := store.Get(first.Records[0].ID[:7])
	if err != nil || len(rec.Steps) == 0 || rec.Size == nil || len(rec.Size.Layers) != 4 || rec.Breakdown == nil {
		t.Errorf("first record %+v %v", rec, err)
	}
}

// The images of several targets are measured at the same time, and each
// tells its progress before its result: the face shows measuring as a
// phase of its own, with the bytes read of the total.
func TestRunMeasuresTogether(t *testing.T) {
	proj := recorded(t, "hello-final", "golang")
	sess := helloSession(t)
	sess.Together = &sync.WaitGroup{}
	sess.Together.Add(2) // a Measure waits for the other: sequential measuring never ends
	r := Start(context.Background(), sess, proj, plans(t, proj, "builder", "stage-1"), Options{Measure: true})
	progressed := map[int]bool{}
	for ev := range r.Events() {
		r.Apply(ev)
		switch ev := ev.(type) {
		case MeasureProgress:
			progressed[ev.Target] = true
			if r.Phase != Measuring {
				t.Errorf("progress in phase %v", r.Phase)
			}
		case Measured:
			if !progressed[ev.Target] {
				t.Errorf("target %d measured with no progress before", ev.Target)
			}
		}
	}
	if r.Outcome.Err() != nil {
		t.Fatal(r.Outcome.Err())
	}
	done, total, _ := r.MeasureTotals()
	if want := sess.Sizes[helloBuilder].Compressed + sess.Sizes[helloFinal].Compressed; total == 0 || done != total || total != want {
		t.Errorf("measured %d of %d bytes, want %d of %d", done, total, want, want)
	}
}
