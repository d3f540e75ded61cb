package tui

import (
	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
)

// A build of several Dockerfiles (a on the story, NAME:TARGET arguments)
// is one pipeline run with a step model per Dockerfile
// (pipeline.Run.Progresses). The build screen draws one section per
// Dockerfile, its name above its stages; a build of one Dockerfile is one
// section without that line.

// buildSection is one Dockerfile's part of a build: its step model, the
// graph and the lines it was built from, and its plans.
type buildSection struct {
	name     string // the project's Name, "" for a build of one unnamed Dockerfile
	file     string // the Dockerfile's path
	progress *buildgraph.Progress
	g        *buildgraph.Graph
	source   []string
	plans    []*pipeline.Plan
}

// buildSections are the sections of a build, in the order of the
// Dockerfiles' first targets.
func buildSections(r *buildRun) []buildSection {
	if r == nil || r.Run == nil {
		return nil
	}
	if len(r.Progresses) == 0 {
		// A run made by hand (tests): Progress, of the followed project.
		sec := buildSection{progress: r.Progress}
		if r.project != nil {
			sec.name, sec.file, sec.g, sec.source = r.project.Name, r.project.Dockerfile, r.project.Graph, buildgraph.SourceLines(r.project.Source)
		}
		for i, pl := range r.Plans {
			if r.Follows(i) {
				sec.plans = append(sec.plans, pl)
			}
		}
		return []buildSection{sec}
	}
	out := make([]buildSection, len(r.Progresses))
	for k, p := range r.Progresses {
		sec := buildSection{progress: p}
		proj := r.Projects[k]
		if k == 0 && r.project != nil {
			proj = r.project // the Project as it was built
		}
		if proj != nil {
			sec.name, sec.file, sec.g, sec.source = proj.Name, proj.Dockerfile, proj.Graph, buildgraph.SourceLines(proj.Source)
		}
		out[k] = sec
	}
	for i, pl := range r.Plans {
		for k := range out {
			if r.ProgressOfPlan(i) == out[k].progress {
				out[k].plans = append(out[k].plans, pl)
			}
		}
	}
	return out
}

// failedStep is the step that failed first in any section (by completion),
// with its section; nil when none failed.
func failedStep(secs []buildSection) (int, *buildgraph.Step) {
	at, first := -1, (*buildgraph.Step)(nil)
	for k, sec := range secs {
		f := sec.progress.Failed()
		if f == nil {
			continue
		}
		if first == nil || !f.Completed.IsZero() && (first.Completed.IsZero() || f.Completed.Before(first.Completed)) {
			at, first = k, f
		}
	}
	return at, first
}

// runModels are the step models of a build: one per Dockerfile.
func runModels(r *buildRun) []*buildgraph.Progress {
	if len(r.Progresses) == 0 {
		return []*buildgraph.Progress{r.Progress}
	}
	return r.Progresses
}

// runCounts counts the steps of every Dockerfile of a build as
// Progress.Counts does: one per instruction after FROM.
func runCounts(ps []*buildgraph.Progress) (cached, done, total int) {
	for _, p := range ps {
		c, d, n := p.Counts()
		cached, done, total = cached+c, done+d, total+n
	}
	return cached, done, total
}
