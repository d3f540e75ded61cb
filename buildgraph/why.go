package buildgraph

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// This file says why a step ran instead of coming from the cache, by
// comparing what each step of a build depends on (its StepFacts) with what
// the same step depended on in the last recorded build of the target. The
// same comparison, made before building, predicts which steps will run.
// What the comparison reads of the build context (the digests of the files
// a COPY reads) is computed outside this package, which touches no file
// system: StepFacts.Reads says which paths, StepFacts.Files holds their
// digests.

// ReasonKind is why a step ran; exactly one per step that ran.
type ReasonKind string

// The kinds of reasons, in the order they are tried.
const (
	// ReasonFirstBuild: no earlier record of the step to compare with (no
	// record of the target, a stage or step the record does not have, or
	// a step that did not complete in the recorded build).
	ReasonFirstBuild ReasonKind = "first-build"
	// ReasonNoCache: --no-cache asked for it.
	ReasonNoCache ReasonKind = "no-cache"
	// ReasonParentRan: an earlier step of the same stage ran.
	ReasonParentRan ReasonKind = "parent-ran"
	// ReasonInstructionChanged: the instruction's text, or that of an ENV,
	// USER, WORKDIR or SHELL before it in the stage, differs.
	ReasonInstructionChanged ReasonKind = "instruction-changed"
	// ReasonBaseChanged: the stage's base (image, named context, or the
	// stage it is built FROM) changed or ran, or an image or named context
	// the step reads with --from changed.
	ReasonBaseChanged ReasonKind = "base-changed"
	// ReasonBuildArgChanged: a build argument the step sees changed.
	ReasonBuildArgChanged ReasonKind = "build-arg-changed"
	// ReasonSourceStageRan: a stage the step copies or mounts from ran.
	ReasonSourceStageRan ReasonKind = "source-stage-ran"
	// ReasonFilesChanged: the context files the step reads changed.
	ReasonFilesChanged ReasonKind = "files-changed"
	// ReasonCacheEvicted: everything the step depends on equals the
	// recorded build's, which completed it, yet the engine ran it.
	ReasonCacheEvicted ReasonKind = "cache-evicted"
	// ReasonUnknown: none of the above can be shown to hold.
	ReasonUnknown ReasonKind = "unknown"
)

// Reason is why a step ran. Kind says which; the other fields, each present
// only for the kinds named, give the details.
type Reason struct {
	Kind ReasonKind `json:"kind"`
	// Line is the Dockerfile line of the changed instruction
	// (instruction-changed: the step's own, or an ENV, USER, WORKDIR or
	// SHELL before it); Old and New its text in the recorded build and
	// now (Old is absent when the recorded stage had no step there, New
	// when the instruction was removed).
	Line int    `json:"line,omitempty"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
	// Args are the build arguments that changed (build-arg-changed).
	Args []ArgChange `json:"args,omitempty"`
	// Base is the base (or --from image or context) before and now
	// (base-changed).
	Base *Change `json:"base,omitempty"`
	// Stage names the stage that ran: the base stage (base-changed) or
	// the source stage (source-stage-ran).
	Stage string `json:"stage,omitempty"`
	// Step is the first step of the stage that ran (parent-ran), which
	// carries the real reason.
	Step *StepRef `json:"step,omitempty"`
	// Files are the files that changed (files-changed), by path, at most
	// MaxReasonFiles; FilesChanged counts them all.
	Files        []FileChange `json:"files,omitempty"`
	FilesChanged int          `json:"filesChanged,omitempty"`
	// Note says in one sentence what the kind alone does not: why a base
	// counts as changed in every build, why a step is unknown.
	Note string `json:"note,omitempty"`
	// Maybe is set on a prediction (Predict) that may not come true: the
	// step copies or mounts from a stage that will run, and BuildKit runs
	// it only if the files it reads from there differ (it compares their
	// content), or it follows such a step.
	Maybe bool `json:"maybe,omitempty"`
}

// MaxReasonFiles is how many changed files a reason lists.
const MaxReasonFiles = 50

// ArgChange is a build argument the step sees, before and now; a value
// absent when the argument was not set. A Redacted value is never shown.
type ArgChange struct {
	Name string  `json:"name"`
	Old  *string `json:"old"`
	New  *string `json:"new"`
}

// Change is a value before and now.
type Change struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// StepRef names a step of the build by its Dockerfile line and text.
type StepRef struct {
	Line int    `json:"line,omitempty"`
	Text string `json:"text"`
}

// FileChange is a context file that changed: added, modified or removed,
// with its size now (before, for a removed file).
type FileChange struct {
	Path   string `json:"path"`
	Change string `json:"change"`
	Size   int64  `json:"size"`
}

// The changes of a FileChange.
const (
	FileAdded    = "added"
	FileModified = "modified"
	FileRemoved  = "removed"
)

// StepFacts are what a step of a Dockerfile stage depends on, as far as a
// build can tell without the engine: they are kept in build records and
// compared with the next build's.
type StepFacts struct {
	// Position is the step's place among the steps of its stage (the
	// instructions that run one: ADD, COPY, RUN, WORKDIR), from 1.
	Position int `json:"position"`
	// Line is the instruction's Dockerfile line; not compared (moving an
	// instruction down changes nothing BuildKit keys on).
	Line int `json:"line,omitempty"`
	// Instruction is the instruction as written.
	Instruction string `json:"instruction"`
	// Config are the ENV, USER, WORKDIR and SHELL instructions before the
	// step in its stage and in the stages it is built FROM (with their
	// ONBUILD triggers) that change what it does: all of them for a RUN;
	// the WORKDIRs and the ENVs whose variables the text expands for the
	// other steps.
	Config []ConfigLine `json:"config,omitempty"`
	// Args are the build arguments the step sees, NAME → value: every ARG
	// of the stage before a RUN, the ones another instruction names. The
	// values of secret-like names are Redacted.
	Args map[string]string `json:"args,omitempty"`
	// Base is what the stage starts from: "scratch", "stage:NAME",
	// "image:REF" or "context:NAME=VALUE"; BaseDigest the image digest the
	// engine resolved, when known.
	Base       string `json:"base"`
	BaseDigest string `json:"baseDigest,omitempty"`
	// Volatile is set when the base changes for the engine in every build:
	// a folder given as a named context, which BuildKit keys on the build's
	// session.
	Volatile string `json:"volatile,omitempty"`
	// Sources are what COPY --from and RUN --mount from= read: "stage:NAME",
	// "image:REF", "context:NAME=VALUE".
	Sources []string `json:"sources,omitempty"`
	// Unseen are inputs of the step whose content is not compared: the
	// URLs and Git repositories ADD downloads, the folders given as named
	// contexts it copies or mounts from. A step that ran with nothing else
	// changed is then unknown, not evicted.
	Unseen []string `json:"unseen,omitempty"`
	// Reads are the paths, relative to the build context, the step reads
	// from it (COPY and ADD sources, RUN --mount=type=bind sources):
	// patterns as BuildKit matches them, "." for all of it.
	Reads []string `json:"reads,omitempty"`
	// Files are the context files Reads match, as the engine would see
	// them (.dockerignore applied), sorted by path; FilesError says why
	// they could not be read.
	Files      []FileDigest `json:"files,omitempty"`
	FilesError string       `json:"filesError,omitempty"`
	// FilesDigest is FilesDigestOf(Files): two steps whose digests are
	// equal read the same files; records keep the list once per digest.
	FilesDigest string `json:"filesDigest,omitempty"`
}

// FilesDigestOf is the sha256 of a list of files: of each file's path,
// digest, mode and size.
func FilesDigestOf(files []FileDigest) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%s\x00%o\x00%d\n", f.Path, f.Digest, f.Mode, f.Size)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// ConfigLine is an instruction that sets what later steps run with.
type ConfigLine struct {
	Line int    `json:"line"`
	Text string `json:"text"`
}

// FileDigest is a file of the context: its path (slash-separated, relative
// to the context), the sha256 of its content (of its target, for a
// symbolic link), its mode bits and size.
type FileDigest struct {
	Path   string `json:"path"`
	Digest string `json:"digest"`
	Mode   uint32 `json:"mode"`
	Size   int64  `json:"size"`
}

// StageFacts are the facts of the steps of one stage.
type StageFacts struct {
	Stage int
	Name  string
	Steps []StepFacts
}

// Facts are the facts of every step of the stages a build of target runs,
// in Dockerfile order, computed with buildArgs; Files are left for the
// caller to fill in from the context.
func (g *Graph) Facts(target string, buildArgs map[string]string) ([]StageFacts, error) {
	cl, err := g.Closure(target)
	if err != nil {
		return nil, err
	}
	global := map[string]*string{}
	for _, a := range g.Args {
		if a.HasValue {
			v := a.Value
			global[a.Name] = &v
		} else {
			global[a.Name] = nil
		}
	}
	var out []StageFacts
	for _, i := range cl.Stages {
		st := g.Stages[i]
		if cl.IsReplaced(i) || st.Context != nil {
			continue
		}
		out = append(out, g.stageFacts(st, buildArgs, global))
	}
	return out, nil
}

func (g *Graph) stageFacts(st *Stage, buildArgs map[string]string, global map[string]*string) StageFacts {
	sf := StageFacts{Stage: st.Index, Name: st.Name}
	base, volatile := g.baseIdentity(st)
	scope := map[string]*string{} // the stage's ARGs so far
	var order []string
	// What the stages it is built FROM set: their image's config and
	// ONBUILD triggers, which change none of their own steps.
	config := g.inherited(st)
	pos := 0
	for _, in := range st.Instructions {
		switch c := in.Command.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				var v *string
				if bv, ok := buildArgs[kv.Key]; ok {
					v = &bv
				} else if kv.Value != nil {
					d := *kv.Value
					v = &d
				} else if gv, ok := global[kv.Key]; ok {
					v = gv
				}
				if _, seen := scope[kv.Key]; !seen {
					order = append(order, kv.Key)
				}
				scope[kv.Key] = v
			}
			continue
		case *instructions.EnvCommand:
			cl := configLine{ConfigLine: ConfigLine{Line: in.StartLine, Text: in.Text}}
			for _, kv := range c.Env {
				cl.names = append(cl.names, kv.Key)
			}
			config = append(config, cl)
			continue
		case *instructions.UserCommand, *instructions.ShellCommand:
			config = append(config, configLine{ConfigLine: ConfigLine{Line: in.StartLine, Text: in.Text}, runOnly: true})
			continue
		case *instructions.WorkdirCommand:
			if rootWorkdir(in) {
				config = append(config, configLine{ConfigLine: ConfigLine{Line: in.StartLine, Text: in.Text}})
				continue
			}
		case *instructions.CopyCommand, *instructions.AddCommand, *instructions.RunCommand:
		default:
			continue
		}
		pos++
		f := StepFacts{Position: pos, Line: in.StartLine, Instruction: in.Text, Base: base, Volatile: volatile}
		_, isRun := in.Command.(*instructions.RunCommand)
		// A RUN runs with every ENV, USER, SHELL and WORKDIR before it;
		// the other steps depend on the WORKDIR and on the ENV values
		// their text expands.
		for _, c := range config {
			if isRun || !c.runOnly && (c.names == nil || mentionsAny(in.Text, c.names)) {
				f.Config = append(f.Config, c.ConfigLine)
			}
		}
		if in.Keyword == "WORKDIR" {
			config = append(config, configLine{ConfigLine: ConfigLine{Line: in.StartLine, Text: in.Text}})
		}
		for _, name := range order {
			if !isRun && !mentions(in.Text, name) {
				continue
			}
			if f.Args == nil {
				f.Args = map[string]string{}
			}
			if v := scope[name]; v != nil {
				f.Args[name] = *v
			} else {
				f.Args[name] = ""
			}
		}
		f.Sources = g.stepSources(st.Index, in.StartLine)
		f.Reads = reads(in)
		f.Unseen = g.unseen(in, f.Sources)
		sf.Steps = append(sf.Steps, f)
	}
	return sf
}

// inherited are the config lines of the stages st is built FROM, base-most
// first: ENV, USER, SHELL, WORKDIR and ONBUILD.
func (g *Graph) inherited(st *Stage) []configLine {
	var out []configLine
	chain := g.Chain(st.Index)
	for _, b := range chain[:len(chain)-1] {
		if b.Context != nil {
			continue
		}
		for _, in := range b.Instructions {
			cl := configLine{ConfigLine: ConfigLine{Line: in.StartLine, Text: in.Text}}
			switch c := in.Command.(type) {
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					cl.names = append(cl.names, kv.Key)
				}
			case *instructions.UserCommand, *instructions.ShellCommand:
				cl.runOnly = true
			case *instructions.WorkdirCommand, *instructions.OnbuildCommand:
			default:
				continue
			}
			out = append(out, cl)
		}
	}
	return out
}

// configLine is a ConfigLine with what it sets: the names of an ENV's
// variables; runOnly for USER and SHELL, which only RUN uses.
type configLine struct {
	ConfigLine
	names   []string
	runOnly bool
}

func mentionsAny(text string, names []string) bool {
	for _, n := range names {
		if mentions(text, n) {
			return true
		}
	}
	return false
}

// mentions reports whether text expands the variable name ($NAME,
// ${NAME}, ${NAME:-…}).
func mentions(text, name string) bool {
	for i := strings.IndexByte(text, '$'); i >= 0; {
		rest := strings.TrimPrefix(text[i+1:], "{")
		if strings.HasPrefix(rest, name) && (len(rest) == len(name) || !wordChar(rest[len(name)])) {
			return true
		}
		next := strings.IndexByte(text[i+1:], '$')
		if next < 0 {
			return false
		}
		i += next + 1
	}
	return false
}

func wordChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// baseIdentity is what stage st starts from, and why that is new in every
// build when it is.
func (g *Graph) baseIdentity(st *Stage) (string, string) {
	switch st.Base.Kind {
	case BaseScratch:
		return "scratch", ""
	case BaseStage:
		if st.Base.Stage >= 0 && st.Base.Stage < len(g.Stages) {
			return "stage:" + g.Stages[st.Base.Stage].Name, ""
		}
	}
	if st.Base.Image >= 0 && st.Base.Image < len(g.Images) {
		return g.imageIdentity(g.Images[st.Base.Image])
	}
	return "image:" + st.Base.Ref, ""
}

func (g *Graph) imageIdentity(im *Image) (string, string) {
	if im.Context != nil {
		id := "context:" + im.Context.Key + "=" + im.Context.Value
		if im.Context.Kind() == "local" {
			return id, "a folder given as a named context is sent again with every build, and BuildKit keys what is built on it by the build's session"
		}
		return id, ""
	}
	if im.Scratch() {
		return "scratch", ""
	}
	return "image:" + im.Normalized, ""
}

// stepSources are the sources of COPY --from and RUN --mount from= of the
// instruction of stage at line.
func (g *Graph) stepSources(stage, line int) []string {
	var out []string
	for _, e := range g.Edges {
		if e.To != stage || e.Line != line || (e.Kind != EdgeCopyFrom && e.Kind != EdgeMountFrom) {
			continue
		}
		if e.From.Kind == NodeStage {
			out = append(out, "stage:"+g.Stages[e.From.Index].Name)
		} else if e.From.Index >= 0 && e.From.Index < len(g.Images) {
			id, _ := g.imageIdentity(g.Images[e.From.Index])
			out = append(out, id)
		}
	}
	return out
}

// unseen are the inputs of an instruction whose content is not compared:
// ADD's URLs and Git repositories, the folders of named contexts among its
// --from sources.
func (g *Graph) unseen(in Instruction, sources []string) []string {
	var out []string
	if c, ok := in.Command.(*instructions.AddCommand); ok {
		for _, s := range c.SourcePaths {
			if strings.Contains(s, "://") || strings.HasPrefix(s, "git@") {
				out = append(out, s)
			}
		}
	}
	for _, src := range sources {
		for _, im := range g.Images {
			if im.Context != nil && im.Context.Kind() == "local" {
				if id, _ := g.imageIdentity(im); id == src {
					out = append(out, im.Context.Value)
				}
			}
		}
	}
	return out
}

// reads are the context paths an instruction reads: COPY and ADD sources
// without --from (ADD's URLs and Git repositories excepted), the sources
// of RUN --mount=type=bind without from=.
func reads(in Instruction) []string {
	var srcs []string
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		if c.From != "" {
			return nil
		}
		srcs = c.SourcePaths // heredocs are part of the instruction's text
	case *instructions.AddCommand:
		for _, s := range c.SourcePaths {
			if strings.Contains(s, "://") || strings.HasPrefix(s, "git@") {
				continue
			}
			srcs = append(srcs, s)
		}
	case *instructions.RunCommand:
		for _, m := range instructions.GetMounts(c) {
			if m.Type != instructions.MountTypeBind || m.From != "" {
				continue
			}
			srcs = append(srcs, m.Source)
		}
	}
	var out []string
	for _, s := range srcs {
		p := path.Clean("/" + strings.TrimSpace(s))
		p = strings.TrimPrefix(p, "/")
		if p == "" {
			p = "."
		}
		out = append(out, p)
	}
	return out
}

// WhyStep is a step of a build as the comparison sees it.
type WhyStep struct {
	// Stage is the stage's name.
	Stage string
	// Text is what names the step to the user: BuildKit's text of its
	// vertex, else the instruction.
	Text string
	// Ran: the step ran rather than came from the cache (for the build
	// explained), or completed, from the cache or not (for the recorded
	// build).
	Ran   bool
	Facts StepFacts
}

// Reasons says why each step of cur that ran did: one Reason for each, nil
// for the others. prev are the steps of the last recorded build of the
// target (record names it in notes), nil when there is none; noCache is
// --no-cache. cur lists the steps stage by stage, each stage's in order.
func Reasons(prev []WhyStep, hasPrev bool, cur []WhyStep, noCache bool) []*Reason {
	w := newWhy(prev, hasPrev, cur, noCache)
	out := make([]*Reason, len(cur))
	for i, s := range cur {
		if !s.Ran {
			continue
		}
		r := w.reason(i)
		if r == nil {
			r = w.unchanged(i)
		}
		out[i] = r
		w.ran(i)
	}
	return out
}

// Predict says which steps of cur will run, and why, when built after the
// build prev recorded: the steps whose inputs changed, and those after
// them. cur's Ran and BaseDigest are ignored; an engine that lost its cache
// cannot be foreseen, so no step is predicted cache-evicted.
func Predict(prev []WhyStep, hasPrev bool, cur []WhyStep, noCache bool) []*Reason {
	w := newWhy(prev, hasPrev, cur, noCache)
	w.predict = true
	out := make([]*Reason, len(cur))
	done := make([]bool, len(cur))
	// A step depends on stages that may come later in cur (COPY --from a
	// stage defined below): resolve stages on demand.
	var resolve func(stage string, seen map[string]bool)
	resolve = func(stage string, seen map[string]bool) {
		if seen[stage] {
			return
		}
		seen[stage] = true
		for i, s := range cur {
			if s.Stage != stage || done[i] {
				continue
			}
			for _, dep := range stageDeps(s.Facts) {
				resolve(dep, seen)
			}
			done[i] = true
			if r := w.reason(i); r != nil {
				out[i] = r
				w.ran(i)
				if _, ok := w.stageMaybe[s.Stage]; !ok {
					w.stageMaybe[s.Stage] = r.Maybe
				}
			}
		}
	}
	for _, s := range cur {
		resolve(s.Stage, map[string]bool{})
	}
	return out
}

func stageDeps(f StepFacts) []string {
	var out []string
	if name, ok := strings.CutPrefix(f.Base, "stage:"); ok {
		out = append(out, name)
	}
	for _, s := range f.Sources {
		if name, ok := strings.CutPrefix(s, "stage:"); ok {
			out = append(out, name)
		}
	}
	return out
}

type stepKey struct {
	stage string
	pos   int
}

type why struct {
	prev      map[stepKey]*WhyStep
	stages    map[string]bool // stages of the recorded build
	hasPrev   bool
	hasFacts  bool // the recorded build kept its steps' facts
	cur       []WhyStep
	noCache   bool
	firstRan  map[string]int // stage → index in cur of its first step that ran
	stagesRan map[string]bool
	// predict: reasons are predictions; stageMaybe says whether a stage's
	// first predicted step may not run.
	predict    bool
	stageMaybe map[string]bool
}

func newWhy(prev []WhyStep, hasPrev bool, cur []WhyStep, noCache bool) *why {
	w := &why{prev: map[stepKey]*WhyStep{}, stages: map[string]bool{}, hasPrev: hasPrev, cur: cur,
		noCache: noCache, firstRan: map[string]int{}, stagesRan: map[string]bool{}, stageMaybe: map[string]bool{}}
	for i := range prev {
		p := &prev[i]
		if p.Facts.Position == 0 {
			continue
		}
		w.hasFacts = true
		w.stages[p.Stage] = true
		k := stepKey{p.Stage, p.Facts.Position}
		if old, ok := w.prev[k]; ok {
			old.Ran = old.Ran || p.Ran // several vertices of one instruction
			continue
		}
		w.prev[k] = p
	}
	return w
}

func (w *why) ran(i int) {
	s := w.cur[i]
	if _, ok := w.firstRan[s.Stage]; !ok {
		w.firstRan[s.Stage] = i
	}
	w.stagesRan[s.Stage] = true
}

// reason is the reason step i runs, nil when nothing it depends on
// changed.
func (w *why) reason(i int) *Reason {
	s := w.cur[i]
	f := s.Facts
	switch {
	case !w.hasPrev:
		return &Reason{Kind: ReasonFirstBuild}
	case w.noCache:
		return &Reason{Kind: ReasonNoCache}
	}
	if j, ok := w.firstRan[s.Stage]; ok {
		first := w.cur[j]
		return &Reason{Kind: ReasonParentRan, Step: &StepRef{Line: first.Facts.Line, Text: first.Text}, Maybe: w.stageMaybe[s.Stage]}
	}
	if !w.hasFacts {
		return &Reason{Kind: ReasonUnknown, Note: "the recorded build kept nothing of its steps' inputs to compare with"}
	}
	if !w.stages[s.Stage] {
		return &Reason{Kind: ReasonFirstBuild, Note: fmt.Sprintf("the recorded build has no stage %s", s.Stage)}
	}
	p := w.prev[stepKey{s.Stage, f.Position}]
	if p == nil {
		return &Reason{Kind: ReasonInstructionChanged, Line: f.Line, New: f.Instruction}
	}
	pf := p.Facts
	if pf.Instruction != f.Instruction {
		return &Reason{Kind: ReasonInstructionChanged, Line: f.Line, Old: pf.Instruction, New: f.Instruction}
	}
	if r := configChange(pf.Config, f.Config); r != nil {
		return r
	}
	if name, ok := strings.CutPrefix(f.Base, "stage:"); ok && w.stagesRan[name] {
		return &Reason{Kind: ReasonBaseChanged, Stage: name, Maybe: w.stageMaybe[name]}
	}
	if pf.Base != f.Base || pf.BaseDigest != "" && f.BaseDigest != "" && pf.BaseDigest != f.BaseDigest {
		return &Reason{Kind: ReasonBaseChanged, Base: &Change{Old: baseText(pf), New: baseText(f)}}
	}
	if args := argChanges(pf.Args, f.Args); len(args) > 0 {
		return &Reason{Kind: ReasonBuildArgChanged, Args: args}
	}
	for _, src := range f.Sources {
		if name, ok := strings.CutPrefix(src, "stage:"); ok && w.stagesRan[name] {
			return &Reason{Kind: ReasonSourceStageRan, Stage: name, Maybe: w.predict}
		}
	}
	if !equalStrings(pf.Sources, f.Sources) {
		return &Reason{Kind: ReasonBaseChanged, Base: &Change{Old: strings.Join(pf.Sources, " "), New: strings.Join(f.Sources, " ")},
			Note: "what the step reads with --from changed"}
	}
	sameFiles := pf.FilesDigest != "" && pf.FilesDigest == f.FilesDigest
	if pf.FilesError == "" && f.FilesError == "" && !sameFiles {
		if changes := fileChanges(pf.Files, f.Files); len(changes) > 0 {
			r := &Reason{Kind: ReasonFilesChanged, FilesChanged: len(changes), Files: changes}
			if len(changes) > MaxReasonFiles {
				r.Files = changes[:MaxReasonFiles]
			}
			return r
		}
	}
	if f.Volatile != "" {
		return &Reason{Kind: ReasonBaseChanged, Base: &Change{Old: pf.Base, New: f.Base}, Note: f.Volatile}
	}
	if !p.Ran {
		return &Reason{Kind: ReasonFirstBuild, Note: "the step did not complete in the recorded build"}
	}
	return nil
}

// unchanged is the reason of a step that ran although nothing it depends
// on changed: the engine's cache lost it, unless something the comparison
// cannot see could have changed.
func (w *why) unchanged(i int) *Reason {
	f := w.cur[i].Facts
	if f.FilesError != "" {
		return &Reason{Kind: ReasonUnknown, Note: "the context files it reads could not be read: " + f.FilesError}
	}
	if p := w.prev[stepKey{w.cur[i].Stage, f.Position}]; p != nil && p.Facts.FilesError != "" {
		return &Reason{Kind: ReasonUnknown, Note: "the recorded build could not read the context files it reads"}
	}
	if len(f.Unseen) > 0 {
		return &Reason{Kind: ReasonUnknown, Note: fmt.Sprintf("it reads %s, whose content stagescope does not compare", strings.Join(f.Unseen, ", "))}
	}
	var hidden []string
	for name, v := range f.Args {
		if strings.Contains(v, Redacted) {
			hidden = append(hidden, name)
		}
	}
	if len(hidden) > 0 {
		sort.Strings(hidden)
		return &Reason{Kind: ReasonUnknown, Note: fmt.Sprintf("it sees build argument %s, whose value is not kept, so a change cannot be shown", strings.Join(hidden, ", "))}
	}
	return &Reason{Kind: ReasonCacheEvicted}
}

func baseText(f StepFacts) string {
	if f.BaseDigest != "" {
		return f.Base + "@" + f.BaseDigest
	}
	return f.Base
}

func configChange(old, cur []ConfigLine) *Reason {
	for i := 0; i < max(len(old), len(cur)); i++ {
		switch {
		case i >= len(cur):
			return &Reason{Kind: ReasonInstructionChanged, Old: old[i].Text}
		case i >= len(old):
			return &Reason{Kind: ReasonInstructionChanged, Line: cur[i].Line, New: cur[i].Text}
		case old[i].Text != cur[i].Text:
			return &Reason{Kind: ReasonInstructionChanged, Line: cur[i].Line, Old: old[i].Text, New: cur[i].Text}
		}
	}
	return nil
}

func argChanges(old, cur map[string]string) []ArgChange {
	var names []string
	for k := range old {
		names = append(names, k)
	}
	for k := range cur {
		if _, ok := old[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var out []ArgChange
	for _, k := range names {
		ov, oldOK := old[k]
		nv, newOK := cur[k]
		if oldOK && newOK && ov == nv {
			continue
		}
		c := ArgChange{Name: k}
		if oldOK {
			c.Old = &ov
		}
		if newOK {
			c.New = &nv
		}
		out = append(out, c)
	}
	return out
}

func fileChanges(old, cur []FileDigest) []FileChange {
	var out []FileChange
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		switch {
		case j >= len(cur) || i < len(old) && old[i].Path < cur[j].Path:
			out = append(out, FileChange{Path: old[i].Path, Change: FileRemoved, Size: old[i].Size})
			i++
		case i >= len(old) || cur[j].Path < old[i].Path:
			out = append(out, FileChange{Path: cur[j].Path, Change: FileAdded, Size: cur[j].Size})
			j++
		default:
			if old[i].Digest != cur[j].Digest || old[i].Mode != cur[j].Mode {
				out = append(out, FileChange{Path: cur[j].Path, Change: FileModified, Size: cur[j].Size})
			}
			i++
			j++
		}
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Short is the reason in a word or two, for a step's row.
func (r *Reason) Short() string {
	if r == nil {
		return ""
	}
	switch r.Kind {
	case ReasonFirstBuild:
		return "first build"
	case ReasonNoCache:
		return "no cache"
	case ReasonParentRan:
		return "parent ran"
	case ReasonInstructionChanged:
		return "edited"
	case ReasonBuildArgChanged:
		return "arg changed"
	case ReasonBaseChanged:
		return "base changed"
	case ReasonSourceStageRan:
		return "source ran"
	case ReasonFilesChanged:
		return "files changed"
	case ReasonCacheEvicted:
		return "evicted"
	}
	return "unknown"
}

// String is the reason on one line: its kind and what changed.
func (r *Reason) String() string {
	if r == nil {
		return ""
	}
	s := string(r.Kind)
	var detail string
	switch r.Kind {
	case ReasonParentRan:
		if r.Step != nil {
			detail = fmt.Sprintf("%s ran first", stepRefText(*r.Step))
		}
	case ReasonInstructionChanged:
		switch {
		case r.Old == "":
			detail = fmt.Sprintf("line %d is new: %s", r.Line, oneLine(r.New))
		case r.New == "":
			detail = fmt.Sprintf("removed: %s", oneLine(r.Old))
		default:
			detail = fmt.Sprintf("line %d was %q, is %q", r.Line, oneLine(r.Old), oneLine(r.New))
		}
	case ReasonBuildArgChanged:
		var parts []string
		for _, a := range r.Args {
			parts = append(parts, fmt.Sprintf("%s %s → %s", a.Name, argValue(a.Old), argValue(a.New)))
		}
		detail = strings.Join(parts, ", ")
	case ReasonBaseChanged:
		switch {
		case r.Stage != "":
			detail = fmt.Sprintf("base stage %s ran", r.Stage)
		case r.Base != nil && r.Base.Old == r.Base.New:
			detail = r.Base.New
		case r.Base != nil:
			detail = fmt.Sprintf("%s → %s", r.Base.Old, r.Base.New)
		}
	case ReasonSourceStageRan:
		detail = fmt.Sprintf("stage %s ran", r.Stage)
	case ReasonFilesChanged:
		var parts []string
		for i, f := range r.Files {
			if i == 3 {
				break
			}
			parts = append(parts, fmt.Sprintf("%s %s", f.Path, f.Change))
		}
		detail = strings.Join(parts, ", ")
		if more := r.FilesChanged - len(parts); more > 0 {
			detail += fmt.Sprintf(" and %d more", more)
		}
	}
	if r.Note != "" {
		if detail != "" {
			detail += "; "
		}
		detail += r.Note
	}
	if r.Maybe {
		if detail != "" {
			detail += "; "
		}
		detail += "runs only if what it reads from there differs"
	}
	if detail == "" {
		return s
	}
	return s + ": " + detail
}

func stepRefText(s StepRef) string {
	if s.Line > 0 {
		return fmt.Sprintf("line %d (%s)", s.Line, oneLine(s.Text))
	}
	return oneLine(s.Text)
}

func argValue(v *string) string {
	if v == nil {
		return "(unset)"
	}
	return fmt.Sprintf("%q", *v)
}

func oneLine(s string) string {
	s, _, cut := strings.Cut(s, "\n")
	if cut {
		s += " …"
	}
	return s
}
