package tui

import (
	"fmt"
	"strings"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
)

// The graph of a build for several platforms: BuildKit resolves the
// Dockerfile once per platform, so the focused target's build may run
// other stages on each (FROM base-${TARGETARCH}). The details say which
// stages each platform builds, and the stages that differ are marked ≠ on
// the graph.

// markDiffers marks a stage that does not build alike on every platform,
// as the graph command does.
const markDiffers = "≠"

// SetProject gives the graph its project, for the platforms it builds for.
func (v *GraphView) SetProject(p *pipeline.Project) {
	v.project = p
	v.closureStage = -1
	v.refresh()
}

// platformsFor resolves the Dockerfile for each platform of the project
// with stage f as the target; nothing for a build of one platform.
func (v *GraphView) platformsFor(f *buildgraph.Stage) {
	v.platforms, v.platformsErr = nil, nil
	if v.project == nil || len(v.project.Platforms) < 2 || v.project.Graph != v.g {
		return
	}
	t, ok := targetArg(v.g, f)
	if !ok {
		return
	}
	v.platforms, v.platformsErr = v.project.PlatformSet(t)
}

// differs reports whether stage i builds differently on the platforms of
// the focused target's build.
func (v GraphView) differs(i int) bool {
	return v.platforms != nil && i < len(v.platforms.Stages) && v.platforms.Stages[i].Differs()
}

// platformLines are the details of the focused target's build on each
// platform: the stages it builds there, those that differ marked, and how
// they differ.
func (v GraphView) platformLines(f *buildgraph.Stage, inner int) []string {
	s := v.styles
	set := v.platforms
	if set == nil && v.platformsErr == nil {
		return nil
	}
	var out []string
	add := func(line string) { out = append(out, "  "+truncate(line, inner)) }
	out = append(out, "", "  "+s.PaneTitle.Render("Platforms"))
	if v.platformsErr != nil {
		add(s.Error.Render(clean(buildgraph.FirstLine(v.platformsErr.Error()))))
		return out
	}
	diff := set.Differing()
	summary := "builds alike on every platform"
	if len(diff) > 0 {
		summary = fmt.Sprintf("%d of %d stages differ", len(diff), len(set.Stages))
	}
	add(s.Muted.Render(fmt.Sprintf("%s for %s · build platform %s", summary, clean(f.Name), clean(set.BuildPlatform()))))
	w := 0
	for _, p := range set.Platforms {
		w = max(w, len(p))
	}
	for i, p := range set.Platforms {
		var names []string
		for _, st := range set.Stages {
			on := st.On[i]
			if !on.Used() {
				continue
			}
			name := clean(st.Name)
			if on.RunsOn != on.Platform {
				name += " (on " + clean(on.RunsOn) + ")"
			}
			if st.Differs() {
				name = s.Warn.Render(markDiffers+" ") + name
			}
			names = append(names, name)
		}
		add(pad(clean(p), w) + "  " + strings.Join(names, ", "))
	}
	for _, st := range diff {
		add(s.Warn.Render(markDiffers+" "+clean(st.Name)) + s.Muted.Render(": "+clean(strings.Join(st.Differences, "; "))))
	}
	return out
}
