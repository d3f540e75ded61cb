package tui

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/pipeline"
)

// One frame of the build screen while a log-heavy step runs, as the program
// makes it: the model's View, then the renderer's parse of that frame into
// cells and its diff against the previous frame. Frames alternate between
// the two messages that cause them during a build: a spinner tick (the
// clock moves) and a status batch (the running step logs more lines).
// view-to-renderer compares the part stagescope controls, the View, with
// the renderer's work on the same frame.
func BenchmarkBuildFrame(b *testing.B) {
	for _, size := range []struct{ w, h int }{{120, 40}, {200, 60}} {
		b.Run(fmtSize(size.w, size.h), func(b *testing.B) {
			m, clock := newModel(b, modelOpts{proj: project(b, "log-heavy", "busybox"), session: &fakes.Session{
				Engine:  "buildkitd",
				Streams: map[string][]*client.SolveStatus{"": fakes.Stream(b, "log-heavy")},
			}}, size.w, size.h)
			press(b, m, "b")
			drain(b, m, 20)
			buf := uv.NewScreenBuffer(size.w, size.h)
			scr := uv.NewTerminalRenderer(io.Discard, []string{"TERM=xterm-256color"})
			scr.SetFullscreen(true)
			focus := m.build().focus
			if st := m.run.Progress.Step(focus); st == nil || st.State != buildgraph.StepRunning {
				b.Fatalf("the focused step %q is not running", focus)
			}
			chunk := []byte(strings.Repeat("flood line of the build output, padded to be a bit longer than usual\n", 200))
			var view, render time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				clock.Set(clock.Now().Add(50 * time.Millisecond))
				if i%2 == 0 {
					m.Update(tickMsg{id: m.run.id})
				} else {
					m.Update(eventsMsg{id: m.run.id, events: []pipeline.Event{pipeline.Status{Status: &client.SolveStatus{
						Logs: []*client.VertexLog{{Vertex: focus, Stream: 1, Data: chunk, Timestamp: clock.Now()}},
					}}}})
				}
				t0 := time.Now()
				v := m.View()
				t1 := time.Now()
				buf.Clear()
				uv.NewStyledString(v.Content).Draw(buf, buf.Bounds())
				scr.Render(buf.RenderBuffer)
				if err := scr.Flush(); err != nil {
					b.Fatal(err)
				}
				view += t1.Sub(t0)
				render += time.Since(t1)
			}
			b.ReportMetric(float64(view.Microseconds())/float64(b.N), "view-µs/frame")
			b.ReportMetric(float64(render.Microseconds())/float64(b.N), "renderer-µs/frame")
			b.ReportMetric(float64(view)/float64(render), "view-to-renderer")
		})
	}
}

func fmtSize(w, h int) string { return fmt.Sprintf("%dx%d", w, h) }

// The drawings the build screen keeps (log pane, step rows, header) never
// show a stale frame: after every update, key and tick of a build, the
// frame equals one drawn from scratch, and one whose log pane is the
// viewport's own drawing.
func TestKeptDrawingsMatchFresh(t *testing.T) {
	for _, name := range []string{"log-heavy", "hello"} {
		t.Run(name, func(t *testing.T) {
			o := modelOpts{proj: project(t, "log-heavy", "busybox"), session: &fakes.Session{
				Engine:  "buildkitd",
				Streams: map[string][]*client.SolveStatus{"": fakes.Stream(t, "log-heavy")},
			}}
			if name == "hello" {
				o = modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}
			}
			m, clock := newModel(t, o, 100, 30)
			check := func(when string) {
				t.Helper()
				kept := m.View().Content
				m.build().drawn = &buildDrawings{}
				m.headerDrawn = ""
				if fresh := m.View().Content; fresh != kept {
					t.Fatalf("%s: the kept drawing differs from a fresh one:\n%s\n---\n%s", when, ansi.Strip(kept), ansi.Strip(fresh))
				}
				// The tail drawn while following is what the viewport shows.
				tail := m.build().logsTail
				m.build().logsTail = nil
				m.build().drawn = &buildDrawings{}
				if viewport := m.View().Content; viewport != kept {
					t.Fatalf("%s: the followed tail differs from the viewport's drawing:\n%s\n---\n%s", when, ansi.Strip(kept), ansi.Strip(viewport))
				}
				m.build().logsTail = tail
			}
			press(t, m, "b")
			check("build started")
			keys := []string{"j", "k", "tab", "up", "down", "tab", "n", "n"}
			r := m.run
			i := 0
			for ev := range r.Events() {
				st, ok := ev.(pipeline.Status)
				if !ok {
					m.Update(eventsMsg{id: r.id, events: []pipeline.Event{ev}})
					check(fmt.Sprintf("%T", ev))
					continue
				}
				s := st.Status
				// The clock follows the recording, so running steps' durations
				// move between frames.
				for _, v := range s.Vertexes {
					for _, at := range []*time.Time{v.Started, v.Completed} {
						if at != nil && at.After(clock.Now()) {
							clock.Set(*at)
						}
					}
				}
				m.Update(eventsMsg{id: r.id, events: []pipeline.Event{ev}})
				check(fmt.Sprintf("update %d", i))
				clock.Set(clock.Now().Add(150 * time.Millisecond))
				m.Update(tickMsg{id: r.id})
				check(fmt.Sprintf("tick after update %d", i))
				// Keys move the focus off the step that logs: only late.
				if i >= 24 {
					press(t, m, keys[i%len(keys)])
					check(fmt.Sprintf("key %q after update %d", keys[i%len(keys)], i))
				}
				i++
			}
			m.Update(tea.WindowSizeMsg{Width: 140, Height: 40})
			check("resized")
		})
	}
}
