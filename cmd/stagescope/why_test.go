package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/stagescope/stagescope/buildgraph"
)

// BuildKit announces the steps of a build from the target down: the why:
// lines come in the Dockerfile's order all the same.
func TestWhyLinesInDockerfileOrder(t *testing.T) {
	g, err := buildgraph.Parse([]byte("FROM scratch\nCOPY a /a\nCOPY b /b\nCOPY c /c\n"), buildgraph.Options{SkipLint: true})
	if err != nil {
		t.Fatal(err)
	}
	p := buildgraph.NewProgress(g)
	p.Apply(&client.SolveStatus{Vertexes: []*client.Vertex{
		{Digest: "sha256:c", Name: "[3/3] COPY c /c"},
		{Digest: "sha256:b", Name: "[2/3] COPY b /b"},
		{Digest: "sha256:a", Name: "[1/3] COPY a /a"},
	}})
	for _, d := range []string{"sha256:c", "sha256:b", "sha256:a"} {
		p.SetWhy(digest.Digest(d), &buildgraph.Reason{Kind: buildgraph.ReasonFirstBuild})
	}
	var out bytes.Buffer
	printWhy(&out, p)
	want := "why: [1/3] COPY a /a: first-build\nwhy: [2/3] COPY b /b: first-build\nwhy: [3/3] COPY c /c: first-build\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	if strings.Count(out.String(), "why:") != 3 {
		t.Fatal("a step has no why: line")
	}
}
