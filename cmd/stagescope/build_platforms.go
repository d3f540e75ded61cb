package main

import (
	"fmt"
	"io"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
)

// printPlatforms says, after a build for several platforms, which stages
// each platform's build ran, from the steps BuildKit reported under that
// platform: "linux/arm64  builder (on linux/amd64) 1 step, stage-1 1 step".
func printPlatforms(w io.Writer, proj *pipeline.Project, p *buildgraph.Progress) {
	if len(proj.Platforms) < 2 {
		return
	}
	groups := p.ByPlatform()
	buildgraph.SortPlatformProgress(groups, proj.Platforms)
	width := 0
	for _, g := range groups {
		width = max(width, len(g.Platform))
	}
	for _, g := range groups {
		fmt.Fprintf(w, "  %-*s  %s\n", width, g.Platform, g.Summary())
	}
}
