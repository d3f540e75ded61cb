package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
)

// exampleProject parses a Dockerfile of examples/ as the TUI would, with
// no engine.
func exampleProject(t testing.TB, dir, file string) *pipeline.Project {
	t.Helper()
	path := filepath.Join("..", "examples", dir, file)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := buildgraph.Parse(src, buildgraph.Options{Filename: path})
	if err != nil {
		t.Fatal(err)
	}
	isFile := func(p string) bool {
		st, err := os.Stat(p)
		return err == nil && st.Mode().IsRegular()
	}
	return &pipeline.Project{Dockerfile: path, Source: src, Graph: g, BuilderPair: buildgraph.FindBuilderPair(path, isFile)}
}

// TestExplainScreens renders the explain panel at 80×24 (full screen) and
// 160×48 (beside the graph) and compares the text with golden files.
func TestExplainScreens(t *testing.T) {
	hello := func(t *testing.T) modelOpts {
		return modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}
	}
	example := func(dir, file string) func(t *testing.T) modelOpts {
		return func(t *testing.T) modelOpts { return modelOpts{proj: exampleProject(t, dir, file)} }
	}
	tests := []struct {
		name string
		opts func(t *testing.T) modelOpts
		do   func(t *testing.T, m *Model)
	}{
		{"builder", hello, func(t *testing.T, m *Model) { press(t, m, "k", "e") }},
		{"builder-scrolled", hello, func(t *testing.T, m *Model) { press(t, m, "k", "e", " ") }},
		{"final", hello, func(t *testing.T, m *Model) { press(t, m, "e") }},
		{"builder-measured", hello, func(t *testing.T, m *Model) {
			press(t, m, "k", "enter")
			drain(t, m, -1)
			press(t, m, "esc", "j", "enter")
			drain(t, m, -1)
			press(t, m, "esc", "k", "e", " ")
		}},
		{"final-measured", hello, func(t *testing.T, m *Model) {
			press(t, m, "enter")
			drain(t, m, -1)
			press(t, m, "esc", "e", " ")
		}},
		{"java-single-stage", example("java-single-stage", "Dockerfile"), func(t *testing.T, m *Model) { press(t, m, "e") }},
		{"builder-pattern-runtime", example("java-builder-pattern", "Dockerfile"), func(t *testing.T, m *Model) { press(t, m, "e", " ") }},
		{"builder-pattern-build", example("java-builder-pattern", "Dockerfile.build"), func(t *testing.T, m *Model) { press(t, m, "e", " ") }},
		{"help", hello, func(t *testing.T, m *Model) { press(t, m, "e", "?") }},
	}
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s-%dx%d", tt.name, size[0], size[1]), func(t *testing.T) {
				m, _ := newModel(t, tt.opts(t), size[0], size[1])
				tt.do(t, m)
				out := screenText(m)
				checkFrame(t, out, size[0], size[1])
				golden.RequireEqual(t, out)
			})
		}
	}
}

// TestExplainToggle checks that e opens and closes the panel, that esc
// closes it too, that ↑/↓ still move the focus underneath, and that tab
// is off while it is open (so help stays right).
func TestExplainToggle(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}, 80, 24)
	press(t, m, "e")
	if !m.graph().Explaining() || !strings.Contains(screenText(m), "Explain · stage-1") {
		t.Fatalf("e did not open the panel:\n%s", screenText(m))
	}
	if m.graph().KeyMap().Pane.Enabled() {
		t.Error("tab is enabled while the panel is open")
	}
	press(t, m, "k")
	if !strings.Contains(screenText(m), "Explain · builder") {
		t.Errorf("↑ did not move the explained stage:\n%s", screenText(m))
	}
	press(t, m, "esc")
	if m.graph().Explaining() || m.focused().Title() != graphTitle {
		t.Error("esc did not close the panel")
	}
	press(t, m, "e", "e")
	if m.graph().Explaining() {
		t.Error("a second e did not close the panel")
	}
	if !m.graph().KeyMap().Pane.Enabled() {
		t.Error("tab stays disabled after the panel closed")
	}
}

// TestExplainProseWidth checks that no line of prose is wider than
// proseWidth, however wide the screen, and that untrusted Dockerfile text
// reaches the screen without escape sequences.
func TestExplainProseWidth(t *testing.T) {
	src := "FROM alpine AS x\nRUN echo \x1b]0;pwned\x07 " + strings.Repeat("verylongword", 20) + "\n"
	g, err := buildgraph.Parse([]byte(src), buildgraph.Options{Filename: "Dockerfile"})
	if err != nil {
		t.Fatal(err)
	}
	v := NewExplainView(g, buildgraph.BuilderPair{}, NewStyles(true))
	v.SetSize(200, 80)
	v.SetStage(0)
	out := v.View()
	if strings.Contains(out, "\x1b]0;") || strings.Contains(out, "\x07") {
		t.Error("an escape sequence from the Dockerfile reached the screen")
	}
	for i, l := range strings.Split(ansi.Strip(out), "\n")[1:] {
		if w := len([]rune(strings.TrimRight(l, " "))); w > proseWidth+1 {
			t.Errorf("line %d is %d cells wide: %q", i+2, w, l)
		}
	}
}
