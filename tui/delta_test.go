package tui

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/pipeline"
)

// finish applies the current build's events and runs the command the
// outcome returns (the records' look-up for the delta line).
func finish(t *testing.T, m *Model) {
	t.Helper()
	r := m.run
	for ev := range r.Events() {
		_, cmd := m.Update(eventsMsg{id: r.id, events: []pipeline.Event{ev}})
		if _, done := ev.(pipeline.Done); done && cmd != nil {
			run(m, cmd)
		}
	}
	// The records are written behind Done; the next build reads them.
	_ = r.Outcome.Recorded()
}

// run runs cmd and the commands of a batch, and hands their messages to m.
func run(m *Model, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			run(m, c)
		}
	case nil:
	default:
		m.Update(msg)
	}
}

// The first build of a target in a session says what changed since the
// newest build of it the records hold, layer by layer.
func TestDeltaFromTheRecords(t *testing.T) {
	store := history.Open(filepath.Join(t.TempDir(), "builds.db"))
	first, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t), history: store}, 160, 48)
	press(t, first, "enter")
	finish(t, first)
	if got := first.notice; !strings.HasPrefix(got, "Built stage-1") {
		t.Fatalf("first build ever: %q, want no delta", got)
	}
	session := helloSession(t)
	for _, s := range session.Sizes {
		s.Layers = append([]buildgraph.Layer(nil), s.Layers...)
		s.Layers[1].Size += 1200
		s.Uncompressed += 1200
	}
	second, clock := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: session, history: store}, 160, 48)
	clock.Set(t0.Add(time.Hour))
	press(t, second, "enter")
	finish(t, second)
	want := "Δ stage-1 +1.2kB (2.4MB) · COPY /app/hello . +1.2kB · 12.3s (±0s)"
	if got := second.notice; !strings.HasPrefix(got, want) {
		t.Errorf("notice %q, want it to start with %q", got, want)
	}
}

// Of several Dockerfiles, the previous build of a target is the same
// target of the same file, and the delta line names the file: another
// file's stage-0 is not it.
func TestDeltaOfSeveralDockerfiles(t *testing.T) {
	size := func(n int64) *buildgraph.ImageSize { return &buildgraph.ImageSize{Uncompressed: n} }
	prevs := []buildgraph.TargetResult{
		{Name: "java-single-stage", Target: "stage-0", Size: size(374_000_000)},
		{Name: "java-builder-pattern", Target: "stage-0", Size: size(295_000_000)},
	}
	cur := buildgraph.TargetResult{Name: "java-builder-pattern", Target: "stage-0", Size: size(296_000_000)}
	r := &buildRun{Run: &pipeline.Run{Progress: buildgraph.NewProgress(nil), Outcome: &pipeline.Outcome{Results: []buildgraph.TargetResult{cur}}}}
	prev := sessionPrevious(prevs, r)
	if prev == nil || prev.Name != "java-builder-pattern" {
		t.Fatalf("previous %+v", prev)
	}
	if line := deltaLine(prev, r); !strings.HasPrefix(line, "Δ java-builder-pattern:stage-0 +1MB (296MB)") {
		t.Errorf("delta line %q", line)
	}
}
