package pipeline

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/internal/history"
)

// recordedFake is a fake session that names its address for the records.
type recordedFake struct {
	*fakes.Session
	addr string
}

func (r recordedFake) Recorded() history.Engine {
	return history.Engine{Kind: r.Kind(), Address: r.addr}
}

// NodeSessions: each request is built by the node of its platform, with
// its own status channel; results and errors come back at the request's
// index; each image is measured by the node that built it; the records
// name the node of each platform.
func TestNodeSessionsRoute(t *testing.T) {
	stream := []*client.SolveStatus{{}}
	size := &buildgraph.ImageSize{Compressed: 10}
	arm := &fakes.Session{Streams: map[string][]*client.SolveStatus{"a": stream, "c": stream},
		Sizes: map[string]*buildgraph.ImageSize{"img-a": size, "img-c": size}}
	amd := &fakes.Session{Streams: map[string][]*client.SolveStatus{"b": stream, "d": stream},
		Fail:  map[string]error{"d": errors.New("d failed")},
		Sizes: map[string]*buildgraph.ImageSize{"img-b": size}}
	s := NewNodeSessions("pair", []Node{
		{Name: "n1", Addr: "tcp://arm:1", Session: recordedFake{arm, "tcp://arm:1"}},
		{Name: "n2", Addr: "tcp://amd:1", Session: recordedFake{amd, "tcp://amd:1"}},
	}, map[string]int{"linux/arm64": 0, "linux/amd64": 1})
	reqs := []engine.BuildRequest{
		{Target: "a", Platform: "linux/arm64", Tags: []string{"img-a"}},
		{Target: "b", Platform: "linux/amd64", Tags: []string{"img-b"}},
		{Target: "c", Platform: "linux/arm64", Tags: []string{"img-c"}},
		{Target: "d", Platform: "linux/amd64", Tags: []string{"img-d"}},
	}
	chans := make([]chan *client.SolveStatus, len(reqs))
	got := make([]int, len(reqs))
	done := make(chan struct{})
	for i := range chans {
		chans[i] = make(chan *client.SolveStatus)
		go func() {
			for range chans[i] {
				got[i]++
			}
			done <- struct{}{}
		}()
	}
	res, errs := s.BuildAll(context.Background(), reqs, chans)
	for range chans {
		<-done
	}
	for i, want := range []string{"img-a", "img-b", "img-c", ""} {
		if want == "" {
			if res[i] != nil || errs[i] == nil || errs[i].Error() != "d failed" {
				t.Errorf("request %d: %v %v, want d's failure", i, res[i], errs[i])
			}
			continue
		}
		if errs[i] != nil || res[i] == nil || res[i].Image != want {
			t.Fatalf("request %d: %v %v, want %s", i, res[i], errs[i], want)
		}
		if got[i] != 1 {
			t.Errorf("request %d: %d status updates on its channel, want 1", i, got[i])
		}
		if _, err := s.Measure(context.Background(), res[i], func(int64, int64) {}); err != nil {
			t.Errorf("measuring %s: %v", want, err)
		}
	}
	if m := arm.Measured(); !slices.Equal(m, []string{"img-a", "img-c"}) {
		t.Errorf("arm64 node measured %v, want img-a img-c", m)
	}
	if m := amd.Measured(); !slices.Equal(m, []string{"img-b"}) {
		t.Errorf("amd64 node measured %v, want img-b", m)
	}
	one, err := s.Build(context.Background(), engine.BuildRequest{Target: "b", Platform: "linux/amd64", Tags: []string{"img-b"}}, make(chan *client.SolveStatus, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Measure(context.Background(), one, func(int64, int64) {}); err != nil || len(amd.Measured()) != 2 {
		t.Errorf("Build of an amd64 target: measured on %v (%v), want the amd64 node", amd.Measured(), err)
	}
	if e := engineFor(s, "linux/amd64"); e.Address != "tcp://amd:1" || e.Kind != "buildkitd" {
		t.Errorf("records of linux/amd64 name %+v, want the amd64 node", e)
	}
	if e := engineFor(s, "linux/arm64"); e.Address != "tcp://arm:1" {
		t.Errorf("records of linux/arm64 name %+v, want the arm64 node", e)
	}
	if n := s.NodeOf("linux/arm64"); n != "n1" {
		t.Errorf("NodeOf(linux/arm64) = %s, want n1", n)
	}
	want := "buildkitd (builder pair: node n1 tcp://arm:1 builds linux/arm64; node n2 tcp://amd:1 builds linux/amd64)"
	if d := s.Describe(); d != want {
		t.Errorf("Describe = %q, want %q", d, want)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}
