package tui

import (
	"bytes"
	"context"
	"errors"
	"github.com/stagescope/stagescope/buildgraph"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/pipeline"
)

func startProgram(t *testing.T, sess pipeline.Session, hist pipeline.History) (*teatest.TestModel, *Model) {
	t.Helper()
	clock := &testClock{now: t0}
	m := New(Options{
		Project: project(t, "hello-final", "golang"),
		Connect: func(context.Context) (pipeline.Session, error) { return sess, nil },
		History: hist,
		Now:     clock.Now,
		Dark:    true,
	})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
	return tm, m
}

func waitFor(t *testing.T, tm *teatest.TestModel, what string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(what)) },
		teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func sendKeys(tm *teatest.TestModel, keys ...string) {
	for _, k := range keys {
		tm.Send(keyMsg(k))
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFlowBuildAndCompare is what a newcomer does: pick builder, build it,
// pick the final stage, build it, and compare the sizes. The builds replay
// recorded status streams through the engine's status channel.
func TestFlowBuildAndCompare(t *testing.T) {
	sess := helloSession(t)
	sess.Delay = time.Millisecond
	hist := &fakes.History{}
	tm, _ := startProgram(t, sess, hist)
	waitFor(t, tm, "● buildkitd") // connected
	sendKeys(tm, "k", "enter")
	waitFor(t, tm, "283MB")
	sendKeys(tm, "esc", "j", "b")
	waitFor(t, tm, "2.4MB")
	sendKeys(tm, "c")
	waitFor(t, tm, "largest")
	sendKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	m := tm.FinalModel(t).(*Model)
	out := screenText(m)
	for _, want := range []string{"★ stage-1", "283MB", "2.4MB", "largest", "Where the weight of stage-1 comes from", "copied from builder"} {
		if !strings.Contains(out, want) {
			t.Errorf("compare screen lacks %q:\n%s", want, out)
		}
	}
	if len(hist.Saved) != 2 || hist.Saved["buildkitd/builder"].Uncompressed != 283_400_000 {
		t.Errorf("saved results %v, want builder and stage-1 under buildkitd/", hist.Saved)
	}
}

// TestFlowCancel cancels a build with ctrl+c: the first press cancels the
// build and keeps the program, the second quits.
func TestFlowCancel(t *testing.T) {
	sess := helloSession(t)
	sess.Hold = 40
	tm, _ := startProgram(t, sess, nil)
	waitFor(t, tm, "● buildkitd")
	sendKeys(tm, "enter")
	waitFor(t, tm, "load from client")
	sendKeys(tm, "ctrl+c")
	waitFor(t, tm, "canceled")
	sendKeys(tm, "ctrl+c")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	m := tm.FinalModel(t).(*Model)
	if m.run == nil || !m.run.canceled || m.run.Outcome == nil || !errors.Is(m.run.Outcome.Err(), context.Canceled) {
		t.Fatalf("the build was not canceled: %+v", m.run)
	}
	if out := screenText(m); !strings.Contains(out, "canceled") {
		t.Errorf("the screen does not say the build was canceled:\n%s", out)
	}
}

// TestStaleMessagesDropped starts a second build while the first runs: the
// first's updates and outcome must not touch the second.
func TestStaleMessagesDropped(t *testing.T) {
	sess := helloSession(t)
	sess.Hold = 30
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: sess}, 100, 30)
	press(t, m, "enter")
	first := m.run
	drain(t, m, 10)
	press(t, m, "esc", "k", "b") // builder, while the first build runs
	second := m.run
	if second == first || second.id == first.id {
		t.Fatal("no new build")
	}
	if !strings.Contains(m.notice, "Canceled the build of stage-1") {
		t.Errorf("notice %q does not say the first build was canceled", m.notice)
	}
	before := len(second.Progress.Steps())
	var stale []pipeline.Event
	for _, s := range fakes.Stream(t, "hello-final") {
		stale = append(stale, pipeline.Status{Status: s})
	}
	m.Update(eventsMsg{id: first.id, events: stale})
	m.Update(eventsMsg{id: first.id, events: []pipeline.Event{pipeline.Done{Outcome: &pipeline.Outcome{Errs: []error{errors.New("stale")}}}}})
	if got := len(second.Progress.Steps()); got != before {
		t.Errorf("a stale update reached the current build: %d steps, was %d", got, before)
	}
	if second.Outcome != nil || !second.running() {
		t.Error("a stale outcome ended the current build")
	}
	// The abandoned build's goroutines must not block: its stream ends.
	done := make(chan struct{})
	go func() {
		for range first.Events() {
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the abandoned build did not end")
	}
	m.shutdown()
}

// TestRetryConnects shows that a build asked for without an engine
// connects when the user retries, without restarting.
func TestRetryConnects(t *testing.T) {
	sess := helloSession(t)
	var fail = true
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang")}, 100, 30)
	m.opts.Connect = func(context.Context) (pipeline.Session, error) {
		if fail {
			return nil, unreachable
		}
		return sess, nil
	}
	m.Update(connectMsg{err: unreachable})
	press(t, m, "enter")
	if !strings.Contains(screenText(m), "No engine answered") {
		t.Fatalf("no sentence about the engine:\n%s", screenText(m))
	}
	fail = false
	press(t, m, "r")
	if m.run == nil {
		t.Fatalf("retry did not build:\n%s", screenText(m))
	}
	drain(t, m, -1)
	if !strings.Contains(screenText(m), "✓ built") {
		t.Errorf("the build did not finish:\n%s", screenText(m))
	}
}

// TestResize redraws at every size, including below the minimum.
func TestResize(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}, 100, 30)
	press(t, m, "enter")
	drain(t, m, -1)
	for _, sz := range [][2]int{{60, 15}, {59, 15}, {200, 60}, {61, 16}, {80, 24}} {
		m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		for _, s := range []string{"esc", "c", "l"} {
			press(t, m, s)
			out := screenText(m)
			if sz[0] >= MinWidth && sz[1] >= MinHeight {
				checkFrame(t, out, sz[0], sz[1])
			} else if !strings.Contains(out, "too small") {
				t.Errorf("%v: no notice", sz)
			}
		}
	}
}

var _ = client.SolveStatus{}

// Saved results that load before the engine answers show once it does:
// on the compare screen and on the graph, without a build.
func TestSavedBeforeConnect(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang")}, 120, 30)
	m.Update(savedMsg{saved: map[string]buildgraph.SavedSize{
		"buildkitd/builder": {Uncompressed: 270_088_363, Compressed: 77_868_668, At: t0, Engine: "buildkitd"},
		"buildkitd/stage-1": {Uncompressed: 2_397_198, Compressed: 1_430_280, At: t0, Engine: "buildkitd"},
	}})
	m.Update(connectMsg{session: helloSession(t)})
	if graph := screenText(m); !strings.Contains(graph, "270MB") || !strings.Contains(graph, "2.4MB") {
		t.Errorf("the graph shows no saved size:\n%s", graph)
	}
	press(t, m, "c")
	if cmp := screenText(m); !strings.Contains(cmp, "builder") || !strings.Contains(cmp, "2.4MB") {
		t.Errorf("the compare screen shows no saved result:\n%s", cmp)
	}
}
