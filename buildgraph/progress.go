package buildgraph

import (
	"context"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	digest "github.com/opencontainers/go-digest"
)

// This file folds BuildKit's status stream (the *client.SolveStatus values a
// solve sends) into a model of the build, stage by stage and step by step,
// that the TUI and the headless commands render.
//
// How vertices map to stages. client.Vertex carries no source location and
// no stage: its ProgressGroup only ties the vertices of one COPY --link
// together. What identifies a stage is the name the Dockerfile frontend gives
// a step, "[builder 2/4] COPY . .": an optional platform
// ("[linux/arm64 builder 2/4]" in multi-platform builds, "linux/amd64->arm64"
// when cross-compiling), the stage's ProgressName ("" in single-source files,
// "[2/4] COPY . ."), and the step number i/N, right-aligned to the width of N
// ("[builder  2/10]"). Everything else ([internal] load ..., [context x] ...,
// [auth] ..., exporting to image, ...) belongs to no stage.
//
// The numbering follows dockerfile2llb: N counts FROM when the base is an
// image or a named context, plus every ADD, COPY, RUN and WORKDIR of the stage
// (and the commands of ONBUILD triggers, which run first); FROM gets number 1
// only when a registry image is pulled (a named context or an empty image
// emits no FROM step, so numbering starts at the first instruction), and
// "WORKDIR /" takes a place in N but emits no step. Step.Line is resolved
// with those rules and checked against the instruction keyword; when the
// stream does not match the Graph, Line is 0 rather than a wrong line.
//
// A vertex BuildKit shares between two stages (identical steps have one
// digest, so BuildKit runs and reports them once) belongs to the stage whose
// name BuildKit reports it under; the other stage does not list it.

// StepState is the state of a step, or the aggregate state of a stage.
type StepState string

// The states of a step.
const (
	StepWaiting  StepState = "waiting"  // known, not started
	StepRunning  StepState = "running"  // started, not completed
	StepCached   StepState = "cached"   // completed from the build cache
	StepDone     StepState = "done"     // completed by running it
	StepError    StepState = "error"    // failed
	StepCanceled StepState = "canceled" // stopped because the build was canceled
)

// Finished reports whether the state is final for the build: cached, done,
// error or canceled.
func (s StepState) Finished() bool {
	switch s {
	case StepCached, StepDone, StepError, StepCanceled:
		return true
	}
	return false
}

// Step is one vertex of the build: an instruction of a stage, or a vertex
// of no stage such as loading the build context or exporting the image.
type Step struct {
	// Vertex is the vertex digest, the step's identity.
	Vertex digest.Digest
	// Inputs are the digests of the vertices this one takes as inputs
	// (client.Vertex.Inputs, as the latest update that named any), the
	// edges of the build's graph.
	Inputs []digest.Digest
	// Stage is the index in Graph.Stages of the stage the step belongs to,
	// -1 when it belongs to no stage.
	Stage int
	// Index and Count are the i/N of the vertex name, 0 when not numbered.
	Index, Count int
	// Platform is the platform prefix of the name in multi-platform builds
	// ("linux/arm64"), "" otherwise.
	Platform string
	// Name is the vertex name exactly as BuildKit sent it; "" while only logs
	// or statuses of the vertex have arrived.
	Name string
	// Text is Name without its bracketed prefix: "RUN go build ." for
	// "[builder 3/4] RUN go build .", "load build context" for
	// "[internal] load build context".
	Text string
	// Line is the Dockerfile line of the step's instruction (for FROM and
	// ONBUILD triggers, the FROM line), 0 when unknown.
	Line  int
	State StepState
	// Started is when the vertex first started; Completed when its latest
	// run completed. Both are zero when not yet.
	Started, Completed time.Time
	// Error is BuildKit's error for the vertex, "" when none.
	Error string
	// Current and Total sum the transfer progress of the vertex's statuses
	// (bytes pulled, files copied, ...).
	Current, Total int64
	// Logs is the step's output; never nil.
	Logs *Log
	// Warnings are the short messages of the warnings BuildKit attached to
	// the vertex, deduplicated, in arrival order.
	Warnings []string
	// Why is why the step ran instead of coming from the cache, once the
	// build is compared with the last recorded one (SetWhy); nil before,
	// and for steps that did not run.
	Why *Reason

	order     int // position in Progress.steps
	cached    bool
	lastStart time.Time           // start of the latest run
	transfers map[string][2]int64 // status ID -> current, total
}

// Cached reports whether BuildKit answered the step from its cache.
func (s *Step) Cached() bool { return s.cached }

// Duration is how long the step ran: from Started to Completed, or to now
// while it runs; 0 before it starts.
func (s *Step) Duration(now time.Time) time.Duration {
	if s.Started.IsZero() {
		return 0
	}
	end := s.Completed
	if end.IsZero() {
		if s.State != StepRunning {
			return 0
		}
		end = now
	}
	return max(end.Sub(s.Started), 0)
}

// update merges a vertex update into the step. It is idempotent: applying
// the same update again changes nothing. Like BuildKit's progressui it keeps
// the runs of a vertex by start time: Started is the earliest start, and for
// the latest run the latest update wins (BuildKit reopens a completed run by
// sending it again without Completed, e.g. while a context transfers). An
// update without Started never resets a started step; Cached and Error stick
// once set.
func (s *Step) update(v *client.Vertex) {
	if v.Started != nil && !v.Started.IsZero() {
		st := *v.Started
		if s.Started.IsZero() || st.Before(s.Started) {
			s.Started = st
		}
		switch {
		case s.lastStart.IsZero() || st.After(s.lastStart):
			s.lastStart = st
			s.Completed = timeOf(v.Completed)
		case st.Equal(s.lastStart):
			s.Completed = timeOf(v.Completed)
		}
	} else if v.Completed != nil && s.lastStart.IsZero() && v.Completed.After(s.Completed) {
		s.Completed = *v.Completed
	}
	if len(v.Inputs) > 0 {
		s.Inputs = slices.Clone(v.Inputs)
	}
	s.cached = s.cached || v.Cached
	if v.Error != "" {
		s.Error = v.Error
	}
	s.State = s.state()
}

func (s *Step) state() StepState {
	switch {
	case s.Error != "":
		if canceled(s.Error) {
			return StepCanceled
		}
		return StepError
	case !s.Completed.IsZero():
		if s.cached {
			return StepCached
		}
		return StepDone
	case !s.lastStart.IsZero():
		return StepRunning
	case s.cached:
		return StepCached
	}
	return StepWaiting
}

// canceled reports whether a vertex error means the build was canceled
// rather than that the step failed; BuildKit's progressui uses the same test.
func canceled(err string) bool {
	return strings.HasSuffix(strings.TrimSpace(err), context.Canceled.Error())
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// transfer records a vertex status, replacing an earlier one with its ID.
func (s *Step) transfer(vs *client.VertexStatus) {
	if s.transfers == nil {
		s.transfers = map[string][2]int64{}
	}
	old := s.transfers[vs.ID]
	s.transfers[vs.ID] = [2]int64{vs.Current, vs.Total}
	s.Current += vs.Current - old[0]
	s.Total += vs.Total - old[1]
}

func (s *Step) warn(msg string) {
	if msg != "" && !slices.Contains(s.Warnings, msg) {
		s.Warnings = append(s.Warnings, msg)
	}
}

// StageProgress is the progress of one stage of the Graph.
type StageProgress struct {
	// Index is the stage's index in Graph.Stages, Name its name.
	Index int
	Name  string
	// State is error if a step failed, running if a step runs, canceled if
	// a step was canceled, cached if every step was cached, done if every
	// step completed, waiting otherwise (also when no step is known: stages
	// outside the target's closure, or replaced by a named context).
	State StepState
	// Steps are the stage's steps ordered by step number, then by arrival.
	Steps []*Step
	// Started is the earliest start of a step; Completed the latest
	// completion once the stage is finished, zero before.
	Started, Completed time.Time
}

// Duration is how long the stage's own steps ran: the time during which at
// least one of them was running (their intervals merged), to now for a step
// that still runs; 0 before one starts. Time spent waiting for other stages
// between its steps is not the stage's: a stage whose steps were cached
// after a long wait for its base takes 0s.
func (sp *StageProgress) Duration(now time.Time) time.Duration {
	type span struct{ from, to time.Time }
	var spans []span
	for _, s := range sp.Steps {
		if d := s.Duration(now); d > 0 {
			spans = append(spans, span{s.Started, s.Started.Add(d)})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.from.Compare(b.from) })
	var total time.Duration
	var cur span
	for i, x := range spans {
		switch {
		case i == 0:
			cur = x
		case !x.from.After(cur.to):
			if x.to.After(cur.to) {
				cur.to = x.to
			}
		default:
			total += cur.to.Sub(cur.from)
			cur = x
		}
	}
	if len(spans) > 0 {
		total += cur.to.Sub(cur.from)
	}
	return total
}

func (sp *StageProgress) refresh() {
	sp.Started, sp.Completed = time.Time{}, time.Time{}
	var last time.Time
	for _, s := range sp.Steps {
		if !s.Started.IsZero() && (sp.Started.IsZero() || s.Started.Before(sp.Started)) {
			sp.Started = s.Started
		}
		if s.Completed.After(last) {
			last = s.Completed
		}
	}
	sp.State = foldStates(sp.Steps)
	if sp.State.Finished() {
		sp.Completed = last
	}
}

// Progress is the state of a build, folded from its status stream by
// Apply. It is not safe for concurrent use: one goroutine applies statuses
// and renders (or hands copies of what it renders to others).
type Progress struct {
	// Stages has one entry per Graph stage, in the same order.
	Stages []*StageProgress
	// Other are the steps of no stage, in order of arrival.
	Other []*Step
	// Warnings are warnings BuildKit attached to no vertex.
	Warnings []string

	graph    *Graph
	steps    []*Step
	byDigest map[digest.Digest]*Step
	byName   map[string]int // lower-case ProgressName -> stage; "" for single-source files
	layouts  []stageLayout
	dirty    []bool // stages whose aggregate needs a refresh
}

// stageLayout is what dockerfile2llb numbers in a stage.
type stageLayout struct {
	fromCounted bool  // FROM counts in N: the base is an image or a named context
	fromEmitted bool  // FROM may be step 1: the base is a registry image
	numbered    int   // ADD, COPY, RUN and WORKDIR instructions, all counted in N
	emitted     []int // indexes in Instructions of those that emit a step
}

// NewProgress returns the empty progress of a build of g. g may be nil (a
// build whose Dockerfile could not be parsed); every step then belongs to no
// stage.
func NewProgress(g *Graph) *Progress {
	p := &Progress{graph: g, byDigest: map[digest.Digest]*Step{}, byName: map[string]int{}}
	if g == nil {
		return p
	}
	for _, st := range g.Stages {
		p.Stages = append(p.Stages, &StageProgress{Index: st.Index, Name: st.Name, State: StepWaiting})
		p.byName[strings.ToLower(st.ProgressName)] = st.Index
		// Also by Name, should BuildKit name the stage where the Graph
		// expects a single-source file; ProgressNames win.
		if _, ok := p.byName[strings.ToLower(st.Name)]; !ok && st.ProgressName == "" {
			p.byName[strings.ToLower(st.Name)] = st.Index
		}
		l := stageLayout{
			fromCounted: st.Base.Kind == BaseImage || st.Base.Kind == BaseContext,
			fromEmitted: st.Base.Kind == BaseImage,
		}
		for i, in := range st.Instructions {
			switch in.Keyword {
			case "ADD", "COPY", "RUN", "WORKDIR":
				l.numbered++
				if !rootWorkdir(in) {
					l.emitted = append(l.emitted, i)
				}
			}
		}
		p.layouts = append(p.layouts, l)
	}
	p.dirty = make([]bool, len(p.Stages))
	return p
}

// rootWorkdir reports whether in is a literal "WORKDIR /", which BuildKit
// counts but runs no step for.
func rootWorkdir(in Instruction) bool {
	w, ok := in.Command.(*instructions.WorkdirCommand)
	return ok && strings.HasPrefix(w.Path, "/") && path.Clean(w.Path) == "/"
}

// Apply folds one status update into the progress. It never panics on
// malformed input: nil entries and entries without a vertex are skipped, and
// logs, statuses and warnings of a vertex not seen yet create its step, which
// its vertex update completes later. Repeated and partial vertex updates are
// idempotent (see Step for the rules).
func (p *Progress) Apply(s *client.SolveStatus) {
	if s == nil {
		return
	}
	for _, v := range s.Vertexes {
		if v == nil || v.Digest == "" {
			continue
		}
		st := p.step(v.Digest)
		name := v.Name
		if name == "" && v.ProgressGroup != nil {
			name = v.ProgressGroup.Name
		}
		if name != "" && name != st.Name {
			st.Name = name
			p.place(st)
		}
		st.update(v)
		p.touch(st)
	}
	for _, vs := range s.Statuses {
		if vs == nil || vs.Vertex == "" {
			continue
		}
		p.step(vs.Vertex).transfer(vs)
	}
	for _, l := range s.Logs {
		if l == nil || l.Vertex == "" {
			continue
		}
		p.step(l.Vertex).Logs.Write(l.Stream, l.Data)
	}
	for _, w := range s.Warnings {
		if w == nil {
			continue
		}
		msg := strings.TrimSpace(string(w.Short))
		if w.Vertex == "" {
			if msg != "" && !slices.Contains(p.Warnings, msg) {
				p.Warnings = append(p.Warnings, msg)
			}
			continue
		}
		p.step(w.Vertex).warn(msg)
	}
	p.refreshStages()
}

// refreshStages recomputes the stages whose steps changed.
func (p *Progress) refreshStages() {
	for i, d := range p.dirty {
		if d {
			p.Stages[i].refresh()
			p.dirty[i] = false
		}
	}
}

// step returns the step of vertex d, creating a waiting step of no stage
// when d is new.
func (p *Progress) step(d digest.Digest) *Step {
	if st, ok := p.byDigest[d]; ok {
		return st
	}
	st := &Step{Vertex: d, Stage: -1, State: StepWaiting, Logs: NewLog(MaxLogBytes), order: len(p.steps)}
	p.byDigest[d] = st
	p.steps = append(p.steps, st)
	p.Other = append(p.Other, st)
	return st
}

func (p *Progress) touch(st *Step) {
	if st.Stage >= 0 {
		p.dirty[st.Stage] = true
	}
}

// place parses the step's name and moves the step to the list it belongs
// to. It runs when a vertex first gets a name, and again in the unusual
// case that BuildKit renames it.
func (p *Progress) place(st *Step) {
	n := parseVertexName(st.Name)
	st.Text, st.Platform, st.Index, st.Count = n.text, n.platform, n.index, n.count
	stage := -1
	if n.index > 0 {
		if i, ok := p.byName[strings.ToLower(n.label)]; ok {
			stage = i
		} else {
			stage = p.sharedStage(st)
		}
	}
	st.Line = 0
	if stage >= 0 {
		st.Line = p.line(stage, st)
	}
	if stage < 0 && st.Stage < 0 {
		return
	}
	if st.Stage >= 0 {
		sp := p.Stages[st.Stage]
		sp.Steps = slices.DeleteFunc(sp.Steps, func(s *Step) bool { return s == st })
		p.dirty[st.Stage] = true
	} else {
		p.Other = slices.DeleteFunc(p.Other, func(s *Step) bool { return s == st })
	}
	st.Stage = stage
	if stage < 0 {
		i, _ := slices.BinarySearchFunc(p.Other, st.order, func(s *Step, o int) int { return s.order - o })
		p.Other = slices.Insert(p.Other, i, st)
		return
	}
	sp := p.Stages[stage]
	i, _ := slices.BinarySearchFunc(sp.Steps, st, func(a, b *Step) int {
		if a.Index != b.Index {
			return a.Index - b.Index
		}
		return a.order - b.order
	})
	sp.Steps = slices.Insert(sp.Steps, i, st)
	p.dirty[stage] = true
}

// sharedStage is the stage of a numbered step named after a stage this
// Dockerfile does not have: another Dockerfile's, built in the same session,
// whose step BuildKit ran once for both (it names a shared step after the
// build that asked first). It is the one stage whose instruction at the
// step's position is the same text; -1 when none or several are.
func (p *Progress) sharedStage(st *Step) int {
	if p.graph == nil {
		return -1
	}
	want := strings.Join(strings.Fields(st.Text), " ")
	found := -1
	for i, g := range p.graph.Stages {
		l := p.layouts[i]
		expected := l.numbered
		if l.fromCounted {
			expected++
		}
		if st.Count != expected {
			continue // numbered for a stage of another shape
		}
		positions := []int{st.Index}
		if l.fromEmitted {
			positions = append(positions, st.Index-1)
		}
		for _, pos := range positions {
			if pos < 1 || pos > len(l.emitted) {
				continue
			}
			if in := g.Instructions[l.emitted[pos-1]]; strings.Join(strings.Fields(in.Text), " ") == want {
				if found >= 0 && found != i {
					return -1
				}
				found = i
			}
		}
	}
	return found
}

// line finds the Dockerfile line of a numbered step of a stage, following
// dockerfile2llb's numbering (see the top of this file). The position the
// number gives is uncertain by the ONBUILD triggers of the base (they run
// first and count in N) and by whether a FROM step was emitted; the first
// candidate position whose instruction has the step's keyword wins.
func (p *Progress) line(stage int, st *Step) int {
	g := p.graph.Stages[stage]
	kw, rest, _ := strings.Cut(st.Text, " ")
	if kw == "LINK" { // the merge step of COPY --link
		kw, _, _ = strings.Cut(rest, " ")
	}
	switch kw {
	case "FROM", "ONBUILD":
		return g.StartLine
	}
	l := p.layouts[stage]
	expected := l.numbered
	if l.fromCounted {
		expected++
	}
	lo := st.Index - max(st.Count-expected, 0)
	if l.fromEmitted {
		lo--
	}
	for pos := max(lo, 1); pos <= st.Index && pos <= len(l.emitted); pos++ {
		if in := g.Instructions[l.emitted[pos-1]]; in.Keyword == kw {
			return in.StartLine
		}
	}
	return 0
}

// vertexName is a vertex name taken apart.
type vertexName struct {
	platform string // "linux/arm64", "linux/amd64->arm64"
	label    string // what the brackets hold besides platform and i/N: "builder", "internal", "context x", ""
	index    int
	count    int
	text     string // the name after the brackets
}

// parseVertexName splits "[linux/amd64 builder 2/4] COPY . ." into its
// parts. A name without a bracketed prefix is all text.
func parseVertexName(name string) vertexName {
	n := vertexName{text: name}
	if !strings.HasPrefix(name, "[") {
		return n
	}
	end := strings.IndexByte(name, ']')
	if end < 0 {
		return n
	}
	fields := strings.Fields(name[1:end])
	if len(fields) == 0 {
		return n
	}
	n.text = strings.TrimLeft(name[end+1:], " ")
	if i, c, ok := stepNumber(fields[len(fields)-1]); ok {
		n.index, n.count = i, c
		fields = fields[:len(fields)-1]
	}
	if len(fields) > 0 && strings.Contains(fields[0], "/") {
		n.platform = fields[0]
		fields = fields[1:]
	}
	n.label = strings.Join(fields, " ")
	return n
}

// stepNumber parses "i/N" with 1 <= i <= N.
func stepNumber(s string) (i, n int, ok bool) {
	a, b, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, false
	}
	i, ok1 := parseIndex(a)
	n, ok2 := parseIndex(b)
	if !ok1 || !ok2 || i < 1 || i > n {
		return 0, 0, false
	}
	return i, n, true
}

// Step returns the step of vertex d, nil when unknown.
func (p *Progress) Step(d digest.Digest) *Step { return p.byDigest[d] }

// SetWhy gives the step of vertex d the reason it ran; it reports whether
// the step is known.
func (p *Progress) SetWhy(d digest.Digest, r *Reason) bool {
	st := p.byDigest[d]
	if st == nil {
		return false
	}
	st.Why = r
	return true
}

// Steps returns every step, of stages and of none, in order of arrival.
// The slice is the caller's; the steps are shared.
func (p *Progress) Steps() []*Step { return slices.Clone(p.steps) }

// Failed returns the step that failed first (by completion, then arrival),
// ignoring canceled steps; nil when no step failed.
func (p *Progress) Failed() *Step {
	var first *Step
	for _, s := range p.steps {
		if s.State != StepError {
			continue
		}
		if first == nil || !s.Completed.IsZero() && (first.Completed.IsZero() || s.Completed.Before(first.Completed)) {
			first = s
		}
	}
	return first
}

// Canceled reports whether a step was canceled.
func (p *Progress) Canceled() bool {
	for _, s := range p.steps {
		if s.State == StepCanceled {
			return true
		}
	}
	return false
}

// Abandon ends the steps that still run when the status stream ended
// without reporting them done: the engine was lost, or the build was cut
// short before BuildKit said so. They become canceled at the given time
// with why as their error; nothing else changes.
func (p *Progress) Abandon(at time.Time, why string) {
	for _, s := range p.steps {
		if s.State != StepRunning {
			continue
		}
		s.State, s.Completed = StepCanceled, at
		if s.Error == "" {
			s.Error = why
		}
		p.touch(s)
	}
	p.refreshStages()
}

// Counts counts the steps of the stages the build reached, as a reader of
// the Dockerfile counts them: one step per instruction after FROM, whatever
// number of vertices BuildKit runs for it (none for CMD, ENV or "WORKDIR /",
// two for COPY --link). It returns the cached ones, the finished ones (done
// or cached, so cached <= done) and all of them. The FROM step of a pulled
// base is the base, not a step. BuildKit's own i/N (Step.Index, Step.Count)
// counts otherwise and stays in the step's name.
func (p *Progress) Counts() (cached, done, total int) {
	for i := range p.Stages {
		c, d, n := p.StageCounts(i)
		cached, done, total = cached+c, done+d, total+n
	}
	return cached, done, total
}

// StageCounts is Counts for one stage; a stage no step of which BuildKit
// reported counts nothing.
func (p *Progress) StageCounts(stage int) (cached, done, total int) {
	for _, in := range p.Instructions(stage) {
		total++
		switch in.State {
		case StepCached:
			cached++
			done++
		case StepDone:
			done++
		}
	}
	return cached, done, total
}

// InstructionProgress is one instruction of a stage (after FROM) and the
// steps BuildKit ran for it.
type InstructionProgress struct {
	// Number is the instruction's position among the stage's instructions
	// after FROM, from 1; Count is how many the stage has.
	Number, Count int
	Instruction   Instruction
	// Steps are the vertices of the instruction, in the stage's order; none
	// for an instruction that only sets the image's config (CMD, ENV,
	// LABEL, ...), for "WORKDIR /", and for a step BuildKit reported under
	// another stage that shares it.
	Steps []*Step
	// State is the steps' aggregate state (as for a stage); without steps,
	// done once the stage finished without an error, waiting before.
	State StepState
}

// Instructions lists the instructions of a stage the build reached (one
// step of which BuildKit reported), nil for other stages.
func (p *Progress) Instructions(stage int) []InstructionProgress {
	if p.graph == nil || stage < 0 || stage >= len(p.Stages) || len(p.Stages[stage].Steps) == 0 {
		return nil
	}
	sp := p.Stages[stage]
	ins := p.graph.Stages[stage].Instructions
	out := make([]InstructionProgress, len(ins))
	for i, in := range ins {
		out[i] = InstructionProgress{Number: i + 1, Count: len(ins), Instruction: in}
		for _, s := range sp.Steps {
			if s.Line != 0 && s.Line == in.StartLine && !isFromStep(s) {
				out[i].Steps = append(out[i].Steps, s)
			}
		}
		out[i].State = instructionState(out[i].Steps, sp.State)
	}
	return out
}

// Instruction returns the instruction a step of a stage runs, false for a
// step of no stage, the FROM step of a pulled base, and a step whose line
// is unknown.
func (p *Progress) Instruction(s *Step) (InstructionProgress, bool) {
	if s == nil || s.Stage < 0 || s.Line == 0 || isFromStep(s) {
		return InstructionProgress{}, false
	}
	for _, in := range p.Instructions(s.Stage) {
		if in.Instruction.StartLine == s.Line {
			return in, true
		}
	}
	return InstructionProgress{}, false
}

// isFromStep reports whether a step is the FROM of its stage, or an ONBUILD
// trigger of its base: their Line is the FROM line.
func isFromStep(s *Step) bool {
	kw, _, _ := strings.Cut(s.Text, " ")
	return kw == "FROM" || kw == "ONBUILD"
}

func instructionState(steps []*Step, stage StepState) StepState {
	if len(steps) == 0 {
		if stage == StepDone || stage == StepCached {
			return StepDone
		}
		return StepWaiting
	}
	return foldStates(steps)
}

// foldStates is the one state that stands for several steps: an error
// wins over running, running over canceled, canceled over waiting,
// waiting over done and done over cached. No steps at all are waiting.
func foldStates(steps []*Step) StepState {
	var errored, running, canceled, waiting, done bool
	for _, s := range steps {
		switch s.State {
		case StepError:
			errored = true
		case StepRunning:
			running = true
		case StepCanceled:
			canceled = true
		case StepWaiting:
			waiting = true
		case StepDone:
			done = true
		}
	}
	switch {
	case errored:
		return StepError
	case running:
		return StepRunning
	case canceled:
		return StepCanceled
	case waiting || len(steps) == 0:
		return StepWaiting
	case done:
		return StepDone
	}
	return StepCached
}

// Elapsed is the build's duration so far: from the first start of any step
// to now while a step runs, else to the latest completion.
func (p *Progress) Elapsed(now time.Time) time.Duration { return ElapsedAll(now, p) }

// ElapsedAll is Elapsed of the steps of several models together: those of
// the Dockerfiles one run builds.
func ElapsedAll(now time.Time, ps ...*Progress) time.Duration {
	var start, end time.Time
	running := false
	for _, p := range ps {
		for _, s := range p.steps {
			if !s.Started.IsZero() && (start.IsZero() || s.Started.Before(start)) {
				start = s.Started
			}
			if s.Completed.After(end) {
				end = s.Completed
			}
			running = running || s.State == StepRunning
		}
	}
	if start.IsZero() {
		return 0
	}
	if running {
		end = now
	}
	return max(end.Sub(start), 0)
}
