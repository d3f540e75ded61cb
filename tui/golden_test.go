package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/pipeline"
)

// keyMsg makes the key press a terminal sends for k ("j", "enter", "ctrl+c").
func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// press sends keys to the model synchronously, running the commands that
// carry intents (build, logs, retry, connect) but not the ones that wait
// on a build, which tests drive with drain.
func press(t testing.TB, m *Model, keys ...string) {
	t.Helper()
	for _, k := range keys {
		_, cmd := m.Update(keyMsg(k))
		runIntents(m, cmd)
	}
}

func runIntents(m *Model, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case buildTargetsMsg, showLogsMsg, retryMsg, connectMsg, savedMsg, noticeMsg:
		_, next := m.Update(msg)
		runIntents(m, next)
	}
}

// drain applies the current build's updates through the messages the
// program would get: all of them and the outcome, or only the first limit.
func drain(t testing.TB, m *Model, limit int) {
	t.Helper()
	r := m.run
	if r == nil {
		t.Fatal("no build runs")
	}
	n := 0
	for ev := range r.Events() {
		m.Update(eventsMsg{id: r.id, events: []pipeline.Event{ev}})
		if _, ok := ev.(pipeline.Status); ok {
			if n++; n == limit {
				return
			}
		}
	}
}

type modelOpts struct {
	proj       *pipeline.Project
	session    pipeline.Session
	connectErr error
	history    pipeline.History
}

func newModel(t testing.TB, o modelOpts, w, h int) (*Model, *testClock) {
	t.Helper()
	clock := &testClock{now: t0}
	m := New(Options{
		Project: o.proj,
		Connect: func(context.Context) (pipeline.Session, error) {
			if o.connectErr != nil {
				return nil, o.connectErr
			}
			return o.session, nil
		},
		History: o.history,
		Now:     clock.Now,
		Dark:    true,
	})
	t.Cleanup(m.shutdown)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	if o.connectErr != nil {
		m.Update(connectMsg{err: o.connectErr})
	} else if o.session != nil {
		m.Update(connectMsg{session: o.session})
	}
	if o.history != nil {
		saved, _ := o.history.Load(o.proj.Dockerfile)
		m.Update(savedMsg{saved: saved})
	}
	return m, clock
}

// manyStages is a Dockerfile of n stages with base and copy edges.
func manyStages(n int) []byte {
	var b strings.Builder
	b.WriteString("FROM alpine:3.20 AS s0\nRUN echo 0 > /f\n")
	for i := 1; i < n; i++ {
		switch {
		case i%5 == 0:
			fmt.Fprintf(&b, "FROM debian:12 AS s%d\nCOPY --from=s%d /f /f%d\n", i, i-3, i)
		case i%7 == 0:
			fmt.Fprintf(&b, "FROM scratch AS s%d\nCOPY --from=s%d /f /\nCOPY --from=s%d /f /g\n", i, i-1, i-6)
		default:
			fmt.Fprintf(&b, "FROM s%d AS s%d\nRUN echo %d >> /f\n", i-1, i, i)
		}
	}
	b.WriteString("FROM scratch\nCOPY --from=s" + fmt.Sprint(n-1) + " /f /\n")
	return []byte(b.String())
}

func manyProject(t testing.TB) *pipeline.Project {
	src := manyStages(210)
	g, err := buildgraph.Parse(src, buildgraph.Options{Filename: "many/Dockerfile"})
	if err != nil {
		t.Fatal(err)
	}
	return &pipeline.Project{Dockerfile: "many/Dockerfile", Source: src, Graph: g}
}

var unreachable = &engine.UnreachableError{Kind: engine.KindDocker, Addr: "unix:///var/run/docker.sock",
	Err: errors.New("dial unix /var/run/docker.sock: connect: no such file or directory")}

// TestScreens renders every screen and state at 80×24 and 160×48 and
// compares the text (styles stripped) with golden files; -update rewrites
// them.
func TestScreens(t *testing.T) {
	hello := func(t *testing.T) modelOpts {
		return modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}
	}
	failing := func(t *testing.T) modelOpts {
		return modelOpts{proj: project(t, "failing", "busybox"), session: &fakes.Session{
			Engine:  "buildkitd",
			Streams: map[string][]*client.SolveStatus{"test": fakes.Stream(t, "failing")},
			Fail: map[string]error{"test": &engine.BuildError{
				Err: errors.New("process did not complete successfully"), ExitCode: 3,
				Step: `[test 2/3] RUN echo "about to fail" && echo "really failing" >&2 && exit 3`,
			}},
		}}
	}
	tests := []struct {
		name string
		opts func(t *testing.T) modelOpts
		do   func(t *testing.T, m *Model)
	}{
		{"graph", hello, nil},
		{"graph-builder-focused", hello, func(t *testing.T, m *Model) { press(t, m, "k", "tab") }},
		{"graph-no-engine", func(t *testing.T) modelOpts {
			o := hello(t)
			o.session, o.connectErr = nil, unreachable
			return o
		}, nil},
		{"graph-filter-empty", hello, func(t *testing.T, m *Model) { press(t, m, "/", "z", "z", "z") }},
		{"graph-200-stages", func(t *testing.T) modelOpts { return modelOpts{proj: manyProject(t)} },
			func(t *testing.T, m *Model) {
				press(t, m, "g")
				for range 104 {
					press(t, m, "j")
				}
			}},
		{"graph-during-build", hello, func(t *testing.T, m *Model) {
			m.session.(*fakes.Session).Hold = 60
			press(t, m, "enter")
			drain(t, m, 60)
			press(t, m, "esc")
		}},
		{"build-empty", hello, func(t *testing.T, m *Model) { press(t, m, "l") }},
		{"build-no-engine", func(t *testing.T) modelOpts {
			o := hello(t)
			o.session, o.connectErr = nil, unreachable
			return o
		}, func(t *testing.T, m *Model) { press(t, m, "enter") }},
		{"build-running", hello, func(t *testing.T, m *Model) {
			m.session.(*fakes.Session).Hold = 60
			press(t, m, "enter")
			drain(t, m, 60)
		}},
		{"build-canceled", hello, func(t *testing.T, m *Model) {
			m.session.(*fakes.Session).Hold = 60
			press(t, m, "enter")
			drain(t, m, 60)
			press(t, m, "x")
			drain(t, m, -1)
		}},
		{"build-done", hello, func(t *testing.T, m *Model) {
			press(t, m, "enter")
			drain(t, m, -1)
		}},
		{"build-failed", failing, func(t *testing.T, m *Model) {
			press(t, m, "enter")
			drain(t, m, -1)
		}},
		// The failing step is BuildKit's metadata load of a FROM image, in
		// no stage: the Dockerfile lines come from the error's location.
		{"build-failed-base", func(t *testing.T) modelOpts {
			proj := project(t, "bad-base", "busybox")
			return modelOpts{proj: proj, session: &fakes.Session{
				Engine:  "buildkitd",
				Streams: map[string][]*client.SolveStatus{"app": fakes.Stream(t, "bad-base")},
				Fail: map[string]error{"app": &engine.BuildError{
					Err:      errors.New("failed to resolve source metadata for example.invalid/runtime:1"),
					ExitCode: -1,
					Step:     "[internal] load metadata for example.invalid/runtime:1",
					Sources: []*errdefs.Source{{
						Info:   &pb.SourceInfo{Filename: "Dockerfile", Data: proj.Source},
						Ranges: []*pb.Range{{Start: &pb.Position{Line: 4}, End: &pb.Position{Line: 4}}},
					}},
				}},
			}}
		}, func(t *testing.T, m *Model) {
			press(t, m, "enter")
			drain(t, m, -1)
		}},
		// The Dockerfile was edited into a syntax error before r: BuildKit's
		// frontend fails after the steps that load it succeeded, with no
		// step of its own; the error shows like a failed step's.
		{"build-syntax-error", func(t *testing.T) modelOpts {
			o := hello(t)
			edited := strings.Replace(string(o.proj.Source), "RUN go build", "RUNN go build", 1)
			sess := o.session.(*fakes.Session)
			sess.Streams[""] = fakes.Stream(t, "hello-final")[:6]
			sess.Fail = map[string]error{"": &engine.BuildError{
				Err:      errors.New("failed to solve: dockerfile parse error on line 5: unknown instruction: RUNN (did you mean RUN?)"),
				ExitCode: -1,
				Sources: []*errdefs.Source{{
					Info:   &pb.SourceInfo{Filename: "Dockerfile", Data: []byte(edited)},
					Ranges: []*pb.Range{{Start: &pb.Position{Line: 5}, End: &pb.Position{Line: 5}}},
				}},
			}}
			return o
		}, func(t *testing.T, m *Model) {
			press(t, m, "enter")
			drain(t, m, -1)
		}},
		{"build-logs-untrusted", func(t *testing.T) modelOpts {
			return modelOpts{proj: project(t, "log-heavy", "busybox"), session: &fakes.Session{
				Engine:  "buildkitd",
				Streams: map[string][]*client.SolveStatus{"": fakes.Stream(t, "log-heavy")},
			}}
		}, func(t *testing.T, m *Model) {
			press(t, m, "enter")
			drain(t, m, -1)
			// Focus the RUN step and show its logs full screen.
			press(t, m, "g", "l", "g")
		}},
		// A search in the failed step's log: the match and its count.
		{"build-logs-search", failing, func(t *testing.T, m *Model) {
			press(t, m, "enter")
			drain(t, m, -1)
			press(t, m, "l", "/", "r", "e", "a", "l", "l", "y", "enter")
		}},
		// A filter kept with enter: esc clears it, and the help says so.
		{"graph-filter-kept", hello, func(t *testing.T, m *Model) { press(t, m, "/", "b", "u", "enter") }},
		{"compare-empty", hello, func(t *testing.T, m *Model) { press(t, m, "c") }},
		{"compare", hello, func(t *testing.T, m *Model) {
			press(t, m, "k", "enter")
			drain(t, m, -1)
			press(t, m, "esc", "j", "enter")
			drain(t, m, -1)
			press(t, m, "c")
		}},
		// Measuring after the first build: how far it is, not "nothing to
		// compare yet".
		{"compare-measuring", hello, func(t *testing.T, m *Model) {
			m.session.(*fakes.Session).HoldMeasure = true
			press(t, m, "enter")
			drainToMeasuring(t, m)
			press(t, m, "c")
		}},
		// Measuring with sizes of an earlier build on the table.
		{"compare-measuring-more", hello, func(t *testing.T, m *Model) {
			press(t, m, "k", "enter")
			drain(t, m, -1)
			m.session.(*fakes.Session).HoldMeasure = true
			press(t, m, "esc", "j", "enter")
			drainToMeasuring(t, m)
			press(t, m, "c")
		}},
		{"compare-compressed", hello, func(t *testing.T, m *Model) {
			press(t, m, "enter")
			drain(t, m, -1)
			press(t, m, "esc", "k", "enter")
			drain(t, m, -1)
			press(t, m, "c", "s")
		}},
		// Docker's classic store knows no compressed size: "-" and why,
		// once, not "?" and a breakdown of 0B 0%.
		{"compare-compressed-unknown", func(t *testing.T) modelOpts {
			o := hello(t)
			sess := o.session.(*fakes.Session)
			for ref, size := range sess.Sizes {
				c := *size
				c.Compressed, c.CompressedNote, c.Store = buildgraph.Unknown, "not known to Docker's classic image store before a push", "docker classic image store"
				c.Layers = append([]buildgraph.Layer(nil), size.Layers...)
				for i := range c.Layers {
					c.Layers[i].Compressed = buildgraph.Unknown
				}
				sess.Sizes[ref] = &c
			}
			sess.Engine = "docker"
			return o
		}, func(t *testing.T, m *Model) {
			press(t, m, "enter")
			drain(t, m, -1)
			press(t, m, "esc", "k", "enter")
			drain(t, m, -1)
			press(t, m, "c", "s")
		}},
		// The build on a time axis, from the build screen and, with its
		// steps, from the compare screen.
		{"timeline", hello, func(t *testing.T, m *Model) {
			press(t, m, "enter")
			drain(t, m, -1)
			press(t, m, "T")
		}},
		{"timeline-steps", hello, func(t *testing.T, m *Model) {
			press(t, m, "enter")
			drain(t, m, -1)
			press(t, m, "c", "T", "s")
		}},
		// While the build runs: the axis ends at the latest time known.
		{"timeline-running", hello, func(t *testing.T, m *Model) {
			m.session.(*fakes.Session).Hold = 60
			press(t, m, "enter")
			drain(t, m, 60)
			press(t, m, "T", "s")
		}},
		{"timeline-empty", hello, func(t *testing.T, m *Model) { press(t, m, "T") }},
		{"compare-saved", func(t *testing.T) modelOpts {
			o := hello(t)
			o.history = &fakes.History{Saved: map[string]buildgraph.SavedSize{
				"buildkitd/builder": {Uncompressed: 280_000_000, Compressed: 97_000_000, At: t0.Add(-26 * 3600e9), Engine: "buildkitd"},
				"docker/stage-1":    {Uncompressed: 2_000_000, Compressed: 1_000_000, At: t0.Add(-3600e9), Engine: "docker"},
			}}
			return o
		}, func(t *testing.T, m *Model) {
			press(t, m, "enter")
			drain(t, m, -1)
			press(t, m, "c")
		}},
		{"help", hello, func(t *testing.T, m *Model) { press(t, m, "?") }},
		{"help-build", hello, func(t *testing.T, m *Model) { press(t, m, "l", "?") }},
	}
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s-%dx%d", tt.name, size[0], size[1]), func(t *testing.T) {
				m, _ := newModel(t, tt.opts(t), size[0], size[1])
				if tt.do != nil {
					tt.do(t, m)
				}
				out := screenText(m)
				checkFrame(t, out, size[0], size[1])
				golden.RequireEqual(t, out)
			})
		}
	}
}

// drainToMeasuring applies the current build's events until its images
// are being measured, with a measuring time of 2.1s whatever the clock.
func drainToMeasuring(t testing.TB, m *Model) {
	t.Helper()
	r := m.run
	for ev := range r.Events() {
		if mp, ok := ev.(pipeline.MeasureProgress); ok {
			mp.Elapsed = 2100 * time.Millisecond
			m.Update(eventsMsg{id: r.id, events: []pipeline.Event{mp}})
			if mp.Done > 0 {
				m.tickViews()
				return
			}
			continue
		}
		m.Update(eventsMsg{id: r.id, events: []pipeline.Event{ev}})
	}
	t.Fatal("the build ended before measuring")
}

// checkFrame checks that a frame fills the terminal exactly and no line
// is wider than it.
func checkFrame(t *testing.T, out string, w, h int) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) != h {
		t.Errorf("frame has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := len([]rune(l)); n > w {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, n, w, l)
		}
	}
}

func TestTooSmall(t *testing.T) {
	for _, size := range [][2]int{{59, 24}, {80, 14}, {20, 5}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang")}, size[0], size[1])
			out := screenText(m)
			if !strings.Contains(out, "too small") && !strings.Contains(out, "small") {
				t.Errorf("no notice in %q", out)
			}
			golden.RequireEqual(t, out)
		})
	}
}

// TestLogsNeutralised checks that escape sequences in build logs never
// reach the terminal: no clipboard writes, title changes, cursor moves or
// screen clears, whatever the log holds.
func TestLogsNeutralised(t *testing.T) {
	evil := "\x1b]52;c;ZXZpbA==\x07 \x1b]0;pwned\x07 \x1b[2J\x1b[H \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x1b[10;10H \xff\xfe bad\n"
	d := "sha256:0000000000000000000000000000000000000000000000000000000000000001"
	started := t0
	ss := []*client.SolveStatus{
		{Vertexes: []*client.Vertex{{Digest: digest.Digest(d), Name: "[1/2] RUN evil", Started: &started}}},
		{Logs: []*client.VertexLog{{Vertex: digest.Digest(d), Stream: 1, Data: []byte(evil)}}},
	}
	proj := project(t, "log-heavy", "busybox")
	sess := &fakes.Session{Engine: "buildkitd", Streams: map[string][]*client.SolveStatus{"": ss}}
	m, _ := newModel(t, modelOpts{proj: proj, session: sess}, 100, 30)
	press(t, m, "enter")
	drain(t, m, 2)
	out := m.render()
	for _, bad := range []string{"\x1b]52", "\x1b]0;", "\x1b[2J", "\x1b[H", "\x1b]8;;http", "\x1b[10;10H", "\xff"} {
		if strings.Contains(out, bad) {
			t.Errorf("frame contains %q", bad)
		}
	}
	if !strings.Contains(ansi.Strip(out), "bad") || !strings.Contains(ansi.Strip(out), "link") {
		t.Errorf("the harmless text of the log is missing:\n%s", ansi.Strip(out))
	}
	drain(t, m, -1)
}

// TestLogsFollowAndScroll checks the log pane over a long log: following
// shows the newest lines, scrolling reaches older ones (the viewport then
// holds the whole kept log), and G returns to following.
func TestLogsFollowAndScroll(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 3000; i++ {
		fmt.Fprintf(&b, "line %04d\n", i)
	}
	d := "sha256:0000000000000000000000000000000000000000000000000000000000000002"
	started := t0
	ss := []*client.SolveStatus{
		{Vertexes: []*client.Vertex{{Digest: digest.Digest(d), Name: "[1/2] RUN chatty", Started: &started}}},
		{Logs: []*client.VertexLog{{Vertex: digest.Digest(d), Stream: 1, Data: []byte(b.String())}}},
	}
	proj := project(t, "log-heavy", "busybox")
	sess := &fakes.Session{Engine: "buildkitd", Streams: map[string][]*client.SolveStatus{"": ss}}
	m, _ := newModel(t, modelOpts{proj: proj, session: sess}, 100, 30)
	press(t, m, "enter")
	drain(t, m, 2)
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "line 3000") || !strings.Contains(screen, "following") {
		t.Fatalf("following should show the last line:\n%s", screen)
	}
	press(t, m, "tab", "pgup", "pgup")
	screen = ansi.Strip(m.render())
	if strings.Contains(screen, "line 3000") || !strings.Contains(screen, "line 29") || strings.Contains(screen, "following") {
		t.Fatalf("two pages up should show older lines and stop following:\n%s", screen)
	}
	press(t, m, "g")
	screen = ansi.Strip(m.render())
	if want := "line 0001"; !strings.Contains(screen, want) {
		t.Fatalf("the top of the logs should be their first line %q:\n%s", want, screen)
	}
	press(t, m, "G")
	screen = ansi.Strip(m.render())
	if !strings.Contains(screen, "line 3000") || !strings.Contains(screen, "following") {
		t.Fatalf("G should follow again:\n%s", screen)
	}
	drain(t, m, -1)
}
