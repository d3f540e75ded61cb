package tui

import (
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/internal/crash"
)

func crashModel(t *testing.T) (guard, *atomic.Int32) {
	t.Helper()
	m := New(Options{Project: project(t, "hello-final", "golang"), Dark: true})
	var stops atomic.Int32
	m.crash.setStop(func() { stops.Add(1) })
	return guard{m: m, box: m.crash}, &stops
}

// A panic in the model's View or Update, or in a command (alone, in a
// batch, in a sequence), is kept and stops the program; the guard then
// no longer calls the model.
func TestGuardKeepsPanics(t *testing.T) {
	boom := func() tea.Msg { panic("boom") }
	for _, tc := range []struct {
		name string
		run  func(g guard)
	}{
		{"view", func(g guard) {
			testHookView = func() { panic("boom") }
			defer func() { testHookView = nil }()
			if v := g.View(); !v.AltScreen || v.Content != "" {
				t.Errorf("view after a panic: %+v", v)
			}
		}},
		{"update", func(g guard) {
			testHookUpdate = func(*Model, tea.Msg) tea.Cmd { panic("boom") }
			defer func() { testHookUpdate = nil }()
			if next, cmd := g.Update(tea.KeyPressMsg{}); next == nil || cmd != nil {
				t.Errorf("update after a panic: %v %v", next, cmd)
			}
		}},
		{"cmd", func(g guard) {
			if msg := g.box.wrap(boom)(); msg != nil {
				t.Errorf("msg %v", msg)
			}
		}},
		{"batch", func(g guard) {
			batch, ok := g.box.wrap(tea.Batch(tea.RequestWindowSize, boom))().(tea.BatchMsg)
			if !ok || len(batch) != 2 {
				t.Fatalf("batch %v", batch)
			}
			batch[1]()
		}},
		{"sequence", func(g guard) {
			// tea.Sequence's message type is unexported: a slice of commands.
			seq := reflect.ValueOf(g.box.wrap(tea.Sequence(tea.RequestWindowSize, boom))())
			if seq.Kind() != reflect.Slice || seq.Len() != 2 {
				t.Fatalf("sequence %v", seq)
			}
			seq.Index(1).Interface().(tea.Cmd)()
		}},
		{"engine", func(g guard) {
			g.box.check(&crash.Error{Value: "boom"})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, stops := crashModel(t)
			tc.run(g)
			bug := g.box.crashed()
			if bug == nil || bug.Value != "boom" {
				t.Fatalf("kept %v, want the panic", bug)
			}
			if tc.name != "engine" && !strings.Contains(string(bug.Stack), "crash_test.go") {
				t.Errorf("stack is not the panicking goroutine's:\n%s", bug.Stack)
			}
			if g.box.check(errors.New("another")); g.box.crashed() != bug {
				t.Error("a later problem replaced the first panic")
			}
			if v := g.View(); v.Content != "" {
				t.Errorf("the model is still drawn after a panic")
			}
			for range 100 {
				if stops.Load() == 1 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			if n := stops.Load(); n != 1 {
				t.Errorf("program stopped %d times, want once", n)
			}
		})
	}
}
