// Package fakes holds the stand-ins that tests of pipeline and tui build
// on: an engine session that replays status streams recorded from real
// builds, and an in-memory History. Only tests import it.
package fakes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/internal/recorder"
)

// StatusDir holds the status streams recorded from real builds (see
// internal/recorder), one folder each with its Dockerfile, as seen from a
// package folder one level below the module's root, where go test runs
// that package's tests.
var StatusDir = filepath.Join("..", "buildgraph", "testdata", "status")

// Stream reads the status stream recorded as name.
func Stream(t testing.TB, name string) []*client.SolveStatus {
	t.Helper()
	f, err := os.Open(filepath.Join(StatusDir, name, "status.jsonl"))
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

// At is the time the canceled steps of a held build complete.
var At = time.Date(2026, 11, 27, 7, 22, 30, 0, time.UTC)

// Session is an engine that replays recorded status streams through the
// channel a real build would use.
type Session struct {
	// Engine is the kind of engine it stands for: "buildkitd" if empty.
	Engine string
	// Streams are by BuildRequest.Target, or by FOLDER:TARGET (the
	// Dockerfile's folder's name), which goes first, for builds of
	// several Dockerfiles.
	Streams map[string][]*client.SolveStatus
	// Hold, when > 0, stops each stream after that many updates until the
	// build is canceled; the running steps are then reported canceled,
	// as BuildKit does, unless Abrupt is set.
	Hold   int
	Abrupt bool
	Fail   map[string]error                 // by BuildRequest.Target
	Sizes  map[string]*buildgraph.ImageSize // by image tag
	Delay  time.Duration                    // between updates
	// Together, when set, makes each Measure wait until as many are
	// measuring at once.
	Together *sync.WaitGroup
	// HoldMeasure stops Measure after 40% of the bytes until the build is
	// canceled.
	HoldMeasure bool

	mu       sync.Mutex
	measured []string
}

func (s *Session) Kind() string {
	if s.Engine == "" {
		return "buildkitd"
	}
	return s.Engine
}

func (s *Session) Describe() string { return s.Kind() + " replay://recorded" }
func (s *Session) Close() error     { return nil }

func (s *Session) Build(ctx context.Context, req engine.BuildRequest, ch chan *client.SolveStatus) (*engine.Result, error) {
	defer close(ch)
	ss, ok := s.Streams[filepath.Base(filepath.Dir(req.DockerfilePath()))+":"+req.Target]
	if !ok {
		ss, ok = s.Streams[req.Target]
	}
	if !ok {
		return nil, fmt.Errorf("no recording for target %q", req.Target)
	}
	running := map[string]*client.Vertex{}
	for i, st := range ss {
		if s.Hold > 0 && i == s.Hold {
			<-ctx.Done()
			if s.Abrupt {
				return nil, ctx.Err()
			}
			// BuildKit reports the steps that ran as canceled.
			var vs []*client.Vertex
			at := At
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
		if s.Delay > 0 {
			time.Sleep(s.Delay)
		}
	}
	if err := s.Fail[req.Target]; err != nil {
		return nil, err
	}
	return &engine.Result{Image: req.Tags[0], Duration: 12300 * time.Millisecond}, nil
}

func (s *Session) BuildAll(ctx context.Context, reqs []engine.BuildRequest, status []chan *client.SolveStatus) ([]*engine.Result, []error) {
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

// Measure is the size recorded for the result's image, a copy; an error
// of two lines when there is none.
func (s *Session) Measure(ctx context.Context, res *engine.Result, progress func(done, total int64)) (*buildgraph.ImageSize, error) {
	s.mu.Lock()
	s.measured = append(s.measured, res.Image)
	s.mu.Unlock()
	size, ok := s.Sizes[res.Image]
	if !ok {
		return nil, errors.New("no size recorded for " + res.Image + "\nsecond line")
	}
	if s.HoldMeasure {
		// One call: the pipeline passes on at most one in MeasuringEvery.
		progress(size.Compressed*2/5, size.Compressed)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	progress(0, size.Compressed)
	if s.Together != nil {
		s.Together.Done()
		all := make(chan struct{})
		go func() { s.Together.Wait(); close(all) }()
		select {
		case <-all:
		case <-time.After(5 * time.Second):
			return nil, errors.New("measured alone: the other target waits for this one")
		}
	}
	progress(size.Compressed, size.Compressed)
	c := *size
	c.Layers = append([]buildgraph.Layer(nil), size.Layers...)
	return &c, nil
}

// Measured are the images measured so far, in order.
func (s *Session) Measured() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.measured...)
}

// History is an in-memory History.
type History struct {
	mu      sync.Mutex
	Saved   map[string]buildgraph.SavedSize
	Records []*history.Record
}

func (h *History) Load(string) (map[string]buildgraph.SavedSize, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]buildgraph.SavedSize{}
	for k, v := range h.Saved {
		out[k] = v
	}
	return out, nil
}

// All returns the records kept so far (they are recorded from a goroutine
// of the run).
func (h *History) All() []*history.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.Records)
}

func (h *History) Record(recs []*history.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.Saved == nil {
		h.Saved = map[string]buildgraph.SavedSize{}
	}
	for _, r := range recs {
		h.Records = append(h.Records, r)
		if r.Size != nil {
			h.Saved[buildgraph.SavedKey(r.Engine.Kind, r.Target)] = buildgraph.SavedSize{Uncompressed: r.Size.Uncompressed, Compressed: r.Size.Compressed, At: r.Time, Engine: r.Engine.Kind}
		}
	}
	return nil
}
