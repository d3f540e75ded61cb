package pipeline

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stagescope/stagescope/bake"
	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/internal/history"
)

func TestPreviousBuild(t *testing.T) {
	store := history.Open(filepath.Join(t.TempDir(), "builds.db"))
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	rec := func(min int, kind string, outcome history.Outcome, size int64) *history.Record {
		r := &history.Record{
			Time: at.Add(time.Duration(min) * time.Minute), Engine: history.Engine{Kind: kind},
			Dockerfile: "/src/Dockerfile", Target: "app", Outcome: outcome, Duration: time.Duration(min) * time.Second,
		}
		if size > 0 {
			r.Size = &buildgraph.ImageSize{Uncompressed: size, Compressed: size / 2, Layers: []buildgraph.Layer{{CreatedBy: "COPY . . # buildkit", Size: size}}}
		}
		return r
	}
	older := rec(1, "buildkitd", history.Succeeded, 1000)
	otherKind := rec(2, "docker", history.Succeeded, 2000)
	failed := rec(3, "buildkitd", history.Failed, 0)
	current := rec(4, "buildkitd", history.Succeeded, 1500)
	if err := store.Record([]*history.Record{older, otherKind, failed, current}); err != nil {
		t.Fatal(err)
	}
	prev, ok := PreviousBuild(store, current)
	if !ok || prev.Size == nil || prev.Size.Uncompressed != 1000 || len(prev.Size.Layers) != 1 || prev.Duration != time.Second {
		t.Errorf("PreviousBuild = %+v, %v; want the older build on buildkitd, with its layers and time", prev, ok)
	}
	if _, ok := PreviousBuild(store, older); ok {
		t.Error("the oldest build has no previous one")
	}
	if _, ok := PreviousBuild(&fakes.History{}, current); ok {
		t.Error("a History that lists no records gives no previous build")
	}
}

// Bake targets of one Dockerfile and stage with different arguments (a
// matrix) each compare with their own last build: "last time" and the
// previous build are the bake target's, never its sibling's.
func TestPreviousOfBakeTarget(t *testing.T) {
	store := history.Open(filepath.Join(t.TempDir(), "builds.db"))
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	rec := func(min int, bake string, size int64) *history.Record {
		return &history.Record{
			Time: at.Add(time.Duration(min) * time.Minute), Engine: history.Engine{Kind: "buildkitd"},
			Dockerfile: "/src/Dockerfile", Target: "app", Bake: bake, Outcome: history.Succeeded,
			Size: &buildgraph.ImageSize{Uncompressed: size, Compressed: size / 2},
		}
	}
	alpine, debian, plain := rec(1, "app-alpine", 8_000_000), rec(2, "app-debian", 80_000_000), rec(3, "", 50_000_000)
	if err := store.Record([]*history.Record{alpine, debian, plain}); err != nil {
		t.Fatal(err)
	}
	again := rec(4, "app-alpine", 9_000_000)
	if err := store.Record([]*history.Record{again}); err != nil {
		t.Fatal(err)
	}
	if prev, ok := PreviousBuild(store, again); !ok || prev.Size.Uncompressed != 8_000_000 {
		t.Errorf("previous of app-alpine: %+v %v, want app-alpine's 8MB", prev.Size, ok)
	}
	saved, err := store.Load("/src/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	g, err := buildgraph.Parse([]byte("FROM scratch AS app\n"), buildgraph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int64{"app-alpine": 9_000_000, "app-debian": 80_000_000, "app-other": 0} {
		p := &Project{Name: name, Bake: &bake.Target{Name: name}}
		s, ok := SavedOf(saved, "buildkitd", p, g, "app")
		if ok != (want != 0) || s.Uncompressed != want {
			t.Errorf("saved size of bake target %s: %d %v, want %d", name, s.Uncompressed, ok, want)
		}
	}
	if s, ok := SavedOf(saved, "buildkitd", nil, g, "app"); !ok || s.Uncompressed != 9_000_000 {
		t.Errorf("saved size of the stage outside bake: %d %v, want the newest build's", s.Uncompressed, ok)
	}
}
