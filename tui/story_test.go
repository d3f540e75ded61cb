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
	digest "github.com/opencontainers/go-digest"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/pipeline"
)

// storyModel opens two Dockerfiles together, the single-stage recording
// and the hello-multistage one, on a session that replays both.
func storyModel(t *testing.T, w, h int) *Model {
	t.Helper()
	single, hello := project(t, "single-stage", "busybox"), project(t, "hello-final", "golang")
	single.Name, hello.Name = "single-stage", "hello-final"
	sess := helloSession(t)
	sess.Streams["single-stage:"] = fakes.Stream(t, "single-stage")
	sess.Sizes["stagescope/single-stage:stage-0"] = &buildgraph.ImageSize{
		Ref: "stagescope/single-stage:stage-0", Uncompressed: 374_000_000, Compressed: 180_000_000, Store: "buildkitd content store",
		Layers: []buildgraph.Layer{
			{CreatedBy: "busybox", Size: 373_990_000, Compressed: 179_995_000},
			{CreatedBy: "WORKDIR /work # buildkit", Size: 0, Compressed: 32},
			{CreatedBy: "RUN /bin/sh -c echo hello > a.txt # buildkit", Size: 6, Compressed: 100},
			{CreatedBy: "COPY f.txt . # buildkit", Size: 4, Compressed: 100},
			{CreatedBy: "RUN /bin/sh -c cat a.txt f.txt # buildkit", Size: 0, Compressed: 32},
		},
	}
	return severalModel(t, sess, w, h, single, hello)
}

// severalModel opens projects together on a session, connected.
func severalModel(t *testing.T, sess pipeline.Session, w, h int, projects ...*pipeline.Project) *Model {
	t.Helper()
	clock := &testClock{now: t0}
	m := New(Options{
		Project:  projects[0],
		Projects: projects,
		Connect:  func(context.Context) (pipeline.Session, error) { return sess, nil },
		Now:      clock.Now,
		Dark:     true,
	})
	t.Cleanup(m.shutdown)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.Update(connectMsg{session: sess})
	return m
}

// Several Dockerfiles opened together: a builds every target of every
// file, and the compare screen shows them in one table, in order, each
// row naming its file.
func TestStoryScreens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, tt := range []struct {
			name string
			do   func(t *testing.T, m *Model)
		}{
			{"story-compare-empty", func(t *testing.T, m *Model) { press(t, m, "c") }},
			{"story-compare", func(t *testing.T, m *Model) {
				press(t, m, "a")
				drain(t, m, -1)
				press(t, m, "c", "j", "j")
			}},
		} {
			t.Run(fmt.Sprintf("%s-%dx%d", tt.name, size[0], size[1]), func(t *testing.T) {
				m := storyModel(t, size[0], size[1])
				tt.do(t, m)
				out := screenText(m)
				checkFrame(t, out, size[0], size[1])
				golden.RequireEqual(t, out)
			})
		}
	}
}

// Building a row of the story again builds that target of that file.
func TestStoryRebuildRow(t *testing.T) {
	m := storyModel(t, 120, 36)
	press(t, m, "a")
	drain(t, m, -1)
	press(t, m, "c", "j", "b")
	if m.run == nil || len(m.run.Plans) != 1 || m.run.Plans[0].Project.Name != "hello-final" || m.run.Plans[0].Target != "builder" {
		t.Fatalf("b on hello-final:builder built %v", m.run.targets)
	}
	drain(t, m, -1)
	if got := m.compare().Focused(); got != "hello-final:builder" {
		t.Errorf("focus after the build: %q", got)
	}
	// The build screen shows that file's stages.
	if g := m.build().g; g != m.opts.Projects[1].Graph {
		t.Errorf("the build screen draws the graph of %s", g.File)
	}
	if st := m.build().targetStep(); st == nil || st.Text != "RUN go build -o hello hellodocker.go" {
		t.Errorf("the build screen focuses %+v", st)
	}
}

// After a builds every target of every file, the build screen shows every
// file's steps, each under its name; each file's steps are in its own
// model, none in the first file's (Progress).
func TestStoryBuildScreenShowsEveryFile(t *testing.T) {
	for _, tt := range []struct {
		name string
		w, h int
		// second moves to the first step of the second file, whose name
		// line comes into view below the first file's steps.
		second bool
	}{{"story-build", 80, 24, false}, {"story-build", 120, 36, false}, {"story-build-second", 120, 36, true}} {
		size := [2]int{tt.w, tt.h}
		t.Run(fmt.Sprintf("%s-%dx%d", tt.name, size[0], size[1]), func(t *testing.T) {
			m := storyModel(t, size[0], size[1])
			// hello-final's builder as BuildKit runs it beside the final
			// stage in one session: the same vertices, which the step model
			// takes once, whichever stream tells of them first.
			m.session.(*fakes.Session).Streams["hello-final:builder"] = withoutStage(t, "hello-final", "stage-1")
			press(t, m, "a")
			drain(t, m, -1)
			if tt.second {
				press(t, m, "g")
				for i := 0; i < 40 && m.build().focusSec == 0; i++ {
					press(t, m, "j")
				}
			}
			for _, st := range m.run.Progress.Steps() {
				if strings.Contains(st.Text, "hello") && !strings.Contains(st.Text, "echo hello") {
					t.Errorf("step %q (stage %d) is of the second Dockerfile", st.Text, st.Stage)
				}
			}
			v := m.build()
			var files []string
			steps := map[int]int{}
			for _, r := range v.rows() {
				if r.file {
					files = append(files, v.secs[r.sec].name)
				}
				if r.step != nil && r.stage >= 0 {
					steps[r.sec]++
				}
			}
			if strings.Join(files, " ") != "single-stage hello-final" || steps[0] == 0 || steps[1] == 0 {
				t.Errorf("sections %v, steps per section %v", files, steps)
			}
			// The summary counts every file's instructions.
			_, done, total := m.run.ProgressOf(m.opts.Projects[1]).Counts()
			_, done0, total0 := m.run.Progress.Counts()
			if want := fmt.Sprintf("%d/%d steps", done+done0, total+total0); !strings.Contains(ansi.Strip(v.summary()), want) {
				t.Errorf("the summary does not say %s", want)
			}
			out := screenText(m)
			checkFrame(t, out, size[0], size[1])
			golden.RequireEqual(t, out)
		})
	}
}

// The timeline of a build of several Dockerfiles: every file's stages,
// under the file's name, on one axis, and the critical path of the whole
// run, its stages named with their file.
func TestStoryTimeline(t *testing.T) {
	m := storyModel(t, 120, 36)
	m.session.(*fakes.Session).Streams["hello-final:builder"] = withoutStage(t, "hello-final", "stage-1")
	press(t, m, "a")
	drain(t, m, -1)
	press(t, m, "T")
	out := screenText(m)
	for _, want := range []string{"Critical path of the whole run (2 Dockerfiles)", "hello-final:builder", "▌single-stage", "▌hello-final"} {
		if !strings.Contains(out, want) {
			t.Errorf("the timeline lacks %q", want)
		}
	}
	if strings.Index(out, "▌single-stage") > strings.Index(out, "▌hello-final") {
		t.Errorf("files out of order")
	}
	checkFrame(t, out, 120, 36)
	golden.RequireEqual(t, out)
}

// A build of two Dockerfiles whose second fails: the failed step, of the
// second file, is focused, and its details name that file and show that
// file's lines, not the first file's at the same numbers; a step of the
// first file focused shows its own stage.
func TestStoryFailureOfSecondFile(t *testing.T) {
	single, failing := project(t, "single-stage", "busybox"), project(t, "failing", "busybox")
	single.Name, failing.Name = "single-stage", "failing"
	sess := &fakes.Session{
		Engine: "buildkitd",
		Streams: map[string][]*client.SolveStatus{
			"single-stage:": fakes.Stream(t, "single-stage"),
			"failing:test":  fakes.Stream(t, "failing"),
		},
		Fail: map[string]error{"test": &engine.BuildError{
			Err: errors.New("process did not complete successfully"), ExitCode: 3,
			Step: `[test 2/3] RUN echo "about to fail" && echo "really failing" >&2 && exit 3`,
		}},
	}
	m := severalModel(t, sess, 120, 36, single, failing)
	runIntents(m, func() tea.Msg { return buildTargetsMsg{targets: []string{"single-stage:", "failing:test"}} })
	drain(t, m, -1)
	v := m.build()
	if v.focusSec != 1 {
		t.Fatalf("the focused step is of section %d", v.focusSec)
	}
	st := v.focusedStep()
	if st == nil || !strings.Contains(st.Text, "exit 3") || st.Line != 6 {
		t.Fatalf("focused %+v", st)
	}
	box := ansi.Strip(strings.Join(v.errorBox(120), "\n"))
	if !strings.Contains(box, "✗ failing: exit code 3") || !strings.Contains(box, `▶   6 │ RUN echo "about to fail"`) || !strings.Contains(box, "FROM base AS test") {
		t.Errorf("the details of the failed step:\n%s", box)
	}
	if strings.Contains(box, "cat a.txt f.txt") {
		t.Errorf("the details show the first file's lines:\n%s", box)
	}
	if title := ansi.Strip(v.logsTitle()); !strings.Contains(title, "failing · test 2/3 RUN") {
		t.Errorf("logs title %q", title)
	}
	// The first file's step of the same line number: its own stage.
	press(t, m, "g")
	if v := m.build(); v.focusSec != 0 {
		t.Fatalf("g focuses section %d", v.focusSec)
	}
	for i := 0; i < 10 && !strings.Contains(m.build().focusedStep().Text, "cat a.txt"); i++ {
		press(t, m, "j")
	}
	v = m.build()
	if st := v.focusedStep(); !strings.Contains(st.Text, "cat a.txt") {
		t.Fatalf("focused %q", st.Text)
	}
	if title := ansi.Strip(v.logsTitle()); !strings.Contains(title, "single-stage · stage-0 4/4 RUN cat a.txt f.txt") {
		t.Errorf("logs title %q", title)
	}
	if out := screenText(m); !strings.Contains(out, "✗ failed") || !strings.Contains(out, "failing: build failed at [test 2/3]") {
		t.Errorf("screen:\n%s", out)
	}
}

// withoutStage is a recorded stream without the vertices of a stage (by
// BuildKit's name, "[stage-1 1/2] …"), as a build of a target that does
// not reach that stage would send it.
func withoutStage(t *testing.T, name, stage string) []*client.SolveStatus {
	t.Helper()
	drop := map[digest.Digest]bool{}
	var out []*client.SolveStatus
	for _, st := range fakes.Stream(t, name) {
		var c client.SolveStatus
		for _, v := range st.Vertexes {
			if strings.HasPrefix(v.Name, "["+stage+" ") {
				drop[v.Digest] = true
				continue
			}
			c.Vertexes = append(c.Vertexes, v)
		}
		for _, s := range st.Statuses {
			if !drop[s.Vertex] {
				c.Statuses = append(c.Statuses, s)
			}
		}
		for _, l := range st.Logs {
			if !drop[l.Vertex] {
				c.Logs = append(c.Logs, l)
			}
		}
		for _, w := range st.Warnings {
			if !drop[w.Vertex] {
				c.Warnings = append(c.Warnings, w)
			}
		}
		out = append(out, &c)
	}
	return out
}

func (m *Model) compare() *CompareView { return screenOf[*CompareView](m) }

// The graph shows the first Dockerfile: sizes and the build of another
// file's target of the same name are not drawn on its stages.
func TestStoryGraphShowsItsOwnFile(t *testing.T) {
	m := storyModel(t, 120, 36)
	single, hello := m.opts.Projects[0], m.opts.Projects[1]
	size := func(n int64) *buildgraph.ImageSize { return &buildgraph.ImageSize{Uncompressed: n} }
	results := []buildgraph.TargetResult{
		{File: single.Dockerfile, Name: single.Name, Target: "stage-0", Size: size(374_000_000)},
		{File: "other/Dockerfile", Name: "other", Target: "stage-0", Size: size(295_000_000)},
	}
	plans, err := hello.Plan("builder", nil)
	if err != nil {
		t.Fatal(err)
	}
	other := &buildRun{Run: &pipeline.Run{Plans: []*pipeline.Plan{plans}, Project: hello, Progress: buildgraph.NewProgress(plans.Graph)}}
	g := m.graph()
	g.syncBuild(buildStateMsg{run: other, results: results})
	if got := g.sizes[0]; got != 374_000_000 {
		t.Errorf("stage-0 of the first file drawn at %d B", got)
	}
	if len(g.results) != 1 || g.progress != nil {
		t.Errorf("the graph took %d results and the progress of another file's build (%v)", len(g.results), g.progress != nil)
	}
}

// The build screen's rows are the stages of the followed file's targets:
// a target of another file adds none, even where its stage indices exist.
func TestStoryBuildRowsOfFollowedFile(t *testing.T) {
	m := storyModel(t, 120, 36)
	hello := m.opts.Projects[1]
	own, err := hello.Plan("builder", nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := buildgraph.Parse([]byte("FROM scratch AS a\nFROM scratch AS b\nCOPY --from=a / /\n"), buildgraph.Options{Filename: "other/Dockerfile", SkipLint: true})
	if err != nil {
		t.Fatal(err)
	}
	theirs := &pipeline.Plan{Target: "b", Graph: g, Project: &pipeline.Project{Name: "other", Dockerfile: "other/Dockerfile", Graph: g}}
	run := &buildRun{Run: &pipeline.Run{Plans: []*pipeline.Plan{own, theirs}, Project: hello, Progress: buildgraph.NewProgress(hello.Graph)}}
	v := m.build()
	v.SetRun(run)
	for _, r := range v.rows() {
		if r.step == nil && r.stage == 1 {
			t.Errorf("a row for stage-1, which only the other file's target builds")
		}
	}
}

// Rows are in the order the files and their targets were given, whatever
// was built first.
func TestStoryRowsInOrder(t *testing.T) {
	m := storyModel(t, 120, 36)
	size := &buildgraph.ImageSize{Uncompressed: 1}
	v := m.compare()
	v.SetResults([]buildgraph.TargetResult{
		{Name: "hello-final", Target: "stage-1", Size: size},
		{Name: "single-stage", Target: "stage-0", Size: size},
		{Name: "hello-final", Target: "builder", Size: size},
	}, nil, "buildkitd", "", "", t0)
	var got []string
	for _, r := range v.rows {
		got = append(got, r.result.Label())
	}
	if strings.Join(got, " ") != "single-stage:stage-0 hello-final:builder hello-final:stage-1" {
		t.Errorf("rows %v", got)
	}
}

// byFileHistory keeps sizes saved by Dockerfile, as the store does.
type byFileHistory struct {
	fakes.History
	saved map[string]map[string]buildgraph.SavedSize
}

func (h *byFileHistory) Load(file string) (map[string]buildgraph.SavedSize, error) {
	return h.saved[file], nil
}

// With several Dockerfiles, the compare screen shows the sizes saved by
// earlier runs of every file, each row under its own file, in the order
// of the story; a target built since takes its row.
func TestStorySavedSizesOfEveryFile(t *testing.T) {
	m := storyModel(t, 160, 40)
	single, hello := m.opts.Projects[0], m.opts.Projects[1]
	at := t0.Add(-2 * time.Hour)
	m.opts.History = &byFileHistory{saved: map[string]map[string]buildgraph.SavedSize{
		single.Dockerfile: {buildgraph.SavedKey("buildkitd", "stage-0"): {Uncompressed: 374_000_000, Compressed: 180_000_000, At: at, Engine: "buildkitd"}},
		hello.Dockerfile: {
			buildgraph.SavedKey("buildkitd", "builder"): {Uncompressed: 270_000_000, Compressed: 78_000_000, At: at, Engine: "buildkitd"},
			buildgraph.SavedKey("buildkitd", "stage-1"): {Uncompressed: 2_400_000, Compressed: 1_430_000, At: at, Engine: "buildkitd"},
		},
	}}
	m.Update(m.loadSaved()())
	press(t, m, "c")
	rows := func() []string {
		var out []string
		for _, r := range m.compare().rows {
			what := "built"
			if r.saved != nil {
				what = "saved " + buildgraph.HumanSize(r.saved.Uncompressed)
			}
			out = append(out, r.result.Label()+" "+what)
		}
		return out
	}
	want := "single-stage:stage-0 saved 374MB, hello-final:builder saved 270MB, hello-final:stage-1 saved 2.4MB"
	if got := strings.Join(rows(), ", "); got != want {
		t.Errorf("rows before any build:\n got %s\nwant %s", got, want)
	}
	out := screenText(m)
	for _, s := range []string{"single-stage", "hello-final", "374MB", "2.4MB", "2h ago"} {
		if !strings.Contains(out, s) {
			t.Errorf("the compare screen lacks %q:\n%s", s, out)
		}
	}
	m.Update(buildTargetsMsg{targets: []string{"hello-final:stage-1"}})
	drain(t, m, -1)
	press(t, m, "c")
	want = "single-stage:stage-0 saved 374MB, hello-final:builder saved 270MB, hello-final:stage-1 built"
	if got := strings.Join(rows(), ", "); got != want {
		t.Errorf("rows after building hello-final:stage-1:\n got %s\nwant %s", got, want)
	}
}
