package tui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/pipeline"
)

// loadedProject copies a recording's Dockerfile into a folder of its own
// and loads it as the command line does, base replaced by a named context
// folder: the TUI follows the file on disk.
func loadedProject(t testing.TB, name, base string) *pipeline.Project {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(fakes.StatusDir, name, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	bases := t.TempDir()
	p, err := pipeline.Load(pipeline.Input{ContextDir: dir, Contexts: []string{base + "=" + bases}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func failingSession(t testing.TB) *fakes.Session {
	return &fakes.Session{
		Engine:  "buildkitd",
		Streams: map[string][]*client.SolveStatus{"test": fakes.Stream(t, "failing")},
		Fail: map[string]error{"test": &engine.BuildError{
			Err: errors.New("process did not complete successfully"), ExitCode: 3,
			Step: `[test 2/3] RUN echo "about to fail" && echo "really failing" >&2 && exit 3`,
		}},
	}
}

// edit rewrites the project's Dockerfile with old replaced by new.
func edit(t testing.TB, p *pipeline.Project, old, new string) {
	t.Helper()
	src, err := os.ReadFile(p.Dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), old) {
		t.Fatalf("%s has no %q", p.Dockerfile, old)
	}
	if err := os.WriteFile(p.Dockerfile, []byte(strings.Replace(string(src), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A build sends the Dockerfile as it is on disk, so enter reads it again
// first: the failed step's excerpt shows the line that was built, not the
// one read at start.
func TestBuildReadsTheDockerfileAgain(t *testing.T) {
	proj := loadedProject(t, "failing", "busybox")
	m, _ := newModel(t, modelOpts{proj: proj, session: failingSession(t)}, 160, 48)
	edit(t, proj, `RUN echo "about to fail"`, `RUN echo "about to fial"`)
	press(t, m, "enter")
	drain(t, m, -1)
	got := screenText(m)
	if !strings.Contains(got, `6 │ RUN echo "about to fial"`) {
		t.Errorf("the excerpt does not show the line built:\n%s", got)
	}
	press(t, m, "esc")
	if got := screenText(m); !strings.Contains(got, `about to fial`) {
		t.Errorf("the graph's details do not show the line built:\n%s", got)
	}
}

// r builds again what the last build built, from the file as it is now.
func TestRebuildReadsTheDockerfileAgain(t *testing.T) {
	proj := loadedProject(t, "failing", "busybox")
	m, _ := newModel(t, modelOpts{proj: proj, session: failingSession(t)}, 160, 48)
	press(t, m, "enter")
	drain(t, m, -1)
	edit(t, proj, `RUN echo "about to fail"`, `RUN echo "about to fial"`)
	press(t, m, "r")
	drain(t, m, -1)
	if got := screenText(m); !strings.Contains(got, `6 │ RUN echo "about to fial"`) {
		t.Errorf("the excerpt does not show the line built:\n%s", got)
	}
}
