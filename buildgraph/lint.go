package buildgraph

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// lintViolation starts the error BuildKit returns under
// "# check=error=true"; its rule list comes from a map, so buildgraph
// rebuilds it in a stable order.
const lintViolation = "lint violation found for rules: "

// lint runs BuildKit's Dockerfile linter the way `docker build --check`
// does (dockerfile2llb.DockerfileLint, over all stages) and attaches its
// findings to g.
//
// Base images are not pulled: an offline resolver describes every image as
// an empty one for the stage's platform. The linter then cannot know the
// environment variables images define, so UndefinedVar findings are dropped
// for stages that do not start from scratch. Named contexts are not applied.
//
// A linter that fails (returns an error, or panics) is a lint problem, set
// as g.LintError: the graph stands without it.
func lint(g *Graph) {
	defer func() {
		if r := recover(); r != nil {
			g.LintError = &Error{File: g.File, Msg: fmt.Sprintf("BuildKit's Dockerfile linter failed: %v", r)}
		}
	}()
	build, target := hostPlatform(), hostPlatform()
	if p, err := platforms.Parse(g.BuildPlatform); err == nil {
		build = platforms.Normalize(p)
	}
	if p, err := platforms.Parse(g.Platform); err == nil {
		target = platforms.Normalize(p)
	}
	// The source map only names the Dockerfile in lint results; BuildKit's
	// lint subrequest requires a definition, which may be empty.
	sourceMap := llb.NewSourceMap(nil, g.File, "Dockerfile", g.src)
	sourceMap.Definition = &llb.Definition{}
	// Every LLB capability of this BuildKit version, as a buildkitd of the
	// same version gives its built-in Dockerfile frontend: the conversion
	// consults them (a read-write bind mount asks for
	// CapExecMountBindReadWriteNoOutput) and does not expect them unset.
	caps := pb.Caps.CapSet(pb.Caps.All())
	opt := dockerfile2llb.ConvertOpt{
		LLBCaps: &caps,
		Config: dockerui.Config{
			// DockerfileLint may rewrite SOURCE_DATE_EPOCH in place.
			BuildArgs:      maps.Clone(g.opts.BuildArgs),
			BuildPlatforms: []ocispecs.Platform{build},
		},
		SourceMap:    sourceMap,
		MetaResolver: offlineResolver{},
	}
	if g.opts.Platform != "" {
		opt.TargetPlatform = &target
	}
	res, err := dockerfileLint(context.Background(), g.src, opt)
	if err != nil {
		g.LintError = &Error{File: g.File, Msg: "BuildKit's Dockerfile linter failed: " + FirstLine(err.Error())}
		return
	}
	if res == nil {
		return
	}
	for _, w := range res.Warnings {
		line, endLine := pbLines(w.Location)
		warn := Warning{
			Rule:        w.RuleName,
			Message:     w.Detail,
			Description: w.Description,
			URL:         w.URL,
			Line:        line,
			EndLine:     endLine,
			Stage:       g.stageAt(line),
		}
		if warn.Rule == linter.RuleUndefinedVar.Name && warn.Stage >= 0 && !g.envKnown(warn.Stage) {
			continue
		}
		g.Warnings = append(g.Warnings, warn)
	}
	slices.SortStableFunc(g.Warnings, func(a, b Warning) int { return a.Line - b.Line })

	if res.Error == nil {
		return
	}
	if msg := res.Error.Message; strings.HasPrefix(msg, lintViolation) {
		var rules []string
		for _, w := range g.Warnings {
			if !slices.Contains(rules, w.Rule) {
				rules = append(rules, w.Rule)
			}
		}
		if len(rules) > 0 {
			slices.Sort(rules)
			g.LintError = &Error{File: g.File, Msg: lintViolation + strings.Join(rules, ", ")}
		}
		return
	}
	line, endLine := pbLines(&res.Error.Location)
	g.LintError = &Error{File: g.File, Line: line, EndLine: endLine, Msg: res.Error.Message}
}

// dockerfileLint is BuildKit's linter; tests replace it to make it fail.
var dockerfileLint = dockerfile2llb.DockerfileLint

// pbLines returns the first and last line of a lint location.
func pbLines(loc *pb.Location) (int, int) {
	var rs []parser.Range
	for _, r := range loc.GetRanges() {
		rs = append(rs, parser.Range{
			Start: parser.Position{Line: int(r.GetStart().GetLine())},
			End:   parser.Position{Line: int(r.GetEnd().GetLine())},
		})
	}
	return rangeLines(rs)
}

// stageAt returns the index of the stage holding line, -1 if none does.
func (g *Graph) stageAt(line int) int {
	for _, s := range g.Stages {
		if line >= s.StartLine && line <= s.EndLine {
			return s.Index
		}
	}
	return -1
}

// envKnown reports whether every environment variable of stage i comes
// from the Dockerfile: its chain of base stages ends in scratch, and no
// named context replaces any of them.
func (g *Graph) envKnown(i int) bool {
	chain := g.Chain(i)
	return len(chain) > 0 && chain[0].Context == nil && chain[0].Base.Kind == BaseScratch
}

// offlineResolver answers the linter's image lookups without a registry: an
// image with no layers and no configuration, for the requested platform.
type offlineResolver struct{}

func (offlineResolver) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	img := ocispecs.Image{RootFS: ocispecs.RootFS{Type: "layers"}}
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		img.Platform = *opt.ImageOpt.Platform
	}
	dt, err := json.Marshal(img)
	return ref, "", dt, err
}
