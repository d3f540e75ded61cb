package buildgraph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// The differential fuzzer: BuildKit's own Dockerfile frontend is the
// oracle for Parse and Closure.
//
// Each generated build (difffuzz_gen_test.go) is checked for the default
// target, every stage name and a few other names. For each target, Parse
// and Closure on one side, and on the other dockerfile2llb.Dockerfile2LLB
// run in-process exactly as BuildKit's frontend runs it (a dockerui.Client
// over a gateway client that answers offline, with the build options
// "target", "build-arg:NAME", "context:NAME" and "platform"), whose LLB is
// marshalled. The two must agree:
//
//   - accept or reject: Parse or Closure fails exactly when the conversion
//     fails;
//   - the stages that build: the source map of the LLB locates every step
//     it holds in the Dockerfile, so the stages whose lines appear in it are
//     the ones BuildKit builds. They must be among Closure.Stages, and every
//     stage of the closure that has a step of its own (a RUN, COPY or ADD,
//     an ONBUILD step of its base, or a FROM of an image) must appear. A
//     stage with only metadata (or from scratch with no step) leaves no
//     trace in the LLB and is not compared;
//   - the images and named contexts used: the LLB's source operations
//     (docker-image://... and local://... identifiers) must be exactly the
//     images and contexts of the closure. Every named context value is
//     unique, so a replaced stage is seen through its context.
//
// Neither side may panic. A panic inside BuildKit is reported as a finding
// of BuildKit, not a failure of stagescope.

// oracleOutcome is what the conversion of one target gave.
type oracleOutcome struct {
	err    error
	panic  string
	stages map[int]bool // stages with a step located in the LLB
	ids    map[string]bool
}

// oracleClient is a gateway client that answers the frontend offline:
// images are configs with one layer, files of the build context do not
// exist, and solving returns an empty reference.
type oracleClient struct {
	client.Client // not implemented: a call panics
	opts          map[string]string
	build         ocispecs.Platform
}

// Every capability, as a current buildkitd announces them.
var (
	oracleLLBCaps     = pb.Caps.CapSet(pb.Caps.All())
	oracleGatewayCaps = gwpb.Caps.CapSet(gwpb.Caps.All())
)

func (c *oracleClient) BuildOpts() client.BuildOpts {
	return client.BuildOpts{
		Opts:      maps.Clone(c.opts),
		SessionID: "difffuzz",
		Workers:   []client.WorkerInfo{{ID: "w", Platforms: []ocispecs.Platform{c.build}}},
		Product:   "buildkit",
		LLBCaps:   oracleLLBCaps,
		Caps:      oracleGatewayCaps,
	}
}

// ResolveImageConfig describes every image as one with a single layer, so
// that BuildKit keeps its FROM as a step (an image without layers becomes
// scratch and leaves no trace).
func (c *oracleClient) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	img := ocispecs.Image{RootFS: ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString("layer")}}}
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		img.Platform = *opt.ImageOpt.Platform
	}
	dt, err := json.Marshal(img)
	return ref, "", dt, err
}

func (c *oracleClient) Solve(context.Context, client.SolveRequest) (*client.Result, error) {
	res := client.NewResult()
	res.SetRef(oracleRef{})
	return res, nil
}

func (c *oracleClient) Inputs(context.Context) (map[string]llb.State, error) {
	return map[string]llb.State{}, nil
}

func (c *oracleClient) Warn(context.Context, digest.Digest, string, client.WarnOpts) error {
	return nil
}

// oracleRef is a solved reference with no files (no .dockerignore).
type oracleRef struct{ client.Reference }

var errNoFile = errors.New("no such file")

func (oracleRef) ReadFile(context.Context, client.ReadRequest) ([]byte, error) {
	return nil, errNoFile
}

func (oracleRef) StatFile(context.Context, client.StatRequest) (*fstypes.Stat, error) {
	return nil, errNoFile
}

// oracleConvert runs BuildKit's conversion of gc for target and reads the
// stages and sources of its LLB. stageStart holds the first line of each
// stage (BuildKit's parse).
func oracleConvert(gc genCase, target string, stageStart []int) (out oracleOutcome) {
	defer func() {
		if r := recover(); r != nil {
			out = oracleOutcome{panic: fmt.Sprintf("%v\n%s", r, debug.Stack())}
		}
	}()
	ctx := context.Background()
	opts := map[string]string{"platform": gc.platform}
	if target != "" {
		opts["target"] = target
	}
	for k, v := range gc.buildArgs {
		opts["build-arg:"+k] = v
	}
	for k, v := range gc.contexts {
		opts["context:"+k] = v
	}
	build, err := platforms.Parse(gc.buildPlatform)
	if err != nil {
		return oracleOutcome{err: err}
	}
	fc := &oracleClient{opts: opts, build: platforms.Normalize(build)}
	bc, err := dockerui.NewClient(fc)
	if err != nil {
		return oracleOutcome{err: fmt.Errorf("frontend options: %w", err)}
	}
	src := []byte(gc.dockerfile)
	opt := dockerfile2llb.ConvertOpt{
		Config:       bc.Config,
		Client:       bc,
		SourceMap:    llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", src),
		MetaResolver: fc,
	}
	// As the frontend's Build does for its one target platform.
	opt.BuildArgs = maps.Clone(opt.BuildArgs)
	if len(bc.TargetPlatforms) > 0 {
		opt.TargetPlatform = &bc.TargetPlatforms[0]
	}
	res, err := dockerfile2llb.Dockerfile2LLB(ctx, src, opt)
	if err != nil {
		return oracleOutcome{err: err}
	}
	def, err := res.State.Marshal(ctx)
	if err != nil {
		return oracleOutcome{err: fmt.Errorf("marshal: %w", err)}
	}
	out = oracleOutcome{stages: map[int]bool{}, ids: map[string]bool{}}
	sources := map[string]bool{} // digests of source operations
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return oracleOutcome{err: fmt.Errorf("unmarshal op: %w", err)}
		}
		if s := op.GetSource(); s != nil {
			out.ids[s.Identifier] = true
			sources[digest.FromBytes(dt).String()] = true
		}
	}
	if def.Source == nil {
		return out
	}
	for dgst, locs := range def.Source.Locations {
		for _, l := range locs.GetLocations() {
			for _, r := range l.GetRanges() {
				line := int(r.GetStart().GetLine())
				// An image a COPY --from names is located at the
				// first instruction naming it, which a numeric
				// --from elsewhere may reuse: only a FROM line
				// places an image in its stage.
				if sources[dgst] && !slices.Contains(stageStart, line) {
					continue
				}
				stage := -1
				for i, start := range stageStart {
					if line >= start {
						stage = i
					}
				}
				out.stages[stage] = true
			}
		}
	}
	return out
}

// bkStages parses src with BuildKit's parser and returns its stages, or
// nil when it does not parse.
func bkStages(src string) []instructions.Stage {
	res, err := parser.Parse(strings.NewReader(src))
	if err != nil {
		return nil
	}
	stages, _, err := instructions.Parse(res.AST, linter.New(&linter.Config{}))
	if err != nil {
		return nil
	}
	return stages
}

var (
	bkParseErrorPrefix = regexp.MustCompile(`^dockerfile parse error on line \d+: `)
	didYouMean         = regexp.MustCompile(` \(did you mean [^)]*\)`)
	onbuildPrefix      = regexp.MustCompile(`^ONBUILD trigger of stage \S+ \(line \d+\): `)
	mountTarget        = regexp.MustCompile(`to "[^"]*"`)
)

// sameErrorForm normalizes an error message for comparison: without the
// prefix of BuildKit's parser errors and of stagescope's ONBUILD errors
// (which name the trigger), without suggestions (BuildKit
// suggests unnamed stages' names, which are no targets). An invalid
// reference in FROM is any of them: BuildKit checks the stages' references
// concurrently and reports the first to fail.
func sameErrorForm(msg string) string {
	msg = bkParseErrorPrefix.ReplaceAllString(msg, "")
	msg = onbuildPrefix.ReplaceAllString(msg, "")
	msg = didYouMean.ReplaceAllString(msg, "")
	if strings.HasPrefix(msg, "failed to parse stage name ") {
		return "failed to parse stage name"
	}
	return msg
}

// diffStats counts what the differential checks did, in this process.
var diffStats struct {
	dockerfiles, targets, accepted, rejected atomic.Int64
	// stagesCompared counts target checks where at least one stage's
	// presence was compared.
	stagesCompared atomic.Int64
	// BuildKit panics.
	buildkitPanics atomic.Int64
	failures       atomic.Int64
}

func diffStatsLine() string {
	s := &diffStats
	return fmt.Sprintf("dockerfiles=%d targets=%d accepted=%d rejected=%d stages-compared=%d buildkit-panics=%d",
		s.dockerfiles.Load(), s.targets.Load(), s.accepted.Load(), s.rejected.Load(), s.stagesCompared.Load(),
		s.buildkitPanics.Load())
}

// writeDiffStats writes this process's counts to $STAGESCOPE_DIFFFUZZ_STATS
// with the process id appended (fuzzing runs several worker processes).
func writeDiffStats() {
	path := os.Getenv("STAGESCOPE_DIFFFUZZ_STATS")
	if path == "" {
		return
	}
	_ = os.WriteFile(fmt.Sprintf("%s.%d", path, os.Getpid()), []byte(diffStatsLine()+"\n"), 0o644)
}

// checkDifferential compares stagescope with BuildKit on every target of
// gc. It reports disagreements with t.Errorf and returns how many targets
// it checked.
func checkDifferential(t testing.TB, gc genCase) int {
	t.Helper()
	diffStats.dockerfiles.Add(1)
	defer func() {
		if n := diffStats.dockerfiles.Load(); n%100 == 0 {
			writeDiffStats()
		}
	}()
	src := []byte(gc.dockerfile)
	stages := bkStages(gc.dockerfile)
	stageStart := make([]int, len(stages))
	for i, s := range stages {
		stageStart[i] = s.Location[0].Start.Line
	}

	if raceDetector && copiesByIndexFromImage(stages) {
		// BuildKit's conversion races with itself on these
		// (docs/reliability.md); the normal pass checks them.
		return 0
	}

	// The graph with lint, as the commands build it: no panic.
	lintPanic := func() (p string) {
		defer func() {
			if r := recover(); r != nil {
				p = fmt.Sprintf("%v\n%s", r, debug.Stack())
			}
		}()
		_, _ = Parse(src, Options{BuildArgs: maps.Clone(gc.buildArgs), Contexts: gc.contexts, Platform: gc.platform, BuildPlatform: gc.buildPlatform})
		return ""
	}()
	if lintPanic != "" {
		diffFail(t, "Parse panicked:\n%s\n%s", gc, lintPanic)
		return 0
	}

	targets := []string{""}
	if g, err := Parse(src, stagescopeOptions(gc, "")); err == nil {
		for _, s := range g.Stages {
			if s.Named && !slices.Contains(targets, s.Name) {
				targets = append(targets, s.Name)
			}
		}
	}
	for _, tg := range gc.targets {
		if !slices.Contains(targets, tg) {
			targets = append(targets, tg)
		}
	}
	for _, target := range targets {
		checkTarget(t, gc, target, stages, stageStart)
	}
	return len(targets)
}

// copiesByIndexFromImage reports whether a COPY --from names by index a
// source that is not a stage (an image an earlier COPY --from named).
func copiesByIndexFromImage(stages []instructions.Stage) bool {
	for _, s := range stages {
		for _, cmd := range s.Commands {
			if c, ok := cmd.(*instructions.CopyCommand); ok {
				if i, err := strconv.Atoi(c.From); err == nil && i >= len(stages) {
					return true
				}
			}
		}
	}
	return false
}

func stagescopeOptions(gc genCase, target string) Options {
	return Options{
		BuildArgs:     maps.Clone(gc.buildArgs),
		Contexts:      gc.contexts,
		Target:        target,
		Platform:      gc.platform,
		BuildPlatform: gc.buildPlatform,
		SkipLint:      true,
	}
}

func checkTarget(t testing.TB, gc genCase, target string, stages []instructions.Stage, stageStart []int) {
	t.Helper()
	diffStats.targets.Add(1)
	src := []byte(gc.dockerfile)
	var (
		c    Closure
		serr error
	)
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("target %q: Parse or Closure panicked: %v\n%s\n%s", target, r, gc, debug.Stack())
			}
		}()
		var g *Graph
		g, serr = Parse(src, stagescopeOptions(gc, target))
		if serr == nil {
			c, serr = g.Closure(target)
		}
	}()
	bk := oracleConvert(gc, target, stageStart)
	if bk.panic != "" {
		diffStats.buildkitPanics.Add(1)
		t.Logf("finding: BuildKit's conversion panicked for target %q (not a stagescope failure):\n%s\n%s", target, gc, bk.panic)
		return
	}
	switch {
	case serr == nil && bk.err != nil:
		diffFail(t, "target %q: BuildKit rejects the build, stagescope accepts it.\nBuildKit: %v\n%s", target, bk.err, gc)
		return
	case serr != nil && bk.err == nil:
		diffFail(t, "target %q: stagescope rejects the build, BuildKit accepts it.\nstagescope: %v\n%s", target, serr, gc)
		return
	case serr != nil:
		diffStats.rejected.Add(1)
		var e *Error
		if !errors.As(serr, &e) {
			diffFail(t, "target %q: stagescope's error is %T, not *Error: %v", target, serr, serr)
			return
		}
		// The same problem: stagescope's sentence starts with BuildKit's
		// (and may add a cycle's path or the valid targets).
		got, want := sameErrorForm(e.Msg), sameErrorForm(bk.err.Error())
		if strings.Contains(gc.dockerfile, "type=$") {
			// buildgraph does not expand a mount's options when its
			// type is a variable, and names no target.
			got, want = mountTarget.ReplaceAllString(got, "to …"), mountTarget.ReplaceAllString(want, "to …")
		}
		if !strings.HasPrefix(got, want) {
			diffFail(t, "target %q: both reject the build, for different reasons.\nstagescope: %s\nBuildKit:   %s\n%s", target, e.Msg, bk.err, gc)
		}
		return
	}
	diffStats.accepted.Add(1)
	if len(stages) != len(c.Graph.Stages) {
		diffFail(t, "target %q: stagescope has %d stages, BuildKit's parser %d\n%s", target, len(c.Graph.Stages), len(stages), gc)
		return
	}
	compareClosure(t, gc, target, c, stages, bk)
}

// compareClosure compares an accepted build's closure with the LLB.
func compareClosure(t testing.TB, gc genCase, target string, c Closure, stages []instructions.Stage, bk oracleOutcome) {
	t.Helper()
	g := c.Graph
	var problems []string
	compared := false
	for i, s := range g.Stages {
		in := c.Contains(i)
		seen := bk.stages[i]
		switch {
		case seen && (!in || s.Context != nil):
			problems = append(problems, fmt.Sprintf("BuildKit builds steps of stage %d (%s), the closure does not", i, s.Name))
		case in && s.Context == nil && hasOwnStep(g, stages, i) && !seen:
			problems = append(problems, fmt.Sprintf("the closure builds stage %d (%s), BuildKit's LLB has none of its steps", i, s.Name))
		}
		if seen || in && s.Context == nil && hasOwnStep(g, stages, i) {
			compared = true
		}
	}
	if bk.stages[-1] {
		problems = append(problems, "BuildKit located a step before the first stage")
	}
	if compared {
		diffStats.stagesCompared.Add(1)
	}

	want := map[string]bool{}
	for _, ii := range c.Images {
		img := g.Images[ii]
		switch {
		case img.Context != nil:
			want[contextIdentifier(img.Context.Value)] = true
		case img.Normalized != "scratch":
			want["docker-image://"+img.Normalized] = true
		}
	}
	for _, i := range c.Stages {
		if nc := g.Stages[i].Context; nc != nil {
			want[contextIdentifier(nc.Value)] = true
		}
	}
	got := map[string]bool{}
	for id := range bk.ids {
		if id != "local://context" && id != "local://dockerfile" {
			got[id] = true
		}
	}
	if !maps.Equal(want, got) {
		problems = append(problems, fmt.Sprintf("sources: closure %v, BuildKit's LLB %v", slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got))))
	}
	if len(problems) > 0 {
		var names []string
		for _, i := range c.Stages {
			names = append(names, g.Stages[i].Name)
		}
		diffFail(t, "target %q: closure %v; LLB stages %v:\n  %s\n%s", target, names, slices.Sorted(maps.Keys(bk.stages)), strings.Join(problems, "\n  "), gc)
	}
}

// hasOwnStep reports whether stage i, when it builds, puts a located step
// into the LLB: a RUN, COPY or ADD, an ONBUILD RUN, COPY or ADD of its base
// stage, or a FROM of an image (the oracle's images all have a layer).
func hasOwnStep(g *Graph, stages []instructions.Stage, i int) bool {
	for _, cmd := range stages[i].Commands {
		switch cmd.(type) {
		case *instructions.RunCommand, *instructions.CopyCommand, *instructions.AddCommand:
			return true
		}
	}
	s := g.Stages[i]
	switch s.Base.Kind {
	case BaseImage:
		return true
	case BaseStage:
		for _, cmd := range stages[s.Base.Stage].Commands {
			if ob, ok := cmd.(*instructions.OnbuildCommand); ok {
				kw, _, _ := strings.Cut(strings.TrimSpace(ob.Expression), " ")
				if kw = strings.ToUpper(kw); kw == "RUN" || kw == "COPY" || kw == "ADD" {
					return true
				}
			}
		}
	}
	return false
}

// contextIdentifier is the LLB source identifier of a named context value
// of the generator.
func contextIdentifier(v string) string {
	if ref, ok := strings.CutPrefix(v, "docker-image://"); ok {
		if named, err := reference.ParseNormalizedNamed(ref); err == nil {
			return "docker-image://" + reference.TagNameOnly(named).String()
		}
	}
	if name, ok := strings.CutPrefix(v, "local:"); ok {
		return "local://" + name
	}
	return v
}

// FuzzDifferential checks Parse and Closure against BuildKit's own
// conversion on Dockerfiles generated from the fuzzer's bytes. The seed
// corpus is in testdata/fuzz/FuzzDifferential (written by
// TestWriteDifferentialSeeds). `make fuzz-oracle` runs it for
// FUZZTIME_ORACLE.
func FuzzDifferential(f *testing.F) {
	f.Add([]byte{0, 0, 3})
	f.Cleanup(writeDiffStats)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDifferential(t, generate(data))
	})
}

// TestDifferentialGenerated runs the differential check over Dockerfiles
// generated from a fixed sequence of pseudo-random inputs, so that every
// `go test` exercises it. STAGESCOPE_DIFFFUZZ_N sets how many (default
// 2000, 300 with -short).
func TestDifferentialGenerated(t *testing.T) {
	n := 2000
	if testing.Short() || raceDetector {
		n = 300
	}
	if v := os.Getenv("STAGESCOPE_DIFFFUZZ_N"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil {
			t.Fatalf("STAGESCOPE_DIFFFUZZ_N: %v", err)
		}
	}
	start := time.Now()
	rng := rand.New(rand.NewPCG(13, 2026))
	targets, failedInputs := 0, 0
	featureSeen := make([]int, genFeatures)
	for i := range n {
		data := make([]byte, 64+rng.IntN(448))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		gc := generate(data)
		for k := range featureSeen {
			if gc.features&(1<<k) != 0 {
				featureSeen[k]++
			}
		}
		before := diffStats.failures.Load()
		targets += checkDifferential(t, gc)
		if diffStats.failures.Load() > before {
			t.Logf("input %d failed; its bytes: %q", i, data)
			if failedInputs++; failedInputs == 10 {
				t.Fatalf("stopping after %d failed inputs", failedInputs)
			}
		}
	}
	t.Logf("%d Dockerfiles, %d target checks in %v; %s", n, targets, time.Since(start).Round(time.Millisecond), diffStatsLine())
	for k, c := range featureSeen {
		if c == 0 {
			t.Errorf("no input used feature %s", featNames[k])
		}
	}
}

// TestWriteDifferentialSeeds writes the seed corpus of FuzzDifferential:
// for each feature, inputs whose Dockerfile shows that feature. It runs
// only with STAGESCOPE_WRITE_SEEDS=1; the corpus is committed.
func TestWriteDifferentialSeeds(t *testing.T) {
	if os.Getenv("STAGESCOPE_WRITE_SEEDS") != "1" {
		t.Skip("set STAGESCOPE_WRITE_SEEDS=1 to rewrite testdata/fuzz/FuzzDifferential")
	}
	dir := "testdata/fuzz/FuzzDifferential"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// shows says whether a generated build shows a feature.
	shows := map[genFeature]func(genCase) bool{
		featArgs: func(gc genCase) bool {
			return strings.Contains(gc.dockerfile, "FROM ${") || strings.Contains(gc.dockerfile, "FROM $")
		},
		featPlatform: func(gc genCase) bool {
			return strings.Contains(gc.dockerfile, "--platform=") || strings.Contains(gc.dockerfile, "TARGETARCH}")
		},
		featCopy:    func(gc genCase) bool { return regexp.MustCompile(`--from=([0-9]|[A-Z])`).MatchString(gc.dockerfile) },
		featMount:   func(gc genCase) bool { return regexp.MustCompile(`--mount=.*from=`).MatchString(gc.dockerfile) },
		featHeredoc: func(gc genCase) bool { return strings.Contains(gc.dockerfile, "<<") },
		featOnbuild: func(gc genCase) bool { return strings.Contains(gc.dockerfile, "ONBUILD COPY --from") },
		featEscape:  func(gc genCase) bool { return strings.Contains(gc.dockerfile, "# escape=`") },
		featContext: func(gc genCase) bool { return len(gc.contexts) > 0 },
		featMeta: func(gc genCase) bool {
			return strings.Contains(gc.dockerfile, "ENV ") || strings.Contains(gc.dockerfile, "LABEL ")
		},
		featErr: func(gc genCase) bool {
			return len(gc.targets) > 0 || strings.Contains(gc.dockerfile, "$SRC") || strings.Contains(gc.dockerfile, "ONBUILD NOSUCH")
		},
		featTargetStage: func(gc genCase) bool { return strings.Contains(gc.dockerfile, "TARGETSTAGE") },
	}
	rng := rand.New(rand.NewPCG(2026, 13))
	for k := range genFeatures {
		f := genFeature(1) << k
		written := 0
		for try := 0; written < 4 && try < 100000; try++ {
			data := make([]byte, 48+rng.IntN(200))
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			// The feature alone in the first seeds, then with others.
			mask := f
			if written >= 2 {
				mask |= genFeature(rng.Uint32()) & (1<<genFeatures - 1) &^ featErr
			}
			data[0], data[1] = byte(mask), byte(mask>>8)
			gc := generate(data)
			if !shows[f](gc) || strings.Count(gc.dockerfile, "FROM") < 2 {
				continue
			}
			var buf bytes.Buffer
			fmt.Fprintf(&buf, "go test fuzz v1\n[]byte(%q)\n", data)
			name := fmt.Sprintf("%s/%s-%d", dir, featNames[k], written+1)
			if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			written++
		}
		if written < 4 {
			t.Errorf("feature %s: only %d seeds", featNames[k], written)
		}
	}
}

// diffFail reports a disagreement.
func diffFail(t testing.TB, format string, args ...any) {
	t.Helper()
	diffStats.failures.Add(1)
	t.Errorf(format, args...)
}
