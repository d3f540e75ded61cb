package buildgraph

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// This file says what a stage means in plain words: each instruction, what
// the stage carries into the final image and what it leaves behind, and
// what --target does with it. The words come from the graph and the
// instructions as BuildKit parsed them; a face only lays the paragraphs out.

// ParagraphKind says how a face sets a Paragraph.
type ParagraphKind int

// The kinds of paragraphs.
const (
	ParagraphProse   ParagraphKind = iota // plain words
	ParagraphHeading                      // the title of a section
	ParagraphCode                         // an instruction as written, with its line
	ParagraphMeasure                      // a measured figure
	ParagraphBlank                        // an empty line between sections
)

// Paragraph is one paragraph of an explanation. Text holds no control
// characters or escape sequences: Dockerfile text in it is sanitized.
type Paragraph struct {
	Kind ParagraphKind
	// Indent is how many cells the paragraph is indented by.
	Indent int
	Text   string
}

// Measured is what builds so far tell about a Dockerfile's stages.
type Measured struct {
	// Sizes are image sizes by stage index (negative: not measured).
	Sizes map[int]int64
	// Results are the results of the targets built, latest first.
	Results []TargetResult
}

// Explain says what stage i of g does, in plain words. pair says whether
// the Dockerfile is one half of the builder pattern; m holds the sizes
// measured so far. It returns nil when there is no stage i.
func Explain(g *Graph, i int, pair BuilderPair, m Measured) []Paragraph {
	if i < 0 || i >= len(g.Stages) {
		return nil
	}
	st := g.Stages[i]
	var out []Paragraph
	add := func(kind ParagraphKind, indent int, format string, args ...any) {
		out = append(out, Paragraph{Kind: kind, Indent: indent, Text: fmt.Sprintf(format, args...)})
	}
	sep := func() { out = append(out, Paragraph{Kind: ParagraphBlank}) }

	switch {
	case st.Doc != "":
		add(ParagraphProse, 0, "%s %s", PrintableLine(st.Name), PrintableLine(strings.ReplaceAll(st.Doc, "\n", " ")))
		sep()
	case len(st.Comments) > 0:
		add(ParagraphProse, 0, "%s", PrintableLine(strings.Join(st.Comments, " ")))
		sep()
	}
	if p := pair.Explain(); p != "" {
		add(ParagraphHeading, 0, "The builder pattern")
		add(ParagraphProse, 0, "%s", p)
		sep()
	}
	add(ParagraphHeading, 0, "Step by step")
	add(ParagraphCode, 0, "%3d %s", st.StartLine, PrintableLine(fromWords(st)))
	add(ParagraphProse, 4, "%s", explainFrom(g, st))
	workdir := "/"
	for _, in := range st.Instructions {
		add(ParagraphCode, 0, "%3d %s", in.StartLine, PrintableLine(OneLine(in.Text)))
		add(ParagraphProse, 4, "%s", explainInstruction(g, st, in, workdir))
		if w, ok := in.Command.(*instructions.WorkdirCommand); ok {
			workdir = inDir(workdir, w.Path)
		}
	}
	sep()
	add(ParagraphHeading, 0, "Into the final image")
	out = append(out, carried(g, st, m)...)
	sep()
	add(ParagraphHeading, 0, "--target")
	add(ParagraphProse, 0, "%s", explainTarget(g, st))
	return out
}

// OneLine is an instruction's text on one line: continuation lines joined,
// and " …" in place of a heredoc's body.
func OneLine(text string) string {
	text = strings.ReplaceAll(text, "\\\n", " ")
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i] + " …"
	}
	return text
}

// fromWords is the stage's FROM instruction in its words: the flag, the
// reference as written and the name, in the order BuildKit documents.
func fromWords(st *Stage) string {
	line := "FROM " + st.Base.Raw
	if st.PlatformFlag != "" {
		line = "FROM --platform=" + st.PlatformFlag + " " + st.Base.Raw
	}
	if st.Named {
		line += " AS " + st.Name
	}
	return line
}

func explainFrom(g *Graph, st *Stage) string {
	clean := PrintableLine
	var b strings.Builder
	switch {
	case st.Context != nil:
		fmt.Fprintf(&b, "A named build context (%s) replaces this whole stage: BuildKit takes it as the stage's result and runs none of the steps below.", clean(st.Context.Value))
	case st.Base.Kind == BaseScratch:
		b.WriteString("Starts from scratch: an empty file system, without a shell or a single library. Only what the steps below put here is in the image.")
	case st.Base.Kind == BaseStage && st.Base.Stage >= 0 && st.Base.Stage < len(g.Stages):
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

// quoteList is a list of arguments, sanitized, separated by commas.
func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = PrintableLine(s)
	}
	return strings.Join(q, ", ")
}

// words is an instruction's arguments as one line: a shell command line
// with its runs of white space made one space, the items of a JSON form
// separated by spaces.
func words(args []string) string {
	return strings.Join(strings.Fields(strings.Join(args, " ")), " ")
}

// keyValues is ENV's or LABEL's pairs as KEY=value words.
func keyValues(kvs instructions.KeyValuePairs) string {
	var w []string
	for _, kv := range kvs {
		w = append(w, kv.String())
	}
	return strings.Join(w, " ")
}

// explainInstruction says what one instruction does, in the words of this
// Dockerfile where it can. workdir is the current folder before it.
func explainInstruction(g *Graph, st *Stage, in Instruction, workdir string) string {
	clean := PrintableLine
	switch c := in.Command.(type) {
	case *instructions.WorkdirCommand:
		return fmt.Sprintf("Makes %s the current folder for the steps below and for the container when it runs, creating it if needed. An empty folder: next to no bytes.", clean(inDir(workdir, c.Path)))
	case *instructions.CopyCommand:
		return explainCopy(g, in.Keyword, c.SourcesAndDest, c.From, c.Chown, workdir)
	case *instructions.AddCommand:
		return explainCopy(g, in.Keyword, c.SourcesAndDest, "", c.Chown, workdir)
	case *instructions.RunCommand:
		var b strings.Builder
		if c.PrependShell {
			fmt.Fprintf(&b, "Runs `%s` in a shell while the image is built.", clean(words(c.CmdLine)))
		} else {
			fmt.Fprintf(&b, "Runs %s directly, without a shell, while the image is built.", clean(words(c.CmdLine)))
		}
		b.WriteString(" Whatever it writes (compiled output, installed packages, caches) becomes a new layer of this stage.")
		if mounts := instructions.GetMounts(c); len(mounts) > 0 {
			// The last --mount, as the explanation has always read it.
			if from := mounts[len(mounts)-1].From; from != "" {
				fmt.Fprintf(&b, " --mount shows files of %s during this step only: they are not in the layer.", clean(from))
			} else {
				b.WriteString(" --mount gives the step a cache, secret or folder that is not kept in the layer.")
			}
		}
		return b.String()
	case *instructions.CmdCommand:
		s := fmt.Sprintf("The default command of a container started from this image: %s. `docker run IMAGE something-else` replaces it. Image settings only: no bytes.", clean(words(c.CmdLine)))
		if hasKeyword(st, "ENTRYPOINT") {
			s += " This stage also has an ENTRYPOINT, so CMD only gives its default arguments."
		}
		return s
	case *instructions.EntrypointCommand:
		return fmt.Sprintf("The program every container of this image runs: %s. Unlike CMD it is not replaced: words after `docker run IMAGE` are passed to it as arguments (a CMD would only give default ones). Image settings only: no bytes.", clean(words(c.CmdLine)))
	case *instructions.ArgCommand:
		var w []string
		for _, a := range c.Args {
			if a.Value != nil {
				w = append(w, a.Key+"="+*a.Value)
			} else {
				w = append(w, a.Key)
			}
		}
		return fmt.Sprintf("Declares the build argument %s: `--build-arg NAME=value` sets it. It exists while building only and is not kept in the image, unlike ENV.", clean(strings.Join(w, " ")))
	case *instructions.EnvCommand:
		return fmt.Sprintf("Sets %s for the steps below and for every container of the image. Kept in the image's settings (no bytes), and readable by anyone who has the image: no secrets here.", clean(keyValues(c.Env)))
	case *instructions.ExposeCommand:
		return fmt.Sprintf("Notes that the program listens on %s. It opens nothing by itself: `docker run -p` publishes a port.", clean(strings.Join(c.Ports, " ")))
	case *instructions.UserCommand:
		return fmt.Sprintf("The steps below and the container run as %s instead of root.", clean(c.User))
	case *instructions.LabelCommand:
		return "Attaches key=value notes to the image (a description, where the source lives). Image settings only: no files."
	case *instructions.VolumeCommand:
		return fmt.Sprintf("Marks %s as a volume: a container gets storage there that outlives it. Changes later steps make in it are thrown away.", clean(strings.Join(c.Volumes, " ")))
	case *instructions.HealthCheckCommand:
		return "Tells the engine how to check that a running container still works."
	case *instructions.ShellCommand:
		return "Changes the shell that the RUN, CMD and ENTRYPOINT lines below use in their shell form."
	case *instructions.StopSignalCommand:
		return fmt.Sprintf("The signal (%s) that `docker stop` sends to the container's program.", clean(c.Signal))
	case *instructions.OnbuildCommand:
		return "Stores an instruction for later: it runs in builds that use this image as their base, not in this one."
	case *instructions.MaintainerCommand:
		return "Names the author. Deprecated: a LABEL says the same."
	}
	return "An instruction stagescope has no plain words for yet."
}

// explainCopy says what a COPY or ADD does.
func explainCopy(g *Graph, keyword string, sd instructions.SourcesAndDest, from, chown, workdir string) string {
	clean := PrintableLine
	sources := sd.SourcePaths
	for _, c := range sd.SourceContents {
		sources = append(sources, "<<"+c.Path)
	}
	src, dst := quoteList(sources), where(workdir, sd.DestPath)
	if src == "" {
		src = "files"
	}
	var b strings.Builder
	fromStage, isStage := g.Stage(from)
	switch {
	case from != "" && isStage:
		name := clean(fromStage.Name)
		fmt.Fprintf(&b, "Copies %s from stage %s into %s. Only these files cross over: everything else in %s (its compiler, sources and caches) stays behind. This one line is what keeps a multi-stage image small.", src, name, dst, name)
	case from != "":
		fmt.Fprintf(&b, "Copies %s straight out of the image %s into %s, without making that image a stage.", src, clean(from), dst)
	case keyword == "ADD":
		fmt.Fprintf(&b, "Adds %s to %s. ADD is COPY plus two tricks: it fetches URLs and git repositories, and it unpacks a local tar archive. When you only copy files, COPY says so more plainly.", src, dst)
	default:
		fmt.Fprintf(&b, "Copies %s from the build context (the folder you build) into %s. The copied files form a new layer: their bytes count.", src, dst)
	}
	if chown != "" {
		fmt.Fprintf(&b, " --chown=%s makes them owned by that user.", clean(chown))
	}
	return b.String()
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
		return "the current folder, " + PrintableLine(workdir)
	case strings.HasPrefix(dst, "/") || strings.Contains(dst, "$"):
		return PrintableLine(dst)
	}
	return PrintableLine(inDir(workdir, dst))
}

func hasKeyword(st *Stage, kw string) bool {
	for _, in := range st.Instructions {
		if in.Keyword == kw {
			return true
		}
	}
	return false
}

// finalStage is the stage a build without --target builds.
func (g *Graph) finalStage() *Stage {
	if st, ok := g.Stage(g.DefaultTarget); ok && g.DefaultTarget != "" {
		return st
	}
	return g.Stages[len(g.Stages)-1]
}

// result returns the latest measured result of the target stage st.
func (m Measured) result(st *Stage) *TargetResult {
	for i := range m.Results {
		if r := &m.Results[i]; r.Target == st.Name && r.Size != nil {
			return r
		}
	}
	return nil
}

// carried says what st contributes to the final image and what stays behind.
func carried(g *Graph, st *Stage, m Measured) []Paragraph {
	clean := PrintableLine
	var out []Paragraph
	add := func(kind ParagraphKind, format string, args ...any) {
		out = append(out, Paragraph{Kind: kind, Text: fmt.Sprintf(format, args...)})
	}
	final := g.finalStage()
	fname := clean(final.Name)
	size, built := m.Sizes[st.Index]
	built = built && size >= 0
	fres := m.result(final)

	if st.Index == final.Index {
		add(ParagraphProse, "This is the final stage: its file system is the image that `docker build` makes without --target. Everything its base holds and every step above adds is shipped.")
		if fres != nil && fres.Breakdown != nil && fres.Breakdown.Matched {
			bd := fres.Breakdown
			add(ParagraphMeasure, "Measured: %s in all.", HumanSize(fres.Size.Uncompressed))
			add(ParagraphMeasure, "  %s from the base (%s)", HumanSize(bd.Base), clean(bd.BaseRef))
			add(ParagraphMeasure, "  %s made by this stage's own steps", HumanSize(bd.Own))
			for _, c := range bd.Copied {
				add(ParagraphMeasure, "  %s copied from %s", HumanSize(c.Bytes), clean(c.Source))
			}
		} else if built {
			add(ParagraphMeasure, "Measured: %s.", HumanSize(size))
		} else {
			add(ParagraphProse, "Build it (enter) to see its bytes here.")
		}
		return out
	}

	closure, err := g.Closure("")
	if err != nil || !closure.Contains(st.Index) {
		add(ParagraphProse, "Nothing. The final stage (%s) needs nothing from this stage, so a build without --target never even starts it.", fname)
		if built {
			add(ParagraphMeasure, "Built as a target it measured %s; none of that ships.", HumanSize(size))
		}
		return out
	}
	for _, c := range g.Chain(final.Index) {
		if c.Index == st.Index {
			add(ParagraphProse, "Everything. The final stage (%s) is built on top of this one (FROM), so every file of this stage is in the final image, tools and all.", fname)
			if built {
				add(ParagraphMeasure, "Measured: this stage alone is %s.", HumanSize(size))
			}
			return out
		}
	}
	var copies []string
	var users []string
	for _, e := range g.Edges {
		if e.From.Kind != NodeStage || e.From.Index != st.Index || !closure.Contains(e.To) {
			continue
		}
		to := g.Stages[e.To]
		switch {
		case e.To == final.Index && e.Kind == EdgeCopyFrom:
			copies = append(copies, fmt.Sprintf("line %d", e.Line))
		case e.Kind == EdgeMountFrom:
			users = append(users, fmt.Sprintf("%s mounts it during a RUN step (line %d), which ships none of it", clean(to.Name), e.Line))
		default:
			users = append(users, fmt.Sprintf("%s uses it (%s, line %d)", clean(to.Name), e.Kind, e.Line))
		}
	}
	if len(copies) > 0 {
		add(ParagraphProse, "Only what COPY --from=%s copies (%s). The rest of this stage (its base image, tools, sources and caches) stays behind: it is built, used, and left out.", clean(st.Name), strings.Join(copies, ", "))
	} else {
		add(ParagraphProse, "Only what reaches the final stage through other stages: %s.", strings.Join(users, "; "))
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
		add(ParagraphMeasure, "Measured: this stage is %s; %s of it ships, in a final image of %s.", HumanSize(size), HumanSize(copied), HumanSize(fres.Size.Uncompressed))
		if left := size - copied; left > 0 {
			add(ParagraphMeasure, "Left behind: %s.", HumanSize(left))
		}
	case built:
		add(ParagraphMeasure, "Measured: this stage is %s. Build %s too to see how much of it ships.", HumanSize(size), fname)
	case copied >= 0:
		add(ParagraphMeasure, "Measured: %s of it ships, in a final image of %s. Build this stage as a target to see what stays behind.", HumanSize(copied), HumanSize(fres.Size.Uncompressed))
	default:
		add(ParagraphProse, "Build this stage (enter) and then %s to see the bytes.", fname)
	}
	return out
}

// explainTarget says what --target does with st.
func explainTarget(g *Graph, st *Stage) string {
	clean := PrintableLine
	if !st.Named && st.Index != len(g.Stages)-1 {
		return "This stage has no name, and it is not the last stage, so it cannot be a --target: only named stages and the last one can. Other stages may still use it."
	}
	t := ""
	if st.Named {
		t = st.Name
	}
	c, err := g.Closure(t)
	if err != nil {
		return clean(FirstLine(err.Error()))
	}
	names := func(idx []int) string {
		var n []string
		for _, i := range idx {
			n = append(n, clean(g.Stages[i].Name))
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
	if len(g.Stages) == 1 {
		return "This Dockerfile has one stage, so --target has nothing to choose from: every build builds this stage, and all of it ships."
	}
	if len(c.Skipped) > 0 {
		fmt.Fprintf(&b, " It skips %s: a stage that the target reaches through no FROM, COPY --from or RUN --mount is never started, so it costs no time.", names(c.Skipped))
	} else {
		b.WriteString(" It skips none: the target needs every stage.")
	}
	return b.String()
}

// BuilderPair tells whether a Dockerfile is one half of the builder
// pattern: Dockerfile.build (the build image) beside Dockerfile (the
// runtime image), usually with a script that copies the artifact between
// them through the host.
type BuilderPair struct {
	Role   string // "build", "runtime" or ""
	Other  string // the other file's name
	Script string // the script's name, "" when none was found
}

// FindBuilderPair looks beside the Dockerfile at path dockerfile for its
// other half; isFile tells whether a path names a regular file (the caller
// owns the file system). "-" (standard input) has no half.
func FindBuilderPair(dockerfile string, isFile func(path string) bool) BuilderPair {
	if dockerfile == "" || dockerfile == "-" {
		return BuilderPair{}
	}
	dir, base := filepath.Split(dockerfile)
	exists := func(name string) bool { return isFile(filepath.Join(dir, name)) }
	var p BuilderPair
	switch {
	case base == "Dockerfile.build" && exists("Dockerfile"):
		p = BuilderPair{Role: "build", Other: "Dockerfile"}
	case base == "Dockerfile" && exists("Dockerfile.build"):
		p = BuilderPair{Role: "runtime", Other: "Dockerfile.build"}
	default:
		return BuilderPair{}
	}
	for _, s := range []string{"build.sh", "build"} {
		if exists(s) {
			p.Script = s
			break
		}
	}
	return p
}

// Explain is what the pair means for the Dockerfile, "" when it is no half.
func (p BuilderPair) Explain() string {
	script := "a script"
	if p.Script != "" {
		script = p.Script
	}
	switch p.Role {
	case "build":
		return fmt.Sprintf("This file makes the build image of the builder pattern; %s beside it makes the runtime image, and %s moves the artifact between them through the host: docker create, docker cp, docker rm. In one multi-stage Dockerfile this file becomes the first stage (FROM … AS builder), %s becomes the second stage, and the whole copy through the host becomes one line: COPY --from=builder.", p.Other, script, p.Other)
	case "runtime":
		return fmt.Sprintf("This file makes the runtime image of the builder pattern; %s beside it makes the build image, and %s copies the artifact out of a container of it onto the host, where a plain COPY here picks it up. In one multi-stage Dockerfile, %s becomes the first stage (FROM … AS builder), this file the second, and that COPY becomes COPY --from=builder: no script, no file on the host.", p.Other, script, p.Other)
	}
	return ""
}
