package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/internal/recorder"
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

// statusDir holds the status streams recorded from real builds (see
// internal/recorder), shared with buildgraph's replay tests.
var statusDir = filepath.Join("..", "buildgraph", "testdata", "status")

// stream reads a recorded status stream.
func stream(t testing.TB, name string) []*client.SolveStatus {
	t.Helper()
	f, err := os.Open(filepath.Join(statusDir, name, "status.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ss, err := recorder.Replay(f)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// project parses the recording's Dockerfile with base replaced by a
// named context, as the recordings were made. Its images are tagged
// stagescope/<recording>:<target>.
func project(t testing.TB, name, base string) *pipeline.Project {
	t.Helper()
	file := filepath.Join(statusDir, name, "Dockerfile")
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

// replaySession is an engine that replays recorded status streams through
// the channel a real build would use.
type replaySession struct {
	kind    string
	streams map[string][]*client.SolveStatus // by BuildRequest.Target
	// hold, when > 0, stops each stream after that many updates until the
	// build is canceled; the running steps are then reported canceled.
	hold  int
	fail  map[string]error
	sizes map[string]*buildgraph.ImageSize // by image tag
	delay time.Duration                    // between updates
	// holdMeasure stops Measure after 40% of the layers until the build
	// is canceled.
	holdMeasure bool
}

func (s *replaySession) Kind() string     { return s.kind }
func (s *replaySession) Describe() string { return s.kind + " replay://recorded" }
func (s *replaySession) Close() error     { return nil }

func (s *replaySession) Build(ctx context.Context, req engine.BuildRequest, ch chan *client.SolveStatus) (*engine.Result, error) {
	defer close(ch)
	ss, ok := s.streams[req.Target]
	if !ok {
		return nil, fmt.Errorf("no recording for target %q", req.Target)
	}
	running := map[string]*client.Vertex{}
	for i, st := range ss {
		if s.hold > 0 && i == s.hold {
			<-ctx.Done()
			// BuildKit reports the steps that ran as canceled.
			var vs []*client.Vertex
			at := t0
			for _, v := range running {
				c := *v
				c.Completed, c.Error = &at, "context canceled"
				vs = append(vs, &c)
			}
			ch <- &client.SolveStatus{Vertexes: vs}
			return nil, ctx.Err()
		}
		for _, v := range st.Vertexes {
			if v.Started != nil && v.Completed == nil {
				running[v.Digest.String()] = v
			} else if v.Completed != nil {
				delete(running, v.Digest.String())
			}
		}
		select {
		case ch <- st:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if s.delay > 0 {
			time.Sleep(s.delay)
		}
	}
	if err := s.fail[req.Target]; err != nil {
		return nil, err
	}
	return &engine.Result{Image: req.Tags[0], Duration: 12300 * time.Millisecond}, nil
}

func (s *replaySession) BuildAll(ctx context.Context, reqs []engine.BuildRequest, status []chan *client.SolveStatus) ([]*engine.Result, []error) {
	res := make([]*engine.Result, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], errs[i] = s.Build(ctx, reqs[i], status[i])
		}()
	}
	wg.Wait()
	return res, errs
}

func (s *replaySession) Measure(ctx context.Context, res *engine.Result, progress func(done, total int64)) (*buildgraph.ImageSize, error) {
	size, ok := s.sizes[res.Image]
	if !ok {
		return nil, errors.New("no size recorded for " + res.Image)
	}
	if s.holdMeasure {
		// One call: the pipeline passes on at most one in MeasuringEvery.
		progress(size.Compressed*2/5, size.Compressed)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	progress(0, size.Compressed)
	progress(size.Compressed, size.Compressed)
	c := *size
	c.Layers = append([]buildgraph.Layer(nil), size.Layers...)
	return &c, nil
}

// helloSession replays the hello-multistage builds.
func helloSession(t testing.TB) *replaySession {
	return &replaySession{
		kind: "buildkitd",
		streams: map[string][]*client.SolveStatus{
			"builder": stream(t, "hello-builder"),
			"":        stream(t, "hello-final"),
		},
		sizes: map[string]*buildgraph.ImageSize{
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

// memHistory is an in-memory History.
type memHistory struct {
	mu    sync.Mutex
	saved map[string]buildgraph.SavedSize
}

func (h *memHistory) Load(string) (map[string]buildgraph.SavedSize, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]buildgraph.SavedSize{}
	for k, v := range h.saved {
		out[k] = v
	}
	return out, nil
}

func (h *memHistory) Record(recs []*history.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.saved == nil {
		h.saved = map[string]buildgraph.SavedSize{}
	}
	for _, r := range recs {
		if r.Size != nil {
			h.saved[buildgraph.SavedKey(r.Engine.Kind, r.Target)] = buildgraph.SavedSize{Uncompressed: r.Size.Uncompressed, Compressed: r.Size.Compressed, At: r.Time, Engine: r.Engine.Kind}
		}
	}
	return nil
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
