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
	lintpb "github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// lintViolation starts the error BuildKit returns under
// "# check=error=true"; its rule list comes from a map, so buildgraph
// rebuilds it in a stable order.
const lintViolation = "lint violation found for rules: "

// Lint runs BuildKit's linter over the Dockerfile g was parsed from, as
// Parse does unless Options.SkipLint is set, and returns its findings: the
// warnings, by line, and the error BuildKit would fail the build with (see
// Graph.Warnings and Graph.LintError). g is not changed, so a caller may
// show a graph parsed with SkipLint at once and lint it in the background.
func (g *Graph) Lint() ([]Warning, *Error) {
	return g.lintFindings(runLint(g.src, g.File, g.opts))
}

// Linted reports whether g carries the linter's findings: it was parsed
// without Options.SkipLint.
func (g *Graph) Linted() bool { return g.linted }

// runLint runs BuildKit's Dockerfile linter on src the way `docker build
// --check` does (dockerfile2llb.DockerfileLint, over all stages). It needs
// only the inputs of Parse, not the graph, so that Parse runs it alongside
// its own parse. The platforms are those parse computes (an invalid one
// fails the parse, and the lint is not used).
//
// Base images are not pulled: an offline resolver describes every image as
// an empty one for the stage's platform. The linter then cannot know the
// environment variables images define, so lintFindings drops UndefinedVar
// findings for stages that do not start from scratch. Named contexts are
// not applied.
//
// A linter that fails (returns an error, or panics) is a lint problem:
// failure says how, and lintFindings makes it the graph's LintError; the
// graph stands without the linter.
func runLint(src []byte, file string, opts Options) (res *lintpb.LintResults, failure string) {
	defer func() {
		if r := recover(); r != nil {
			res, failure = nil, fmt.Sprint(r)
		}
	}()
	build, target := hostPlatform(), hostPlatform()
	if p, err := platforms.Parse(opts.BuildPlatform); err == nil {
		build = platforms.Normalize(p)
	}
	if p, err := platforms.Parse(opts.Platform); err == nil {
		target = platforms.Normalize(p)
	}
	// The source map only names the Dockerfile in lint results; BuildKit's
	// lint subrequest requires a definition, which may be empty.
	sourceMap := llb.NewSourceMap(nil, file, "Dockerfile", src)
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
			BuildArgs:      maps.Clone(opts.BuildArgs),
			BuildPlatforms: []ocispecs.Platform{build},
		},
		SourceMap:    sourceMap,
		MetaResolver: offlineResolver{},
	}
	if opts.Platform != "" {
		opt.TargetPlatform = &target
	}
	res, err := dockerfileLint(context.Background(), src, opt)
	if err != nil {
		return nil, FirstLine(err.Error())
	}
	return res, ""
}

// dockerfileLint is BuildKit's linter; tests replace it to make it fail.
var dockerfileLint = dockerfile2llb.DockerfileLint

// lintFindings turns the linter's results into g's warnings and lint error.
func (g *Graph) lintFindings(res *lintpb.LintResults, failure string) (warnings []Warning, lintErr *Error) {
	if failure != "" {
		return nil, &Error{File: g.File, Msg: "BuildKit's Dockerfile linter failed: " + failure}
	}
	if res == nil {
		return nil, nil
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
		warnings = append(warnings, warn)
	}
	slices.SortStableFunc(warnings, func(a, b Warning) int { return a.Line - b.Line })

	if res.Error == nil {
		return warnings, nil
	}
	if msg := res.Error.Message; strings.HasPrefix(msg, lintViolation) {
		var rules []string
		for _, w := range warnings {
			if !slices.Contains(rules, w.Rule) {
				rules = append(rules, w.Rule)
			}
		}
		if len(rules) > 0 {
			slices.Sort(rules)
			lintErr = &Error{File: g.File, Msg: lintViolation + strings.Join(rules, ", ")}
		}
		return warnings, lintErr
	}
	line, endLine := pbLines(&res.Error.Location)
	return warnings, &Error{File: g.File, Line: line, EndLine: endLine, Msg: res.Error.Message}
}

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
	for range g.Stages {
		s := g.Stages[i]
		if s.Context != nil {
			return false
		}
		switch s.Base.Kind {
		case BaseScratch:
			return true
		case BaseStage:
			i = s.Base.Stage
		default:
			return false
		}
	}
	return false
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
