package buildgraph

import (
	"bytes"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	lintpb "github.com/moby/buildkit/frontend/subrequests/lint"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Options are the inputs of a build that shape its graph, besides the
// Dockerfile itself.
type Options struct {
	// Filename names the Dockerfile in messages, e.g.
	// "examples/x/Dockerfile". Default "Dockerfile".
	Filename string
	// BuildArgs are the --build-arg values. As in BuildKit, only ARGs the
	// Dockerfile declares take them, except the platform ARGs
	// (BUILDPLATFORM, TARGETOS, ...) and TARGETSTAGE, which always do.
	BuildArgs map[string]string
	// Contexts are the --build-context NAME=VALUE pairs, VALUE as given
	// (a directory, "docker-image://...", "local:NAME", ...). A context
	// replaces the stage or the image BuildKit looks it up for: NAME is a
	// stage name, or an image reference in its familiar form without a
	// ":latest" tag ("golang", "golang:1.22", "ghcr.io/x/y"), optionally
	// followed by "::" and a platform ("golang::linux/arm64").
	Contexts map[string]string
	// Target is the --target stage; Parse fails as BuildKit would when a
	// build of it cannot start. Empty means the last stage.
	Target string
	// Platform is the target platform, e.g. "linux/arm64". Default: linux
	// on the host's architecture.
	Platform string
	// BuildPlatform is the platform of the BuildKit worker, which sets
	// BUILDPLATFORM. Default: linux on the host's architecture.
	BuildPlatform string
	// SkipLint skips BuildKit's linter, a conversion of every stage that
	// costs several times the parse; Graph.Warnings is then empty, and
	// Graph.Lint runs the linter later.
	SkipLint bool
}

// state mirrors one entry of dockerfile2llb's dispatchStates: a stage, or
// an external source a COPY --from or RUN --mount refers to.
type state struct {
	stage int // index in Graph.Stages, -1 for an external source
	// ref is the reference of an external source ("scratch" for the
	// placeholder BuildKit creates for a RUN --mount without from=), and
	// image its node in Graph.Images (-1 until resolveSources sets it).
	ref   string
	image int

	base     int  // state index of the base stage, -1 if none
	replaced bool // a named context replaces the stage

	// deps are the sources of the stage's instructions in instruction
	// order; onbuild those of the base stage's ONBUILD triggers, which
	// BuildKit runs first. onbuildErr is an error BuildKit reports when it
	// reaches the stage and evaluates those triggers.
	deps       []dep
	onbuild    []dep
	onbuildErr *Error
	// runErr is the error BuildKit reports when it reaches the stage and
	// evaluates the --mount options of its first RUN that has invalid
	// ones ("secret mount should not have a from").
	runErr *Error

	// line and endLine locate the reference of an external source.
	line, endLine int
}

// dep is one source of an instruction.
type dep struct {
	state int
	edge  int  // index in Graph.Edges, -1 when the dependency has no edge
	used  bool // the source's result feeds the build (it runs)
	// check is BuildKit's error when the source is a stage that is not
	// built yet when the instruction runs ("" when BuildKit does not check).
	check         string
	line, endLine int
}

// parseState carries the inputs and intermediate results of one Parse.
type parseState struct {
	file string
	src  []byte
	// lineStart holds the offset in src where each line starts.
	lineStart []int
	opts      Options
	g         *Graph

	shlex      *shell.Lex
	globalArgs *llb.EnvList
	target     ocispecs.Platform
	build      ocispecs.Platform
	// stageByName is dockerfile2llb's statesByName while stages are added:
	// FROM only sees earlier stages.
	stageByName map[string]int
	imageByKey  map[string]int
	normalized  map[string]string // image reference -> normalized form
}

// Parse reads a Dockerfile into its stage graph, with the semantics of
// BuildKit's Dockerfile frontend: parser directives, heredocs, global ARGs in
// FROM, build arguments, named contexts and stage references resolve exactly
// as dockerfile2llb resolves them. Every error for bad input is an *Error
// carrying the file and line.
//
// BuildKit's linter, a conversion of every stage, costs several times the
// parse; it needs only the Dockerfile and opts, so it runs on another
// goroutine while the graph is built, and Parse waits for both.
func Parse(dockerfile []byte, opts Options) (*Graph, error) {
	var linted chan lintOutcome
	if !opts.SkipLint {
		linted = make(chan lintOutcome, 1)
		go func() {
			var out lintOutcome
			defer func() {
				out.panicked = recover()
				linted <- out
			}()
			name := opts.Filename
			if name == "" {
				name = "Dockerfile"
			}
			out.res, out.failure = runLint(dockerfile, name, opts)
		}()
	}
	g, err := parse(dockerfile, opts)
	if err != nil {
		return nil, err
	}
	if linted != nil {
		out := <-linted
		if out.panicked != nil {
			panic(out.panicked) // where it would have been without the goroutine
		}
		g.Warnings, g.LintError = g.lintFindings(out.res, out.failure)
		g.linted = true
	}
	if opts.Target != "" {
		if _, err := g.Closure(opts.Target); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// lintOutcome is what the linter's goroutine hands back to Parse.
type lintOutcome struct {
	res      *lintpb.LintResults
	failure  string // the linter failed (runLint)
	panicked any
}

// parse builds the graph without linting; it follows the phases of
// dockerfile2llb's toDispatchState so that, of several problems, the one
// BuildKit reports first is the one returned.
func parse(src []byte, opts Options) (*Graph, error) {
	p := &parseState{
		file:        opts.Filename,
		src:         src,
		opts:        opts,
		stageByName: map[string]int{},
		imageByKey:  map[string]int{},
		normalized:  map[string]string{},
	}
	if p.file == "" {
		p.file = "Dockerfile"
	}
	p.g = &Graph{File: p.file, Target: opts.Target, src: src, opts: opts, byName: map[string]int{}}
	if len(src) == 0 {
		return nil, p.errorAt(0, 0, "the Dockerfile cannot be empty", nil)
	}
	if err := p.checkDirective(); err != nil {
		return nil, err
	}
	stages, metaArgs, err := p.parseInstructions()
	if err != nil {
		return nil, err
	}
	if err := p.platforms(); err != nil {
		return nil, err
	}
	if err := p.metaArgs(stages, metaArgs); err != nil {
		return nil, err
	}
	for i := range stages {
		if err := p.addStage(i, stages[i]); err != nil {
			return nil, err
		}
	}
	if opts.Target != "" {
		if _, err := p.g.resolveTarget(opts.Target); err != nil {
			return nil, err
		}
	}
	for i := range p.g.Stages {
		if err := p.stageDeps(i); err != nil {
			return nil, err
		}
	}
	if err := p.checkCycles(); err != nil {
		return nil, err
	}
	if err := p.resolveSources(); err != nil {
		return nil, err
	}
	single := len(p.g.states) == 1
	early := len(p.g.states)
	for _, s := range p.g.Stages {
		p.onbuildTriggers(s.Index)
		s.ProgressName = s.Name
		if single {
			s.ProgressName = ""
		}
	}
	p.lateSources(early)
	p.stagePlatforms()
	p.sortEdges()
	return p.g, nil
}

// sortEdges orders the edges by the stage they lead to, FROM first, then by
// line (ONBUILD triggers of the base stage come before instructions), and
// renumbers the references to them.
func (p *parseState) sortEdges() {
	order := make([]int, len(p.g.Edges))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ea, eb := p.g.Edges[a], p.g.Edges[b]
		if ea.To != eb.To {
			return ea.To - eb.To
		}
		if (ea.Kind == EdgeBase) != (eb.Kind == EdgeBase) {
			if ea.Kind == EdgeBase {
				return -1
			}
			return 1
		}
		return ea.Line - eb.Line
	})
	renumber := make([]int, len(order))
	edges := make([]Edge, len(order))
	for newIndex, old := range order {
		renumber[old] = newIndex
		edges[newIndex] = p.g.Edges[old]
	}
	p.g.Edges = edges
	for _, st := range p.g.states {
		for _, deps := range [][]dep{st.deps, st.onbuild} {
			for i := range deps {
				if deps[i].edge >= 0 {
					deps[i].edge = renumber[deps[i].edge]
				}
			}
		}
	}
}

// checkDirective validates the "# check=" directive as BuildKit does before
// parsing, and records "# syntax=".
func (p *parseState) checkDirective() error {
	if v, _, loc, ok := parser.ParseDirective("check", p.src); ok {
		if _, err := linter.ParseLintOptions(v); err != nil {
			l, el := rangeLines(loc)
			return p.errorAt(l, el, "failed to parse check options: "+err.Error(), err)
		}
	}
	if v, _, _, ok := parser.DetectSyntax(p.src); ok {
		p.g.Syntax = v
	}
	return nil
}

// parseInstructions runs BuildKit's parser and instructions packages.
func (p *parseState) parseInstructions() ([]instructions.Stage, []instructions.ArgCommand, error) {
	res, err := parser.Parse(bytes.NewReader(p.src))
	if err != nil {
		e := p.wrapBuildKit(err, 0, 0)
		if e.Line == 0 {
			// The parser locates errors in directives 0-based (as line 0
			// for the first line); point at the escape directive instead.
			if _, _, loc, ok := parser.ParseDirective("escape", p.src); ok {
				e.Line, e.EndLine = rangeLines(loc)
			}
		}
		return nil, nil, e
	}
	p.g.EscapeToken = res.EscapeToken
	p.shlex = shell.NewLex(res.EscapeToken)
	// A linter without a Warn function reports nothing, but unlike a nil
	// linter it survives "# check=" comments above instructions.
	stages, metaArgs, err := instructions.Parse(res.AST, linter.New(&linter.Config{}))
	if err != nil {
		return nil, nil, p.wrapBuildKit(err, 0, 0)
	}
	if len(stages) == 0 {
		return nil, nil, p.errorAt(0, 0, "dockerfile contains no stages to build", nil)
	}
	p.lineStart = append(make([]int, 0, len(p.src)/16+1), 0)
	for i, c := range p.src {
		if c == '\n' {
			p.lineStart = append(p.lineStart, i+1)
		}
	}
	return stages, metaArgs, nil
}

// hostPlatform is linux on the host's architecture, as a BuildKit worker on
// this machine (or in a Linux VM on it) reports it.
func hostPlatform() ocispecs.Platform {
	if runtime.GOOS == "linux" {
		return platforms.Normalize(platforms.DefaultSpec())
	}
	return platforms.Normalize(ocispecs.Platform{OS: "linux", Architecture: runtime.GOARCH})
}

// platforms parses the target and build platforms.
func (p *parseState) platforms() error {
	p.target, p.build = hostPlatform(), hostPlatform()
	for _, f := range []struct {
		name, value string
		dst         *ocispecs.Platform
	}{{"target", p.opts.Platform, &p.target}, {"build", p.opts.BuildPlatform, &p.build}} {
		if f.value == "" {
			continue
		}
		pl, err := platforms.Parse(f.value)
		if err != nil {
			return p.errorAt(0, 0, fmt.Sprintf("invalid %s platform %q: %v", f.name, f.value, err), err)
		}
		*f.dst = platforms.Normalize(pl)
	}
	p.g.Platform = platforms.FormatAll(p.target)
	p.g.BuildPlatform = platforms.Format(p.build)
	return nil
}

// metaArgs computes the ARG values FROM lines see: BuildKit's platform
// defaults, then the global ARGs with build arguments applied.
func (p *parseState) metaArgs(stages []instructions.Stage, metaArgs []instructions.ArgCommand) error {
	targetStage := p.opts.Target
	if targetStage == "" {
		targetStage = stages[len(stages)-1].Name
	}
	if targetStage == "" {
		targetStage = "default"
	}
	bp, tp := p.build, p.target
	env := &llb.EnvList{}
	for _, kv := range [...][2]string{
		{"BUILDPLATFORM", platforms.Format(bp)},
		{"BUILDOS", bp.OS},
		{"BUILDOSVERSION", bp.OSVersion},
		{"BUILDARCH", bp.Architecture},
		{"BUILDVARIANT", bp.Variant},
		{"TARGETPLATFORM", platforms.FormatAll(tp)},
		{"TARGETOS", tp.OS},
		{"TARGETOSVERSION", tp.OSVersion},
		{"TARGETARCH", tp.Architecture},
		{"TARGETVARIANT", tp.Variant},
		{"TARGETSTAGE", targetStage},
	} {
		v := kv[1]
		if ov, ok := p.opts.BuildArgs[kv[0]]; ok {
			v = ov
		}
		env = env.AddOrReplace(kv[0], v)
	}
	for _, cmd := range metaArgs {
		line, _ := rangeLines(cmd.Location())
		for _, kv := range cmd.Args {
			a := Arg{Name: kv.Key, Line: line}
			if v, ok := p.opts.BuildArgs[kv.Key]; ok {
				a.Value, a.HasValue, a.FromBuildArg = v, true, true
			} else if kv.Value != nil {
				res, err := p.shlex.ProcessWordWithMatches(*kv.Value, env)
				if err != nil {
					l, el := rangeLines(cmd.Location())
					return p.errorAt(l, el, fmt.Sprintf("invalid default of ARG %s: %v", kv.Key, err), err)
				}
				if _, ok := res.Matched["TARGETSTAGE"]; ok {
					p.g.targetUsed = true
				}
				a.Value, a.HasValue = res.Result, true
			}
			if a.HasValue {
				env = env.AddOrReplace(a.Name, a.Value)
			}
			p.g.Args = append(p.g.Args, a)
		}
	}
	p.globalArgs = env
	return nil
}

// expand expands the global ARGs in word as BuildKit's shell lexer does.
// Words without quotes, variables or escapes, nearly all of them, expand
// to themselves; the lexer is skipped for those.
func (p *parseState) expand(word string, env shell.EnvGetter) (shell.ProcessWordResult, error) {
	if !strings.ContainsAny(word, "$'\"`\\") {
		return shell.ProcessWordResult{Result: word, Words: []string{word}}, nil
	}
	return p.shlex.ProcessWordWithMatches(word, env)
}

// addStage mirrors the per-stage part of dockerfile2llb's
// buildDispatchStates: it expands FROM and --platform, looks the stage up
// among the named contexts, and links it to an earlier stage it is based on.
func (p *parseState) addStage(i int, st instructions.Stage) error {
	line, endLine := rangeLines(st.Location)
	nameMatch, err := p.expand(st.BaseName, p.globalArgs)
	if err != nil {
		return p.errorAt(line, endLine, fmt.Sprintf("invalid base name %q: %v", st.BaseName, err), err)
	}
	if nameMatch.Result == "" {
		return p.errorAt(line, endLine, fmt.Sprintf("base name (%s) should not be blank", st.BaseName), nil)
	}
	if _, ok := nameMatch.Matched["TARGETSTAGE"]; ok {
		p.g.targetUsed = true
	}
	s := &Stage{
		Index:        i,
		Name:         st.Name,
		Named:        st.Name != "",
		PlatformFlag: st.Platform,
		StartLine:    line,
		EndLine:      endLine,
		Doc:          st.DocComment,
		Comments:     st.Comments,
		Base:         Base{Raw: st.BaseName, Ref: nameMatch.Result, Stage: -1, Image: -1},
		stage:        st,
	}
	if !s.Named {
		s.Name = "stage-" + strconv.Itoa(i)
	}
	var platform *ocispecs.Platform
	if st.Platform != "" {
		pm, err := p.expand(st.Platform, p.globalArgs)
		if err != nil {
			return p.errorAt(line, endLine, fmt.Sprintf("failed to process arguments for platform %s: %v", st.Platform, err), err)
		}
		if _, ok := pm.Matched["TARGETSTAGE"]; ok {
			p.g.targetUsed = true
		}
		if pm.Result == "" {
			return p.errorAt(line, endLine, "empty platform value from expression "+st.Platform, nil)
		}
		pl, err := platforms.Parse(pm.Result)
		if err != nil {
			return p.errorAt(line, endLine, fmt.Sprintf("failed to parse platform %s: %v", st.Platform, err), err)
		}
		pl = platforms.Normalize(pl)
		platform = &pl
		s.flagPlatform = platform
		s.Platform = platforms.FormatAll(pl)
	}
	s.Instructions = make([]Instruction, 0, len(st.Commands))
	for _, c := range st.Commands {
		l, el := rangeLines(c.Location())
		s.Instructions = append(s.Instructions, Instruction{
			Keyword:   strings.ToUpper(c.Name()),
			Text:      p.sourceText(l, el),
			StartLine: l,
			EndLine:   el,
			Command:   c,
		})
		s.EndLine = max(s.EndLine, el)
	}

	stt := &state{stage: i, image: -1, base: -1}
	p.g.Stages = append(p.g.Stages, s)
	p.g.states = append(p.g.states, stt)

	if s.Named {
		pl := p.target
		if platform != nil {
			pl = *platform
		}
		nc, err := p.namedContext(s.Name, pl)
		if err != nil {
			return p.errorAt(line, endLine, err.Error(), err)
		}
		if nc != nil {
			s.Context = nc
			stt.replaced = true
		}
	}
	// dockerfile2llb's addState: the base is an earlier stage whose name
	// equals the expanded FROM exactly (stage names are lower case, so
	// "FROM Builder" is an image reference, and an invalid one).
	if b, ok := p.stageByName[s.Base.Ref]; ok {
		s.Base.Kind, s.Base.Stage = BaseStage, b
		if !stt.replaced {
			stt.base = b
		}
		p.addEdge(Edge{From: Node{NodeStage, b}, To: i, Kind: EdgeBase, Ref: st.BaseName, Line: line})
	} else if s.Base.Ref == "scratch" {
		s.Base.Kind = BaseScratch
	}
	if s.Named {
		p.stageByName[s.Name] = i
		p.g.byName[s.Name] = i
	}
	if i == len(p.g.Stages)-1 {
		p.g.DefaultTarget = st.Name
	}
	return nil
}

// sourceText returns lines [from, to] (1-based) of the Dockerfile, without
// carriage returns at their ends.
func (p *parseState) sourceText(from, to int) string {
	if from < 1 || from > len(p.lineStart) {
		return ""
	}
	to = min(max(to, from), len(p.lineStart))
	end := len(p.src)
	if to < len(p.lineStart) {
		end = p.lineStart[to] - 1 // the newline ending line to
	}
	text := string(p.src[p.lineStart[from-1]:end])
	if from == 1 {
		text = strings.TrimPrefix(text, "\ufeff") // the parser skips a BOM
	}
	if strings.Contains(text, "\r") {
		text = strings.ReplaceAll(text, "\r\n", "\n")
		text = strings.TrimSuffix(text, "\r")
	}
	return text
}

// namedContext looks name up among Options.Contexts exactly as dockerui's
// Client.NamedContext does: the familiar form of the reference without a
// ":latest" tag, first with "::platform" appended, then without.
func (p *parseState) namedContext(name string, pl ocispecs.Platform) (*NamedContext, error) {
	if strings.EqualFold(name, "scratch") || strings.EqualFold(name, "context") {
		return nil, nil
	}
	key := name
	if !isPlainName(name) {
		named, err := reference.ParseNormalizedNamed(name)
		if err != nil {
			return nil, fmt.Errorf("invalid context name %s: %w", name, err)
		}
		key = strings.TrimSuffix(reference.FamiliarString(named), ":latest")
	}
	if len(p.opts.Contexts) == 0 {
		return nil, nil
	}
	for _, k := range []string{key + "::" + platforms.FormatAll(platforms.Normalize(pl)), key} {
		if v, ok := p.opts.Contexts[k]; ok {
			return &NamedContext{Key: k, Value: v}, nil
		}
	}
	return nil, nil
}

// isPlainName reports whether name is a valid one-component repository
// name of at most 128 characters ("builder", "my-app.v2", "a__b"), whose
// familiar form is the name itself, without running the reference parser:
// lower-case alphanumeric runs joined by ".", "_", "__" or runs of "-".
func isPlainName(name string) bool {
	if name == "" || len(name) > 128 {
		return false
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	for i := 0; i < len(name); {
		if !alnum(name[i]) {
			return false
		}
		for i < len(name) && alnum(name[i]) {
			i++
		}
		if i == len(name) {
			return true
		}
		switch {
		case name[i] == '.':
			i++
		case strings.HasPrefix(name[i:], "__"):
			i += 2
		case name[i] == '_':
			i++
		case name[i] == '-':
			for i < len(name) && name[i] == '-' {
				i++
			}
		default:
			return false
		}
		if i == len(name) {
			return false
		}
	}
	return true
}

// addEdge appends e to the graph and returns its index.
func (p *parseState) addEdge(e Edge) int {
	p.g.Edges = append(p.g.Edges, e)
	return len(p.g.Edges) - 1
}

// findState mirrors dispatchStates.findStateByName: a case-insensitive
// lookup among all stages, later ones included.
func (p *parseState) findState(name string) (int, bool) {
	i, ok := p.g.byName[strings.ToLower(name)]
	return i, ok // stage i is state i
}

// external appends a state for a source that is not a stage, as
// dockerfile2llb does for every such reference (even repeated ones).
func (p *parseState) external(ref string, line, endLine int) int {
	p.g.states = append(p.g.states, &state{stage: -1, ref: ref, image: -1, base: -1, line: line, endLine: endLine})
	return len(p.g.states) - 1
}

// source is one source of an instruction, before it is turned into a dep.
type source struct {
	ref       string // as written
	state     int
	edge      bool // show as an edge (explicit from=, or a stage)
	used      bool
	check     string
	mountType string
}

// instructionSources mirrors dockerfile2llb's toCommand and detectRunMount:
// the sources of COPY --from and of every RUN --mount.
func (p *parseState) instructionSources(c instructions.Command, stageName string) ([]source, error) {
	switch c := c.(type) {
	case *instructions.CopyCommand:
		if c.From == "" {
			return nil, nil
		}
		res, err := p.expand(c.From, shell.EnvsFromSlice(nil))
		if err != nil {
			return nil, err
		}
		if res.Result != c.From {
			return nil, fmt.Errorf("variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround")
		}
		src := source{ref: c.From, edge: true, used: true,
			check: fmt.Sprintf("cannot copy from stage %q, it needs to be defined before current stage %q", c.From, stageName)}
		if index, err := strconv.Atoi(c.From); err == nil {
			if index < 0 || index >= len(p.g.states) {
				return nil, fmt.Errorf("invalid stage index %d", index)
			}
			src.state = index
			if p.g.states[index].stage < 0 {
				// dockerfile2llb lists a source that is no stage again
				// each time an index names it, so a later index can too.
				p.g.states = append(p.g.states, p.g.states[index])
			}
		} else if i, ok := p.findState(c.From); ok {
			src.state = i
		} else {
			l, el := rangeLines(c.Location())
			src.state = p.external(c.From, l, el)
		}
		return []source{src}, nil
	case *instructions.RunCommand:
		graphMounts := instructions.GetMounts(c)
		// BuildKit evaluates mount options again when the instruction runs;
		// an identity expansion gives their type and target.
		var runMounts []*instructions.Mount
		if err := c.Expand(func(w string) (string, error) { return w, nil }); err == nil {
			runMounts = instructions.GetMounts(c)
		}
		var out []source
		for i, m := range graphMounts {
			typ, target := instructions.MountTypeBind, ""
			if i < len(runMounts) {
				typ, target = runMounts[i].Type, runMounts[i].Target
			}
			from := m.From
			if from == "" {
				from = "scratch"
			}
			src := source{ref: m.From, mountType: string(typ)}
			if m.From != "" || typ == instructions.MountTypeCache {
				src.check = fmt.Sprintf("cannot mount from stage %q to %q, stage needs to be defined before current command", from, target)
				src.used = typ == instructions.MountTypeBind || typ == instructions.MountTypeCache
			}
			if j, ok := p.findState(from); ok {
				src.state = j
				src.edge = m.From != "" || src.used
				if src.ref == "" {
					src.ref = from
				}
			} else {
				l, el := rangeLines(c.Location())
				src.state = p.external(from, l, el)
				src.edge = m.From != ""
			}
			out = append(out, src)
		}
		return out, nil
	}
	return nil, nil
}

// runMountError is the error BuildKit's dispatch of c returns for its
// --mount options, nil when it accepts them. BuildKit's instructions
// package validates them only once their values are expanded with the
// stage's variables (RunCommand.Expand): with a value that holds a
// variable, a quote or the escape character, the verdict is BuildKit's
// alone and nil is returned; otherwise an identity expansion gives it.
func runMountError(c *instructions.RunCommand, escape rune) error {
	exact := true
	err := c.Expand(func(w string) (string, error) {
		if strings.ContainsAny(w, "$'\"") || strings.ContainsRune(w, escape) {
			exact = false
		}
		return w, nil
	})
	if !exact {
		return nil
	}
	return err
}

// stageDeps mirrors dockerfile2llb's buildStageDependencyGraph for stage i.
func (p *parseState) stageDeps(i int) error {
	s := p.g.Stages[i]
	st := p.g.states[i]
	for ci, c := range s.stage.Commands {
		srcs, err := p.instructionSources(c, s.Name)
		ins := s.Instructions[ci]
		if err != nil {
			return p.errorAt(ins.StartLine, ins.EndLine, err.Error(), err)
		}
		if run, ok := c.(*instructions.RunCommand); ok && st.runErr == nil {
			if err := runMountError(run, p.g.EscapeToken); err != nil {
				st.runErr = p.errorAt(ins.StartLine, ins.EndLine, err.Error(), err)
			}
		}
		for _, src := range srcs {
			d := dep{state: src.state, edge: -1, used: src.used, check: src.check, line: ins.StartLine, endLine: ins.EndLine}
			if src.edge {
				kind := EdgeCopyFrom
				if ins.Keyword == "RUN" {
					kind = EdgeMountFrom
				}
				d.edge = p.addEdge(Edge{From: p.nodeOf(src.state), To: i, Kind: kind, Ref: src.ref, Line: ins.StartLine, MountType: src.mountType})
			}
			st.deps = append(st.deps, d)
		}
	}
	return nil
}

// nodeOf returns the Node of a state. External states get their image node
// later (resolveExternal), so until then their edges hold -1-state.
func (p *parseState) nodeOf(st int) Node {
	if s := p.g.states[st]; s.stage >= 0 {
		return Node{NodeStage, s.stage}
	}
	return Node{NodeImage, -1 - st}
}

// checkCycles mirrors dockerfile2llb's validateCircularDependency: a
// depth-first walk over instruction dependencies (not FROM) from every
// state in order.
func (p *parseState) checkCycles() error {
	visited := make([]bool, len(p.g.states))
	onPath := make([]bool, len(p.g.states))
	var path []dep
	var visit func(int) bool
	visit = func(i int) bool {
		if visited[i] {
			return false
		}
		visited[i], onPath[i] = true, true
		for _, d := range p.g.states[i].deps {
			path = append(path, d)
			if onPath[d.state] || visit(d.state) {
				return true
			}
			path = path[:len(path)-1]
		}
		onPath[i] = false
		return false
	}
	for i, st := range p.g.states {
		if st.stage < 0 || !visit(i) {
			continue
		}
		names := []string{p.g.Stages[st.stage].Name}
		for _, d := range path {
			if s := p.g.states[d.state]; s.stage >= 0 {
				names = append(names, p.g.Stages[s.stage].Name)
			}
		}
		last := path[len(path)-1]
		return p.errorAt(last.line, last.endLine, fmt.Sprintf("circular dependency detected on stage: %s (%s)",
			p.g.Stages[st.stage].Name, strings.Join(names, " -> ")), nil)
	}
	return nil
}

// resolveSources mirrors the reference handling of dockerfile2llb's
// resolveBaseImage for every stage without a base stage and for every
// external source: the reference must parse, and a named context may
// replace it. It creates the Graph's image nodes.
func (p *parseState) resolveSources() error {
	for _, s := range p.g.Stages {
		st := p.g.states[s.Index]
		if !st.replaced && s.Base.Kind != "" {
			continue // an earlier stage or scratch
		}
		if st.replaced {
			// BuildKit checks the FROM reference of a replaced stage too,
			// but never pulls it.
			if s.Base.Ref != "scratch" {
				if _, err := reference.ParseNormalizedNamed(s.Base.Ref); err != nil {
					return p.errorAt(s.StartLine, s.StartLine, fmt.Sprintf("failed to parse stage name %q: %v", s.Base.Ref, err), err)
				}
			}
			if s.Base.Kind != "" {
				continue
			}
		}
		pl := p.target
		if s.flagPlatform != nil {
			pl = *s.flagPlatform
		}
		img, err := p.image(s.Base.Ref, pl, !st.replaced)
		if err != nil {
			return p.errorAt(s.StartLine, s.StartLine, err.Error(), err)
		}
		s.Base.Kind, s.Base.Image = BaseImage, img
		if p.g.Images[img].Context != nil {
			s.Base.Kind = BaseContext
		}
		p.addEdge(Edge{From: Node{NodeImage, img}, To: s.Index, Kind: EdgeBase, Ref: s.Base.Raw, Line: s.StartLine})
	}
	return p.resolveExternal(0, 0, func(st *state, err error) error {
		return p.errorAt(st.line, st.endLine, err.Error(), err)
	})
}

// resolveExternal resolves the external states from index fromState on:
// their references must parse (except BuildKit's scratch placeholders), and
// the edges from index fromEdge on that come from them get their image
// node. fail turns an error into the result, or nil to go on.
func (p *parseState) resolveExternal(fromState, fromEdge int, fail func(*state, error) error) error {
	for _, st := range p.g.states[fromState:] {
		if st.stage >= 0 || st.ref == "scratch" {
			continue
		}
		img, err := p.image(st.ref, p.target, true)
		if err != nil {
			if err := fail(st, err); err != nil {
				return err
			}
			continue
		}
		st.image = img
	}
	for ei := fromEdge; ei < len(p.g.Edges); ei++ {
		e := &p.g.Edges[ei]
		if e.From.Kind != NodeImage || e.From.Index >= 0 {
			continue
		}
		st := p.g.states[-1-e.From.Index]
		if st.image < 0 && st.ref == "scratch" {
			st.image, _ = p.image("scratch", p.target, false)
		}
		e.From.Index = st.image
	}
	return nil
}

// image validates ref the way resolveBaseImage does and returns its node,
// creating it on first use. lookup says whether a named context may replace
// it (not for the base of a stage a named context replaces).
func (p *parseState) image(ref string, pl ocispecs.Platform, lookup bool) (int, error) {
	normalized, ok := p.normalized[ref]
	if !ok {
		normalized = "scratch"
		if ref != "scratch" {
			named, err := reference.ParseNormalizedNamed(ref)
			if err != nil {
				return -1, fmt.Errorf("failed to parse stage name %q: %w", ref, err)
			}
			normalized = reference.TagNameOnly(named).String()
		}
		p.normalized[ref] = normalized
	}
	var nc *NamedContext
	if lookup && ref != "scratch" && len(p.opts.Contexts) > 0 {
		var err error
		if nc, err = p.namedContext(normalized, pl); err != nil {
			return -1, err
		}
	}
	key := normalized
	if nc != nil {
		key += "\x00" + nc.Key
	}
	if i, ok := p.imageByKey[key]; ok {
		return i, nil
	}
	i := len(p.g.Images)
	p.g.Images = append(p.g.Images, &Image{Index: i, Ref: ref, Normalized: normalized, Context: nc})
	p.imageByKey[key] = i
	return i, nil
}

// onbuildTriggers mirrors dockerfile2llb's initOnBuildTriggers for stage i:
// the ONBUILD instructions of its base stage run in it, first, and may add
// sources. BuildKit evaluates them only for stages a build reaches, so an
// error is kept for Closure to report.
func (p *parseState) onbuildTriggers(i int) {
	s := p.g.Stages[i]
	st := p.g.states[i]
	if st.base < 0 {
		return
	}
	base := p.g.Stages[st.base]
	first, edges := len(p.g.states), len(p.g.Edges)
	// A broken trigger fails every build reaching the stage; its sources
	// are then left out of the graph.
	fail := func(ins Instruction, err error) {
		if st.onbuildErr == nil {
			msg := fmt.Sprintf("ONBUILD trigger of stage %s (line %d): %v", base.Name, ins.StartLine, err)
			st.onbuildErr = p.errorAt(s.StartLine, s.StartLine, msg, err)
		}
		st.onbuild = nil
		p.g.Edges = p.g.Edges[:edges]
	}
	onbuildRunErr := false
	for ci, c := range base.stage.Commands {
		ob, ok := c.(*instructions.OnbuildCommand)
		if !ok {
			continue
		}
		ins := base.Instructions[ci]
		res, err := parser.Parse(strings.NewReader(ob.Expression))
		if err != nil {
			fail(ins, err)
			return
		}
		if len(res.AST.Children) != 1 {
			fail(ins, fmt.Errorf("onbuild trigger should be a single expression"))
			return
		}
		node := res.AST.Children[0]
		node.StartLine, node.EndLine = ins.StartLine, ins.EndLine
		cmd, err := instructions.ParseCommand(node)
		if err != nil {
			fail(ins, err)
			return
		}
		srcs, err := p.instructionSources(cmd, s.Name)
		if err != nil {
			fail(ins, err)
			return
		}
		// The triggers run before the stage's own instructions.
		if run, ok := cmd.(*instructions.RunCommand); ok && !onbuildRunErr {
			if err := runMountError(run, '\\'); err != nil {
				st.runErr = p.errorAt(s.StartLine, s.StartLine, err.Error(), err)
				onbuildRunErr = true
			}
		}
		for _, src := range srcs {
			// BuildKit locates trigger errors at the stage running them.
			d := dep{state: src.state, edge: -1, used: src.used, line: s.StartLine, endLine: s.StartLine}
			if src.check != "" {
				d.check = fmt.Sprintf("ONBUILD trigger of stage %s (line %d): %s", base.Name, ins.StartLine, src.check)
			}
			if src.edge {
				d.edge = p.addEdge(Edge{From: p.nodeOf(src.state), To: i, Kind: EdgeOnBuild, Ref: src.ref, Line: ins.StartLine, MountType: src.mountType})
			}
			st.onbuild = append(st.onbuild, d)
		}
	}
	// Sources the triggers added resolve like any other, errors deferred.
	_ = p.resolveExternal(first, edges, func(ext *state, err error) error {
		fail(Instruction{StartLine: ext.line}, err)
		return err
	})
}

// lateSources mirrors the first pass of dockerfile2llb's resolveStages:
// resolveReachableStages resolves every state before any ONBUILD trigger
// adds dependencies, and resolveBaseImage, for a source of a COPY --from or
// RUN --mount that the target does not reach yet, neither looks up a named
// context nor resolves it again later. When a trigger then makes it
// reachable, the build uses the image as written. The first early states
// are those of the stages' own instructions; the ones triggers add are
// resolved when they are reachable.
func (p *parseState) lateSources(early int) {
	t, err := p.g.resolveTarget(p.opts.Target)
	if err != nil {
		return
	}
	hasTriggers := false
	for _, st := range p.g.states {
		hasTriggers = hasTriggers || len(st.onbuild) > 0
	}
	if !hasTriggers {
		return
	}
	// reach mirrors allReachableStages. A state a numeric --from lists
	// again is one dispatchState: it is reached through any of its entries.
	reach := func(triggers bool) map[*state]bool {
		seen := make([]bool, len(p.g.states))
		reached := map[*state]bool{}
		var walk func(int)
		walk = func(i int) {
			if seen[i] {
				return
			}
			seen[i] = true
			st := p.g.states[i]
			reached[st] = true
			if st.base >= 0 {
				walk(st.base)
			}
			if triggers {
				for _, d := range st.onbuild {
					walk(d.state)
				}
			}
			for _, d := range st.deps {
				walk(d.state)
			}
		}
		walk(t)
		return reached
	}
	first, all := reach(false), reach(true)
	for _, st := range p.g.states[:early] {
		if st.stage >= 0 || st.image < 0 || p.g.Images[st.image].Context == nil {
			continue
		}
		p.g.lateContexts = true // another target may reach it differently
		if first[st] || !all[st] {
			continue
		}
		img, err := p.image(st.ref, p.target, false)
		if err != nil {
			continue // cannot happen: the reference parsed before
		}
		st.image = img
		for _, from := range p.g.states {
			for _, deps := range [][]dep{from.deps, from.onbuild} {
				for _, d := range deps {
					if d.edge >= 0 && p.g.states[d.state] == st {
						p.g.Edges[d.edge].From.Index = img
					}
				}
			}
		}
	}
}

// stagePlatforms sets each stage's effective platform: a stage based on
// another stage inherits its platform (BuildKit ignores FROM --platform
// there), otherwise it is the --platform flag or the target platform.
func (p *parseState) stagePlatforms() {
	for _, s := range p.g.Stages {
		switch {
		case s.Base.Kind == BaseStage && !p.g.states[s.Index].replaced:
			s.Platform = p.g.Stages[s.Base.Stage].Platform
		case s.Platform == "":
			s.Platform = p.g.Platform
		}
	}
}

// resolveTarget mirrors dockerfile2llb's resolveTarget: "" is the last
// stage, anything else a stage name, case-insensitively.
func (g *Graph) resolveTarget(target string) (int, error) {
	if target == "" {
		return len(g.Stages) - 1, nil
	}
	if i, ok := g.byName[strings.ToLower(target)]; ok {
		return i, nil
	}
	var names []string
	for _, s := range g.Stages {
		if s.Named && !slices.Contains(names, s.Name) {
			names = append(names, s.Name)
		}
	}
	msg := fmt.Sprintf("target stage %q could not be found", target)
	if m, ok := suggestName(target, names); ok {
		msg += fmt.Sprintf(" (did you mean %s?)", m)
	}
	if len(names) == 0 {
		msg += "; the Dockerfile has no named stages, build it without a target"
	} else {
		msg += "; valid targets: " + strings.Join(names, ", ")
	}
	return 0, &Error{File: g.File, Msg: msg}
}
