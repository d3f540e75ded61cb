package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/stagescope/stagescope/buildgraph"
)

// TestLayerWithoutCreatedBy: a layer whose history entry has no createdBy
// (an image made by docker import, or layers beyond the history) is named
// by the entry's comment, else says it has no history text, rather than
// leaving a blank row.
func TestLayerWithoutCreatedBy(t *testing.T) {
	g, err := buildgraph.Parse([]byte("FROM golang AS builder\nRUN go build\n"), buildgraph.Options{Filename: "Dockerfile"})
	if err != nil {
		t.Fatal(err)
	}
	v := NewCompareView(g, NewStyles(true))
	v.SetSize(100, 30)
	size := &buildgraph.ImageSize{Ref: "x:builder", Uncompressed: 300, Compressed: buildgraph.Unknown, Layers: []buildgraph.Layer{
		{Comment: "offline base golang (scripts/offline-bases)", Size: 100, Base: true, Stage: -1},
		{Size: 120, Base: true, Stage: -1},
		{CreatedBy: "RUN /bin/sh -c go build # buildkit", Size: 80, Stage: 0, StageName: "builder", Line: 2, Instruction: "RUN go build"},
	}}
	v.SetResults([]buildgraph.TargetResult{{Target: "builder", Size: size}}, nil, "docker", "docker unix:///var/run/docker.sock", "builder", time.Now())
	screen := ansi.Strip(v.View())
	for _, want := range []string{
		"100B  offline base golang (scripts/offline-bases)",
		"120B  (no history text)",
		"80B  RUN go build",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("no %q in the layers:\n%s", want, screen)
		}
	}
}
