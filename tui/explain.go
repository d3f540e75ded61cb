package tui

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/stagescope/stagescope/buildgraph"
)

// proseWidth is the widest line of explanation: readable on a projector.
const proseWidth = 70

// ExplainView explains the focused stage in plain words: each instruction,
// what the stage carries into the final image and what it leaves behind,
// and what --target does with it. The graph owns it and hands it the focused
// stage, the sizes measured so far, and the results of the builds.
type ExplainView struct {
	keys   ExplainKeyMap
	styles Styles
	g      *buildgraph.Graph
	pair   builderPair

	width, height int
	offset        int
	stage         int
	sizes         map[int]int64
	results       []buildgraph.TargetResult
}

// NewExplainView returns the explanation of g's stages; pair says whether
// the Dockerfile is one half of the builder pattern.
func NewExplainView(g *buildgraph.Graph, pair builderPair, styles Styles) ExplainView {
	return ExplainView{keys: DefaultExplainKeyMap(), styles: styles, g: g, pair: pair, stage: -1}
}

// KeyMap is the panel's key map, for help.
func (v ExplainView) KeyMap() ExplainKeyMap { return v.keys }

// SetSize sets the size of the panel.
func (v *ExplainView) SetSize(w, h int) { v.width, v.height = w, h }

// SetStage explains stage i, from the top when it is another stage.
func (v *ExplainView) SetStage(i int) {
	if i != v.stage {
		v.stage, v.offset = i, 0
	}
}

// SetMeasured gives the panel the image sizes by stage and the results of
// the builds so far.
func (v *ExplainView) SetMeasured(sizes map[int]int64, results []buildgraph.TargetResult) {
	v.sizes, v.results = sizes, results
}

// Scroll moves the text by n lines.
func (v *ExplainView) Scroll(n int) { v.offset = max(v.offset+n, 0) }

// page is the number of lines a page key scrolls.
func (v ExplainView) page() int { return max(v.height-2, 1) }

// View draws the panel: a title line and the wrapped text.
func (v ExplainView) View() string {
	s := v.styles
	if v.stage < 0 || v.stage >= len(v.g.Stages) {
		return fit([]string{s.PaneTitle.Render(" ▌Explain")}, v.width, v.height)
	}
	st := v.g.Stages[v.stage]
	wrap := min(proseWidth, v.width-3)
	var lines []string
	for _, b := range v.blocks(st) {
		lines = append(lines, b.render(s, wrap)...)
	}
	h := max(v.height-1, 1)
	off := min(v.offset, max(len(lines)-h, 0))
	title := s.PaneTitle.Foreground(s.NodeFocus.GetForeground()).Render(
		fmt.Sprintf(" ▌Explain · %s (stage %d; %d in all)", clean(st.Name), st.Index, len(v.g.Stages)))
	if len(lines) > h {
		more := fmt.Sprintf(" lines %d–%d of %d ", off+1, min(off+h, len(lines)), len(lines))
		title = truncate(title, v.width-len(more)-1) + " " + s.Muted.Render(more)
	}
	body := lines[off:]
	if len(body) > h {
		body = body[:h]
	}
	return fit(append([]string{title}, body...), v.width, v.height)
}

// block is a paragraph of the explanation, styled as a whole.
type block struct {
	kind   blockKind
	indent int
	text   string
}

type blockKind int

const (
	prose blockKind = iota
	heading
	code    // an instruction as written
	measure // a measured figure
	blank
)

func (b block) render(s Styles, width int) []string {
	if b.kind == blank {
		return []string{""}
	}
	st := lipgloss.NewStyle()
	switch b.kind {
	case heading:
		st = s.Title
	case code:
		st = s.Bold
	case measure:
		st = s.Good
	}
	pad := strings.Repeat(" ", b.indent+1)
	var out []string
	for _, l := range strings.Split(ansi.Wrap(b.text, max(width-b.indent-1, 10), ""), "\n") {
		out = append(out, pad+st.Render(l))
	}
	return out
}

// blocks is everything the panel says about st.
func (v ExplainView) blocks(st *buildgraph.Stage) []block {
	var out []block
	add := func(kind blockKind, indent int, format string, args ...any) {
		out = append(out, block{kind: kind, indent: indent, text: fmt.Sprintf(format, args...)})
	}
	sep := func() { out = append(out, block{kind: blank}) }

	switch {
	case st.Doc != "":
		add(prose, 0, "%s %s", clean(st.Name), clean(strings.ReplaceAll(st.Doc, "\n", " ")))
		sep()
	case len(st.Comments) > 0:
		add(prose, 0, "%s", clean(strings.Join(st.Comments, " ")))
		sep()
	}
	if p := v.pair.explain(); p != "" {
		add(heading, 0, "The builder pattern")
		add(prose, 0, "%s", p)
		sep()
	}
	add(heading, 0, "Step by step")
	add(code, 0, "%3d %s", st.StartLine, clean(v.fromLine(st)))
	add(prose, 4, "%s", v.explainFrom(st))
	workdir := "/"
	for _, in := range st.Instructions {
		add(code, 0, "%3d %s", in.StartLine, clean(oneLine(in.Text)))
		add(prose, 4, "%s", v.explainInstruction(st, in, workdir))
		if in.Keyword == "WORKDIR" {
			if _, rest, _ := args(in); len(rest) > 0 {
				workdir = inDir(workdir, rest[0])
			}
		}
	}
	sep()
	add(heading, 0, "Into the final image")
	for _, b := range v.carried(st) {
		out = append(out, b)
	}
	sep()
	add(heading, 0, "--target")
	add(prose, 0, "%s", v.explainTarget(st))
	return out
}

// fromLine is the stage's FROM instruction as written.
func (v ExplainView) fromLine(st *buildgraph.Stage) string {
	line := "FROM " + st.Base.Raw
	if st.PlatformFlag != "" {
		line = "FROM --platform=" + st.PlatformFlag + " " + st.Base.Raw
	}
	if st.Named {
		line += " AS " + st.Name
	}
	return line
}

func (v ExplainView) explainFrom(st *buildgraph.Stage) string {
	g := v.g
	var b strings.Builder
	switch {
	case st.Context != nil:
		fmt.Fprintf(&b, "A named build context (%s) replaces this whole stage: BuildKit takes it as the stage's result and runs none of the steps below.", clean(st.Context.Value))
	case st.Base.Kind == buildgraph.BaseScratch:
		b.WriteString("Starts from scratch: an empty file system, without a shell or a single library. Only what the steps below put here is in the image.")
	case st.Base.Kind == buildgraph.BaseStage && st.Base.Stage >= 0 && st.Base.Stage < len(g.Stages):
		name := clean(g.Stages[st.Base.Stage].Name)
		fmt.Fprintf(&b, "Carries on from stage %s: every file %s has is here too, and goes into any image built from this stage.", name, name)
	default:
		ref := clean(st.Base.Ref)
		fmt.Fprintf(&b, "Starts from the image %s: all of its files are in this stage before the first step, and they count in the size of every image built from it.", ref)
		if st.Base.Image >= 0 && st.Base.Image < len(g.Images) {
			if c := g.Images[st.Base.Image].Context; c != nil {
				fmt.Fprintf(&b, " Here the named build context %s=%s stands in for it, so nothing is pulled from a registry.", clean(c.Key), clean(c.Value))
			}
		}
	}
	switch {
	case st.Named:
		fmt.Fprintf(&b, " AS %s names the stage, so that COPY --from=%s and --target %s can refer to it.", clean(st.Name), clean(st.Name), clean(st.Name))
	case st.Index == len(g.Stages)-1:
		fmt.Fprintf(&b, " The stage has no name (BuildKit calls it %s): a build without --target builds it, as the last stage.", clean(st.Name))
	default:
		fmt.Fprintf(&b, " The stage has no name (BuildKit calls it %s): later stages can use it as --from=%d, but --target cannot build it.", clean(st.Name), st.Index)
	}
	return b.String()
}

// args splits an instruction's arguments (after the keyword) into flags and
// the rest, understanding the JSON form.
func args(in buildgraph.Instruction) (flags map[string]string, rest []string, jsonForm bool) {
	flags = map[string]string{}
	text := strings.TrimSpace(strings.ReplaceAll(in.Text, "\\\n", " "))
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i] // a heredoc: its first line says enough
	}
	fields := strings.Fields(text)
	if len(fields) > 0 {
		fields = fields[1:]
	}
	for len(fields) > 0 && strings.HasPrefix(fields[0], "--") {
		k, val, _ := strings.Cut(strings.TrimPrefix(fields[0], "--"), "=")
		flags[strings.ToLower(k)] = val
		fields = fields[1:]
	}
	joined := strings.Join(fields, " ")
	if strings.HasPrefix(joined, "[") {
		var list []string
		if json.Unmarshal([]byte(joined), &list) == nil {
			return flags, list, true
		}
	}
	return flags, fields, false
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = clean(s)
	}
	return strings.Join(q, ", ")
}

// explainInstruction says what one instruction does, in the words of this
// Dockerfile where it can.
func (v ExplainView) explainInstruction(st *buildgraph.Stage, in buildgraph.Instruction, workdir string) string {
	flags, rest, jsonForm := args(in)
	joined := clean(strings.Join(rest, " "))
	switch in.Keyword {
	case "WORKDIR":
		dir := joined
		if len(rest) > 0 {
			dir = clean(inDir(workdir, rest[0]))
		}
		return fmt.Sprintf("Makes %s the current folder for the steps below and for the container when it runs, creating it if needed. An empty folder: next to no bytes.", dir)
	case "COPY", "ADD":
		var src, dst string
		if len(rest) > 0 {
			src, dst = quoteList(rest[:len(rest)-1]), where(workdir, rest[len(rest)-1])
		}
		if src == "" {
			src = "files"
		}
		var b strings.Builder
		from, hasFrom := flags["from"]
		switch {
		case hasFrom && v.stageOf(from) != nil:
			name := clean(v.stageOf(from).Name)
			fmt.Fprintf(&b, "Copies %s from stage %s into %s. Only these files cross over: everything else in %s (its compiler, sources and caches) stays behind. This one line is what keeps a multi-stage image small.", src, name, dst, name)
		case hasFrom:
			fmt.Fprintf(&b, "Copies %s straight out of the image %s into %s, without making that image a stage.", src, clean(from), dst)
		case in.Keyword == "ADD":
			fmt.Fprintf(&b, "Adds %s to %s. ADD is COPY plus two tricks: it fetches URLs and git repositories, and it unpacks a local tar archive. When you only copy files, COPY says so more plainly.", src, dst)
		default:
			fmt.Fprintf(&b, "Copies %s from the build context (the folder you build) into %s. The copied files form a new layer: their bytes count.", src, dst)
		}
		if c, ok := flags["chown"]; ok {
			fmt.Fprintf(&b, " --chown=%s makes them owned by that user.", clean(c))
		}
		return b.String()
	case "RUN":
		var b strings.Builder
		if jsonForm {
			fmt.Fprintf(&b, "Runs %s directly, without a shell, while the image is built.", joined)
		} else {
			fmt.Fprintf(&b, "Runs `%s` in a shell while the image is built.", joined)
		}
		b.WriteString(" Whatever it writes (compiled output, installed packages, caches) becomes a new layer of this stage.")
		if m, ok := flags["mount"]; ok {
			if from := mountFrom(m); from != "" {
				fmt.Fprintf(&b, " --mount shows files of %s during this step only: they are not in the layer.", clean(from))
			} else {
				b.WriteString(" --mount gives the step a cache, secret or folder that is not kept in the layer.")
			}
		}
		return b.String()
	case "CMD":
		s := fmt.Sprintf("The default command of a container started from this image: %s. `docker run IMAGE something-else` replaces it. Image settings only: no bytes.", joined)
		if hasKeyword(st, "ENTRYPOINT") {
			s += " This stage also has an ENTRYPOINT, so CMD only gives its default arguments."
		}
		return s
	case "ENTRYPOINT":
		return fmt.Sprintf("The program every container of this image runs: %s. Unlike CMD it is not replaced: words after `docker run IMAGE` are passed to it as arguments (a CMD would only give default ones). Image settings only: no bytes.", joined)
	case "ARG":
		return fmt.Sprintf("Declares the build argument %s: `--build-arg NAME=value` sets it. It exists while building only and is not kept in the image, unlike ENV.", joined)
	case "ENV":
		return fmt.Sprintf("Sets %s for the steps below and for every container of the image. Kept in the image's settings (no bytes), and readable by anyone who has the image: no secrets here.", joined)
	case "EXPOSE":
		return fmt.Sprintf("Notes that the program listens on %s. It opens nothing by itself: `docker run -p` publishes a port.", joined)
	case "USER":
		return fmt.Sprintf("The steps below and the container run as %s instead of root.", joined)
	case "LABEL":
		return "Attaches key=value notes to the image (a description, where the source lives). Image settings only: no files."
	case "VOLUME":
		return fmt.Sprintf("Marks %s as a volume: a container gets storage there that outlives it. Changes later steps make in it are thrown away.", joined)
	case "HEALTHCHECK":
		return "Tells the engine how to check that a running container still works."
	case "SHELL":
		return "Changes the shell that the RUN, CMD and ENTRYPOINT lines below use in their shell form."
	case "STOPSIGNAL":
		return fmt.Sprintf("The signal (%s) that `docker stop` sends to the container's program.", joined)
	case "ONBUILD":
		return "Stores an instruction for later: it runs in builds that use this image as their base, not in this one."
	case "MAINTAINER":
		return "Names the author. Deprecated: a LABEL says the same."
	}
	return "An instruction stagescope has no plain words for yet."
}

// inDir is the folder p names when the current folder is dir.
func inDir(dir, p string) string {
	if strings.HasPrefix(p, "/") || strings.Contains(p, "$") {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}

// where names a destination in words: "the current folder, /app".
func where(workdir, dst string) string {
	switch {
	case dst == "." || dst == "./":
		return "the current folder, " + clean(workdir)
	case strings.HasPrefix(dst, "/") || strings.Contains(dst, "$"):
		return clean(dst)
	}
	return clean(inDir(workdir, dst))
}

func hasKeyword(st *buildgraph.Stage, kw string) bool {
	for _, in := range st.Instructions {
		if in.Keyword == kw {
			return true
		}
	}
	return false
}

// mountFrom returns the from= of a --mount value.
func mountFrom(m string) string {
	for _, part := range strings.Split(m, ",") {
		if k, val, ok := strings.Cut(part, "="); ok && strings.TrimSpace(k) == "from" {
			return val
		}
	}
	return ""
}

// stageOf returns the stage a --from value names (by name or index), nil
// for an image.
func (v ExplainView) stageOf(from string) *buildgraph.Stage {
	st, ok := v.g.Stage(from)
	if !ok {
		return nil
	}
	return st
}

// final is the stage a build without --target builds.
func (v ExplainView) final() *buildgraph.Stage {
	if st, ok := v.g.Stage(v.g.DefaultTarget); ok && v.g.DefaultTarget != "" {
		return st
	}
	return v.g.Stages[len(v.g.Stages)-1]
}

// result returns the latest result of the target stage st.
func (v ExplainView) result(st *buildgraph.Stage) *buildgraph.TargetResult {
	for i := range v.results {
		if r := &v.results[i]; r.Target == st.Name && r.Size != nil {
			return r
		}
	}
	return nil
}

// carried says what st contributes to the final image and what stays behind.
func (v ExplainView) carried(st *buildgraph.Stage) []block {
	var out []block
	add := func(kind blockKind, format string, args ...any) {
		out = append(out, block{kind: kind, text: fmt.Sprintf(format, args...)})
	}
	final := v.final()
	fname := clean(final.Name)
	size, built := v.sizes[st.Index]
	built = built && size >= 0
	fres := v.result(final)

	if st.Index == final.Index {
		add(prose, "This is the final stage: its file system is the image that `docker build` makes without --target. Everything its base holds and every step above adds is shipped.")
		if fres != nil && fres.Breakdown != nil && fres.Breakdown.Matched {
			bd := fres.Breakdown
			add(measure, "Measured: %s in all.", buildgraph.HumanSize(fres.Size.Uncompressed))
			add(measure, "  %s from the base (%s)", buildgraph.HumanSize(bd.Base), clean(bd.BaseRef))
			add(measure, "  %s made by this stage's own steps", buildgraph.HumanSize(bd.Own))
			for _, c := range bd.Copied {
				add(measure, "  %s copied from %s", buildgraph.HumanSize(c.Bytes), clean(c.Source))
			}
		} else if built {
			add(measure, "Measured: %s.", buildgraph.HumanSize(size))
		} else {
			add(prose, "Build it (enter) to see its bytes here.")
		}
		return out
	}

	closure, err := v.g.Closure("")
	if err != nil || !closure.Contains(st.Index) {
		add(prose, "Nothing. The final stage (%s) needs nothing from this stage, so a build without --target never even starts it.", fname)
		if built {
			add(measure, "Built as a target it measured %s; none of that ships.", buildgraph.HumanSize(size))
		}
		return out
	}
	// Is st in the final stage's FROM chain?
	for cur := final; cur != nil; {
		if cur.Base.Kind != buildgraph.BaseStage || cur.Context != nil || cur.Base.Stage < 0 {
			break
		}
		cur = v.g.Stages[cur.Base.Stage]
		if cur.Index == st.Index {
			add(prose, "Everything. The final stage (%s) is built on top of this one (FROM), so every file of this stage is in the final image, tools and all.", fname)
			if built {
				add(measure, "Measured: this stage alone is %s.", buildgraph.HumanSize(size))
			}
			return out
		}
	}
	var copies []string
	var users []string
	for _, e := range v.g.Edges {
		if e.From.Kind != buildgraph.NodeStage || e.From.Index != st.Index || !closure.Contains(e.To) {
			continue
		}
		to := v.g.Stages[e.To]
		switch {
		case e.To == final.Index && e.Kind == buildgraph.EdgeCopyFrom:
			copies = append(copies, fmt.Sprintf("line %d", e.Line))
		case e.Kind == buildgraph.EdgeMountFrom:
			users = append(users, fmt.Sprintf("%s mounts it during a RUN step (line %d), which ships none of it", clean(to.Name), e.Line))
		default:
			users = append(users, fmt.Sprintf("%s uses it (%s, line %d)", clean(to.Name), e.Kind, e.Line))
		}
	}
	if len(copies) > 0 {
		add(prose, "Only what COPY --from=%s copies (%s). The rest of this stage (its base image, tools, sources and caches) stays behind: it is built, used, and left out.", clean(st.Name), strings.Join(copies, ", "))
	} else {
		add(prose, "Only what reaches the final stage through other stages: %s.", strings.Join(users, "; "))
	}
	var copied int64 = -1
	if fres != nil && fres.Breakdown != nil && fres.Breakdown.Matched {
		copied = 0
		for _, c := range fres.Breakdown.Copied {
			if c.Source == st.Name {
				copied += c.Bytes
			}
		}
	}
	switch {
	case built && copied >= 0:
		add(measure, "Measured: this stage is %s; %s of it ships, in a final image of %s.", buildgraph.HumanSize(size), buildgraph.HumanSize(copied), buildgraph.HumanSize(fres.Size.Uncompressed))
		if left := size - copied; left > 0 {
			add(measure, "Left behind: %s.", buildgraph.HumanSize(left))
		}
	case built:
		add(measure, "Measured: this stage is %s. Build %s too to see how much of it ships.", buildgraph.HumanSize(size), fname)
	case copied >= 0:
		add(measure, "Measured: %s of it ships, in a final image of %s. Build this stage as a target to see what stays behind.", buildgraph.HumanSize(copied), buildgraph.HumanSize(fres.Size.Uncompressed))
	default:
		add(prose, "Build this stage (enter) and then %s to see the bytes.", fname)
	}
	return out
}

// explainTarget says what --target does with st.
func (v ExplainView) explainTarget(st *buildgraph.Stage) string {
	t, ok := targetArg(v.g, st)
	if !ok {
		return "This stage has no name, and it is not the last stage, so it cannot be a --target: only named stages and the last one can. Other stages may still use it."
	}
	c, err := v.g.Closure(t)
	if err != nil {
		return clean(firstLine(err.Error()))
	}
	names := func(idx []int) string {
		var n []string
		for _, i := range idx {
			n = append(n, clean(v.g.Stages[i].Name))
		}
		return strings.Join(n, ", ")
	}
	var b strings.Builder
	if st.Named {
		fmt.Fprintf(&b, "`--target %s` (enter, here) stops the build at this stage: the image is this stage's file system.", clean(st.Name))
	} else {
		b.WriteString("A build without --target (enter, here) builds this last stage.")
	}
	fmt.Fprintf(&b, " BuildKit builds only the stages it needs: %s.", names(c.Stages))
	if len(v.g.Stages) == 1 {
		return "This Dockerfile has one stage, so --target has nothing to choose from: every build builds this stage, and all of it ships."
	}
	if len(c.Skipped) > 0 {
		fmt.Fprintf(&b, " It skips %s: a stage that the target reaches through no FROM, COPY --from or RUN --mount is never started, so it costs no time.", names(c.Skipped))
	} else {
		b.WriteString(" It skips none: the target needs every stage.")
	}
	return b.String()
}

// builderPair tells whether the Dockerfile is one half of the builder
// pattern: Dockerfile.build (the build image) beside Dockerfile (the
// runtime image), usually with a script that copies the artifact between
// them through the host.
type builderPair struct {
	role   string // "build", "runtime" or ""
	other  string // the other file's name
	script string // the script's name, "" when none was found
}

// findBuilderPair looks beside the Dockerfile for its other half.
func findBuilderPair(dockerfile string) builderPair {
	if dockerfile == "" || dockerfile == "-" {
		return builderPair{}
	}
	dir, base := filepath.Split(dockerfile)
	exists := func(name string) bool {
		st, err := os.Stat(filepath.Join(dir, name))
		return err == nil && st.Mode().IsRegular()
	}
	var p builderPair
	switch {
	case base == "Dockerfile.build" && exists("Dockerfile"):
		p = builderPair{role: "build", other: "Dockerfile"}
	case base == "Dockerfile" && exists("Dockerfile.build"):
		p = builderPair{role: "runtime", other: "Dockerfile.build"}
	default:
		return builderPair{}
	}
	for _, s := range []string{"build.sh", "build"} {
		if exists(s) {
			p.script = s
			break
		}
	}
	return p
}

func (p builderPair) explain() string {
	script := "a script"
	if p.script != "" {
		script = p.script
	}
	switch p.role {
	case "build":
		return fmt.Sprintf("This file makes the build image of the builder pattern; %s beside it makes the runtime image, and %s moves the artifact between them through the host: docker create, docker cp, docker rm. In one multi-stage Dockerfile this file becomes the first stage (FROM … AS builder), %s becomes the second stage, and the whole copy through the host becomes one line: COPY --from=builder.", p.other, script, p.other)
	case "runtime":
		return fmt.Sprintf("This file makes the runtime image of the builder pattern; %s beside it makes the build image, and %s copies the artifact out of a container of it onto the host, where a plain COPY here picks it up. In one multi-stage Dockerfile, %s becomes the first stage (FROM … AS builder), this file the second, and that COPY becomes COPY --from=builder: no script, no file on the host.", p.other, script, p.other)
	}
	return ""
}
