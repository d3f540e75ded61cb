package tui

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/pipeline"
)

// t0 is the time of the recorded builds.
var t0 = time.Date(2026, 11, 27, 7, 22, 30, 0, time.UTC)

// testClock is a settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// project parses the recording's Dockerfile with base replaced by a
// named context, as the recordings were made. Its images are tagged
// stagescope/<recording>:<target>.
func project(t testing.TB, name, base string) *pipeline.Project {
	t.Helper()
	file := filepath.Join(fakes.StatusDir, name, "Dockerfile")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	contexts := map[string]string{base: "/bases/" + base}
	g, err := buildgraph.Parse(src, buildgraph.Options{Filename: file, Contexts: contexts})
	if err != nil {
		t.Fatal(err)
	}
	return &pipeline.Project{
		Dockerfile: file,
		Source:     src,
		Graph:      g,
		Base:       engine.BuildRequest{ContextDir: filepath.Dir(file), Dockerfile: file, Contexts: contexts},
	}
}

// helloSession replays the hello-multistage builds.
func helloSession(t testing.TB) *fakes.Session {
	return &fakes.Session{
		Engine: "buildkitd",
		Streams: map[string][]*client.SolveStatus{
			"builder": fakes.Stream(t, "hello-builder"),
			"":        fakes.Stream(t, "hello-final"),
		},
		Sizes: map[string]*buildgraph.ImageSize{
			"stagescope/hello-final:builder": {
				Ref: "stagescope/hello-final:builder", Uncompressed: 283_400_000, Compressed: 98_200_000, Store: "buildkitd content store",
				Layers: []buildgraph.Layer{
					{CreatedBy: "golang toolchain", Size: 274_000_000, Compressed: 95_000_000},
					{CreatedBy: "WORKDIR /app # buildkit", Size: 0, Compressed: 32},
					{CreatedBy: "COPY hellodocker.go . # buildkit", Size: 1_200, Compressed: 600},
					{CreatedBy: "RUN /bin/sh -c go build -o hello hellodocker.go # buildkit", Size: 9_398_800, Compressed: 3_199_368},
				},
			},
			"stagescope/hello-final:stage-1": {
				Ref: "stagescope/hello-final:stage-1", Uncompressed: 2_400_000, Compressed: 1_150_000, Store: "buildkitd content store",
				Layers: []buildgraph.Layer{
					{CreatedBy: "WORKDIR /app # buildkit", Size: 0, Compressed: 32},
					{CreatedBy: "COPY /app/hello . # buildkit", Size: 2_400_000, Compressed: 1_149_968},
					{CreatedBy: `ENTRYPOINT ["./hello"]`, Empty: true},
				},
			},
		},
	}
}

// screenText is the model's frame without styles.
func screenText(m *Model) string { return ansi.Strip(m.render()) }

// graph and build are the model's graph and build screens, for tests that
// look inside them.
func (m *Model) graph() *GraphView { return screenOf[*GraphView](m) }
func (m *Model) build() *BuildView { return screenOf[*BuildView](m) }

func screenOf[T Screen](m *Model) T {
	for _, s := range m.screens {
		if v, ok := s.(T); ok {
			return v
		}
	}
	panic("the model has no such screen")
}
