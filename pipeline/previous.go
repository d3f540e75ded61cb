package pipeline

import (
	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/history"
)

// Records is a History that lists its records and reads them whole
// (internal/history.Store).
type Records interface {
	History
	List(f history.Filter) ([]history.Summary, error)
	Get(prefix string) (*history.Record, error)
}

// previousLookback is how many records of a target PreviousBuild reads
// the summaries of.
const previousLookback = 20

// PreviousBuild is the newest recorded build of the target before the
// record rec (the build that just ended) that succeeded and was measured
// on the same kind of engine, as a result: its size with its layers, its
// time, its steps. ok is false when h keeps no such record or lists none.
func PreviousBuild(h History, rec *history.Record) (prev buildgraph.TargetResult, ok bool) {
	rs, is := h.(Records)
	if !is || rec == nil {
		return prev, false
	}
	sums, err := rs.List(history.Filter{Dockerfile: rec.Dockerfile, Target: rec.Target, Limit: previousLookback})
	if err != nil {
		return prev, false
	}
	for _, s := range sums {
		if s.ID == rec.ID || !s.Time.Before(rec.Time) || s.Engine != rec.Engine.Kind || s.Uncompressed == nil || s.Outcome != history.Succeeded {
			continue
		}
		if rec.Bake != "" && s.Bake != rec.Bake {
			continue // another bake target of the same stage: other arguments
		}
		r, err := rs.Get(s.ID)
		if err != nil || r.Size == nil {
			continue
		}
		return buildgraph.TargetResult{
			Target: r.Target, Image: r.Image, Size: r.Size, Duration: r.Duration,
			StepsCached: r.StepsCached, StepsTotal: r.StepsTotal, Breakdown: r.Breakdown,
		}, true
	}
	return prev, false
}

// SavedOf finds the saved size of target, a stage of g, of project p's
// Dockerfile (saved is that Dockerfile's, by buildgraph.SavedKey): for a
// bake target, the size its own builds saved (buildgraph.BakeSavedKey),
// never another bake target's of the same stage.
func SavedOf(saved map[string]buildgraph.SavedSize, engineKind string, p *Project, g *buildgraph.Graph, target string) (buildgraph.SavedSize, bool) {
	return SavedOn(saved, engineKind, p, g, target, "")
}

// SavedOn is SavedOf for the image of one platform (normalized, as
// Project.Platforms has it): what a build for several platforms compares
// that platform's image with; "" is SavedOf.
func SavedOn(saved map[string]buildgraph.SavedSize, engineKind string, p *Project, g *buildgraph.Graph, target, platform string) (buildgraph.SavedSize, bool) {
	if p != nil && p.Bake != nil {
		s, ok := saved[buildgraph.PlatformSavedKey(buildgraph.BakeSavedKey(engineKind, p.Bake.Name), platform)]
		return s, ok
	}
	return buildgraph.LookupSavedOn(saved, engineKind, g, target, platform)
}

// previousOf is the saved size plan's result is compared with: for a
// build for one platform given with --platform, that platform's image's
// when one was measured (an index's, or a build's for it alone), else, as
// for any other build, the target's (SavedOf).
func previousOf(saved map[string]buildgraph.SavedSize, engineKind string, proj *Project, plan *Plan) (buildgraph.SavedSize, bool) {
	if plat, ok := buildgraph.NormalizePlatform(plan.Request.Platform); ok {
		if s, ok := SavedOn(saved, engineKind, proj, plan.Graph, plan.Target, plat); ok {
			return s, true
		}
	}
	return SavedOf(saved, engineKind, proj, plan.Graph, plan.Target)
}

// platformPrevious is, for a build of proj for several platforms, the
// saved size of each platform's image of target, by platform; nil for a
// build for one or when none was saved.
func platformPrevious(saved map[string]buildgraph.SavedSize, engineKind string, proj *Project, g *buildgraph.Graph, target string) map[string]buildgraph.SavedSize {
	if len(proj.Platforms) < 2 {
		return nil
	}
	var out map[string]buildgraph.SavedSize
	for _, plat := range proj.Platforms {
		if s, ok := SavedOn(saved, engineKind, proj, g, target, plat); ok {
			if out == nil {
				out = map[string]buildgraph.SavedSize{}
			}
			out[plat] = s
		}
	}
	return out
}
