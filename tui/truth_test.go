package tui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/fakes"
)

// TestStepCountsAgree checks that the graph, the build's header and its
// rows count steps one way: the instructions after FROM.
func TestStepCountsAgree(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}, 120, 40)
	graph := ansi.Strip(m.render())
	for _, want := range []string{"3 steps"} {
		if !strings.Contains(graph, want) {
			t.Fatalf("graph lacks %q:\n%s", want, graph)
		}
	}
	press(t, m, "enter")
	drain(t, m, -1)
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "6/6 steps") {
		t.Errorf("header should count 6 instructions:\n%s", screen)
	}
	rows, _, _ := strings.Cut(screen, "Logs ·")
	nums := regexp.MustCompile(`\b\d+/(\d+) (WORKDIR|COPY|RUN|ENTRYPOINT)`).FindAllStringSubmatch(rows, -1)
	if len(nums) != 6 {
		t.Fatalf("want 6 numbered rows, got %d:\n%s", len(nums), screen)
	}
	for _, n := range nums {
		if n[1] != "3" {
			t.Errorf("row %q is not numbered of 3", n[0])
		}
	}
}

// TestNoCacheSaysWhatWasCached checks the header of a build with the cache
// off: what BuildKit still answered from its cache is named, so "cached"
// never reads as a contradiction of no-cache.
func TestNoCacheSaysWhatWasCached(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}, 120, 40)
	press(t, m, "n", "enter")
	drain(t, m, -1)
	screen := ansi.Strip(m.render())
	header := strings.Split(screen, "\n")[1]
	if !strings.Contains(header, "no-cache") || !strings.Contains(header, "1 still cached (COPY)") {
		t.Errorf("header should say which step was cached despite no-cache:\n%s", header)
	}
}

// chattyModel builds a step that prints lines and ends, then an export
// step of no stage that completes last.
func chattyModel(t *testing.T, lines []string, fail bool) *Model {
	t.Helper()
	d := digest.Digest("sha256:00000000000000000000000000000000000000000000000000000000000000c1")
	exp := digest.Digest("sha256:00000000000000000000000000000000000000000000000000000000000000c2")
	started, done, later := t0, t0.Add(time.Second), t0.Add(2*time.Second)
	end := &client.Vertex{Digest: d, Name: "[1/2] RUN chatty", Started: &started, Completed: &done}
	ss := []*client.SolveStatus{
		{Vertexes: []*client.Vertex{{Digest: d, Name: "[1/2] RUN chatty", Started: &started}}},
	}
	// BuildKit sends output in chunks of at most 32 KiB.
	data := []byte(strings.Join(lines, "\n") + "\n")
	for len(data) > 0 {
		n := min(len(data), 32<<10)
		ss = append(ss, &client.SolveStatus{Logs: []*client.VertexLog{{Vertex: d, Stream: 1, Data: data[:n]}}})
		data = data[n:]
	}
	if fail {
		end.Error = "process did not complete successfully: exit code: 1"
		ss = append(ss, &client.SolveStatus{Vertexes: []*client.Vertex{end}})
	} else {
		ss = append(ss, &client.SolveStatus{Vertexes: []*client.Vertex{end}},
			&client.SolveStatus{Vertexes: []*client.Vertex{{Digest: exp, Name: "exporting to image", Started: &done, Completed: &later}}})
	}
	proj := project(t, "log-heavy", "busybox")
	sess := &fakes.Session{Engine: "buildkitd", Streams: map[string][]*client.SolveStatus{"": ss}}
	if fail {
		sess.Fail = map[string]error{"": &engine.BuildError{Err: errors.New(end.Error), ExitCode: 1, Step: end.Name}}
	}
	m, _ := newModel(t, modelOpts{proj: proj, session: sess}, 80, 24)
	press(t, m, "enter")
	drain(t, m, -1)
	return m
}

func numbered(n int, at map[int]string) []string {
	var lines []string
	for i := 1; i <= n; i++ {
		if s, ok := at[i]; ok {
			lines = append(lines, s)
			continue
		}
		lines = append(lines, fmt.Sprintf("line %05d", i))
	}
	return lines
}

// TestLogsWholeStepPaged checks that the logs of a step of 10,000 lines
// can be paged from their first line, not from a window of the last ones.
func TestLogsWholeStepPaged(t *testing.T) {
	m := chattyModel(t, numbered(10000, nil), false)
	press(t, m, "l", "g")
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "line 00001") {
		t.Fatalf("the top of the logs should be the first line:\n%s", screen)
	}
}

// TestLogsDroppedSaid checks that output past the kept limit is said to be
// dropped, and by whom.
func TestLogsDroppedSaid(t *testing.T) {
	// No state folder can be made: the logs keep what memory holds.
	t.Setenv("XDG_STATE_HOME", "/dev/null/state")
	long := strings.Repeat("x", 1000)
	lines := numbered(3000, nil)
	for i := range lines {
		lines[i] += " " + long
	}
	m := chattyModel(t, lines, false)
	press(t, m, "l", "g")
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "earlier output dropped: stagescope keeps the last 2.1MB") {
		t.Fatalf("the top of the logs should say what was dropped:\n%s", screen)
	}
}

// TestLogsSearch checks / to search the focused step's log, n and N to go
// between matches (not toggling no-cache), and e to the first error line.
func TestLogsSearch(t *testing.T) {
	m := chattyModel(t, numbered(3000, map[int]string{1500: "error: something broke", 2600: "fatal: worse"}), true)
	press(t, m, "l", "/", "l", "i", "n", "e", " ", "0", "0", "0", "4", "enter")
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "line 00040") || !strings.Contains(screen, "1/") {
		t.Fatalf("search should show the first match and its count:\n%s", screen)
	}
	press(t, m, "n")
	screen = ansi.Strip(m.render())
	if !strings.Contains(screen, "line 00041") || m.noCache {
		t.Fatalf("n should go to the next match and not toggle no-cache (%v):\n%s", m.noCache, screen)
	}
	press(t, m, "N", "N")
	screen = ansi.Strip(m.render())
	if !strings.Contains(screen, "line 00049") {
		t.Fatalf("N should go back, wrapping around:\n%s", screen)
	}
	press(t, m, "e")
	screen = ansi.Strip(m.render())
	if !strings.Contains(screen, "error: something broke") {
		t.Fatalf("e should show the first error line:\n%s", screen)
	}
}

// TestFocusAfterBuild checks that a build that succeeded focuses the last
// step of the target, not BuildKit's export.
func TestFocusAfterBuild(t *testing.T) {
	m := chattyModel(t, numbered(10, nil), false)
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "Logs · stage-0 1/1 RUN chatty") {
		t.Fatalf("the target's last step should have the focus:\n%s", screen)
	}
}

// TestSmallTerminalComplete checks that at 80×24 the footer keeps the keys
// that matter (cancel while a build runs, help, quit) and the help screen
// lists every key of the screen.
func TestSmallTerminalComplete(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}, 80, 24)
	m.session.(*fakes.Session).Hold = 60
	press(t, m, "enter")
	drain(t, m, 60)
	lines := strings.Split(ansi.Strip(m.render()), "\n")
	footer := lines[len(lines)-1]
	for _, want := range []string{"x cancel build", "? help", "q quit"} {
		if !strings.Contains(footer, want) {
			t.Errorf("footer lacks %q: %q", want, footer)
		}
	}
	press(t, m, "x")
	drain(t, m, -1)
	press(t, m, "c", "?")
	screen := ansi.Strip(m.render())
	for _, want := range []string{"compressed/uncompressed", "build this target", "rebuild", "build all targets", "toggle no-cache", "cancel build", "back", "quit", "ctrl+c"} {
		if !strings.Contains(screen, want) {
			t.Errorf("help lacks %q:\n%s", want, screen)
		}
	}
}

// TestHeaderKeepsFileName checks that at 120 columns the Dockerfile's name
// is shown whole, the engine's address giving way.
func TestHeaderKeepsFileName(t *testing.T) {
	sess := longAddr{helloSession(t)}
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: sess}, 120, 30)
	header := strings.Split(ansi.Strip(m.render()), "\n")[0]
	if !strings.Contains(header, "hello-final/Dockerfile") {
		t.Errorf("header cuts the file name: %q", header)
	}
}

// TestCompareWideColumnsClose checks that at 200 columns the comparison's
// columns stay next to each other.
func TestCompareWideColumnsClose(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}, 200, 40)
	press(t, m, "enter")
	drain(t, m, -1)
	press(t, m, "esc", "k", "enter")
	drain(t, m, -1)
	press(t, m, "c")
	for _, l := range strings.Split(ansi.Strip(m.render()), "\n") {
		if strings.Contains(l, "smaller") && strings.Contains(l, strings.Repeat(" ", 30)+"1/6") {
			t.Errorf("a wide gap between the columns: %q", l)
		}
	}
}

// longAddr is an engine with a long address.
type longAddr struct{ *fakes.Session }

func (longAddr) Describe() string {
	return "buildkitd unix:///run/user/1000/buildkit/a/very/long/socket/path/buildkitd.sock"
}

// TestEscClearsKeptFilter checks that esc clears a filter kept with enter.
func TestEscClearsKeptFilter(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}, 120, 40)
	press(t, m, "/", "b", "u", "enter")
	if screen := ansi.Strip(m.render()); !strings.Contains(screen, "filter: bu") {
		t.Fatalf("the filter should be kept:\n%s", screen)
	}
	press(t, m, "esc")
	if screen := ansi.Strip(m.render()); strings.Contains(screen, "filter: bu") || !strings.Contains(screen, "stage-1") {
		t.Fatalf("esc should clear the kept filter:\n%s", screen)
	}
}

// TestFilterMatchesNames checks that the filter matches stage names, and
// bases only when asked with from:.
func TestFilterMatchesNames(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}, 120, 40)
	press(t, m, "/", "g", "o", "l", "enter")
	g := m.screens[0].(*GraphView)
	if len(g.shown) != 0 {
		t.Errorf("\"gol\" matches no stage name, yet %d stages are shown", len(g.shown))
	}
	press(t, m, "esc", "/", "f", "r", "o", "m", ":", "g", "o", "l", "enter")
	if len(g.shown) != 1 {
		t.Errorf("\"from:gol\" should match the stage built from golang, %d shown", len(g.shown))
	}
}

// TestDetailsShowComment checks that the details of the unnamed final
// stage show the comment above its FROM, as the explain panel does.
func TestDetailsShowComment(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}, 160, 48)
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "The runtime stage: nothing but the compiled binary.") {
		t.Errorf("the details lack the stage's comment:\n%s", screen)
	}
}

// TestGraphRebuild checks that r on the graph says why nothing happens
// before a build, and rebuilds after one.
func TestGraphRebuild(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}, 120, 40)
	press(t, m, "r")
	if screen := ansi.Strip(m.render()); !strings.Contains(screen, "Nothing to rebuild yet") {
		t.Errorf("r before a build should say why nothing happens:\n%s", screen)
	}
	press(t, m, "enter")
	drain(t, m, -1)
	first := m.run
	press(t, m, "esc", "r")
	if m.run == first || m.run == nil {
		t.Fatal("r on the graph after a build should rebuild")
	}
	drain(t, m, -1)
}

// TestBuildKitRowsNameTheirContext checks that the steps of no stage that
// BuildKit repeats per context say which context they load.
func TestBuildKitRowsNameTheirContext(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}, 120, 60)
	press(t, m, "enter")
	drain(t, m, -1)
	screen := ansi.Strip(m.render())
	for _, want := range []string{"load .dockerignore · context golang", "load .dockerignore · build context", "load from client · context golang"} {
		if !strings.Contains(screen, want) {
			t.Errorf("no row %q:\n%s", want, screen)
		}
	}
}

// TestLogsWholeOnDisk checks that a step printing more than its log keeps
// in memory can still be paged from its first line: the whole output goes
// to the state folder, which the next build and the end remove.
func TestLogsWholeOnDisk(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	long := strings.Repeat("x", 1000)
	lines := numbered(5000, nil)
	for i := range lines {
		lines[i] += " " + long
	}
	m := chattyModel(t, lines, false)
	press(t, m, "l", "g")
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "line 00001") || !strings.Contains(screen, "the whole output, from") {
		t.Fatalf("the top of the logs should be the first line, read from disk:\n%s", screen)
	}
	press(t, m, "G")
	if screen := ansi.Strip(m.render()); !strings.Contains(screen, "line 05000") {
		t.Fatalf("the bottom should be the last line:\n%s", screen)
	}
	m.shutdown()
	if left, _ := filepath.Glob(filepath.Join(state, "stagescope", "logs", "*")); len(left) > 0 {
		t.Errorf("the logs folder is still there: %v", left)
	}
}

// TestMain keeps the logs of the tests' builds out of the user's state
// folder.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stagescope-tui-state")
	if err == nil {
		os.Setenv("XDG_STATE_HOME", dir)
	}
	code := m.Run()
	if err == nil {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// TestErrorBoxLeavesLogs checks that at 80×24 the Dockerfile lines of a
// failed multi-line RUN leave the step's output room in the log pane.
func TestErrorBoxLeavesLogs(t *testing.T) {
	m := chattyModel(t, numbered(20, nil), true)
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "more lines of the Dockerfile") || !strings.Contains(screen, "line 00020") {
		t.Fatalf("the error box should be cut and the last log line shown:\n%s", screen)
	}
}
