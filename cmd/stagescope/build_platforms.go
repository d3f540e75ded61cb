package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

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
	// In the order asked for; a platform BuildKit prefixed no step with
	// (all shared with another) comes last.
	slices.SortStableFunc(groups, func(a, b buildgraph.PlatformProgress) int {
		ia, ib := slices.Index(proj.Platforms, a.Platform), slices.Index(proj.Platforms, b.Platform)
		if ia < 0 {
			ia = len(proj.Platforms)
		}
		if ib < 0 {
			ib = len(proj.Platforms)
		}
		return ia - ib
	})
	width := 0
	for _, g := range groups {
		width = max(width, len(g.Platform))
	}
	for _, g := range groups {
		var parts []string
		for _, s := range g.Stages {
			part := s.Name
			if s.RunsOn != "" {
				part += " (on " + s.RunsOn + ")"
			}
			steps := "steps"
			if s.Steps == 1 {
				steps = "step"
			}
			part += fmt.Sprintf(" %d %s", s.Steps, steps)
			if s.Cached > 0 {
				part += fmt.Sprintf(", %d cached", s.Cached)
			}
			parts = append(parts, part)
		}
		fmt.Fprintf(w, "  %-*s  %s\n", width, g.Platform, strings.Join(parts, "; "))
	}
}
