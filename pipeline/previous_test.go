package pipeline

import (
	"path/filepath"
	"testing"
	"time"

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
