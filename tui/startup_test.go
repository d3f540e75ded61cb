package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
)

// runInit runs the commands Init returns and gives the messages they make.
func runInit(m *Model) []tea.Msg {
	var msgs []tea.Msg
	var run func(tea.Cmd)
	run = func(cmd tea.Cmd) {
		if cmd == nil {
			return
		}
		switch msg := cmd().(type) {
		case tea.BatchMsg:
			for _, c := range msg {
				run(c)
			}
		default:
			msgs = append(msgs, msg)
		}
	}
	run(m.Init())
	return msgs
}

// A graph parsed without lint is drawn at once; Init lints it in the
// background and its marks appear when the findings arrive.
func TestLintAfterFirstFrame(t *testing.T) {
	src := []byte("FROM scratch as build\nENV A $B\nFROM build AS final\nRUN true\n")
	g, err := buildgraph.Parse(src, buildgraph.Options{Filename: "Dockerfile", SkipLint: true})
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{Project: &pipeline.Project{Dockerfile: "Dockerfile", Source: src, Graph: g}, Dark: true})
	t.Cleanup(m.shutdown)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	marks := func() int { return strings.Count(ansi.Strip(m.View().Content), "⚠") }
	before := marks() // the legend has one
	var linted *lintedMsg
	for _, msg := range runInit(m) {
		if l, ok := msg.(lintedMsg); ok {
			linted = &l
		}
	}
	if linted == nil || len(linted.warnings) == 0 {
		t.Fatalf("Init did not lint the graph: %+v", linted)
	}
	if len(g.Warnings) != 0 {
		t.Fatal("the lint command changed the graph off the UI loop")
	}
	m.Update(*linted)
	if len(g.Warnings) != len(linted.warnings) || marks() <= before {
		t.Errorf("after the findings arrived: %d warnings on the graph, screen:\n%s", len(g.Warnings), ansi.Strip(m.View().Content))
	}

	// A graph that carries its findings is not linted again.
	full, err := buildgraph.Parse(src, buildgraph.Options{Filename: "Dockerfile"})
	if err != nil {
		t.Fatal(err)
	}
	m2 := New(Options{Project: &pipeline.Project{Dockerfile: "Dockerfile", Source: src, Graph: full}, Dark: true})
	t.Cleanup(m2.shutdown)
	for _, msg := range runInit(m2) {
		if _, ok := msg.(lintedMsg); ok {
			t.Error("a linted graph was linted again")
		}
	}
}

// paced gives the first frame with content at once, then at most one new
// frame per interval: a change inside it waits for the frame message the
// update asked for.
func TestPacedFrames(t *testing.T) {
	src := []byte("FROM scratch AS a\nRUN true\nFROM a AS b\nRUN true\n")
	g, err := buildgraph.Parse(src, buildgraph.Options{SkipLint: true})
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{Project: &pipeline.Project{Dockerfile: "Dockerfile", Source: src, Graph: g}, Dark: true})
	t.Cleanup(m.shutdown)
	p := &paced{m: m, every: time.Hour}
	if p.View().Content != "" {
		t.Fatal("a frame before the size is known")
	}
	if _, cmd := p.Update(tea.WindowSizeMsg{Width: 100, Height: 30}); cmd != nil {
		t.Fatal("the first frame waits")
	}
	first := p.View().Content
	if first == "" {
		t.Fatal("no first frame")
	}
	_, cmd := p.Update(keyMsg("?")) // the help overlay changes the frame
	if cmd == nil {
		t.Fatal("a change within the interval asks for no frame message")
	}
	if p.View().Content != first {
		t.Fatal("a new frame within the interval")
	}
	if _, again := p.Update(keyMsg("?")); again != nil {
		t.Fatal("a second frame message while one is on its way")
	}
	p.Update(pacedFrameMsg{})
	if p.View().Content != m.View().Content {
		t.Fatal("the frame message did not bring the model's frame")
	}
}
