package pipeline

import (
	"strings"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
)

// platformList reads --platform: one platform is passed on as given (the
// engine reports a bad one); several are normalized and returned too.
func platformList(value string) (string, []string, error) {
	if !engine.MultiPlatform(value) {
		return value, nil, nil
	}
	plats, err := buildgraph.ParsePlatformList(value)
	if err != nil {
		return "", nil, inputf("--platform: %v", err)
	}
	if len(plats) == 1 {
		return plats[0], nil, nil
	}
	return strings.Join(plats, ","), plats, nil
}

// WithPlatforms is p building for plats instead (none: the engine's
// default platform), its Graph parsed for the first of them; p itself
// when they are p's already.
func (p *Project) WithPlatforms(plats []string) (*Project, error) {
	platform, list, err := platformList(strings.Join(plats, ","))
	if err != nil {
		return nil, err
	}
	if platform == p.Base.Platform {
		return p, nil
	}
	q := *p
	q.Platforms, q.Base.Platform = list, platform
	if q.Graph, err = q.parse(""); err != nil {
		return nil, err
	}
	return &q, nil
}

// graphPlatform is the platform Graph is parsed for: the first of several.
func (p *Project) graphPlatform() string {
	if len(p.Platforms) > 0 {
		return p.Platforms[0]
	}
	return p.Base.Platform
}

// PlatformSet is the Dockerfile resolved for each platform of a build for
// several, with target's closure on each (nil for one platform).
func (p *Project) PlatformSet(target string) (*buildgraph.PlatformSet, error) {
	if len(p.Platforms) < 2 {
		return nil, nil
	}
	return buildgraph.ParsePlatforms(p.Source, buildgraph.Options{
		Filename:  p.Dockerfile,
		BuildArgs: p.Base.BuildArgs,
		Contexts:  p.Base.Contexts,
		Target:    target,
		SkipLint:  true,
	}, p.Platforms)
}

// checkPlatforms finds, before the engine does, a target that cannot build
// on one of the platforms (FROM base-${TARGETARCH} without a base stage for
// one of them is an image of that name, but a missing target or a bad
// reference fails here).
func (p *Project) checkPlatforms(target string) error {
	_, err := p.PlatformSet(target)
	return err
}

// PlatformResults makes the rows of a build for several platforms: one per
// target and platform, in plan order then platform order, each with the
// size of that platform's image in the index, its layers attributed with
// the Dockerfile as that platform resolves it, what it leaves behind, the
// index's attestations of that image, and the last saved size of that
// platform's image (the result's PlatformPrevious; none when the platform
// was never measured, or when the engine measured the whole image rather
// than each platform's). A failed target keeps one row per platform with
// its error. Results of a build for one platform are
// returned as they are.
func (p *Project) PlatformResults(plans []*Plan, results []buildgraph.TargetResult) []buildgraph.TargetResult {
	if len(p.Platforms) < 2 {
		return results
	}
	var out []buildgraph.TargetResult
	sets := make([]*buildgraph.PlatformSet, len(plans))
	for i, pl := range plans {
		sets[i], _ = p.PlatformSet(pl.Request.Target)
	}
	for pi, plat := range p.Platforms {
		measured := map[string]int64{}
		start := len(out)
		for i, r := range results {
			row := r
			row.Platform = plat
			row.Breakdown = nil
			// The target's last size is no platform's own: the platform's
			// image is compared with that platform's, when it was measured
			// alone (Docker's image store measures the whole image once).
			row.Previous, row.PlatformPrevious = nil, nil
			if prev, ok := r.PlatformPrevious[plat]; ok && (r.Size == nil || len(r.Size.Platforms) > 0) {
				row.Previous = &prev
			}
			if r.Size != nil {
				row.Size = r.Size.ForPlatform(plat)
				if row.Size == nil {
					row.Error = "the image index holds no " + plat + " image"
				} else {
					row.Attestations = r.Size.AttestationsFor(plat)
					// The platform's own measurement, without the index's lists.
					own := *row.Size
					own.Platforms, own.Attestations = nil, nil
					row.Size = &own
					measured[row.Target] = own.Uncompressed
					if i < len(sets) && sets[i] != nil {
						b := buildgraph.Attribute(sets[i].Closures[pi].Graph, row.Target, row.Size)
						row.Breakdown = &b
					}
				}
			}
			out = append(out, row)
		}
		for k := start; k < len(out); k++ {
			i := k - start
			if out[k].Breakdown != nil && i < len(sets) && sets[i] != nil {
				out[k].Breakdown.LeftBehind = buildgraph.LeftBehind(sets[i].Closures[pi].Graph, out[k].Target, measured)
			}
		}
	}
	return out
}

// provenanceAttr turns --provenance into the frontend attribute's value.
func provenanceAttr(v string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "0":
		return "", nil
	case "min", "mode=min", "true", "1":
		return "mode=min", nil
	case "max", "mode=max":
		return "mode=max", nil
	}
	return "", inputf("--provenance %q: want min, max or false", v)
}
